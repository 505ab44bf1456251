-- AML monitoring, compliance cases and regulatory reports.
--
-- A case gathers one user's alerts (typologies, sanctions matches); at most one case per user
-- is not closed. `hold` = 1 when an attached alert's typology is configured to hold: the
-- user's payments are then held for review until the case closes.
CREATE TABLE compliance_cases (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    status TEXT NOT NULL,
    hold BIGINT NOT NULL,
    assignee TEXT,
    disposition TEXT,
    reason TEXT,
    alerts BIGINT NOT NULL,
    sar_report_id TEXT,
    opened_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    closed_at BIGINT
);
CREATE UNIQUE INDEX compliance_cases_open_user ON compliance_cases (user_id) WHERE status <> 'closed';
CREATE INDEX compliance_cases_queue ON compliance_cases (status, id);
CREATE INDEX compliance_cases_user ON compliance_cases (user_id, id);

-- An alert: the typology, the payment that completed the pattern (none for a screening), the
-- payments involved (`evidence`, JSON ids) and the figures seen (JSON). One per (typology,
-- user, payment).
CREATE TABLE compliance_alerts (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES compliance_cases (id),
    user_id TEXT NOT NULL,
    typology TEXT NOT NULL,
    action TEXT NOT NULL,
    payment_id TEXT,
    summary TEXT NOT NULL,
    evidence TEXT NOT NULL,
    figures TEXT NOT NULL,
    occurred_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX compliance_alerts_once ON compliance_alerts (typology, user_id, payment_id);
CREATE INDEX compliance_alerts_user ON compliance_alerts (user_id, typology, occurred_at);
CREATE INDEX compliance_alerts_case ON compliance_alerts (case_id, created_at, id);

-- A case's history: notes with evidence references, assignments, escalations, closing.
CREATE TABLE compliance_case_notes (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES compliance_cases (id),
    kind TEXT NOT NULL,
    text TEXT NOT NULL,
    evidence TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX compliance_case_notes_case ON compliance_case_notes (case_id, created_at, id);

-- Reports: CTRs (one per person and business day) and SAR drafts (from a case). `data` is
-- the report as JSON; the FinCEN XML is rendered from it.
CREATE TABLE compliance_reports (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    user_id TEXT NOT NULL,
    case_id TEXT,
    day TEXT NOT NULL,
    currency TEXT NOT NULL,
    amount BIGINT NOT NULL,
    data TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX compliance_reports_ctr ON compliance_reports (kind, user_id, day) WHERE kind = 'ctr';
CREATE INDEX compliance_reports_list ON compliance_reports (kind, day, id);

-- Payments the AML monitor has evaluated (with their time, the monitor's cursor).
CREATE TABLE aml_monitored (
    payment_id TEXT PRIMARY KEY,
    payment_created_at BIGINT NOT NULL
);
CREATE INDEX aml_monitored_time ON aml_monitored (payment_created_at);
CREATE INDEX payments_created ON payments (created_at, id);
CREATE INDEX payments_destination_time ON payments (destination_account_id, created_at);
