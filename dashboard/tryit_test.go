package dashboard_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/haveyoursay/haveyoursay/config"
	"github.com/haveyoursay/haveyoursay/dashboard"
	"github.com/haveyoursay/haveyoursay/phonesim"
	"github.com/haveyoursay/haveyoursay/server"
	"github.com/haveyoursay/haveyoursay/store/storetest"
	"github.com/haveyoursay/haveyoursay/survey"
)

const (
	testSID   = "AC0123456789abcdef0123456789abcdef"
	testToken = "0123456789abcdef0123456789abcdef"
	// The public URL is not where the server listens, as behind a proxy:
	// the Try-it phone must sign for it and still reach the server.
	testPublic = "https://feedback.example.org"
)

// The Try-it API's JSON, as the page's script reads it.
type (
	smsRequest struct {
		Survey string `json:"survey"`
		From   string `json:"from"`
		Body   string `json:"body"`
	}
	smsResponse struct {
		MessageSid string   `json:"messageSid"`
		Replies    []string `json:"replies"`
	}
	callRequest struct {
		Survey string `json:"survey"`
		From   string `json:"from"`
	}
	heardItem struct {
		Say  string `json:"say,omitempty"`
		Play string `json:"play,omitempty"`
	}
	callView struct {
		ID      string      `json:"id"`
		Waiting string      `json:"waiting"` // gather, record or ended
		Lang    string      `json:"lang"`
		Heard   []heardItem `json:"heard"`
		Gather  *struct {
			Keys      bool `json:"keys"`
			NumDigits int  `json:"numDigits"`
		} `json:"gather"`
		Record *struct {
			MaxSeconds int `json:"maxSeconds"`
		} `json:"record"`
	}
)

// heard is what the caller heard, as one string.
func (v callView) heard() string {
	var b strings.Builder
	for _, h := range v.Heard {
		b.WriteString(h.Say + h.Play + "\n")
	}
	return b.String()
}

type tryServer struct {
	url string
}

// newTryServer runs the whole dev server, built by server.New as `dev`
// builds it (the real SMS and voice webhooks, Postgres, Redis, the demo
// survey), so the Try-it phone is tested against the routes members reach.
func newTryServer(t *testing.T, opts ...func(*dashboard.TryItConfig)) *tryServer {
	ctx := context.Background()
	db := storetest.DB(t)
	s := survey.Demo()
	if _, _, err := db.SaveSurvey(ctx, s.ID, s.Title, string(survey.DemoYAML), "day-service.yaml"); err != nil {
		t.Fatal(err)
	}
	emu := phonesim.New(phonesim.Config{AccountSID: testSID, AuthToken: testToken, WebhookBase: testPublic})
	t.Cleanup(func() { emu.Close() })
	apiURL, err := emu.StartAPIServer()
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Defaults()
	cfg.TwilioAccountSID, cfg.TwilioAuthToken, cfg.PublicURL = testSID, testToken, testPublic
	cfg.SecretKey = "a-test-secret-that-is-long-enough-for-hys"
	cfg.TwilioAPIURL = apiURL
	deps := server.Deps{Config: cfg, DB: db, Redis: storetest.Redis(t), Dev: true}
	if len(opts) > 0 {
		deps.TryIt = func(c *dashboard.TryItConfig) {
			for _, o := range opts {
				o(c)
			}
		}
	}
	srv, err := server.New(ctx, deps)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() { hs.Close(); srv.Close() })
	return &tryServer{url: hs.URL}
}

