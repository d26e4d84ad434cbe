-- Data out: exports, the JSON API and the Flow Results API.
--
-- API tokens are kept as the SHA-256 of a high-entropy random token: the
-- token itself is shown once, when it is made, and never stored.
--
-- Each survey gets a random version-4 UUID: the id of its Flow Results
-- package, the same in every export and in the API.
--
-- written_xact is the transaction that wrote an answer or a conversation.
-- Ids are handed out when a row is inserted, not when its transaction
-- commits, so a reader paging by id alone can pass a row that commits late
-- and never see it. Rows written by transactions older than every one still
-- running are final; paging in (written_xact, id) order over those only
-- returns every row exactly once while new ones arrive.

-- +goose Up
CREATE TABLE api_tokens (
    id           bigserial PRIMARY KEY,
    name         text  NOT NULL,
    role         text  NOT NULL CHECK (role IN ('viewer', 'staff')),
    token_hash   bytea NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz
);
CREATE UNIQUE INDEX api_tokens_name ON api_tokens (lower(name)) WHERE revoked_at IS NULL;

ALTER TABLE surveys ADD COLUMN package_id uuid NOT NULL DEFAULT gen_random_uuid();
CREATE UNIQUE INDEX surveys_package_id ON surveys (package_id);

ALTER TABLE answers ADD COLUMN written_xact xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE INDEX answers_written ON answers (written_xact, id);
ALTER TABLE conversations ADD COLUMN written_xact xid8 NOT NULL DEFAULT pg_current_xact_id();
CREATE INDEX conversations_survey_written ON conversations (survey_id, written_xact, id);

-- +goose Down
DROP INDEX conversations_survey_written, answers_written, surveys_package_id;
ALTER TABLE conversations DROP COLUMN written_xact;
ALTER TABLE answers DROP COLUMN written_xact;
ALTER TABLE surveys DROP COLUMN package_id;
DROP TABLE api_tokens;
