-- Fraud labels on payments (from a review, a chargeback or by hand): append-only, the
-- newest label of a payment is its label. They feed backtests and model training.
CREATE TABLE payment_labels (
    id          TEXT PRIMARY KEY,
    payment_id  TEXT NOT NULL,
    label       TEXT NOT NULL,
    source      TEXT NOT NULL,
    note        TEXT,
    actor       TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX payment_labels_payment ON payment_labels(payment_id, id);

-- Keys (a user, device, IP...) that a `rate_limit` rule action blocked until a time.
CREATE TABLE risk_blocks (
    key_kind    TEXT NOT NULL,
    key_value   TEXT NOT NULL,
    until_us    BIGINT NOT NULL,
    rule_id     TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (key_kind, key_value)
);
