-- What the risk rules see of a payment, as columns so windowed aggregates can use indexes,
-- and every assessment with its explanation.
ALTER TABLE payments ADD COLUMN device_id TEXT;
ALTER TABLE payments ADD COLUMN ip_address TEXT;
ALTER TABLE payments ADD COLUMN country TEXT;
ALTER TABLE payments ADD COLUMN merchant_id TEXT;
ALTER TABLE payments ADD COLUMN risk_assessment_id TEXT;
CREATE INDEX payments_account_time ON payments(source_account_id, created_at);
CREATE INDEX payments_device_time ON payments(device_id, created_at);
CREATE INDEX payments_ip_time ON payments(ip_address, created_at);
CREATE INDEX payments_merchant_time ON payments(merchant_id, created_at);

CREATE TABLE risk_assessments (
    id          TEXT PRIMARY KEY,
    payment_id  TEXT NOT NULL,
    user_id     TEXT NOT NULL,
    score       BIGINT NOT NULL,
    level       TEXT NOT NULL,
    decision    TEXT NOT NULL,
    reason      TEXT NOT NULL,
    fired       TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX risk_assessments_user ON risk_assessments(user_id, id);
