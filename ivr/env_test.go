package ivr_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/haveyoursay/haveyoursay/audio"
	"github.com/haveyoursay/haveyoursay/config"
	"github.com/haveyoursay/haveyoursay/ivr"
	"github.com/haveyoursay/haveyoursay/phonesim"
	"github.com/haveyoursay/haveyoursay/server"
	"github.com/haveyoursay/haveyoursay/store"
	"github.com/haveyoursay/haveyoursay/store/storetest"
	"github.com/haveyoursay/haveyoursay/survey"
)

const (
	accountSID = "AC0123456789abcdef0123456789abcdef"
	authToken  = "0123456789abcdef0123456789abcdef"
	secretKey  = "a-test-secret-that-is-long-enough-123"
	member     = "+447700900123"
	ourNumber  = "+447700900111"
)

// demoYAML is the demo survey, started by calls to ourNumber.
var demoYAML = strings.Replace(string(survey.DemoYAML), "keywords: [DAYS]", "keywords: [DAYS]\n  numbers: [\""+ourNumber+"\"]", 1)

// env is the whole server on real Postgres and Redis, behind real HTTP,
// with phonesim playing Twilio calls to its voice webhooks.
type env struct {
	t       testing.TB
	ctx     context.Context
	db      *store.DB
	redis   *store.Redis
	journal *store.Journal
	catalog *store.Catalog
	phones  *store.Phones
	audio   *audio.Library
	h       *ivr.Handler
	srv     *httptest.Server
	sim     *phonesim.Emulator

	mu       sync.Mutex
	failures map[string]int
}

type options struct {
	dbURL    string // default: a fresh test database
	redisURL string // default: the test Redis
	// config changes the server's settings (the test's Twilio account,
	// secret key and public URL are already set).
	config  func(*config.Config)
	now     func() time.Time // the calls' clock; default time.Now
	surveys []string         // YAML; default the demo survey on ourNumber
	client  *http.Client     // phonesim's webhook client
}

