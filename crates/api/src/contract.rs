//! An operation of the API, declared once beside its handler: method, path, summary, the
//! permission it needs, the types of its request and answer, its query parameters. The router
//! (`crate::router`), the permission check (`crate::auth`) and the OpenAPI description
//! (`crate::docs`) are all read from these tables, so none of them can drift from another.

use std::borrow::Cow;

use axum::routing::{MethodFilter, MethodRouter};
use utoipa::openapi::schema::Schema as OpenApiSchema;
use utoipa::openapi::RefOr;
use utoipa::ToSchema;

use crate::permissions::Permission;
use crate::AppState;

/// Named schemas, as `utoipa` collects them for `components/schemas`.
pub type Components = Vec<(String, RefOr<OpenApiSchema>)>;

/// A type's schema: its name and how to collect it with the schemas it refers to.
#[derive(Clone, Copy)]
pub struct Schema {
    /// The component name (`User`, `PaymentList`, ...).
    pub name: fn() -> Cow<'static, str>,
    /// Adds the schema and every schema it refers to.
    pub collect: fn(&mut Components),
}

fn collect<T: ToSchema>(out: &mut Components) {
    out.push((T::name().into_owned(), T::schema()));
    T::schemas(out);
}

impl Schema {
    /// The schema of `T`.
    pub const fn of<T: ToSchema>() -> Schema {
        Schema { name: T::name, collect: collect::<T> }
    }
}

/// An HTTP method the API uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Get,
    Post,
    Put,
    Delete,
}

impl Verb {
    /// Lowercase, as OpenAPI keys operations.
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "get",
            Verb::Post => "post",
            Verb::Put => "put",
            Verb::Delete => "delete",
        }
    }

    /// The router's filter (a `GET` also answers `HEAD`).
    pub fn filter(self) -> MethodFilter {
        match self {
            Verb::Get => MethodFilter::GET,
            Verb::Post => MethodFilter::POST,
            Verb::Put => MethodFilter::PUT,
            Verb::Delete => MethodFilter::DELETE,
        }
    }

    /// True when `method` is this verb (`HEAD` counts as `GET`).
    pub fn matches(self, method: &axum::http::Method) -> bool {
        use axum::http::Method;
        matches!(
            (self, method),
            (Verb::Get, &Method::GET | &Method::HEAD)
                | (Verb::Post, &Method::POST)
                | (Verb::Put, &Method::PUT)
                | (Verb::Delete, &Method::DELETE)
        )
    }
}

/// What a successful answer carries.
#[derive(Clone, Copy)]
pub enum Answer {
    /// JSON of this type.
    Json(Schema),
    /// Text of this media type (`text/plain`, `text/html`).
    Text(&'static str),
    /// This very document.
    OpenApi,
}

/// One operation.
#[derive(Clone, Copy)]
pub struct Operation {
    pub verb: Verb,
    /// The route as the router declares it: `/v1/users/{id}`.
    pub path: &'static str,
    pub summary: &'static str,
    /// What the caller's key must allow; `None` for the public operations (no key).
    pub permission: Option<Permission>,
    /// The JSON body's type, if it takes one.
    pub request: Option<Schema>,
    /// The success status.
    pub status: u16,
    pub answer: Answer,
    /// Query parameters, by name (described in `crate::docs`).
    pub queries: &'static [&'static str],
    /// Whether a POST takes an `Idempotency-Key` (answers that hold a secret, and operations
    /// that change nothing, do not).
    pub idempotent: bool,
    /// A larger body limit than the default.
    pub body_limit: Option<usize>,
    /// The handler, routed for a method.
    pub handler: fn(MethodFilter) -> MethodRouter<AppState>,
}

/// The paging parameters of every list.
pub const PAGE: &[&str] = &["limit", "starting_after", "ending_before"];

impl Operation {
    /// An operation that answers `T` with 200 and needs `permission`.
    pub const fn new<T: ToSchema>(
        verb: Verb,
        path: &'static str,
        permission: Permission,
        summary: &'static str,
        handler: fn(MethodFilter) -> MethodRouter<AppState>,
    ) -> Operation {
        Operation {
            verb,
            path,
            summary,
            permission: Some(permission),
            request: None,
            status: 200,
            answer: Answer::Json(Schema::of::<T>()),
            queries: &[],
            idempotent: matches!(verb, Verb::Post),
            body_limit: None,
            handler,
        }
    }

