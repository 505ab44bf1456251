//! The ledger writer's connection and the values, rows and multi-row statements it uses.
//!
//! The writer talks to SQLite through rusqlite on its own thread (no worker-thread hop per
//! statement and row, statements prepared once and cached), and to PostgreSQL through sqlx's
//! native postgres driver (no `Any` conversions; multi-row writes as `UNNEST` of one array per
//! column, so each is one statement prepared once whatever the batch size). Writer code is
//! written once against [`Conn`]; SQL uses `$n` placeholders, which the SQLite side reads as
//! `?n`. Rows from either side (and from the read pool) are read through [`Get::col`].

use std::sync::Arc;

use sqlx::any::{AnyArguments, AnyRow};
use sqlx::postgres::{PgArguments, PgConnection, PgRow};
use sqlx::{AnyConnection, Arguments};

use crate::DbKind;

/// A bindable value. Only the types both databases store the same way.
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

/// Statements the SQLite writer keeps prepared (the multi-row shapes vary with batch size).
const SQLITE_STATEMENTS_CACHED: usize = 512;

/// `vals` bound for the read pool (`Any`).
pub(crate) fn args(vals: impl IntoIterator<Item = Val>) -> Result<AnyArguments<'static>, sqlx::Error> {
    bind_all(vals)
}

/// `vals` bound for the writer's PostgreSQL connection.
fn pg_args(vals: impl IntoIterator<Item = Val>) -> Result<PgArguments, sqlx::Error> {
    bind_all(vals)
}

/// `vals` as the arguments of one statement of database `DB`.
fn bind_all<'q, A>(vals: impl IntoIterator<Item = Val>) -> Result<A, sqlx::Error>
where
    A: Arguments<'q>,
    i64: sqlx::Encode<'q, A::Database> + sqlx::Type<A::Database>,
    String: sqlx::Encode<'q, A::Database> + sqlx::Type<A::Database>,
    Option<i64>: sqlx::Encode<'q, A::Database> + sqlx::Type<A::Database>,
    Option<String>: sqlx::Encode<'q, A::Database> + sqlx::Type<A::Database>,
{
    let mut a = A::default();
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

impl rusqlite::ToSql for Val {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, Value, ValueRef};
        Ok(match self {
            Val::I(x) | Val::OI(Some(x)) => ToSqlOutput::Owned(Value::Integer(*x)),
            Val::T(s) | Val::OT(Some(s)) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
            Val::OT(None) | Val::OI(None) => ToSqlOutput::Owned(Value::Null),
        })
    }
}

/// `n` placeholders numbered from `start`: `$start, $start+1, ...` on PostgreSQL, and
/// anonymous `?` on SQLite.
pub(crate) fn placeholders(kind: DbKind, start: usize, n: usize) -> String {
    match kind {
        DbKind::Sqlite => vec!["?"; n].join(", "),
        DbKind::Postgres => (start..start + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", "),
    }
}

/// The writer's own connection.
pub(crate) enum Conn {
    /// SQLite through rusqlite, used on the writer thread only.
    Sqlite(rusqlite::Connection),
    /// PostgreSQL through sqlx's postgres driver.
    Postgres(PgConnection),
}

/// A row from the writer's connection.
pub(crate) enum Row {
    /// From the read pool.
    Any(AnyRow),
    /// From the writer's PostgreSQL connection.
    Pg(PgRow),
    /// From SQLite: the statement's column names and this row's values.
    Sqlite(Arc<[String]>, Vec<rusqlite::types::Value>),
}

fn sqlite_error(e: rusqlite::Error) -> sqlx::Error {
    sqlx::Error::AnyDriverError(Box::new(e))
}

/// `$n` placeholders as SQLite's `?n` (same numbering); other text unchanged.
fn sqlite_sql(sql: &str) -> std::borrow::Cow<'_, str> {
    if !sql.contains('$') {
        return std::borrow::Cow::Borrowed(sql);
    }
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('?');
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

impl Conn {
    /// Opens the writer's SQLite connection on `path` with the pool's settings.
    pub(crate) fn open_sqlite(path: &str, pragmas: &[String]) -> Result<Conn, sqlx::Error> {
        let conn = rusqlite::Connection::open(path).map_err(sqlite_error)?;
        for pragma in pragmas {
            // Some pragmas answer with a row (journal_mode): read and drop it.
            conn.query_row(pragma, [], |_| Ok(())).or_else(|e| match e {
                rusqlite::Error::QueryReturnedNoRows => Ok(()),
                e => Err(sqlite_error(e)),
            })?;
        }
        conn.set_prepared_statement_cache_capacity(SQLITE_STATEMENTS_CACHED);
        Ok(Conn::Sqlite(conn))
    }

