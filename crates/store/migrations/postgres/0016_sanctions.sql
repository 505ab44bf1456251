-- Sanctions lists as data. Each import that changes a list is a version (counts of entries
-- added, changed and removed); `sanctions_entries` holds the entries in force, the
-- publisher's data as JSON with its digest. A user's last screening (status, best score in
-- ten-thousandths, the matches and the list versions it used) is what the payment gate reads;
-- a clearance is a reviewer's false-positive decision on a (user, entry) pair, valid while the
-- entry's digest is the one cleared.
CREATE TABLE sanctions_versions (
    id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    version BIGINT NOT NULL,
    entries BIGINT NOT NULL,
    added BIGINT NOT NULL,
    changed BIGINT NOT NULL,
    removed BIGINT NOT NULL,
    digest TEXT NOT NULL,
    origin TEXT NOT NULL,
    imported_at BIGINT NOT NULL,
    UNIQUE (source, version)
);

CREATE TABLE sanctions_entries (
    source TEXT NOT NULL,
    entry_id TEXT NOT NULL,
    digest TEXT NOT NULL,
    data TEXT NOT NULL,
    version BIGINT NOT NULL,
    PRIMARY KEY (source, entry_id)
);

CREATE TABLE sanctions_screenings (
    id TEXT PRIMARY KEY REFERENCES users (id),
    status TEXT NOT NULL,
    score BIGINT NOT NULL,
    reason TEXT NOT NULL,
    matches TEXT NOT NULL,
    cleared TEXT NOT NULL,
    versions TEXT NOT NULL,
    screened_at BIGINT NOT NULL
);

CREATE TABLE sanctions_clearances (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    source TEXT NOT NULL,
    entry_id TEXT NOT NULL,
    entry_digest TEXT NOT NULL,
    score BIGINT NOT NULL,
    reason TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX sanctions_clearances_user ON sanctions_clearances (user_id, created_at);
