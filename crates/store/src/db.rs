//! Connecting, migrating, and the few facts that differ between SQLite and PostgreSQL.

use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyConnection, AnyPool, ConnectOptions, Executor};

use crate::sql::Conn;

/// A storage failure that is not the client's fault.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database answered with an error or could not be reached.
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    /// Migrations failed.
    #[error("migration error: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The URL names no supported database.
    #[error("unsupported database URL `{0}`: use sqlite://PATH or postgres://...")]
    UnsupportedUrl(String),
    /// A stored row does not parse (a bug or a manual edit).
    #[error("corrupt row: {0}")]
    Corrupt(String),
    /// The database is missing or not at this version's schema (for the verifiers, which
    /// never create or migrate what they check).
    #[error("{0}")]
    NotReady(String),
    /// The writer's thread or runtime could not start.
    #[error("writer: {0}")]
    Io(#[from] std::io::Error),
}

/// Which database a URL points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbKind {
    /// Embedded SQLite file (the default).
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

/// Microseconds since the Unix epoch: the unit of every stored time.
pub fn now_us() -> i64 {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since.as_micros()).unwrap_or(i64::MAX)
}

/// A connected database: a pool for reads and short writes, and the URL to open the
/// writer's own connection.
#[derive(Clone)]
pub struct Db {
    pool: AnyPool,
    kind: DbKind,
    options: AnyConnectOptions,
    /// The SQLite file (for the writer's own rusqlite connection).
    sqlite_path: Option<String>,
}

/// Readers in the pool. SQLite in WAL mode lets them run beside the single writer.
const POOL_CONNECTIONS_MAX: u32 = 16;
/// SQLite page cache per connection, KiB.
const SQLITE_CACHE_KIB: u32 = 65_536;
/// How long SQLite waits on a lock held by another connection before giving up.
const SQLITE_BUSY_TIMEOUT_MS: u64 = 10_000;

impl Db {
    /// Connects to `url` (`sqlite://path` or a bare path, or `postgres://...`). A SQLite
    /// file is created when missing.
    pub async fn connect(url: &str) -> Result<Db, StoreError> {
        let (kind, url) = normalise_url(url)?;
        Self::connect_normalised(kind, url).await
    }

    /// Opens a database that must exist already with every migration applied: a SQLite file is
    /// opened read-write but never created, and nothing is migrated. For the verifiers: a
    /// mistyped path is an error, not a new empty ledger that verifies.
    pub async fn open_existing(url: &str) -> Result<Db, StoreError> {
        let (kind, normalised) = normalise_url(url)?;
        let normalised = if kind == DbKind::Sqlite {
            let path = sqlite_path(&normalised);
            if !is_sqlite_file(&path) {
                return Err(StoreError::NotReady(format!("no SQLite database at `{path}`")));
            }
            normalised.replace("mode=rwc", "mode=rw")
        } else {
            normalised
        };
        let db = Self::connect_normalised(kind, normalised).await?;
        db.check_schema().await?;
        Ok(db)
    }

    /// Every migration of this version applied, or `NotReady` saying what to do.
    async fn check_schema(&self) -> Result<(), StoreError> {
        let migrator = match self.kind {
            DbKind::Sqlite => sqlx::migrate!("./migrations/sqlite"),
            DbKind::Postgres => sqlx::migrate!("./migrations/postgres"),
        };
        let applied: Vec<i64> = sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success = TRUE")
            .fetch_all(&self.pool)
            .await
            .map_err(|_| StoreError::NotReady("this is not a Rialto database (no migrations applied)".into()))?;
        let missing = migrator.iter().filter(|m| !applied.contains(&m.version)).count();
        if missing > 0 {
            return Err(StoreError::NotReady(format!(
                "the database lacks {missing} migration(s) of this version; run `rialto migrate` first"
            )));
        }
        Ok(())
    }

    async fn connect_normalised(kind: DbKind, url: String) -> Result<Db, StoreError> {
        sqlx::any::install_default_drivers();
        let options = AnyConnectOptions::from_str(&url)?.disable_statement_logging();
        let pool = AnyPoolOptions::new()
            .max_connections(if kind == DbKind::Sqlite { POOL_CONNECTIONS_MAX } else { 8 })
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if kind == DbKind::Sqlite {
                        configure_sqlite(conn).await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options.clone())
            .await?;
        let sqlite_path = (kind == DbKind::Sqlite).then(|| sqlite_path(&url));
        Ok(Db { pool, kind, options, sqlite_path })
    }

