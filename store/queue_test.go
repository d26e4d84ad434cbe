package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/haveyoursay/haveyoursay/store"
	"github.com/haveyoursay/haveyoursay/store/storetest"
)

type testSendArgs struct {
	ID int64 `json:"id"`
}

func (testSendArgs) Kind() string { return "test_send" }

func testSendJob(id int64, notBefore time.Time) river.InsertManyParams {
	return river.InsertManyParams{Args: testSendArgs{ID: id}, InsertOpts: &river.InsertOpts{ScheduledAt: notBefore, MaxAttempts: 3}}
}

func queryInt(t *testing.T, db *store.DB, query string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := storetest.SQL(t, db).QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func exec(t *testing.T, db *store.DB, query string, args ...any) {
	t.Helper()
	if _, err := storetest.SQL(t, db).Exec(context.Background(), query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

func outboundPeople(p *store.Phones, n int) []store.NewOutbound {
	out := make([]store.NewOutbound, n)
	for i := range out {
		out[i] = store.NewOutbound{Person: person(p, fmt.Sprintf("+4477009005%02d", i)), Line: i + 2}
	}
	return out
}

// Each text queued has its job, and keeps the job's id; the same list again
// adds only the new people.
func TestQueueOutboundKeepsJobIDs(t *testing.T) {
	db := storetest.DB(t)
	ctx := context.Background()
	if _, _, err := db.SaveSurvey(ctx, "s", "S", "id: s", ""); err != nil {
		t.Fatal(err)
	}
	q, err := store.NewQueue(db, &river.Config{})
	if err != nil {
		t.Fatal(err)
	}
	b := store.OutboundBatch{ID: "b1", Kind: "invite", SurveyID: "s", SurveyVersion: 1, Sender: "+447700900000"}
	ph := phones(t)
	if n, err := q.QueueOutbound(ctx, b, outboundPeople(ph, 3), testSendJob); err != nil || n != 3 {
		t.Fatalf("QueueOutbound = %d, %v; want 3", n, err)
	}
	if n, err := q.QueueOutbound(ctx, b, outboundPeople(ph, 4), testSendJob); err != nil || n != 1 {
		t.Fatalf("QueueOutbound again = %d, %v; want only the new person", n, err)
	}
	if n := queryInt(t, db, `SELECT count(*) FROM outbound o JOIN river_job j ON j.id = o.job_id
		WHERE o.batch_id = 'b1' AND j.kind = 'test_send' AND (j.args->>'id')::bigint = o.id
			AND (j.metadata->>'outbound_id')::bigint = o.id`); n != 4 {
		t.Fatalf("%d texts point at their own job, want 4", n)
	}
	if n := queryInt(t, db, `SELECT count(*) FROM river_job`); n != 4 {
		t.Fatalf("%d jobs, want 4", n)
	}
}

// Sending a list again finds each pending text's job: a job waiting out a
// back-off goes now, one waiting for quiet hours keeps waiting, a job that
// is gone is made again, and texts already sent are left alone.
func TestResumeOutbound(t *testing.T) {
	db := storetest.DB(t)
	ctx := context.Background()
	if _, _, err := db.SaveSurvey(ctx, "s", "S", "id: s", ""); err != nil {
		t.Fatal(err)
	}
	q, err := store.NewQueue(db, &river.Config{})
	if err != nil {
		t.Fatal(err)
	}
	b := store.OutboundBatch{ID: "b1", Kind: "invite", SurveyID: "s", SurveyVersion: 1, Sender: "+447700900000"}
	if _, err := q.QueueOutbound(ctx, b, outboundPeople(phones(t), 5), testSendJob); err != nil {
		t.Fatal(err)
	}
	row := func(line int) (id, job int64) {
		return queryInt(t, db, `SELECT id FROM outbound WHERE line = $1`, line),
			queryInt(t, db, `SELECT job_id FROM outbound WHERE line = $1`, line)
	}
	_, gone := row(2)       // River gave up on it, and its cleaner removed it
	_, backoff := row(3)    // waiting out a long back-off
	quiet, later := row(4)  // waiting for quiet hours to end
	_, available := row(5)  // about to run
	sent, sentJob := row(6) // already sent
	exec(t, db, `DELETE FROM river_job WHERE id = $1`, gone)
	exec(t, db, `UPDATE river_job SET state = 'scheduled', scheduled_at = now() + interval '1 hour' WHERE id = ANY($1)`,
		[]int64{backoff, later})
	exec(t, db, `UPDATE outbound SET not_before = now() + interval '1 hour' WHERE id = $1`, quiet)
	exec(t, db, `UPDATE outbound SET status = 'sent' WHERE id = $1`, sent)
	exec(t, db, `UPDATE river_job SET state = 'completed', finalized_at = now() WHERE id = $1`, sentJob)

	pending, err := q.ResumeOutbound(ctx, "b1", testSendJob)
	if err != nil || pending != 4 {
		t.Fatalf("ResumeOutbound = %d, %v; want 4 pending", pending, err)
	}
	state := func(job int64) string {
		var s string
		if err := storetest.SQL(t, db).QueryRow(ctx, `SELECT state::text FROM river_job WHERE id = $1`, job).Scan(&s); err != nil {
			t.Fatalf("job %d: %v", job, err)
		}
		return s
	}
	if _, job := row(2); job == gone || state(job) != "available" {
		t.Errorf("the text whose job was gone has job %d (%s); want a new one, available", job, state(job))
	}
	if s := state(backoff); s != "available" {
		t.Errorf("the job waiting out a back-off is %s, want available", s)
	}
	if s := state(later); s != "scheduled" {
		t.Errorf("the job waiting for quiet hours is %s, want still scheduled", s)
	}
	if s := state(available); s != "available" {
		t.Errorf("the available job is %s", s)
	}
	if n := queryInt(t, db, `SELECT count(*) FROM river_job`); n != 5 {
		t.Errorf("%d jobs, want 5 (one made again, none for the sent text)", n)
	}
	if _, job := row(6); job != sentJob || state(sentJob) != "completed" {
		t.Errorf("the sent text's job was touched")
	}
}

// A database whose texts were queued before they kept their job's id finds
// their jobs when migrated.
func TestMigrationFindsQueuedJobs(t *testing.T) {
	db := storetest.DB(t)
	ctx := context.Background()
	if _, _, err := db.SaveSurvey(ctx, "s", "S", "id: s", ""); err != nil {
		t.Fatal(err)
	}
	// The database as it was before migration 9 (and any after it).
	if err := db.MigrateDownTo(ctx, 8); err != nil {
		t.Fatal(err)
	}
	p := phones(t)
	for i, status := range []string{"pending", "pending", "sent"} {
		n := fmt.Sprintf("+4477009006%02d", i)
		id := queryInt(t, db, `INSERT INTO outbound (batch_id, kind, survey_id, survey_version, phone_hash, phone_enc, phone_masked, sender, status)
			VALUES ('old', 'invite', 's', 1, $1, $2, $3, '+447700900000', $4) RETURNING id`, p.Hash(n), p.Encrypt(n), store.Mask(n), status)
		state := "available"
		if i == 1 {
			state = "discarded"
		}
		exec(t, db, `INSERT INTO river_job (kind, args, queue, state, finalized_at)
			VALUES ('hys_sms_send', jsonb_build_object('id', $1::bigint), 'sms', $2::river_job_state,
				CASE WHEN $2 = 'discarded' THEN now() END)`, id, state)
	}
	if _, err := db.Migrate(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if n := queryInt(t, db, `SELECT count(*) FROM outbound o JOIN river_job j ON j.id = o.job_id AND (j.args->>'id')::bigint = o.id`); n != 1 {
		t.Fatalf("%d texts found their job, want 1 (the pending one whose job is live)", n)
	}
	if n := queryInt(t, db, `SELECT count(*) FROM outbound WHERE job_id IS NULL`); n != 2 {
		t.Fatalf("%d texts without a job, want 2", n)
	}
}
