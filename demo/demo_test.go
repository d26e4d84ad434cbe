package demo_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"github.com/haveyoursay/haveyoursay/audio"
	"github.com/haveyoursay/haveyoursay/demo"
	"github.com/haveyoursay/haveyoursay/ivr"
	"github.com/haveyoursay/haveyoursay/sms"
	"github.com/haveyoursay/haveyoursay/store"
	"github.com/haveyoursay/haveyoursay/store/storetest"
	"github.com/haveyoursay/haveyoursay/survey"
	"github.com/haveyoursay/haveyoursay/webhook"
)

const (
	accountSID = "AC0123456789abcdef0123456789abcdef"
	authToken  = "0123456789abcdef0123456789abcdef"
	secretKey  = "a-test-secret-that-is-long-enough-123"
	publicURL  = "http://hys.test" // never dialled: the demo drives the handler in-process
)

// server is the whole service on real Postgres and Redis.
type server struct {
	db      *store.DB
	journal *store.Journal
	phones  *store.Phones
	handler http.Handler
}

// newServer wires the server as cmd/haveyoursay's newServer does, only the
// parts the demo talks to.
// TEMPORARY: switch to server.New when it exists (it moves newServer out
// of package main).
func newServer(t *testing.T, publicURL string) *server {
	t.Helper()
	ctx := context.Background()
	db := storetest.DB(t)
	rdb := storetest.Redis(t)
	for name, src := range map[string][]byte{"day-service.yaml": survey.DemoYAML, "your-home.yaml": demo.HomeYAML} {
		s, err := survey.Parse(name, src)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := db.SaveSurvey(ctx, s.ID, s.Title, string(src), name); err != nil {
			t.Fatal(err)
		}
	}
	catalog := store.NewCatalog(db)
	if err := catalog.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	phones, err := store.NewPhones(secretKey)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	if os.Getenv("DEMO_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	journal := store.NewJournal(db, rdb, log)
	bg, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { journal.Run(bg) })
	t.Cleanup(func() { stop(); wg.Wait() })

	verifier := webhook.Verifier{AuthToken: authToken, PublicURL: publicURL}
	texts := &sms.Handler{Verifier: verifier, Catalog: catalog, Journal: journal, Redis: rdb, Phones: phones,
		Org: sms.Org{Name: "Oakfield", Phone: "01632 960000"}, SessionTTL: 72 * time.Hour, Log: log}
	prompts := audio.NewLibrary(db, publicURL, log)
	if err := prompts.Load(ctx); err != nil {
		t.Fatal(err)
	}
	calls := &ivr.Handler{Verifier: verifier, Catalog: catalog, Journal: journal, Redis: rdb, DB: db, Phones: phones, Audio: prompts,
		Config: ivr.Config{PublicURL: publicURL, OrgName: "Oakfield", AccountSID: accountSID, AuthToken: authToken}, Log: log}
	t.Cleanup(calls.Wait)

	r := mux.NewRouter()
	r.HandleFunc("/twilio/sms", texts.ServeInbound).Methods(http.MethodPost)
	r.HandleFunc("/twilio/sms/status", texts.ServeStatus).Methods(http.MethodPost)
	r.HandleFunc(ivr.PathIncoming, calls.ServeIncoming).Methods(http.MethodPost)
	r.HandleFunc(ivr.PathStatus, calls.ServeStatus).Methods(http.MethodPost)
	r.HandleFunc(ivr.PathStep, calls.ServeStep).Methods(http.MethodPost)
	r.HandleFunc(ivr.PathRecord, calls.ServeRecorded).Methods(http.MethodPost)
	r.HandleFunc(ivr.PathRecording, calls.ServeRecordingStatus).Methods(http.MethodPost)
	r.HandleFunc(ivr.PathTranscription, calls.ServeTranscription).Methods(http.MethodPost)
	r.PathPrefix("/audio/").Handler(prompts).Methods(http.MethodGet, http.MethodHead)
	return &server{db: db, journal: journal, phones: phones, handler: r}
}

// backdate moves the demo's rows back through the store.
func (s *server) backdate(ctx context.Context, shifts []demo.Shift) error {
	out := make([]store.Shift, len(shifts))
	for i, sh := range shifts {
		out[i] = store.Shift{PhoneHash: s.phones.Hash(sh.Phone), From: sh.From, To: sh.To, By: sh.By}
	}
	return s.db.Backdate(ctx, out)
}

