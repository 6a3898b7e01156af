-- Chat delivery. Outgoing messages that reflect a state change are written to `outbox` in
-- the same transaction as the events that caused them; a worker delivers them in `id`
-- order per lane (one lane per platform and finding), so a thread's messages arrive in
-- order. A row is deleted once delivered. Times are unix milliseconds (UTC).
CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    platform    TEXT    NOT NULL,
    finding_key INTEGER NOT NULL REFERENCES findings (key),
    lane        TEXT    NOT NULL,
    -- what to deliver, as JSON (platform neutral: rendered at delivery time)
    delivery    TEXT    NOT NULL,
    -- pending | sending | dead
    state       TEXT    NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    not_before  INTEGER NOT NULL,
    -- while `sending`: the claim expires then; an expired claim means the sender may have
    -- crashed after the platform accepted the message, so the next claim reconciles first
    lease_until INTEGER,
    in_doubt    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT,
    created_at  INTEGER NOT NULL
);
CREATE INDEX outbox_due ON outbox (state, not_before, id);
CREATE INDEX outbox_lane ON outbox (lane, id);

-- The messages remedybot keeps up to date per finding and platform: `thread` is the message
-- the conversation hangs under (our card, or the alert message the finding came from),
-- `card` is our status message that is edited in place, `approval` the latest approval
-- request. `message_ref` is the platform's message id (Slack `ts`).
CREATE TABLE chat_messages (
    platform    TEXT    NOT NULL,
    finding_key INTEGER NOT NULL REFERENCES findings (key),
    role        TEXT    NOT NULL,
    channel     TEXT    NOT NULL,
    message_ref TEXT    NOT NULL,
    PRIMARY KEY (platform, finding_key, role)
);
CREATE INDEX chat_messages_ref ON chat_messages (platform, channel, message_ref);

-- Inbound events already handled, by platform event id (Slack retries reuse the event id).
CREATE TABLE inbound_events (
    platform    TEXT    NOT NULL,
    event_id    TEXT    NOT NULL,
    received_at INTEGER NOT NULL,
    PRIMARY KEY (platform, event_id)
);
