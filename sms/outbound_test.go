package sms_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"github.com/haveyoursay/haveyoursay/hours"
	"github.com/haveyoursay/haveyoursay/phonesim"
	"github.com/haveyoursay/haveyoursay/sms"
	"github.com/haveyoursay/haveyoursay/store"
	"github.com/haveyoursay/haveyoursay/store/storetest"
	"github.com/haveyoursay/haveyoursay/survey"
	"github.com/haveyoursay/haveyoursay/webhook"
)

const (
	obToken   = "fedcba9876543210fedcba9876543210"
	obAccount = "ACfedcba9876543210fedcba9876543210"
	obFrom    = "+447700900200"
	obSecret  = "another-test-secret-that-is-long-enough"
)

var london = mustLoad("Europe/London")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// obClock is the clock quiet hours and reminders read.
type obClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *obClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *obClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// outFixture is real Postgres and Redis, the real SMS webhooks over HTTP,
// and the Twilio emulator's REST API, which the senders text through.
type outFixture struct {
	db     *store.DB
	redis  *store.Redis
	phones *store.Phones
	// sessions is the members' live text state, as the webhooks and the
	// senders keep it.
	sessions *store.SMSSessions
	catalog  *store.Catalog
	journal  *store.Journal
	sim      *phonesim.Emulator
	srv      *httptest.Server
	texter   *sms.Texter
	apiURL   string // the emulator's REST API
	clock    *obClock
	log      *slog.Logger
}

func newOutFixture(t *testing.T) *outFixture {
	t.Helper()
	ctx := context.Background()
	f := &outFixture{db: storetest.DB(t), redis: storetest.Redis(t), clock: &obClock{}}
	// Until the lead wires it into Migrate, River's tables are made here.
	if err := f.db.MigrateRiver(ctx); err != nil {
		t.Fatal(err)
	}
	if err := f.db.CheckRiver(ctx); err != nil {
		t.Fatal(err)
	}
	// A Tuesday morning in London: not quiet hours.
	f.clock.Set(time.Date(2026, 3, 10, 11, 0, 0, 0, london))
	if _, _, err := f.db.SaveSurvey(ctx, "day-service", "Your day service", string(survey.DemoYAML), "day-service.yaml"); err != nil {
		t.Fatal(err)
	}
	f.catalog = store.NewCatalog(f.db)
	if err := f.catalog.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	var err error
	if f.phones, err = store.NewPhones(obSecret); err != nil {
		t.Fatal(err)
	}
	f.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("HYS_TEST_LOG") != "" {
		f.log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	f.journal = store.NewJournal(f.db, f.redis, f.log)
	f.sessions = store.NewSMSSessions(f.redis, 72*time.Hour)
	h := &sms.Handler{Catalog: f.catalog, Journal: f.journal, Redis: f.redis, Phones: f.phones,
		Org: sms.Org{Name: "Oakfield"}, SessionTTL: 72 * time.Hour, Log: f.log}
	router := mux.NewRouter()
	router.HandleFunc("/twilio/sms", h.ServeInbound).Methods(http.MethodPost)
	router.HandleFunc("/twilio/sms/status", h.ServeStatus).Methods(http.MethodPost)
	f.srv = httptest.NewServer(router)
	t.Cleanup(f.srv.Close)
	h.Verifier = webhook.Verifier{AuthToken: obToken, PublicURL: f.srv.URL}
	f.sim = phonesim.New(phonesim.Config{AccountSID: obAccount, AuthToken: obToken, WebhookBase: f.srv.URL})
	t.Cleanup(func() { f.sim.Close() })
	apiURL, err := f.sim.StartAPIServer()
	if err != nil {
		t.Fatal(err)
	}
	f.apiURL = apiURL
	f.texter = sms.NewTexter(obAccount, obToken, apiURL, f.srv.URL)
	return f
}

// sender makes a Sender with test speeds; start it with run.
func (f *outFixture) sender(t *testing.T, change func(*sms.SenderConfig)) *sms.Sender {
	t.Helper()
	cfg := sms.SenderConfig{From: obFrom, Rate: 200, Quiet: hours.DefaultQuiet(london),
		SessionTTL: 72 * time.Hour, RetryAfter: 20 * time.Millisecond, Org: sms.Org{Name: "Oakfield"}}
	if change != nil {
		change(&cfg)
	}
	s, err := sms.NewSender(sms.SenderDeps{DB: f.db, Redis: f.redis, Phones: f.phones, Catalog: f.catalog,
		Texter: f.texter, Log: f.log, Now: f.clock.Now}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// run starts s and stops it when the test ends.
func run(t *testing.T, s *sms.Sender) {
	t.Helper()
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stop(t, s) })
}

func stop(t *testing.T, s *sms.Sender) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.Stop(ctx); err != nil {
		t.Errorf("stopping the sender: %v", err)
	}
}

func invite(t *testing.T, s *sms.Sender, inv sms.Invitation) sms.InviteResult {
	t.Helper()
	if inv.SurveyID == "" {
		inv.SurveyID = "day-service"
	}
	res, err := s.Invite(context.Background(), inv)
	if err != nil {
		t.Fatalf("Invite: %v", err)
	}
	return res
}

func people(numbers ...string) []sms.Recipient {
	out := make([]sms.Recipient, len(numbers))
	for i, n := range numbers {
		out[i] = sms.Recipient{Number: n, Line: i + 2}
	}
	return out
}

// eventually polls cond every 20 ms for up to 30 s: generous, for a
// loaded machine.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(30 * time.Second)
	defer deadline.Stop()
	poll := time.NewTicker(20 * time.Millisecond)
	defer poll.Stop()
	for !cond() {
		select {
		case <-deadline.C:
			t.Fatalf("timed out waiting until %s", what)
		case <-poll.C:
		}
	}
}

