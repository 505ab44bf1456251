-- Data migrations done in Rust after the schema migrations (rewrites that SQL cannot express
-- on both databases), each applied once: its name is inserted in the same transaction.
CREATE TABLE data_migrations (
    name        TEXT PRIMARY KEY,
    applied_at  BIGINT NOT NULL
);
