//! Fraud labels on payments and the review queue. A label (`fraud` or `legitimate`, from a
//! `review`, a `chargeback` or set `manual`ly) is appended, never changed: the newest label of
//! a payment is its label. Labels feed backtests (precision, recall) and model training.

use super::*;

/// Label values.
pub const LABELS: [&str; 2] = ["fraud", "legitimate"];
/// Where a label came from.
pub const LABEL_SOURCES: [&str; 3] = ["review", "chargeback", "manual"];

/// A new label.
#[derive(Debug, Clone)]
pub struct NewLabel {
    /// Pre-assigned label id.
    pub id: String,
    /// The payment.
    pub payment_id: String,
    /// `fraud|legitimate`.
    pub label: String,
    /// `review|chargeback|manual`.
    pub source: String,
    /// Why.
    pub note: Option<String>,
    /// Who labelled it (an API key id).
    pub actor: String,
}

/// A stored label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelRecord {
    /// Label id.
    pub id: String,
    /// The payment.
    pub payment_id: String,
    /// `fraud|legitimate`.
    pub label: String,
    /// `review|chargeback|manual`.
    pub source: String,
    /// Why.
    pub note: Option<String>,
    /// Who.
    pub actor: String,
    /// When, µs.
    pub created_at_us: i64,
}

/// Labels a payment that exists.
pub(crate) fn label(state: &mut State, writes: &mut Writes, l: &NewLabel) -> Outcome {
    if !state.payments.contains_key(&l.payment_id) {
        return Err(CommandError::PaymentNotFound(l.payment_id.clone()));
    }
    let record = LabelRecord {
        id: l.id.clone(),
        payment_id: l.payment_id.clone(),
        label: l.label.clone(),
        source: l.source.clone(),
        note: l.note.clone(),
        actor: l.actor.clone(),
        created_at_us: state.now,
    };
    writes.labels.push(record.clone());
    Ok(Output::Label(record))
}

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
