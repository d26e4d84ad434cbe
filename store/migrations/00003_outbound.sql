-- Texts we start ourselves: invitations (`haveyoursay send`) and reminders.
-- River's own tables (the job queue that sends them) are made by
-- rivermigrate, not here: see DB.MigrateRiver.

-- +goose Up
-- One row per person per batch. The row is the send's state machine: a text
-- is sent only by the job that moves its row from 'pending' to 'sending', so
-- a job that runs twice (a restart, a retry, a second worker) never texts
-- anyone twice. The number is kept encrypted, like participants'.
CREATE TABLE outbound (
    id              bigserial PRIMARY KEY,
    batch_id        text    NOT NULL,
    kind            text    NOT NULL CHECK (kind IN ('invite', 'reminder')),
    survey_id       text    NOT NULL,
    survey_version  int     NOT NULL,
    phone_hash      bytea   NOT NULL,
    phone_enc       bytea   NOT NULL,
    phone_masked    text    NOT NULL,
    line            int     NOT NULL DEFAULT 0,     -- the line of the CSV file it came from
    sender          text    NOT NULL,               -- a number (+44...) or a Messaging Service SID (MG...)
    any_time        boolean NOT NULL DEFAULT false, -- quiet hours overridden
    conversation_id text,
    status          text    NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'sending', 'sent', 'opted_out', 'skipped', 'failed', 'unknown')),
    reason          text    NOT NULL DEFAULT '',
    message_sid     text,
    error_code      int,
    attempts        int     NOT NULL DEFAULT 0,
    not_before      timestamptz,                    -- waiting for quiet hours to end
    claimed_at      timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (batch_id, phone_hash),
    FOREIGN KEY (survey_id, survey_version) REFERENCES survey_versions (survey_id, version)
);
CREATE INDEX outbound_batch ON outbound (batch_id, status);
-- A conversation is reminded once.
CREATE UNIQUE INDEX outbound_reminder ON outbound (conversation_id) WHERE kind = 'reminder';
-- Reminders look for conversations whose last text is old.
CREATE INDEX messages_conversation ON messages (conversation_id, created_at) WHERE conversation_id IS NOT NULL;

-- +goose Down
DROP INDEX messages_conversation;
DROP TABLE outbound;
