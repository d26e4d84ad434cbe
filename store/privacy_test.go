package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/haveyoursay/haveyoursay/store"
	"github.com/haveyoursay/haveyoursay/store/storetest"
	"github.com/haveyoursay/haveyoursay/survey"
)

// TestAuditLogIsAppendOnly: the database itself refuses to change or
// delete an audit entry (UPDATE, DELETE, TRUNCATE), for the application's
// own connection; adding entries still works.
func TestAuditLogIsAppendOnly(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storetest.DB(t)
	if err := db.Audit(ctx, "ann@example.org", "view-person", "person:1", nil); err != nil {
		t.Fatal(err)
	}
	sql := storetest.SQL(t, db)
	for _, stmt := range []string{
		`UPDATE audit_log SET actor = 'someone-else'`,
		`UPDATE audit_log SET detail = '{"hidden": true}' WHERE action = 'view-person'`,
		`DELETE FROM audit_log`,
		`DELETE FROM audit_log WHERE actor = 'ann@example.org'`,
		`TRUNCATE audit_log`,
	} {
		_, err := sql.Exec(ctx, stmt)
		if err == nil || !strings.Contains(err.Error(), "the audit log cannot be changed or deleted") {
			t.Errorf("%s: got %v, want the database to refuse", stmt, err)
		}
	}
	entries, err := db.AuditLog(ctx, "", 10)
	if err != nil || len(entries) != 1 || entries[0].Actor != "ann@example.org" || entries[0].Action != "view-person" {
		t.Fatalf("after the refusals the log is %+v, %v", entries, err)
	}
	if err := db.Audit(ctx, "cli", "user-added", "staff:2", map[string]any{"role": "admin"}); err != nil {
		t.Fatalf("adding an entry after the refusals: %v", err)
	}
}

