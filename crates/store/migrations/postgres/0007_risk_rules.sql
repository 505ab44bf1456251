-- Risk rules as data: the current version of each rule and every version ever written.
CREATE TABLE risk_rules (
    id          TEXT PRIMARY KEY,
    version     BIGINT NOT NULL,
    document    TEXT NOT NULL,
    deleted     BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE risk_rule_versions (
    rule_id     TEXT NOT NULL,
    version     BIGINT NOT NULL,
    document    TEXT,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (rule_id, version)
);
