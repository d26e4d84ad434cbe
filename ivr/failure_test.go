package ivr_test

import (
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/haveyoursay/haveyoursay/config"
	"github.com/haveyoursay/haveyoursay/ivr"
	"github.com/haveyoursay/haveyoursay/phonesim"
	"github.com/haveyoursay/haveyoursay/store/storetest"
)

// Every step below goes through phonesim, which fails the step on invalid
// TwiML, a non-2xx answer or an empty body: so each must() also checks
// that the caller got valid TwiML.

func TestRedisStopsMidCall(t *testing.T) {
	t.Parallel()
	proxy, redisURL := storetest.NewProxy(t, storetest.RedisURL())
	e := newEnv(t, options{redisURL: redisURL})
	c := e.call(member)
	must(t, c.Press("1"))
	must(t, c.Press("1"))
	proxy.Down()
	must(t, c.Press("4"))
	expectHeard(t, c, "You said: 4.", "Question 3 of 3.")
	must(t, c.Speak("fewer", 0.9))
	expectHeard(t, c, "Thank you for your answers.", "To talk to a person, press 0.")
	must(t, c.Silence()) // no 0 at the last offer of a person: the call ends
	if c.Waiting() != phonesim.WaitEnded {
		t.Fatalf("waiting for %q", c.Waiting())
	}
	// A new call with Redis down still works.
	c2 := e.call("+447700900125")
	expectHeard(t, c2, "We record this call", "Is that OK?")
	must(t, c2.Press("1"))
	expectHeard(t, c2, "Question 1 of 3.")
	if e.failureCount("redis") == 0 {
		t.Error("Redis failures were not counted")
	}
	proxy.Up()
	e.flush()
	if status, _ := e.conversation(c.Sid); status != "completed" {
		t.Errorf("status = %s", status)
	}
	// Answers spooled before Redis stopped arrive after those written
	// straight to Postgres: compare by question.
	got := byQuestion(e.answers(c.Sid))
	if len(got) != 3 || got["feel"] != "good" || got["staff"] != "4" || got["days"] != "fewer" {
		t.Errorf("answers = %+v", got)
	}
}

func TestPostgresFailsMidCall(t *testing.T) {
	t.Parallel()
	proxy, dbURL := storetest.NewProxy(t, storetest.DatabaseURL(t))
	e := newEnv(t, options{dbURL: dbURL})
	c := e.call(member)
	must(t, c.Press("1"))
	// Let the journal finish writing first: an event it is writing at the
	// moment Postgres goes away can be set aside (see the report on
	// store.Journal and pgx's "conn closed").
	e.flush()
	proxy.Down()
	must(t, c.Press("3"))
	expectHeard(t, c, "What would make your day service better?")
	must(t, c.Silence())
	must(t, c.Record(3, "more music"))
	must(t, c.Press("2"))
	must(t, c.Press("1"))
	expectHeard(t, c, "Thank you for your answers.")
	// Calls still start with Postgres down (their needs cannot be read).
	c2 := e.call("+447700900126")
	expectHeard(t, c2, "Is that OK?")
	must(t, c2.Hangup())
	// The recording cannot be stored now: Twilio is asked to send it again.
	if err := e.sim.FlushCallbacks(e.ctx); err == nil {
		t.Error("callbacks should have failed with Postgres down")
	}
	if e.failureCount("postgres") == 0 {
		t.Error("Postgres failures were not counted")
	}
	proxy.Up()
	e.flush()
	if status, consent := e.conversation(c.Sid); status != "completed" || consent != "pressed 1" {
		t.Errorf("conversation = %s %q", status, consent)
	}
	got := e.answersKept(c.Sid)
	if len(got) != 4 || got["feel"] != "not-good" || got["better"] != "" || got["staff"] != "2" || got["days"] != "more" {
		t.Errorf("answers = %+v", got)
	}
	if s, _ := e.conversation(c2.Sid); s != "partial" {
		t.Errorf("second call = %s", s)
	}
}