// do sends a request as the page's own script does (same origin).
func (ts *tryServer) do(t *testing.T, method, path, contentType string, body io.Reader, site string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, ts.url+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("Sec-Fetch-Site", site)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

func (ts *tryServer) postJSON(t *testing.T, path string, v any, into any) int {
	t.Helper()
	b, _ := json.Marshal(v)
	status, out := ts.do(t, "POST", path, "application/json", bytes.NewReader(b), "same-origin")
	if into != nil && status < 300 {
		if err := json.Unmarshal(out, into); err != nil {
			t.Fatalf("%s answered %s: %v", path, out, err)
		}
	}
	if status >= 300 && into != nil {
		t.Logf("%s answered %d: %s", path, status, out)
	}
	return status
}

func TestTryItPage(t *testing.T) {
	ts := newTryServer(t)
	status, page := ts.do(t, "GET", "/try", "", nil, "none")
	if status != 200 {
		t.Fatalf("GET /try = %d: %s", status, page)
	}
	for _, want := range []string{
		`<option value="day-service" data-keyword="DAYS" data-number="&#43;447700900000" data-lang="en-GB">Your day service (text DAYS)</option>`,
		`<label for="from">Your pretend phone number</label>`, `value="&#43;447700900`,
		`data-key="#"`, `<label for="record-text">`, `src="/static/try.js"`, `<html lang="en-GB">`,
	} {
		if !bytes.Contains(page, []byte(want)) {
			t.Errorf("the page lacks %s", want)
		}
	}
	for _, f := range []struct{ path, ctype string }{{"/static/try.js", "text/javascript"}, {"/static/style.css", "text/css"}} {
		req, _ := http.NewRequest("GET", ts.url+f.path, nil)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), f.ctype) {
			t.Errorf("GET %s = %d %s", f.path, res.StatusCode, res.Header.Get("Content-Type"))
		}
	}
}

func TestTryItTextsThroughTheRealWebhook(t *testing.T) {
	ts := newTryServer(t)
	from := "+447700900555"
	answers := []string{"DAYS", "1", "1", "4", "2"}
	var last smsResponse
	for _, body := range answers {
		if status := ts.postJSON(t, "/try/api/sms", smsRequest{Survey: "day-service", From: from, Body: body}, &last); status != 200 {
			t.Fatalf("texting %q: %d", body, status)
		}
		if len(last.Replies) == 0 || !strings.HasPrefix(last.MessageSid, "SM") {
			t.Fatalf("texting %q: %+v", body, last)
		}
	}
	if got := strings.Join(last.Replies, "\n"); !strings.Contains(got, "Thank you for your answers. Our team will read every one.") {
		t.Errorf("the last reply is %q, want the thanks", got)
	}
}

func TestTryItRefusesOtherWebsites(t *testing.T) {
	ts := newTryServer(t)
	b, _ := json.Marshal(smsRequest{Survey: "day-service", From: "+447700900555", Body: "DAYS"})
	status, out := ts.do(t, "POST", "/try/api/sms", "application/json", bytes.NewReader(b), "cross-site")
	if status != http.StatusForbidden || !strings.Contains(string(out), "another website") {
		t.Errorf("a cross-site POST = %d %s, want 403", status, out)
	}
	status, _ = ts.do(t, "POST", "/try/api/call", "application/json", strings.NewReader(`{"from":"+447700900555"}`), "cross-site")
	if status != http.StatusForbidden {
		t.Errorf("a cross-site call = %d, want 403", status)
	}
	for _, c := range []struct {
		path, body string
		want       int
	}{
		{"/try/api/sms", `{"from":"07700 900555","body":"DAYS"}`, 400},
		{"/try/api/sms", `{"from":"+447700900555","body":"  "}`, 400},
		{"/try/api/sms", `{"from":"+447700900555","body":"DAYS","extra":1}`, 400},
		{"/try/api/call/CAnope/press", `{"digits":"1"}`, 404},
	} {
		if status, out := ts.do(t, "POST", c.path, "application/json", strings.NewReader(c.body), "same-origin"); status != c.want || !strings.Contains(string(out), `"error"`) {
			t.Errorf("POST %s %s = %d %s, want %d with a reason", c.path, c.body, status, out, c.want)
		}
	}
}

// startCall rings the demo survey and answers consent with 1: the call
// waits at the first question.
func (ts *tryServer) startCall(t *testing.T, from string) callView {
	t.Helper()
	var v callView
	if status := ts.postJSON(t, "/try/api/call", callRequest{Survey: "day-service", From: from}, &v); status != 200 {
		t.Fatalf("starting a call: %d", status)
	}
	if v.Waiting != "gather" || v.Gather == nil || !v.Gather.Keys || v.Lang != "en-GB" || !strings.Contains(v.heard(), "Have Your Say") {
		t.Fatalf("the call starts with %+v", v)
	}
	return v
}

