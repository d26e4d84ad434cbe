package sms_test

import (
	"context"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/haveyoursay/haveyoursay/config"
	"github.com/haveyoursay/haveyoursay/phonesim"
	"github.com/haveyoursay/haveyoursay/server"
	"github.com/haveyoursay/haveyoursay/store"
	"github.com/haveyoursay/haveyoursay/store/storetest"
	"github.com/haveyoursay/haveyoursay/survey"
	"github.com/haveyoursay/haveyoursay/webhook"
)

const (
	token    = "0123456789abcdef0123456789abcdef"
	account  = "AC0123456789abcdef0123456789abcdef"
	ours     = "+447700900100"
	member   = "+447700900001"
	secret   = "a-test-secret-that-is-long-enough-123"
	orgName  = "Oakfield Day Services"
	orgPhone = "0161 496 0000"
)

// fixture is the whole server, built by server.New as serve builds it,
// over real HTTP with real Postgres and Redis, and the Twilio emulator
// texting its SMS webhooks.
type fixture struct {
	srv     *httptest.Server
	sim     *phonesim.Emulator
	db      *store.DB
	redis   *store.Redis
	journal *store.Journal
	catalog *store.Catalog
	phones  *store.Phones
}

// option changes the server's settings.
type option func(*config.Config)

func newBenchFixture(b *testing.B) *fixture {
	server.TuneGC(os.Getenv) // as serve runs
	f := newFixtureWith(b, storetest.DB(b), storetest.Redis(b))
	// Keep connections open between webhooks, as a busy Twilio does.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 256
	f.sim = phonesim.New(phonesim.Config{AccountSID: account, AuthToken: token, WebhookBase: f.srv.URL,
		HTTPClient: &http.Client{Transport: tr, Timeout: 15 * time.Second}})
	return f
}

func newFixture(t *testing.T, opts ...option) *fixture {
	t.Helper()
	db := storetest.DB(t)
	r := storetest.Redis(t)
	return newFixtureWith(t, db, r, opts...)
}

func newFixtureWith(t testing.TB, db *store.DB, r *store.Redis, opts ...option) *fixture {
	t.Helper()
	ctx := context.Background()
	if _, _, err := db.SaveSurvey(ctx, "day-service", "Your day service", string(survey.DemoYAML), "day-service.yaml"); err != nil {
		t.Fatal(err)
	}
	f := &fixture{db: db, redis: r}
	// The public URL is the test server's, known only once it listens:
	// the server is built after, and served through handler.
	var handler http.Handler = http.NotFoundHandler()
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(f.srv.Close)
	cfg := config.Defaults()
	cfg.TwilioAccountSID, cfg.TwilioAuthToken, cfg.PublicURL, cfg.SecretKey = account, token, f.srv.URL, secret
	cfg.TwilioAPIURL = "http://127.0.0.1:1" // these tests only answer texts
	cfg.OrgName, cfg.OrgPhone, cfg.OrgAbout = orgName, orgPhone, "We ask what you think."
	cfg.SMSSessionTTL = time.Hour
	for _, o := range opts {
		o(&cfg)
	}
	srv, err := server.New(ctx, server.Deps{Config: cfg, DB: db, Redis: r})
	if err != nil {
		t.Fatal(err)
	}
	handler = srv
	// The HTTP server closes first, then the server's background work.
	t.Cleanup(func() { f.srv.Close(); srv.Close() })
	f.journal, f.catalog, f.phones = srv.Journal, srv.Catalog, srv.Phones
	f.sim = phonesim.New(phonesim.Config{AccountSID: account, AuthToken: token, WebhookBase: f.srv.URL})
	t.Cleanup(func() { f.sim.Close() })
	return f
}

// untilForgotten waits until Redis has let the member's conversation and
// finished survey expire (the session time has passed), asking as their
// next text would, every 20 ms.
func (f *fixture) untilForgotten(t *testing.T, number string, ttl time.Duration) {
	t.Helper()
	sessions := store.NewSMSSessions(f.redis, ttl)
	hash := f.phones.HashString(number)
	poll := time.NewTicker(20 * time.Millisecond)
	defer poll.Stop()
	giveUp := time.After(ttl + 10*time.Second)
	for {
		turn, err := sessions.Begin(context.Background(), phonesim.NewSID("SM"), hash)
		if err != nil {
			t.Fatal(err)
		}
		_, found, err := turn.Session()
		finished := turn.Finished
		turn.Release()
		if err == nil && !found && finished == "" {
			return
		}
		select {
		case <-poll.C:
		case <-giveUp:
			t.Fatalf("the conversation was still remembered after %v (session %v, finished %q, %v)", ttl, found, finished, err)
		}
	}
}

