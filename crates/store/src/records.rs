//! Database rows as Rust values, and their conversion from `Any` rows.

use crate::sql::Get;
use rialto_core::ledger::{Account, AccountStatus, Direction, Transfer, TransferStatus};
use rialto_core::Currency;
pub use rialto_ledger::{AccountRecord, JournalLine, JournalRecord, TransferRecord, UserRecord};
use rialto_payments::{KycStatus, UserStatus};

use crate::db::StoreError;

pub use rialto_core::Metadata;

/// One ledger entry: a debit or credit of one account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryRecord {
    /// Position in the ledger (increasing per account in commit order).
    pub seq: i64,
    /// Account.
    pub account_id: String,
    /// The transfer that made it, if any.
    pub transfer_id: Option<String>,
    /// The journal entry that made it, if any.
    pub journal_entry_id: Option<String>,
    /// Debit or credit.
    pub direction: Direction,
    /// Amount, minor units.
    pub amount: i64,
    /// Currency.
    pub currency: Currency,
    /// The account's posted balance after this entry.
    pub balance_after: i64,
    /// Time, µs.
    pub created_at_us: i64,
}

pub(crate) fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

pub(crate) fn currency(code: &str) -> Result<Currency, StoreError> {
    Currency::parse(code).map_err(|_| corrupt(format!("unknown currency {code}")))
}

pub(crate) fn metadata_from(text: &str) -> Result<Metadata, StoreError> {
    serde_json::from_str(text).map_err(|e| corrupt(format!("metadata: {e}")))
}

pub(crate) fn metadata_text(m: &Metadata) -> String {
    serde_json::to_string(m).unwrap_or_else(|_| "{}".to_string())
}

/// A stored enum's text (`parse` is its `string_enum!` parser); an unknown one is a corrupt row.
pub(crate) fn stored<T>(what: &str, text: &str, parse: fn(&str) -> Option<T>) -> Result<T, StoreError> {
    parse(text).ok_or_else(|| corrupt(format!("{what} {text}")))
}

pub(crate) const USER_COLUMNS: &str = "id, name, email, phone, role, status, kyc_status, created_at, updated_at";

/// A stored user status.
pub(crate) fn user_status(text: &str) -> Result<UserStatus, StoreError> {
    stored("user status", text, UserStatus::parse)
}

/// A stored KYC status.
pub(crate) fn kyc_status(text: &str) -> Result<KycStatus, StoreError> {
    stored("kyc status", text, KycStatus::parse)
}

pub(crate) fn user_from_row(r: &impl Get) -> Result<UserRecord, StoreError> {
    Ok(UserRecord {
        id: r.col("id")?,
        name: r.col("name")?,
        email: r.col("email")?,
        phone: r.col("phone")?,
        role: r.col("role")?,
        status: user_status(&r.col::<String>("status")?)?,
        kyc_status: kyc_status(&r.col::<String>("kyc_status")?)?,
        created_at_us: r.col("created_at")?,
        updated_at_us: r.col("updated_at")?,
    })
}

pub(crate) const ACCOUNT_COLUMNS: &str = "id, user_id, name, currency, allow_negative_balance, status, \
     debits_posted, credits_posted, debits_pending, credits_pending, metadata, created_at, updated_at";

pub(crate) fn account_from_row(r: &impl Get) -> Result<AccountRecord, StoreError> {
    let status: String = r.col("status")?;
    let currency_code: String = r.col("currency")?;
    let metadata: String = r.col("metadata")?;
    Ok(AccountRecord {
        account: Account {
            id: r.col("id")?,
            currency: currency(&currency_code)?,
            allow_negative_balance: r.col::<i64>("allow_negative_balance")? != 0,
            status: stored("account status", &status, AccountStatus::parse)?,
            debits_posted: r.col("debits_posted")?,
            credits_posted: r.col("credits_posted")?,
            debits_pending: r.col("debits_pending")?,
            credits_pending: r.col("credits_pending")?,
        },
        user_id: r.col("user_id")?,
        name: r.col("name")?,
        metadata: metadata_from(&metadata)?,
        created_at_us: r.col("created_at")?,
        updated_at_us: r.col("updated_at")?,
    })
}

pub(crate) const TRANSFER_COLUMNS: &str = "id, source_account_id, destination_account_id, currency, amount, \
     posted_amount, status, pending, description, reference, metadata, expires_at, reversal_of, reversed_by, \
     created_at, updated_at";

pub(crate) fn transfer_from_row(r: &impl Get) -> Result<TransferRecord, StoreError> {
    let status: String = r.col("status")?;
    let currency_code: String = r.col("currency")?;
    let metadata: String = r.col("metadata")?;
    Ok(TransferRecord {
        transfer: Transfer {
            id: r.col("id")?,
            source_account_id: r.col("source_account_id")?,
            destination_account_id: r.col("destination_account_id")?,
            currency: currency(&currency_code)?,
            amount: r.col("amount")?,
            posted_amount: r.col("posted_amount")?,
            status: stored("transfer status", &status, TransferStatus::parse)?,
            expires_at_us: r.col("expires_at")?,
            reversal_of: r.col("reversal_of")?,
            reversed_by: r.col("reversed_by")?,
        },
        pending: r.col::<i64>("pending")? != 0,
        description: r.col("description")?,
        reference: r.col("reference")?,
        metadata: metadata_from(&metadata)?,
        created_at_us: r.col("created_at")?,
        updated_at_us: r.col("updated_at")?,
    })
}

