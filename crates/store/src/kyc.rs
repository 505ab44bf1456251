//! KYC documents as stored (the number only as its last four characters and a hash), and the
//! reads the API and the expiry task need.

use rialto_compliance::kyc::{DocumentKind, DocumentStatus};

use crate::sql::Get;
use crate::{Db, StoreError};

/// A KYC document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KycDocument {
    /// `kyd_…`.
    pub id: String,
    /// The user.
    pub user_id: String,
    /// Type.
    pub kind: DocumentKind,
    /// ISO 3166 alpha-2.
    pub issuing_country: String,
    /// The number's last four characters.
    pub number_last4: String,
    /// SHA-256 of the number (upper-case letters and digits), hex.
    pub number_hash: String,
    /// `YYYY-MM-DD`, if it expires.
    pub expires_on: Option<String>,
    /// The same as days since 1970-01-01.
    pub expires_on_day: Option<i64>,
    /// Where its verification stands.
    pub status: DocumentStatus,
    /// Why it was rejected (or expired).
    pub reason: Option<String>,
    /// The provider that took it (`manual`).
    pub provider: String,
    /// Who decided.
    pub reviewed_by: Option<String>,
    /// When submitted, µs (set by the writer).
    pub created_at_us: i64,
    /// Last change, µs (set by the writer).
    pub updated_at_us: i64,
}

pub(crate) const DOCUMENT_COLUMNS: &str = "id, user_id, kind, issuing_country, number_last4, number_hash, expires_on, \
     expires_on_day, status, reason, provider, reviewed_by, created_at, updated_at";

pub(crate) fn document_from_row(r: &impl Get) -> Result<KycDocument, StoreError> {
    let kind: String = r.col("kind")?;
    let status: String = r.col("status")?;
    Ok(KycDocument {
        id: r.col("id")?,
        user_id: r.col("user_id")?,
        kind: DocumentKind::parse(&kind).ok_or_else(|| StoreError::Corrupt(format!("document kind `{kind}`")))?,
        issuing_country: r.col("issuing_country")?,
        number_last4: r.col("number_last4")?,
        number_hash: r.col("number_hash")?,
        expires_on: r.col("expires_on")?,
        expires_on_day: r.col("expires_on_day")?,
        status: DocumentStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("document status `{status}`")))?,
        reason: r.col("reason")?,
        provider: r.col("provider")?,
        reviewed_by: r.col("reviewed_by")?,
        created_at_us: r.col("created_at")?,
        updated_at_us: r.col("updated_at")?,
    })
}

impl Db {
    /// A user's documents, oldest first.
    pub async fn kyc_documents(&self, user_id: &str) -> Result<Vec<KycDocument>, StoreError> {
        let sql = format!("SELECT {DOCUMENT_COLUMNS} FROM kyc_documents WHERE user_id = $1 ORDER BY created_at, id");
        let rows = sqlx::query(&sql).bind(user_id.to_string()).fetch_all(self.pool()).await?;
        rows.iter().map(document_from_row).collect()
    }

    /// A document.
    pub async fn kyc_document(&self, id: &str) -> Result<Option<KycDocument>, StoreError> {
        let sql = format!("SELECT {DOCUMENT_COLUMNS} FROM kyc_documents WHERE id = $1");
        let row = sqlx::query(&sql).bind(id.to_string()).fetch_optional(self.pool()).await?;
        row.as_ref().map(document_from_row).transpose()
    }

    /// Verified documents whose expiry day is before `today`, at most `limit`.
    pub async fn expired_kyc_documents(&self, today: i64, limit: i64) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT id FROM kyc_documents WHERE status = 'verified' AND expires_on_day < $1 ORDER BY expires_on_day, id LIMIT $2",
        )
        .bind(today)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(|r| r.col("id").map_err(StoreError::from)).collect()
    }
}