// addWelsh adds the Welsh "clubs" survey (keyword CLUBS, number
// +447700900222) from the survey package's test files.
func (f *fixture) addWelsh(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	welsh, err := os.ReadFile("../survey/testdata/welsh.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.db.SaveSurvey(ctx, "clubs", "Clubs", string(welsh), "welsh.yaml"); err != nil {
		t.Fatal(err)
	}
	if err := f.catalog.Reload(ctx); err != nil {
		t.Fatal(err)
	}
}

// text sends a text and returns the reply as one string.
func (f *fixture) text(t *testing.T, from, body string) string {
	t.Helper()
	res, err := f.sim.Text(context.Background(), from, ours, body)
	if err != nil {
		t.Fatalf("texting %q: %v", body, err)
	}
	return strings.Join(res.Messages, "\n")
}

// flush waits until every journalled event is in Postgres. The server's
// own journal writer runs too: a Flush that finds it holding the spool
// returns at once, so ask again every 20 ms until nothing is pending.
func (f *fixture) flush(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	poll := time.NewTicker(20 * time.Millisecond)
	defer poll.Stop()
	giveUp := time.After(30 * time.Second)
	for {
		err := f.journal.Flush(ctx)
		n, perr := f.journal.Pending(ctx)
		if err == nil && perr == nil && n == 0 {
			return
		}
		select {
		case <-poll.C:
		case <-giveUp:
			t.Fatalf("the journal did not reach Postgres: %v %v (%d pending)", err, perr, n)
		}
	}
}

func (f *fixture) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	if err := storetest.SQL(t, f.db).QueryRow(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func mustContain(t *testing.T, got string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(got, w) {
			t.Fatalf("reply %q does not contain %q", got, w)
		}
	}
}

func TestWholeConversation(t *testing.T) {
	f := newFixture(t)
	mustContain(t, f.text(t, member, "days"), "day service", "Is that OK?", "Reply with a number:\n1 Yes\n2 No")
	mustContain(t, f.text(t, member, "yes"), "Question 1", "How do you feel")
	mustContain(t, f.text(t, member, "rubbish"), "You said: Not good", "own words")
	free := "It is too far 🚌\nand the café is noisy"
	mustContain(t, f.text(t, member, free), "How kind are the staff")
	mustContain(t, f.text(t, member, "five"), "You said: 5", "more days")
	mustContain(t, f.text(t, member, "2"), "You said: The same", "Thank you")
	f.flush(t)

	if n := f.count(t, "SELECT count(*) FROM answers"); n != 4 {
		t.Fatalf("answers = %d, want 4", n)
	}
	var raw string
	storetest.SQL(t, f.db).QueryRow(context.Background(), "SELECT raw FROM answers WHERE question_id = 'better'").Scan(&raw)
	if raw != free {
		t.Fatalf("free text stored as %q, want exactly %q", raw, free)
	}
	var status, consent string
	var version int
	storetest.SQL(t, f.db).QueryRow(context.Background(), "SELECT status, consent, survey_version FROM conversations").Scan(&status, &consent, &version)
	if status != "completed" || consent != "yes" || version != 1 {
		t.Fatalf("conversation status=%q consent=%q version=%d", status, consent, version)
	}
	if in, out := f.count(t, "SELECT count(*) FROM messages WHERE direction = 'in'"), f.count(t, "SELECT count(*) FROM messages WHERE direction = 'out'"); in != 6 || out != 6 {
		t.Fatalf("messages in=%d out=%d, want 6 and 6", in, out)
	}
	// The number is stored encrypted, never in clear.
	if n := f.count(t, "SELECT count(*) FROM participants WHERE phone_masked = $1", store.Mask(member)); n != 1 {
		t.Fatalf("participants with masked number: %d", n)
	}
	if n := f.count(t, "SELECT count(*) FROM participants WHERE position('7700900001' in encode(phone_enc, 'escape')) > 0"); n != 0 {
		t.Fatal("the phone number is stored in clear")
	}
	// After the end, a new text is told kindly that the survey is finished.
	mustContain(t, f.text(t, member, "hello"), "You have finished the survey", "text DAYS")
}

func TestConsentRefused(t *testing.T) {
	f := newFixture(t)
	f.text(t, member, "DAYS")
	reply := f.text(t, member, "no")
	if reply == "" {
		t.Fatal("a refusal must be answered kindly")
	}
	f.flush(t)
	if n := f.count(t, "SELECT count(*) FROM conversations WHERE status = 'refused'"); n != 1 {
		t.Fatalf("refused conversations = %d", n)
	}
	if n := f.count(t, "SELECT count(*) FROM answers"); n != 0 {
		t.Fatalf("a refusal kept %d answers", n)
	}
}