pub(crate) const ENTRY_COLUMNS: &str =
    "seq, account_id, transfer_id, journal_entry_id, direction, amount, currency, balance_after, created_at";

pub(crate) fn entry_from_row(r: &impl Get) -> Result<EntryRecord, StoreError> {
    let direction: String = r.col("direction")?;
    let currency_code: String = r.col("currency")?;
    Ok(EntryRecord {
        seq: r.col("seq")?,
        account_id: r.col("account_id")?,
        transfer_id: r.col("transfer_id")?,
        journal_entry_id: r.col("journal_entry_id")?,
        direction: stored("direction", &direction, Direction::parse)?,
        amount: r.col("amount")?,
        currency: currency(&currency_code)?,
        balance_after: r.col("balance_after")?,
        created_at_us: r.col("created_at")?,
    })
}

/// A payment context as stored and answered: only the fields that are set, as the client sent
/// them (`{"device_id": …, "ip_address": …, "merchant_id": …, "location": {"country", "lat",
/// "lon"}}`).
pub fn context_value(c: &rialto_payments::PaymentContext) -> serde_json::Value {
    use serde_json::{Map, Value};
    let mut out = Map::new();
    let fields = [
        ("device_id", &c.device_id),
        ("ip_address", &c.ip_address),
        ("merchant_id", &c.merchant_id),
        ("card_bin", &c.card_bin),
    ];
    for (name, v) in fields {
        if let Some(v) = v {
            out.insert(name.into(), Value::String(v.clone()));
        }
    }
    if let Some(l) = &c.location {
        let mut loc = Map::new();
        if let Some(country) = &l.country {
            loc.insert("country".into(), Value::String(country.clone()));
        }
        for (name, v) in [("lat", l.lat), ("lon", l.lon)] {
            if let Some(n) = v.and_then(serde_json::Number::from_f64) {
                loc.insert(name.into(), Value::Number(n));
            }
        }
        out.insert("location".into(), Value::Object(loc));
    }
    if let Some(cp) = &c.counterparty {
        let mut m = Map::new();
        m.insert("name".into(), Value::String(cp.name.clone()));
        if let Some(country) = &cp.country {
            m.insert("country".into(), Value::String(country.clone()));
        }
        out.insert("counterparty".into(), Value::Object(m));
    }
    Value::Object(out)
}

/// The stored JSON text of a payment context.
pub fn context_json(c: &rialto_payments::PaymentContext) -> String {
    context_value(c).to_string()
}

/// A stored payment context (lenient: what does not parse is left out, as the risk engine
/// always read it).
pub fn context_from_json(text: &str) -> rialto_payments::PaymentContext {
    let v: serde_json::Value = serde_json::from_str(text).unwrap_or_default();
    let s = |v: &serde_json::Value| v.as_str().map(str::to_string);
    let l = &v["location"];
    rialto_payments::PaymentContext {
        device_id: s(&v["device_id"]),
        ip_address: s(&v["ip_address"]),
        merchant_id: s(&v["merchant_id"]),
        card_bin: s(&v["card_bin"]),
        location: l.is_object().then(|| rialto_payments::Location {
            country: s(&l["country"]),
            lat: l["lat"].as_f64(),
            lon: l["lon"].as_f64(),
        }),
        counterparty: s(&v["counterparty"]["name"])
            .map(|name| rialto_payments::Counterparty { name, country: s(&v["counterparty"]["country"]) }),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use rialto_payments::{Location, PaymentContext};

    #[test]
    fn a_context_is_stored_as_the_client_sent_it_and_reads_back() {
        let stored =
            r#"{"device_id":"d1","ip_address":"203.0.113.7","location":{"country":"DE","lat":52.5,"lon":13.4}}"#;
        let c = context_from_json(stored);
        let want = PaymentContext {
            device_id: Some("d1".into()),
            ip_address: Some("203.0.113.7".into()),
            location: Some(Location { country: Some("DE".into()), lat: Some(52.5), lon: Some(13.4) }),
            ..PaymentContext::default()
        };
        assert_eq!(c, want);
        assert_eq!(context_json(&c), stored, "the same text as 0.1 stored");
        assert_eq!(context_json(&PaymentContext::default()), "{}");
        assert_eq!(context_from_json("not json"), PaymentContext::default());
        let merchant = PaymentContext { merchant_id: Some("m1".into()), card_bin: Some("424242".into()), ..c };
        assert_eq!(context_from_json(&context_json(&merchant)), merchant);
    }
}
