package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/haveyoursay/haveyoursay/store"
	"github.com/haveyoursay/haveyoursay/store/storetest"
)

func msg(p *store.Phones, sid string) store.Event {
	return store.Event{At: time.Now().UTC(), Message: &store.MessageLogged{DedupeKey: sid, Direction: "in", MessageSid: sid,
		Person: person(p, "+447700900001"), Body: "hello " + sid, Status: "received"}}
}

// What was appended survives closing (or a crash: the files are all
// there is) and comes back, in order, when the folder is opened again; a
// record torn at the end (the process died while writing it, before the
// webhook was answered) is skipped; one process at a time uses a folder.
func TestSpoolReplaysAfterARestart(t *testing.T) {
	dir := t.TempDir()
	p := phones(t)
	sp, err := store.OpenSpool(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.OpenSpool(dir); !errors.Is(err, store.ErrSpoolInUse) {
		t.Fatalf("a second spool on the same folder: %v, want ErrSpoolInUse", err)
	}
	for i := range 5 {
		if err := sp.Append([]store.Event{msg(p, fmt.Sprint("SM", i))}); err != nil {
			t.Fatal(err)
		}
	}
	if err := sp.Close(); err != nil {
		t.Fatal(err)
	}
	// A torn record: a length promising more than was written.
	files, _ := filepath.Glob(filepath.Join(dir, "*.spool"))
	if len(files) != 1 {
		t.Fatalf("segment files: %v", files)
	}
	f, err := os.OpenFile(files[0], os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte{200, 0, 0, 0, 1, 2, 3, 4, '{'})
	f.Close()

	sp, err = store.OpenSpool(dir)
	if err != nil {
		t.Fatal(err)
	}
	if sp.Len() != 5 || sp.Corrupt() != 1 {
		t.Fatalf("after a restart: %d waiting, %d torn; want 5 and 1", sp.Len(), sp.Corrupt())
	}
	// New records go to a new file, after the old ones.
	if err := sp.Append([]store.Event{msg(p, "SM5")}); err != nil {
		t.Fatal(err)
	}
	if sp.Len() != 6 {
		t.Fatalf("%d waiting, want 6", sp.Len())
	}
	sp.Close()
}

// A journal opened on a folder an earlier run left events in writes them
// to Postgres, once, even when they were already written (a crash between
// writing and marking them done).
func TestJournalReplaysTheSpoolOnce(t *testing.T) {
	ctx := context.Background()
	db := storetest.DB(t)
	if _, _, err := db.SaveSurvey(ctx, "s", "S", "id: s", ""); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	r := storetest.Redis(t)
	j, err := store.OpenJournal(db, r, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	p := phones(t)
	if err := j.Record(ctx, conversation(p, "c1")...); err != nil {
		t.Fatal(err)
	}
	// Written to Postgres behind the spool's back: the spool still has them.
	if err := j.ApplyOneByOne(ctx, conversation(p, "c1")); err != nil {
		t.Fatal(err)
	}
	j.Close()
	j, err = store.OpenJournal(db, r, dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if n, _ := j.Pending(ctx); n != 4 {
		t.Fatalf("%d events replayed, want 4", n)
	}
	if err := j.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	for table, want := range map[string]int{"participants": 1, "conversations": 1, "messages": 1, "answers": 1} {
		if got := count(t, db, table); got != want {
			t.Errorf("%s: %d rows, want %d", table, got, want)
		}
	}
	if files, _ := filepath.Glob(filepath.Join(dir, "*.spool")); len(files) != 0 {
		t.Errorf("spool files left once everything is in Postgres: %v", files)
	}
}

// The batched writer makes the same rows as writing one event at a time
// (all but the database's own ids).
func TestJournalBatchesMakeTheSameRows(t *testing.T) {
	ctx := context.Background()
	p := phones(t)
	alice, bob := person(p, "+447700900001"), person(p, "+447700900002")
	at := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	tick := func(i int) time.Time { return at.Add(time.Duration(i) * time.Second) }
	events := []store.Event{
		{At: tick(0), Conversation: &store.ConversationStarted{ID: "c1", Person: alice, SurveyID: "s", Version: 1, Channel: "sms", Language: "en-GB"}},
		{At: tick(1), Message: &store.MessageLogged{DedupeKey: "SM1", Direction: "in", MessageSid: "SM1", Person: alice, ConversationID: "c1", Body: "DAYS", Status: "received"}},
		{At: tick(1), Message: &store.MessageLogged{DedupeKey: "SM1:reply:0", Direction: "out", Person: alice, ConversationID: "c1", Body: "Hello", Status: "replied"}},
		{At: tick(2), End: &store.ConversationEnded{ID: "c1", Consent: "yes", Language: "cy"}},
		{At: tick(3), Answer: &store.AnswerGiven{ConversationID: "c1", QuestionID: "q1", Value: "good", Raw: "1", Via: "digits", Themes: []string{"a", "b,c", `d"e`}, DedupeKey: "SM3"}},
		{At: tick(3), Answer: &store.AnswerGiven{ConversationID: "c1", QuestionID: "q2", NoAnswer: true, Skipped: true, DedupeKey: "SM4"}},
		{At: tick(4), Message: &store.MessageLogged{DedupeKey: "MM5", Direction: "in", MessageSid: "MM5", Person: bob, Body: "", Status: "received", Media: []string{"https://api.twilio.com/m/1"}}},
		{At: tick(5), Conversation: &store.ConversationStarted{ID: "v1", Person: bob, SurveyID: "s", Version: 1, Channel: "voice", CallSid: "CA1"}},
		{At: tick(6), Input: &store.CallInput{DedupeKey: "CA1:1", ConversationID: "v1", CallSid: "CA1", Stage: "question", QuestionID: "q1", Speech: "yes please", Confidence: 0.83, Understood: true}},
		{At: tick(6), Input: &store.CallInput{DedupeKey: "CA1:2", ConversationID: "v1", CallSid: "CA1", Stage: "question", Digits: "9"}},
		{At: tick(7), Callback: &store.CallbackBooked{DedupeKey: "v1:callback", Person: bob, ConversationID: "v1", Channel: "voice", Reason: "pressed 0"}},
		{At: tick(8), Message: &store.MessageLogged{DedupeKey: "SMout", Direction: "out", MessageSid: "SMout", Person: alice, Body: "Invite", Status: "queued"}},
		{At: tick(9), Status: &store.MessageStatus{MessageSid: "SMout", Status: "delivered"}},
		{At: tick(10), Status: &store.MessageStatus{MessageSid: "SMout", Status: "sent", ErrorCode: 30003}},
		{At: tick(11), OptOut: &store.OptOut{Person: bob, Out: true}},
		{At: tick(12), OptOut: &store.OptOut{Person: bob, Out: false}},
		{At: tick(13), OptOut: &store.OptOut{Person: alice, Out: true}},
		{At: tick(14), End: &store.ConversationEnded{ID: "c1", Status: "completed", TellMe: "yes"}},
		{At: tick(15), End: &store.ConversationEnded{ID: "c1", Status: "partial", Consent: "sure", TellMe: "no"}},
		{At: tick(16), End: &store.ConversationEnded{ID: "v1", Consent: "yes"}},
		{At: tick(17), End: &store.ConversationEnded{ID: "v1", Status: "refused", Consent: "no", Language: "en-GB"}},
		{At: tick(16), Answer: &store.AnswerGiven{ConversationID: "c1", QuestionID: "q1", Value: "again", DedupeKey: "SM3"}},
	}
	dump := func(db *store.DB) map[string]string {
		out := map[string]string{}
		for table, q := range map[string]string{
			"participants":  `SELECT to_jsonb(t) - 'id' - 'created_at' FROM participants t`,
			"conversations": `SELECT to_jsonb(t) - 'participant_id' - 'written_xact' || jsonb_build_object('p', (SELECT phone_masked FROM participants WHERE id = t.participant_id)) FROM conversations t`,
			"answers":       `SELECT to_jsonb(t) - 'id' - 'written_xact' FROM answers t`,
			"messages":      `SELECT to_jsonb(t) - 'id' - 'participant_id' || jsonb_build_object('p', (SELECT phone_masked FROM participants WHERE id = t.participant_id)) FROM messages t`,
			"call_inputs":   `SELECT to_jsonb(t) FROM call_inputs t`,
			"callbacks":     `SELECT to_jsonb(t) - 'id' - 'participant_id' || jsonb_build_object('p', (SELECT phone_masked FROM participants WHERE id = t.participant_id)) FROM callbacks t`,
		} {
			var s string
			if err := storetest.SQL(t, db).QueryRow(ctx, `SELECT coalesce(jsonb_agg(x ORDER BY x::text), '[]')::text FROM (`+q+`) AS r(x)`).Scan(&s); err != nil {
				t.Fatal(err)
			}
			out[table] = s
		}
		return out
	}
	var logs bytes.Buffer
	setup := func() (*store.DB, *store.Journal) {
		db := storetest.DB(t)
		if _, _, err := db.SaveSurvey(ctx, "s", "S", "id: s", ""); err != nil {
			t.Fatal(err)
		}
		j := store.NewJournal(db, storetest.Redis(t), slog.New(slog.NewTextHandler(&logs, nil)))
		t.Cleanup(func() { j.Close() })
		return db, j
	}
	one, j1 := setup()
	if err := j1.ApplyOneByOne(ctx, events); err != nil {
		t.Fatal(err)
	}
	batched, j2 := setup()
	if err := j2.Record(ctx, events...); err != nil {
		t.Fatal(err)
	}
	if err := j2.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if n, _ := j2.SetAsideCount(ctx); n != 0 || strings.Contains(logs.String(), "refused a batch") {
		t.Fatalf("the batch failed (%d set aside): %s", n, logs.String())
	}
	want, got := dump(one), dump(batched)
	for table := range want {
		if want[table] != got[table] {
			t.Errorf("%s differ:\none by one: %s\nbatched:    %s", table, want[table], got[table])
		}
	}
}
