//! The OpenAPI 3.1 description of the API and an offline HTML page that renders it.

use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

/// One operation: method, path, summary, request schema, success status and schema. What it
/// needs is its permission (`crate::permissions`).
struct Op {
    method: &'static str,
    path: &'static str,
    summary: &'static str,
    request: Option<&'static str>,
    status: &'static str,
    response: &'static str,
}

const fn op(
    method: &'static str,
    path: &'static str,
    summary: &'static str,
    request: Option<&'static str>,
    status: &'static str,
    response: &'static str,
) -> Op {
    Op { method, path, summary, request, status, response }
}

/// Every route the router serves. A test checks the router and this table agree.
#[rustfmt::skip]
const OPS: &[Op] = &[
    op("get", "/healthz", "Liveness", None, "200", "Status"),
    op(
        "get",
        "/readyz",
        "Readiness (the database answers)",
        None,
        "200",
        "Status"
    ),
    op(
        "get",
        "/metrics",
        "Prometheus metrics",
        None,
        "200",
        "Text"
    ),
    op(
        "get",
        "/openapi.json",
        "This document",
        None,
        "200",
        "Object"
    ),
    op(
        "get",
        "/docs",
        "API reference page",
        None,
        "200",
        "Text"
    ),
    op(
        "post",
        "/v1/users",
        "Create a user",
        Some("UserCreate"),
        "201",
        "User"
    ),
    op(
        "get",
        "/v1/users",
        "List users",
        None,
        "200",
        "UserList"
    ),
    op(
        "get",
        "/v1/users/{id}",
        "Get a user",
        None,
        "200",
        "User"
    ),
    op(
        "post",
        "/v1/accounts",
        "Open an account",
        Some("AccountCreate"),
        "201",
        "Account"
    ),
    op(
        "get",
        "/v1/accounts",
        "List accounts (filter: user_id)",
        None,
        "200",
        "AccountList"
    ),
    op(
        "get",
        "/v1/accounts/{id}",
        "Get an account with its balance",
        None,
        "200",
        "Account"
    ),
    op(
        "post",
        "/v1/accounts/{id}/freeze",
        "Freeze an account",
        None,
        "200",
        "Account"
    ),
    op(
        "post",
        "/v1/accounts/{id}/unfreeze",
        "Unfreeze an account",
        None,
        "200",
        "Account"
    ),
    op(
        "post",
        "/v1/accounts/{id}/close",
        "Close an account with a zero balance",
        None,
        "200",
        "Account"
    ),
    op(
        "get",
        "/v1/accounts/{id}/entries",
        "The account's entries, newest first",
        None,
        "200",
        "EntryList"
    ),
    op(
        "get",
        "/v1/accounts/{id}/balance",
        "Balance now, or posted balance at `?at=<RFC 3339>`",
        None,
        "200",
        "Balance"
    ),
    op(
        "post",
        "/v1/transfers",
        "Create a posted or pending transfer",
        Some("TransferCreate"),
        "201",
        "Transfer"
    ),
    op(
        "get",
        "/v1/transfers",
        "List transfers (filter: account_id)",
        None,
        "200",
        "TransferList"
    ),
    op(
        "get",
        "/v1/transfers/{id}",
        "Get a transfer",
        None,
        "200",
        "Transfer"
    ),
    op(
        "post",
        "/v1/transfers/{id}/post",
        "Post a pending transfer (optionally a smaller amount)",
        Some("TransferPost"),
        "200",
        "Transfer"
    ),
    op(
        "post",
        "/v1/transfers/{id}/void",
        "Void a pending transfer",
        None,
        "200",
        "Transfer"
    ),
    op(
        "post",
        "/v1/transfers/{id}/reverse",
        "Reverse a posted transfer",
        None,
        "201",
        "Transfer"
    ),
    op(
        "post",
        "/v1/journal-entries",
        "Post a balanced multi-line journal entry",
        Some("JournalCreate"),
        "201",
        "JournalEntry"
    ),
    op(
        "get",
        "/v1/journal-entries/{id}",
        "Get a journal entry",
        None,
        "200",
        "JournalEntry"
    ),
    op(
        "get",
        "/v1/ledger/verify",
        "Recompute every balance and the trial balance",
        None,
        "200",
        "Verification"
    ),
    op(
        "get",
        "/v1/api-keys",
        "List API keys",
        None,
        "200",
        "Object"
    ),
    op(
        "post",
        "/v1/api-keys",
        "Create an API key (secret shown once)",
        Some("ApiKeyCreate"),
        "200",
        "Object"
    ),
    op("post", "/v1/api-keys/{id}/revoke", "Revoke an API key", None, "200", "Object"),
    op("post", "/v1/payments", "Create a payment: accounts, risk, compliance and balance gates, then the ledger", Some("PaymentCreate"), "201", "Payment"),
    op("get", "/v1/payments", "List payments (filters: user_id, account_id, status, from, to)", None, "200", "PaymentList"),
    op("get", "/v1/payments/{id}", "Get a payment with its status history and refunds", None, "200", "Payment"),
    op("post", "/v1/payments/{id}/approve", "Approve a payment held for review (posts the hold)", Some("ReviewNote"), "200", "Payment"),
    op("post", "/v1/payments/{id}/decline", "Decline a payment held for review (releases the hold)", Some("ReviewNote"), "200", "Payment"),
    op("post", "/v1/payments/{id}/labels", "Label a payment fraud or legitimate (source: review|chargeback|manual)", Some("LabelCreate"), "201", "Object"),
    op("get", "/v1/payments/{id}/labels", "A payment's labels, oldest first (the last one counts)", None, "200", "Object"),
    op("get", "/v1/reviews", "The review queue: payments held for review, oldest first (filters: user_id, currency, min_amount, from)", None, "200", "PaymentList"),
    op("post", "/v1/payments/{id}/cancel", "Cancel a pending or held payment", None, "200", "Payment"),
    op("post", "/v1/payments/{id}/refunds", "Refund part or all of what remains", Some("RefundCreate"), "201", "Refund"),
    op("post", "/v1/users/{id}", "Change a user's status (active|blocked) or kyc_status (pending|verified|rejected)", Some("UserUpdate"), "200", "User"),
    op("post", "/v1/settlements", "Settle pending clearings per merchant account and currency, with fees", Some("SettlementCreate"), "201", "Object"),
    op("get", "/v1/settlements/{id}", "Get a settlement batch and its payments", None, "200", "Settlement"),
    op("post", "/v1/webhook-endpoints", "Register a webhook endpoint (url, event_types, description); returns its signing secret once. The URL must be a public address unless the operator allowed its network", Some("WebhookCreate"), "200", "WebhookEndpoint"),
    op("get", "/v1/webhook-endpoints", "Webhook endpoints (newest first, never their secrets)", None, "200", "Object"),
    op("get", "/v1/webhook-endpoints/{id}", "A webhook endpoint", None, "200", "WebhookEndpoint"),
    op("post", "/v1/webhook-endpoints/{id}", "Change a webhook endpoint: url, event_types, description, status (active or disabled; a disabled endpoint's deliveries wait)", Some("WebhookUpdate"), "200", "WebhookEndpoint"),
    op("delete", "/v1/webhook-endpoints/{id}", "Delete a webhook endpoint: its pending deliveries are cancelled", None, "200", "WebhookEndpoint"),
    op("post", "/v1/webhook-endpoints/{id}/rotate-secret", "A new signing secret (returned once); the old one keeps signing for overlap_seconds (default 86400, at most 604800)", Some("WebhookRotate"), "200", "WebhookEndpoint"),
    op("get", "/v1/webhook-endpoints/{id}/deliveries", "An endpoint's deliveries with attempts and outcome", None, "200", "Object"),
    op("get", "/v1/config", "The settings this process runs with: business limits (review, reject and KYC thresholds, velocity, settlement fees), risk levels and server bounds; never a secret", None, "200", "Object"),
    op("get", "/v1/event-types", "The event types of the event stream, which webhook endpoints subscribe to", None, "200", "Object"),
    op("get", "/v1/tasks", "Recent runs of scheduled tasks (status, duration, errors)", None, "200", "Object"),
    op("get", "/v1/risk/rules", "Current risk rules", None, "200", "Object"),
    op("post", "/v1/risk/rules", "Create a risk rule (a JSON rule document; errors name the path)", Some("Object"), "201", "Object"),
    op("post", "/v1/risk/rules/backtest", "Replay candidate rules over a time range of payments (changes nothing): hits per rule, changed decisions, precision and recall on labels", Some("Backtest"), "200", "Object"),
    op("post", "/v1/credit-scores", "Score an applicant: 300-850 scorecard score, grade, risk level, approval probability, reason codes; the answer is kept and audited", Some("CreditApplicant"), "201", "Object"),
    op("get", "/v1/credit-scores/{id}", "A kept credit score: the answer as given, with the applicant's features", None, "200", "Object"),
    op("get", "/v1/risk/rules/{id}", "A risk rule with every earlier version", None, "200", "Object"),
    op("put", "/v1/risk/rules/{id}", "Replace a risk rule (new version)", Some("Object"), "200", "Object"),
    op("delete", "/v1/risk/rules/{id}", "Delete a risk rule (its history stays)", None, "200", "Object"),
    op("get", "/v1/risk/assessments/{id}", "An explained risk assessment: rules fired, model score and top features, score, level, decision", None, "200", "Object"),
    op("get", "/v1/risk/models", "Registered fraud models (newest first)", None, "200", "Object"),
    op("post", "/v1/risk/models", "Register an uploaded model (logistic JSON, forust trees JSON, or base64 ONNX) as testing; 400 invalid_model names the field", Some("ModelCreate"), "201", "Object"),
    op("post", "/v1/risk/models/train", "Train a model from the labelled payments of a range in the background (202, status training); 422 not_enough_labels", Some("ModelTrain"), "202", "Object"),
    op("post", "/v1/risk/models/rollback", "Deploy again the champion the current one replaced", None, "200", "Object"),
    op("get", "/v1/risk/models/{id}", "A model with its live results (scores by role and outcome, decisions, latency, precision/recall/AUC on labels)", None, "200", "Object"),
    op("post", "/v1/risk/models/{id}/deploy", "Make a model the champion (the previous one is deprecated and remembered for rollback)", None, "200", "Object"),
    op("post", "/v1/risk/models/{id}/challenger", "Score a share of payments with a testing model beside the champion (both scores recorded)", Some("ModelChallenger"), "200", "Object"),
    op("get", "/v1/users/{id}/risk", "A user's current risk score and assessment history", None, "200", "Object"),
    op("get", "/v1/risk/lists/{id}", "The values on a named risk list", None, "200", "Object"),
    op("post", "/v1/risk/lists/{id}/items", "Put a value on a named list (rules test it with in_list)", Some("Object"), "200", "Object"),
op("delete", "/v1/risk/lists/{name}/items/{value}", "Remove a value from a named list", None, "200", "Object"),
        op("get", "/v1/events", "Domain events in commit order (`?after=<sequence>&type=`)", None, "200", "EventList"),
    op("get", "/v1/audit-events", "Audit records, newest first (filters: actor, action, resource_id, result, from, to)", None, "200", "AuditList"),
    op("get", "/v1/audit/verify", "Check the audit hash chain; names the first broken record", None, "200", "Object"),
];