// TestAuditPageFilters: by who, what, dates, page by page.
func TestAuditPageFilters(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storetest.DB(t)
	for i := range 7 {
		actor := "ann@example.org"
		if i%2 == 1 {
			actor = "bob@example.org"
		}
		if err := db.Audit(ctx, actor, "view-person", "person:1", nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Audit(ctx, "cli", "forget", "", map[string]any{"answers": 3}); err != nil {
		t.Fatal(err)
	}
	got, next, err := db.AuditPage(ctx, store.AuditFilter{Actor: "BOB@example.org", Limit: 2})
	if err != nil || len(got) != 2 || next == 0 || got[0].Actor != "bob@example.org" || got[0].ID < got[1].ID {
		t.Fatalf("bob, first page: %+v next %d, %v", got, next, err)
	}
	rest, next2, err := db.AuditPage(ctx, store.AuditFilter{Actor: "bob@example.org", Limit: 2, Before: next})
	if err != nil || len(rest) != 1 || next2 != 0 || rest[0].ID >= got[1].ID {
		t.Fatalf("bob, second page: %+v next %d, %v", rest, next2, err)
	}
	got, _, err = db.AuditPage(ctx, store.AuditFilter{Action: "forget"})
	if err != nil || len(got) != 1 || got[0].Detail["answers"] != float64(3) {
		t.Fatalf("forget: %+v, %v", got, err)
	}
	got, _, err = db.AuditPage(ctx, store.AuditFilter{From: time.Now().Add(time.Hour)})
	if err != nil || len(got) != 0 {
		t.Fatalf("from the future: %+v, %v", got, err)
	}
	got, _, err = db.AuditPage(ctx, store.AuditFilter{From: time.Now().Add(-time.Hour), Until: time.Now().Add(time.Hour)})
	if err != nil || len(got) != 8 {
		t.Fatalf("the last hour: %d entries, %v", len(got), err)
	}
}

// retentionWorld is a database with conversations of known ages.
type retentionWorld struct {
	t   *testing.T
	ctx context.Context
	sql *pgxpool.Pool
	now time.Time
	n   int
}

func (w *retentionWorld) exec(q string, args ...any) {
	w.t.Helper()
	if _, err := w.sql.Exec(w.ctx, q, args...); err != nil {
		w.t.Fatalf("%s: %v", q, err)
	}
}

func (w *retentionWorld) count(q string, args ...any) int {
	w.t.Helper()
	var n int
	if err := w.sql.QueryRow(w.ctx, q, args...).Scan(&n); err != nil {
		w.t.Fatalf("%s: %v", q, err)
	}
	return n
}

// person adds a participant first heard from age ago.
func (w *retentionWorld) person(age time.Duration, optedOut bool) int64 {
	w.t.Helper()
	w.n++
	var id int64
	var out *time.Time
	if optedOut {
		at := w.now.Add(-age)
		out = &at
	}
	if err := w.sql.QueryRow(w.ctx, `INSERT INTO participants (phone_hash, phone_enc, phone_masked, opted_out_at, created_at)
		VALUES ($1, 'x', 'masked', $2, $3) RETURNING id`, []byte{byte(w.n), 1, 2, 3}, out, w.now.Add(-age)).Scan(&id); err != nil {
		w.t.Fatal(err)
	}
	return id
}

// conversation adds a conversation of age with one answer, its message,
// a call input, a note and, when recAge > 0, a recording of that age with
// its transcript; worry flags it.
func (w *retentionWorld) conversation(id, surveyID string, person int64, age, recAge time.Duration, worry bool) {
	w.t.Helper()
	at := w.now.Add(-age)
	w.exec(`INSERT INTO conversations (id, participant_id, survey_id, survey_version, channel, started_at) VALUES ($1, $2, $3, 1, 'sms', $4)`,
		id, person, surveyID, at)
	w.exec(`INSERT INTO answers (conversation_id, question_id, value, raw, via, dedupe_key, created_at) VALUES ($1, 'feel', 'good', 'good', 'text', $1 || ':a', $2)`, id, at)
	w.exec(`INSERT INTO messages (dedupe_key, direction, participant_id, conversation_id, body, created_at) VALUES ($1 || ':m', 'in', $2, $1, 'good', $3)`, id, person, at)
	w.exec(`INSERT INTO call_inputs (dedupe_key, conversation_id, call_sid, stage, understood, created_at) VALUES ($1 || ':i', $1, 'CA1', 'question', true, $2)`, id, at)
	w.exec(`INSERT INTO notes (conversation_id, body, author, created_at) VALUES ($1, 'a note', 'sam@example.org', $2)`, id, at)
	if worry {
		w.exec(`INSERT INTO flags (conversation_id, kind, raised_by, raised_at) VALUES ($1, 'worry', 'sam@example.org', $2)`, id, at)
	}
	if recAge > 0 {
		w.exec(`INSERT INTO recordings (sid, call_sid, conversation_id, question_id, answer_key, content_type, audio, created_at)
			VALUES ('RE' || $1, 'CA1', $1, 'better', $1 || ':a', 'audio/wav', 'RIFF', $2)`, id, w.now.Add(-recAge))
		w.exec(`INSERT INTO transcripts (recording_sid, answer_key, source, status, text) VALUES ('RE' || $1, $1 || ':a', 'twilio', 'completed', 'words')`, id)
	}
}

// TestRetentionDeletesExactlyWhatIsDue: each survey's times (its own, or
// the defaults), recordings sooner than answers, worries kept longer, and
// what belongs to no survey; nothing else.
func TestRetentionDeletesExactlyWhatIsDue(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := storetest.DB(t)
	if _, _, err := db.SaveSurvey(ctx, "day-service", "Your day service", string(survey.DemoYAML), "a.yaml"); err != nil {
		t.Fatal(err)
	}
	short := strings.Replace(strings.Replace(string(survey.DemoYAML), "id: day-service", "id: short", 1), "[DAYS]", "[SHORT]", 1)
	if _, _, err := db.SaveSurvey(ctx, "short", "Short", short, "b.yaml"); err != nil {
		t.Fatal(err)
	}
	if err := db.SetSurveyRetention(ctx, "ann@example.org", "short", 30*24*time.Hour, 0); err != nil {
		t.Fatal(err)
	}
	if err := db.SetSurveyRetention(ctx, "ann@example.org", "nope", 30*24*time.Hour, 0); err != store.ErrNotFound {
		t.Errorf("an unknown survey: %v", err)
	}
	const d = 24 * time.Hour
	w := &retentionWorld{t: t, ctx: ctx, sql: storetest.SQL(t, db), now: time.Now()}
	gone := w.person(3*365*d, false) // only an old conversation: goes with it
	kept := w.person(3*365*d, false) // an old and a new one: stays
	stopped := w.person(3*365*d, true)
	w.conversation("old", "day-service", gone, 3*365*d, 3*365*d, false)        // due: all of it
	w.conversation("old2", "day-service", kept, 731*d, 0, false)               // just due
	w.conversation("year", "day-service", kept, 365*d, 365*d, false)           // kept; its recording is due
	w.conversation("month", "day-service", kept, 30*d, 30*d, false)            // kept, recording too
	w.conversation("worried", "day-service", kept, 3*365*d, 3*365*d, true)     // a worry: all kept
	w.conversation("long-ago", "day-service", stopped, 8*365*d, 8*365*d, true) // a worry past its time: due
	w.conversation("short-old", "short", kept, 60*d, 0, false)                 // the short survey's 30 days: due
	w.conversation("short-new", "short", kept, 10*d, 0, false)                 // kept
	w.exec(`INSERT INTO messages (dedupe_key, direction, participant_id, body, created_at) VALUES ('loose-old', 'in', $1, 'hello?', $2), ('loose-new', 'in', $1, 'hi', $3)`,
		kept, w.now.Add(-800*d), w.now.Add(-d))

	n, err := db.ApplyRetention(ctx, w.now, store.RetentionDefaults{Answers: 730 * d, Recordings: 183 * d, Worries: 7 * 365 * d})
	if err != nil {
		t.Fatal(err)
	}
	want := store.RetentionCounts{Conversations: 4, Answers: 4, Messages: 5, CallInputs: 4, Recordings: 3, Transcripts: 2,
		Notes: 4, Flags: 1, People: 1, TwilioQueued: 3}
	if n != want {
		t.Errorf("counts:\n got %+v\nwant %+v", n, want)
	}
	var left []string
	rows, err := w.sql.Query(ctx, `SELECT id FROM conversations ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id string
		rows.Scan(&id)
		left = append(left, id)
	}
	rows.Close()
	if got := strings.Join(left, " "); got != "month short-new worried year" {
		t.Errorf("conversations left: %s", got)
	}
	for _, c := range []struct {
		q    string
		want int
	}{
		{`SELECT count(*) FROM answers`, 4},
		{`SELECT count(*) FROM answers WHERE conversation_id IN ('old', 'old2', 'long-ago', 'short-old')`, 0},
		{`SELECT count(*) FROM recordings`, 2},                                 // month, worried
		{`SELECT count(*) FROM recordings WHERE sid = 'REyear'`, 0},            // past its 6 months
		{`SELECT count(*) FROM transcripts WHERE recording_sid = 'REyear'`, 1}, // its words stay with the answer
		{`SELECT count(*) FROM twilio_deletions WHERE recording_sid IN ('REold', 'REyear', 'RElong-ago')`, 3},
		{`SELECT count(*) FROM messages WHERE dedupe_key = 'loose-new'`, 1},
		{`SELECT count(*) FROM messages`, 5},
		{`SELECT count(*) FROM notes`, 4},
		{`SELECT count(*) FROM flags`, 1},
		{`SELECT count(*) FROM call_inputs`, 4},
		{`SELECT count(*) FROM participants WHERE id = $1`, 0},
	} {
		args := []any{}
		if strings.Contains(c.q, "$1") {
			args = append(args, gone)
		}
		if got := w.count(c.q, args...); got != c.want {
			t.Errorf("%s = %d, want %d", c.q, got, c.want)
		}
	}
	if got := w.count(`SELECT count(*) FROM participants WHERE id IN ($1, $2)`, kept, stopped); got != 2 {
		t.Errorf("%d of the member with new answers and the one who texted STOP are left, want both", got)
	}

	// Run again: nothing more is due.
	n, err = db.ApplyRetention(ctx, w.now, store.RetentionDefaults{Answers: 730 * d, Recordings: 183 * d, Worries: 7 * 365 * d})
	if err != nil || n != (store.RetentionCounts{}) {
		t.Errorf("a second run deleted %+v, %v", n, err)
	}
}