// settled waits until no text of the batch is pending or being sent.
func settled(t *testing.T, s *sms.Sender, batch string) store.BatchProgress {
	t.Helper()
	var p store.BatchProgress
	eventually(t, "batch "+batch+" has settled", func() bool {
		var err error
		p, err = s.Progress(context.Background(), batch)
		if err != nil {
			t.Fatal(err)
		}
		return p.Pending == 0 && p.Sending == 0
	})
	return p
}

func (f *outFixture) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	if err := storetest.SQL(t, f.db).QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func numbers(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("+4477009003%02d", i)
	}
	return out
}

func TestInvitationStartsTheSurvey(t *testing.T) {
	f := newOutFixture(t)
	s := f.sender(t, nil)
	run(t, s)
	ctx := context.Background()
	member := "+447700900301"
	res := invite(t, s, sms.Invitation{People: people(member, "+447700900302", member)})
	if res.Added != 2 || res.Sender != obFrom || !strings.HasPrefix(res.Batch, "day-service-") {
		t.Fatalf("Invite = %+v; want 2 added (the repeat dropped) from %s", res, obFrom)
	}
	if p := settled(t, s, res.Batch); p.Sent != 2 {
		t.Fatalf("progress %+v; want 2 sent", p)
	}
	got := f.sim.SentTo(member)
	if len(got) != 1 {
		t.Fatalf("member texted %d times, want 1", len(got))
	}
	m := got[0]
	if m.From != obFrom || m.StatusCallback != f.srv.URL+"/twilio/sms/status" {
		t.Errorf("sent from %q with callback %q", m.From, m.StatusCallback)
	}
	for _, want := range []string{"We want to know what you think of your day service", "Is that OK?", "If you do not want our texts, text STOP."} {
		if !strings.Contains(m.Body, want) {
			t.Errorf("invitation %q does not contain %q", m.Body, want)
		}
	}
	if n := f.count(t, `SELECT count(*) FROM messages WHERE direction = 'out' AND message_sid = $1 AND dedupe_key = $1
		AND status = 'queued' AND conversation_id IS NOT NULL`, m.Sid); n != 1 {
		t.Fatalf("the invitation is not in the message log")
	}
	if n := f.count(t, `SELECT count(*) FROM conversations WHERE channel = 'sms' AND status = 'active'`); n != 2 {
		t.Fatalf("conversations = %d, want 2", n)
	}

	// The member's reply carries on the survey the invitation started.
	reply, err := f.sim.Text(ctx, member, obFrom, "yes")
	if err != nil {
		t.Fatal(err)
	}
	if text := strings.Join(reply.Messages, "\n"); !strings.Contains(text, "How do you feel about your day service?") {
		t.Fatalf("reply to the invitation got %q, want the first question", text)
	}

	// Twilio's delivery reports reach the message log.
	if err := f.sim.FlushCallbacks(ctx); err != nil {
		t.Fatal(err)
	}
	if err := f.journal.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if n := f.count(t, `SELECT count(*) FROM messages WHERE message_sid = $1 AND status = 'delivered'`, m.Sid); n != 1 {
		t.Fatal("the delivery report did not update the invitation's status")
	}
	if n := f.count(t, `SELECT count(*) FROM conversations c JOIN messages m ON m.conversation_id = c.id
		WHERE m.direction = 'in' AND c.consent = 'yes'`); n != 1 {
		t.Fatal("the reply was not kept in the invitation's conversation")
	}
}

func TestRestartMidListTextsEachNumberOnce(t *testing.T) {
	f := newOutFixture(t)
	list := numbers(60)
	slow := func(c *sms.SenderConfig) { c.Rate, c.Workers = 40, 4 }
	first := f.sender(t, slow)
	if err := first.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	res := invite(t, first, sms.Invitation{People: people(list...)})
	eventually(t, "some texts have gone", func() bool { return len(f.sim.Sent()) >= 10 })

	// A second server joins, then the first one stops mid-list (a deploy).
	second := f.sender(t, slow)
	run(t, second)
	stop(t, first)
	sentSoFar := len(f.sim.Sent())
	if sentSoFar >= len(list) {
		t.Fatalf("the whole list went before the restart (%d); the test needs a slower rate", sentSoFar)
	}

	// Running the same list again (the send command restarted) adds nothing.
	again := invite(t, second, sms.Invitation{People: people(list...)})
	if again.Batch != res.Batch || again.Added != 0 || again.Already != len(list) {
		t.Fatalf("the same list again: %+v; want the same batch with nothing added", again)
	}
	p := settled(t, second, res.Batch)
	if p.Sent != len(list) {
		t.Fatalf("progress %+v; want all %d sent", p, len(list))
	}
	for _, n := range list {
		if got := len(f.sim.SentTo(n)); got != 1 {
			t.Errorf("%s texted %d times, want exactly 1", n, got)
		}
	}
	if got := len(f.sim.Sent()); got != len(list) {
		t.Errorf("%d texts sent for %d numbers", got, len(list))
	}
	t.Logf("%d of %d sent before the restart", sentSoFar, len(list))
}

func TestNoAnswerFromTwilioIsNeverSentAgain(t *testing.T) {
	f := newOutFixture(t)
	// Twilio takes the text, but the connection drops before its answer.
	api := f.sim.APIHandler()
	cut := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		api.ServeHTTP(httptest.NewRecorder(), r)
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close()
		}
	}))
	t.Cleanup(cut.Close)
	f.texter = sms.NewTexter(obAccount, obToken, cut.URL, f.srv.URL)
	s := f.sender(t, nil)
	run(t, s)
	member := "+447700900311"
	res := invite(t, s, sms.Invitation{People: people(member)})
	if p := settled(t, s, res.Batch); p.Unknown != 1 {
		t.Fatalf("progress %+v; want 1 unknown", p)
	}
	if got := len(f.sim.SentTo(member)); got != 1 {
		t.Fatalf("Twilio got %d texts for the member, want 1 (never retried)", got)
	}
	problems, err := s.Problems(context.Background(), res.Batch)
	if err != nil || len(problems) != 1 || !strings.Contains(problems[0].Reason, "could not tell") {
		t.Fatalf("problems %+v, %v", problems, err)
	}
}

