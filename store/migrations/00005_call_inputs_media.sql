-- call_inputs keeps everything a caller pressed or said, matched or not:
-- the phone's equivalent of the messages table. A sentence the menu did
-- not understand ("the staff shout at me") is kept for a person to read.
-- messages.media keeps the addresses of pictures and voice notes sent by
-- text (MMS), which have no words of their own.

-- +goose Up
CREATE TABLE call_inputs (
    dedupe_key      text PRIMARY KEY,  -- CallSid and step: a repeated webhook is kept once
    conversation_id text NOT NULL,
    call_sid        text NOT NULL,
    stage           text NOT NULL,     -- consent, language, question, resume, pick, ...
    question_id     text NOT NULL DEFAULT '',
    digits          text NOT NULL DEFAULT '',
    speech          text NOT NULL DEFAULT '',
    confidence      real,
    understood      boolean NOT NULL,  -- false: the menu did not match it
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX call_inputs_conversation ON call_inputs (conversation_id, created_at);
CREATE INDEX call_inputs_not_understood ON call_inputs (created_at) WHERE NOT understood AND speech <> '';

ALTER TABLE messages ADD COLUMN media text[] NOT NULL DEFAULT '{}';

-- +goose Down
ALTER TABLE messages DROP COLUMN media;
DROP TABLE call_inputs;
