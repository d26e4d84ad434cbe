-- Privacy: how long each survey keeps what members said, erasure requests
-- (a member texting FORGET, or staff acting on a request by phone), Twilio
-- copies of recordings still to delete, and an audit log nobody can change.

-- +goose Up

-- How long a survey keeps answers and recordings, when it differs from the
-- service's defaults (HYS_RETAIN_ANSWERS, HYS_RETAIN_RECORDINGS). NULL:
-- the default.
CREATE TABLE survey_retention (
    survey_id  text PRIMARY KEY REFERENCES surveys (id),
    answers_days    int CHECK (answers_days > 0),
    recordings_days int CHECK (recordings_days > 0),
    updated_by text NOT NULL DEFAULT '',
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- A request to erase everything about a number. It holds the number only
-- until the erasure is done: the row is deleted in the same transaction.
CREATE TABLE forget_requests (
    id           bigserial PRIMARY KEY,
    phone_hash   bytea NOT NULL,
    phone_enc    bytea NOT NULL,
    source       text  NOT NULL CHECK (source IN ('sms', 'staff', 'cli')),
    requested_by text  NOT NULL DEFAULT '',
    confirm      boolean NOT NULL DEFAULT false, -- text them when it is done
    requested_at timestamptz NOT NULL DEFAULT now(),
    attempts     int NOT NULL DEFAULT 0,
    last_error   text NOT NULL DEFAULT ''
);
CREATE INDEX forget_requests_hash ON forget_requests (phone_hash);

-- Twilio's copy of a recording we must delete through its REST API, kept
-- until Twilio confirms (a recording SID says nothing about anyone).
CREATE TABLE twilio_deletions (
    recording_sid text PRIMARY KEY,
    reason        text NOT NULL,   -- forget, retention
    attempts      int  NOT NULL DEFAULT 0,
    last_error    text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now()
);

-- The audit log is append-only: entries cannot be changed or removed, by
-- the application or by anyone with SQL, short of dropping the trigger
-- (which a superuser could; that is what database backups and the
-- server's own logs are for).
-- +goose StatementBegin
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log cannot be changed or deleted: entries are kept as written'
        USING ERRCODE = 'insufficient_privilege';
END
$$;
-- +goose StatementEnd
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM PUBLIC;

-- The audit page filters by who, what and when.
CREATE INDEX audit_log_actor ON audit_log (actor, at DESC);
CREATE INDEX audit_log_action ON audit_log (action, at DESC);

-- Retention finds old answers, recordings and messages by age.
CREATE INDEX recordings_created ON recordings (created_at);
CREATE INDEX messages_created ON messages (created_at);
CREATE INDEX call_inputs_created ON call_inputs (created_at);

-- +goose Down
DROP INDEX call_inputs_created, messages_created, recordings_created, audit_log_action, audit_log_actor;
DROP TRIGGER audit_log_no_truncate ON audit_log;
DROP TRIGGER audit_log_no_update ON audit_log;
DROP FUNCTION audit_log_append_only();
DROP TABLE twilio_deletions, forget_requests, survey_retention;