func TestSignatureRejected(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	form := f.sim.InboundSMSForm(phonesim.NewSID("SM"), member, ours, "DAYS")
	cases := map[string]func() (*http.Response, error){
		"missing": func() (*http.Response, error) {
			return http.PostForm(f.srv.URL+"/twilio/sms", form)
		},
		"wrong token": func() (*http.Response, error) {
			return post(f.srv.URL+"/twilio/sms", form, webhook.Sign("ffffffffffffffffffffffffffffffff", f.srv.URL+"/twilio/sms", form))
		},
		"wrong URL": func() (*http.Response, error) {
			return post(f.srv.URL+"/twilio/sms", form, webhook.Sign(token, "https://elsewhere.example.org/twilio/sms", form))
		},
		"tampered body": func() (*http.Response, error) {
			sig := webhook.Sign(token, f.srv.URL+"/twilio/sms", form)
			bad := url.Values{}
			for k, v := range form {
				bad[k] = v
			}
			bad.Set("Body", "STOP")
			return post(f.srv.URL+"/twilio/sms", bad, sig)
		},
	}
	for name, send := range cases {
		t.Run(name, func(t *testing.T) {
			resp, err := send()
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusForbidden {
				t.Fatalf("status %d, want 403", resp.StatusCode)
			}
		})
	}
	f.flush(t)
	if n := f.count(t, "SELECT count(*) FROM messages"); n != 0 {
		t.Fatalf("rejected requests stored %d messages", n)
	}
	keys, _ := storetest.RedisClient(t, f.redis).Keys(ctx, f.redis.Prefix+"*").Result()
	if len(keys) != 0 {
		t.Fatalf("rejected requests left Redis keys: %v", keys)
	}
}

func post(target string, form url.Values, sig string) (*http.Response, error) {
	req, _ := http.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set(webhook.SignatureHeader, sig)
	return http.DefaultClient.Do(req)
}

// The same MessageSid delivered many times at once is answered and stored
// once.
func TestConcurrentDuplicates(t *testing.T) {
	f := newFixture(t)
	f.text(t, member, "DAYS")
	sid := phonesim.NewSID("SM")
	var wg sync.WaitGroup
	var mu sync.Mutex
	answered := 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := f.sim.TextWithSid(context.Background(), sid, member, ours, "yes")
			if err != nil {
				t.Error(err)
				return
			}
			if len(res.Messages) > 0 {
				mu.Lock()
				answered++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if answered != 1 {
		t.Fatalf("%d copies were answered, want exactly 1", answered)
	}
	f.flush(t)
	if n := f.count(t, "SELECT count(*) FROM messages WHERE message_sid = $1", sid); n != 1 {
		t.Fatalf("the message was stored %d times", n)
	}
	if n := f.count(t, "SELECT count(*) FROM conversations WHERE consent = 'yes'"); n != 1 {
		t.Fatalf("consent recorded on %d conversations", n)
	}
	mustContain(t, f.text(t, member, "1"), "You said: Good")
}

func TestStopThenKeywordSendsNothing(t *testing.T) {
	f := newFixture(t)
	f.text(t, member, "DAYS")
	f.text(t, member, "yes")
	if reply := f.text(t, member, "  Stop "); reply != "" {
		t.Fatalf("STOP answered %q; Twilio confirms it on our numbers", reply)
	}
	for _, body := range []string{"DAYS", "hello", "1", "HELP"} {
		if reply := f.text(t, member, body); reply != "" {
			t.Fatalf("after STOP, %q was answered with %q", body, reply)
		}
	}
	f.flush(t)
	if n := f.count(t, "SELECT count(*) FROM participants WHERE opted_out_at IS NOT NULL"); n != 1 {
		t.Fatalf("opted-out participants = %d", n)
	}
	if n := f.count(t, "SELECT count(*) FROM conversations WHERE status = 'partial'"); n != 1 {
		t.Fatalf("the running conversation was not kept as partial")
	}
	if n := f.count(t, "SELECT count(*) FROM messages WHERE direction = 'in'"); n != 7 {
		t.Fatalf("every text is still stored: %d, want 7", n)
	}

	// START brings them back.
	f.text(t, member, "start")
	mustContain(t, f.text(t, member, "DAYS"), "Is that OK?")
	f.flush(t)
	if n := f.count(t, "SELECT count(*) FROM participants WHERE opted_out_at IS NOT NULL"); n != 0 {
		t.Fatal("START did not clear the opt-out")
	}
}

func TestStopWordsAndConfirmation(t *testing.T) {
	f := newFixture(t, func(c *config.Config) { c.SMSConfirmStop = true })
	for i, w := range []string{"STOPALL", "unsubscribe", "Cancel", "END", "quit", "REVOKE", "optout", "stop."} {
		from := fmt.Sprintf("+4477009002%02d", i)
		mustContain(t, f.text(t, from, w), orgName+" will not text you again.", "To get our texts again, text START.")
	}
	// YES re-subscribes only someone who opted out.
	mustContain(t, f.text(t, "+447700900200", "yes"), "Welcome back")
	mustContain(t, f.text(t, "+447700900200", "DAYS"), "Is that OK?")
	// Twilio's OptOutType parameter counts too.
	form := f.sim.InboundSMSForm(phonesim.NewSID("SM"), "+447700900299", ours, "please leave me alone")
	form.Set("OptOutType", "STOP")
	res, err := f.sim.PostForm(context.Background(), "/twilio/sms", form)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("OptOutType STOP: %v %v", res, err)
	}
	if reply := f.text(t, "+447700900299", "DAYS"); reply != "" {
		t.Fatalf("OptOutType=STOP did not opt out: %q", reply)
	}
}

