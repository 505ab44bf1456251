//! Parsing request bodies into domain types at the edge, with precise errors: which field,
//! which code. Bodies are JSON objects; unknown fields are refused.

use rialto_core::ids::Id;
use std::collections::BTreeMap;

use rialto_core::{Amount, AmountError, Currency};
use serde_json::{Map, Value};

use crate::error::ApiError;
use axum::http::StatusCode;

/// Most metadata pairs on one object.
pub const METADATA_KEYS_MAX: usize = 50;
/// Longest metadata key, characters.
pub const METADATA_KEY_CHARS_MAX: usize = 40;
/// Longest metadata value, characters.
pub const METADATA_VALUE_CHARS_MAX: usize = 500;

/// The fields of a JSON object body, consumed one by one.
pub struct Fields {
    map: Map<String, Value>,
}

impl Fields {
    /// Parses `body` (empty means `{}`) and refuses fields not in `allowed`.
    pub fn parse(body: &[u8], allowed: &[&str]) -> Result<Fields, ApiError> {
        let value: Value = if body.iter().all(u8::is_ascii_whitespace) {
            Value::Object(Map::new())
        } else {
            serde_json::from_slice(body).map_err(|e| ApiError::invalid(format!("malformed JSON body: {e}")))?
        };
        let Value::Object(map) = value else {
            return Err(ApiError::invalid("the body must be a JSON object"));
        };
        if let Some(unknown) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(ApiError::invalid(format!("unknown field `{unknown}`")).param(unknown.clone()));
        }
        Ok(Fields { map })
    }

    fn take(&mut self, name: &str) -> Option<Value> {
        match self.map.remove(name) {
            Some(Value::Null) | None => None,
            Some(v) => Some(v),
        }
    }

    /// A required string of at most `chars_max` characters.
    pub fn string(&mut self, name: &str, chars_max: usize) -> Result<String, ApiError> {
        self.opt_string(name, chars_max)?
            .ok_or_else(|| ApiError::invalid(format!("missing required field `{name}`")).param(name))
    }

    /// An optional string of at most `chars_max` characters.
    pub fn opt_string(&mut self, name: &str, chars_max: usize) -> Result<Option<String>, ApiError> {
        match self.take(name) {
            None => Ok(None),
            Some(Value::String(s)) if s.contains('\0') => {
                Err(ApiError::invalid(format!("`{name}` must not contain NUL characters")).param(name))
            }
            Some(Value::String(s)) if s.chars().count() <= chars_max => Ok(Some(s)),
            Some(Value::String(_)) => {
                Err(ApiError::invalid(format!("`{name}` must be at most {chars_max} characters")).param(name))
            }
            Some(_) => Err(ApiError::invalid(format!("`{name}` must be a string")).param(name)),
        }
    }

    /// An optional boolean.
    pub fn opt_bool(&mut self, name: &str) -> Result<Option<bool>, ApiError> {
        match self.take(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(b)),
            Some(_) => Err(ApiError::invalid(format!("`{name}` must be a boolean")).param(name)),
        }
    }

    /// An optional integer in `min..=max`.
    pub fn opt_int(&mut self, name: &str, min: i64, max: i64) -> Result<Option<i64>, ApiError> {
        match self.take(name) {
            None => Ok(None),
            Some(Value::Number(n)) => match n.as_i64() {
                Some(i) if (min..=max).contains(&i) => Ok(Some(i)),
                _ => Err(ApiError::invalid(format!("`{name}` must be an integer from {min} to {max}")).param(name)),
            },
            Some(_) => Err(ApiError::invalid(format!("`{name}` must be an integer")).param(name)),
        }
    }

    /// A required amount in minor units.
    pub fn amount(&mut self, name: &str) -> Result<Amount, ApiError> {
        match self.take(name) {
            None => Err(ApiError::invalid(format!("missing required field `{name}`")).param(name)),
            Some(v) => parse_amount(name, &v),
        }
    }

    /// An optional amount in minor units.
    pub fn opt_amount(&mut self, name: &str) -> Result<Option<Amount>, ApiError> {
        self.take(name).map(|v| parse_amount(name, &v)).transpose()
    }

    /// A required ISO 4217 currency code.
    pub fn currency(&mut self, name: &str) -> Result<Currency, ApiError> {
        match self.take(name) {
            None => Err(ApiError::invalid(format!("missing required field `{name}`")).param(name)),
            Some(Value::String(s)) => Currency::parse(&s)
                .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_currency", e.to_string()).param(name)),
            Some(_) => {
                Err(ApiError::new(StatusCode::BAD_REQUEST, "invalid_currency", "currency must be a string").param(name))
            }
        }
    }

    /// Optional metadata: a bounded map of strings.
    pub fn metadata(&mut self, name: &str) -> Result<BTreeMap<String, String>, ApiError> {
        let bad = |m: String| Err(ApiError::invalid(m).param(name));
        let Some(v) = self.take(name) else {
            return Ok(BTreeMap::new());
        };
        let Value::Object(map) = v else {
            return bad(format!("`{name}` must be an object of strings"));
        };
        if map.len() > METADATA_KEYS_MAX {
            return bad(format!("`{name}` may hold at most {METADATA_KEYS_MAX} keys"));
        }
        let mut out = BTreeMap::new();
        for (k, v) in map {
            let Value::String(s) = v else {
                return bad(format!("`{name}.{k}` must be a string"));
            };
            if k.contains('\0') || s.contains('\0') {
                return bad(format!("`{name}` must not contain NUL characters"));
            }
            if k.is_empty() || k.chars().count() > METADATA_KEY_CHARS_MAX {
                return bad(format!("`{name}` keys must be 1 to {METADATA_KEY_CHARS_MAX} characters"));
            }
            if s.chars().count() > METADATA_VALUE_CHARS_MAX {
                return bad(format!("`{name}.{k}` must be at most {METADATA_VALUE_CHARS_MAX} characters"));
            }
            out.insert(k, s);
        }
        Ok(out)
    }

    /// An optional value of any JSON type.
    pub fn opt_value(&mut self, name: &str) -> Option<Value> {
        self.take(name)
    }

    /// An optional JSON object.
    pub fn opt_object(&mut self, name: &str) -> Result<Option<serde_json::Map<String, Value>>, ApiError> {
        match self.take(name) {
            None => Ok(None),
            Some(Value::Object(m)) => Ok(Some(m)),
            Some(_) => Err(ApiError::invalid(format!("`{name}` must be an object")).param(name)),
        }
    }

    /// A required array.
    pub fn array(&mut self, name: &str) -> Result<Vec<Value>, ApiError> {
        match self.take(name) {
            None => Err(ApiError::invalid(format!("missing required field `{name}`")).param(name)),
            Some(Value::Array(a)) => Ok(a),
            Some(_) => Err(ApiError::invalid(format!("`{name}` must be an array")).param(name)),
        }
    }
}