func TestQuietHours(t *testing.T) {
	f := newOutFixture(t)
	s := f.sender(t, nil) // started below, once texts are queued
	ctx := context.Background()

	// Days ahead, so River's real clock sees the morning in the future.
	y, m, d := time.Now().In(london).AddDate(0, 0, 7).Date()
	at := func(day, h, min int) time.Time { return time.Date(y, m, d+day, h, min, 0, 0, london) }

	// At 22:30 nothing goes: the text waits for 08:00 the next morning.
	f.clock.Set(at(0, 22, 30))
	morning := at(1, 8, 0)
	res := invite(t, s, sms.Invitation{People: people("+447700900321"), Batch: "evening"})
	if !res.NotBefore.Equal(morning) {
		t.Fatalf("NotBefore = %v, want %v", res.NotBefore, morning)
	}
	var due time.Time
	if err := storetest.SQL(t, f.db).QueryRow(ctx, `SELECT scheduled_at FROM river_job WHERE state = 'scheduled'`).Scan(&due); err != nil {
		t.Fatal(err)
	}
	if !due.Equal(morning) {
		t.Fatalf("job scheduled at %v, want %v", due, morning)
	}

	// A text already due when quiet hours start is put off by the worker.
	f.clock.Set(at(0, 20, 59))
	late := invite(t, s, sms.Invitation{People: people("+447700900322"), Batch: "late"})
	if !late.NotBefore.IsZero() {
		t.Fatalf("20:59 is not quiet, got NotBefore %v", late.NotBefore)
	}
	f.clock.Set(at(0, 21, 0))
	run(t, s)
	var p store.BatchProgress
	eventually(t, "the due text waits for the morning", func() bool {
		p, _ = s.Progress(ctx, late.Batch)
		return p.Waiting == 1
	})
	if !p.NextAt.Equal(morning) {
		t.Fatalf("waiting until %v, want %v", p.NextAt, morning)
	}
	var wait time.Duration
	eventually(t, "the job is put off", func() bool {
		return storetest.SQL(t, f.db).QueryRow(ctx, `SELECT extract(epoch FROM scheduled_at - now())::bigint * 1000000000
			FROM river_job WHERE state = 'scheduled' AND id = (SELECT job_id FROM outbound WHERE batch_id = 'late')`).Scan(&wait) == nil
	})
	if want := 11 * time.Hour; wait < want-5*time.Minute || wait > want+time.Minute {
		t.Fatalf("the job comes back in %v, want about %v", wait, want)
	}

	// Overridden, it goes at once.
	now := invite(t, s, sms.Invitation{People: people("+447700900323"), Batch: "urgent", AnyTime: true})
	if p := settled(t, s, now.Batch); p.Sent != 1 {
		t.Fatalf("progress %+v; want sent in quiet hours when overridden", p)
	}
	if len(f.sim.Sent()) != 1 {
		t.Fatalf("sent %d texts in quiet hours, want only the overridden one", len(f.sim.Sent()))
	}
}

func TestTwilioOptOutIsRecorded(t *testing.T) {
	f := newOutFixture(t)
	s := f.sender(t, nil)
	run(t, s)
	ctx := context.Background()
	member := "+447700900331"
	f.sim.FailNextMessages(1, 400, 21610)
	res := invite(t, s, sms.Invitation{People: people(member)})
	if p := settled(t, s, res.Batch); p.OptedOut != 1 {
		t.Fatalf("progress %+v; want 1 opted out", p)
	}
	if n := len(f.sim.Refused()); n != 1 {
		t.Fatalf("%d attempts; 21610 must not be retried", n)
	}
	hash := f.phones.HashString(member)
	if out, err := f.sessions.OptedOut(ctx, hash); err != nil || !out {
		t.Fatalf("opt-out not in Redis: %v %v", out, err)
	}
	if n := f.count(t, `SELECT count(*) FROM participants WHERE phone_hash = $1 AND opted_out_at IS NOT NULL`, f.phones.Hash(member)); n != 1 {
		t.Fatal("opt-out not in Postgres")
	}
	if n := f.count(t, `SELECT count(*) FROM conversations`); n != 0 {
		t.Fatalf("%d conversations left for a text that never went", n)
	}
	if _, _, found, err := f.sessions.Get(ctx, hash); err != nil || found {
		t.Fatalf("a session was left for a text that never went (%v)", err)
	}

	// A later invitation does not even try.
	res2 := invite(t, s, sms.Invitation{People: people(member), Batch: "second"})
	if p := settled(t, s, res2.Batch); p.OptedOut != 1 {
		t.Fatalf("progress %+v; want opted out", p)
	}
	if n := len(f.sim.Refused()); n != 1 {
		t.Fatalf("a second attempt was made to an opted-out number")
	}
}

func TestStopThenInvitationSendsNothing(t *testing.T) {
	f := newOutFixture(t)
	s := f.sender(t, nil)
	run(t, s)
	ctx := context.Background()
	member, other := "+447700900341", "+447700900342"
	for _, body := range []string{"DAYS", "STOP"} {
		if _, err := f.sim.Text(ctx, member, obFrom, body); err != nil {
			t.Fatal(err)
		}
	}
	res := invite(t, s, sms.Invitation{People: people(member, other)})
	if p := settled(t, s, res.Batch); p.OptedOut != 1 || p.Sent != 1 {
		t.Fatalf("progress %+v; want 1 opted out, 1 sent", p)
	}
	if len(f.sim.SentTo(member)) != 0 || len(f.sim.Refused()) != 0 {
		t.Fatalf("texts to an opted-out number were attempted: sent %v, refused %v", f.sim.SentTo(member), f.sim.Refused())
	}

	// Postgres alone is enough: even with the Redis copy gone, nothing goes.
	if err := f.journal.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := f.sessions.SetOptedOut(ctx, f.phones.HashString(member), false); err != nil {
		t.Fatal(err)
	}
	res2 := invite(t, s, sms.Invitation{People: people(member), Batch: "again"})
	if p := settled(t, s, res2.Batch); p.OptedOut != 1 {
		t.Fatalf("progress %+v; want opted out", p)
	}
	if len(f.sim.SentTo(member)) != 0 || len(f.sim.Refused()) != 0 {
		t.Fatal("a text to an opted-out number was attempted")
	}
}

