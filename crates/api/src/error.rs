//! The one error shape of the API and the one place domain errors become HTTP.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use rialto_core::ledger::LedgerError;
use rialto_store::CommandError;
use serde_json::json;

/// Most problems listed in one error.
const PROBLEMS_MAX: usize = 50;

/// Longest error message sent.
const MESSAGE_CHARS_MAX: usize = 500;

/// An API error: `{"error": {"type", "code", "message", "param"}}`.
#[derive(Debug, Clone)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable machine-readable code.
    pub code: &'static str,
    /// Human-readable explanation.
    pub message: String,
    /// The request field concerned, if any.
    pub param: Option<String>,
    /// Every problem when there are several (`[{"param", "message"}]`), the first also in
    /// `param` and `message`.
    pub problems: Vec<(String, String)>,
}

impl ApiError {
    /// A new error.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError { status, code, message: message.into(), param: None, problems: Vec::new() }
    }

    /// 400 `invalid_rule` listing every problem of a rule document; `prefix` is where the
    /// document sits in the body (`$` for the body itself).
    pub fn invalid_rule(problems: Vec<rialto_risk::RuleError>, prefix: &str) -> ApiError {
        let problems: Vec<(String, String)> =
            problems.into_iter().map(|e| (e.path.replacen('$', prefix, 1), e.message)).collect();
        let (param, message) = problems.first().cloned().unwrap_or_default();
        let message = match problems.len() {
            0 | 1 => message,
            n => format!("{message} (and {} more problems: see `problems`)", n - 1),
        };
        let mut e = ApiError::new(StatusCode::BAD_REQUEST, "invalid_rule", message).param(param);
        if e.problems.is_empty() && problems.len() > 1 {
            e.problems = problems;
        }
        e
    }

    /// Names the offending field.
    pub fn param(mut self, param: impl Into<String>) -> ApiError {
        self.param = Some(param.into());
        self
    }

    /// 400 `invalid_request`.
    pub fn invalid(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", message)
    }

    /// 404 `not_found`.
    pub fn not_found(what: &str, id: &str) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", format!("no {what} `{}`", echo(id)))
    }

    /// 413 `payload_too_large`: a body over its route's limit.
    pub fn payload_too_large() -> ApiError {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "request bodies are limited to 1 MiB (model uploads to 64 MiB)",
        )
    }

    /// 503 `storage_unavailable`: the database failed; nothing was applied unless said.
    pub fn unavailable(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "storage_unavailable", message)
    }

    fn kind(&self) -> &'static str {
        match self.status.as_u16() {
            401 | 403 => "authentication_error",
            409 if self.code.starts_with("idempotency") => "idempotency_error",
            422 if self.code.starts_with("idempotency") => "idempotency_error",
            402 | 409 | 422 => "ledger_error",
            400..=499 => "invalid_request_error",
            _ => "api_error",
        }
    }

    /// The JSON body.
    pub fn body(&self) -> serde_json::Value {
        // Messages quote what clients sent, cut by `input::echo`; this bounds whatever slipped by.
        let message: String = self.message.chars().take(MESSAGE_CHARS_MAX).collect();
        let param = self.param.as_deref().map(echo);
        let mut error = json!({"type": self.kind(), "code": self.code, "message": message, "param": param});
        if !self.problems.is_empty() {
            let problems: Vec<serde_json::Value> = self
                .problems
                .iter()
                .take(PROBLEMS_MAX)
                .map(|(param, message)| json!({"param": param, "message": message}))
                .collect();
            error["problems"] = serde_json::Value::Array(problems);
        }
        json!({ "error": error })
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(self.body())).into_response()
    }
}

impl From<rialto_store::StoreError> for ApiError {
    fn from(e: rialto_store::StoreError) -> Self {
        tracing::error!(error = %e, "storage error");
        ApiError::unavailable("the database is unavailable; retry later")
    }
}

