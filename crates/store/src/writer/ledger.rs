//! The ledger domain's change set (`rialto_ledger::ChangeSet`) as rows, in foreign-key order:
//! users, accounts, journal entries, transfers, entries; then user updates.

use rialto_ledger::{ChangeSet, Loaded};

use super::*;

/// Writes the batch's ledger changes.
pub(super) async fn write(conn: &mut Conn, l: &Loaded, c: &mut ChangeSet, now: i64) -> Result<(), Abort> {
    users(conn, c).await?;
    accounts(conn, l, c, now).await?;
    journals(conn, c).await?;
    transfers(conn, l, c, now).await?;
    entries(conn, c).await?;
    user_updates(conn, c).await
}

/// New users.
async fn users(conn: &mut Conn, c: &ChangeSet) -> Result<(), Abort> {
    let users: Vec<Vec<Val>> = c
        .users
        .iter()
        .map(|u| {
            vec![
                Val::T(u.id.clone()),
                Val::T(u.name.clone()),
                Val::OT(u.email.clone()),
                Val::OT(u.phone.clone()),
                Val::T(u.role.clone()),
                Val::T(u.status.as_str().into()),
                Val::T(u.kyc_status.as_str().into()),
                Val::I(u.created_at_us),
                Val::I(u.updated_at_us),
            ]
        })
        .collect();
    if !users.is_empty() {
        exec_values(
            conn,
            "INSERT INTO users (id, name, email, phone, role, status, kyc_status, created_at, updated_at)",
            9,
            users,
            "",
        )
        .await?;
    }
    Ok(())
}

/// New accounts, then one multi-row update of the touched ones' totals and status.
async fn accounts(conn: &mut Conn, l: &Loaded, c: &ChangeSet, now: i64) -> Result<(), Abort> {
    let account_row = |id: &String| -> Vec<Val> {
        let r = &l.accounts[id];
        let a = &r.account;
        vec![
            Val::T(a.id.clone()),
            Val::OT(r.user_id.clone()),
            Val::OT(r.name.clone()),
            Val::T(a.currency.code().into()),
            Val::I(i64::from(a.allow_negative_balance)),
            Val::T(a.status.as_str().into()),
            Val::I(a.debits_posted),
            Val::I(a.credits_posted),
            Val::I(a.debits_pending),
            Val::I(a.credits_pending),
            Val::T(metadata_text(&r.metadata)),
            Val::I(r.created_at_us),
            Val::I(r.updated_at_us),
        ]
    };
    let new_accounts: Vec<Vec<Val>> = c.new_accounts.iter().map(account_row).collect();
    if !new_accounts.is_empty() {
        exec_values(conn, &format!("INSERT INTO accounts ({ACCOUNT_COLUMNS})"), 13, new_accounts, "").await?;
    }
    let updated: Vec<Vec<Val>> = c
        .touched_accounts
        .iter()
        .filter(|id| !c.new_accounts.contains(*id))
        .map(|id| {
            let a = &l.accounts[id].account;
            vec![
                Val::T(id.clone()),
                Val::T(a.status.as_str().into()),
                Val::I(a.debits_posted),
                Val::I(a.credits_posted),
                Val::I(a.debits_pending),
                Val::I(a.credits_pending),
                Val::I(now),
            ]
        })
        .collect();
    if !updated.is_empty() {
        let n = updated.len() as u64;
        let done = exec_values(
            conn,
            "WITH v (id, status, dp, cp, dpe, cpe, upd) AS (",
            7,
            updated,
            ") UPDATE accounts SET status = v.status, debits_posted = v.dp, credits_posted = v.cp, \
             debits_pending = v.dpe, credits_pending = v.cpe, updated_at = v.upd FROM v WHERE accounts.id = v.id",
        )
        .await?;
        if done != n {
            return Err(Abort::Db(StoreError::Corrupt(format!("updated {done} of {n} accounts"))));
        }
    }
    Ok(())
}