func TestRetryWhenTwilioIsBusyOrDown(t *testing.T) {
	f := newOutFixture(t)
	s := f.sender(t, func(c *sms.SenderConfig) { c.MaxAttempts = 5 })
	run(t, s)
	member := "+447700900351"
	f.sim.FailNextMessages(2, 429, 20429)
	f.sim.FailNextMessages(1, 500, 20500)
	res := invite(t, s, sms.Invitation{People: people(member)})
	if p := settled(t, s, res.Batch); p.Sent != 1 {
		t.Fatalf("progress %+v; want sent after retries", p)
	}
	if n := len(f.sim.Refused()); n != 3 {
		t.Fatalf("%d refused attempts, want 3", n)
	}
	if n := len(f.sim.SentTo(member)); n != 1 {
		t.Fatalf("texted %d times, want 1", n)
	}
	if n := f.count(t, `SELECT attempts FROM outbound WHERE batch_id = $1`, res.Batch); n != 4 {
		t.Fatalf("attempts = %d, want 4", n)
	}

	// When Twilio stays down, it gives up after MaxAttempts and says so.
	f.sim.FailNextMessages(5, 503, 20500)
	gone := invite(t, s, sms.Invitation{People: people("+447700900352"), Batch: "down"})
	if p := settled(t, s, gone.Batch); p.Failed != 1 {
		t.Fatalf("progress %+v; want failed", p)
	}
	if n := len(f.sim.Refused()); n != 3+5 {
		t.Fatalf("%d refused attempts, want %d", n, 3+5)
	}
	problems, _ := s.Problems(context.Background(), gone.Batch)
	if len(problems) != 1 || !strings.Contains(problems[0].Reason, "busy or down") {
		t.Fatalf("problems %+v", problems)
	}
}