func TestHelp(t *testing.T) {
	f := newFixture(t)
	mustContain(t, f.text(t, member, "help"), orgName, orgPhone, "DAYS", "STOP")
	mustContain(t, f.text(t, member, "Info"), orgName)
	f.text(t, member, "DAYS")
	f.text(t, member, "yes")
	// Mid-survey, HELP answers and then asks the question again.
	mustContain(t, f.text(t, member, "HELP"), orgPhone, "How do you feel")
	mustContain(t, f.text(t, member, "1"), "You said: Good")
}

func TestUnknownTextListsKeywords(t *testing.T) {
	f := newFixture(t)
	mustContain(t, f.text(t, member, "hi there"), "Hello from "+orgName+".\n", "To answer Your day service, text DAYS.\n", "For help, text HELP.")
}

func TestExpiredSession(t *testing.T) {
	const ttl = 300 * time.Millisecond
	f := newFixture(t, func(c *config.Config) { c.SMSSessionTTL = ttl })
	f.text(t, member, "DAYS")
	f.text(t, member, "yes")
	f.untilForgotten(t, member, ttl)
	mustContain(t, f.text(t, member, "1"), "We have kept your answers.", "To start again, text DAYS.")
	mustContain(t, f.text(t, member, "DAYS"), "Is that OK?")
}

// Bad input never gets a 5xx: a clear 4xx or valid TwiML.
func TestBadInput(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.text(t, member, "DAYS")
	cases := []struct {
		name string
		form url.Values
		want int
	}{
		{"empty body", url.Values{}, http.StatusBadRequest},
		{"no From", url.Values{"MessageSid": {phonesim.NewSID("SM")}, "Body": {"hi"}}, http.StatusBadRequest},
		{"10 kB body", f.sim.InboundSMSForm(phonesim.NewSID("SM"), member, ours, strings.Repeat("long words ", 1000)), 200},
		{"invalid UTF-8", f.sim.InboundSMSForm(phonesim.NewSID("SM"), member, ours, "caf\xe9 \xff\xfe ok"), 200},
		{"control characters", f.sim.InboundSMSForm(phonesim.NewSID("SM"), member, ours, "a\x00b\x07c\x1b[31m"), 200},
		{"unknown parameters", func() url.Values {
			v := f.sim.InboundSMSForm(phonesim.NewSID("SM"), member, ours, "yes")
			v.Set("SomethingNew", "x")
			v.Add("Repeated", "1")
			v.Add("Repeated", "2")
			return v
		}(), 200},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res, err := f.sim.PostForm(ctx, "/twilio/sms", c.form)
			if err != nil {
				t.Fatal(err)
			}
			if res.StatusCode != c.want {
				t.Fatalf("status %d, want %d: %s", res.StatusCode, c.want, res.Body)
			}
			if c.want == 200 {
				if err := phonesim.CheckMessagingTwiML(res.Body); err != nil {
					t.Fatalf("invalid TwiML: %v\n%s", err, res.Body)
				}
			} else if len(strings.TrimSpace(string(res.Body))) < 10 {
				t.Fatalf("a 4xx needs a reason, got %q", res.Body)
			}
		})
	}
	// Over 64 kB: refused with a reason, not a crash.
	big := f.sim.InboundSMSForm(phonesim.NewSID("SM"), member, ours, strings.Repeat("x", 100<<10))
	res, err := f.sim.PostForm(ctx, "/twilio/sms", big)
	if err != nil || res.StatusCode >= 500 {
		t.Fatalf("a huge body: %v %v", res, err)
	}
	f.flush(t)
	var body string
	storetest.SQL(t, f.db).QueryRow(ctx, "SELECT body FROM messages WHERE body LIKE 'caf%'").Scan(&body)
	if body != "caf\uFFFD \uFFFD ok" {
		t.Fatalf("invalid UTF-8 stored as %q", body)
	}
	storetest.SQL(t, f.db).QueryRow(ctx, "SELECT body FROM messages WHERE body LIKE 'a%b%'").Scan(&body)
	if body != "ab\x07c\x1b[31m" {
		t.Fatalf("control characters must be kept in storage (only NUL dropped): %q", body)
	}
}

