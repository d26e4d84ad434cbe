package store_test

import (
	"context"
	"testing"

	"github.com/haveyoursay/haveyoursay/store"
	"github.com/haveyoursay/haveyoursay/store/storetest"
	"github.com/haveyoursay/haveyoursay/survey"
)

// Most members have no communication needs set: the index of those who do
// spares a query for everyone else, and never hides needs that are set.
func TestNeedsIndex(t *testing.T) {
	ctx := context.Background()
	db := storetest.DB(t)
	p := phones(t)
	alice, bob := person(p, "+447700900011"), person(p, "+447700900012")
	j := store.NewJournal(db, storetest.Redis(t), nil)
	t.Cleanup(func() { j.Close() })
	for _, who := range []store.Person{alice, bob} {
		if err := j.Record(ctx, store.Event{OptOut: &store.OptOut{Person: who}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	aliceID, _ := db.MemberIDByHash(ctx, alice.Hash)

	// Before the index is read, everyone is looked up.
	if !db.MayHaveNeeds(bob.Hash) {
		t.Error("an index never read hid a member")
	}
	db.ReloadNeeds()
	if db.MayHaveNeeds(alice.Hash) || db.MayHaveNeeds(bob.Hash) {
		t.Error("members with no needs are still looked up")
	}
	// Set here: counts at once.
	if err := db.SetMemberNeeds(ctx, aliceID, survey.Needs{EasyRead: true}); err != nil {
		t.Fatal(err)
	}
	if n, err := db.ParticipantNeeds(ctx, alice.Hash); err != nil || !n.EasyRead {
		t.Errorf("needs just set: %+v %v", n, err)
	}
	// Set by another server (straight in Postgres here): counts at the
	// next reload, and what was set here is kept.
	if _, err := storetest.SQL(t, db).Exec(ctx, `UPDATE participants SET needs = '{"slow_speech": true}' WHERE phone_hash = $1`, bob.Hash); err != nil {
		t.Fatal(err)
	}
	db.ReloadNeeds()
	if n, err := db.ParticipantNeeds(ctx, bob.Hash); err != nil || !n.SlowSpeech {
		t.Errorf("needs set elsewhere: %+v %v", n, err)
	}
	if n, _ := db.ParticipantNeeds(ctx, alice.Hash); !n.EasyRead {
		t.Errorf("needs set here lost at a reload: %+v", n)
	}
	// Cleared: nothing left to look up.
	if err := db.SetMemberNeeds(ctx, aliceID, survey.Needs{}); err != nil {
		t.Fatal(err)
	}
	if db.MayHaveNeeds(alice.Hash) {
		t.Error("needs cleared, still looked up")
	}
	if n, _ := db.ParticipantNeeds(ctx, alice.Hash); n != (survey.Needs{}) {
		t.Errorf("needs cleared: %+v", n)
	}
}