func TestLoad(t *testing.T) {
	srv := newServer(t, publicURL)
	ctx := context.Background()
	now := time.Now()
	started := time.Now()
	res, err := demo.Load(ctx, demo.Options{
		Handler: srv.handler, PublicURL: publicURL, AccountSID: accountSID, AuthToken: authToken,
		Conversations: 40, Days: 42, Workers: 4, Seed: 7,
		Settle: srv.journal.Settle, Backdate: srv.backdate,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("loaded %+v in %s", struct{ Conversations, Texts, Calls, Recordings int }{res.Conversations, res.Texts, res.Calls, res.Recordings}, time.Since(started))
	if res.Conversations < 40 || res.Texts == 0 || res.Calls == 0 {
		t.Errorf("loaded %d conversations (%d texts, %d calls), want 40 on both channels", res.Conversations, res.Texts, res.Calls)
	}
	db := srv.db.Pool
	count := func(q string, args ...any) int {
		t.Helper()
		var n int
		if err := db.QueryRow(ctx, q, args...).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	if n := count(`SELECT count(*) FROM conversations`); n != res.Conversations {
		t.Errorf("the database has %d conversations, the demo started %d", n, res.Conversations)
	}
	for _, status := range []string{"completed", "partial", "refused"} {
		for _, channel := range []string{"sms", "voice"} {
			if n := count(`SELECT count(*) FROM conversations WHERE status = $1 AND channel = $2`, status, channel); n == 0 {
				t.Errorf("no %s conversation by %s", status, channel)
			}
		}
	}
	if n := count(`SELECT count(*) FROM answers a JOIN conversations c ON c.id = a.conversation_id
		WHERE c.channel = 'sms' AND a.question_id IN ('better', 'change') AND NOT a.skipped AND length(a.raw) > 10`); n == 0 {
		t.Error("no words answer typed in a member's own words")
	}
	if n := count(`SELECT count(*) FROM recordings r JOIN transcripts tr ON tr.recording_sid = r.sid
		WHERE length(r.audio) > 1000 AND substr(r.audio, 1, 4) = 'RIFF' AND tr.status = 'completed' AND tr.text <> ''`); n == 0 {
		t.Error("no recording with its audio and a transcript")
	}
	if n := count(`SELECT count(*) FROM callbacks`); n == 0 {
		t.Error("nobody asked for a person")
	}
	if n := count(`SELECT count(*) FROM call_inputs WHERE NOT understood`); n == 0 {
		t.Error("no 'not understood' call input")
	}
	if n := count(`SELECT count(*) FROM conversations WHERE language = 'cy'`); n == 0 {
		t.Error("nobody answered in Welsh")
	}

	// Spread over the weeks before now, and nothing in the future.
	var oldest, newest time.Time
	if err := db.QueryRow(ctx, `SELECT min(started_at), max(started_at) FROM conversations`).Scan(&oldest, &newest); err != nil {
		t.Fatal(err)
	}
	if now.Sub(oldest) < 14*24*time.Hour || newest.After(now) {
		t.Errorf("conversations run from %s to %s; want them spread over weeks before %s", oldest, newest, now)
	}
	for _, q := range []string{
		`SELECT count(*) FROM answers WHERE created_at > $1`,
		`SELECT count(*) FROM messages WHERE created_at > $1`,
		`SELECT count(*) FROM call_inputs WHERE created_at > $1`,
		`SELECT count(*) FROM recordings WHERE created_at > $1`,
		`SELECT count(*) FROM transcripts WHERE created_at > $1`,
		`SELECT count(*) FROM callbacks WHERE created_at > $1`,
	} {
		if n := count(q, now.Add(-time.Hour)); n != 0 {
			t.Errorf("%s: %d rows were left at the time of loading", q, n)
		}
	}
	if n := count(`SELECT count(*) FROM answers a JOIN conversations c ON c.id = a.conversation_id
		WHERE a.created_at < c.started_at OR a.created_at > c.started_at + interval '1 hour'`); n != 0 {
		t.Errorf("%d answers were moved away from their conversation", n)
	}
}

func TestLoadOverHTTP(t *testing.T) {
	// newServer's handler is given its address once it listens.
	var h http.Handler
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	defer ts.Close()
	srv := newServer(t, ts.URL)
	h = srv.handler
	ctx := context.Background()
	res, err := demo.Load(ctx, demo.Options{PublicURL: ts.URL, AccountSID: accountSID, AuthToken: authToken,
		Conversations: 14, Workers: 3, Seed: 11})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.journal.Settle(ctx); err != nil {
		t.Fatal(err)
	}
	var convs, recs int
	if err := srv.db.Pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM conversations), (SELECT count(*) FROM recordings)`).Scan(&convs, &recs); err != nil {
		t.Fatal(err)
	}
	if convs != res.Conversations || recs != res.Recordings || res.Recordings == 0 {
		t.Errorf("the database has %d conversations and %d recordings; the demo made %d and %d", convs, recs, res.Conversations, res.Recordings)
	}
}
