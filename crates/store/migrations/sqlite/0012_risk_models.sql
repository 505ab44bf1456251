-- Fraud models: versioned artifacts with their metadata. At most one is `deployed` (the
-- champion); a `testing` model with a challenger share scores that share of payments beside
-- it. `previous_id` is the champion a deployment replaced (what a rollback restores).
CREATE TABLE risk_models (
    id                  TEXT PRIMARY KEY,
    name                TEXT NOT NULL,
    version             BIGINT NOT NULL,
    kind                TEXT NOT NULL,
    status              TEXT NOT NULL,
    features            TEXT NOT NULL,
    artifact            TEXT,
    merchant_risk       TEXT NOT NULL,
    metadata            TEXT NOT NULL,
    dataset_rows        BIGINT NOT NULL,
    trained_at          BIGINT,
    challenger_share_bp BIGINT NOT NULL,
    deployed_at         BIGINT,
    previous_id         TEXT,
    error               TEXT,
    created_by          TEXT NOT NULL,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL,
    UNIQUE (name, version)
);

-- Every model score of a payment: the champion's (which counted) and a challenger's (which
-- only was recorded), with what each alone would have decided, or why it gave no answer.
CREATE TABLE risk_model_scores (
    assessment_id   TEXT NOT NULL,
    model_id        TEXT NOT NULL,
    payment_id      TEXT NOT NULL,
    role            TEXT NOT NULL,
    outcome         TEXT NOT NULL,
    probability_ppm BIGINT,
    score           BIGINT,
    decision        TEXT,
    latency_us      BIGINT NOT NULL,
    created_at      BIGINT NOT NULL,
    PRIMARY KEY (assessment_id, model_id)
);
CREATE INDEX risk_model_scores_model ON risk_model_scores(model_id, created_at);