/// An amount: a JSON integer in `1..=AMOUNT_MAX_MINOR`. Anything else is `invalid_amount`.
pub fn parse_amount(name: &str, v: &Value) -> Result<Amount, ApiError> {
    let err = |m: String| ApiError::new(StatusCode::BAD_REQUEST, "invalid_amount", m).param(name);
    let Value::Number(n) = v else {
        return Err(err(format!("`{name}` must be an integer number of minor units")));
    };
    let Some(minor) = n.as_i64() else {
        if n.as_u64().is_some() {
            return Err(err(AmountError::TooLarge.to_string()));
        }
        return Err(err(format!("`{name}` must be an integer number of minor units, not {n}")));
    };
    Amount::new(minor).map_err(|e| err(e.to_string()))
}

/// Validates an id path or body value: an id of kind `I` (`<prefix>_<32 hex>`) or 404 naming
/// the kind. Returns the id as text while records hold ids as text.
pub fn id_of<I: Id>(id: &str) -> Result<String, ApiError> {
    match I::parse(id) {
        Some(parsed) => Ok(parsed.to_string()),
        None => Err(ApiError::not_found(I::NOUN, id)),
    }
}

/// The `{id}` of a path. A segment that does not decode becomes a 404 in our error shape.
pub struct PathId(pub String);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for PathId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<String>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(id)) => Ok(PathId(id)),
            Err(_) => Err(ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such resource")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn amounts() {
        let cases: &[(Value, Result<i64, &str>)] = &[
            (json!(1050), Ok(1050)),
            (json!(0), Err("invalid_amount")),
            (json!(-1), Err("invalid_amount")),
            (json!(10.5), Err("invalid_amount")),
            (json!(1e20), Err("invalid_amount")),
            (json!(u64::MAX), Err("invalid_amount")),
            (json!("100"), Err("invalid_amount")),
            (json!(1_000_000_000_000_001_i64), Err("invalid_amount")),
        ];
        for (v, want) in cases {
            let got = parse_amount("amount", v).map(Amount::minor).map_err(|e| e.code);
            assert_eq!(&got, want, "{v}");
        }
    }

    #[test]
    fn fields() {
        assert_eq!(Fields::parse(b"{\"x\":1}", &["a"]).err().map(|e| e.param), Some(Some("x".into())));
        assert!(Fields::parse(b"[1]", &["a"]).is_err());
        assert!(Fields::parse(b"{", &["a"]).is_err());
        assert!(Fields::parse(b"  ", &["a"]).is_ok());
        let mut f = Fields::parse(b"{\"metadata\":{\"k\":1}}", &["metadata"]).unwrap_or_else(|_| panic!("parses"));
        assert!(f.metadata("metadata").is_err());
    }
}
