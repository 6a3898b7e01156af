-- Answers to a workflow prompt kept between the steps of a multi-step form (Discord modals
-- hold at most five inputs) and across replicas, per platform user, finding and prompt.
-- `answers` is a JSON object (field id → text). Times are unix milliseconds (UTC); drafts
-- older than a day are pruned.
CREATE TABLE prompt_drafts (
    platform    TEXT    NOT NULL,
    user_id     TEXT    NOT NULL,
    finding_key INTEGER NOT NULL REFERENCES findings (key),
    prompt      TEXT    NOT NULL,
    answers     TEXT    NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (platform, user_id, finding_key, prompt)
);
CREATE INDEX prompt_drafts_updated ON prompt_drafts (updated_at);
