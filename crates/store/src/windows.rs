//! The window store: the accepted payments of the last 30 days per user, account, device, IP
//! and merchant, from which the risk rules' aggregates and history facts are computed.
//!
//! - In memory (the default): an index rebuilt from the database when the server starts and
//!   kept current by the writer after each commit. Exact in one process.
//! - In Redis (`RIALTO_REDIS_URL`): one sorted set per key, scored by time, shared by every
//!   Rialto process on the database. Each process re-adds the last 30 days when it starts
//!   (idempotent), so an entry lost by a crash between COMMIT and the Redis write comes back.
//!
//! Either way a batch reads the windows once, and payments accepted earlier in the same batch
//! are added to what it read, so they count too.

use std::collections::HashMap;
use std::sync::Mutex;

use redis::AsyncCommands;
use rialto_risk::window::{key_name, window_start, Entry, Index, KEYS};
use rialto_risk::{Key, WINDOW_SECONDS_MAX};
use sqlx::Row;

use crate::db::{Db, StoreError};

/// Where the windows live.
pub struct Windows {
    backend: Backend,
}

enum Backend {
    Memory(Mutex<Index>),
    Redis { conn: redis::aio::MultiplexedConnection, prefix: String },
}

impl std::fmt::Debug for Windows {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Windows").field("backend", &self.kind()).finish()
    }
}

impl Default for Windows {
    fn default() -> Self {
        Windows::memory()
    }
}

fn redis_error(e: &redis::RedisError) -> StoreError {
    StoreError::Corrupt(format!("redis: {e}"))
}

/// Keys expire a day after the longest window unless written again.
const REDIS_TTL_MS: i64 = (WINDOW_SECONDS_MAX + 86_400) * 1000;

impl Windows {
    /// An in-process index.
    pub fn memory() -> Windows {
        Windows { backend: Backend::Memory(Mutex::new(Index::default())) }
    }

    /// Windows in Redis, under `prefix:w:<key>:<value>`.
    pub async fn redis(url: &str, prefix: &str) -> Result<Windows, StoreError> {
        let client = redis::Client::open(url).map_err(|e| redis_error(&e))?;
        let conn = client.get_multiplexed_async_connection().await.map_err(|e| redis_error(&e))?;
        Ok(Windows { backend: Backend::Redis { conn, prefix: prefix.to_string() } })
    }

