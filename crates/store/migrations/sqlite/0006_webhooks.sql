-- Webhooks. The relay fans events out to the matching endpoints in sequence order, keeping
-- its position in relay_cursors; each (event, endpoint) pair is one delivery with its own
-- id, retried with backoff until it succeeds or runs out of attempts.
CREATE TABLE relay_cursors (
    name      TEXT PRIMARY KEY,
    position  BIGINT NOT NULL
);

CREATE TABLE webhook_endpoints (
    id           TEXT PRIMARY KEY,
    url          TEXT NOT NULL,
    secret       TEXT NOT NULL,
    event_types  TEXT NOT NULL,
    status       TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);

CREATE TABLE webhook_deliveries (
    id                TEXT PRIMARY KEY,
    endpoint_id       TEXT NOT NULL REFERENCES webhook_endpoints(id),
    event_seq         BIGINT NOT NULL REFERENCES events(seq),
    status            TEXT NOT NULL,
    attempts          BIGINT NOT NULL,
    next_attempt_at   BIGINT NOT NULL,
    last_status_code  BIGINT,
    last_error        TEXT,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    UNIQUE (endpoint_id, event_seq)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(status, next_attempt_at);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries(endpoint_id, id);
