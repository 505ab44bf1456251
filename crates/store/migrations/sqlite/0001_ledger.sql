-- Rialto ledger schema (SQLite). Integers are minor units, booleans 0/1, times unix microseconds.
CREATE TABLE users (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    email       TEXT,
    phone       TEXT,
    role        TEXT NOT NULL,
    status      TEXT NOT NULL,
    kyc_status  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE accounts (
    id                      TEXT PRIMARY KEY,
    user_id                 TEXT REFERENCES users(id),
    name                    TEXT,
    currency                TEXT NOT NULL,
    allow_negative_balance  BIGINT NOT NULL,
    status                  TEXT NOT NULL,
    debits_posted           BIGINT NOT NULL CHECK (debits_posted >= 0),
    credits_posted          BIGINT NOT NULL CHECK (credits_posted >= 0),
    debits_pending          BIGINT NOT NULL CHECK (debits_pending >= 0),
    credits_pending         BIGINT NOT NULL CHECK (credits_pending >= 0),
    metadata                TEXT NOT NULL,
    created_at              BIGINT NOT NULL,
    updated_at              BIGINT NOT NULL,
    CHECK (allow_negative_balance = 1 OR credits_posted - debits_posted - debits_pending >= 0)
) WITHOUT ROWID;
CREATE INDEX accounts_user ON accounts(user_id);

CREATE TABLE transfers (
    id                      TEXT PRIMARY KEY,
    source_account_id       TEXT NOT NULL REFERENCES accounts(id),
    destination_account_id  TEXT NOT NULL REFERENCES accounts(id),
    currency                TEXT NOT NULL,
    amount                  BIGINT NOT NULL CHECK (amount > 0),
    posted_amount           BIGINT NOT NULL,
    status                  TEXT NOT NULL,
    pending                 BIGINT NOT NULL,
    description             TEXT,
    reference               TEXT,
    metadata                TEXT NOT NULL,
    expires_at              BIGINT,
    reversal_of             TEXT,
    reversed_by             TEXT,
    created_at              BIGINT NOT NULL,
    updated_at              BIGINT NOT NULL
);
CREATE INDEX transfers_source ON transfers(source_account_id, id);
CREATE INDEX transfers_destination ON transfers(destination_account_id, id);
CREATE INDEX transfers_expiry ON transfers(expires_at) WHERE status = 'pending';

CREATE TABLE journal_entries (
    id           TEXT PRIMARY KEY,
    description  TEXT,
    metadata     TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);

CREATE TABLE entries (
    seq               INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id        TEXT NOT NULL REFERENCES accounts(id),
    transfer_id       TEXT REFERENCES transfers(id),
    journal_entry_id  TEXT REFERENCES journal_entries(id),
    direction         TEXT NOT NULL CHECK (direction IN ('debit', 'credit')),
    amount            BIGINT NOT NULL CHECK (amount > 0),
    currency          TEXT NOT NULL,
    balance_after     BIGINT NOT NULL,
    created_at        BIGINT NOT NULL
);
CREATE INDEX entries_account ON entries(account_id, seq);
CREATE INDEX entries_account_time ON entries(account_id, created_at);

CREATE TRIGGER entries_no_update BEFORE UPDATE ON entries
BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END;
CREATE TRIGGER entries_no_delete BEFORE DELETE ON entries
BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END;

CREATE TABLE idempotency_keys (
    id            TEXT PRIMARY KEY,
    request_hash  TEXT NOT NULL,
    status_code   BIGINT NOT NULL,
    body          TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL
);
CREATE INDEX idempotency_expiry ON idempotency_keys(expires_at);

CREATE TABLE api_keys (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    role        TEXT NOT NULL,
    key_hash    TEXT NOT NULL UNIQUE,
    prefix      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);
