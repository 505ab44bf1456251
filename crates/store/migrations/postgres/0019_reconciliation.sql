-- Reconciliation: ledger accounts that mirror a bank account, the statements imported for
-- them with their lines, the matches between lines and ledger entries, and the runs.
-- Dates are days since 1970-01-01; amounts minor units, signed from the bank's view (money
-- into the bank account positive).
CREATE TABLE recon_accounts (
    account_id        TEXT PRIMARY KEY REFERENCES accounts(id),
    bank_account      TEXT NOT NULL,
    currency          TEXT NOT NULL,
    normal_balance    TEXT NOT NULL CHECK (normal_balance IN ('debit', 'credit')),
    fees_account_id   TEXT REFERENCES accounts(id),
    write_off_max     BIGINT NOT NULL CHECK (write_off_max >= 0),
    rules             TEXT NOT NULL,
    csv_mapping       TEXT,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);

CREATE TABLE recon_statements (
    id               TEXT PRIMARY KEY,
    account_id       TEXT NOT NULL REFERENCES recon_accounts(account_id),
    identity         TEXT NOT NULL,
    digest           TEXT NOT NULL,
    format           TEXT NOT NULL,
    version          TEXT,
    bank_account     TEXT NOT NULL,
    statement_ref    TEXT,
    sequence         BIGINT,
    page             BIGINT,
    from_date        BIGINT NOT NULL,
    to_date          BIGINT NOT NULL,
    currency         TEXT NOT NULL,
    opening_amount   BIGINT,
    opening_date     BIGINT,
    closing_amount   BIGINT,
    closing_date     BIGINT,
    line_count       BIGINT NOT NULL,
    booked_total     BIGINT NOT NULL,
    adds_up          BIGINT,
    problems         TEXT NOT NULL,
    sequence_status  TEXT NOT NULL,
    sequence_note    TEXT,
    source           TEXT NOT NULL,
    created_by       TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    UNIQUE (account_id, identity)
);
CREATE INDEX recon_statements_account ON recon_statements(account_id, to_date);

CREATE TABLE recon_lines (
    id                    TEXT PRIMARY KEY,
    statement_id          TEXT NOT NULL REFERENCES recon_statements(id),
    account_id            TEXT NOT NULL,
    idx                   BIGINT NOT NULL,
    amount                BIGINT NOT NULL,
    currency              TEXT NOT NULL,
    booking_date          BIGINT NOT NULL,
    value_date            BIGINT,
    status                TEXT NOT NULL,
    reversal              BIGINT NOT NULL,
    end_to_end_id         TEXT,
    servicer_ref          TEXT,
    customer_ref          TEXT,
    remittance            TEXT,
    counterparty          TEXT,
    counterparty_account  TEXT,
    bank_code             TEXT,
    batch_count           BIGINT,
    match_id              TEXT
);
CREATE INDEX recon_lines_statement ON recon_lines(statement_id, idx);
CREATE INDEX recon_lines_account ON recon_lines(account_id, booking_date);
-- A run reads the open lines only, however many were matched before.
CREATE INDEX recon_lines_open ON recon_lines(account_id, booking_date) WHERE match_id IS NULL;

CREATE TABLE recon_runs (
    id                 TEXT PRIMARY KEY,
    account_id         TEXT NOT NULL REFERENCES recon_accounts(account_id),
    triggered_by       TEXT NOT NULL,
    from_date          BIGINT,
    to_date            BIGINT,
    counts             TEXT NOT NULL,
    statement_balance  BIGINT,
    ledger_balance     BIGINT,
    adjustments        BIGINT NOT NULL,
    drift              BIGINT,
    created_by         TEXT NOT NULL,
    created_at         BIGINT NOT NULL
);
CREATE INDEX recon_runs_account ON recon_runs(account_id, id);

-- A match pairs lines with entries; `status`: matched, exception (a mismatch, a duplicate, a
-- bank fee not booked), resolved, undone (a person unmatched it).
CREATE TABLE recon_matches (
    id                TEXT PRIMARY KEY,
    account_id        TEXT NOT NULL REFERENCES recon_accounts(account_id),
    run_id            TEXT,
    rule              TEXT NOT NULL,
    outcome           TEXT NOT NULL,
    status            TEXT NOT NULL,
    confidence        BIGINT NOT NULL,
    difference        BIGINT NOT NULL,
    reason            TEXT NOT NULL,
    line_ids          TEXT NOT NULL,
    entry_seqs        TEXT NOT NULL,
    line_date         BIGINT NOT NULL,
    resolution        TEXT,
    adjustment        BIGINT NOT NULL,
    journal_entry_id  TEXT,
    note              TEXT,
    created_by        TEXT NOT NULL,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL
);
CREATE INDEX recon_matches_account ON recon_matches(account_id, status, id);
CREATE INDEX recon_matches_run ON recon_matches(run_id);
-- The journal entries reconciliation booked: their legs on the mirror are not items to match.
CREATE INDEX recon_matches_journal ON recon_matches(journal_entry_id) WHERE journal_entry_id IS NOT NULL;

-- The entries a live match holds: at most one match per entry.
CREATE TABLE recon_matched_entries (
    entry_seq   BIGINT PRIMARY KEY,
    match_id    TEXT NOT NULL,
    account_id  TEXT NOT NULL
);

-- The reconciliation reads a mirror account's entries with what they belong to.
CREATE INDEX payments_transfer ON payments(transfer_id);
CREATE INDEX refunds_transfer ON refunds(transfer_id);
CREATE INDEX settlements_journal ON settlements(journal_entry_id);
