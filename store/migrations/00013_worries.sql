-- Safeguarding: worries about a member. A worry is raised when a risk
-- phrase is found in what a member texted, said or recorded, or by hand by
-- staff. Its original record (the member's words as they came, when, and
-- how) can never be changed: the database refuses it. What staff did about
-- it is an append-only log. Each alert text to the safeguarding lead and
-- deputy keeps its delivery state.

-- +goose Up
CREATE TABLE worries (
    id              bigserial PRIMARY KEY,
    -- What raised it, so a webhook Twilio sends twice raises one worry:
    -- the MessageSid, CallSid and step, or recording and transcript source.
    dedupe_key      text NOT NULL UNIQUE,
    -- No foreign keys: a worry can be written before the journal has
    -- written its conversation (Postgres was down), and it outlives the
    -- member's other data for as long as the charity's policy says.
    conversation_id text,
    participant_id  bigint,
    channel         text NOT NULL CHECK (channel IN ('sms', 'voice')),
    source          text NOT NULL CHECK (source IN ('text', 'speech', 'transcript', 'not-understood', 'hand')),
    phrase          text NOT NULL DEFAULT '',   -- the risk phrase that matched ('' for a hand flag)
    words           text NOT NULL DEFAULT '',   -- verbatim: the text, the speech or the transcript
    recording_sid   text,                       -- the recording a transcript is of
    raised_by       text NOT NULL DEFAULT '',   -- '' found by the phrase list; else the staff member
    reason          text NOT NULL DEFAULT '',   -- a hand flag's reason
    said_at         timestamptz NOT NULL,       -- when the member said it
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX worries_created ON worries (created_at DESC, id DESC);
CREATE INDEX worries_conversation ON worries (conversation_id) WHERE conversation_id IS NOT NULL;

-- Who looked at a worry, when, what they did and who they told. Entries
-- are never changed: a later entry corrects an earlier one.
CREATE TABLE worry_actions (
    id       bigserial PRIMARY KEY,
    worry_id bigint NOT NULL REFERENCES worries (id),
    actor    text   NOT NULL,
    kind     text   NOT NULL CHECK (kind IN ('looked', 'acted', 'closed', 'reopened')),
    did      text   NOT NULL DEFAULT '',
    told     text   NOT NULL DEFAULT '',
    at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX worry_actions_worry ON worry_actions (worry_id, id);

-- The alert texts: one row per worry and number alerted (masked).
CREATE TABLE worry_alerts (
    worry_id    bigint NOT NULL REFERENCES worries (id),
    sent_to     text   NOT NULL,
    status      text   NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent')),
    message_sid text,
    attempts    int    NOT NULL DEFAULT 0,
    last_error  text   NOT NULL DEFAULT '',
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (worry_id, sent_to)
);

-- The original record cannot be edited, and the log cannot be rewritten.
-- Deleting is refused too, except by the retention job, which says so for
-- its own transaction: SET LOCAL hys.worry_retention = 'on'.
-- +goose StatementBegin
CREATE FUNCTION worries_keep() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' AND coalesce(current_setting('hys.worry_retention', true), '') = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'a worry''s record cannot be changed or deleted (% on %)', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'integrity_constraint_violation';
END
$$;
-- +goose StatementEnd
CREATE TRIGGER worries_keep BEFORE UPDATE OR DELETE ON worries
    FOR EACH ROW EXECUTE FUNCTION worries_keep();
CREATE TRIGGER worries_keep_all BEFORE TRUNCATE ON worries
    FOR EACH STATEMENT EXECUTE FUNCTION worries_keep();
CREATE TRIGGER worry_actions_keep BEFORE UPDATE OR DELETE ON worry_actions
    FOR EACH ROW EXECUTE FUNCTION worries_keep();
CREATE TRIGGER worry_actions_keep_all BEFORE TRUNCATE ON worry_actions
    FOR EACH STATEMENT EXECUTE FUNCTION worries_keep();

-- +goose Down
DROP TABLE worry_alerts, worry_actions, worries;
DROP FUNCTION worries_keep();