    /// Which database this is.
    pub(crate) fn kind(&self) -> DbKind {
        match self {
            Conn::Sqlite(_) => DbKind::Sqlite,
            Conn::Postgres(_) => DbKind::Postgres,
        }
    }

    /// Runs a statement; the rows it changed.
    pub(crate) async fn execute(&mut self, sql: &str, vals: impl IntoIterator<Item = Val>) -> Result<u64, sqlx::Error> {
        match self {
            Conn::Sqlite(c) => {
                let vals: Vec<Val> = vals.into_iter().collect();
                let mut stmt = c.prepare_cached(&sqlite_sql(sql)).map_err(sqlite_error)?;
                let n = stmt.execute(rusqlite::params_from_iter(vals.iter())).map_err(sqlite_error)?;
                Ok(n as u64)
            }
            Conn::Postgres(c) => {
                let done = sqlx::query_with(sql, pg_args(vals)?).persistent(false).execute(&mut *c).await?;
                Ok(done.rows_affected())
            }
        }
    }

    /// Runs a query; every row.
    pub(crate) async fn fetch_all(
        &mut self,
        sql: &str,
        vals: impl IntoIterator<Item = Val>,
    ) -> Result<Vec<Row>, sqlx::Error> {
        match self {
            Conn::Sqlite(c) => {
                let vals: Vec<Val> = vals.into_iter().collect();
                let mut stmt = c.prepare_cached(&sqlite_sql(sql)).map_err(sqlite_error)?;
                let names: Arc<[String]> = stmt.column_names().iter().map(|n| n.to_string()).collect();
                let width = names.len();
                let mut rows = stmt.query(rusqlite::params_from_iter(vals.iter())).map_err(sqlite_error)?;
                let mut out = Vec::new();
                while let Some(r) = rows.next().map_err(sqlite_error)? {
                    let mut cells = Vec::with_capacity(width);
                    for i in 0..width {
                        cells.push(r.get::<_, rusqlite::types::Value>(i).map_err(sqlite_error)?);
                    }
                    out.push(Row::Sqlite(names.clone(), cells));
                }
                Ok(out)
            }
            Conn::Postgres(c) => {
                let rows = sqlx::query_with(sql, pg_args(vals)?).persistent(false).fetch_all(&mut *c).await?;
                Ok(rows.into_iter().map(Row::Pg).collect())
            }
        }
    }

    /// Runs a query; its first row, if any.
    pub(crate) async fn fetch_optional(
        &mut self,
        sql: &str,
        vals: impl IntoIterator<Item = Val>,
    ) -> Result<Option<Row>, sqlx::Error> {
        Ok(self.fetch_all(sql, vals).await?.into_iter().next())
    }

    /// Runs a query that answers one row.
    pub(crate) async fn fetch_one(
        &mut self,
        sql: &str,
        vals: impl IntoIterator<Item = Val>,
    ) -> Result<Row, sqlx::Error> {
        self.fetch_optional(sql, vals).await?.ok_or(sqlx::Error::RowNotFound)
    }
}

impl Conn {
    /// `select WHERE column IN (ids) suffix`: on PostgreSQL one statement with the ids as one
    /// array (`= ANY($1::text[])`); on SQLite `IN (?, ...)` in chunks of 1,000. `suffix`
    /// (ordering, locking) must not take parameters.
    pub(crate) async fn fetch_in(
        &mut self,
        select: &str,
        column: &str,
        ids: &[&str],
        suffix: &str,
    ) -> Result<Vec<Row>, sqlx::Error> {
        self.fetch_in_where(select, Vec::new(), column, ids, suffix).await
    }

    /// Like [`Conn::fetch_in`], for a `select` that has its own `WHERE` over `fixed` (`$1` to
    /// `$k`): the id condition is joined to it with `AND`.
    pub(crate) async fn fetch_in_where(
        &mut self,
        select: &str,
        fixed: Vec<Val>,
        column: &str,
        ids: &[&str],
        suffix: &str,
    ) -> Result<Vec<Row>, sqlx::Error> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let join = if fixed.is_empty() { "WHERE" } else { "AND" };
        let next = fixed.len() + 1;
        match self {
            Conn::Postgres(c) => {
                let sql = format!("{select} {join} {column} = ANY(${next}::text[]){suffix}");
                let mut args = pg_args(fixed)?;
                args.add(ids).map_err(sqlx::Error::Encode)?;
                // Unnamed: planned with the real array each time. A prepared statement would
                // get a generic plan, which PostgreSQL may make while the table is small (a
                // scan, not the primary key) and keep until the next ANALYZE: that made the
                // idempotency lookup 6 ms a batch in the bench.
                let rows = sqlx::query_with(&sql, args).persistent(false).fetch_all(&mut *c).await?;
                Ok(rows.into_iter().map(Row::Pg).collect())
            }
            Conn::Sqlite(_) => {
                let mut rows = Vec::new();
                for chunk in ids.chunks(1000) {
                    let marks: Vec<String> = (next..next + chunk.len()).map(|i| format!("${i}")).collect();
                    let sql = format!("{select} {join} {column} IN ({}){suffix}", marks.join(", "));
                    let vals = fixed.iter().cloned().chain(chunk.iter().map(|id| Val::T((*id).to_string())));
                    rows.extend(self.fetch_all(&sql, vals.collect::<Vec<_>>()).await?);
                }
                Ok(rows)
            }
        }
    }
}