// With Redis down the member gets a kind sentence and the text is kept.
func TestRedisDown(t *testing.T) {
	db := storetest.DB(t)
	proxy, proxied := storetest.NewProxy(t, storetest.RedisURL())
	r := storetest.OpenRedis(t, proxied, storetest.RedisPrefix(t))
	f := newFixtureWith(t, db, r)
	f.text(t, member, "DAYS")
	proxy.Down()
	mustContain(t, f.text(t, member, "yes"), "Sorry, our computer had a problem.")
	f.flush(t) // the text waits in the spool on its way to Postgres
	if n := f.count(t, "SELECT count(*) FROM messages WHERE body = 'yes' AND direction = 'in'"); n != 1 {
		t.Fatalf("the text sent while Redis was down was not kept (%d)", n)
	}
	proxy.Up()
	// Once Redis is back the conversation carries on.
	mustContain(t, f.text(t, member, "yes"), "How do you feel")
}

// With Postgres down the conversation carries on; answers are written when
// it returns.
func TestPostgresDown(t *testing.T) {
	url := storetest.DatabaseURL(t)
	proxy, proxied := storetest.NewProxy(t, url)
	db := storetest.Open(t, proxied)
	f := newFixtureWith(t, db, storetest.Redis(t))
	proxy.Down()
	mustContain(t, f.text(t, member, "DAYS"), "Is that OK?")
	mustContain(t, f.text(t, member, "yes"), "How do you feel")
	mustContain(t, f.text(t, member, "1"), "You said: Good")
	// Nothing reaches Postgres meanwhile: a flush fails (or finds the
	// server's own writer at it), and the answers wait in the spool.
	if err := f.journal.Flush(context.Background()); err == nil {
		if n, err := f.journal.Pending(context.Background()); err != nil || n == 0 {
			t.Fatalf("the spool was written while Postgres was down? %d pending, %v", n, err)
		}
	}
	proxy.Up()
	f.flush(t) // asks again until the spool is written
	if n := f.count(t, "SELECT count(*) FROM answers WHERE question_id = 'feel' AND value = 'good'"); n != 1 {
		t.Fatalf("the answer given while Postgres was down: %d rows", n)
	}
}

func TestStatusCallback(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.text(t, member, "DAYS")
	f.flush(t)
	// A message we sent (as the outbound sender records it).
	sid := phonesim.NewSID("SM")
	f.journal.Record(ctx, store.Event{Message: &store.MessageLogged{DedupeKey: sid, Direction: "out", MessageSid: sid,
		Person: store.Person{Hash: f.phones.Hash(member), Enc: f.phones.Encrypt(member), Masked: store.Mask(member)}, Body: "hi", Status: "queued"}})
	f.flush(t)
	// Twilio's callbacks can arrive out of order: a late "sent" or
	// "queued" never moves a delivered text back.
	for _, st := range []string{"sent", "delivered", "sent", "queued"} {
		res, err := f.sim.PostForm(ctx, "/twilio/sms/status", url.Values{"MessageSid": {sid}, "MessageStatus": {st}, "To": {member}, "AccountSid": {account}})
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("status %s: %v %v", st, res, err)
		}
	}
	f.flush(t)
	var status string
	storetest.SQL(t, f.db).QueryRow(ctx, "SELECT status FROM messages WHERE message_sid = $1", sid).Scan(&status)
	if status != "delivered" {
		t.Fatalf("status = %q, want delivered", status)
	}
	// 21610: the number opted out with Twilio.
	res, err := f.sim.PostForm(ctx, "/twilio/sms/status", url.Values{"MessageSid": {sid}, "MessageStatus": {"failed"}, "ErrorCode": {"21610"}, "To": {member}})
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("21610 status: %v %v", res, err)
	}
	f.flush(t)
	if n := f.count(t, "SELECT count(*) FROM participants WHERE opted_out_at IS NOT NULL"); n != 1 {
		t.Fatal("error 21610 did not record the opt-out")
	}
	if reply := f.text(t, member, "hello"); reply != "" {
		t.Fatalf("an opted-out member was answered: %q", reply)
	}
	// Unsigned status callbacks are refused.
	resp, _ := http.PostForm(f.srv.URL+"/twilio/sms/status", url.Values{"MessageSid": {sid}, "MessageStatus": {"sent"}})
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("unsigned status callback: %d", resp.StatusCode)
	}
}

