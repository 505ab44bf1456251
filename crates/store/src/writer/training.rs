//! Training data from the API's labels: every labelled payment of a time range with its
//! payment features as of its creation (the windows rebuilt from the payments accepted before
//! it, as a backtest does), in time order.

use rialto_risk::features::{extract, position};
use rialto_risk::window::{window_start, Index};
use rialto_risk::{Key, WINDOW_SECONDS_MAX};

use super::*;

/// One labelled payment.
#[derive(Debug, Clone)]
pub struct Example {
    /// The payment.
    pub payment_id: String,
    /// Created at, µs.
    pub at_us: i64,
    /// All payment features; `merchant_risk` is 0 (the trainer fills it from its own table).
    pub features: Vec<f64>,
    /// Its merchant.
    pub merchant: Option<String>,
    /// Labelled fraud.
    pub fraud: bool,
}

impl Db {
    /// The labelled payments created in `[from_us, to_us)` with their features, oldest first.
    pub async fn training_set(
        &self,
        from_us: i64,
        to_us: i64,
        time_zone: &rialto_risk::TimeZone,
    ) -> Result<Vec<Example>, BacktestError> {
        let labels = self.labels_between(from_us, to_us).await?;
        let start = window_start(from_us, WINDOW_SECONDS_MAX);
        let count: i64 = sqlx::query("SELECT COUNT(*) AS n FROM payments WHERE created_at >= $1 AND created_at < $2")
            .bind(start)
            .bind(to_us)
            .fetch_one(self.pool())
            .await
            .map_err(StoreError::from)?
            .col("n")
            .map_err(StoreError::from)?;
        if count > BACKTEST_PAYMENTS_MAX {
            return Err(BacktestError::TooLarge(count));
        }
        let rows = sqlx::query(
            "SELECT id, user_id, source_account_id, amount, context, created_at, transfer_id \
             FROM payments WHERE created_at >= $1 AND created_at < $2 ORDER BY created_at, id",
        )
        .bind(start)
        .bind(to_us)
        .fetch_all(self.pool())
        .await
        .map_err(StoreError::from)?;
        let merchant_at = position("merchant_risk");
        let mut index = Index::default();
        let mut out = Vec::new();
        for r in &rows {
            let get = |c: &str| r.col::<String>(c).map_err(StoreError::from);
            let id = get("id")?;
            let at: i64 = r.col("created_at").map_err(StoreError::from)?;
            let amount: i64 = r.col("amount").map_err(StoreError::from)?;
            let accepted = r.col::<Option<String>>("transfer_id").map_err(StoreError::from)?.is_some();
            let current = crate::windows::entry(
                id.clone(),
                at,
                amount,
                get("user_id")?,
                get("source_account_id")?,
                &crate::records::context_from_json(&get("context")?),
            );
            if let Some(&fraud) = labels.get(&id).filter(|_| at >= from_us) {
                let earlier = index.since(Key::User, &current.user, window_start(at, WINDOW_SECONDS_MAX));
                let mut features = extract(&current, &earlier, time_zone.offset_at(at), 0.0);
                if let Some(m) = merchant_at {
                    features[m] = 0.0;
                }
                out.push(Example { payment_id: id, at_us: at, features, merchant: current.merchant.clone(), fraud });
            }
            // The windows held the payments accepted at the time.
            if accepted {
                index.insert(&current);
            }
        }
        Ok(out)
    }
}
