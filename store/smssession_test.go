package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/haveyoursay/haveyoursay/store"
	"github.com/haveyoursay/haveyoursay/store/storetest"
	"github.com/haveyoursay/haveyoursay/survey"
)

func smsSession(conv, surveyID string) store.SMSSession {
	return store.SMSSession{Conversation: conv, Survey: survey.Session{SurveyID: surveyID, Version: 1, Stage: survey.StageQuestion}}
}

// begin starts a turn and fails the test on an error.
func begin(t *testing.T, s *store.SMSSessions, sid, hash string) *store.SMSTurn {
	t.Helper()
	turn, err := s.Begin(context.Background(), sid, hash)
	if err != nil {
		t.Fatalf("Begin(%s): %v", sid, err)
	}
	return turn
}

func commit(t *testing.T, turn *store.SMSTurn, j *store.Journal, u store.SMSUpdate) {
	t.Helper()
	if err := turn.Commit(context.Background(), j, nil, u); err != nil {
		t.Fatalf("Commit: %v", err)
	}
}

// A text's turn reads what earlier texts kept, and a text delivered twice
// is seen as a repeat.
func TestSMSTurnsKeepTheConversation(t *testing.T) {
	r := storetest.Redis(t)
	db := storetest.DB(t)
	j := store.NewJournal(db, r, nil)
	s := store.NewSMSSessions(r, time.Hour)
	const member = "abc123"

	first := begin(t, s, "SM1", member)
	if first.Duplicate || first.OptedOut || first.Lapsed != "" || first.Finished != "" {
		t.Fatalf("a new member's turn = %+v; want nothing known", first)
	}
	if _, found, err := first.Session(); found || err != nil {
		t.Fatalf("a new member has a session (%v)", err)
	}
	var u store.SMSUpdate
	if err := u.Keep(smsSession("sms-1", "day-service")); err != nil {
		t.Fatal(err)
	}
	commit(t, first, j, u)

	if again := begin(t, s, "SM1", member); !again.Duplicate {
		t.Fatal("the same text delivered again was not seen as a repeat")
	}
	second := begin(t, s, "SM2", member)
	sess, found, err := second.Session()
	if err != nil || !found || sess.Conversation != "sms-1" || sess.Survey.SurveyID != "day-service" {
		t.Fatalf("Session() = %+v, %v, %v; want the kept conversation", sess, found, err)
	}
	// Finished, and over: the session goes, the finished survey is
	// remembered.
	u = store.SMSUpdate{}
	u.Finished("day-service")
	u.End()
	commit(t, second, j, u)
	third := begin(t, s, "SM3", member)
	if _, found, _ := third.Session(); found || third.Finished != "day-service" || third.Lapsed != "" {
		t.Fatalf("after the end: session %v, finished %q, lapsed %q", found, third.Finished, third.Lapsed)
	}
	// A new conversation forgets the finished one; STOP is remembered.
	u = store.SMSUpdate{}
	u.ForgetFinished()
	if err := u.Keep(smsSession("sms-2", "day-service")); err != nil {
		t.Fatal(err)
	}
	u.OptOut()
	commit(t, third, j, u)
	fourth := begin(t, s, "SM4", member)
	if !fourth.OptedOut || fourth.Finished != "" || fourth.Lapsed != "day-service" {
		t.Fatalf("turn %+v; want opted out, the lapsed survey known and nothing finished", fourth)
	}
	if out, err := s.OptedOut(context.Background(), member); err != nil || !out {
		t.Fatalf("OptedOut = %v, %v", out, err)
	}
	u = store.SMSUpdate{}
	u.OptIn()
	commit(t, fourth, j, u)
	if out, err := s.OptedOut(context.Background(), member); err != nil || out {
		t.Fatalf("OptedOut after START = %v, %v", out, err)
	}
	// Another member's state is their own.
	if other := begin(t, s, "SM5", "def456"); other.OptedOut || other.Lapsed != "" {
		t.Fatalf("another member's turn = %+v", other)
	}
}

// A turn given up after a failure lets the member's next text in at once,
// and Twilio's retry of the same text is answered afresh.
func TestSMSTurnReleased(t *testing.T) {
	r := storetest.Redis(t)
	s := store.NewSMSSessions(r, time.Hour)
	ctx := context.Background()
	turn := begin(t, s, "SM1", "abc")
	turn.Release()
	if again := begin(t, s, "SM1", "abc"); again.Duplicate {
		t.Fatal("a text whose answer failed is not answered when Twilio sends it again")
	} else {
		again.Release()
	}
	// The lock is free: an invitation can take it.
	unlock, err := s.Lock(ctx, "abc")
	if err != nil {
		t.Fatalf("Lock after Release: %v", err)
	}
	// While an invitation holds it, a text waits (and here gives up).
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := s.Begin(short, "SM2", "abc"); err == nil {
		t.Fatal("a text was answered while an invitation held the member")
	}
	unlock()
	begin(t, s, "SM3", "abc").Release()
}