/// Every `(method, path)` documented.
pub fn documented() -> Vec<(&'static str, &'static str)> {
    OPS.iter().map(|o| (o.method, o.path)).collect()
}

fn r(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

/// The webhook endpoint schemas, added to [`schemas`].
fn with_webhook_schemas(mut all: Value) -> Value {
    let time = json!({"type": "string", "format": "date-time"});
    let webhooks = json!({
        "WebhookCreate": {"type": "object", "additionalProperties": false, "required": ["url"], "properties": {
            "url": {"type": "string", "format": "uri"}, "description": {"type": "string", "maxLength": 500},
            "event_types": {"type": "array", "minItems": 1, "items": {"type": "string"},
                "description": "event types (GET /v1/event-types), `*` or `<prefix>.*`; default [\"*\"]"}}},
        "WebhookUpdate": {"type": "object", "additionalProperties": false, "minProperties": 1, "properties": {
            "url": {"type": "string", "format": "uri"}, "description": {"type": "string", "maxLength": 500},
            "event_types": {"type": "array", "minItems": 1, "items": {"type": "string"}},
            "status": {"enum": ["active", "disabled"]}}},
        "WebhookRotate": {"type": "object", "additionalProperties": false, "properties": {
            "overlap_seconds": {"type": "integer", "minimum": 0, "maximum": 604800}}},
        "WebhookEndpoint": {"type": "object", "properties": {"id": {"type": "string"}, "object": {"const": "webhook_endpoint"},
            "url": {"type": "string"}, "description": {"type": "string"}, "event_types": {"type": "array", "items": {"type": "string"}},
            "status": {"enum": ["active", "disabled", "deleted"]}, "secret": {"type": "string", "description": "only when created or rotated"},
            "previous_secret_expires_at": {"type": ["string", "null"]}, "created_at": time, "updated_at": time}}
    });
    if let (Some(all), Value::Object(more)) = (all.as_object_mut(), webhooks) {
        all.extend(more);
    }
    all
}

fn schemas() -> Value {
    let money = json!({"type": "integer", "minimum": 1, "maximum": 1_000_000_000_000_000_i64,
                       "description": "Integer amount in the currency's minor unit (1050 USD = 10.50 USD)"});
    let currency = json!({"type": "string", "pattern": "^[A-Z]{3}$", "description": "ISO 4217 code"});
    let metadata =
        json!({"type": "object", "additionalProperties": {"type": "string", "maxLength": 500}, "maxProperties": 50});
    let time = json!({"type": "string", "format": "date-time"});
    let list = |item: &str| json!({"type": "object", "properties": {"object": {"const": "list"}, "data": {"type": "array", "items": r(item)}, "has_more": {"type": "boolean"}}});
    json!({
        "Error": {"type": "object", "properties": {"error": {"type": "object", "properties": {
            "type": {"type": "string"}, "code": {"type": "string"}, "message": {"type": "string"},
            "param": {"type": ["string", "null"]}}}}},
        "Status": {"type": "object"}, "Object": {"type": "object"}, "Text": {"type": "string"},
        "UserCreate": {"type": "object", "additionalProperties": false, "required": ["name"], "properties": {
            "name": {"type": "string", "maxLength": 200}, "email": {"type": "string"}, "phone": {"type": "string"},
            "role": {"enum": ["customer", "merchant", "admin", "support"]}}},
        "User": {"type": "object", "properties": {"id": {"type": "string"}, "name": {"type": "string"},
            "email": {"type": ["string", "null"]}, "phone": {"type": ["string", "null"]}, "role": {"type": "string"},
            "status": {"type": "string"}, "kyc_status": {"type": "string"}, "created_at": time}},
        "UserList": list("User"),
        "AccountCreate": {"type": "object", "additionalProperties": false, "required": ["currency"], "properties": {
            "currency": currency, "name": {"type": "string"}, "user_id": {"type": "string"},
            "allow_negative_balance": {"type": "boolean", "default": false}, "metadata": metadata}},
        "Balance": {"type": "object", "properties": {"posted": {"type": "integer"}, "pending_debits": {"type": "integer"},
            "pending_credits": {"type": "integer"}, "available": {"type": "integer"}}},
        "Account": {"type": "object", "properties": {"id": {"type": "string"}, "currency": currency,
            "status": {"enum": ["active", "frozen", "closed"]}, "balance": r("Balance"),
            "allow_negative_balance": {"type": "boolean"}, "user_id": {"type": ["string", "null"]},
            "name": {"type": ["string", "null"]}, "metadata": metadata, "created_at": time}},
        "AccountList": list("Account"),
        "TransferCreate": {"type": "object", "additionalProperties": false,
            "required": ["source_account_id", "destination_account_id", "amount", "currency"], "properties": {
            "source_account_id": {"type": "string"}, "destination_account_id": {"type": "string"},
            "amount": money, "currency": currency, "description": {"type": "string"}, "reference": {"type": "string"},
            "metadata": metadata, "pending": {"type": "boolean"}, "expires_in_seconds": {"type": "integer", "minimum": 1}}},
        "TransferPost": {"type": "object", "additionalProperties": false, "properties": {"amount": money}},
        "Transfer": {"type": "object", "properties": {"id": {"type": "string"}, "source_account_id": {"type": "string"},
            "destination_account_id": {"type": "string"}, "amount": {"type": "integer"}, "posted_amount": {"type": "integer"},
            "currency": currency, "status": {"enum": ["pending", "posted", "voided", "expired"]},
            "pending": {"type": "boolean"}, "expires_at": {"type": ["string", "null"]},
            "reversal_of": {"type": ["string", "null"]}, "reversed_by": {"type": ["string", "null"]}, "created_at": time}},
        "TransferList": list("Transfer"),
        "JournalCreate": {"type": "object", "additionalProperties": false, "required": ["lines"], "properties": {
            "lines": {"type": "array", "minItems": 2, "maxItems": 50, "items": {"type": "object", "additionalProperties": false,
                "required": ["account_id", "direction", "amount"], "properties": {"account_id": {"type": "string"},
                "direction": {"enum": ["debit", "credit"]}, "amount": money}}},
            "description": {"type": "string"}, "metadata": metadata}},
        "JournalEntry": {"type": "object", "properties": {"id": {"type": "string"}, "lines": {"type": "array", "items": {"type": "object"}}, "created_at": time}},
        "Entry": {"type": "object", "properties": {"id": {"type": "string"}, "account_id": {"type": "string"},
            "direction": {"enum": ["debit", "credit"]}, "amount": {"type": "integer"}, "balance_after": {"type": "integer"},
            "transfer_id": {"type": ["string", "null"]}, "journal_entry_id": {"type": ["string", "null"]}, "created_at": time}},
        "EntryList": list("Entry"),
        "Event": {"type": "object", "properties": {"id": {"type": "string"}, "sequence": {"type": "integer"},
            "type": {"type": "string"}, "resource_type": {"type": "string"}, "resource_id": {"type": "string"},
            "data": {"type": "object"}, "request_id": {"type": ["string", "null"]}, "created_at": time}},
        "EventList": list("Event"),
        "AuditEvent": {"type": "object", "properties": {"id": {"type": "string"}, "sequence": {"type": "integer"},
            "actor": {"type": "string"}, "action": {"type": "string"}, "result": {"enum": ["success", "failure"]},
            "resource_id": {"type": ["string", "null"]}, "request_id": {"type": ["string", "null"]},
            "ip": {"type": ["string", "null"]}, "details": {"type": "object"}, "prev_hash": {"type": "string"},
            "hash": {"type": "string"}, "created_at": time}},
        "AuditList": list("AuditEvent"),
        "PaymentCreate": {"type": "object", "additionalProperties": false,
            "required": ["user_id", "source_account_id", "destination_account_id", "amount", "currency"], "properties": {
            "user_id": {"type": "string"}, "source_account_id": {"type": "string"}, "destination_account_id": {"type": "string"},
            "amount": money, "currency": currency, "type": {"enum": ["transfer", "deposit", "withdrawal", "fee"]},
            "method": {"enum": ["card", "bank", "wallet", "cash"]}, "reference": {"type": "string"},
            "description": {"type": "string"}, "metadata": metadata, "device_id": {"type": "string"},
            "ip_address": {"type": "string"}, "merchant_id": {"type": "string"},
            "location": {"type": "object", "properties": {"country": {"type": "string"}, "lat": {"type": "number"}, "lon": {"type": "number"}}}}},
        "Payment": {"type": "object", "properties": {"id": {"type": "string"}, "status": {"enum": [
            "pending", "processing", "requires_review", "completed", "failed", "cancelled", "partially_refunded", "refunded"]},
            "amount": {"type": "integer"}, "amount_refunded": {"type": "integer"}, "currency": currency,
            "failure_code": {"type": ["string", "null"]}, "failure_reason": {"type": ["string", "null"]},
            "history": {"type": "array", "items": {"type": "object"}}, "refunds": {"type": "array", "items": {"type": "object"}}, "created_at": time}},
        "PaymentList": list("Payment"),
        "UserUpdate": {"type": "object", "additionalProperties": false, "properties": {
            "status": {"enum": ["active", "blocked"]}, "kyc_status": {"enum": ["pending", "verified", "rejected"]}}},
        "SettlementCreate": {"type": "object", "additionalProperties": false, "properties": {"destination_account_id": {"type": "string"}}},
        "Settlement": {"type": "object", "properties": {"id": {"type": "string"}, "status": {"enum": ["completed", "failed"]},
            "gross": {"type": "integer"}, "fees": {"type": "integer"}, "net": {"type": "integer"},
            "payment_count": {"type": "integer"}, "payments": {"type": "array", "items": {"type": "object"}}, "journal_entry_id": {"type": ["string", "null"]}}},
        "ReviewNote": {"type": "object", "additionalProperties": false, "properties": {"note": {"type": "string"},
            "label": {"enum": ["fraud", "legitimate", "none"], "description": "default: legitimate on approve, fraud on decline"}}},
        "Backtest": {"type": "object", "additionalProperties": false, "required": ["from"], "properties": {
            "from": time, "to": time, "rules": {"type": "array", "items": {"type": "object"}, "description": "default: the current rules"}}},
        "CreditApplicant": {"type": "object", "additionalProperties": false,
            "required": ["age", "income", "employment_years", "total_debt", "defaults"], "properties": {
            "age": {"type": "number"}, "income": {"type": "number", "description": "per month, same units as total_debt"},
            "employment_years": {"type": "number"}, "total_debt": {"type": "number"}, "defaults": {"type": "number"},
            "credit_history_months": {"type": "number"}, "open_accounts": {"type": "number"},
            "on_time_payments": {"type": "number"}, "late_payments": {"type": "number"},
            "credit_utilization": {"type": "number"}, "hard_inquiries_6m": {"type": "number"}}},
        "ModelCreate": {"type": "object", "additionalProperties": false, "required": ["name", "type", "features", "artifact"], "properties": {
            "name": {"type": "string"}, "type": {"enum": ["logistic_regression", "gradient_boosting", "onnx"]},
            "features": {"type": "array", "items": {"type": "string"}, "description": "payment feature names, in the model's input order"},
            "artifact": {"description": "logistic JSON {features, weights, bias, means}; forust JSON dump; base64 ONNX (needs the onnx build)"},
            "merchant_risk": {"type": "object", "properties": {"merchants": {"type": "object"}, "default": {"type": "number"}}},
            "metadata": {"type": "object"}, "dataset_rows": {"type": "integer"}}},
        "ModelTrain": {"type": "object", "additionalProperties": false, "required": ["name", "type"], "properties": {
            "name": {"type": "string"}, "type": {"enum": ["logistic_regression", "gradient_boosting"]},
            "from": time, "to": time, "rounds": {"type": "integer"}, "max_depth": {"type": "integer"},
            "learning_rate": {"type": "number"}}},
        "ModelChallenger": {"type": "object", "additionalProperties": false, "required": ["share_bp"], "properties": {
            "share_bp": {"type": "integer", "minimum": 0, "maximum": 10000, "description": "basis points of payments"}}},
        "LabelCreate": {"type": "object", "additionalProperties": false, "required": ["label"], "properties": {
            "label": {"enum": ["fraud", "legitimate"]}, "source": {"enum": ["review", "chargeback", "manual"]},
            "note": {"type": "string"}}},
        "RefundCreate": {"type": "object", "additionalProperties": false, "properties": {"amount": money, "reason": {"type": "string"}}},
        "Refund": {"type": "object", "properties": {"id": {"type": "string"}, "amount": {"type": "integer"},
            "payment": r("Payment"), "created_at": time}},
        "Verification": {"type": "object", "properties": {"ok": {"type": "boolean"}, "mismatches": {"type": "array", "items": {"type": "object"}}}},
        "ApiKeyCreate": {"type": "object", "required": ["name", "role"], "properties": {"name": {"type": "string"},
            "role": {"enum": ["admin", "reviewer", "writer", "reader"]}}},
    })
}

const PAGE: [&str; 3] = ["limit", "starting_after", "ending_before"];

/// The query parameters of each operation that takes any (all GETs).
#[rustfmt::skip]
const QUERIES: &[(&str, &[&str])] = &[
    ("/v1/users", &PAGE),
    ("/v1/accounts", &["limit", "starting_after", "ending_before", "user_id"]),
    ("/v1/accounts/{id}/entries", &PAGE),
    ("/v1/accounts/{id}/balance", &["at"]),
    ("/v1/transfers", &["limit", "starting_after", "ending_before", "account_id"]),
    ("/v1/api-keys", &PAGE),
    ("/v1/payments", &["limit", "starting_after", "ending_before", "user_id", "account_id", "status", "from", "to"]),
    ("/v1/reviews", &["limit", "starting_after", "ending_before", "user_id", "currency", "min_amount", "from"]),
    ("/v1/webhook-endpoints", &PAGE),
    ("/v1/webhook-endpoints/{id}/deliveries", &PAGE),
    ("/v1/tasks", &["name", "limit"]),
    ("/v1/risk/rules", &PAGE),
    ("/v1/risk/models", &PAGE),
    ("/v1/events", &["after", "type", "limit"]),
    ("/v1/audit-events", &["limit", "starting_after", "ending_before", "actor", "action", "resource_id", "result", "from", "to"]),
];

/// One query parameter, as the handlers read it.
fn query_parameter(path: &str, name: &str) -> Value {
    let time = json!({"type": "string", "format": "date-time"});
    let (schema, description) = match name {
        "limit" => (json!({"type": "integer", "minimum": 1, "maximum": 100, "default": 10}), "page size"),
        "starting_after" => (json!({"type": "string"}), "the last id of the previous page"),
        "ending_before" => (json!({"type": "string"}), "the first id of the next page"),
        "at" | "from" | "to" => (time, "RFC 3339 time"),
        "after" => (json!({"type": "integer", "minimum": 0}), "the last sequence seen"),
        "min_amount" => (json!({"type": "integer", "minimum": 0}), "minor units"),
        "currency" => (json!({"type": "string", "pattern": "^[A-Z]{3}$"}), "ISO 4217 code"),
        "status" => (
            json!({"enum": rialto_payments::PaymentStatus::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>()}),
            "payment status",
        ),
        "result" => (json!({"enum": ["success", "failure"]}), "outcome"),
        "user_id" | "account_id" => (json!({"type": "string"}), "an id of that kind"),
        _ => (json!({"type": "string"}), "exact match"),
    };
    json!({"name": name, "in": "query", "required": path.ends_with("/balance") && name == "at",
           "schema": schema, "description": description})
}

/// The error answers an operation can give, each in the error shape: the ones every `/v1`
/// operation can give (401, 403, 429, 503), those of a path id (404), of a body (400, 413, 415,
/// 422 and 409 for a state or idempotency conflict), and 4XX for the rest (431, 408, 405).
fn error_responses(o: &Op) -> Value {
    let error = |description: &str| json!({"description": description, "content": {"application/json": {"schema": r("Error")}}});
    let mut out = serde_json::Map::new();
    out.insert(
        "4XX".into(),
        error("Another client error (headers too large, a request too slow, a method not allowed)"),
    );
    if !o.path.starts_with("/v1/") {
        if o.path == "/readyz" {
            out.insert("503".into(), error("The database does not answer"));
        }
        return Value::Object(out);
    }
    out.insert(
        "400".into(),
        error("Invalid input: `code` and `param` say what and where (invalid_request, invalid_id, ...)"),
    );
    out.insert("401".into(), error("No API key, or not a valid one (`WWW-Authenticate: Bearer`)"));
    out.insert("403".into(), error("The key's role lacks the permission this operation needs"));
    out.insert("429".into(), error("Too many failed API keys from this address; `Retry-After` says when to retry"));
    out.insert("503".into(), error("The database is unavailable; nothing was applied unless the code says otherwise; retry with the same Idempotency-Key"));
    if o.path.contains('{') {
        out.insert("404".into(), error("No such resource"));
    }
    if o.request.is_some() || o.method != "get" {
        out.insert(
            "409".into(),
            error("A state or idempotency conflict (invalid_state_transition, idempotency_key_in_use, ...)"),
        );
        out.insert("413".into(), error("The body is too large (1 MiB; model uploads 64 MiB)"));
        out.insert("415".into(), error("The body is not `application/json`"));
        out.insert(
            "422".into(),
            error(
                "Refused by the ledger or a gate (insufficient_funds, currency_mismatch, idempotency_key_reused, ...)",
            ),
        );
    }
    Value::Object(out)
}

/// The OpenAPI document.
pub fn spec() -> Value {
    let mut paths = serde_json::Map::new();
    // POSTs that take no Idempotency-Key: creating a key or an endpoint answers a secret once
    // (a stored answer would keep it), a second revocation changes nothing, a backtest changes nothing.
    const WITHOUT_IDEMPOTENCY: [&str; 6] = [
        "/v1/api-keys",
        "/v1/api-keys/{id}/revoke",
        "/v1/webhook-endpoints",
        "/v1/webhook-endpoints/{id}",
        "/v1/webhook-endpoints/{id}/rotate-secret",
        "/v1/risk/rules/backtest",
    ];
    for o in OPS {
        let media = match o.path {
            "/metrics" => "text/plain",
            "/docs" => "text/html",
            _ => "application/json",
        };
        let mut operation = json!({
            "summary": o.summary,
            "operationId": format!("{}{}", o.method, o.path.replace(['/', '{', '}', '-', '.'], "_")),
            "responses": error_responses(o),
        });
        operation["responses"][o.status] =
            json!({"description": "Success", "content": {media: {"schema": r(o.response)}}});
        if o.path.starts_with("/v1/") {
            let method = o.method.to_uppercase().parse().unwrap_or(axum::http::Method::GET);
            let needed = crate::permissions::needed(&method, o.path);
            operation["security"] = json!([{"apiKey": []}]);
            operation["description"] =
                json!(format!("Needs the `{}` permission (roles: {}).", needed.as_str(), needed.roles().join(", ")));
        } else {
            operation["security"] = json!([]);
        }
        let mut parameters = Vec::new();
        for name in o.path.split('/').filter_map(|seg| seg.strip_prefix('{')?.strip_suffix('}')) {
            parameters.push(json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}));
        }
        if o.method == "get" {
            let names = QUERIES.iter().find(|(p, _)| *p == o.path).map_or(&[][..], |(_, names)| *names);
            parameters.extend(names.iter().map(|name| query_parameter(o.path, name)));
        }
        if o.method == "post" && !WITHOUT_IDEMPOTENCY.contains(&o.path) {
            parameters.push(json!({"name": "Idempotency-Key", "in": "header", "required": false,
                "schema": {"type": "string", "maxLength": 255}}));
        }
        if !parameters.is_empty() {
            operation["parameters"] = Value::Array(parameters);
        }
        if let Some(req) = o.request {
            operation["requestBody"] = json!({"required": true, "content": {"application/json": {"schema": r(req)}}});
        }
        let entry = paths.entry(o.path.to_string()).or_insert_with(|| json!({}));
        entry[o.method] = operation;
    }
    json!({
        "openapi": "3.1.0",
        "info": {"title": "Rialto API", "version": env!("CARGO_PKG_VERSION"),
                 "description": "Accounts, a double-entry ledger and transfers. Amounts are integers in minor units."},
        "paths": paths,
        "components": {
            "schemas": with_webhook_schemas(schemas()),
            "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer"}},
        },
    })
}

/// `GET /openapi.json`
pub async fn openapi() -> Response {
    Json(spec()).into_response()
}

/// `GET /docs`: an interactive page with no outside resources: it reads `/openapi.json` and
/// sends requests from the browser.
pub async fn page() -> Response {
    ([(header::CONTENT_SECURITY_POLICY, DOCS_CSP)], Html(include_str!("docs.html"))).into_response()
}

/// `GET /docs/app.js`: the page's script (a file of its own, so the page's policy allows no
/// inline script).
pub async fn script() -> Response {
    ([(header::CONTENT_TYPE, "text/javascript; charset=utf-8")], include_str!("docs.js")).into_response()
}

/// What `/docs` may load: its own script, inline styles, requests to this server; no frames,
/// no forms, no other origin.
pub const DOCS_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; connect-src 'self'; \
     img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
