//! Parsing request bodies into domain types at the edge, with precise errors: which field,
//! which code. Bodies are JSON objects; unknown fields are refused.

use rialto_core::ids::Id;
use std::collections::BTreeMap;

use rialto_core::{Amount, AmountError, Currency};
use serde_json::{Map, Value};

use crate::error::{echo, ApiError};
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
    /// Parses `body` (empty means `{}`) as the request type `T`: fields its schema does not
    /// name are refused, so what is accepted is what the API description says.
    pub fn of<T: utoipa::ToSchema>(body: &[u8]) -> Result<Fields, ApiError> {
        let names = field_names::<T>();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        Fields::parse(body, &names)
    }

    /// Parses `body` (empty means `{}`) and refuses fields not in `allowed`.
    pub fn parse(body: &[u8], allowed: &[&str]) -> Result<Fields, ApiError> {
        let value: Value =
            if body.iter().all(u8::is_ascii_whitespace) { Value::Object(Map::new()) } else { json_body(body)? };
        let Value::Object(map) = value else {
            return Err(ApiError::invalid("the body must be a JSON object"));
        };
        if let Some(unknown) = map.keys().find(|k| !allowed.contains(&k.as_str())) {
            return Err(ApiError::invalid(format!("unknown field `{}`", echo(unknown))).param(echo(unknown)));
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

/// The property names of the object schema of `T` (none for another schema).
pub fn field_names<T: utoipa::ToSchema>() -> Vec<String> {
    use utoipa::openapi::schema::Schema;
    use utoipa::openapi::RefOr;
    match T::schema() {
        RefOr::T(Schema::Object(o)) => o.properties.keys().cloned().collect(),
        _ => Vec::new(),
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

/// Validates an id in a path, a query or a body: an id of kind `I` (`<prefix>_<32 hex>`), or
/// 400 `invalid_id` naming the kind, before anything reaches the database. The `param` is `id`
/// (a path's); callers name a query's or a body's field. Returns the id as text while records
/// hold ids as text.
pub fn id_of<I: Id>(id: &str) -> Result<String, ApiError> {
    match I::parse(id) {
        Some(parsed) => Ok(parsed.to_string()),
        None => Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_id",
            format!("`{}` is not a {} id (`{}_` and 32 lowercase hex digits)", echo(id), I::NOUN, I::PREFIX),
        )
        .param("id")),
    }
}

/// Longest path segment or query value, characters.
pub const SEGMENT_CHARS_MAX: usize = 256;

/// A name an operator chose (a risk rule id, a list name): 1 to 64 letters, digits, `_`, `-`.
pub fn is_slug(text: &str) -> bool {
    (1..=64).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// Refuses a path segment or query value that holds control characters (NUL among them) or is
/// longer than [`SEGMENT_CHARS_MAX`]: 400, naming `param`.
pub fn clean_text(param: &str, text: &str) -> Result<(), ApiError> {
    if text.chars().any(char::is_control) {
        return Err(
            ApiError::invalid(format!("`{}` must not contain control characters", echo(param))).param(echo(param))
        );
    }
    if text.chars().count() > SEGMENT_CHARS_MAX {
        let message = format!("`{}` must be at most {SEGMENT_CHARS_MAX} characters", echo(param));
        return Err(ApiError::invalid(message).param(echo(param)));
    }
    Ok(())
}

/// The segments of a path, decoded and checked by [`clean_text`]. A segment that is not UTF-8
/// once decoded is a 400 in the API's error shape.
async fn path_segments(parts: &mut axum::http::request::Parts) -> Result<Vec<String>, ApiError> {
    use axum::extract::rejection::RawPathParamsRejection;
    use axum::extract::{FromRequestParts, RawPathParams};
    let raw = RawPathParams::from_request_parts(parts, &()).await.map_err(|e| match e {
        RawPathParamsRejection::InvalidUtf8InPathParam(_) => {
            ApiError::invalid("a path parameter is not valid UTF-8 once decoded")
        }
        _ => ApiError::invalid("the path could not be read"),
    })?;
    let mut out = Vec::new();
    for (name, value) in &raw {
        clean_text(name, value)?;
        out.push(value.to_string());
    }
    Ok(out)
}

/// The one `{…}` of a path, checked by [`clean_text`].
pub struct PathId(pub String);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for PathId {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, Self::Rejection> {
        let mut segments = path_segments(parts).await?;
        match (segments.pop(), segments.is_empty()) {
            (Some(id), true) => Ok(PathId(id)),
            _ => Err(ApiError::invalid("this route takes one path parameter")),
        }
    }
}

/// The two `{…}` of a path, checked by [`clean_text`].
pub struct PathPair(pub String, pub String);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for PathPair {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, Self::Rejection> {
        let segments = path_segments(parts).await?;
        match <[String; 2]>::try_from(segments) {
            Ok([a, b]) => Ok(PathPair(a, b)),
            Err(_) => Err(ApiError::invalid("this route takes two path parameters")),
        }
    }
}

/// Most nesting of a JSON body.
const JSON_DEPTH_MAX: usize = 32;

/// A JSON body, refusing what `serde_json` alone lets through: a key repeated in one object
/// (`{"amount":1,"amount":7}` would move 7) and nesting deeper than [`JSON_DEPTH_MAX`].
pub fn json_body(body: &[u8]) -> Result<Value, ApiError> {
    use serde::de::DeserializeSeed;
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = StrictValue { depth: 0 }
        .deserialize(&mut de)
        .and_then(|v| de.end().map(|()| v))
        .map_err(|e| ApiError::invalid(format!("malformed JSON body: {e}")))?;
    Ok(value)
}

/// A `serde_json::Value` seed that refuses duplicate keys and deep nesting.
#[derive(Clone, Copy)]
struct StrictValue {
    depth: usize,
}

impl<'de> serde::de::DeserializeSeed<'de> for StrictValue {
    type Value = Value;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for StrictValue {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let inner = self.nested()?;
        let mut out = Vec::new();
        while let Some(v) = seq.next_element_seed(inner)? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let inner = self.nested()?;
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if out.contains_key(&key) {
                return Err(serde::de::Error::custom(format!("the key `{}` appears twice", echo(&key))));
            }
            let v = map.next_value_seed(inner)?;
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
}

impl StrictValue {
    fn nested<E: serde::de::Error>(self) -> Result<StrictValue, E> {
        if self.depth >= JSON_DEPTH_MAX {
            return Err(E::custom(format!("JSON nested deeper than {JSON_DEPTH_MAX} levels")));
        }
        Ok(StrictValue { depth: self.depth + 1 })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ECHO_CHARS_MAX;
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

    #[test]
    fn strict_json() {
        let code = |b: &str| json_body(b.as_bytes()).map(|_| ()).map_err(|e| e.message);
        assert!(code(r#"{"amount":1,"amount":7}"#).is_err_and(|m| m.contains("appears twice")));
        assert!(code(r#"{"a":{"b":1,"b":2}}"#).is_err());
        assert!(code(r#"[{"k":1},{"k":2}]"#).is_ok());
        assert!(code(r#"{"a":1} x"#).is_err());
        assert!(code(&"[".repeat(40)).is_err());
        assert_eq!(json_body(br#"{"n":1.5,"s":"x","z":null}"#).ok(), Some(json!({"n":1.5,"s":"x","z":null})));
    }

    #[test]
    fn echoes_are_cut() {
        assert_eq!(echo("a\"c"), "a\"c");
        assert_eq!(echo("a\0b"), "a\\u{0}b");
        let long = "x".repeat(3000);
        assert_eq!(echo(&long).chars().count(), ECHO_CHARS_MAX + 1);
        assert!(clean_text("id", "a\0").is_err());
        assert!(clean_text("id", &long).is_err());
        assert!(clean_text("id", "acct_1").is_ok());
    }
}
