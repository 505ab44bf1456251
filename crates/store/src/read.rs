//! Reads: single resources and cursor-paginated lists.

use sqlx::any::AnyRow;

use crate::db::{Db, StoreError};
use crate::records::{
    account_from_row, entry_from_row, transfer_from_row, user_from_row, AccountRecord, EntryRecord, JournalLine,
    JournalRecord, TransferRecord, UserRecord, ACCOUNT_COLUMNS, ENTRY_COLUMNS, TRANSFER_COLUMNS, USER_COLUMNS,
};
use crate::sql::{args, Val};

/// Where a page starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cursor {
    /// The newest items.
    First,
    /// Items older than this key (Stripe's `starting_after`).
    After(String),
    /// Items newer than this key (Stripe's `ending_before`).
    Before(String),
}

/// A page of a list, newest first.
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// Items.
    pub data: Vec<T>,
    /// More items exist in the direction of travel.
    pub has_more: bool,
}

/// Filters of the transfer list.
#[derive(Debug, Clone, Default)]
pub struct TransferFilter {
    /// Transfers whose source or destination is this account.
    pub account_id: Option<String>,
}

/// Lists ordered by a key column, newest (largest) first. `conditions` are ANDed, with
/// their values bound after the cursor.
pub(crate) async fn page(
    db: &Db,
    select: &str,
    key: &str,
    conditions: &[(&str, Val)],
    cursor: &Cursor,
    limit: usize,
) -> Result<(Vec<AnyRow>, bool), StoreError> {
    page_ordered(db, select, key, conditions, cursor, limit, false).await
}

/// [`page`], oldest (smallest) first when `oldest_first`.
pub(crate) async fn page_ordered(
    db: &Db,
    select: &str,
    key: &str,
    conditions: &[(&str, Val)],
    cursor: &Cursor,
    limit: usize,
    oldest_first: bool,
) -> Result<(Vec<AnyRow>, bool), StoreError> {
    let mut clauses = Vec::new();
    let mut vals = Vec::new();
    let (forward, backward, fwd_cmp, back_cmp) =
        if oldest_first { ("ASC", "DESC", ">", "<") } else { ("DESC", "ASC", "<", ">") };
    let (order, reverse) = match cursor {
        Cursor::First => (forward, false),
        Cursor::After(k) => {
            vals.push(cursor_val(key, k));
            clauses.push(format!("{key} {fwd_cmp} $1"));
            (forward, false)
        }
        Cursor::Before(k) => {
            vals.push(cursor_val(key, k));
            clauses.push(format!("{key} {back_cmp} $1"));
            (backward, true)
        }
    };
    for (cond, v) in conditions {
        let n = vals.len() + 1;
        clauses.push(cond.replace("$?", &format!("${n}")));
        vals.push(v.clone());
    }
    let filter = if clauses.is_empty() { String::new() } else { format!(" WHERE {}", clauses.join(" AND ")) };
    let sql = format!("{select}{filter} ORDER BY {key} {order} LIMIT {}", limit + 1);
    let mut rows = sqlx::query_with(&sql, args(vals)?).persistent(false).fetch_all(db.pool()).await?;
    let has_more = rows.len() > limit;
    rows.truncate(limit);
    if reverse {
        rows.reverse();
    }
    Ok((rows, has_more))
}

/// The rows of `select` whose `column` is one of `ids`, on the read pool: `select` may have its
/// own `WHERE` over `fixed` (`$1` to `$k`; the id condition is joined with `AND`), `suffix`
/// (grouping, ordering, a limit per chunk) takes no parameters. In chunks of 500 ids.
pub(crate) async fn fetch_in(
    db: &Db,
    select: &str,
    fixed: &[Val],
    (column, ids): (&str, &[&str]),
    suffix: &str,
) -> Result<Vec<AnyRow>, StoreError> {
    let join = if fixed.is_empty() { "WHERE" } else { "AND" };
    let mut out = Vec::new();
    for chunk in ids.chunks(500) {
        let marks: Vec<String> = (0..chunk.len()).map(|i| format!("${}", fixed.len() + i + 1)).collect();
        let sql = format!("{select} {join} {column} IN ({}){suffix}", marks.join(", "));
        let vals = fixed.iter().cloned().chain(chunk.iter().map(|id| Val::T((*id).to_string())));
        out.extend(sqlx::query_with(&sql, args(vals)?).fetch_all(db.pool()).await?);
    }
    Ok(out)
}

fn cursor_val(key: &str, k: &str) -> Val {
    if key == "seq" {
        Val::I(k.parse().unwrap_or(0))
    } else {
        Val::T(k.to_string())
    }
}

