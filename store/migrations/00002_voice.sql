-- Voice: the recordings members make on the phone, their transcripts, and
-- the recorded prompts that are played instead of spoken text.

-- +goose Up

-- A recording is downloaded from Twilio into our own storage when Twilio's
-- recording status callback arrives (after the call, sometimes long after).
-- There is no foreign key to conversations: the callback may arrive before
-- the journal has written the conversation (Postgres was down and the
-- events are still spooled). answer_key is answers.dedupe_key of the answer
-- the recording belongs to.
CREATE TABLE recordings (
    sid             text PRIMARY KEY,
    call_sid        text NOT NULL,
    conversation_id text NOT NULL,
    question_id     text NOT NULL,
    answer_key      text NOT NULL,
    language        text NOT NULL DEFAULT '',
    seconds         int  NOT NULL DEFAULT 0,
    content_type    text NOT NULL,
    audio           bytea NOT NULL,
    deleted_from_twilio_at timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX recordings_conversation ON recordings (conversation_id);
CREATE INDEX recordings_answer ON recordings (answer_key);

-- Transcripts of recordings. A machine transcript (from Twilio or from a
-- transcription service) is stored once per source; a staff correction is a
-- new row, so the original is always kept.
CREATE TABLE transcripts (
    id            bigserial PRIMARY KEY,
    recording_sid text NOT NULL,
    answer_key    text NOT NULL DEFAULT '',
    source        text NOT NULL CHECK (source IN ('twilio', 'service', 'staff')),
    status        text NOT NULL CHECK (status IN ('completed', 'failed')),
    text          text NOT NULL DEFAULT '',
    external_sid  text,
    created_by    text,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX transcripts_machine ON transcripts (recording_sid, source) WHERE source <> 'staff';
CREATE INDEX transcripts_recording ON transcripts (recording_sid, id);
CREATE INDEX transcripts_answer ON transcripts (answer_key);

-- Recorded prompts, per survey (or '' for prompts of the whole service,
-- like the recording notice), language and prompt key ("intro",
-- "question:happy"...). name is the unguessable file name served at
-- /audio/{name}. A replaced prompt is kept (replaced_at set) so a call that
-- is already playing it is not cut off.
CREATE TABLE audio_prompts (
    name         text PRIMARY KEY,
    survey_id    text NOT NULL,
    language     text NOT NULL,
    prompt_key   text NOT NULL,
    content_type text NOT NULL,
    duration_ms  int  NOT NULL,
    data         bytea NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    replaced_at  timestamptz
);
CREATE UNIQUE INDEX audio_prompts_current ON audio_prompts (survey_id, language, prompt_key) WHERE replaced_at IS NULL;

-- +goose Down
DROP TABLE audio_prompts, transcripts, recordings;
