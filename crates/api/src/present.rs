//! Storage records to API JSON: the one place response shapes are defined.

use rialto_store::{
    AccountRecord, ApiKey, AuditRecord, CreditScoreRecord, EntryRecord, EventRecord, JournalRecord, ModelRecord,
    Output, Page, PaymentRecord, RefundRecord, RuleRecord, TransferRecord, UserRecord,
};
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// µs since epoch as RFC 3339 (UTC, microsecond precision).
pub fn time_text(us: i64) -> Value {
    let nanos = i128::from(us) * 1000;
    OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .map_or(Value::Null, Value::String)
}

/// A user.
pub fn user(u: &UserRecord) -> Value {
    json!({
        "id": u.id, "object": "user", "name": u.name, "email": u.email, "phone": u.phone,
        "role": u.role, "status": u.status.as_str(), "kyc_status": u.kyc_status.as_str(),
        "created_at": time_text(u.created_at_us), "updated_at": time_text(u.updated_at_us),
    })
}

/// An account with its balance.
pub fn account(r: &AccountRecord) -> Value {
    let a = &r.account;
    let posted = a.credits_posted.checked_sub(a.debits_posted);
    let available = posted.and_then(|p| p.checked_sub(a.debits_pending));
    json!({
        "id": a.id, "object": "account", "user_id": r.user_id, "name": r.name,
        "currency": a.currency.code(), "allow_negative_balance": a.allow_negative_balance,
        "status": a.status.as_str(),
        "balance": {
            "posted": posted, "pending_debits": a.debits_pending,
            "pending_credits": a.credits_pending, "available": available,
        },
        "totals": {
            "debits_posted": a.debits_posted, "credits_posted": a.credits_posted,
        },
        "metadata": r.metadata,
        "created_at": time_text(r.created_at_us), "updated_at": time_text(r.updated_at_us),
    })
}

/// A transfer.
pub fn transfer(r: &TransferRecord) -> Value {
    let t = &r.transfer;
    json!({
        "id": t.id, "object": "transfer",
        "source_account_id": t.source_account_id, "destination_account_id": t.destination_account_id,
        "amount": t.amount, "posted_amount": t.posted_amount, "currency": t.currency.code(),
        "status": t.status.as_str(), "pending": r.pending,
        "description": r.description, "reference": r.reference, "metadata": r.metadata,
        "expires_at": t.expires_at_us.map(time_text),
        "reversal_of": t.reversal_of, "reversed_by": t.reversed_by,
        "created_at": time_text(r.created_at_us), "updated_at": time_text(r.updated_at_us),
    })
}

/// A journal entry.
pub fn journal(j: &JournalRecord) -> Value {
    let lines: Vec<Value> = j
        .lines
        .iter()
        .map(|l| {
            json!({
                "account_id": l.account_id, "direction": l.direction.as_str(), "amount": l.amount,
                "currency": l.currency.code(), "balance_after": l.balance_after,
            })
        })
        .collect();
    json!({
        "id": j.id, "object": "journal_entry", "description": j.description, "metadata": j.metadata,
        "lines": lines, "created_at": time_text(j.created_at_us),
    })
}

/// Entry ids are `ent_<sequence>`.
pub fn entry_id(seq: i64) -> String {
    format!("ent_{seq}")
}

/// A ledger entry.
pub fn entry(e: &EntryRecord) -> Value {
    json!({
        "id": entry_id(e.seq), "object": "entry", "account_id": e.account_id,
        "transfer_id": e.transfer_id, "journal_entry_id": e.journal_entry_id,
        "direction": e.direction.as_str(), "amount": e.amount, "currency": e.currency.code(),
        "balance_after": e.balance_after, "created_at": time_text(e.created_at_us),
    })
}

/// A list page.
pub fn page<T>(p: &Page<T>, f: impl Fn(&T) -> Value) -> Value {
    json!({"object": "list", "data": p.data.iter().map(f).collect::<Vec<_>>(), "has_more": p.has_more})
}

/// An API key (never its secret).
pub fn api_key(k: &ApiKey) -> Value {
    json!({
        "id": k.id, "object": "api_key", "name": k.name, "role": k.role.as_str(), "prefix": k.prefix,
        "created_at": time_text(k.created_at_us), "revoked_at": k.revoked_at_us.map(time_text),
    })
}

/// Whatever a ledger command produced.
pub fn output(o: &Output) -> Value {
    match o {
        Output::User(u) => user(u),
        Output::Account(a) => account(a),
        Output::Transfer(t) => transfer(t),
        Output::Journal(j) => journal(j),
        Output::ApiKey(k) => api_key(k),
        Output::Payment(p) => payment(p),
        Output::Refund(r) => {
            let mut v = refund(&r.0);
            v["payment"] = payment(&r.1);
            v
        }
        Output::Settlements(list) => {
            json!({"object": "list", "data": list.iter().map(settlement).collect::<Vec<_>>(), "has_more": false})
        }
        Output::WebhookEndpoint(e) => json!({"id": e.id, "object": "webhook_endpoint", "url": e.url}),
        Output::Rule(r) => risk_rule(r),
        Output::ListItem(list, value, on) => {
            json!({"object": "risk_list_item", "list": list, "value": value, "on_list": on})
        }
        Output::Label(l) => label(l),
        Output::Model(m) => risk_model(m),
        Output::CreditScore(c) => credit_score(c),
        Output::Recorded => json!({"object": "audit_record"}),
    }
}