impl Db {
    /// A user by id.
    pub async fn user(&self, id: &str) -> Result<Option<UserRecord>, StoreError> {
        let row = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
            .bind(id.to_string())
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    /// Users, newest first.
    pub async fn users(&self, cursor: &Cursor, limit: usize) -> Result<Page<UserRecord>, StoreError> {
        let (rows, has_more) =
            page(self, &format!("SELECT {USER_COLUMNS} FROM users"), "id", &[], cursor, limit).await?;
        Ok(Page { data: rows.iter().map(user_from_row).collect::<Result<_, _>>()?, has_more })
    }

    /// An account by id.
    pub async fn account(&self, id: &str) -> Result<Option<AccountRecord>, StoreError> {
        let row = sqlx::query(&format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE id = $1"))
            .bind(id.to_string())
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(account_from_row).transpose()
    }

    /// Accounts, newest first, optionally of one user.
    pub async fn accounts(
        &self,
        user_id: Option<&str>,
        cursor: &Cursor,
        limit: usize,
    ) -> Result<Page<AccountRecord>, StoreError> {
        let conditions: Vec<(&str, Val)> =
            user_id.map(|u| ("user_id = $?", Val::T(u.to_string()))).into_iter().collect();
        let select = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts");
        let (rows, has_more) = page(self, &select, "id", &conditions, cursor, limit).await?;
        Ok(Page { data: rows.iter().map(account_from_row).collect::<Result<_, _>>()?, has_more })
    }

    /// A transfer by id.
    pub async fn transfer(&self, id: &str) -> Result<Option<TransferRecord>, StoreError> {
        let row = sqlx::query(&format!("SELECT {TRANSFER_COLUMNS} FROM transfers WHERE id = $1"))
            .bind(id.to_string())
            .fetch_optional(self.pool())
            .await?;
        row.as_ref().map(transfer_from_row).transpose()
    }

    /// Transfers, newest first, with filters.
    pub async fn transfers(
        &self,
        filter: &TransferFilter,
        cursor: &Cursor,
        limit: usize,
    ) -> Result<Page<TransferRecord>, StoreError> {
        let conditions: Vec<(&str, Val)> = filter
            .account_id
            .iter()
            .map(|a| ("(source_account_id = $? OR destination_account_id = $?)", Val::T(a.clone())))
            .collect();
        let select = format!("SELECT {TRANSFER_COLUMNS} FROM transfers");
        let (rows, has_more) = page(self, &select, "id", &conditions, cursor, limit).await?;
        Ok(Page { data: rows.iter().map(transfer_from_row).collect::<Result<_, _>>()?, has_more })
    }

    /// Expired pending transfers (for the sweeper), at most `limit`.
    pub async fn expired_pending(&self, now_us: i64, limit: usize) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> = sqlx::query_as(&format!(
            "SELECT id FROM transfers WHERE status = 'pending' AND expires_at <= $1 ORDER BY expires_at LIMIT {limit}"
        ))
        .bind(now_us)
        .fetch_all(self.pool())
        .await?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    /// A journal entry with its lines.
    pub async fn journal_entry(&self, id: &str) -> Result<Option<JournalRecord>, StoreError> {
        let head: Option<(String, Option<String>, String, i64)> =
            sqlx::query_as("SELECT id, description, metadata, created_at FROM journal_entries WHERE id = $1")
                .bind(id.to_string())
                .fetch_optional(self.pool())
                .await?;
        let Some((id, description, metadata, created_at_us)) = head else {
            return Ok(None);
        };
        let rows =
            sqlx::query(&format!("SELECT {ENTRY_COLUMNS} FROM entries WHERE journal_entry_id = $1 ORDER BY seq"))
                .bind(id.clone())
                .fetch_all(self.pool())
                .await?;
        let lines = rows
            .iter()
            .map(entry_from_row)
            .map(|e| {
                e.map(|e| JournalLine {
                    account_id: e.account_id,
                    direction: e.direction,
                    amount: e.amount,
                    currency: e.currency,
                    balance_after: e.balance_after,
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Some(JournalRecord {
            id,
            description,
            metadata: crate::records::metadata_from(&metadata)?,
            lines,
            created_at_us,
        }))
    }

    /// An account's entries, newest first. Cursors are entry sequence numbers.
    pub async fn entries(
        &self,
        account_id: &str,
        cursor: &Cursor,
        limit: usize,
    ) -> Result<Page<EntryRecord>, StoreError> {
        let select = format!("SELECT {ENTRY_COLUMNS} FROM entries");
        let conditions = [("account_id = $?", Val::T(account_id.to_string()))];
        let (rows, has_more) = page(self, &select, "seq", &conditions, cursor, limit).await?;
        Ok(Page { data: rows.iter().map(entry_from_row).collect::<Result<_, _>>()?, has_more })
    }

    /// The account's posted balance as it stood at `at_us` (0 before its first entry).
    pub async fn balance_at(&self, account_id: &str, at_us: i64) -> Result<i64, StoreError> {
        let row: Option<(i64,)> = sqlx::query_as(
            "SELECT balance_after FROM entries WHERE account_id = $1 AND created_at <= $2 ORDER BY seq DESC LIMIT 1",
        )
        .bind(account_id.to_string())
        .bind(at_us)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map_or(0, |r| r.0))
    }
}

impl Db {
    /// Deletes idempotency records that expired before `now_us`.
    pub async fn delete_expired_idempotency(&self, now_us: i64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM idempotency_keys WHERE expires_at <= $1")
            .bind(now_us)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected())
    }
}