    /// It takes a JSON body of type `T`.
    pub const fn body<T: ToSchema>(mut self) -> Operation {
        self.request = Some(Schema::of::<T>());
        self
    }

    /// It answers with `status` (201 for a creation, 202 for work started).
    pub const fn status(mut self, status: u16) -> Operation {
        self.status = status;
        self
    }

    /// It reads these query parameters.
    pub const fn queries(mut self, names: &'static [&'static str]) -> Operation {
        self.queries = names;
        self
    }

    /// A POST without `Idempotency-Key`.
    pub const fn without_idempotency(mut self) -> Operation {
        self.idempotent = false;
        self
    }

    /// Bodies up to `bytes`.
    pub const fn body_limit(mut self, bytes: usize) -> Operation {
        self.body_limit = Some(bytes);
        self
    }

    /// No API key needed.
    pub const fn public(mut self) -> Operation {
        self.permission = None;
        self
    }

    /// It answers text, not JSON.
    pub const fn text(mut self, media: &'static str) -> Operation {
        self.answer = Answer::Text(media);
        self
    }

    /// It answers the OpenAPI document.
    pub const fn openapi(mut self) -> Operation {
        self.answer = Answer::OpenApi;
        self
    }
}

/// `handler!(path::to::handler)`: the handler as [`Operation::handler`] wants it.
macro_rules! handler {
    ($h:path) => {
        |m| axum::routing::on(m, $h)
    };
}
pub(crate) use handler;

/// `names!(Type: "a", "b")`: a string schema of these values, for request fields.
macro_rules! names {
    ($(#[$meta:meta])* $name:ident: $($value:literal),+ $(,)?) => {
        $(#[$meta])*
        pub struct $name;
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::schema::Object::builder()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some([$($value),+]))
                    .into()
            }
        }
        impl utoipa::ToSchema for $name {
            fn name() -> std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }
        }
    };
}
pub(crate) use names;

/// Metadata: at most 50 keys of 1 to 40 characters, values of at most 500 characters.
pub struct MetadataMap;

impl utoipa::PartialSchema for MetadataMap {
    fn schema() -> RefOr<OpenApiSchema> {
        use utoipa::openapi::schema::{AdditionalProperties, Object, Type};
        let value = Object::builder().schema_type(Type::String).max_length(Some(500));
        Object::builder()
            .schema_type(Type::Object)
            .description(Some("String keys (1 to 40 characters) to string values (at most 500); at most 50 pairs"))
            .additional_properties(Some(AdditionalProperties::RefOr(RefOr::T(OpenApiSchema::Object(value.build())))))
            .max_properties(Some(50))
            .into()
    }
}

impl ToSchema for MetadataMap {
    fn name() -> Cow<'static, str> {
        "Metadata".into()
    }
}

/// `described!(Name, "what it holds")`: an object schema named `Name` whose fields are
/// described in prose (answers assembled by a domain crate as JSON).
macro_rules! described {
    ($(#[$meta:meta])* $name:ident, $text:literal) => {
        $(#[$meta])*
        pub struct $name;
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::schema::Object::builder()
                    .schema_type(utoipa::openapi::schema::Type::Object)
                    .description(Some($text))
                    .into()
            }
        }
        impl utoipa::ToSchema for $name {
            fn name() -> std::borrow::Cow<'static, str> {
                stringify!($name).into()
            }
        }
    };
}
pub(crate) use described;

described!(
    /// `{"status": "ok"}` or `{"status": "ready"}`.
    Status,
    "`status`: `ok` (alive) or `ready` (the database answers)"
);

/// An amount in minor units: an integer from 1 to [`rialto_core::AMOUNT_MAX_MINOR`], as
/// `input::parse_amount` checks it.
pub struct MinorUnits;

impl utoipa::PartialSchema for MinorUnits {
    fn schema() -> RefOr<OpenApiSchema> {
        use utoipa::openapi::schema::{Object, Type};
        Object::builder()
            .schema_type(Type::Integer)
            .format(Some(utoipa::openapi::schema::SchemaFormat::KnownFormat(
                utoipa::openapi::schema::KnownFormat::Int64,
            )))
            .minimum(Some(1))
            .maximum(Some(rialto_core::AMOUNT_MAX_MINOR))
            .description(Some("Integer amount in the currency's minor unit (1050 USD = 10.50 USD)"))
            .into()
    }
}

impl ToSchema for MinorUnits {
    fn name() -> Cow<'static, str> {
        "MinorUnits".into()
    }
}
