package demo_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/haveyoursay/haveyoursay/config"
	"github.com/haveyoursay/haveyoursay/demo"
	"github.com/haveyoursay/haveyoursay/server"
	"github.com/haveyoursay/haveyoursay/store"
	"github.com/haveyoursay/haveyoursay/store/storetest"
	"github.com/haveyoursay/haveyoursay/survey"
)

const (
	accountSID = "AC0123456789abcdef0123456789abcdef"
	authToken  = "0123456789abcdef0123456789abcdef"
	secretKey  = "a-test-secret-that-is-long-enough-123"
	publicURL  = "http://hys.test" // never dialled: the demo drives the handler in-process
)

// testServer is the whole service on real Postgres and Redis, built by
// server.New as serve and dev build it.
type testServer struct {
	db      *store.DB
	journal *store.Journal
	phones  *store.Phones
	handler http.Handler
}

func newServer(t *testing.T, publicURL string) *testServer {
	t.Helper()
	ctx := context.Background()
	db := storetest.DB(t)
	for name, src := range map[string][]byte{"day-service.yaml": survey.DemoYAML, "your-home.yaml": demo.HomeYAML} {
		s, err := survey.Parse(name, src)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := db.SaveSurvey(ctx, s.ID, s.Title, string(src), name); err != nil {
			t.Fatal(err)
		}
	}
	log := slog.New(slog.DiscardHandler)
	if os.Getenv("DEMO_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	cfg := config.Defaults()
	cfg.PublicURL, cfg.SecretKey = publicURL, secretKey
	cfg.TwilioAccountSID, cfg.TwilioAuthToken = accountSID, authToken
	cfg.OrgName, cfg.OrgPhone = "Oakfield", "01632 960000"
	cfg.TwilioAPIURL = "http://127.0.0.1:1" // the demo texts nobody: never reach out to Twilio
	srv, err := server.New(ctx, server.Deps{Config: cfg, Log: log, DB: db, Redis: storetest.Redis(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return &testServer{db: db, journal: srv.Journal, phones: srv.Phones, handler: srv}
}

// backdate moves the demo's rows back through the store.
func (s *testServer) backdate(ctx context.Context, shifts []demo.Shift) error {
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
	db := storetest.SQL(t, srv.db)
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
	if err := storetest.SQL(t, srv.db).QueryRow(ctx, `SELECT (SELECT count(*) FROM conversations), (SELECT count(*) FROM recordings)`).Scan(&convs, &recs); err != nil {
		t.Fatal(err)
	}
	if convs != res.Conversations || recs != res.Recordings || res.Recordings == 0 {
		t.Errorf("the database has %d conversations and %d recordings; the demo made %d and %d", convs, recs, res.Conversations, res.Recordings)
	}
}
