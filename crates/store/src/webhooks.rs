//! Webhook endpoints and deliveries: fan-out from the event stream, and the delivery ledger
//! (attempts, next attempt, outcome).

use rialto_core::ids;
use sqlx::Row;

use crate::db::{Db, StoreError};
use crate::outbox::{event_from_row, EventRecord, EVENT_COLUMNS};
use crate::read::{Cursor, Page};
use crate::sql::{Get, Val};

/// A webhook endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookEndpoint {
    /// `we_…`
    pub id: String,
    /// Where deliveries are POSTed.
    pub url: String,
    /// The HMAC-SHA256 signing secret.
    pub secret: String,
    /// Event types it wants; empty means all.
    pub event_types: Vec<String>,
    /// `active`, `disabled` (deliveries wait) or `deleted`.
    pub status: String,
    /// What it is for, as its owner wrote.
    pub description: String,
    /// The secret a rotation replaced: deliveries are signed with it too until it expires.
    pub previous_secret: Option<String>,
    /// When the previous secret stops signing, µs.
    pub previous_secret_expires_at_us: Option<i64>,
    /// Created, µs.
    pub created_at_us: i64,
    /// Last change, µs.
    pub updated_at_us: i64,
}

impl WebhookEndpoint {
    /// True when an event of type `kind` goes to this endpoint.
    pub fn wants(&self, kind: &str) -> bool {
        // Endpoints made before event types were checked stored `[]` for "all".
        self.event_types.is_empty() || self.event_types.iter().any(|pattern| type_matches(pattern, kind))
    }

    /// The secrets deliveries are signed with at `now_us`: the current one, and the previous
    /// one during its overlap.
    pub fn signing_secrets(&self, now_us: i64) -> Vec<&str> {
        let mut out = vec![self.secret.as_str()];
        if let (Some(old), Some(until)) = (&self.previous_secret, self.previous_secret_expires_at_us) {
            if now_us < until {
                out.push(old);
            }
        }
        out
    }
}

/// A change to an endpoint, applied by the writer to the row it loaded (and locked).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookChange {
    /// New values for the fields given.
    Update {
        /// Where deliveries go.
        url: Option<String>,
        /// What it subscribes to (checked patterns).
        event_types: Option<Vec<String>>,
        /// What it is for.
        description: Option<String>,
        /// `active` or `disabled`.
        status: Option<String>,
    },
    /// A new signing secret; the old one keeps signing for `overlap_us`.
    RotateSecret {
        /// The new secret.
        secret: String,
        /// How long the old one still signs, µs (0: not at all).
        overlap_us: i64,
    },
    /// Deleted: no more deliveries; pending ones are cancelled.
    Delete,
}

impl WebhookChange {
    /// The audit action.
    pub fn action(&self) -> &'static str {
        match self {
            WebhookChange::Update { .. } => "webhook_endpoint.update",
            WebhookChange::RotateSecret { .. } => "webhook_endpoint.rotate_secret",
            WebhookChange::Delete => "webhook_endpoint.delete",
        }
    }

    /// The endpoint after the change.
    pub fn apply(&self, e: &mut WebhookEndpoint, now_us: i64) {
        match self.clone() {
            WebhookChange::Update { url, event_types, description, status } => {
                e.url = url.unwrap_or(std::mem::take(&mut e.url));
                e.event_types = event_types.unwrap_or(std::mem::take(&mut e.event_types));
                e.description = description.unwrap_or(std::mem::take(&mut e.description));
                e.status = status.unwrap_or(std::mem::take(&mut e.status));
            }
            WebhookChange::RotateSecret { secret, overlap_us } => {
                let old = std::mem::replace(&mut e.secret, secret);
                (e.previous_secret, e.previous_secret_expires_at_us) =
                    if overlap_us > 0 { (Some(old), Some(now_us.saturating_add(overlap_us))) } else { (None, None) };
            }
            WebhookChange::Delete => e.status = "deleted".into(),
        }
        e.updated_at_us = now_us;
    }
}

