-- Prompts in members' own voices (issue 17). Every recording of a phrase
-- is a version of it: a phone recording waits ('recorded') for a staff
-- "use this" before it is played ('active'); an older one is 'retired' but
-- still served, so a call already playing it is not cut off. A 'draft' is
-- one heard back on the phone and not yet kept.

-- +goose Up
ALTER TABLE audio_prompts
    ADD COLUMN version     int  NOT NULL DEFAULT 1,
    ADD COLUMN status      text NOT NULL DEFAULT 'active' CHECK (status IN ('draft', 'recorded', 'active', 'retired')),
    ADD COLUMN words       text NOT NULL DEFAULT '',   -- the sentence voiced, as it was when recorded
    ADD COLUMN source      text NOT NULL DEFAULT 'upload' CHECK (source IN ('upload', 'phone')),
    ADD COLUMN recorded_by text NOT NULL DEFAULT '',   -- a person's name or e-mail, never a number
    ADD COLUMN session_id  bigint,
    ADD COLUMN peak_db     real NOT NULL DEFAULT 0,
    ADD COLUMN rms_db      real NOT NULL DEFAULT 0,
    ADD COLUMN clipped     real NOT NULL DEFAULT 0,
    ADD COLUMN approved_by text NOT NULL DEFAULT '',
    ADD COLUMN approved_at timestamptz;
UPDATE audio_prompts SET status = 'retired' WHERE replaced_at IS NOT NULL;
DROP INDEX audio_prompts_current;
CREATE UNIQUE INDEX audio_prompts_active ON audio_prompts (survey_id, language, prompt_key) WHERE status = 'active';
CREATE INDEX audio_prompts_phrase ON audio_prompts (survey_id, language, prompt_key, version);

-- A recording session lets whoever has its PIN record a survey's phrases
-- by phone, for a day. The PIN is kept only as a salted hash.
CREATE TABLE recording_sessions (
    id         bigserial PRIMARY KEY,
    survey_id  text NOT NULL,
    language   text NOT NULL,
    pin_salt   bytea NOT NULL,
    pin_hash   bytea NOT NULL,
    voice      text NOT NULL DEFAULT '',        -- who will record, shown as "recorded by"
    created_by text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    done       text[] NOT NULL DEFAULT '{}'     -- phrase keys kept or skipped, in order: the progress
);
CREATE INDEX recording_sessions_open ON recording_sessions (expires_at);

-- +goose Down
DROP TABLE recording_sessions;
DROP INDEX audio_prompts_phrase;
DROP INDEX audio_prompts_active;
DELETE FROM audio_prompts WHERE status IN ('draft', 'recorded');
UPDATE audio_prompts SET replaced_at = coalesce(replaced_at, now()) WHERE status = 'retired';
CREATE UNIQUE INDEX audio_prompts_current ON audio_prompts (survey_id, language, prompt_key) WHERE replaced_at IS NULL;
ALTER TABLE audio_prompts DROP COLUMN version, DROP COLUMN status, DROP COLUMN words, DROP COLUMN source,
    DROP COLUMN recorded_by, DROP COLUMN session_id, DROP COLUMN peak_db, DROP COLUMN rms_db, DROP COLUMN clipped,
    DROP COLUMN approved_by, DROP COLUMN approved_at;