impl From<&CommandError> for ApiError {
    fn from(e: &CommandError) -> Self {
        use StatusCode as S;
        let msg = e.to_string();
        match e {
            CommandError::UserNotFound(_) => ApiError::new(S::NOT_FOUND, "not_found", msg).param("user_id"),
            CommandError::Unavailable(m) => ApiError::unavailable(m.clone()),
            CommandError::RuleExists(_) => ApiError::new(S::CONFLICT, "rule_exists", msg).param("id"),
            CommandError::ModelState(_) => ApiError::new(S::CONFLICT, "model_state", msg),
            CommandError::ListShrank { .. } => ApiError::new(S::CONFLICT, "list_shrank", msg).param("allow_shrink"),
            CommandError::ApiKeyNotFound(_)
            | CommandError::PaymentNotFound(_)
            | CommandError::RuleNotFound(_)
            | CommandError::ModelNotFound(_)
            | CommandError::WebhookEndpointNotFound(_)
            | CommandError::KycDocumentNotFound(_)
            | CommandError::CaseNotFound(_) => ApiError::new(S::NOT_FOUND, "not_found", msg),
            CommandError::CaseState(_) => ApiError::new(S::CONFLICT, "case_state", msg),
            CommandError::ReconNotFound(_) => ApiError::new(S::NOT_FOUND, "not_found", msg),
            CommandError::ReconState(_) => ApiError::new(S::CONFLICT, "reconciliation_state", msg),
            CommandError::ReconInvalid(_) => ApiError::new(S::UNPROCESSABLE_ENTITY, "statement_invalid", msg),
            CommandError::ReconConflict(_) => ApiError::new(S::CONFLICT, "statement_conflict", msg),
            CommandError::InvalidStateTransition { .. } => ApiError::new(S::CONFLICT, "invalid_state_transition", msg),
            CommandError::RefundExceedsPayment { .. } => {
                ApiError::new(S::UNPROCESSABLE_ENTITY, "refund_exceeds_payment", msg).param("amount")
            }
            CommandError::Ledger(l) => match l {
                LedgerError::AccountNotFound(_) => ApiError::new(S::NOT_FOUND, "not_found", msg),
                LedgerError::TransferNotFound(_) => ApiError::new(S::NOT_FOUND, "not_found", msg),
                LedgerError::CurrencyMismatch { .. } => {
                    ApiError::new(S::UNPROCESSABLE_ENTITY, "currency_mismatch", msg).param("currency")
                }
                LedgerError::InsufficientFunds(_) => ApiError::new(S::UNPROCESSABLE_ENTITY, "insufficient_funds", msg),
                LedgerError::AccountFrozen(_) => ApiError::new(S::UNPROCESSABLE_ENTITY, "account_frozen", msg),
                LedgerError::AccountClosed(_) => ApiError::new(S::UNPROCESSABLE_ENTITY, "account_closed", msg),
                LedgerError::SameAccount => ApiError::invalid(msg).param("destination_account_id"),
                LedgerError::InvalidTransferState { .. } => ApiError::new(S::CONFLICT, "invalid_transfer_state", msg),
                LedgerError::InvalidAccountState { .. } => ApiError::new(S::CONFLICT, "invalid_account_state", msg),
                LedgerError::TransferExpired(_) => ApiError::new(S::UNPROCESSABLE_ENTITY, "transfer_expired", msg),
                LedgerError::PostExceedsPending { .. } => {
                    ApiError::new(S::UNPROCESSABLE_ENTITY, "amount_exceeds_pending", msg).param("amount")
                }
                LedgerError::AlreadyReversed(_) => ApiError::new(S::CONFLICT, "already_reversed", msg),
                LedgerError::ReversalOfReversal(_) => ApiError::new(S::UNPROCESSABLE_ENTITY, "invalid_reversal", msg),
                LedgerError::Unbalanced { .. } => {
                    ApiError::new(S::UNPROCESSABLE_ENTITY, "unbalanced_entry", msg).param("lines")
                }
                LedgerError::BalanceNotZero(_) => ApiError::new(S::UNPROCESSABLE_ENTITY, "balance_not_zero", msg),
                LedgerError::Overflow => ApiError::new(S::UNPROCESSABLE_ENTITY, "amount_overflow", msg),
            },
        }
    }
}

/// Most characters of a client's text an error message repeats; the rest is cut.
pub const ECHO_CHARS_MAX: usize = 64;

/// A client's text as an error message repeats it: at most [`ECHO_CHARS_MAX`] characters,
/// control characters escaped.
pub fn echo(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars().take(ECHO_CHARS_MAX) {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    if text.chars().nth(ECHO_CHARS_MAX).is_some() {
        out.push('…');
    }
    out
}