/// Every event type the event stream carries, with what it means. Webhook endpoints subscribe
/// to these (or to `*`, or to `<prefix>.*`); `GET /v1/event-types` lists them. Debug builds
/// check every published event against this list.
pub const EVENT_TYPES: &[(&str, &str)] = &[
    ("user.created", "A user was created."),
    ("user.updated", "A user's status, KYC status or details changed."),
    (
        "user.screened",
        "A user was screened against the sanctions lists (a list changed, or a reviewer cleared a match).",
    ),
    ("kyc_document.updated", "A KYC document was submitted, verified, rejected or expired."),
    ("sanctions_list.updated", "A sanctions list import changed the list in force (a new version)."),
    ("compliance_alert.created", "An AML typology or a sanctions match raised an alert on a user's case."),
    ("compliance_case.updated", "A compliance case was opened, assigned, escalated, annotated or closed."),
    ("compliance_report.created", "A CTR was filed or a SAR drafted."),
    ("account.created", "An account was opened."),
    ("account.frozen", "An account was frozen: it can neither send nor receive."),
    ("account.unfrozen", "A frozen account was unfrozen."),
    ("account.closed", "An account with a zero balance was closed."),
    ("transfer.posted", "A transfer moved money (directly, or by posting a pending transfer)."),
    ("transfer.pending", "A pending (two-phase) transfer reserved money."),
    ("transfer.voided", "A pending transfer was voided; its reservation released."),
    ("transfer.expired", "A pending transfer expired; its reservation released."),
    ("transfer.reversed", "A posted transfer was reversed by a transfer the other way."),
    ("journal_entry.posted", "A multi-leg journal entry was posted."),
    ("payment.completed", "A payment passed its gates and moved the money."),
    ("payment.failed", "A payment was refused by a gate or by the ledger."),
    ("payment.requires_review", "A payment is held for a reviewer's decision."),
    ("payment.cancelled", "A payment held for review was cancelled or declined."),
    ("payment.labeled", "A payment was labelled (fraud or legitimate) by a reviewer."),
    ("refund.created", "A payment was refunded, in whole or in part."),
    ("settlement.completed", "A merchant's cleared payments were settled, net of fees."),
    ("settlement.failed", "A settlement could not be paid out."),
    ("risk_model.deployed", "A fraud model became the champion (deployed or rolled back to)."),
    ("risk.alert", "A risk rule's notify action fired on a payment."),
    ("statement.imported", "Bank statements were imported for a reconciled account."),
    ("reconciliation_run.completed", "A reconciliation run finished (counts, balances and drift)."),
    (
        "reconciliation_run.breaks_found",
        "A reconciliation run left breaks: unmatched lines or entries, mismatches, duplicates or unbooked fees.",
    ),
    ("reconciliation_match.updated", "A person matched, unmatched or resolved reconciliation items."),
];

/// True when `kind` is in [`EVENT_TYPES`].
pub fn is_event_type(kind: &str) -> bool {
    EVENT_TYPES.iter().any(|(k, _)| *k == kind)
}

/// A subscription pattern: an event type, `*`, or `<prefix>.*` naming a prefix some event
/// type has. Anything else is refused with what it should have been.
pub fn check_event_pattern(pattern: &str) -> Result<(), String> {
    if pattern == "*" || is_event_type(pattern) {
        return Ok(());
    }
    if let Some(prefix) = pattern.strip_suffix(".*") {
        if EVENT_TYPES.iter().any(|(k, _)| k.split_once('.').is_some_and(|(p, _)| p == prefix)) {
            return Ok(());
        }
    }
    Err("is not an event type, `*` or `<prefix>.*` (see GET /v1/event-types)".into())
}

fn type_matches(pattern: &str, kind: &str) -> bool {
    pattern == "*"
        || pattern == kind
        || pattern.strip_suffix(".*").is_some_and(|p| kind.split_once('.').is_some_and(|(k, _)| k == p))
}

/// One delivery of one event to one endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// `whd_…`, the receiver's deduplication key.
    pub id: String,
    /// Endpoint.
    pub endpoint_id: String,
    /// The event's sequence.
    pub event_seq: i64,
    /// `pending`, `succeeded` or `failed`.
    pub status: String,
    /// Attempts made.
    pub attempts: i64,
    /// Next attempt, µs.
    pub next_attempt_at_us: i64,
    /// Last HTTP status, if any.
    pub last_status_code: Option<i64>,
    /// Last error, if any.
    pub last_error: Option<String>,
    /// Created, µs.
    pub created_at_us: i64,
    /// Last change, µs.
    pub updated_at_us: i64,
}

const DELIVERY_COLUMNS: &str = "id, endpoint_id, event_seq, status, attempts, next_attempt_at, last_status_code, \
     last_error, created_at, updated_at";