func TestDatabaseDownForRecordingCallbackIsRetried(t *testing.T) {
	t.Parallel()
	proxy, dbURL := storetest.NewProxy(t, storetest.DatabaseURL(t))
	e := newEnv(t, options{dbURL: dbURL})
	c := e.call(member)
	must(t, c.Press("1"))
	must(t, c.Press("3"))
	must(t, c.Silence())
	must(t, c.Record(2, "quiet room"))
	must(t, c.Hangup())
	e.flush() // this test is about the callbacks, not the journal
	proxy.Down()
	if err := e.sim.FlushCallbacks(e.ctx); err == nil {
		t.Fatal("the recording and transcription callbacks should have failed")
	}
	proxy.Up()
	e.flush()
	a := e.answers(c.Sid)[1]
	if n := e.count(`SELECT count(*) FROM recordings WHERE sid = $1`, a.Raw); n != 0 {
		t.Fatalf("recording stored while Postgres was down?")
	}
	// Twilio sends the callback again: now it is stored.
	form := url.Values{"AccountSid": {accountSID}, "CallSid": {c.Sid}, "RecordingSid": {a.Raw},
		"RecordingUrl":    {e.sim.APIURL() + "/2010-04-01/Accounts/" + accountSID + "/Recordings/" + a.Raw},
		"RecordingStatus": {"completed"}, "RecordingDuration": {"2"}}
	q := url.Values{"c": {c.Sid}, "q": {"better"}, "k": {a.Key}, "l": {"en-GB"}}
	// Connections the pool held while Postgres was away fail once each
	// (503: Twilio sends it again), so redeliver until one is stored, as
	// Twilio does; then once more: stored once.
	poll := time.NewTicker(20 * time.Millisecond)
	defer poll.Stop()
	giveUp := time.After(20 * time.Second)
	for {
		r, err := e.sim.PostForm(e.ctx, ivr.PathRecording+"?"+q.Encode(), form)
		if err != nil || (r.StatusCode/100 != 2 && r.StatusCode != http.StatusServiceUnavailable) {
			t.Fatalf("redelivery: %v %+v", err, r)
		}
		if r.StatusCode/100 == 2 {
			break
		}
		select {
		case <-poll.C:
		case <-giveUp:
			t.Fatalf("the recording callback still fails after Postgres came back: %+v", r)
		}
	}
	if r, err := e.sim.PostForm(e.ctx, ivr.PathRecording+"?"+q.Encode(), form); err != nil || r.StatusCode/100 != 2 {
		t.Fatalf("second redelivery: %v %+v", err, r)
	}
	rec, err := e.db.GetRecording(e.ctx, a.Raw)
	if err != nil || rec.AnswerKey != a.Key || len(rec.Audio) != len(phonesim.WAV(2)) {
		t.Errorf("recording = %+v, %v", rec.AnswerKey, err)
	}
}

func TestBothDownStillAnswersKindly(t *testing.T) {
	t.Parallel()
	rproxy, redisURL := storetest.NewProxy(t, storetest.RedisURL())
	pproxy, dbURL := storetest.NewProxy(t, storetest.DatabaseURL(t))
	e := newEnv(t, options{redisURL: redisURL, dbURL: dbURL})
	// A member with needs set: their call must ask Postgres for them.
	if _, err := storetest.SQL(e.t, e.db).Exec(e.ctx, `INSERT INTO participants (phone_hash, phone_enc, phone_masked, needs) VALUES ($1, $2, $3, '{"slow_speech": true}')`,
		e.phones.Hash("+447700900127"), e.phones.Encrypt("+447700900127"), "x"); err != nil {
		t.Fatal(err)
	}
	c := e.call(member)
	must(t, c.Press("1"))
	rproxy.Down()
	pproxy.Down()
	// With both down the journal holds answers in memory (whether they
	// all reach Postgres afterwards is the journal's business, tested in
	// store); the caller must still hear valid TwiML and carry on.
	must(t, c.Press("1"))
	expectHeard(t, c, "You said: Good.", "How kind are the staff?")
	must(t, c.Press("3"))
	expectHeard(t, c, "You said: 3.", "Question 3 of 3.")
	must(t, c.Press("*"))
	expectHeard(t, c, "Would you like more days")
	must(t, c.Press("1"))
	expectHeard(t, c, "Thank you for your answers.", "To talk to a person, press 0.")
	must(t, c.Silence()) // no 0 at the last offer of a person: the call ends
	if c.Waiting() != phonesim.WaitEnded {
		t.Errorf("waiting for %q", c.Waiting())
	}
	c2 := e.call("+447700900127")
	expectHeard(t, c2, "We record this call", "Is that OK?")
	if e.failureCount("redis") == 0 || e.failureCount("postgres") == 0 {
		t.Errorf("failures not counted: redis %d, postgres %d", e.failureCount("redis"), e.failureCount("postgres"))
	}
}

