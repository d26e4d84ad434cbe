package phonesim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/haveyoursay/haveyoursay/survey"
	"github.com/haveyoursay/haveyoursay/webhook"
)

// surveyApp answers the SMS and voice webhooks with the real survey engine
// and the demo survey, keeping sessions in memory: enough of an app to
// load, with /metrics.
type surveyApp struct {
	srv      *httptest.Server
	s        *survey.Survey
	mu       sync.Mutex
	sessions map[string]survey.Session // From (texts) or CallSid (calls)
	finished int
}

func newSurveyApp(t *testing.T) *surveyApp {
	a := &surveyApp{s: survey.Demo(), sessions: map[string]survey.Session{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /twilio/sms", a.sms)
	mux.HandleFunc("POST /twilio/voice", a.voice)
	mux.HandleFunc("POST /twilio/voice/step/{sid}", a.voice)
	mux.HandleFunc("POST /twilio/voice/status", func(w http.ResponseWriter, r *http.Request) {
		if a.check(w, r) {
			w.WriteHeader(http.StatusNoContent)
		}
	})
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes 4.2e+07\n")
	})
	a.srv = httptest.NewServer(mux)
	t.Cleanup(a.srv.Close)
	return a
}

func (a *surveyApp) check(w http.ResponseWriter, r *http.Request) bool {
	if err := (webhook.Verifier{AuthToken: testToken, PublicURL: a.srv.URL}).Check(r); err != nil {
		http.Error(w, err.Error(), http.StatusForbidden)
		return false
	}
	return true
}

func (a *surveyApp) sms(w http.ResponseWriter, r *http.Request) {
	if !a.check(w, r) {
		return
	}
	from, body := r.PostForm.Get("From"), r.PostForm.Get("Body")
	a.mu.Lock()
	var reply survey.Reply
	if a.s.HasKeyword(body) {
		var sess survey.Session
		reply, sess = survey.Start(a.s, survey.SMS, survey.Needs{})
		a.sessions[from] = sess
	} else if sess, ok := a.sessions[from]; ok {
		reply, sess = survey.Step(a.s, sess, survey.Input{Text: body})
		a.sessions[from] = sess
	} else {
		reply = survey.Reply{Prompts: []survey.Prompt{{Text: "Text DAYS to start."}}}
	}
	if reply.Done {
		delete(a.sessions, from)
		a.finished++
	}
	a.mu.Unlock()
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, "<Response><Message>%s</Message></Response>", html.EscapeString(reply.Text()))
}

func (a *surveyApp) voice(w http.ResponseWriter, r *http.Request) {
	if !a.check(w, r) {
		return
	}
	sid := r.PostForm.Get("CallSid")
	a.mu.Lock()
	sess, ok := a.sessions[sid]
	var reply survey.Reply
	switch {
	case !ok:
		reply, sess = survey.Start(a.s, survey.Voice, survey.Needs{})
	case r.PostForm.Get("RecordingUrl") != "":
		reply, sess = survey.Step(a.s, sess, survey.Input{Recording: &survey.Recording{URL: r.PostForm.Get("RecordingUrl"), Seconds: 3}})
	default:
		reply, sess = survey.Step(a.s, sess, survey.Input{Digits: r.PostForm.Get("Digits")})
	}
	a.sessions[sid] = sess
	if reply.Done {
		delete(a.sessions, sid)
		a.finished++
	}
	a.mu.Unlock()
	var b strings.Builder
	for _, p := range reply.Prompts {
		fmt.Fprintf(&b, "<Say>%s</Say>", html.EscapeString(p.Text))
	}
	action := "/twilio/voice/step/" + sid
	switch {
	case reply.Done:
		b.WriteString("<Hangup/>")
	case reply.Expect.Record:
		fmt.Fprintf(&b, `<Record action="%s" maxLength="%d" finishOnKey="#"/>`, action, reply.Expect.MaxSeconds)
	default:
		fmt.Fprintf(&b, `<Gather action="%s" numDigits="1"/><Redirect>%s</Redirect>`, action, action)
	}
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, "<Response>%s</Response>", b.String())
}