fn delivery_from_row(r: &sqlx::any::AnyRow) -> Result<Delivery, StoreError> {
    Ok(Delivery {
        id: r.try_get("id")?,
        endpoint_id: r.try_get("endpoint_id")?,
        event_seq: r.try_get("event_seq")?,
        status: r.try_get("status")?,
        attempts: r.try_get("attempts")?,
        next_attempt_at_us: r.try_get("next_attempt_at")?,
        last_status_code: r.try_get("last_status_code")?,
        last_error: r.try_get("last_error")?,
        created_at_us: r.try_get("created_at")?,
        updated_at_us: r.try_get("updated_at")?,
    })
}

/// An endpoint row, as the pool or the writer's connection reads it.
pub(crate) fn endpoint_from_row<R: Get>(r: &R) -> Result<WebhookEndpoint, StoreError> {
    let types: String = r.col("event_types")?;
    Ok(WebhookEndpoint {
        id: r.col("id")?,
        url: r.col("url")?,
        secret: r.col("secret")?,
        event_types: serde_json::from_str(&types).map_err(|e| StoreError::Corrupt(e.to_string()))?,
        status: r.col("status")?,
        description: r.col("description")?,
        previous_secret: r.col("previous_secret")?,
        previous_secret_expires_at_us: r.col("previous_secret_expires_at")?,
        created_at_us: r.col("created_at")?,
        updated_at_us: r.col("updated_at")?,
    })
}

/// Events fanned out per relay pass at most.
pub const FAN_OUT_EVENTS_MAX: usize = 500;

impl Db {
    /// Endpoints not deleted, newest first, a page at a time.
    pub async fn webhook_endpoints(&self, cursor: &Cursor, limit: usize) -> Result<Page<WebhookEndpoint>, StoreError> {
        let conditions = [("status <> $?", Val::T("deleted".into()))];
        let (rows, has_more) =
            crate::read::page(self, "SELECT * FROM webhook_endpoints", "id", &conditions, cursor, limit).await?;
        Ok(Page { data: rows.iter().map(endpoint_from_row).collect::<Result<_, _>>()?, has_more })
    }

    /// An endpoint by id (deleted ones too: their deliveries stay readable).
    pub async fn webhook_endpoint(&self, id: &str) -> Result<Option<WebhookEndpoint>, StoreError> {
        let row = sqlx::query("SELECT * FROM webhook_endpoints WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(endpoint_from_row).transpose()
    }

    /// Turns new events into deliveries for the matching endpoints, active or disabled (a
    /// disabled endpoint's deliveries wait until it is active again: nothing is lost), and
    /// advances the relay's position, in one transaction. Returns the number of deliveries created.
    pub async fn fan_out(&self, now_us: i64) -> Result<i64, StoreError> {
        let mut tx = self.pool().begin().await?;
        sqlx::query("INSERT INTO relay_cursors (name, position) VALUES ('webhooks', 0) ON CONFLICT (name) DO NOTHING")
            .execute(&mut *tx)
            .await?;
        let position: i64 = sqlx::query("SELECT position FROM relay_cursors WHERE name = 'webhooks'")
            .fetch_one(&mut *tx)
            .await?
            .try_get("position")?;
        let rows = sqlx::query(&format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE seq > $1 ORDER BY seq LIMIT {FAN_OUT_EVENTS_MAX}"
        ))
        .bind(position)
        .fetch_all(&mut *tx)
        .await?;
        let events: Vec<EventRecord> = rows.iter().map(event_from_row).collect::<Result<_, _>>()?;
        let Some(last) = events.last().map(|e| e.seq) else {
            tx.rollback().await?;
            return Ok(0);
        };
        let endpoints: Vec<WebhookEndpoint> =
            sqlx::query("SELECT * FROM webhook_endpoints WHERE status IN ('active', 'disabled')")
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(endpoint_from_row)
                .collect::<Result<_, _>>()?;
        let mut created = 0;
        for e in &events {
            for ep in endpoints.iter().filter(|ep| ep.wants(&e.kind)) {
                sqlx::query(
                    "INSERT INTO webhook_deliveries (id, endpoint_id, event_seq, status, attempts, next_attempt_at, \
                     created_at, updated_at) VALUES ($1, $2, $3, 'pending', 0, $4, $4, $4) \
                     ON CONFLICT (endpoint_id, event_seq) DO NOTHING",
                )
                .bind(ids::new_id::<ids::WebhookDeliveryId>())
                .bind(ep.id.clone())
                .bind(e.seq)
                .bind(now_us)
                .execute(&mut *tx)
                .await?;
                created += 1;
            }
        }
        sqlx::query("UPDATE relay_cursors SET position = $1 WHERE name = 'webhooks'")
            .bind(last)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(created)
    }