func TestReminderOnceAfterStopping(t *testing.T) {
	f := newOutFixture(t)
	ctx := context.Background()
	member, finished := "+447700900361", "+447700900362"
	for _, body := range []string{"DAYS", "yes"} {
		if _, err := f.sim.Text(ctx, member, obFrom, body); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.sim.Text(ctx, finished, obFrom, "DAYS"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.sim.Text(ctx, finished, obFrom, "no"); err != nil { // consent refused: over
		t.Fatal(err)
	}
	if err := f.journal.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	s := f.sender(t, func(c *sms.SenderConfig) {
		c.ReminderAfter, c.ReminderEvery = time.Hour, time.Hour
		c.Quiet = sms.QuietHours{Loc: london} // off: this test runs on the real clock
	})
	run(t, s)

	f.clock.Set(time.Now().Add(30 * time.Minute))
	if n, err := s.RemindNow(ctx); err != nil || n != 0 {
		t.Fatalf("RemindNow after 30 minutes = %d, %v; want none yet", n, err)
	}
	f.clock.Set(time.Now().Add(2 * time.Hour))
	n, err := s.RemindNow(ctx)
	if err != nil || n != 1 {
		t.Fatalf("RemindNow = %d, %v; want 1", n, err)
	}
	eventually(t, "the reminder is sent", func() bool { return len(f.sim.SentTo(member)) == 1 })
	body := f.sim.SentTo(member)[0].Body
	for _, want := range []string{"Hello again from Oakfield", "How do you feel about your day service?"} {
		if !strings.Contains(body, want) {
			t.Errorf("reminder %q does not contain %q", body, want)
		}
	}
	if n, err := s.RemindNow(ctx); err != nil || n != 0 {
		t.Fatalf("RemindNow again = %d, %v; a conversation is reminded once", n, err)
	}
	// The reminder's answer carries on where they stopped.
	reply, err := f.sim.Text(ctx, member, obFrom, "1")
	if err != nil {
		t.Fatal(err)
	}
	if text := strings.Join(reply.Messages, "\n"); !strings.Contains(text, "Question 2") && !strings.Contains(text, "staff") {
		t.Logf("reply after the reminder: %q", text)
	}
	if len(f.sim.Sent()) != 1 || len(f.sim.SentTo(finished)) != 0 {
		t.Fatalf("texts sent: %+v; want only the one reminder", f.sim.Sent())
	}
}

func TestInvitationDoesNotInterruptTheSameSurvey(t *testing.T) {
	f := newOutFixture(t)
	s := f.sender(t, nil)
	run(t, s)
	ctx := context.Background()
	member := "+447700900371"
	if _, err := f.sim.Text(ctx, member, obFrom, "DAYS"); err != nil {
		t.Fatal(err)
	}
	res := invite(t, s, sms.Invitation{People: people(member)})
	if p := settled(t, s, res.Batch); p.Skipped != 1 {
		t.Fatalf("progress %+v; want skipped", p)
	}
	if len(f.sim.Sent()) != 0 {
		t.Fatal("invited someone already answering the survey")
	}
	reply, err := f.sim.Text(ctx, member, obFrom, "yes")
	if err != nil {
		t.Fatal(err)
	}
	if text := strings.Join(reply.Messages, "\n"); !strings.Contains(text, "How do you feel about your day service?") {
		t.Fatalf("their own conversation was disturbed: %q", text)
	}
}

func TestRedisDownTextsNobodyUnchecked(t *testing.T) {
	f := newOutFixture(t)
	proxy, proxied := storetest.NewProxy(t, storetest.RedisURL())
	r := storetest.OpenRedis(t, proxied, storetest.RedisPrefix(t))
	f.redis = r
	s := f.sender(t, func(c *sms.SenderConfig) { c.MaxAttempts = 3 })
	proxy.Down()
	run(t, s)
	res := invite(t, s, sms.Invitation{People: people("+447700900381")})
	// Without Redis the opt-out cannot be checked: nothing goes, and after
	// the last try the list says so rather than waiting for ever.
	if p := settled(t, s, res.Batch); p.Failed != 1 {
		t.Fatalf("progress %+v; want failed", p)
	}
	if len(f.sim.Sent())+len(f.sim.Refused()) != 0 {
		t.Fatal("a text was attempted without checking the opt-out")
	}
	problems, _ := s.Problems(context.Background(), res.Batch)
	if len(problems) != 1 || !strings.Contains(problems[0].Reason, "went wrong on our side") {
		t.Fatalf("problems %+v", problems)
	}
}

func TestReadList(t *testing.T) {
	const file = "\xef\xbb\xbfName,Mobile,Notes\n" +
		"Sam,07700 900123,\n" + // line 2
		"Alex,+44 7700 900124,likes texts\n" +
		"Jo,0770,\n" + // line 4: too short
		"Kim,0161 496 0000,\n" + // line 5: a landline
		"Lee,,\n" + // line 6: no number
		"Mo,447700900125,\n" + // line 7: country code without +
		"Sam again,07700900123,\n" + // line 8: repeat of line 2
		"Ash,not a number,\n" + // line 9
		"\n" +
		"Bo,+1 415 555 2671,\n" // line 11
	list, err := sms.ReadList(strings.NewReader(file), "GB")
	if err != nil {
		t.Fatal(err)
	}
	want := []sms.Recipient{{"+447700900123", 2}, {"+447700900124", 3}, {"+447700900125", 7}, {"+14155552671", 11}}
	if fmt.Sprint(list.People) != fmt.Sprint(want) {
		t.Errorf("people %v, want %v", list.People, want)
	}
	var bad []string
	for _, b := range list.Bad {
		bad = append(bad, b.String())
	}
	wantBad := []string{"line 4 '0770' is too short", "line 5 '0161 496 0000' is a landline, which cannot get texts",
		"line 6 has no number", "line 9 'not a number' is not a phone number"}
	if strings.Join(bad, "|") != strings.Join(wantBad, "|") {
		t.Errorf("bad lines:\n%s\nwant:\n%s", strings.Join(bad, "\n"), strings.Join(wantBad, "\n"))
	}
	if len(list.Repeats) != 1 || list.Repeats[0].Line != 8 {
		t.Errorf("repeats %v", list.Repeats)
	}

	// One column, with or without a heading we do not know.
	for _, file := range []string{"07700900123\n07700900124\n", "Contact\n07700900123\n07700900124\n"} {
		list, err := sms.ReadList(strings.NewReader(file), "GB")
		if err != nil || len(list.People) != 2 || len(list.Bad) != 0 {
			t.Errorf("%q: %+v %v", file, list, err)
		}
	}
	if _, err := sms.ReadList(strings.NewReader("Name,Email\nSam,sam@example.org\n"), "GB"); err == nil ||
		!strings.Contains(err.Error(), "phone, number or mobile") {
		t.Errorf("several columns, none a phone: %v", err)
	}

	s := sms.Summary{Invite: sms.InviteResult{Added: 1}, List: list, Progress: store.BatchProgress{Total: 1, Sent: 1}, Waited: true}
	if got := s.String(); !strings.HasPrefix(got, "Invited 1 person to the survey.") {
		t.Errorf("summary %q", got)
	}
	s = sms.Summary{Invite: sms.InviteResult{Added: 2}, List: sms.List{Bad: []sms.BadLine{{Line: 4, Text: "0770", Reason: "is too short"}}},
		Progress: store.BatchProgress{Total: 2, Sent: 2}, Waited: true}
	if got := s.String(); !strings.Contains(got, "Invited 2 people to the survey.\n1 number could not be read: line 4 '0770' is too short.") {
		t.Errorf("summary %q", got)
	}
}

// accountSentence is what staff are told when Twilio refuses our account.
const accountSentence = "Twilio did not accept our account details: check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN."

func TestWrongAuthTokenKeepsTextsQueued(t *testing.T) {
	f := newOutFixture(t)
	ctx := context.Background()
	list := []string{"+447700900391", "+447700900392", "+447700900393"}
	right := f.texter
	f.texter = sms.NewTexter(obAccount, "00000000000000000000000000000000", f.apiURL, f.srv.URL)
	wrong := f.sender(t, func(c *sms.SenderConfig) { c.MaxAttempts = 2 })
	run(t, wrong)
	res := invite(t, wrong, sms.Invitation{People: people(list...)})
	select {
	case <-wrong.AccountProblem():
	case <-time.After(30 * time.Second):
		t.Fatal("the sender did not notice that Twilio refused our account")
	}
	if se := wrong.AccountError(); se == nil || se.Reason() != accountSentence || se.Code != 20003 {
		t.Fatalf("AccountError() = %v", se)
	}
	// More tries than MaxAttempts: the texts are never given up on.
	eventually(t, "each text was tried more than MaxAttempts times", func() bool {
		var n int
		err := storetest.SQL(t, f.db).QueryRow(ctx, `SELECT count(*) FROM outbound WHERE batch_id = $1 AND attempts > 2`, res.Batch).Scan(&n)
		return err == nil && n == len(list)
	})
	stop(t, wrong)
	if p, err := wrong.Progress(ctx, res.Batch); err != nil || p.Pending+p.Waiting != len(list) || p.Failed != 0 {
		t.Fatalf("progress %+v, %v; want all %d still queued, none failed", p, err, len(list))
	}
	if n := f.count(t, `SELECT count(*) FROM outbound WHERE batch_id = $1 AND error_code = 20003 AND reason = $2`,
		res.Batch, accountSentence); n == 0 {
		t.Fatal("no row says why it is waiting, in plain words")
	}
	if n := f.count(t, `SELECT count(*) FROM river_job WHERE state = 'discarded'`); n != 0 {
		t.Fatalf("%d jobs were given up on", n)
	}
	if len(f.sim.Sent()) != 0 {
		t.Fatal("texts went with the wrong token")
	}

	// The right token, and the same list again: everyone gets one text, now.
	f.texter = right
	// (Queued before the sender runs: else it may pick up a text whose
	// back-off has ended before the list is sent again.)
	fixed := f.sender(t, func(c *sms.SenderConfig) { c.RetryAfter = time.Hour })
	again := invite(t, fixed, sms.Invitation{People: people(list...)})
	run(t, fixed)
	if again.Batch != res.Batch || again.Added != 0 || again.Resumed != len(list) {
		t.Fatalf("the same list again: %+v; want the %d queued texts resumed", again, len(list))
	}
	if p := settled(t, fixed, res.Batch); p.Sent != len(list) {
		t.Fatalf("progress %+v; want all sent", p)
	}
	for _, n := range list {
		if got := len(f.sim.SentTo(n)); got != 1 {
			t.Errorf("%s texted %d times, want 1", n, got)
		}
	}
	select {
	case <-fixed.AccountProblem():
		t.Error("the sender with the right token reports an account problem")
	default:
	}
}

func TestAccountRefusalsAreRetriedNotFailed(t *testing.T) {
	f := newOutFixture(t)
	s := f.sender(t, func(c *sms.SenderConfig) { c.MaxAttempts = 2 })
	run(t, s)
	member := "+447700900394"
	f.sim.FailNextMessages(2, 401, 20003)
	f.sim.FailNextMessages(1, 401, 20005)
	f.sim.FailNextMessages(1, 404, 20404)
	res := invite(t, s, sms.Invitation{People: people(member)})
	if p := settled(t, s, res.Batch); p.Sent != 1 {
		t.Fatalf("progress %+v; want sent once Twilio took our account again", p)
	}
	if n := len(f.sim.Refused()); n != 4 {
		t.Fatalf("%d refused attempts, want 4", n)
	}
	if n := len(f.sim.SentTo(member)); n != 1 {
		t.Fatalf("texted %d times, want 1", n)
	}
}

func TestTwilioRefusalsInPlainWords(t *testing.T) {
	f := newOutFixture(t)
	for _, tc := range []struct {
		status, code int
		outcome      sms.SendOutcome
		want         string
	}{
		{401, 20003, sms.AccountProblem, accountSentence},
		{403, 20005, sms.AccountProblem, "Twilio account is not active"},
		{404, 20404, sms.AccountProblem, accountSentence},
		{400, 21211, sms.Rejected, "not a valid phone number"},
		{400, 21614, sms.Rejected, "not a mobile"},
		{400, 21408, sms.SetupProblem, geoSentence},
		{400, 21608, sms.SetupProblem, "verify the number in the Twilio console"},
		{400, 21610, sms.OptedOut, "STOP"},
		{400, 30007, sms.Rejected, "spam"},
		{400, 21606, sms.AccountProblem, fromSentence},
		{400, 21659, sms.AccountProblem, fromSentence},
		{400, 21212, sms.AccountProblem, fromSentence},
		{400, 21999, sms.Rejected, "Twilio error 21999"},
		{503, 20500, sms.Retry, "busy or down"},
	} {
		f.sim.FailNextMessages(1, tc.status, tc.code)
		_, err := f.texter.Send(obFrom, "+447700900395", "hello")
		var se *sms.SendError
		if !errors.As(err, &se) {
			t.Fatalf("%d: %v is not a *SendError", tc.code, err)
		}
		reason := se.Reason()
		if se.Outcome != tc.outcome || se.Code != tc.code || !strings.Contains(reason, tc.want) {
			t.Errorf("%d: outcome %v, code %d, reason %q; want %v, %q", tc.code, se.Outcome, se.Code, reason, tc.outcome, tc.want)
		}
		for _, raw := range []string{"Authenticate", "Invalid 'To'", "'To' number", "'From'", "unsubscribed", "Internal Server Error"} {
			if strings.Contains(reason, raw) {
				t.Errorf("%d: reason %q has Twilio's own words %q", tc.code, reason, raw)
			}
		}
		if !strings.HasSuffix(reason, ".") || reason[0] < 'A' || reason[0] > 'Z' {
			t.Errorf("%d: reason %q is not a sentence", tc.code, reason)
		}
	}

	// A refused invitation keeps the code in its row and says why plainly.
	s := f.sender(t, nil)
	run(t, s)
	f.sim.FailNextMessages(1, 400, 21211)
	res := invite(t, s, sms.Invitation{People: people("+447700900396")})
	if p := settled(t, s, res.Batch); p.Failed != 1 {
		t.Fatalf("progress %+v; want failed", p)
	}
	problems, err := s.Problems(context.Background(), res.Batch)
	if err != nil || len(problems) != 1 || problems[0].ErrorCode != 21211 ||
		problems[0].Reason != "Twilio says this is not a valid phone number." {
		t.Fatalf("problems %+v, %v", problems, err)
	}
	sum := sms.Summary{Invite: res, Problems: problems, Progress: store.BatchProgress{Total: 1, Failed: 1}, Waited: true}
	if got := sum.String(); !strings.Contains(got, "Twilio says this is not a valid phone number (Twilio error 21211).") ||
		strings.Contains(got, "Invalid") {
		t.Errorf("summary %q", got)
	}
}

// What staff are told when Twilio will not send from our number, and when
// texts to a country are not switched on.
const (
	fromSentence = "Twilio will not send from this number: check TWILIO_SMS_FROM or the survey's number, and that it can send texts."
	geoSentence  = "Texts to this country are not switched on for our Twilio account: turn it on under Messaging > Settings > Geo permissions in the Twilio console."
)

// Twilio refusing the number we send from is our setup, not the member's
// number: the text is never failed, the sender stops and says what to fix,
// and the same list sent again once it is fixed texts each member once.
func TestSenderRefusalsKeepTextsQueued(t *testing.T) {
	for _, code := range []int{21606, 21659, 21212} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			f := newOutFixture(t)
			ctx := context.Background()
			member := "+447700900401"
			f.sim.FailNextMessages(3, 400, code)
			s := f.sender(t, func(c *sms.SenderConfig) { c.MaxAttempts = 2 })
			run(t, s)
			res := invite(t, s, sms.Invitation{People: people(member)})
			select {
			case <-s.AccountProblem():
			case <-time.After(30 * time.Second):
				t.Fatal("the sender did not notice that Twilio will not send from our number")
			}
			if se := s.AccountError(); se == nil || se.Reason() != fromSentence || se.Code != code || se.Outcome != sms.AccountProblem {
				t.Fatalf("AccountError() = %+v", se)
			}
			// More refusals than MaxAttempts: the text is never given up on.
			eventually(t, "Twilio refused three times", func() bool { return len(f.sim.Refused()) == 3 })
			stop(t, s)
			if p, err := s.Progress(ctx, res.Batch); err != nil || p.Pending != 1 || p.Failed != 0 {
				t.Fatalf("progress %+v, %v; want the text still queued, not failed", p, err)
			}
			held, err := s.Held(ctx, res.Batch)
			if err != nil || len(held) != 1 || held[0].ErrorCode != code || held[0].Reason != fromSentence {
				t.Fatalf("Held = %+v, %v; want the text, with Twilio's code and what to fix", held, err)
			}
			if n := f.count(t, `SELECT count(*) FROM river_job WHERE state = 'discarded'`); n != 0 {
				t.Fatalf("%d jobs were given up on", n)
			}
			if len(f.sim.Sent()) != 0 {
				t.Fatal("a text went from a number Twilio refused")
			}

			// Fixed, and the same list again: the member gets one text, now.
			fixed := f.sender(t, func(c *sms.SenderConfig) { c.RetryAfter = time.Hour })
			again := invite(t, fixed, sms.Invitation{People: people(member)}) // before it runs: see TestWrongAuthTokenKeepsTextsQueued
			run(t, fixed)
			if again.Added != 0 || again.Resumed != 1 {
				t.Fatalf("the same list again: %+v; want the queued text resumed", again)
			}
			if p := settled(t, fixed, res.Batch); p.Sent != 1 {
				t.Fatalf("progress %+v; want sent", p)
			}
			if n := len(f.sim.SentTo(member)); n != 1 {
				t.Fatalf("texted %d times, want 1", n)
			}
			if held, err := fixed.Held(ctx, res.Batch); err != nil || len(held) != 0 {
				t.Fatalf("Held after sending = %+v, %v", held, err)
			}
		})
	}
}