/// New journal entries.
async fn journals(conn: &mut Conn, c: &ChangeSet) -> Result<(), Abort> {
    let journals: Vec<Vec<Val>> = c
        .journals
        .iter()
        .map(|j| {
            vec![
                Val::T(j.id.clone()),
                Val::OT(j.description.clone()),
                Val::T(metadata_text(&j.metadata)),
                Val::I(j.created_at_us),
            ]
        })
        .collect();
    if !journals.is_empty() {
        exec_values(conn, "INSERT INTO journal_entries (id, description, metadata, created_at)", 4, journals, "")
            .await?;
    }
    Ok(())
}

/// New transfers, then one multi-row update of the changed ones.
async fn transfers(conn: &mut Conn, l: &Loaded, c: &ChangeSet, now: i64) -> Result<(), Abort> {
    let transfer_row = |id: &String| -> Vec<Val> {
        let r = &l.transfers[id];
        let t = &r.transfer;
        vec![
            Val::T(t.id.clone()),
            Val::T(t.source_account_id.clone()),
            Val::T(t.destination_account_id.clone()),
            Val::T(t.currency.code().into()),
            Val::I(t.amount),
            Val::I(t.posted_amount),
            Val::T(t.status.as_str().into()),
            Val::I(i64::from(r.pending)),
            Val::OT(r.description.clone()),
            Val::OT(r.reference.clone()),
            Val::T(metadata_text(&r.metadata)),
            Val::OI(t.expires_at_us),
            Val::OT(t.reversal_of.clone()),
            Val::OT(t.reversed_by.clone()),
            Val::I(r.created_at_us),
            Val::I(r.updated_at_us),
        ]
    };
    let new_transfers: Vec<Vec<Val>> = c.new_transfers.iter().map(transfer_row).collect();
    if !new_transfers.is_empty() {
        exec_values(conn, &format!("INSERT INTO transfers ({TRANSFER_COLUMNS})"), 16, new_transfers, "").await?;
    }
    let updated: Vec<Vec<Val>> = c
        .touched_transfers
        .iter()
        .filter(|id| !c.new_transfers.contains(*id))
        .map(|id| {
            let t = &l.transfers[id].transfer;
            vec![
                Val::T(id.clone()),
                Val::T(t.status.as_str().into()),
                Val::I(t.posted_amount),
                Val::OT(t.reversed_by.clone()),
                Val::I(now),
            ]
        })
        .collect();
    if !updated.is_empty() {
        exec_values(
            conn,
            "WITH v (id, status, posted, reversed_by, upd) AS (",
            5,
            updated,
            ") UPDATE transfers SET status = v.status, posted_amount = v.posted, reversed_by = v.reversed_by, \
             updated_at = v.upd FROM v WHERE transfers.id = v.id",
        )
        .await?;
    }
    Ok(())
}

/// New entries, in posting order.
async fn entries(conn: &mut Conn, c: &mut ChangeSet) -> Result<(), Abort> {
    if !c.entries.is_empty() {
        let entries = std::mem::take(&mut c.entries)
            .into_iter()
            .map(|e| {
                vec![
                    Val::T(e.account_id),
                    Val::OT(e.transfer_id),
                    Val::OT(e.journal_entry_id),
                    Val::T(e.direction.as_str().into()),
                    Val::I(e.amount),
                    Val::T(e.currency.code().into()),
                    Val::I(e.balance_after),
                    Val::I(e.created_at_us),
                ]
            })
            .collect();
        exec_values(
            conn,
            "INSERT INTO entries (account_id, transfer_id, journal_entry_id, direction, amount, currency, balance_after, created_at)",
            8,
            entries,
            "",
        )
        .await?;
    }
    Ok(())
}

/// Users whose status or KYC status changed.
async fn user_updates(conn: &mut Conn, c: &mut ChangeSet) -> Result<(), Abort> {
    for u in std::mem::take(&mut c.user_updates) {
        let q = "UPDATE users SET status = $1, kyc_status = $2, updated_at = $3 WHERE id = $4";
        let vals = [
            Val::T(u.status.as_str().into()),
            Val::T(u.kyc_status.as_str().into()),
            Val::I(u.updated_at_us),
            Val::T(u.id),
        ];
        conn.execute(q, vals).await?;
    }
    Ok(())
}
