-- Clearing and settlement. A completed payment gets a clearing record; a settlement run
-- groups pending clearings per destination account and currency, posts gross minus fees to
-- the currency's settlement account and the fees to its fee account (one journal entry).
CREATE TABLE system_accounts (
    purpose     TEXT NOT NULL,
    currency    TEXT NOT NULL,
    account_id  TEXT NOT NULL REFERENCES accounts(id),
    PRIMARY KEY (purpose, currency)
);

CREATE TABLE settlements (
    id                      TEXT PRIMARY KEY,
    destination_account_id  TEXT NOT NULL,
    currency                TEXT NOT NULL,
    status                  TEXT NOT NULL,
    payment_count           BIGINT NOT NULL,
    gross                   BIGINT NOT NULL,
    fees                    BIGINT NOT NULL,
    net                     BIGINT NOT NULL,
    journal_entry_id        TEXT,
    failure_reason          TEXT,
    created_at              BIGINT NOT NULL,
    CHECK (gross = fees + net AND fees >= 0 AND net >= 0)
);

CREATE TABLE clearings (
    id                      TEXT PRIMARY KEY,
    payment_id              TEXT NOT NULL UNIQUE REFERENCES payments(id),
    destination_account_id  TEXT NOT NULL,
    currency                TEXT NOT NULL,
    status                  TEXT NOT NULL,
    amount                  BIGINT NOT NULL,
    settlement_id           TEXT REFERENCES settlements(id),
    created_at              BIGINT NOT NULL,
    updated_at              BIGINT NOT NULL
);
CREATE INDEX clearings_pending ON clearings(status, destination_account_id, id);
CREATE INDEX clearings_settlement ON clearings(settlement_id);
