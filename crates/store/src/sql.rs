//! Building multi-row statements and binding loosely typed values to them.

use sqlx::any::{AnyArguments, AnyQueryResult};
use sqlx::{AnyConnection, Arguments};

use crate::DbKind;

/// A bindable value. Only the types every backend of `Any` supports.
#[derive(Debug, Clone)]
pub(crate) enum Val {
    /// BIGINT.
    I(i64),
    /// TEXT.
    T(String),
    /// Nullable TEXT.
    OT(Option<String>),
    /// Nullable BIGINT.
    OI(Option<i64>),
}

/// SQLite allows 32,766 parameters per statement and PostgreSQL 65,535: stay under both.
const PARAMS_PER_STATEMENT_MAX: usize = 30_000;

pub(crate) fn args(vals: impl IntoIterator<Item = Val>) -> Result<AnyArguments<'static>, sqlx::Error> {
    let mut a = AnyArguments::default();
    for v in vals {
        match v {
            Val::I(x) => a.add(x),
            Val::T(x) => a.add(x),
            Val::OT(x) => a.add(x),
            Val::OI(x) => a.add(x),
        }
        .map_err(sqlx::Error::Encode)?;
    }
    Ok(a)
}

/// `n` placeholders numbered from `start`: `$start, $start+1, ...` on PostgreSQL, and
/// anonymous `?` on SQLite (sqlx resolves a named SQLite parameter by scanning the statement's
/// parameter list, which is quadratic in statements with thousands of parameters).
pub(crate) fn placeholders(kind: DbKind, start: usize, n: usize) -> String {
    match kind {
        DbKind::Sqlite => vec!["?"; n].join(", "),
        DbKind::Postgres => (start..start + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", "),
    }
}

/// Runs `prefix VALUES (..), (..) suffix` over `rows` (each of `width` values), in as many
/// statements as the parameter limit needs. `prefix` must end where `VALUES` would start.
/// Returns the total rows affected.
pub(crate) async fn exec_values(
    conn: &mut AnyConnection,
    kind: DbKind,
    prefix: &str,
    width: usize,
    rows: Vec<Vec<Val>>,
    suffix: &str,
) -> Result<u64, sqlx::Error> {
    let rows_per_statement = (PARAMS_PER_STATEMENT_MAX / width).max(1);
    let mut affected = 0;
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<Vec<Val>> = rows.by_ref().take(rows_per_statement).collect();
        let groups: Vec<String> =
            (0..chunk.len()).map(|i| format!("({})", placeholders(kind, 1 + i * width, width))).collect();
        let sql = format!("{prefix} VALUES {} {suffix}", groups.join(", "));
        debug_assert!(chunk.iter().all(|r| r.len() == width));
        let arguments = args(chunk.into_iter().flatten())?;
        let result: AnyQueryResult = sqlx::query_with(&sql, arguments).persistent(false).execute(&mut *conn).await?;
        affected += result.rows_affected();
    }
    Ok(affected)
}