func TestLoadHoldsWholeConversations(t *testing.T) {
	a := newSurveyApp(t)
	rep, err := Load(context.Background(), LoadConfig{URL: a.srv.URL, AuthToken: testToken,
		Members: 4, Conversations: 24, SMSShare: 0.5, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Conversations != 24 || rep.SMS+rep.Calls != 24 || rep.SMS == 0 || rep.Calls == 0 {
		t.Errorf("conversations %d (sms %d, calls %d), want 24 of both kinds", rep.Conversations, rep.SMS, rep.Calls)
	}
	if rep.Finished != 24 || rep.Failed != 0 || rep.Errors != 0 {
		t.Errorf("finished %d, failed %d, errors %d %q; want all 24 finished", rep.Finished, rep.Failed, rep.Errors, rep.ErrorSamples)
	}
	a.mu.Lock()
	finished := a.finished
	a.mu.Unlock()
	if finished != 24 {
		t.Errorf("the app saw %d surveys to the end, want 24", finished)
	}
	kinds := map[string]KindReport{}
	total := 0
	for _, k := range rep.Kinds {
		kinds[k.Kind] = k
		total += k.Requests
		if k.P50ms > k.P95ms || k.P95ms > k.P99ms || k.P99ms > k.Maxms || k.Maxms <= 0 {
			t.Errorf("%s: percentiles out of order: %+v", k.Kind, k)
		}
	}
	for _, want := range []string{"sms", "voice", "voice/step", "voice/status"} {
		if kinds[want].Requests == 0 {
			t.Errorf("no %q requests measured: %+v", want, rep.Kinds)
		}
	}
	// A text conversation is the keyword, the consent and 3 or 4 answers.
	if n := kinds["sms"].Requests; n < 5*rep.SMS || n > 6*rep.SMS {
		t.Errorf("%d texts for %d text conversations", n, rep.SMS)
	}
	if kinds["voice/status"].Requests != rep.Calls {
		t.Errorf("%d call status callbacks for %d calls", kinds["voice/status"].Requests, rep.Calls)
	}
	if total != rep.Requests || rep.RequestsPerSec <= 0 || rep.ElapsedSeconds <= 0 {
		t.Errorf("requests %d (kinds add to %d), %.1f/s over %.2f s", rep.Requests, total, rep.RequestsPerSec, rep.ElapsedSeconds)
	}
	if rep.MemoryStartBytes != 42e6 || rep.MemoryPeakBytes != 42e6 || rep.MemoryEndBytes != 42e6 {
		t.Errorf("memory %d/%d/%d, want 42e6 from /metrics", rep.MemoryStartBytes, rep.MemoryPeakBytes, rep.MemoryEndBytes)
	}

	var out bytes.Buffer
	if err := rep.Print(&out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"4 members at once", "24 finished", "voice/status", "P99 ms", "40.1 MiB at most", "Errors: none."} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the printed report lacks %q:\n%s", want, out.String())
		}
	}
	out.Reset()
	if err := rep.WriteJSON(&out); err != nil {
		t.Fatal(err)
	}
	var back LoadReport
	if err := json.Unmarshal(out.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back.Conversations != 24 || len(back.Kinds) != len(rep.Kinds) || !strings.Contains(out.String(), `"p95_ms"`) {
		t.Errorf("JSON round trip lost figures:\n%s", out.String())
	}
}

func TestLoadStopsAfterDuration(t *testing.T) {
	a := newSurveyApp(t)
	began := time.Now()
	rep, err := Load(context.Background(), LoadConfig{URL: a.srv.URL, AuthToken: testToken,
		Members: 3, Duration: 300 * time.Millisecond, SMSShare: 1})
	if err != nil {
		t.Fatal(err)
	}
	// Generous: conversations under way when the time is up are finished.
	if took := time.Since(began); took > 20*time.Second {
		t.Errorf("a 300 ms load test took %v", took)
	}
	if rep.Conversations == 0 || rep.Calls != 0 || rep.Failed != 0 {
		t.Errorf("conversations %d, calls %d, failed %d %q", rep.Conversations, rep.Calls, rep.Failed, rep.ErrorSamples)
	}
}

func TestLoadCountsErrors(t *testing.T) {
	a := newSurveyApp(t)
	// A wrong token: every webhook answers 403, and each conversation fails.
	rep, err := Load(context.Background(), LoadConfig{URL: a.srv.URL, AuthToken: "wrongtoken",
		Members: 2, Conversations: 4, SMSShare: 0.5, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Failed != 4 || rep.Finished != 0 || rep.Errors != 4 || len(rep.ErrorSamples) == 0 {
		t.Fatalf("failed %d, finished %d, errors %d, samples %q", rep.Failed, rep.Finished, rep.Errors, rep.ErrorSamples)
	}
	if !strings.Contains(rep.ErrorSamples[0], "403") {
		t.Errorf("the error sample does not say 403: %q", rep.ErrorSamples[0])
	}
	var out bytes.Buffer
	rep.Print(&out)
	if !strings.Contains(out.String(), "The first ones:") {
		t.Errorf("errors not printed:\n%s", out.String())
	}
}

func TestLoadRefusesBadSettings(t *testing.T) {
	for _, c := range []struct {
		cfg  LoadConfig
		want string
	}{
		{LoadConfig{URL: "http://example.org", AuthToken: "x", Conversations: 1}, "only runs against a server on this machine"},
		{LoadConfig{URL: "http://10.0.0.1:8080", AuthToken: "x", Conversations: 1}, "only runs against a server on this machine"},
		{LoadConfig{URL: "127.0.0.1:8080", AuthToken: "x", Conversations: 1}, "does not look like a server URL"},
		{LoadConfig{URL: "http://127.0.0.1:1", AuthToken: "x"}, "Duration"},
		{LoadConfig{URL: "http://localhost:1", Conversations: 1}, "auth token"},
		{LoadConfig{URL: "http://[::1]:1", AuthToken: "x", Conversations: 1, Members: 1001}, "between 1 and 1000"},
		{LoadConfig{URL: "http://127.0.0.1:1", AuthToken: "x", Conversations: 1, SMSShare: 1.5}, "between 0 and 1"},
	} {
		_, err := Load(context.Background(), c.cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Load(%+v) = %v, want an error saying %q", c.cfg, err, c.want)
		}
	}
}

func TestMenuKeys(t *testing.T) {
	for _, c := range []struct{ prompt, want string }{
		{"Is that OK?\nReply with a number:\n1 Yes\n2 No", "[1 2]"},
		{"For Good, press 1. For OK, press 2. For Not good, press 3.", "[1 2 3]"},
		{"How kind are the staff?\nReply with a number from 1 to 5.", "[1 2 3 4 5]"},
		{"Press a number from 1 to 5. To talk to a person, press 0.", "[1 2 3 4 5]"},
		{"Reply in your own words.\nTo skip this question, text SKIP.", "[]"},
		{"You said: 4.\nQuestion 4 of 4.", "[]"},
		{"Thank you for your answers. Our team will read every one.", "[]"},
		{"For Cymraeg, press 2. For English, press 1.", "[2 1]"},
	} {
		if got := fmt.Sprint(MenuKeys(c.prompt)); got != c.want {
			t.Errorf("MenuKeys(%q) = %s, want %s", c.prompt, got, c.want)
		}
	}
}

func TestWebhookKind(t *testing.T) {
	for path, want := range map[string]string{
		"/twilio/sms": "sms", "/twilio/sms/status": "sms/status", "/twilio/voice": "voice",
		"/twilio/voice/status": "voice/status", "/twilio/voice/step/CA0123456789abcdef0123456789abcdef": "voice/step",
		"/twilio/voice/gather/feel": "voice/gather/feel", "/hys/twilio/sms": "sms", "/hys/audio/a.wav": "audio", "/audio/prompts/abc123.wav": "audio", "/": "/",
	} {
		if got := WebhookKind(path); got != want {
			t.Errorf("WebhookKind(%q) = %q, want %q", path, got, want)
		}
	}
}

func TestLoadStaysOnThisMachine(t *testing.T) {
	a := newSurveyApp(t)
	// The app plays audio from elsewhere: the load test must not fetch it.
	mux := http.NewServeMux()
	mux.HandleFunc("POST /twilio/voice", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		io.WriteString(w, `<Response><Play>https://cdn.example.org/hello.wav</Play><Hangup/></Response>`)
	})
	mux.Handle("/", a.srv.Config.Handler)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	rep, err := Load(context.Background(), LoadConfig{URL: srv.URL, AuthToken: testToken, Members: 1, Conversations: 1})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Failed != 1 || len(rep.ErrorSamples) == 0 || !strings.Contains(rep.ErrorSamples[0], "only talks to this machine") {
		t.Fatalf("failed %d, errors %q; want the far audio refused", rep.Failed, rep.ErrorSamples)
	}
}
