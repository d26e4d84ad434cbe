-- "You said, we did": the charity's themes in its own words, actions staff
-- take on what members said, member reviewers' findings, quotes chosen for
-- reports, whether a member said we may text them what we did, and the
-- texts that told them.

-- +goose Up
-- A theme, written by the charity (`haveyoursay themes import FILE`).
-- Answers carry theme ids in answers.themes.
CREATE TABLE themes (
    id          text PRIMARY KEY,
    title       text NOT NULL,
    description text NOT NULL DEFAULT '',
    emoji       text NOT NULL DEFAULT '',
    position    int  NOT NULL DEFAULT 0,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- An action: what people said, what we will do (or did), who owns it, by
-- when, and how it stands. theme_id and survey_id are optional ('' none).
CREATE TABLE actions (
    id          bigserial PRIMARY KEY,
    theme_id    text NOT NULL DEFAULT '',
    survey_id   text NOT NULL DEFAULT '',
    said        text NOT NULL,
    doing       text NOT NULL,
    owner       text NOT NULL DEFAULT '',
    due         date,
    status      text NOT NULL DEFAULT 'planned'
                CHECK (status IN ('planned', 'doing', 'done', 'cannot')),
    reason      text NOT NULL DEFAULT '',   -- why we cannot, in plain words
    member_text text NOT NULL DEFAULT '',   -- the easy-read text members are sent
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    done_at     timestamptz
);
CREATE INDEX actions_theme ON actions (theme_id, id DESC);
CREATE INDEX actions_survey ON actions (survey_id, id DESC);

-- The answers an action covers.
CREATE TABLE action_answers (
    action_id bigint NOT NULL REFERENCES actions (id) ON DELETE CASCADE,
    answer_id bigint NOT NULL REFERENCES answers (id),
    PRIMARY KEY (action_id, answer_id)
);
CREATE INDEX action_answers_answer ON action_answers (answer_id);

-- A member reviewer's finding on a theme or a survey, credited in reports
-- to "member reviewers".
CREATE TABLE findings (
    id         bigserial PRIMARY KEY,
    theme_id   text NOT NULL DEFAULT '',
    survey_id  text NOT NULL DEFAULT '',
    body       text NOT NULL,
    author     text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- A quote staff chose for reports ("use this quote"): the words, checked
-- to hold no phone number, never a name or number of the member.
CREATE TABLE quotes (
    answer_id  bigint PRIMARY KEY REFERENCES answers (id),
    body       text NOT NULL,
    chosen_by  text NOT NULL,
    chosen_at  timestamptz NOT NULL DEFAULT now()
);

-- "Can we text you to tell you what we did?": true yes, false no, null not
-- asked.
ALTER TABLE conversations ADD COLUMN tell_me boolean;

-- Telling members an action is done goes through the outbound sender: one
-- row per member per action (batch 'action:ID'), so nobody is told twice.
ALTER TABLE outbound DROP CONSTRAINT outbound_kind_check;
ALTER TABLE outbound ADD CONSTRAINT outbound_kind_check CHECK (kind IN ('invite', 'reminder', 'action'));

-- +goose Down
DELETE FROM outbound WHERE kind = 'action';
ALTER TABLE outbound DROP CONSTRAINT outbound_kind_check;
ALTER TABLE outbound ADD CONSTRAINT outbound_kind_check CHECK (kind IN ('invite', 'reminder'));
ALTER TABLE conversations DROP COLUMN tell_me;
DROP TABLE quotes, findings, action_answers, actions, themes;
