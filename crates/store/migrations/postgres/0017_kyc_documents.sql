-- KYC documents and their verification. The number is never stored: its last four
-- characters (to show) and a SHA-256 of it (to find the same document twice). A user's KYC
-- level is computed from the verified, unexpired documents; `expires_on_day` is the expiry as
-- days since 1970-01-01, for the gate and the expiry task.
CREATE TABLE kyc_documents (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    kind TEXT NOT NULL,
    issuing_country TEXT NOT NULL,
    number_last4 TEXT NOT NULL,
    number_hash TEXT NOT NULL,
    expires_on TEXT,
    expires_on_day BIGINT,
    status TEXT NOT NULL,
    reason TEXT,
    provider TEXT NOT NULL,
    reviewed_by TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX kyc_documents_user ON kyc_documents (user_id, created_at);
CREATE INDEX kyc_documents_expiry ON kyc_documents (status, expires_on_day);