// Replies are well-formed XML with one <Message> each.
func TestRepliesAreTwiML(t *testing.T) {
	f := newFixture(t)
	res, err := f.sim.Text(context.Background(), member, ours, "DAYS")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		XMLName  xml.Name `xml:"Response"`
		Messages []string `xml:"Message"`
	}
	if err := xml.Unmarshal(res.Body, &doc); err != nil || len(doc.Messages) != 1 {
		t.Fatalf("reply %s: %v", res.Body, err)
	}
}

// Two servers sharing Postgres and Redis get the same MessageSid at the
// same moment: it is answered and stored once.
func TestDuplicateAcrossTwoServers(t *testing.T) {
	db, r := storetest.DB(t), storetest.Redis(t)
	a := newFixtureWith(t, db, r)
	b := newFixtureWith(t, db, r)
	a.text(t, member, "DAYS")
	for round := range 5 {
		sid := phonesim.NewSID("SM")
		var wg sync.WaitGroup
		results := make([]phonesim.SMSResult, 2)
		for i, f := range []*fixture{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				res, err := f.sim.TextWithSid(context.Background(), sid, member, ours, []string{"yes", "1", "skip", "3", "1"}[round])
				if err != nil {
					t.Error(err)
				}
				results[i] = res
			}()
		}
		wg.Wait()
		if n := len(results[0].Messages) + len(results[1].Messages); n != 1 {
			t.Fatalf("round %d: %d replies across the two servers, want 1", round, n)
		}
	}
	a.flush(t) // each server's spool holds the texts it answered
	b.flush(t)
	if n := a.count(t, "SELECT count(*) FROM answers"); n != 3 {
		t.Fatalf("answers = %d, want 3 (feel, staff, days; skip is refused on a question that is not optional)", n)
	}
	if n := a.count(t, "SELECT count(*) FROM conversations WHERE status = 'completed'"); n != 1 {
		t.Fatalf("completed conversations = %d", n)
	}
}

// A member who chooses a language by text has it kept with the
// conversation and with them.
func TestLanguageChosenIsKept(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.addWelsh(t)
	mustContain(t, f.text(t, member, "CLUBS"), "Cymraeg")
	mustContain(t, f.text(t, member, "2"), "Helo.")
	mustContain(t, f.text(t, member, "1"), "Cwestiwn 1 o 2.")
	f.flush(t)
	if n := f.count(t, `SELECT count(*) FROM conversations c JOIN participants p ON p.id = c.participant_id
		WHERE c.survey_id = 'clubs' AND c.language = 'cy' AND p.language = 'cy'`); n != 1 {
		t.Errorf("%d conversations kept the language chosen, want 1", n)
	}
}

// A short text asking to stop in other words opts out exactly like STOP,
// and we confirm it ourselves (Twilio does not know about it).
func TestStopInOtherWords(t *testing.T) {
	f := newFixture(t)
	phrases := []string{"please stop texting me", "stop please", "Stop it", "I want to stop", "no more texts please",
		"Unsubscribe me now!", "don't text me"}
	for i, body := range phrases {
		from := fmt.Sprintf("+4477009003%02d", i)
		f.text(t, from, "DAYS")
		f.text(t, from, "yes")
		reply := f.text(t, from, body)
		mustContain(t, reply, "We will not text you again", "text START")
		for _, after := range []string{"DAYS", "1", "hello", "HELP", "stop please"} {
			if got := f.text(t, from, after); got != "" {
				t.Fatalf("after %q, %q was answered with %q", body, after, got)
			}
		}
	}
	f.flush(t)
	if n := f.count(t, "SELECT count(*) FROM participants WHERE opted_out_at IS NOT NULL"); n != len(phrases) {
		t.Fatalf("opted-out participants = %d, want %d", n, len(phrases))
	}
	if n := f.count(t, "SELECT count(*) FROM conversations WHERE status = 'partial'"); n != len(phrases) {
		t.Fatalf("partial conversations = %d, want %d", n, len(phrases))
	}
	// START brings them back.
	f.text(t, "+447700900300", "START")
	mustContain(t, f.text(t, "+447700900300", "DAYS"), "Is that OK?")

	// Our confirmation goes whatever HYS_SMS_CONFIRM_STOP says.
	g := newFixture(t, func(c *config.Config) { c.SMSConfirmStop = true })
	mustContain(t, g.text(t, member, "stop texting me please"), "We will not text you again")

	// A sentence that only mentions stopping is not an opt-out.
	mustContain(t, f.text(t, member, "I don't want to stop"), "Hello from "+orgName)
	f.text(t, member, "DAYS")
	f.text(t, member, "yes")
	f.text(t, member, "3")
	sentence := "the bus does not stop near my house"
	mustContain(t, f.text(t, member, sentence), "Thank you for telling us", "How kind are the staff")
	f.flush(t)
	if n := f.count(t, "SELECT count(*) FROM answers WHERE question_id = 'better' AND raw = $1", sentence); n != 1 {
		t.Fatalf("the sentence with stop in it was not kept as the answer (%d)", n)
	}
	// In a words question the short form still stops.
	f.text(t, "+447700900399", "DAYS")
	f.text(t, "+447700900399", "yes")
	f.text(t, "+447700900399", "3")
	mustContain(t, f.text(t, "+447700900399", "stop it please"), "We will not text you again")
}