/// Event ids in lists: `evt_<sequence>` is the cursor; the stored id is unique too.
pub fn event(e: &EventRecord) -> Value {
    let data: Value = serde_json::from_str(&e.data).unwrap_or(Value::Null);
    json!({
        "id": e.id, "object": "event", "sequence": e.seq, "type": e.kind,
        "resource_type": e.resource_type, "resource_id": e.resource_id, "data": data,
        "request_id": e.request_id, "created_at": time_text(e.created_at_us),
    })
}

/// An audit record, with its chain hashes.
pub fn audit(a: &AuditRecord) -> Value {
    let details: Value = serde_json::from_str(&a.details).unwrap_or(Value::Null);
    json!({
        "id": a.id, "object": "audit_event", "sequence": a.seq, "actor": a.actor, "action": a.action,
        "resource_type": a.resource_type, "resource_id": a.resource_id, "result": a.result,
        "request_id": a.request_id, "ip": a.ip, "details": details, "created_at": time_text(a.created_at_us),
        "prev_hash": a.prev_hash, "hash": a.hash,
    })
}

/// A refund.
pub fn refund(r: &RefundRecord) -> Value {
    json!({
        "id": r.id, "object": "refund", "payment_id": r.payment_id, "amount": r.amount,
        "transfer_id": r.transfer_id, "reason": r.reason, "created_at": time_text(r.created_at_us),
    })
}

/// A payment with its status history and refunds.
pub fn payment(p: &PaymentRecord) -> Value {
    let context = rialto_store::context_value(&p.context);
    let history: Vec<Value> = p
        .transitions
        .iter()
        .map(|t| json!({"from": t.from.map(|s| s.as_str()), "to": t.to.as_str(), "reason": t.reason, "at": time_text(t.at_us)}))
        .collect();
    json!({
        "id": p.id, "object": "payment", "user_id": p.user_id,
        "source_account_id": p.source_account_id, "destination_account_id": p.destination_account_id,
        "amount": p.amount, "currency": p.currency.code(), "type": p.kind.as_str(), "method": p.method.as_str(),
        "status": p.status.as_str(), "amount_refunded": p.refunded_amount, "transfer_id": p.transfer_id,
        "reference": p.reference, "description": p.description, "metadata": p.metadata, "context": context,
        "failure_code": p.failure_code, "failure_reason": p.failure_reason,
        "risk_assessment_id": p.risk_assessment_id,
        "history": history, "refunds": p.refunds.iter().map(refund).collect::<Vec<_>>(),
        "created_at": time_text(p.created_at_us), "updated_at": time_text(p.updated_at_us),
    })
}

/// A settlement batch with its payments.
pub fn settlement(s: &rialto_store::SettlementRecord) -> Value {
    let payments: Vec<Value> =
        s.payments.iter().map(|(id, amount)| json!({"payment_id": id, "amount": amount})).collect();
    json!({
        "id": s.id, "object": "settlement", "destination_account_id": s.destination_account_id,
        "currency": s.currency.code(), "status": s.status.as_str(), "payment_count": s.payment_count,
        "gross": s.gross, "fees": s.fees, "net": s.net, "journal_entry_id": s.journal_entry_id,
        "failure_reason": s.failure_reason, "payments": payments, "created_at": time_text(s.created_at_us),
    })
}

/// A payment label.
pub fn label(l: &rialto_store::LabelRecord) -> Value {
    json!({
        "id": l.id, "object": "payment_label", "payment_id": l.payment_id, "label": l.label,
        "source": l.source, "note": l.note, "actor": l.actor, "created_at": time_text(l.created_at_us),
    })
}

/// A stored rule as JSON: the document with its version.
pub fn risk_rule(r: &RuleRecord) -> Value {
    let document: Value = serde_json::from_str(&r.document).unwrap_or(Value::Null);
    json!({"id": r.id, "object": "risk_rule", "version": r.version, "deleted": r.deleted,
           "document": document, "updated_at": time_text(r.updated_at_us)})
}

/// A model as JSON (without its artifact).
pub fn risk_model(m: &ModelRecord) -> Value {
    let parse = |t: &str| serde_json::from_str::<Value>(t).unwrap_or(Value::Null);
    let time = |t: Option<i64>| t.map(time_text);
    json!({
        "id": m.id, "object": "risk_model", "name": m.name, "version": m.version, "type": m.kind,
        "status": m.status.as_str(), "features": m.features, "metadata": parse(&m.metadata),
        "merchant_risk": parse(&m.merchant_risk), "dataset_rows": m.dataset_rows,
        "trained_at": time(m.trained_at_us), "challenger_share_bp": m.challenger_share_bp,
        "deployed_at": time(m.deployed_at_us), "previous_id": m.previous_id, "error": m.error,
        "created_by": m.created_by, "created_at": time_text(m.created_at_us),
        "updated_at": time_text(m.updated_at_us),
    })
}

/// A kept credit score as JSON: the answer as given, its applicant and time.
pub fn credit_score(r: &CreditScoreRecord) -> Value {
    let mut v: Value = serde_json::from_str(&r.answer).unwrap_or_else(|_| json!({}));
    v["id"] = json!(r.id);
    v["applicant"] = serde_json::from_str(&r.applicant).unwrap_or(Value::Null);
    v["created_at"] = time_text(r.created_at_us);
    v
}

/// A model's merchant risk table as it is stored: `{"merchants": {id: risk}, "default": risk}`.
pub(crate) fn merchant_risk(table: &std::collections::BTreeMap<String, f64>, default: f64) -> String {
    json!({"merchants": table, "default": default}).to_string()
}
