//! Sanctions lists, screenings and clearances as stored: list versions (one row per import
//! that changed something), the entries in force per list (the publisher's data as JSON, with
//! its digest), each user's last screening, and reviewers' false-positive clearances.

use std::collections::HashMap;

use rialto_compliance::{Entry, ScreeningStatus, Source};

use crate::sql::Get;
use crate::{Db, StoreError};

/// A list version: what an import changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListVersion {
    /// `slv_…`.
    pub id: String,
    /// The publisher.
    pub source: Source,
    /// 1, 2, … per source.
    pub version: i64,
    /// Entries in force after the import.
    pub entries: i64,
    /// Entries new in this version.
    pub added: i64,
    /// Entries whose published data changed.
    pub changed: i64,
    /// Entries no longer listed.
    pub removed: i64,
    /// SHA-256 of the imported files, hex.
    pub digest: String,
    /// `api`, `cli` or the refresh URL.
    pub origin: String,
    /// When, µs.
    pub imported_at_us: i64,
}

/// A new list to import (parsed and checked before it reaches the writer).
#[derive(Debug, Clone)]
pub struct ListImport {
    /// Pre-assigned version id.
    pub id: String,
    /// The publisher.
    pub source: Source,
    /// Every entry of the new list.
    pub entries: Vec<Entry>,
    /// SHA-256 of the files, hex.
    pub digest: String,
    /// Where it came from.
    pub origin: String,
    /// Accept a list less than half the size of the one in force (a truncated download
    /// would otherwise delist parties silently).
    pub allow_shrink: bool,
}

/// What an import did: the version in force after it, and whether it is new.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportOutcome {
    /// The version in force.
    pub version: ListVersion,
    /// False when the list was the same as the one in force (no new version).
    pub created: bool,
}

/// A user's last screening.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScreeningRecord {
    /// The user.
    pub user_id: String,
    /// Clear, review or hit.
    pub status: ScreeningStatus,
    /// The best score that counts, in ten-thousandths (0..=10000).
    pub score_bp: i64,
    /// Why, in words.
    pub reason: String,
    /// The matches that count, JSON (as the API shows them).
    pub matches: String,
    /// The matches clearances covered, JSON.
    pub cleared: String,
    /// The list versions used, JSON `[{"source","version"}]`.
    pub versions: String,
    /// When, µs (set by the writer).
    pub screened_at_us: i64,
}

/// A reviewer's false-positive clearance of a (user, list entry) pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClearanceRecord {
    /// `clr_…`.
    pub id: String,
    /// The user.
    pub user_id: String,
    /// The list.
    pub source: String,
    /// The entry.
    pub entry_id: String,
    /// The entry as cleared: a change to it revives the alert.
    pub entry_digest: String,
    /// The score when cleared, ten-thousandths.
    pub score_bp: i64,
    /// Why it is a false positive.
    pub reason: String,
    /// The key that cleared it.
    pub created_by: String,
    /// When, µs (set by the writer).
    pub created_at_us: i64,
}

pub(crate) fn version_from_row(r: &impl Get) -> Result<ListVersion, StoreError> {
    let source: String = r.col("source")?;
    Ok(ListVersion {
        id: r.col("id")?,
        source: Source::parse(&source).ok_or_else(|| StoreError::Corrupt(format!("list source `{source}`")))?,
        version: r.col("version")?,
        entries: r.col("entries")?,
        added: r.col("added")?,
        changed: r.col("changed")?,
        removed: r.col("removed")?,
        digest: r.col("digest")?,
        origin: r.col("origin")?,
        imported_at_us: r.col("imported_at")?,
    })
}

pub(crate) fn screening_from_row(r: &impl Get) -> Result<ScreeningRecord, StoreError> {
    let status: String = r.col("status")?;
    Ok(ScreeningRecord {
        user_id: r.col("id")?,
        status: ScreeningStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("screening status `{status}`")))?,
        score_bp: r.col("score")?,
        reason: r.col("reason")?,
        matches: r.col("matches")?,
        cleared: r.col("cleared")?,
        versions: r.col("versions")?,
        screened_at_us: r.col("screened_at")?,
    })
}