// During a words question the text is the answer, even when it is a
// survey keyword.
func TestKeywordAsWordsAnswer(t *testing.T) {
	f := newFixture(t)
	f.text(t, member, "DAYS")
	f.text(t, member, "yes")
	mustContain(t, f.text(t, member, "3"), "own words")
	mustContain(t, f.text(t, member, "Days."), "Thank you for telling us", "How kind are the staff")
	f.flush(t)
	if n := f.count(t, "SELECT count(*) FROM answers WHERE question_id = 'better' AND raw = 'Days.' AND value = 'Days.'"); n != 1 {
		t.Fatalf("the answer \"Days.\" was not kept (%d)", n)
	}
	if n := f.count(t, "SELECT count(*) FROM conversations"); n != 1 {
		t.Fatalf("conversations = %d: the survey started again", n)
	}
	// At any other question a keyword still starts the survey again.
	mustContain(t, f.text(t, member, "DAYS"), "Is that OK?")
	f.text(t, member, "yes")
	f.text(t, member, "3")
	// HELP during a words question is still HELP.
	mustContain(t, f.text(t, member, "HELP"), orgPhone, "own words")
}

// mms sends a picture or voice-note text and returns the replies.
func (f *fixture) mms(t *testing.T, from, body string, media ...string) string {
	t.Helper()
	form := f.sim.InboundSMSForm(phonesim.NewSID("SM"), from, ours, body)
	form.Set("NumMedia", fmt.Sprint(len(media)))
	for i, u := range media {
		form.Set(fmt.Sprintf("MediaUrl%d", i), u)
		form.Set(fmt.Sprintf("MediaContentType%d", i), "image/jpeg")
	}
	res, err := f.sim.PostForm(context.Background(), "/twilio/sms", form)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("MMS: %v %v", res, err)
	}
	if err := phonesim.CheckMessagingTwiML(res.Body); err != nil {
		t.Fatalf("invalid TwiML: %v\n%s", err, res.Body)
	}
	var doc struct {
		Messages []string `xml:"Message"`
	}
	if err := xml.Unmarshal(res.Body, &doc); err != nil {
		t.Fatalf("reply %s: %v", res.Body, err)
	}
	return strings.Join(doc.Messages, "\n")
}

