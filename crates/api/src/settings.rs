//! `GET /v1/config`: the settings this process runs with, for admins. Business limits, risk
//! levels and the server's bounds; never a secret (no key, no database or Redis URL).

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};

use crate::contract::{handler, Operation, Verb};
use crate::permissions::Permission::Administer;
use crate::AppState;

/// `GET /v1/config`
pub async fn show(State(s): State<AppState>) -> Response {
    let c = &s.config;
    let p = &c.policies;
    let limits: Map<String, Value> = p.limits.named().iter().map(|(k, v)| ((*k).to_string(), json!(v))).collect();
    let secs = |d: std::time::Duration| d.as_secs();
    Json(json!({
        "object": "config",
        "limits": limits,
        "risk": {
            "time_zone": p.time_zone.name(),
            "thresholds": {"medium": p.thresholds.medium, "high": p.thresholds.high, "critical": p.thresholds.critical},
        },
        "server": {
            "database": if s.db.kind() == rialto_store::DbKind::Postgres { "postgres" } else { "sqlite" },
            "listen": c.listen.to_string(),
            "idempotency_ttl_hours": c.idempotency_ttl_us / 3_600_000_000,
            "batch_commands_max": c.writer.batch_commands_max,
            "settlement_interval_seconds": c.settlement_interval.map(secs),
            "header_read_timeout_seconds": secs(c.limits.header_read_timeout),
            "body_read_timeout_seconds": secs(c.limits.body_read_timeout),
            "max_connections": c.limits.connections_max,
            "shutdown_grace_seconds": secs(c.limits.shutdown_grace),
            "webhook_allow_networks": c.webhook_targets.allowed.iter().map(ToString::to_string).collect::<Vec<_>>(),
            "nats": c.nats_url.is_some(),
            "redis": c.redis_url.is_some(),
        },
    }))
    .into_response()
}

crate::contract::described!(
    /// The settings this process runs with.
    Settings,
    "`object` = `config`: `limits` (review, reject and KYC thresholds, velocity, settlement fees, in minor units), `risk` levels and `server` bounds (bodies, timeouts, connections); never a secret"
);

/// The operations of this module: the router, the permission check and the API description read them.
#[rustfmt::skip]
pub const OPERATIONS: &[Operation] = &[
    Operation::new::<Settings>(Verb::Get, "/v1/config", Administer, "The settings this process runs with: business limits (review, reject and KYC thresholds, velocity, settlement fees), risk levels and server bounds; never a secret", handler!(show)),
];
