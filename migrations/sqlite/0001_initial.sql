-- Findings are a projection of the events: `finding_states.state` holds the whole
-- FindingState as JSON; the columns of `findings` are copies of it for queries, kept
-- narrow so listings and reports read little. Times are unix milliseconds (UTC).
CREATE TABLE findings (
    key           INTEGER PRIMARY KEY AUTOINCREMENT,
    fingerprint   TEXT    NOT NULL UNIQUE,
    source        TEXT    NOT NULL,
    rule_id       TEXT    NOT NULL,
    title         TEXT    NOT NULL,
    asset         TEXT    NOT NULL,
    severity      TEXT    NOT NULL,
    severity_rank INTEGER NOT NULL,
    owner         TEXT,
    stage         TEXT    NOT NULL,
    resolution    TEXT,
    due_at        INTEGER,
    first_seen    INTEGER NOT NULL,
    last_seen     INTEGER NOT NULL,
    times_seen    INTEGER NOT NULL,
    -- set when a full scan of the finding's source and asset no longer reported it; cleared
    -- when a scan sees it again
    missing_since INTEGER,
    opened_at     INTEGER NOT NULL,
    closed_at     INTEGER,
    updated_at    INTEGER NOT NULL
);
CREATE INDEX findings_due ON findings (due_at, key) WHERE due_at IS NOT NULL;
CREATE INDEX findings_stage ON findings (stage, severity_rank);
CREATE INDEX findings_owner ON findings (owner);

CREATE TABLE finding_states (
    key   INTEGER PRIMARY KEY REFERENCES findings (key),
    state TEXT    NOT NULL
);

-- The decision trail: append-only, hash-chained in `seq` order.
CREATE TABLE events (
    seq            INTEGER PRIMARY KEY,
    finding_key    INTEGER NOT NULL REFERENCES findings (key),
    kind           TEXT    NOT NULL,
    actor_platform TEXT    NOT NULL,
    actor_id       TEXT    NOT NULL,
    actor_name     TEXT    NOT NULL,
    source         TEXT    NOT NULL,
    payload        TEXT    NOT NULL,
    at             INTEGER NOT NULL,
    hash           TEXT    NOT NULL
);
CREATE INDEX events_finding ON events (finding_key, seq);

-- The head of the chain: the last sequence number and its hash. Every writer locks this
-- row first, which serialises appends across connections and replicas.
CREATE TABLE chain_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash TEXT    NOT NULL
);
INSERT INTO chain_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');