// refusing is a Twilio API in front of the emulator that refuses texts to
// some numbers with a Twilio error, until told to stop.
type refusing struct {
	mu      sync.Mutex
	refuse  func(to string) bool
	code    int
	refused map[string]int
}

func (f *outFixture) refusing(t *testing.T, code int, refuse func(to string) bool) (*refusing, string) {
	t.Helper()
	r := &refusing{refuse: refuse, code: code, refused: map[string]int{}}
	api := f.sim.APIHandler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method == http.MethodPost && strings.HasSuffix(req.URL.Path, "/Messages.json") && req.ParseForm() == nil {
			to := req.PostForm.Get("To")
			r.mu.Lock()
			no := r.refuse != nil && r.refuse(to)
			if no {
				r.refused[to]++
			}
			r.mu.Unlock()
			if no {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusBadRequest)
				fmt.Fprintf(w, `{"code": %d, "message": "Permission to send an SMS has not been enabled for the region indicated by the 'To' number", "more_info": "https://www.twilio.com/docs/errors/%d", "status": 400}`, code, code)
				return
			}
		}
		api.ServeHTTP(w, req)
	}))
	t.Cleanup(srv.Close)
	return r, srv.URL
}

func (r *refusing) allow() {
	r.mu.Lock()
	r.refuse = nil
	r.mu.Unlock()
}