fn clearance_from_row(r: &impl Get) -> Result<ClearanceRecord, StoreError> {
    Ok(ClearanceRecord {
        id: r.col("id")?,
        user_id: r.col("user_id")?,
        source: r.col("source")?,
        entry_id: r.col("entry_id")?,
        entry_digest: r.col("entry_digest")?,
        score_bp: r.col("score")?,
        reason: r.col("reason")?,
        created_by: r.col("created_by")?,
        created_at_us: r.col("created_at")?,
    })
}

impl Db {
    /// Every list version, newest first.
    pub async fn list_versions(&self) -> Result<Vec<ListVersion>, StoreError> {
        let rows = sqlx::query("SELECT * FROM sanctions_versions ORDER BY imported_at DESC, version DESC")
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(version_from_row).collect()
    }

    /// The version in force per source (the newest), cheap: what a process compares its
    /// screener against.
    pub async fn lists_in_force(&self) -> Result<Vec<(Source, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT source, MAX(version) AS version FROM sanctions_versions GROUP BY source ORDER BY source",
        )
        .fetch_all(self.pool())
        .await?;
        let mut out = Vec::new();
        for r in rows {
            let source: String = r.col("source")?;
            let source =
                Source::parse(&source).ok_or_else(|| StoreError::Corrupt(format!("list source `{source}`")))?;
            out.push((source, r.col("version")?));
        }
        Ok(out)
    }

    /// The entries in force of every list, with the version each list is at.
    pub async fn list_entries(&self) -> Result<Vec<(Source, i64, Vec<Entry>)>, StoreError> {
        let mut out = Vec::new();
        for (source, version) in self.lists_in_force().await? {
            let rows = sqlx::query("SELECT data FROM sanctions_entries WHERE source = $1 ORDER BY entry_id")
                .bind(source.as_str().to_string())
                .fetch_all(self.pool())
                .await?;
            let mut entries = Vec::with_capacity(rows.len());
            for r in rows {
                let data: String = r.col("data")?;
                entries.push(serde_json::from_str(&data).map_err(|e| StoreError::Corrupt(format!("list entry: {e}")))?);
            }
            out.push((source, version, entries));
        }
        Ok(out)
    }

    /// A user's last screening.
    pub async fn screening(&self, user_id: &str) -> Result<Option<ScreeningRecord>, StoreError> {
        let row = sqlx::query("SELECT * FROM sanctions_screenings WHERE id = $1")
            .bind(user_id.to_string())
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(screening_from_row).transpose()
    }

    /// Last screenings of many users, by user id.
    pub async fn screenings(&self, user_ids: &[String]) -> Result<HashMap<String, ScreeningRecord>, StoreError> {
        let ids: Vec<&str> = user_ids.iter().map(String::as_str).collect();
        let rows = crate::read::fetch_in(self, "SELECT * FROM sanctions_screenings", &[], ("id", &ids), "").await?;
        rows.iter().map(|r| screening_from_row(r).map(|s| (s.user_id.clone(), s))).collect()
    }

    /// A user's clearances, oldest first.
    pub async fn clearances(&self, user_id: &str) -> Result<Vec<ClearanceRecord>, StoreError> {
        let rows = sqlx::query("SELECT * FROM sanctions_clearances WHERE user_id = $1 ORDER BY created_at, id")
            .bind(user_id.to_string())
            .fetch_all(self.pool())
            .await?;
        rows.iter().map(clearance_from_row).collect()
    }

    /// Users never screened, or last screened on other list versions than `versions` (JSON
    /// as screenings store it), oldest first, at most `limit`: (id, name).
    pub async fn users_to_rescreen(&self, versions: &str, limit: i64) -> Result<Vec<(String, String)>, StoreError> {
        let q = "SELECT u.id, u.name FROM users u LEFT JOIN sanctions_screenings s ON s.id = u.id \
                 WHERE s.id IS NULL OR s.versions <> $1 ORDER BY u.id LIMIT $2";
        let rows = sqlx::query(q).bind(versions.to_string()).bind(limit).fetch_all(self.pool()).await?;
        rows.iter().map(|r| Ok((r.col("id")?, r.col("name")?))).collect()
    }
}