// What the invitation sender does outside a webhook: save a session, see
// how long it has waited, and take it back only while it is its own.
func TestSMSSessionsForInvitations(t *testing.T) {
	r := storetest.Redis(t)
	ctx := context.Background()
	s := store.NewSMSSessions(r, time.Hour)
	if _, _, found, err := s.Get(ctx, "abc"); found || err != nil {
		t.Fatalf("Get with nothing stored: %v, %v", found, err)
	}
	if err := s.Save(ctx, "abc", smsSession("sms-1", "day-service")); err != nil {
		t.Fatal(err)
	}
	sess, idle, found, err := s.Get(ctx, "abc")
	if err != nil || !found || sess.Conversation != "sms-1" || idle > time.Minute {
		t.Fatalf("Get = %+v, %v, %v, %v; want the saved session, just saved", sess, idle, found, err)
	}
	// Read with a longer time-out, the session has waited the difference.
	if _, idle, _, _ := store.NewSMSSessions(r, 3*time.Hour).Get(ctx, "abc"); idle < 2*time.Hour-time.Minute || idle > 2*time.Hour+time.Second {
		t.Fatalf("idle = %v, want about 2h", idle)
	}
	// A reply to the invitation is read as part of it.
	turn := begin(t, s, "SM1", "abc")
	if got, found, _ := turn.Session(); !found || got.Conversation != "sms-1" || turn.Lapsed != "day-service" {
		t.Fatalf("the member's text does not see the invitation's session: %+v %v", got, found)
	}
	turn.Release()

	if err := s.Forget(ctx, "abc", "sms-other"); err != nil {
		t.Fatal(err)
	}
	if _, _, found, _ := s.Get(ctx, "abc"); !found {
		t.Fatal("Forget removed another conversation's session")
	}
	if err := s.Forget(ctx, "abc", "sms-1"); err != nil {
		t.Fatal(err)
	}
	if _, _, found, _ := s.Get(ctx, "abc"); found {
		t.Fatal("Forget left the invitation's session")
	}
	if err := s.SetOptedOut(ctx, "abc", true); err != nil {
		t.Fatal(err)
	}
	if turn := begin(t, s, "SM2", "abc"); !turn.OptedOut || turn.Lapsed != "" {
		t.Fatalf("turn %+v; want opted out, nothing lapsed", turn)
	} else {
		turn.Release()
	}
}

// A session that cannot be read is reported, and a new one can be kept.
func TestSMSSessionUnreadable(t *testing.T) {
	r := storetest.Redis(t)
	ctx := context.Background()
	s := store.NewSMSSessions(r, time.Hour)
	if err := storetest.RedisClient(t, r).Set(ctx, r.Key("sms", "session", "abc"), "{not json", time.Hour).Err(); err != nil {
		t.Fatal(err)
	}
	turn := begin(t, s, "SM1", "abc")
	if _, found, err := turn.Session(); found || err == nil {
		t.Fatalf("Session() = %v, %v; want an error", found, err)
	}
	var u store.SMSUpdate
	if err := u.Keep(smsSession("sms-1", "day-service")); err != nil {
		t.Fatal(err)
	}
	commit(t, turn, store.NewJournal(storetest.DB(t), r, nil), u)
	if _, _, found, err := s.Get(ctx, "abc"); !found || err != nil {
		t.Fatalf("Get after a new session = %v, %v", found, err)
	}
}

// Texts from many members at once share the spool's group commits, and
// with them one Redis round trip: each member's own state is kept and
// their lock let go. When the spool cannot take a text, Postgres does,
// and the turn writes its state to Redis itself.
func TestSMSTurnsCommittedTogether(t *testing.T) {
	r := storetest.Redis(t)
	db := storetest.DB(t)
	j := store.NewJournal(db, r, nil)
	s := store.NewSMSSessions(r, time.Hour)
	ctx := context.Background()
	p := phones(t)
	const members = 40
	hash := func(i int) string { return fmt.Sprintf("member%02d", i) }
	var wg sync.WaitGroup
	for i := range members {
		wg.Go(func() {
			turn, err := s.Begin(ctx, fmt.Sprintf("SM%d", i), hash(i))
			if err != nil {
				t.Error(err)
				return
			}
			var u store.SMSUpdate
			u.Keep(smsSession(fmt.Sprintf("sms-%d", i), "day-service"))
			who := person(p, fmt.Sprintf("+4477009%05d", i))
			ev := store.Event{Message: &store.MessageLogged{DedupeKey: fmt.Sprintf("SM%d", i), Direction: "in", MessageSid: fmt.Sprintf("SM%d", i),
				Person: who, Body: "1", Status: "received"}}
			if err := turn.Commit(ctx, j, []store.Event{ev}, u); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	check := func(i int, want string) {
		t.Helper()
		short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancel()
		turn, err := s.Begin(short, fmt.Sprintf("SM-next-%d", i), hash(i)) // waits if the lock were still held
		if err != nil {
			t.Fatalf("member %d: the lock was not let go: %v", i, err)
		}
		defer turn.Release()
		sess, found, err := turn.Session()
		if !found || err != nil || sess.Conversation != want {
			t.Errorf("member %d: session %+v %v %v, want %s", i, sess, found, err, want)
		}
	}
	for i := range members {
		check(i, fmt.Sprintf("sms-%d", i))
	}

	// No spool (it is closed): the text goes straight to Postgres.
	j.Close()
	turn := begin(t, s, "SM-late", hash(0))
	var u store.SMSUpdate
	u.Keep(smsSession("sms-late", "day-service"))
	ev := store.Event{Message: &store.MessageLogged{DedupeKey: "SM-late", Direction: "in", MessageSid: "SM-late",
		Person: person(p, "+447700900999"), Body: "2", Status: "received"}}
	if err := turn.Commit(ctx, j, []store.Event{ev}, u); err != nil {
		t.Fatal(err)
	}
	check(0, "sms-late")
	var n int
	if err := storetest.SQL(t, db).QueryRow(ctx, `SELECT count(*) FROM messages WHERE dedupe_key = 'SM-late'`).Scan(&n); err != nil || n != 1 {
		t.Errorf("the text Postgres took directly: %d rows, %v", n, err)
	}
}