/// Queries that run both on the writer's connection and on one taken from the read pool.
pub(crate) trait Fetch: Send {
    /// Which database this is.
    fn db_kind(&self) -> DbKind;
    /// Runs a query; every row.
    fn fetch_rows(
        &mut self,
        sql: &str,
        vals: Vec<Val>,
    ) -> impl std::future::Future<Output = Result<Vec<Row>, sqlx::Error>> + Send;
}

impl Fetch for Conn {
    fn db_kind(&self) -> DbKind {
        self.kind()
    }
    async fn fetch_rows(&mut self, sql: &str, vals: Vec<Val>) -> Result<Vec<Row>, sqlx::Error> {
        self.fetch_all(sql, vals).await
    }
}

impl Fetch for AnyConnection {
    fn db_kind(&self) -> DbKind {
        match self.backend_name() {
            "PostgreSQL" => DbKind::Postgres,
            _ => DbKind::Sqlite,
        }
    }
    async fn fetch_rows(&mut self, sql: &str, vals: Vec<Val>) -> Result<Vec<Row>, sqlx::Error> {
        let rows = sqlx::query_with(sql, args(vals)?).persistent(false).fetch_all(&mut *self).await?;
        Ok(rows.into_iter().map(Row::Any).collect())
    }
}

/// An advisory-lock key for `parts`: FNV-1a over them, NUL-separated, the same in every process.
/// Two names that hash alike merely share a lock.
pub(crate) fn lock_key(parts: &[&str]) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for (i, part) in parts.iter().enumerate() {
        let separator: &[u8] = if i == 0 { &[] } else { &[0] };
        for b in separator.iter().copied().chain(part.bytes()) {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    i64::from_ne_bytes(h.to_ne_bytes())
}

/// Takes PostgreSQL advisory locks `keys` with `function` (`pg_advisory_lock` for the session,
/// `pg_advisory_xact_lock` until COMMIT) in one statement, sorted, so that batches of two
/// processes wait for each other rather than deadlock.
pub(crate) async fn advisory_locks(conn: &mut Conn, function: &str, mut keys: Vec<i64>) -> Result<(), sqlx::Error> {
    if keys.is_empty() {
        return Ok(());
    }
    keys.sort_unstable();
    keys.dedup();
    // The keys are our own integers, so they are written into the statement; unnest keeps the
    // array's order.
    let list = keys.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let sql = format!("SELECT count({function}(k)) FROM unnest(ARRAY[{list}]::int8[]) WITH ORDINALITY AS t(k, n)");
    conn.fetch_all(&sql, []).await?;
    Ok(())
}

/// Runs `prefix VALUES (..), (..) suffix` over `rows` (each of `width` values) and returns the
/// rows affected. `prefix` must end where `VALUES` would start. On PostgreSQL: one `UNNEST`
/// statement over one array per column, prepared once (see [`unnest`]). On SQLite: one cached
/// single-row statement run per row, which is cheapest for an in-process database.
pub(crate) async fn exec_values(
    conn: &mut Conn,
    prefix: &str,
    width: usize,
    rows: Vec<Vec<Val>>,
    suffix: &str,
) -> Result<u64, sqlx::Error> {
    debug_assert!(rows.iter().all(|r| r.len() == width));
    let kind = conn.kind();
    let mut affected = 0;
    if kind == DbKind::Sqlite {
        let one = (1..=width).map(|i| format!("?{i}")).collect::<Vec<_>>().join(", ");
        let sql = format!("{prefix} VALUES ({one}) {suffix}");
        for row in rows {
            affected += conn.execute(&sql, row).await?;
        }
        return Ok(affected);
    }
    let Conn::Postgres(c) = conn else { unreachable!("checked above") };
    unnest(c, prefix, width, rows, suffix).await
}

/// One column of an `UNNEST` statement: its values as one array.
enum ArrayColumn {
    Int(Vec<Option<i64>>),
    Text(Vec<Option<String>>),
}

/// `prefix SELECT * FROM UNNEST($1::text[], $2::int8[], ...) suffix`: every row in one
/// statement with one array parameter per column, so its text depends only on the column
/// types (one parse, not a 30,000-parameter VALUES list per batch); INSERTs are prepared once
/// per connection (the statement cache).
async fn unnest(
    conn: &mut PgConnection,
    prefix: &str,
    width: usize,
    rows: Vec<Vec<Val>>,
    suffix: &str,
) -> Result<u64, sqlx::Error> {
    let Some(first) = rows.first() else { return Ok(0) };
    let mut columns: Vec<ArrayColumn> = first
        .iter()
        .map(|v| match v {
            Val::I(_) | Val::OI(_) => ArrayColumn::Int(Vec::with_capacity(rows.len())),
            Val::T(_) | Val::OT(_) => ArrayColumn::Text(Vec::with_capacity(rows.len())),
        })
        .collect();
    for row in rows {
        for (column, v) in columns.iter_mut().zip(row) {
            match (column, v) {
                (ArrayColumn::Int(c), Val::I(x)) => c.push(Some(x)),
                (ArrayColumn::Int(c), Val::OI(x)) => c.push(x),
                (ArrayColumn::Text(c), Val::T(x)) => c.push(Some(x)),
                (ArrayColumn::Text(c), Val::OT(x)) => c.push(x),
                _ => return Err(sqlx::Error::Protocol(format!("mixed column types in `{prefix}`"))),
            }
        }
    }
    let arrays: Vec<String> = columns
        .iter()
        .enumerate()
        .map(|(i, c)| match c {
            ArrayColumn::Int(_) => format!("${}::int8[]", i + 1),
            ArrayColumn::Text(_) => format!("${}::text[]", i + 1),
        })
        .collect();
    debug_assert_eq!(arrays.len(), width);
    let sql = format!("{prefix} SELECT * FROM UNNEST({}) {suffix}", arrays.join(", "));
    let mut args = PgArguments::default();
    for c in columns {
        match c {
            ArrayColumn::Int(v) => args.add(v),
            ArrayColumn::Text(v) => args.add(v),
        }
        .map_err(sqlx::Error::Encode)?;
    }
    // An INSERT from arrays has one plan: prepare it once. Anything else (an UPDATE joining
    // the arrays to a table) is planned with the real arrays each time (see `fetch_in`).
    let prepare = prefix.trim_start().starts_with("INSERT");
    let done = sqlx::query_with(&sql, args).persistent(prepare).execute(conn).await?;
    Ok(done.rows_affected())
}

/// A value a column can be read as, from either driver.
pub(crate) trait Column: Sized + for<'r> sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any> {
    /// The value from a SQLite cell; None when the cell holds another type.
    fn from_sqlite(v: &rusqlite::types::Value) -> Option<Self>;
    /// The column `name` of a PostgreSQL row. The stored types are BIGINT and TEXT; a flag is
    /// a BIGINT 0 or 1, as on SQLite.
    fn from_pg(row: &PgRow, name: &str) -> Result<Self, sqlx::Error>;
}

