package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/haveyoursay/haveyoursay/store"
	"github.com/haveyoursay/haveyoursay/store/storetest"
	"github.com/haveyoursay/haveyoursay/survey"
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

// demoAs is the demo survey with another id, keywords and numbers.
func demoAs(id, keywords string, numbers ...string) string {
	start := "  keywords: [" + keywords + "]"
	if len(numbers) > 0 {
		start += "\n  numbers: [\"" + strings.Join(numbers, "\", \"") + "\"]"
	}
	return strings.NewReplacer("id: day-service", "id: "+id, "  keywords: [DAYS]", start).Replace(string(survey.DemoYAML))
}

func TestKeywordsBelongToOneSurvey(t *testing.T) {
	ctx := context.Background()
	db := storetest.DB(t)
	if _, _, err := db.SaveSurvey(ctx, "day-service", "Days", demoAs("day-service", "DAYS, Club"), "a.yaml"); err != nil {
		t.Fatal(err)
	}
	// Another survey with one of those keywords, in any case: nothing is saved.
	_, _, err := db.SaveSurvey(ctx, "outings", "Outings", demoAs("outings", "OUT, club"), "b.yaml")
	var claim *store.ClaimError
	if !errors.As(err, &claim) || claim.Keyword != "CLUB" || claim.Other != "day-service" {
		t.Fatalf("a keyword another survey has: %v", err)
	}
	if want := `the keyword "CLUB" already starts survey "day-service". A keyword can start only one survey: choose another.`; err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
	if list, _ := db.ListSurveys(ctx); len(list) != 1 {
		t.Fatalf("the refused survey was saved: %+v", list)
	}
	if owner, err := db.KeywordOwner(ctx, "out"); err != store.ErrNotFound {
		t.Fatalf("the refused survey's other keyword was kept: %q %v", owner, err)
	}
	// A new version that lets a keyword go frees it for another survey.
	if _, _, err := db.SaveSurvey(ctx, "day-service", "Days", demoAs("day-service", "DAYS"), "a.yaml"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.SaveSurvey(ctx, "outings", "Outings", demoAs("outings", "OUT, club"), "b.yaml"); err != nil {
		t.Fatalf("a freed keyword: %v", err)
	}
	for k, want := range map[string]string{"days": "day-service", "CLUB": "outings", "Out": "outings"} {
		if owner, err := db.KeywordOwner(ctx, k); err != nil || owner != want {
			t.Errorf("keyword %s belongs to %q (%v), want %q", k, owner, err, want)
		}
	}
	// The database itself refuses a second owner, whoever writes.
	if _, err := storetest.SQL(t, db).Exec(ctx, `INSERT INTO survey_keywords (keyword, survey_id) VALUES ('DAYS', 'outings')`); err == nil {
		t.Fatal("the database accepted a keyword with two surveys")
	}
}

func TestNumbersAreSharedByAtMostNineSurveys(t *testing.T) {
	ctx := context.Background()
	db := storetest.DB(t)
	const shared = "+447700900999"
	for i := 1; i <= 9; i++ {
		id := fmt.Sprintf("s%d", i)
		if _, _, err := db.SaveSurvey(ctx, id, id, demoAs(id, "K"+id, shared), id+".yaml"); err != nil {
			t.Fatalf("survey %d of 9 on one number: %v", i, err)
		}
	}
	// Saving one of them again keeps its key.
	if _, _, err := db.SaveSurvey(ctx, "s3", "s3", demoAs("s3", "Ks3", shared, "+447700900998"), "s3.yaml"); err != nil {
		t.Fatal(err)
	}
	_, _, err := db.SaveSurvey(ctx, "s10", "s10", demoAs("s10", "Ks10", shared), "s10.yaml")
	var claim *store.ClaimError
	if !errors.As(err, &claim) || claim.Number != shared || !strings.Contains(err.Error(), "already shared by 9 surveys") {
		t.Fatalf("a tenth survey on one number: %v", err)
	}
	// One survey lets the number go: the tenth gets its key.
	if _, _, err := db.SaveSurvey(ctx, "s5", "s5", demoAs("s5", "Ks5"), "s5.yaml"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.SaveSurvey(ctx, "s10", "s10", demoAs("s10", "Ks10", shared), "s10.yaml"); err != nil {
		t.Fatalf("a freed key: %v", err)
	}
	var key int
	if err := storetest.SQL(t, db).QueryRow(ctx, `SELECT menu_key FROM survey_numbers WHERE number = $1 AND survey_id = 's10'`, shared).Scan(&key); err != nil || key != 5 {
		t.Fatalf("s10 has key %d (%v), want the freed 5", key, err)
	}
}

func TestCatalogSkipsASurveyThatNoLongerLoads(t *testing.T) {
	ctx := context.Background()
	db := storetest.DB(t)
	for id, keyword := range map[string]string{"day-service": "DAYS", "outings": "OUTINGS"} {
		if _, _, err := db.SaveSurvey(ctx, id, id, demoAs(id, keyword), id+".yaml"); err != nil {
			t.Fatal(err)
		}
	}
	// As if a newer loader were stricter: the stored file no longer loads.
	if _, err := storetest.SQL(t, db).Exec(ctx, `UPDATE survey_versions SET source = replace(source, 'answer: scale', 'answer: stars') WHERE survey_id = 'outings'`); err != nil {
		t.Fatal(err)
	}
	var logged syncBuffer
	c := store.NewCatalog(db)
	c.SetLog(slog.New(slog.NewTextHandler(&logged, nil)))
	if err := c.Reload(ctx); err != nil {
		t.Fatalf("one broken survey stopped the catalog: %v", err)
	}
	if _, _, ok := c.ByKeyword("days"); !ok {
		t.Error("the survey that loads cannot be started")
	}
	if _, _, ok := c.ByKeyword("OUTINGS"); ok {
		t.Error("the broken survey can be started")
	}
	broken := c.Broken()
	if len(broken) != 1 || broken[0].ID != "outings" || broken[0].Version != 1 || !strings.Contains(broken[0].Reason, "stars") {
		t.Fatalf("Broken() = %+v", broken)
	}
	if ids := c.BrokenIDs(); len(ids) != 1 || ids[0] != "outings" {
		t.Fatalf("BrokenIDs() = %v", ids)
	}
	line := logged.String()
	if !strings.Contains(line, "survey=outings") || !strings.Contains(line, "no longer loads") || !strings.Contains(line, "stars") {
		t.Fatalf("the log line does not name the survey and the reason: %q", line)
	}
	// Logged once, not at every reload.
	if err := c.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if strings.Count(logged.String(), "no longer loads") != 1 {
		t.Errorf("logged again at the next reload:\n%s", logged.String())
	}
	// Fixed and imported again: it loads.
	if _, _, err := db.SaveSurvey(ctx, "outings", "outings", demoAs("outings", "OUTINGS")+"# fixed\n", "outings.yaml"); err != nil {
		t.Fatal(err)
	}
	if err := c.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if _, _, ok := c.ByKeyword("outings"); !ok || len(c.Broken()) != 0 {
		t.Errorf("the fixed survey: started %v, broken %+v", ok, c.Broken())
	}
}

// syncBuffer is a bytes.Buffer safe for a logger and a test to share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
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
	if err := storetest.SQL(t, db).QueryRow(context.Background(), "SELECT count(*) FROM "+table).Scan(&n); err != nil {
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
	storetest.SQL(t, db).QueryRow(ctx, "SELECT status, consent FROM conversations").Scan(&status, &consent)
	storetest.SQL(t, db).QueryRow(ctx, "SELECT body FROM messages").Scan(&body)
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
	db := storetest.Open(t, proxied)
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

// With Redis down, events are kept in the spool and reach Postgres.
func TestJournalWithoutRedis(t *testing.T) {
	ctx := context.Background()
	db := storetest.DB(t)
	if _, _, err := db.SaveSurvey(ctx, "s", "S", "id: s", ""); err != nil {
		t.Fatal(err)
	}
	proxy, proxied := storetest.NewProxy(t, storetest.RedisURL())
	r := storetest.OpenRedis(t, proxied, storetest.RedisPrefix(t))
	proxy.Down()
	j := store.NewJournal(db, r, nil)
	if err := j.Record(ctx, conversation(phones(t), "c1")...); err != nil {
		t.Fatalf("record without Redis: %v", err)
	}
	if err := j.Flush(ctx); err != nil {
		t.Fatal(err)
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

// An event Postgres will never take is set aside, not lost, and the
// journal can show it to a person.
func TestJournalShowsSetAsideEvents(t *testing.T) {
	ctx := context.Background()
	db := storetest.DB(t)
	j := store.NewJournal(db, storetest.Redis(t), nil)
	if n, err := j.SetAsideCount(ctx); err != nil || n != 0 {
		t.Fatalf("a new journal has %d set aside (%v), want 0", n, err)
	}
	// Conversations come by text or by voice: "fax" breaks a CHECK.
	odd := store.Event{Conversation: &store.ConversationStarted{ID: "odd", Person: person(phones(t), "+447700900001"), SurveyID: "s", Version: 1, Channel: "fax"}}
	if err := j.Record(ctx, odd); err != nil {
		t.Fatal(err)
	}
	if err := j.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := j.SetAsideCount(ctx); err != nil || n != 1 {
		t.Fatalf("%d set aside (%v), want 1", n, err)
	}
	aside, err := j.SetAsideEvents(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(aside) != 1 || aside[0].Conversation == nil || aside[0].Conversation.ID != "odd" || aside[0].At.IsZero() {
		t.Fatalf("set aside: %+v", aside)
	}
	if got := count(t, db, "conversations"); got != 0 {
		t.Fatalf("conversations = %d, want 0", got)
	}
}
