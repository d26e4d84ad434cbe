-- Each text we send keeps the id of the River job that sends it, so that
-- sending the same list again finds its jobs by River's primary key (through
-- River's own API) rather than by searching River's table on a JSON field.

-- +goose Up
ALTER TABLE outbound ADD COLUMN job_id bigint;

-- Texts still pending from before this column: find their jobs once, now.
-- (On a new database River's tables come after these migrations.)
-- +goose StatementBegin
DO $$
BEGIN
    IF to_regclass('river_job') IS NOT NULL THEN
        UPDATE outbound o SET job_id = j.id
        FROM river_job j
        WHERE o.status = 'pending' AND j.kind = 'hys_sms_send' AND (j.args->>'id')::bigint = o.id
            AND j.state NOT IN ('completed', 'cancelled', 'discarded');
    END IF;
END $$;
-- +goose StatementEnd

-- +goose Down
ALTER TABLE outbound DROP COLUMN job_id;
