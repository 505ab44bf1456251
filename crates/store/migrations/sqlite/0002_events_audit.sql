-- The outbox of domain events and the hash-chained audit log. Both take their sequence
-- numbers from ledger_heads, locked by each writer batch, so that sequence order is commit
-- order across processes: a reader following `seq` never skips an event that commits late.
-- Ids are UUIDv7 made by the writer; only the indexes that reads need are kept, since each
-- one costs every write.
CREATE TABLE ledger_heads (
    id          BIGINT PRIMARY KEY,
    event_seq   BIGINT NOT NULL,
    audit_seq   BIGINT NOT NULL,
    audit_hash  TEXT NOT NULL
);
INSERT INTO ledger_heads (id, event_seq, audit_seq, audit_hash)
VALUES (1, 0, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TABLE events (
    seq            BIGINT PRIMARY KEY,
    id             TEXT NOT NULL,
    type           TEXT NOT NULL,
    resource_type  TEXT NOT NULL,
    resource_id    TEXT NOT NULL,
    data           TEXT NOT NULL,
    request_id     TEXT,
    created_at     BIGINT NOT NULL
);
CREATE INDEX events_type ON events(type, seq);

CREATE TABLE audit_events (
    seq            BIGINT PRIMARY KEY,
    id             TEXT NOT NULL,
    actor          TEXT NOT NULL,
    action         TEXT NOT NULL,
    resource_type  TEXT,
    resource_id    TEXT,
    result         TEXT NOT NULL,
    request_id     TEXT,
    ip             TEXT,
    details        TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    prev_hash      TEXT NOT NULL,
    hash           TEXT NOT NULL
);
CREATE INDEX audit_actor ON audit_events(actor, seq);
CREATE INDEX audit_resource ON audit_events(resource_id, seq);
CREATE INDEX audit_time ON audit_events(created_at);
