//! API keys: stored only as SHA-256 hashes. Keys are 256 random bits, so a fast hash is
//! enough (a slow password hash such as Argon2 guards low-entropy secrets; it would only
//! add latency to every request here).

use crate::sql::Get;
use rand::RngCore;
use rialto_core::ids;
use sha2::{Digest, Sha256};

use crate::db::{now_us, Db, StoreError};

/// What a key may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Read only.
    Reader,
    /// Read and move money.
    Writer,
    /// A writer who may also approve or decline payments held for review.
    Reviewer,
    /// Everything, including key management.
    Admin,
}

impl Role {
    /// Parses `admin|writer|reader`.
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "admin" => Some(Role::Admin),
            "writer" => Some(Role::Writer),
            "reviewer" => Some(Role::Reviewer),
            "reader" => Some(Role::Reader),
            _ => None,
        }
    }

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Writer => "writer",
            Role::Reviewer => "reviewer",
            Role::Reader => "reader",
        }
    }
}

/// A stored key (never the secret itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    /// `key_…`
    pub id: String,
    /// Label.
    pub name: String,
    /// Role.
    pub role: Role,
    /// First characters of the secret, to recognise it.
    pub prefix: String,
    /// Creation time, µs.
    pub created_at_us: i64,
    /// Revocation time, µs.
    pub revoked_at_us: Option<i64>,
}

/// A new key with a random secret, not yet stored (the writer stores it, audited):
/// returns the key, its secret (shown once) and the secret's hash.
pub fn generate_api_key(name: &str, role: Role) -> (ApiKey, String, String) {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    let secret = format!("rialto_{}", hex::encode(bytes));
    let key = new_key(name, role, &secret);
    let hash = hash_secret(&secret);
    (key, secret, hash)
}

/// The stored part of a key for `secret`.
fn new_key(name: &str, role: Role, secret: &str) -> ApiKey {
    ApiKey {
        id: ids::new_id::<ids::ApiKeyId>(),
        name: name.to_string(),
        role,
        prefix: secret.chars().take(12).collect(),
        created_at_us: now_us(),
        revoked_at_us: None,
    }
}

/// SHA-256 of a secret, hex.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

pub(crate) fn key_from_row(r: &impl Get) -> Result<ApiKey, StoreError> {
    let role: String = r.col("role")?;
    Ok(ApiKey {
        id: r.col("id")?,
        name: r.col("name")?,
        role: crate::records::stored("role", &role, Role::parse)?,
        prefix: r.col("prefix")?,
        created_at_us: r.col("created_at")?,
        revoked_at_us: r.col("revoked_at")?,
    })
}

impl Db {
    /// Makes sure `secret` exists as an active key with `role` (used for `RIALTO_ADMIN_KEY`).
    pub async fn ensure_api_key(&self, name: &str, role: Role, secret: &str) -> Result<ApiKey, StoreError> {
        if let Some(key) = self.api_key_by_secret(secret).await? {
            if key.role == role && key.revoked_at_us.is_none() {
                return Ok(key);
            }
            sqlx::query("UPDATE api_keys SET role = $1, revoked_at = NULL WHERE id = $2")
                .bind(role.as_str())
                .bind(key.id.clone())
                .execute(self.pool())
                .await?;
            return Ok(ApiKey { role, revoked_at_us: None, ..key });
        }
        match self.insert_api_key(name, role, secret).await {
            Ok(k) => Ok(k),
            // Another process inserted it at the same moment.
            Err(_) => self.api_key_by_secret(secret).await?.ok_or_else(|| StoreError::Corrupt("api key race".into())),
        }
    }

    async fn insert_api_key(&self, name: &str, role: Role, secret: &str) -> Result<ApiKey, StoreError> {
        let key = new_key(name, role, secret);
        sqlx::query(
            "INSERT INTO api_keys (id, name, role, key_hash, prefix, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(key.id.clone())
        .bind(key.name.clone())
        .bind(role.as_str())
        .bind(hash_secret(secret))
        .bind(key.prefix.clone())
        .bind(key.created_at_us)
        .execute(self.pool())
        .await?;
        Ok(key)
    }

    /// Finds a key by its secret (revoked or not).
    pub async fn api_key_by_secret(&self, secret: &str) -> Result<Option<ApiKey>, StoreError> {
        let row =
            sqlx::query("SELECT id, name, role, prefix, created_at, revoked_at FROM api_keys WHERE key_hash = $1")
                .bind(hash_secret(secret))
                .fetch_optional(self.pool())
                .await?;
        row.as_ref().map(key_from_row).transpose()
    }

    /// Keys, newest first, a page at a time (never their secrets).
    pub async fn api_keys(&self, cursor: &crate::Cursor, limit: usize) -> Result<crate::Page<ApiKey>, StoreError> {
        let select = "SELECT id, name, role, prefix, created_at, revoked_at FROM api_keys";
        let (rows, has_more) = crate::read::page(self, select, "id", &[], cursor, limit).await?;
        Ok(crate::Page { data: rows.iter().map(key_from_row).collect::<Result<_, _>>()?, has_more })
    }

    /// Every key, newest first (for the command line).
    pub async fn list_api_keys(&self) -> Result<Vec<ApiKey>, StoreError> {
        let rows = sqlx::query("SELECT id, name, role, prefix, created_at, revoked_at FROM api_keys ORDER BY id DESC")
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(key_from_row).collect()
    }
}