func (r *refusing) times(to string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.refused[to]
}

// A country not switched on, or a trial account's unverified number, stops
// texts to some numbers only: the rest of the list goes, those wait (never
// failed) with what to fix, and go once each when the list is sent again.
func TestSetupRefusalsHoldOnlyThoseTexts(t *testing.T) {
	for _, tc := range []struct {
		code int
		want string
	}{
		{21408, geoSentence},
		{21608, "Our Twilio account is a trial account, which can only text numbers verified in Twilio: verify the number in the Twilio console, or upgrade the account."},
	} {
		t.Run(fmt.Sprint(tc.code), func(t *testing.T) {
			f := newOutFixture(t)
			ctx := context.Background()
			uk := []string{"+447700900411", "+447700900412", "+447700900413"}
			abroad := []string{"+14155552671", "+14155552672"}
			gate, apiURL := f.refusing(t, tc.code, func(to string) bool { return strings.HasPrefix(to, "+1") })
			f.texter = sms.NewTexter(obAccount, obToken, apiURL, f.srv.URL)
			s := f.sender(t, func(c *sms.SenderConfig) { c.MaxAttempts = 2 })
			run(t, s)
			res := invite(t, s, sms.Invitation{People: people(append(append([]string{}, uk[:2]...), append(abroad, uk[2])...)...)})
			eventually(t, "the UK numbers are texted", func() bool { return len(f.sim.Sent()) == len(uk) })
			var held []store.Outbound
			eventually(t, "both numbers abroad are held", func() bool {
				var err error
				held, err = s.Held(ctx, res.Batch)
				return err == nil && len(held) == len(abroad)
			})
			for i, o := range held {
				if o.ErrorCode != tc.code || o.Reason != tc.want || o.Line != 4+i {
					t.Errorf("held %+v; want line %d with error %d and %q", o, 4+i, tc.code, tc.want)
				}
			}
			// The rest of the list is not stopped: this is not the account.
			select {
			case <-s.AccountProblem():
				t.Errorf("a refusal for some numbers stopped the sender: %v", s.AccountError())
			default:
			}
			// Tried again, more times than MaxAttempts, and never failed.
			eventually(t, "the held texts are tried again", func() bool { return gate.times(abroad[0]) >= 3 })
			stop(t, s)
			if p, err := s.Progress(ctx, res.Batch); err != nil || p.Sent != len(uk) || p.Pending != len(abroad) || p.Failed != 0 {
				t.Fatalf("progress %+v, %v; want %d sent and %d queued, none failed", p, err, len(uk), len(abroad))
			}
			if problems, err := s.Problems(ctx, res.Batch); err != nil || len(problems) != 0 {
				t.Fatalf("problems %+v, %v; a held text is not the member's problem", problems, err)
			}
			if n := f.count(t, `SELECT count(*) FROM river_job WHERE state = 'discarded'`); n != 0 {
				t.Fatalf("%d jobs were given up on", n)
			}
			if n := f.count(t, `SELECT count(*) FROM messages WHERE direction = 'out'`); n != len(uk) {
				t.Fatalf("%d texts in the message log, want %d", n, len(uk))
			}

			// Switched on, and the same list again: those abroad get one
			// text each, nobody else is texted again.
			gate.allow()
			fixed := f.sender(t, func(c *sms.SenderConfig) { c.RetryAfter = time.Hour })
			again := invite(t, fixed, sms.Invitation{People: people(append(append([]string{}, uk[:2]...), append(abroad, uk[2])...)...)})
			run(t, fixed) // after the list is queued again: see TestWrongAuthTokenKeepsTextsQueued
			if again.Added != 0 || again.Resumed != len(abroad) {
				t.Fatalf("the same list again: %+v; want the %d held texts resumed", again, len(abroad))
			}
			if p := settled(t, fixed, res.Batch); p.Sent != len(uk)+len(abroad) {
				t.Fatalf("progress %+v; want all sent", p)
			}
			for _, n := range append(uk, abroad...) {
				if got := len(f.sim.SentTo(n)); got != 1 {
					t.Errorf("%s texted %d times, want 1", n, got)
				}
			}
		})
	}
}