// whisper is an OpenAI-compatible transcription service.
type whisper struct {
	mu    sync.Mutex
	calls int
	lang  string
	fail  bool
}

func (wsp *whisper) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/v1/audio/transcriptions" {
		http.NotFound(w, r)
		return
	}
	_, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	mr := multipart.NewReader(r.Body, params["boundary"])
	var size int
	var lang, model string
	for {
		p, err := mr.NextPart()
		if err != nil {
			break
		}
		b, _ := io.ReadAll(p)
		switch p.FormName() {
		case "file":
			size = len(b)
		case "language":
			lang = string(b)
		case "model":
			model = string(b)
		}
	}
	wsp.mu.Lock()
	defer wsp.mu.Unlock()
	wsp.calls++
	wsp.lang = lang
	if wsp.fail || size == 0 || model == "" {
		http.Error(w, "no", 500)
		return
	}
	json.NewEncoder(w).Encode(map[string]string{"text": " The garden is lovely. "})
}

func TestTranscriptionService(t *testing.T) {
	t.Parallel()
	ws := &whisper{fail: true}
	wsrv := httptest.NewServer(ws)
	t.Cleanup(wsrv.Close)
	e := newEnv(t, options{config: func(c *config.Config) { c.TranscribeURL = wsrv.URL }})
	c := e.call(member)
	must(t, c.Press("1"))
	must(t, c.Press("3"))
	must(t, c.Silence())
	if rv := c.RecordVerb(); rv.Transcribe || rv.TranscribeCallback != "" {
		t.Errorf("Twilio must not transcribe when a service is set: %+v", rv)
	}
	must(t, c.Record(3, ""))
	must(t, c.Hangup())
	must(t, e.sim.FlushCallbacks(e.ctx))
	e.h.Wait()
	e.flush()
	rec := e.answers(c.Sid)[1].Raw
	if n := e.count(`SELECT count(*) FROM transcripts WHERE recording_sid = $1`, rec); n != 0 {
		t.Fatalf("a failed transcription must not be stored as done")
	}
	// The service comes back; the sweep transcribes what was missed.
	ws.mu.Lock()
	ws.fail = false
	ws.mu.Unlock()
	if _, err := storetest.SQL(e.t, e.db).Exec(e.ctx, `UPDATE recordings SET created_at = now() - interval '1 hour'`); err != nil {
		t.Fatal(err)
	}
	n, err := e.h.TranscribeMissing(e.ctx, 10)
	if err != nil || n != 1 {
		t.Fatalf("TranscribeMissing = %d, %v", n, err)
	}
	ts, _ := e.db.Transcripts(e.ctx, rec)
	if len(ts) != 1 || ts[0].Text != "The garden is lovely." || ts[0].Source != "service" {
		t.Errorf("transcripts = %+v", ts)
	}
	ws.mu.Lock()
	defer ws.mu.Unlock()
	if ws.lang != "en" || ws.calls != 2 {
		t.Errorf("service called %d times, language %q", ws.calls, ws.lang)
	}
}

func TestSlowSpeechNeeds(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	if _, err := storetest.SQL(e.t, e.db).Exec(e.ctx, `INSERT INTO participants (phone_hash, phone_enc, phone_masked, needs) VALUES ($1, $2, $3, '{"slow_speech": true}')`,
		e.phones.Hash(member), e.phones.Encrypt(member), "x"); err != nil {
		t.Fatal(err)
	}
	r, err := e.sim.PostForm(e.ctx, ivr.PathIncoming, url.Values{"CallSid": {"CA11111111111111111111111111111111"}, "From": {member}, "To": {ourNumber}})
	if err != nil {
		t.Fatal(err)
	}
	must(t, phonesim.CheckVoiceTwiML(r.Body))
	if !strings.Contains(string(r.Body), `rate="75%"`) || strings.Contains(string(r.Body), `rate="90%"`) {
		t.Errorf("slow speech not asked for: %s", r.Body)
	}
}