func TestPicturesAndVoiceNotes(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	pic := "https://api.twilio.com/2010-04-01/Accounts/" + account + "/Messages/MM1/Media/ME1"
	voice := "https://api.twilio.com/2010-04-01/Accounts/" + account + "/Messages/MM2/Media/ME2"
	// No survey running: a kind word and the keywords.
	mustContain(t, f.mms(t, member, "", pic), "cannot open pictures or voice messages", "text DAYS")
	f.text(t, member, "DAYS")
	// At consent and at a choice question: the question again.
	mustContain(t, f.mms(t, member, "", pic), "cannot open pictures", "Is that OK?")
	f.text(t, member, "yes")
	mustContain(t, f.mms(t, member, " ", pic), "cannot open pictures", "How do you feel")
	mustContain(t, f.text(t, member, "3"), "own words")
	// At a words question the media is the answer.
	mustContain(t, f.mms(t, member, "", voice, pic), "Thank you for telling us", "How kind are the staff")
	// Words with a picture are an answer as usual; the picture is kept.
	mustContain(t, f.mms(t, member, "5", pic), "You said: 5")
	// Only http(s) addresses, at most 10, each at most 2048 bytes.
	long := "https://example.org/" + strings.Repeat("a", 3000)
	many := []string{"ftp://example.org/x", "javascript:alert(1)", long}
	for i := range 12 {
		many = append(many, fmt.Sprintf("http://example.org/%d", i))
	}
	f.mms(t, member, "2", many...)
	f.flush(t)

	var raw, value, via string
	storetest.SQL(t, f.db).QueryRow(ctx, "SELECT raw, value, via FROM answers WHERE question_id = 'better'").Scan(&raw, &value, &via)
	if want := voice + " " + pic; raw != want || value != want || via != "media" {
		t.Fatalf("media answer raw=%q value=%q via=%q, want %q via media", raw, value, via, want)
	}
	if n := f.count(t, "SELECT count(*) FROM messages WHERE direction = 'in' AND media = ARRAY[$1, $2]", voice, pic); n != 1 {
		t.Fatalf("the voice note's message row does not keep its media (%d)", n)
	}
	if n := f.count(t, "SELECT count(*) FROM messages WHERE direction = 'in' AND body = '5' AND media = ARRAY[$1]", pic); n != 1 {
		t.Fatalf("a picture sent with words was not kept (%d)", n)
	}
	if n := f.count(t, "SELECT count(*) FROM messages WHERE direction = 'in' AND cardinality(media) = 1"); n != 4 {
		t.Fatalf("messages with one picture = %d, want 4", n)
	}
	var media []string
	storetest.SQL(t, f.db).QueryRow(ctx, "SELECT media FROM messages WHERE direction = 'in' AND body = '2'").Scan(&media)
	if len(media) != 10 || len(media[0]) != 2048 || !strings.HasPrefix(media[0], "https://example.org/aaa") || media[1] != "http://example.org/0" {
		t.Fatalf("media kept: %d addresses, first %d bytes: %.40q", len(media), len(media[0]), media)
	}
	if n := f.count(t, "SELECT count(*) FROM conversations WHERE status = 'completed'"); n != 1 {
		t.Fatalf("completed conversations = %d", n)
	}
}

// HELP or INFO in a few more words, outside a survey, gets the HELP
// answer. ("help me" asks for a person: see TestHelpAfterTheEnd.)
func TestHelpInOtherWords(t *testing.T) {
	f := newFixture(t)
	for _, body := range []string{"Help!", "info please?", "INFO", "help."} {
		reply := f.text(t, member, body)
		mustContain(t, reply, orgName+".", orgPhone, "DAYS", "STOP")
		if strings.Contains(reply, "Hello from") {
			t.Fatalf("%q got the greeting: %q", body, reply)
		}
	}
}

// A text just after finishing a survey is thanked, not invited to start over.
func TestTextAfterFinishing(t *testing.T) {
	const ttl = 2 * time.Second
	f := newFixture(t, func(c *config.Config) { c.SMSSessionTTL = ttl })
	finish := func() {
		t.Helper()
		for _, body := range []string{"DAYS", "yes", "1", "4"} {
			f.text(t, member, body)
		}
		mustContain(t, f.text(t, member, "2"), "Thank you")
	}
	finish()
	for _, body := range []string{"thanks!", "2", "ok"} {
		reply := f.text(t, member, body)
		mustContain(t, reply, "Thank you. You have finished the survey.\nTo answer it again, text DAYS.")
		if strings.Contains(reply, "Hello from") {
			t.Fatalf("%q got the greeting: %q", body, reply)
		}
	}
	// Keywords and HELP work as before.
	mustContain(t, f.text(t, member, "HELP"), orgPhone)
	mustContain(t, f.text(t, member, "help me"), "A person from our team will call or text you.")
	mustContain(t, f.text(t, member, "DAYS"), "Is that OK?")
	// Starting again forgets that they had finished.
	mustContain(t, f.text(t, member, "no"), "")
	f.flush(t)
	if n := f.count(t, "SELECT count(*) FROM conversations WHERE status = 'refused'"); n != 1 {
		t.Fatalf("refused conversations = %d", n)
	}
	if reply := f.text(t, member, "thanks"); strings.Contains(reply, "finished the survey") {
		t.Fatalf("after refusing, %q", reply)
	}
	// STOP still stops.
	finish()
	if reply := f.text(t, member, "STOP"); reply != "" {
		t.Fatalf("STOP answered %q", reply)
	}
	f.text(t, member, "START")
	if reply := f.text(t, member, "thanks"); strings.Contains(reply, "finished the survey") {
		t.Fatalf("after STOP and START, %q", reply)
	}
	// After the session time it is forgotten.
	finish()
	f.untilForgotten(t, member, ttl)
	mustContain(t, f.text(t, member, "thanks"), "Hello from "+orgName)

	// Having finished one survey does not stop another starting: a text to
	// the other survey's own number starts it.
	f.addWelsh(t) // on +447700900222
	finish()
	res, err := f.sim.Text(context.Background(), member, "+447700900222", "hi")
	if err != nil {
		t.Fatal(err)
	}
	mustContain(t, strings.Join(res.Messages, "\n"), "Cymraeg")
}