    /// Deliveries due now, with their endpoint and event.
    pub async fn due_deliveries(
        &self,
        now_us: i64,
        limit: usize,
    ) -> Result<Vec<(Delivery, WebhookEndpoint, EventRecord)>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE status = 'pending' AND next_attempt_at <= $1 \
             AND endpoint_id IN (SELECT id FROM webhook_endpoints WHERE status = 'active') \
             ORDER BY next_attempt_at LIMIT {limit}"
        ))
        .bind(now_us)
        .fetch_all(self.pool())
        .await?;
        let mut out = Vec::new();
        // Many due deliveries share an endpoint: read each endpoint once per call.
        let mut endpoints: std::collections::HashMap<String, Option<WebhookEndpoint>> = Default::default();
        for r in rows {
            let d = delivery_from_row(&r)?;
            if !endpoints.contains_key(&d.endpoint_id) {
                let ep = self.webhook_endpoint(&d.endpoint_id).await?;
                endpoints.insert(d.endpoint_id.clone(), ep);
            }
            let Some(Some(ep)) = endpoints.get(&d.endpoint_id).cloned() else {
                continue;
            };
            let ev = sqlx::query(&format!("SELECT {EVENT_COLUMNS} FROM events WHERE seq = $1"))
                .bind(d.event_seq)
                .fetch_one(self.pool())
                .await?;
            out.push((d, ep, event_from_row(&ev)?));
        }
        Ok(out)
    }

    /// Records an attempt: `next_attempt_at_us` None means final (`succeeded` or `failed`).
    pub async fn record_attempt(
        &self,
        id: &str,
        status: &str,
        next_attempt_at_us: i64,
        status_code: Option<i64>,
        error: Option<String>,
        now_us: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE webhook_deliveries SET status = $1, attempts = attempts + 1, next_attempt_at = $2, \
             last_status_code = $3, last_error = $4, updated_at = $5 WHERE id = $6",
        )
        .bind(status.to_string())
        .bind(next_attempt_at_us)
        .bind(status_code)
        .bind(error)
        .bind(now_us)
        .bind(id.to_string())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// An endpoint's deliveries, newest first.
    pub async fn deliveries(
        &self,
        endpoint_id: &str,
        cursor: &Cursor,
        limit: usize,
    ) -> Result<Page<Delivery>, StoreError> {
        let select = format!("SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries");
        let conditions = [("endpoint_id = $?", Val::T(endpoint_id.to_string()))];
        let (rows, has_more) = crate::read::page(self, &select, "id", &conditions, cursor, limit).await?;
        Ok(Page { data: rows.iter().map(delivery_from_row).collect::<Result<_, _>>()?, has_more })
    }
}

impl Db {
    /// Where the relay `name` (e.g. `nats`) stands in the event stream.
    pub async fn relay_position(&self, name: &str) -> Result<i64, StoreError> {
        let row = sqlx::query("SELECT position FROM relay_cursors WHERE name = $1")
            .bind(name.to_string())
            .fetch_optional(self.pool())
            .await?;
        Ok(match row {
            Some(r) => r.try_get("position")?,
            None => 0,
        })
    }

    /// Moves the relay `name` to `position` (after its events were acknowledged downstream).
    pub async fn set_relay_position(&self, name: &str, position: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO relay_cursors (name, position) VALUES ($1, $2) \
             ON CONFLICT (name) DO UPDATE SET position = excluded.position",
        )
        .bind(name.to_string())
        .bind(position)
        .execute(self.pool())
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_patterns() {
        assert!(check_event_pattern("payment.completed").is_ok());
        assert!(check_event_pattern("payment.*").is_ok());
        assert!(check_event_pattern("*").is_ok());
        for bad in ["payment.complete", "payment.", "paym.*", "*.completed", "", "payment.**", "PAYMENT.completed"] {
            assert!(check_event_pattern(bad).is_err(), "{bad}");
        }
        assert!(type_matches("payment.*", "payment.completed"));
        assert!(!type_matches("payment.*", "refund.created"));
        assert!(!type_matches("pay.*", "payment.completed"));
        let mut names: Vec<&str> = EVENT_TYPES.iter().map(|(k, _)| *k).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), EVENT_TYPES.len(), "each event type once");
    }
}