fn pg_get<T>(row: &PgRow, name: &str) -> Result<T, sqlx::Error>
where
    T: for<'r> sqlx::Decode<'r, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
{
    sqlx::Row::try_get(row, name)
}

impl Column for i64 {
    fn from_sqlite(v: &rusqlite::types::Value) -> Option<Self> {
        match v {
            rusqlite::types::Value::Integer(x) => Some(*x),
            _ => None,
        }
    }
    fn from_pg(row: &PgRow, name: &str) -> Result<Self, sqlx::Error> {
        pg_get::<i64>(row, name).or_else(|e| pg_get::<i32>(row, name).map(i64::from).map_err(|_| e))
    }
}

impl Column for String {
    fn from_sqlite(v: &rusqlite::types::Value) -> Option<Self> {
        match v {
            rusqlite::types::Value::Text(s) => Some(s.clone()),
            _ => None,
        }
    }
    fn from_pg(row: &PgRow, name: &str) -> Result<Self, sqlx::Error> {
        pg_get(row, name)
    }
}

impl Column for bool {
    fn from_sqlite(v: &rusqlite::types::Value) -> Option<Self> {
        i64::from_sqlite(v).map(|x| x != 0)
    }
    fn from_pg(row: &PgRow, name: &str) -> Result<Self, sqlx::Error> {
        pg_get::<bool>(row, name).or_else(|e| i64::from_pg(row, name).map(|x| x != 0).map_err(|_| e))
    }
}