func TestTryItCallsWithKeypadAndRecording(t *testing.T) {
	ts := newTryServer(t)
	v := ts.startCall(t, "+447700900555")
	id := v.ID

	if status := ts.postJSON(t, "/try/api/call/"+id+"/press", map[string]string{"digits": "x"}, nil); status != 400 {
		t.Errorf("pressing x = %d, want 400", status)
	}
	if status := ts.postJSON(t, "/try/api/call/"+id+"/record", map[string]string{"text": "too soon"}, nil); status != 409 {
		t.Errorf("recording while the phone waits for keys = %d, want 409", status)
	}
	// Consent, then "Not good": the next question wants their own words
	// (an optional one: # skips it, waiting a moment starts the recording).
	for _, key := range []string{"1", "3"} {
		if status := ts.postJSON(t, "/try/api/call/"+id+"/press", map[string]string{"digits": key}, &v); status != 200 {
			t.Fatalf("pressing %s: %d", key, status)
		}
	}
	if !strings.Contains(v.heard(), "What would make your day service better?") {
		t.Fatalf("after Not good, the caller heard %q", v.heard())
	}
	if status := ts.postJSON(t, "/try/api/call/"+id+"/silence", nil, &v); status != 200 {
		t.Fatalf("waiting for the beep: %d", status)
	}
	if v.Waiting != "record" || v.Record == nil || v.Record.MaxSeconds <= 0 {
		t.Fatalf("after Not good: %+v", v)
	}

	// The microphone's recording, as the page sends it: a WAV file and the
	// words typed with it.
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("audio", "recording.wav")
	fw.Write(phonesim.WAV(2))
	mw.WriteField("text", "More trips out please")
	mw.Close()
	status, out := ts.do(t, "POST", "/try/api/call/"+id+"/record", mw.FormDataContentType(), &body, "same-origin")
	if status != 200 {
		t.Fatalf("recording: %d %s", status, out)
	}
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatal(err)
	}
	if v.Waiting != "gather" || !strings.Contains(v.heard(), "How kind are the staff") {
		t.Errorf("after recording, the call should go on to the next question: %+v", v)
	}
	if status := ts.postJSON(t, "/try/api/call/"+id+"/hangup", nil, nil); status != 200 {
		t.Errorf("hanging up = %d", status)
	}
	if status := ts.postJSON(t, "/try/api/call/"+id+"/press", map[string]string{"digits": "1"}, nil); status != 404 {
		t.Errorf("pressing after hanging up = %d, want 404", status)
	}
	if status, _ := ts.do(t, "GET", "/try/api/call/"+id, "", nil, "same-origin"); status != 404 {
		t.Errorf("a hung-up call is still kept: %d", status)
	}
}

func TestTryItTypedRecordingAndSilence(t *testing.T) {
	ts := newTryServer(t)
	v := ts.startCall(t, "+447700900556")
	id := v.ID
	// Silence at consent: asked again, never hung up on.
	if status := ts.postJSON(t, "/try/api/call/"+id+"/silence", nil, &v); status != 200 || v.Waiting != "gather" || len(v.Heard) == 0 {
		t.Fatalf("silence: %d %+v", status, v)
	}
	ts.postJSON(t, "/try/api/call/"+id+"/press", map[string]string{"digits": "1"}, &v)
	ts.postJSON(t, "/try/api/call/"+id+"/press", map[string]string{"digits": "3"}, &v)
	ts.postJSON(t, "/try/api/call/"+id+"/silence", nil, &v)
	if v.Waiting != "record" {
		t.Fatalf("after Not good: %+v", v)
	}
	if status := ts.postJSON(t, "/try/api/call/"+id+"/record", map[string]string{"text": "I like the music group"}, &v); status != 200 || v.Waiting != "gather" {
		t.Fatalf("typed recording: %d %+v", status, v)
	}
}

func TestTryItSweepsOldCalls(t *testing.T) {
	ts := newTryServer(t, func(c *dashboard.TryItConfig) { c.MaxCalls = 2 })
	var ids []string
	for range 3 {
		var v callView
		ts.postJSON(t, "/try/api/call", callRequest{Survey: "day-service", From: "+447700900557"}, &v)
		ids = append(ids, v.ID)
	}
	if status, _ := ts.do(t, "GET", "/try/api/call/"+ids[0], "", nil, "same-origin"); status != 404 {
		t.Errorf("the oldest call is still kept beyond MaxCalls: %d", status)
	}
	if status, _ := ts.do(t, "GET", "/try/api/call/"+ids[2], "", nil, "same-origin"); status != 200 {
		t.Errorf("the newest call is gone: %d", status)
	}
}
