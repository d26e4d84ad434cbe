package dashboard

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"github.com/haveyoursay/haveyoursay/phonesim"
	"github.com/haveyoursay/haveyoursay/sms"
	"github.com/haveyoursay/haveyoursay/store"
	"github.com/haveyoursay/haveyoursay/store/storetest"
	"github.com/haveyoursay/haveyoursay/survey"
	"github.com/haveyoursay/haveyoursay/webhook"
)

func TestMain(m *testing.M) {
	// A cheap password hash keeps the tests quick under the race
	// detector; TestPasswordHashes checks the real cost.
	argonCost.time, argonCost.memory, argonCost.threads = 1, 1024, 1
	os.Exit(m.Run())
}

// The Twilio account the test's emulator signs webhooks for.
const (
	twilioSID   = "AC0123456789abcdef0123456789abcdef"
	twilioToken = "0123456789abcdef0123456789abcdef"
)

// testPassword is every test account's password.
const testPassword = "correct horse battery"

// clock is a time the test moves by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// testApp is the dashboard served over real HTTP, on real Postgres and
// Redis, as cmd/haveyoursay serves it.
type testApp struct {
	*App
	URL    string
	DB     *store.DB
	Redis  *store.Redis
	Phones *store.Phones
	Clock  *clock
	Router *mux.Router

	phone   *phonesim.Emulator
	journal *store.Journal
}

// newTestApp starts the dashboard. opts change its settings before it is
// built.
func newTestApp(t *testing.T, opts ...func(*Deps)) *testApp {
	t.Helper()
	db := storetest.DB(t)
	rdb := storetest.Redis(t)
	phones, err := store.NewPhones("a-test-secret-that-is-long-enough-for-hys")
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Now()}
	d := Deps{DB: db, Redis: rdb, Phones: phones, Log: slog.New(slog.DiscardHandler), Now: c.Now,
		Config: Config{PublicURL: "http://127.0.0.1"}}
	for _, o := range opts {
		o(&d)
	}
	a, err := New(d)
	if err != nil {
		t.Fatal(err)
	}
	// The real SMS webhook beside the dashboard, so a test can text as a
	// member and see what staff did change the replies.
	ctx := context.Background()
	s := survey.Demo()
	if _, _, err := db.SaveSurvey(ctx, s.ID, s.Title, string(survey.DemoYAML), "day-service.yaml"); err != nil {
		t.Fatal(err)
	}
	catalog := store.NewCatalog(db)
	if err := catalog.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	journal := store.NewJournal(db, rdb, d.Log)
	texts := &sms.Handler{Catalog: catalog, Journal: journal, Redis: rdb, Phones: phones,
		SessionTTL: time.Hour, Log: d.Log, Needs: db.ParticipantNeeds}

	r := mux.NewRouter()
	a.Routes(r)
	r.PathPrefix("/static/").Handler(Static())
	r.HandleFunc("/twilio/sms", texts.ServeInbound).Methods(http.MethodPost)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	texts.Verifier = webhook.Verifier{AuthToken: twilioToken, PublicURL: srv.URL}
	emu := phonesim.New(phonesim.Config{AccountSID: twilioSID, AuthToken: twilioToken, WebhookBase: srv.URL})
	t.Cleanup(func() { emu.Close() })
	return &testApp{App: a, URL: srv.URL, DB: db, Redis: rdb, Phones: phones, Clock: c, Router: r,
		phone: emu, journal: journal}
}

// text sends a text as a member, through the real webhook, and returns the
// replies. What it stored is in Postgres when it returns.
func (ta *testApp) text(t *testing.T, from, body string) string {
	t.Helper()
	res, err := ta.phone.Text(context.Background(), from, "+447700900000", body)
	if err != nil {
		t.Fatalf("texting %q: %v", body, err)
	}
	if err := ta.journal.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	return strings.Join(res.Messages, "\n")
}

// addUser makes an account with testPassword.
func (ta *testApp) addUser(t *testing.T, email string, role Role) store.StaffUser {
	t.Helper()
	u, err := AddUser(context.Background(), ta.DB, NewUser{Email: email, Name: "Test " + string(role), Role: role, Password: testPassword})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// browser is a client that keeps cookies and does not follow redirects,
// sending the headers a browser sends for a same-site form.
type browser struct {
	t      *testing.T
	base   string
	client *http.Client
}

func (ta *testApp) browser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: ta.URL, client: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// signedIn returns a browser signed in as a new account with the role.
func (ta *testApp) signedIn(t *testing.T, role Role) *browser {
	t.Helper()
	email := fmt.Sprintf("%s-%d@example.org", role, time.Now().UnixNano())
	ta.addUser(t, email, role)
	b := ta.browser(t)
	res := b.post("/login", url.Values{"email": {email}, "password": {testPassword}})
	if res.status != http.StatusSeeOther {
		t.Fatalf("signing in as %s: %d %s", role, res.status, res.body)
	}
	return b
}

type response struct {
	status   int
	body     string
	location string
	header   http.Header
}

func (b *browser) do(method, path string, form url.Values, header map[string]string) response {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.base+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := b.client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, body: string(out), location: res.Header.Get("Location"), header: res.Header}
}

func (b *browser) get(path string) response { b.t.Helper(); return b.do("GET", path, nil, nil) }
func (b *browser) post(path string, form url.Values) response {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	return b.do("POST", path, form, nil)
}

// addMember stores a participant with one finished text conversation of
// the demo survey (written by the real journal), and returns its id.
func (ta *testApp) addMember(t *testing.T, number string) int64 {
	t.Helper()
	ctx := context.Background()
	s := survey.Demo()
	who := store.Person{Hash: ta.Phones.Hash(number), Enc: ta.Phones.Encrypt(number), Masked: store.Mask(number)}
	// Letters only: the tests look for runs of digits in pages.
	conv := "sms-test-" + strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return 'a' + (r - '0')
		}
		return r
	}, strings.ToLower(rand.Text()))
	j := store.NewJournal(ta.DB, ta.Redis, slog.New(slog.DiscardHandler))
	now := ta.Clock.Now()
	if err := j.Record(ctx,
		store.Event{At: now, Conversation: &store.ConversationStarted{ID: conv, Person: who, SurveyID: s.ID, Version: 1, Channel: "sms"}},
		store.Event{At: now, Answer: &store.AnswerGiven{ConversationID: conv, QuestionID: s.Questions[0].ID, Value: "yes", Raw: "yes <b>please</b>", Via: "words", DedupeKey: conv + "-1"}},
		store.Event{At: now, End: &store.ConversationEnded{ID: conv, Status: "completed"}},
	); err != nil {
		t.Fatal(err)
	}
	if err := j.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	id, err := ta.DB.MemberIDByHash(ctx, who.Hash)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func mustURL(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// sha is how store names a session's key.
func sha(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