impl Column for f64 {
    fn from_sqlite(v: &rusqlite::types::Value) -> Option<Self> {
        match v {
            rusqlite::types::Value::Real(x) => Some(*x),
            #[allow(clippy::cast_precision_loss)]
            rusqlite::types::Value::Integer(x) => Some(*x as f64),
            _ => None,
        }
    }
    fn from_pg(row: &PgRow, name: &str) -> Result<Self, sqlx::Error> {
        #[allow(clippy::cast_precision_loss)]
        pg_get::<f64>(row, name).or_else(|e| i64::from_pg(row, name).map(|x| x as f64).map_err(|_| e))
    }
}

impl<T: Column> Column for Option<T> {
    fn from_sqlite(v: &rusqlite::types::Value) -> Option<Self> {
        match v {
            rusqlite::types::Value::Null => Some(None),
            v => T::from_sqlite(v).map(Some),
        }
    }
    fn from_pg(row: &PgRow, name: &str) -> Result<Self, sqlx::Error> {
        use sqlx::ValueRef;
        if sqlx::Row::try_get_raw(row, name)?.is_null() {
            return Ok(None);
        }
        T::from_pg(row, name).map(Some)
    }
}

/// Reading a column by name, from any row the store handles.
pub(crate) trait Get {
    /// The column `name` as a `T`.
    fn col<T: Column>(&self, name: &str) -> Result<T, sqlx::Error>;
}

impl Get for AnyRow {
    fn col<T: Column>(&self, name: &str) -> Result<T, sqlx::Error> {
        sqlx::Row::try_get(self, name)
    }
}

impl Get for Row {
    fn col<T: Column>(&self, name: &str) -> Result<T, sqlx::Error> {
        match self {
            Row::Any(r) => r.col(name),
            Row::Pg(r) => T::from_pg(r, name),
            Row::Sqlite(names, cells) => {
                let index =
                    names.iter().position(|n| n == name).ok_or_else(|| sqlx::Error::ColumnNotFound(name.into()))?;
                T::from_sqlite(&cells[index]).ok_or_else(|| sqlx::Error::ColumnDecode {
                    index: name.into(),
                    source: format!("unexpected {:?}", cells[index].data_type()).into(),
                })
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn lock_keys_separate_their_parts() {
        assert_eq!(lock_key(&["user", "u1"]), lock_key(&["user", "u1"]));
        assert_ne!(lock_key(&["user", "u1"]), lock_key(&["useru", "1"]));
        assert_ne!(lock_key(&["velocity", "u1"]), lock_key(&["user", "u1"]));
    }

    #[test]
    fn dollar_placeholders_become_numbered_question_marks() {
        assert_eq!(sqlite_sql("SELECT 1"), "SELECT 1");
        assert_eq!(
            sqlite_sql("UPDATE t SET a = $2 WHERE id = $1 AND b = $10"),
            "UPDATE t SET a = ?2 WHERE id = ?1 AND b = ?10"
        );
    }

    #[tokio::test]
    async fn sqlite_rows_read_by_name_and_multi_row_inserts_count() {
        let mut conn = Conn::open_sqlite(":memory:", &[]).unwrap();
        conn.execute("CREATE TABLE t (id TEXT PRIMARY KEY, n BIGINT, note TEXT)", []).await.unwrap();
        let rows = vec![
            vec![Val::T("a".into()), Val::I(1), Val::OT(None)],
            vec![Val::T("b".into()), Val::I(2), Val::OT(Some("x".into()))],
        ];
        assert_eq!(exec_values(&mut conn, "INSERT INTO t (id, n, note)", 3, rows, "").await.unwrap(), 2);
        let again = vec![vec![Val::T("a".into()), Val::I(9), Val::OT(None)]];
        let n = exec_values(&mut conn, "INSERT INTO t (id, n, note)", 3, again, "ON CONFLICT (id) DO NOTHING").await;
        assert_eq!(n.unwrap(), 0);
        let rows = conn.fetch_all("SELECT id, n, note FROM t WHERE n >= $1 ORDER BY id", [Val::I(1)]).await.unwrap();
        let read: Vec<(String, i64, Option<String>)> =
            rows.iter().map(|r| (r.col("id").unwrap(), r.col("n").unwrap(), r.col("note").unwrap())).collect();
        assert_eq!(read, [("a".into(), 1, None), ("b".into(), 2, Some("x".into()))]);
        assert!(rows[0].col::<i64>("id").is_err(), "text is not an integer");
        assert!(rows[0].col::<i64>("missing").is_err());
    }
}
