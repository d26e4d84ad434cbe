-- What starts a survey, kept where the database can enforce it.
--
-- A keyword starts exactly one survey: a member who texts DAYS must reach
-- the same survey every time, so the keyword is the primary key.
--
-- A number may be shared on purpose (a caller hears a keypad menu of the
-- surveys on it), so a number is not exclusive; what is exclusive is a key
-- on that menu. Keys run from 1 to 9, so at most nine surveys share a
-- number, and the database refuses a tenth rather than letting the menu
-- leave one out.
--
-- Both tables hold the current version's keywords and numbers, written by
-- the same transaction that makes a version current. `migrate` fills them
-- from the surveys already stored (that needs the survey loader, so it is
-- done in Go after this file).

-- +goose Up
CREATE TABLE survey_keywords (
    keyword   text PRIMARY KEY CHECK (keyword = upper(keyword)),
    survey_id text NOT NULL REFERENCES surveys (id)
);
CREATE INDEX survey_keywords_survey ON survey_keywords (survey_id);

CREATE TABLE survey_numbers (
    number    text NOT NULL,
    survey_id text NOT NULL REFERENCES surveys (id),
    menu_key  smallint NOT NULL CHECK (menu_key BETWEEN 1 AND 9),
    PRIMARY KEY (number, survey_id),
    UNIQUE (number, menu_key)
);
CREATE INDEX survey_numbers_survey ON survey_numbers (survey_id);

-- +goose Down
DROP TABLE survey_numbers;
DROP TABLE survey_keywords;
