-- Staff sign-in: the viewer role, disabled accounts, and when each person
-- last used the dashboard (so the home page can say what is new since their
-- last visit). Indexes for the home page and the audit log.

-- +goose Up
ALTER TABLE staff_users DROP CONSTRAINT staff_users_role_check;
ALTER TABLE staff_users ADD CONSTRAINT staff_users_role_check
    CHECK (role IN ('admin', 'staff', 'reviewer', 'viewer', 'safeguarding'));
ALTER TABLE staff_users ALTER COLUMN name SET DEFAULT '';
-- E-mail addresses are kept as typed but are one account whatever their case.
CREATE UNIQUE INDEX staff_users_email_lower ON staff_users (lower(email));
ALTER TABLE staff_users
    ADD COLUMN disabled_at      timestamptz,
    ADD COLUMN last_seen_at     timestamptz, -- the latest request, at most a minute old
    ADD COLUMN previous_seen_at timestamptz, -- last_seen_at when this sign-in began
    ADD COLUMN updated_at       timestamptz NOT NULL DEFAULT now();

CREATE INDEX audit_log_at ON audit_log (at DESC);
CREATE INDEX audit_log_subject ON audit_log (subject, at DESC);
CREATE INDEX answers_created ON answers (created_at);

-- +goose Down
DROP INDEX answers_created, audit_log_subject, audit_log_at, staff_users_email_lower;
ALTER TABLE staff_users DROP COLUMN disabled_at, DROP COLUMN last_seen_at,
    DROP COLUMN previous_seen_at, DROP COLUMN updated_at;
ALTER TABLE staff_users ALTER COLUMN name DROP DEFAULT;
DELETE FROM staff_users WHERE role = 'viewer';
ALTER TABLE staff_users DROP CONSTRAINT staff_users_role_check;
ALTER TABLE staff_users ADD CONSTRAINT staff_users_role_check
    CHECK (role IN ('admin', 'staff', 'reviewer', 'safeguarding'));
