-- Reviewing what members said: full-text search over their words, themes
-- and notes staff add, flags for worries, staff corrections of transcripts,
-- what came of a call-back, and the indexes the dashboard's lists page by.

-- +goose Up

-- The words of an answer that staff search: what was typed or said, or, for
-- a recording, its current transcript. The current transcript is the
-- latest staff correction if there is one, else the transcription
-- service's, else Twilio's (transcripts keep every version; see 00002).
-- answers.transcript is kept up to date by the triggers below, because a
-- transcript can arrive before or after its answer reaches Postgres.
ALTER TABLE answers ADD COLUMN transcript text NOT NULL DEFAULT '';
ALTER TABLE answers ADD COLUMN words tsvector GENERATED ALWAYS AS (
    to_tsvector('english', CASE WHEN via = 'recording' THEN transcript ELSE raw END)) STORED;
CREATE INDEX answers_words ON answers USING gin (words);
CREATE INDEX answers_themes ON answers USING gin (themes);

-- +goose StatementBegin
CREATE FUNCTION current_transcript(key text) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT text FROM transcripts
    WHERE answer_key = key AND status = 'completed' AND text <> ''
    ORDER BY CASE source WHEN 'staff' THEN 3 WHEN 'service' THEN 2 ELSE 1 END DESC, id DESC
    LIMIT 1
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION answers_take_transcript() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.transcript := coalesce(current_transcript(NEW.dedupe_key), '');
    RETURN NEW;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER answers_transcript BEFORE INSERT ON answers
    FOR EACH ROW WHEN (NEW.via = 'recording') EXECUTE FUNCTION answers_take_transcript();

-- +goose StatementBegin
CREATE FUNCTION transcripts_to_answer() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.answer_key <> '' THEN
        UPDATE answers SET transcript = coalesce(current_transcript(NEW.answer_key), '')
        WHERE dedupe_key = NEW.answer_key;
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER transcripts_answer AFTER INSERT ON transcripts
    FOR EACH ROW EXECUTE FUNCTION transcripts_to_answer();

UPDATE answers SET transcript = coalesce(current_transcript(dedupe_key), '') WHERE via = 'recording';

-- A note staff (or a member reviewer) wrote about a conversation, or about
-- one answer in it.
CREATE TABLE notes (
    id              bigserial PRIMARY KEY,
    conversation_id text   NOT NULL,
    answer_id       bigint REFERENCES answers (id),
    body            text   NOT NULL,
    author          text   NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notes_conversation ON notes (conversation_id, id);

-- A flag: a worry about a member ("worry"), or a reviewer saying "this
-- matters" ("matters"). Who raised it, when and why; cleared, not deleted.
CREATE TABLE flags (
    id              bigserial PRIMARY KEY,
    conversation_id text   NOT NULL,
    answer_id       bigint REFERENCES answers (id),
    kind            text   NOT NULL CHECK (kind IN ('worry', 'matters')),
    reason          text   NOT NULL DEFAULT '',
    raised_by       text   NOT NULL,
    raised_at       timestamptz NOT NULL DEFAULT now(),
    cleared_by      text,
    cleared_at      timestamptz
);
CREATE INDEX flags_conversation ON flags (conversation_id, id);
CREATE INDEX flags_open ON flags (raised_at) WHERE cleared_at IS NULL;

-- What came of a call-back ("I called": reached, no answer, left a
-- message...), and when staff were texted that it was waiting.
ALTER TABLE callbacks ADD COLUMN outcome text NOT NULL DEFAULT '';
ALTER TABLE callbacks ADD COLUMN note text NOT NULL DEFAULT '';
ALTER TABLE callbacks ADD COLUMN staff_texted_at timestamptz;
CREATE INDEX callbacks_waiting ON callbacks (created_at, id) WHERE done_at IS NULL;

-- Newest first, page by page: (started_at, id) is the keyset.
CREATE INDEX conversations_started ON conversations (started_at DESC, id DESC);
CREATE INDEX conversations_survey_page ON conversations (survey_id, started_at DESC, id DESC);

-- +goose Down
DROP INDEX conversations_survey_page;
DROP INDEX conversations_started;
DROP INDEX callbacks_waiting;
ALTER TABLE callbacks DROP COLUMN staff_texted_at, DROP COLUMN note, DROP COLUMN outcome;
DROP TABLE flags, notes;
DROP TRIGGER transcripts_answer ON transcripts;
DROP TRIGGER answers_transcript ON answers;
DROP FUNCTION transcripts_to_answer();
DROP FUNCTION answers_take_transcript();
DROP FUNCTION current_transcript(text);
DROP INDEX answers_themes;
DROP INDEX answers_words;
ALTER TABLE answers DROP COLUMN words, DROP COLUMN transcript;
