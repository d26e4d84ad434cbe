package store_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/haveyoursay/haveyoursay/store"
	"github.com/haveyoursay/haveyoursay/store/storetest"
)

const secret = "a-test-secret-that-is-long-enough-123"

func phones(t *testing.T) *store.Phones {
	p, err := store.NewPhones(secret)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func person(p *store.Phones, number string) store.Person {
	return store.Person{Hash: p.Hash(number), Enc: p.Encrypt(number), Masked: store.Mask(number)}
}

func TestPhones(t *testing.T) {
	p := phones(t)
	n := "+447700900123"
	if string(p.Hash(n)) != string(p.Hash(n)) || string(p.Hash(n)) == string(p.Hash("+447700900124")) {
		t.Fatal("hash must be stable and differ between numbers")
	}
	a, b := p.Encrypt(n), p.Encrypt(n)
	if string(a) == string(b) || strings.Contains(string(a), "7700900") {
		t.Fatal("encryption must use a fresh nonce and hide the number")
	}
	if got, err := p.Decrypt(a); err != nil || got != n {
		t.Fatalf("decrypt = %q, %v", got, err)
	}
	other, _ := store.NewPhones(strings.Repeat("x", 40))
	if _, err := other.Decrypt(a); err == nil {
		t.Fatal("a different key must not read the number")
	}
	for in, want := range map[string]string{
		"+447700900123": "+44 ••••••• 123",
		"+14155550100":  "+1 ••••••• 100",
		"07700900123":   "•••••••• 123",
		"123":           "•••",
	} {
		if got := store.Mask(in); got != want {
			t.Errorf("Mask(%q) = %q, want %q", in, got, want)
		}
	}
	if _, err := store.NewPhones("short"); err == nil {
		t.Fatal("a short secret must be refused")
	}
}

func TestSaveSurveyVersions(t *testing.T) {
	ctx := context.Background()
	db := storetest.DB(t)
	v, changed, err := db.SaveSurvey(ctx, "short-breaks", "Short breaks", "id: short-breaks\n", "a.yaml")
	if err != nil || v != 1 || !changed {
		t.Fatalf("first import: v=%d changed=%v err=%v", v, changed, err)
	}
	v, changed, err = db.SaveSurvey(ctx, "short-breaks", "Short breaks", "id: short-breaks\n", "a.yaml")
	if err != nil || v != 1 || changed {
		t.Fatalf("same file again: v=%d changed=%v err=%v", v, changed, err)
	}
	v, changed, err = db.SaveSurvey(ctx, "short-breaks", "Short breaks 2", "id: short-breaks\ntitle: x\n", "a.yaml")
	if err != nil || v != 2 || !changed {
		t.Fatalf("changed file: v=%d changed=%v err=%v", v, changed, err)
	}
	old, err := db.Survey(ctx, "short-breaks", 1)
	if err != nil || old.Source != "id: short-breaks\n" {
		t.Fatalf("version 1 must be kept: %+v %v", old, err)
	}
	cur, err := db.CurrentSurveys(ctx)
	if err != nil || len(cur) != 1 || cur[0].Version != 2 || cur[0].Title != "Short breaks 2" {
		t.Fatalf("current: %+v %v", cur, err)
	}
	list, err := db.ListSurveys(ctx)
	if err != nil || len(list) != 1 || list[0].Version != 2 {
		t.Fatalf("list: %+v %v", list, err)
	}
	if _, err := db.Survey(ctx, "nope", 1); err != store.ErrNotFound {
		t.Fatalf("missing survey: %v", err)
	}
}

func conversation(p *store.Phones, id string) []store.Event {
	return []store.Event{
		{Conversation: &store.ConversationStarted{ID: id, Person: person(p, "+447700900001"), SurveyID: "s", Version: 1, Channel: "sms"}},
		{Message: &store.MessageLogged{DedupeKey: "SM" + id, Direction: "in", MessageSid: "SM" + id, Person: person(p, "+447700900001"), ConversationID: id, Body: "Hi 😀", Status: "received"}},
		{Answer: &store.AnswerGiven{ConversationID: id, QuestionID: "q1", Value: "yes", Raw: "yeah", Via: "words", DedupeKey: "SM" + id + ":q1"}},
		{End: &store.ConversationEnded{ID: id, Status: "completed", Consent: "yes"}},
	}
}

func count(t *testing.T, db *store.DB, table string) int {
	var n int
	if err := db.Pool.QueryRow(context.Background(), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestJournalStoresOnce(t *testing.T) {
	ctx := context.Background()
	db := storetest.DB(t)
	r := storetest.Redis(t)
	if _, _, err := db.SaveSurvey(ctx, "s", "S", "id: s", ""); err != nil {
		t.Fatal(err)
	}
	p := phones(t)
	j := store.NewJournal(db, r, nil)
	// The same events twice, from several goroutines at once.
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := j.Record(ctx, conversation(p, "c1")...); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if err := j.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	for table, want := range map[string]int{"participants": 1, "conversations": 1, "messages": 1, "answers": 1} {
		if got := count(t, db, table); got != want {
			t.Errorf("%s: %d rows, want %d", table, got, want)
		}
	}
	var status, consent, body string
	db.Pool.QueryRow(ctx, "SELECT status, consent FROM conversations").Scan(&status, &consent)
	db.Pool.QueryRow(ctx, "SELECT body FROM messages").Scan(&body)
	if status != "completed" || consent != "yes" || body != "Hi 😀" {
		t.Fatalf("status=%q consent=%q body=%q", status, consent, body)
	}
	if n, _ := j.Pending(ctx); n != 0 {
		t.Fatalf("%d events still pending", n)
	}
}

// With Postgres down, events wait in the spool and are written when it
// returns: nothing Twilio delivered is lost.
func TestJournalSurvivesPostgresOutage(t *testing.T) {
	ctx := context.Background()
	url := storetest.DatabaseURL(t)
	proxy, proxied := storetest.NewProxy(t, url)
	db, err := store.OpenDB(ctx, proxied)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, _, err := db.SaveSurvey(ctx, "s", "S", "id: s", ""); err != nil {
		t.Fatal(err)
	}
	r := storetest.Redis(t)
	j := store.NewJournal(db, r, nil)
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { j.Run(runCtx); close(done) }()
	defer func() { stop(); <-done }()

	proxy.Down()
	p := phones(t)
	for i := range 10 {
		if err := j.Record(ctx, conversation(p, fmt.Sprint("c", i))...); err != nil {
			t.Fatalf("record while Postgres is down: %v", err)
		}
	}
	time.Sleep(300 * time.Millisecond)
	if n, _ := j.Pending(ctx); n != 40 {
		t.Fatalf("pending while down = %d, want 40", n)
	}
	proxy.Up()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if n, _ := j.Pending(ctx); n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the spool was not written after Postgres came back")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got := count(t, db, "answers"); got != 10 {
		t.Fatalf("answers = %d, want 10", got)
	}
}

// With Redis down, events go straight to Postgres.
func TestJournalWithoutRedis(t *testing.T) {
	ctx := context.Background()
	db := storetest.DB(t)
	if _, _, err := db.SaveSurvey(ctx, "s", "S", "id: s", ""); err != nil {
		t.Fatal(err)
	}
	proxy, proxied := storetest.NewProxy(t, storetest.RedisURL())
	r, err := store.OpenRedis(ctx, proxied, storetest.RedisPrefix(t))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	proxy.Down()
	j := store.NewJournal(db, r, nil)
	if err := j.Record(ctx, conversation(phones(t), "c1")...); err != nil {
		t.Fatalf("record without Redis: %v", err)
	}
	if got := count(t, db, "answers"); got != 1 {
		t.Fatalf("answers = %d, want 1", got)
	}
}

func TestLockAndFirst(t *testing.T) {
	ctx := context.Background()
	r := storetest.Redis(t)
	first, err := r.First(ctx, r.Key("dedupe", "SM1"), time.Minute)
	if err != nil || !first {
		t.Fatalf("first claim: %v %v", first, err)
	}
	again, _ := r.First(ctx, r.Key("dedupe", "SM1"), time.Minute)
	if again {
		t.Fatal("second claim of the same key must fail")
	}
	unlock, err := r.Lock(ctx, r.Key("lock", "x"), time.Second, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Lock(ctx, r.Key("lock", "x"), time.Second, 20*time.Millisecond); err != store.ErrBusy {
		t.Fatalf("a held lock: %v, want ErrBusy", err)
	}
	unlock()
	unlock2, err := r.Lock(ctx, r.Key("lock", "x"), time.Second, 0)
	if err != nil {
		t.Fatalf("after unlock: %v", err)
	}
	unlock2()
}