// newEnv builds the whole server with server.New, as serve does, behind
// real HTTP, and phonesim to call it.
func newEnv(t testing.TB, o options) *env {
	t.Helper()
	ctx := context.Background()
	if o.dbURL == "" {
		o.dbURL = storetest.DatabaseURL(t)
	}
	db := storetest.Open(t, o.dbURL)
	prefix := storetest.RedisPrefix(t)
	if o.redisURL == "" {
		o.redisURL = storetest.RedisURL()
	}
	rdb := storetest.OpenRedis(t, o.redisURL, prefix)
	if o.surveys == nil {
		o.surveys = []string{demoYAML}
	}
	for _, y := range o.surveys {
		s, err := survey.Parse("test.yaml", []byte(y))
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := db.SaveSurvey(ctx, s.ID, s.Title, y, "test.yaml"); err != nil {
			t.Fatal(err)
		}
	}
	log := slog.New(slog.DiscardHandler)
	if os.Getenv("IVR_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	e := &env{t: t, ctx: ctx, db: db, redis: rdb, failures: map[string]int{}}

	// The public URL is the test server's, known only once it listens:
	// the server is built after, and served through handler.
	var handler http.Handler = http.NotFoundHandler()
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(e.srv.Close)
	e.sim = phonesim.New(phonesim.Config{AccountSID: accountSID, AuthToken: authToken, WebhookBase: e.srv.URL, HTTPClient: o.client})
	t.Cleanup(func() { e.sim.Close() })
	apiURL, err := e.sim.StartAPIServer()
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Defaults()
	cfg.OrgName, cfg.SecretKey, cfg.PublicURL = "Oakfield", secretKey, e.srv.URL
	cfg.TwilioAccountSID, cfg.TwilioAuthToken, cfg.TwilioAPIURL = accountSID, authToken, apiURL
	if o.config != nil {
		o.config(&cfg)
	}
	srv, err := server.New(ctx, server.Deps{Config: cfg, Log: log, DB: db, Redis: rdb,
		Voice: func(h *ivr.Handler) {
			if o.now != nil {
				h.Config.Now = o.now
			}
			counted := h.Failed
			h.Failed = func(cause string) {
				e.mu.Lock()
				e.failures[cause]++
				e.mu.Unlock()
				counted(cause)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	handler = srv
	// The HTTP server closes first, then the server's background work
	// (transcriptions in flight, the journal) stops.
	t.Cleanup(func() { e.srv.Close(); srv.Close() })
	e.journal, e.catalog, e.phones, e.audio, e.h = srv.Journal, srv.Catalog, srv.Phones, srv.Prompts, srv.Calls
	return e
}

func (e *env) failureCount(cause string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.failures[cause]
}

// call phones in from the member's number.
func (e *env) call(from string) *phonesim.Call {
	e.t.Helper()
	c, err := e.sim.Call(e.ctx, from, ourNumber)
	if err != nil {
		e.t.Fatalf("calling: %v", err)
	}
	return c
}

// flush waits until every journalled event is in Postgres, asking the
// journal again every 50 ms (the journal's spool lock, held by a writer
// that lost Redis, is released only when it expires).
func (e *env) flush() {
	e.t.Helper()
	poll := time.NewTicker(50 * time.Millisecond)
	defer poll.Stop()
	giveUp := time.After(90 * time.Second)
	for {
		err := e.journal.Flush(e.ctx)
		n, perr := e.journal.Pending(e.ctx)
		if err == nil && perr == nil && n == 0 {
			return
		}
		select {
		case <-poll.C:
		case <-giveUp:
			e.t.Fatalf("the journal did not reach Postgres: %v %v (%d pending)", err, perr, n)
		}
	}
}

type answerRow struct {
	Question, Value, Raw, Via string
	NoAnswer, Skipped         bool
	Key                       string
}

func (e *env) answers(conv string) []answerRow {
	e.t.Helper()
	rows, err := storetest.SQL(e.t, e.db).Query(e.ctx, `SELECT question_id, value, raw, via, no_answer, skipped, dedupe_key FROM answers WHERE conversation_id = $1 ORDER BY id`, conv)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	var out []answerRow
	for rows.Next() {
		var a answerRow
		if err := rows.Scan(&a.Question, &a.Value, &a.Raw, &a.Via, &a.NoAnswer, &a.Skipped, &a.Key); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, a)
	}
	return out
}

// answersKept returns the answers in Postgres and, logged, any the
// journal set aside in its failed spool. store.Journal sets an event aside
// when pgx reports "conn closed" after Postgres comes back (it does not
// count that as a connection error): reported to the journal's owner. The
// answer is kept, just not where it belongs.
func (e *env) answersKept(conv string) map[string]string {
	e.t.Helper()
	got := byQuestion(e.answers(conv))
	aside, err := e.journal.SetAsideEvents(e.ctx)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, ev := range aside {
		if ev.Answer != nil && ev.Answer.ConversationID == conv {
			e.t.Logf("answer %s was set aside by the journal, not written: %+v", ev.Answer.QuestionID, *ev.Answer)
			got[ev.Answer.QuestionID] = ev.Answer.Value
		}
	}
	return got
}

func byQuestion(rows []answerRow) map[string]string {
	m := map[string]string{}
	for _, a := range rows {
		m[a.Question] = a.Value
	}
	return m
}

func (e *env) conversation(id string) (status, consent string) {
	e.t.Helper()
	var c *string
	if err := storetest.SQL(e.t, e.db).QueryRow(e.ctx, `SELECT status, consent FROM conversations WHERE id = $1`, id).Scan(&status, &c); err != nil {
		e.t.Fatalf("conversation %s: %v", id, err)
	}
	if c != nil {
		consent = *c
	}
	return status, consent
}

func (e *env) count(sql string, args ...any) int {
	e.t.Helper()
	var n int
	if err := storetest.SQL(e.t, e.db).QueryRow(e.ctx, sql, args...).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// must fails the test on a call step's error (phonesim reports invalid
// TwiML, non-2xx answers and bad audio as errors).
func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// heard joins what the caller heard since their last input.
func heard(c *phonesim.Call) string { return strings.Join(c.Heard(), " | ") }

func expectHeard(t testing.TB, c *phonesim.Call, parts ...string) {
	t.Helper()
	h := heard(c)
	for _, p := range parts {
		if !strings.Contains(h, p) {
			t.Errorf("the caller did not hear %q; they heard: %s", p, h)
		}
	}
}
