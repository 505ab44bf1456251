-- Payments: business objects whose money moves through the ledger (transfer_id). A payment
-- held for review keeps a pending transfer; refunds are transfers back.
CREATE TABLE payments (
    id                      TEXT PRIMARY KEY,
    user_id                 TEXT NOT NULL,
    source_account_id       TEXT NOT NULL,
    destination_account_id  TEXT NOT NULL,
    amount                  BIGINT NOT NULL CHECK (amount > 0),
    currency                TEXT NOT NULL,
    type                    TEXT NOT NULL,
    method                  TEXT NOT NULL,
    status                  TEXT NOT NULL,
    refunded_amount         BIGINT NOT NULL CHECK (refunded_amount >= 0 AND refunded_amount <= amount),
    transfer_id             TEXT REFERENCES transfers(id),
    reference               TEXT,
    description             TEXT,
    metadata                TEXT NOT NULL,
    context                 TEXT NOT NULL,
    failure_code            TEXT,
    failure_reason          TEXT,
    created_at              BIGINT NOT NULL,
    updated_at              BIGINT NOT NULL
);
CREATE INDEX payments_user ON payments(user_id, created_at);
CREATE INDEX payments_source ON payments(source_account_id, id);
CREATE INDEX payments_destination ON payments(destination_account_id, id);
CREATE INDEX payments_status ON payments(status, id);

CREATE TABLE payment_transitions (
    payment_id   TEXT NOT NULL REFERENCES payments(id),
    seq          BIGINT NOT NULL,
    from_status  TEXT,
    to_status    TEXT NOT NULL,
    reason       TEXT,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (payment_id, seq)
);

CREATE TABLE refunds (
    id           TEXT PRIMARY KEY,
    payment_id   TEXT NOT NULL REFERENCES payments(id),
    amount       BIGINT NOT NULL CHECK (amount > 0),
    transfer_id  TEXT NOT NULL REFERENCES transfers(id),
    reason       TEXT,
    created_at   BIGINT NOT NULL
);
CREATE INDEX refunds_payment ON refunds(payment_id, id);