    /// `memory` or `redis`.
    pub fn kind(&self) -> &'static str {
        match self.backend {
            Backend::Memory(_) => "memory",
            Backend::Redis { .. } => "redis",
        }
    }

    /// Whether other processes share these windows (Redis).
    pub fn shared(&self) -> bool {
        matches!(self.backend, Backend::Redis { .. })
    }

    fn redis_key(prefix: &str, key: Key, value: &str) -> String {
        format!("{prefix}:w:{}:{value}", key_name(key))
    }

    /// The entries after `since` of each (key, value), oldest first.
    pub async fn load(&self, wanted: &[(Key, String, i64)]) -> Result<HashMap<(Key, String), Vec<Entry>>, StoreError> {
        let mut out = HashMap::new();
        if wanted.is_empty() {
            return Ok(out);
        }
        match &self.backend {
            Backend::Memory(index) => {
                let index = index.lock().map_err(|_| StoreError::Corrupt("window index poisoned".into()))?;
                for (key, value, since) in wanted {
                    out.insert((*key, value.clone()), index.since(*key, value, *since));
                }
            }
            Backend::Redis { conn, prefix } => {
                let mut pipe = redis::pipe();
                for (key, value, since) in wanted {
                    // `(since` is exclusive: the window is (since, now].
                    pipe.zrangebyscore(Self::redis_key(prefix, *key, value), format!("({since}"), "+inf");
                }
                let lists: Vec<Vec<String>> = pipe.query_async(&mut conn.clone()).await.map_err(|e| redis_error(&e))?;
                for ((key, value, _), members) in wanted.iter().zip(lists) {
                    let entries = members.iter().filter_map(|m| serde_json::from_str(m).ok()).collect();
                    out.insert((*key, value.clone()), entries);
                }
            }
        }
        Ok(out)
    }

    /// Records accepted payments under each of their keys (again: no change).
    pub async fn record(&self, entries: &[Entry]) -> Result<(), StoreError> {
        if entries.is_empty() {
            return Ok(());
        }
        match &self.backend {
            Backend::Memory(index) => {
                let mut index = index.lock().map_err(|_| StoreError::Corrupt("window index poisoned".into()))?;
                entries.iter().for_each(|e| index.insert(e));
            }
            Backend::Redis { conn, prefix } => {
                let newest = entries.iter().map(|e| e.at_us).max().unwrap_or(0);
                let horizon = window_start(newest, WINDOW_SECONDS_MAX);
                let mut pipe = redis::pipe();
                let mut touched = std::collections::BTreeSet::new();
                for e in entries {
                    let member = serde_json::to_string(e).map_err(|x| StoreError::Corrupt(x.to_string()))?;
                    for key in KEYS {
                        let Some(value) = e.key(key) else { continue };
                        let k = Self::redis_key(prefix, key, value);
                        pipe.zadd(&k, &member, e.at_us).ignore();
                        touched.insert(k);
                    }
                }
                for k in touched {
                    pipe.zrembyscore(&k, "-inf", horizon).ignore();
                    pipe.pexpire(&k, REDIS_TTL_MS).ignore();
                }
                let () = pipe.query_async(&mut conn.clone()).await.map_err(|e| redis_error(&e))?;
            }
        }
        Ok(())
    }

    /// Loads the accepted payments of the last 30 days from the database into the windows.
    /// Returns how many.
    pub async fn rebuild(&self, db: &Db, now_us: i64) -> Result<usize, StoreError> {
        let since = window_start(now_us, WINDOW_SECONDS_MAX);
        let mut after = String::new();
        let mut total = 0;
        // In pages, so a large history never sits in memory twice.
        loop {
            let rows = sqlx::query(
                "SELECT id, user_id, source_account_id, amount, created_at, context FROM payments \
                 WHERE created_at > $1 AND transfer_id IS NOT NULL AND id > $2 ORDER BY id LIMIT 5000",
            )
            .bind(since)
            .bind(after.clone())
            .fetch_all(db.pool())
            .await?;
            let Some(last) = rows.last() else { break };
            after = last.try_get("id")?;
            let mut entries = Vec::with_capacity(rows.len());
            for r in &rows {
                let context: String = r.try_get("context")?;
                entries.push(entry(
                    r.try_get("id")?,
                    r.try_get("created_at")?,
                    r.try_get("amount")?,
                    r.try_get("user_id")?,
                    r.try_get("source_account_id")?,
                    &crate::records::context_from_json(&context),
                ));
            }
            total += entries.len();
            self.record(&entries).await?;
        }
        Ok(total)
    }

    /// Deletes every key under this store's prefix (Redis; for tests and re-seeding).
    pub async fn clear(&self) -> Result<(), StoreError> {
        if let Backend::Redis { conn, prefix } = &self.backend {
            let mut c = conn.clone();
            let keys: Vec<String> = c.keys(format!("{prefix}:w:*")).await.map_err(|e| redis_error(&e))?;
            if !keys.is_empty() {
                let () = c.del(keys).await.map_err(|e| redis_error(&e))?;
            }
        }
        Ok(())
    }
}

/// A payment's window entry from its fields and context.
pub fn entry(
    id: String,
    at_us: i64,
    amount: i64,
    user: String,
    account: String,
    context: &rialto_payments::PaymentContext,
) -> Entry {
    let location = context.location.as_ref();
    Entry {
        id,
        at_us,
        amount,
        user,
        account,
        device: context.device_id.clone(),
        ip: context.ip_address.clone(),
        country: location.and_then(|l| l.country.clone()),
        merchant: context.merchant_id.clone(),
        location: location.and_then(|l| l.lat.zip(l.lon)),
    }
}
