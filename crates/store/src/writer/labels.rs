//! Fraud labels (the payments domain decides, `rialto_payments::label`): their rows, reads and
//! the review queue.

use super::*;

pub use rialto_payments::{LabelRecord, NewLabel, LABELS, LABEL_SOURCES};

pub(crate) async fn write(conn: &mut Conn, w: &mut Writes) -> Result<(), Abort> {
    let rows: Vec<Vec<Val>> = std::mem::take(&mut w.labels)
        .into_iter()
        .map(|l| {
            vec![
                Val::T(l.id),
                Val::T(l.payment_id),
                Val::T(l.label),
                Val::T(l.source),
                Val::OT(l.note),
                Val::T(l.actor),
                Val::I(l.created_at_us),
            ]
        })
        .collect();
    if !rows.is_empty() {
        let head = "INSERT INTO payment_labels (id, payment_id, label, source, note, actor, created_at)";
        exec_values(conn, head, 7, rows, "").await?;
    }
    Ok(())
}

fn from_row(r: &impl Get) -> Result<LabelRecord, sqlx::Error> {
    Ok(LabelRecord {
        id: r.col("id")?,
        payment_id: r.col("payment_id")?,
        label: r.col("label")?,
        source: r.col("source")?,
        note: r.col("note")?,
        actor: r.col("actor")?,
        created_at_us: r.col("created_at")?,
    })
}

/// The review queue's filters.
#[derive(Debug, Clone, Default)]
pub struct ReviewFilter {
    /// Paying user.
    pub user_id: Option<String>,
    /// Currency code.
    pub currency: Option<String>,
    /// At least this amount, minor units.
    pub min_amount: Option<i64>,
    /// Created at or after, µs.
    pub from_us: Option<i64>,
}

impl Db {
    /// A payment's labels, oldest first (the last one counts).
    pub async fn labels(&self, payment_id: &str) -> Result<Vec<LabelRecord>, StoreError> {
        let rows = sqlx::query("SELECT * FROM payment_labels WHERE payment_id = $1 ORDER BY id")
            .bind(payment_id.to_string())
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(from_row).collect::<Result<_, _>>().map_err(StoreError::from)
    }

    /// The current label (`true` = fraud) of every labelled payment created in `[from, to)`.
    pub async fn labels_between(&self, from_us: i64, to_us: i64) -> Result<HashMap<String, bool>, StoreError> {
        let rows = sqlx::query(
            "SELECT l.payment_id, l.label FROM payment_labels l JOIN payments p ON p.id = l.payment_id \
             WHERE p.created_at >= $1 AND p.created_at < $2 ORDER BY l.id",
        )
        .bind(from_us)
        .bind(to_us)
        .fetch_all(self.pool())
        .await?;
        let mut out = HashMap::new();
        for r in rows {
            let label: String = r.col("label")?;
            out.insert(r.col("payment_id")?, label == "fraud");
        }
        Ok(out)
    }

    /// Payments waiting for a reviewer, oldest first.
    pub async fn reviews(
        &self,
        filter: &ReviewFilter,
        cursor: &crate::Cursor,
        limit: usize,
    ) -> Result<crate::Page<PaymentRecord>, StoreError> {
        let mut conditions: Vec<(&str, Val)> = vec![("status = $?", Val::T("requires_review".into()))];
        if let Some(v) = &filter.user_id {
            conditions.push(("user_id = $?", Val::T(v.clone())));
        }
        if let Some(v) = &filter.currency {
            conditions.push(("currency = $?", Val::T(v.clone())));
        }
        if let Some(v) = filter.min_amount {
            conditions.push(("amount >= $?", Val::I(v)));
        }
        if let Some(v) = filter.from_us {
            conditions.push(("created_at >= $?", Val::I(v)));
        }
        self.payments_page(&conditions, cursor, limit, true).await
    }
}
