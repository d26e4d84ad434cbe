-- The core of Have Your Say: surveys and their versions, the people who
-- answer them, their conversations and answers, and the audit log.

-- +goose Up
CREATE TABLE surveys (
    id              text PRIMARY KEY,
    title           text NOT NULL,
    current_version int  NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);

-- Every imported file that changed the survey becomes a new version; a
-- conversation keeps the version it started on.
CREATE TABLE survey_versions (
    survey_id  text NOT NULL REFERENCES surveys (id),
    version    int  NOT NULL,
    source     text NOT NULL,
    checksum   text NOT NULL,
    file_name  text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (survey_id, version)
);

-- A participant is a phone number. The number itself is kept encrypted;
-- phone_hash (a keyed hash) finds it, phone_masked is what staff see.
CREATE TABLE participants (
    id           bigserial PRIMARY KEY,
    phone_hash   bytea NOT NULL UNIQUE,
    phone_enc    bytea NOT NULL,
    phone_masked text  NOT NULL,
    language     text  NOT NULL DEFAULT '',
    needs        jsonb NOT NULL DEFAULT '{}',
    opted_out_at timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now()
);

-- A conversation's id is made by the app (not the database), so answers
-- can be spooled while Postgres is down and written later.
CREATE TABLE conversations (
    id             text PRIMARY KEY,
    participant_id bigint NOT NULL REFERENCES participants (id),
    survey_id      text   NOT NULL,
    survey_version int    NOT NULL,
    channel        text   NOT NULL CHECK (channel IN ('sms', 'voice')),
    call_sid       text UNIQUE,
    status         text   NOT NULL DEFAULT 'active'
                   CHECK (status IN ('active', 'completed', 'partial', 'refused')),
    consent        text,
    language       text   NOT NULL DEFAULT '',
    started_at     timestamptz NOT NULL DEFAULT now(),
    ended_at       timestamptz,
    FOREIGN KEY (survey_id, survey_version) REFERENCES survey_versions (survey_id, version)
);
CREATE INDEX conversations_participant ON conversations (participant_id, started_at DESC);
CREATE INDEX conversations_survey ON conversations (survey_id, started_at DESC);

-- dedupe_key makes a webhook Twilio sends twice store its answer once
-- (MessageSid for SMS, CallSid + step for calls).
CREATE TABLE answers (
    id              bigserial PRIMARY KEY,
    conversation_id text NOT NULL REFERENCES conversations (id),
    question_id     text   NOT NULL,
    value           text   NOT NULL DEFAULT '',
    raw             text   NOT NULL DEFAULT '',
    via             text   NOT NULL DEFAULT '',
    no_answer       boolean NOT NULL DEFAULT false,
    skipped         boolean NOT NULL DEFAULT false,
    themes          text[] NOT NULL DEFAULT '{}',
    dedupe_key      text   NOT NULL UNIQUE,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX answers_conversation ON answers (conversation_id, id);

-- dedupe_key: the MessageSid for texts Twilio delivered or we sent through
-- the REST API; for TwiML replies, the MessageSid they answer plus a number.
CREATE TABLE messages (
    id              bigserial PRIMARY KEY,
    dedupe_key      text NOT NULL UNIQUE,
    direction       text NOT NULL CHECK (direction IN ('in', 'out')),
    message_sid     text,
    participant_id  bigint REFERENCES participants (id),
    conversation_id text REFERENCES conversations (id),
    body            text NOT NULL DEFAULT '',
    status          text NOT NULL DEFAULT '',
    error_code      int,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX messages_participant ON messages (participant_id, id);
CREATE INDEX messages_sid ON messages (message_sid) WHERE message_sid IS NOT NULL;

-- A member asked for a person: staff call them back.
CREATE TABLE callbacks (
    id              bigserial PRIMARY KEY,
    dedupe_key      text NOT NULL UNIQUE,
    participant_id  bigint NOT NULL REFERENCES participants (id),
    conversation_id text REFERENCES conversations (id),
    channel         text NOT NULL,
    reason          text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    done_at         timestamptz,
    done_by         text
);

CREATE TABLE staff_users (
    id            bigserial PRIMARY KEY,
    email         text NOT NULL UNIQUE,
    name          text NOT NULL,
    role          text NOT NULL CHECK (role IN ('admin', 'staff', 'reviewer', 'safeguarding')),
    password_hash text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE audit_log (
    id      bigserial PRIMARY KEY,
    at      timestamptz NOT NULL DEFAULT now(),
    actor   text NOT NULL,
    action  text NOT NULL,
    subject text NOT NULL DEFAULT '',
    detail  jsonb NOT NULL DEFAULT '{}'
);

-- +goose Down
DROP TABLE audit_log, staff_users, callbacks, messages, answers, conversations,
    participants, survey_versions, surveys;