    /// Applies the embedded migrations for this database, then the data migrations.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match self.kind {
            DbKind::Sqlite => sqlx::migrate!("./migrations/sqlite").run(&self.pool).await?,
            DbKind::Postgres => sqlx::migrate!("./migrations/postgres").run(&self.pool).await?,
        }
        self.migrate_data().await
    }

    /// The pool (reads and short writes outside the ledger).
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// SQLite or PostgreSQL.
    pub fn kind(&self) -> DbKind {
        self.kind
    }

    /// Opens the writer's connection, outside the pool: rusqlite on SQLite (used on the
    /// writer's thread), sqlx's native postgres driver on PostgreSQL.
    pub(crate) async fn writer_connection(&self) -> Result<Conn, StoreError> {
        match &self.sqlite_path {
            Some(path) => Ok(Conn::open_sqlite(path, &sqlite_pragmas())?),
            None => {
                let url = self.options.database_url.as_str();
                let options = sqlx::postgres::PgConnectOptions::from_str(url)?.disable_statement_logging();
                Ok(Conn::Postgres(options.connect().await?))
            }
        }
    }

    /// True when the database answers a trivial query.
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }

    /// Closes every pooled connection.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// WAL for concurrent readers; `synchronous=FULL` so that a commit is on disk (fsync of the
/// WAL) before it is acknowledged: a power loss cannot take back an acknowledged transfer.
async fn configure_sqlite(conn: &mut AnyConnection) -> Result<(), sqlx::Error> {
    for pragma in sqlite_pragmas() {
        conn.execute(sqlx::raw_sql(&pragma)).await?;
    }
    Ok(())
}

/// The settings of every SQLite connection, the pool's and the writer's.
fn sqlite_pragmas() -> Vec<String> {
    vec![
        "PRAGMA journal_mode = WAL".to_string(),
        "PRAGMA synchronous = FULL".to_string(),
        "PRAGMA foreign_keys = ON".to_string(),
        format!("PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}"),
        // Page cache per connection (negative = KiB); the default 2 MiB makes the writer
        // re-read B-tree pages from the OS on every batch.
        format!("PRAGMA cache_size = -{SQLITE_CACHE_KIB}"),
        "PRAGMA temp_store = MEMORY".to_string(),
    ]
}

/// The file of a normalised `sqlite://PATH?...` URL.
/// True when `path` is a file that starts with SQLite's header (opening anything else would
/// turn it into a database).
fn is_sqlite_file(path: &str) -> bool {
    use std::io::Read as _;
    let mut header = [0u8; 16];
    std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut header)).is_ok() && &header == b"SQLite format 3\0"
}

fn sqlite_path(url: &str) -> String {
    let path = url.strip_prefix("sqlite://").unwrap_or(url);
    path.split_once('?').map_or(path, |(p, _)| p).to_string()
}

fn normalise_url(url: &str) -> Result<(DbKind, String), StoreError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok((DbKind::Postgres, url.to_string()));
    }
    let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")).unwrap_or(url);
    if path.is_empty() || path.contains("://") {
        return Err(StoreError::UnsupportedUrl(url.to_string()));
    }
    let sep = if path.contains('?') { '&' } else { '?' };
    let query = if path.contains("mode=") { String::new() } else { format!("{sep}mode=rwc") };
    Ok((DbKind::Sqlite, format!("sqlite://{path}{query}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(normalise_url("rialto.db").ok(), Some((DbKind::Sqlite, "sqlite://rialto.db?mode=rwc".into())));
        assert_eq!(
            normalise_url("sqlite:///tmp/x.db").ok(),
            Some((DbKind::Sqlite, "sqlite:///tmp/x.db?mode=rwc".into()))
        );
        assert_eq!(normalise_url("postgres://u@h/db").ok().map(|x| x.0), Some(DbKind::Postgres));
        assert!(normalise_url("mysql://x").is_err());
        assert_eq!(sqlite_path("sqlite:///tmp/x.db?mode=rwc"), "/tmp/x.db");
        assert_eq!(sqlite_path("sqlite://rialto.db?mode=rwc"), "rialto.db");
    }
}