func TestReadListUnclosedQuote(t *testing.T) {
	const file = "Name,Mobile\n" +
		"Sam,07700900001\n" + // line 2
		"Alex,07700900002\n" +
		"Jo,07700900003\n" +
		"Kim,07700900004\n" +
		"Lee,07700900005\n" +
		"\"Mo,07700900006\n" + // line 7: the quote is never closed
		"Bo,07700900008\n" +
		"Al,\"07700900009\n" + // line 9: nor here
		"Di,07700900010\n" +
		"Ed,\"07700 900011\"\n" + // line 11: closed, fine
		"Flo,07700900012,\"a note\non two lines\"\n"
	list, err := sms.ReadList(strings.NewReader(file), "GB")
	if err != nil {
		t.Fatal(err)
	}
	var lines []int
	for _, p := range list.People {
		lines = append(lines, p.Line)
	}
	if fmt.Sprint(lines) != "[2 3 4 5 6 8 10 11 12]" {
		t.Errorf("people on lines %v", lines)
	}
	if len(list.Bad) != 0 {
		t.Errorf("bad %v", list.Bad)
	}
	var broken []string
	for _, b := range list.Broken {
		broken = append(broken, b.String())
	}
	want := `line 7: this line has a quote mark (") that is not closed|line 9: this line has a quote mark (") that is not closed`
	if strings.Join(broken, "|") != want {
		t.Errorf("broken lines %q, want %q", broken, want)
	}
	s := sms.Summary{List: list, File: "people.csv"}
	if got := s.String(); !strings.Contains(got, "people.csv:7: this line has a quote mark (\") that is not closed.\n") {
		t.Errorf("summary %q", got)
	}

	// A quote left open in a notes column, closed again by a later quote
	// mark, must not swallow the people in between.
	notes := "phone,notes\n07700900001,\"likes tea\n07700900002,ok\n07700900003,\"Smith, J\"\n07700900004,z\n"
	list, err = sms.ReadList(strings.NewReader(notes), "GB")
	if err != nil {
		t.Fatal(err)
	}
	var numbers []string
	for _, p := range list.People {
		numbers = append(numbers, p.Number)
	}
	if len(list.Broken) != 1 || list.Broken[0].Line != 2 {
		t.Errorf("broken = %v", list.Broken)
	}
	if fmt.Sprint(numbers) != "[+447700900002 +447700900003 +447700900004]" {
		t.Errorf("people %v (line 2 is reported; nobody after it may be lost)", numbers)
	}
}

func TestSummaryOfAnEmptyList(t *testing.T) {
	if got := (sms.Summary{File: "people.csv"}).String(); got != "" {
		t.Errorf("summary of nothing queued = %q, want nothing", got)
	}
	got := sms.Summary{List: sms.List{Bad: []sms.BadLine{{Line: 2, Text: "0770", Reason: "is too short"}}}}.String()
	if strings.Contains(got, "Queued") || strings.Contains(got, "0 people") || !strings.Contains(got, "line 2 '0770' is too short") {
		t.Errorf("summary %q", got)
	}
}

// A refusal of another list's sending number is not this process's
// problem: `send` watching its own list must not stop because of it. A
// refusal of the account itself concerns every list.
func TestFromRefusalOfAnotherListDoesNotStopThisOne(t *testing.T) {
	f := newOutFixture(t)
	f.sim.FailNextMessages(1, 400, 21606)
	queuer := f.sender(t, nil) // queues the list (like the server, or another send)
	worker := f.sender(t, nil) // sends it, having queued nothing itself
	invite(t, queuer, sms.Invitation{People: people("+447700900411")})
	run(t, worker)
	eventually(t, "Twilio refused the sending number", func() bool { return len(f.sim.Refused()) == 1 })
	// Stopping waits for the refused text's job to finish: by then any
	// alarm has been raised.
	stop(t, worker)
	select {
	case <-worker.AccountProblem():
		t.Fatalf("a process that did not queue the list was told to stop: %+v", worker.AccountError())
	default:
	}
}
