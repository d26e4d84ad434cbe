package store_test

import (
	"context"
	"strings"
	"testing"

	"github.com/riverqueue/river"

	"github.com/haveyoursay/haveyoursay/store"
	"github.com/haveyoursay/haveyoursay/store/storetest"
)

type testAlertArgs struct {
	Worry int64  `json:"worry"`
	To    string `json:"to"`
}

func (testAlertArgs) Kind() string { return "test_alert" }

// A worry written through the journal is kept once however often it is
// written, with its alert jobs queued in the same transaction.
func TestWorryThroughTheJournalIsKeptOnceWithItsAlerts(t *testing.T) {
	db := storetest.DB(t)
	ctx := context.Background()
	if err := db.MigrateRiver(ctx); err != nil {
		t.Fatal(err)
	}
	q, err := store.NewQueue(db, &river.Config{})
	if err != nil {
		t.Fatal(err)
	}
	q.AlertWorries(func(id int64) []river.InsertManyParams {
		return []river.InsertManyParams{{Args: testAlertArgs{id, "+447700900001"}}, {Args: testAlertArgs{id, "+447700900002"}}}
	})
	phones, err := store.NewPhones("a-secret-key-that-is-long-enough-for-tests")
	if err != nil {
		t.Fatal(err)
	}
	j := store.NewJournal(db, storetest.Redis(t), nil)
	w := store.WorryRaised{DedupeKey: "SM1:worry", ConversationID: "sms-1", Person: person(phones, "+447700900123"),
		Channel: "sms", Source: store.WorryText, Phrase: "hit me", Words: "he hit me"}
	for range 2 {
		if err := j.Record(ctx, store.Event{Worry: &w}); err != nil {
			t.Fatal(err)
		}
		if err := j.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := queryInt(t, db, `SELECT count(*) FROM worries`); n != 1 {
		t.Fatalf("%d worries; want 1", n)
	}
	if n := queryInt(t, db, `SELECT count(*) FROM river_job WHERE kind = 'test_alert'`); n != 2 {
		t.Fatalf("%d alert jobs; want 2 (one per number, once)", n)
	}
	ws, err := db.Worries(ctx, 10)
	if err != nil || len(ws) != 1 {
		t.Fatalf("Worries = %v, %v", ws, err)
	}
	got := ws[0]
	if got.Words != "he hit me" || got.Phrase != "hit me" || got.Source != "text" || got.PhoneMasked == "" || got.Closed {
		t.Errorf("worry = %+v", got)
	}
}

// Nobody can change a worry's original record or rewrite its log, not even
// with SQL; only the retention job may delete, and says so.
func TestWorryRecordCannotBeChanged(t *testing.T) {
	db := storetest.DB(t)
	ctx := context.Background()
	id, created, err := db.RaiseWorry(ctx, store.WorryRaised{DedupeKey: "flag:1", ConversationID: "sms-9", Channel: "sms",
		Source: store.WorryHand, RaisedBy: "lead@example.org", Reason: "He sounded frightened on the phone."})
	if err != nil || !created {
		t.Fatalf("RaiseWorry = %d, %v, %v", id, created, err)
	}
	if _, again, err := db.RaiseWorry(ctx, store.WorryRaised{DedupeKey: "flag:1", Channel: "sms", Source: store.WorryHand}); err != nil || again {
		t.Fatalf("the same flag raised again: created %v, %v", again, err)
	}
	if err := db.AddWorryAction(ctx, id, "lead@example.org", "acted", "Called the member's sister", "Social worker"); err != nil {
		t.Fatal(err)
	}
	sql := storetest.SQL(t, db)
	for _, stmt := range []string{
		`UPDATE worries SET words = 'nothing happened'`,
		`UPDATE worries SET said_at = now() - interval '1 day'`,
		`DELETE FROM worries`,
		`TRUNCATE worries CASCADE`,
		`UPDATE worry_actions SET told = 'nobody'`,
		`DELETE FROM worry_actions`,
	} {
		_, err := sql.Exec(ctx, stmt)
		if err == nil || !strings.Contains(err.Error(), "cannot be changed or deleted") {
			t.Errorf("%s: %v; want it refused", stmt, err)
		}
	}
	w, actions, _, err := db.GetWorry(ctx, id)
	if err != nil || w.Reason != "He sounded frightened on the phone." || len(actions) != 1 || actions[0].Told != "Social worker" {
		t.Fatalf("after the attempts: %+v %+v %v", w, actions, err)
	}

	// Closing is an entry, not an edit; the list shows it closed.
	if err := db.AddWorryAction(ctx, id, "lead@example.org", "closed", "Dealt with", ""); err != nil {
		t.Fatal(err)
	}
	if n, err := db.OpenWorries(ctx); err != nil || n != 0 {
		t.Fatalf("OpenWorries = %d, %v; want 0", n, err)
	}
	if err := db.AddWorryAction(ctx, 999999, "x", "looked", "", ""); err != store.ErrNotFound {
		t.Fatalf("an action on no worry: %v", err)
	}

	// The retention job's own transaction may delete.
	tx, err := sql.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SET LOCAL hys.worry_retention = 'on'`); err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, `DELETE FROM worry_actions; DELETE FROM worries`); err != nil {
		t.Fatalf("retention could not delete: %v", err)
	}
}
