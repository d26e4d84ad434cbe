package dashboard

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
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

const (
	testSID   = "AC0123456789abcdef0123456789abcdef"
	testToken = "0123456789abcdef0123456789abcdef"
	// The public URL is not where the server listens, as behind a proxy:
	// the Try-it phone must sign for it and still reach the server.
	testPublic = "https://feedback.example.org"
)

// voiceScript is a small voice webhook standing in for the ivr package: a
// menu, a recording, goodbye. It keeps what it was sent.
type voiceScript struct {
	mu        sync.Mutex
	recording []byte // what the recording URL served
}

func (v *voiceScript) serve(w http.ResponseWriter, r *http.Request) {
	if err := (webhook.Verifier{AuthToken: testToken, PublicURL: testPublic}).Check(r); err != nil {
		http.Error(w, err.Error(), http.StatusForbidden)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	switch {
	case r.URL.Path == "/twilio/voice/status":
		w.WriteHeader(http.StatusNoContent)
	case r.PostForm.Get("RecordingUrl") != "":
		// Fetch the recording as the app does, with Twilio's credentials.
		req, _ := http.NewRequest("GET", r.PostForm.Get("RecordingUrl"), nil)
		req.SetBasicAuth(testSID, testToken)
		if res, err := http.DefaultClient.Do(req); err == nil {
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			v.mu.Lock()
			v.recording = b
			v.mu.Unlock()
		}
		io.WriteString(w, `<Response><Say>Thank you. Goodbye.</Say><Hangup/></Response>`)
	case r.PostForm.Get("Digits") == "1":
		io.WriteString(w, `<Response><Say>Tell us after the beep.</Say><Record action="/twilio/voice" maxLength="60"/></Response>`)
	default:
		io.WriteString(w, `<Response><Say>Hello. For Yes, press 1.</Say><Play>`+testPublic+`/audio/hi.wav</Play>`+
			`<Gather numDigits="1" action="/twilio/voice"/><Say>We did not hear you.</Say><Hangup/></Response>`)
	}
}

type tryServer struct {
	url   string
	tryit *TryIt
	voice *voiceScript
}

// newTryServer runs the real SMS webhook (Postgres, Redis, the demo
// survey), a scripted voice webhook and the Try-it routes, wired as
// cmd/haveyoursay wires them.
func newTryServer(t *testing.T, opts ...func(*TryItConfig)) *tryServer {
	ctx := context.Background()
	db := storetest.DB(t)
	rdb := storetest.Redis(t)
	s := survey.Demo()
	if _, _, err := db.SaveSurvey(ctx, s.ID, s.Title, string(survey.DemoYAML), "day-service.yaml"); err != nil {
		t.Fatal(err)
	}
	catalog := store.NewCatalog(db)
	if err := catalog.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	phones, err := store.NewPhones("a-test-secret-that-is-long-enough-for-hys")
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	texts := &sms.Handler{Verifier: webhook.Verifier{AuthToken: testToken, PublicURL: testPublic},
		Catalog: catalog, Journal: store.NewJournal(db, rdb, log), Redis: rdb, Phones: phones,
		SessionTTL: time.Hour, Log: log}
	ts := &tryServer{voice: &voiceScript{}}
	cfg := TryItConfig{AccountSID: testSID, AuthToken: testToken, WebhookBase: testPublic,
		Catalog: catalog, Surveys: db.ListSurveys, Log: log}
	for _, o := range opts {
		o(&cfg)
	}
	ts.tryit = NewTryIt(cfg)
	t.Cleanup(func() { ts.tryit.Close() })

	r := mux.NewRouter()
	r.HandleFunc("/twilio/sms", texts.ServeInbound).Methods(http.MethodPost)
	r.HandleFunc("/twilio/voice", ts.voice.serve).Methods(http.MethodPost)
	r.HandleFunc("/twilio/voice/status", ts.voice.serve).Methods(http.MethodPost)
	r.HandleFunc("/audio/hi.wav", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "audio/wav")
		w.Write(phonesim.WAV(1))
	})
	r.HandleFunc("/try", ts.tryit.ServePage).Methods(http.MethodGet)
	r.HandleFunc("/try/api/sms", ts.tryit.ServeSMS).Methods(http.MethodPost)
	r.HandleFunc("/try/api/call", ts.tryit.ServeCallStart).Methods(http.MethodPost)
	r.HandleFunc("/try/api/call/{id}", ts.tryit.ServeCall).Methods(http.MethodGet)
	r.HandleFunc("/try/api/call/{id}/press", ts.tryit.ServeCallPress).Methods(http.MethodPost)
	r.HandleFunc("/try/api/call/{id}/speak", ts.tryit.ServeCallSpeak).Methods(http.MethodPost)
	r.HandleFunc("/try/api/call/{id}/silence", ts.tryit.ServeCallSilence).Methods(http.MethodPost)
	r.HandleFunc("/try/api/call/{id}/record", ts.tryit.ServeCallRecord).Methods(http.MethodPost)
	r.HandleFunc("/try/api/call/{id}/hangup", ts.tryit.ServeCallHangup).Methods(http.MethodPost)
	r.PathPrefix("/static/").Handler(Static()).Methods(http.MethodGet)
	srv := httptest.NewServer(r)
	t.Cleanup(srv.Close)
	ts.url = srv.URL
	return ts
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
	if got := strings.Join(last.Replies, "\n"); !strings.Contains(got, "Thank you. We will tell you what we do with your ideas.") {
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

func TestTryItCallsWithKeypadAndRecording(t *testing.T) {
	ts := newTryServer(t)
	var v callView
	if status := ts.postJSON(t, "/try/api/call", callRequest{Survey: "day-service", From: "+447700900555"}, &v); status != 200 {
		t.Fatalf("starting a call: %d", status)
	}
	if v.Waiting != "gather" || v.Gather == nil || !v.Gather.Keys || v.Gather.NumDigits != 1 || v.Lang != "en-GB" {
		t.Fatalf("the call waits for %+v", v)
	}
	if fmt.Sprint(v.Heard) != fmt.Sprint([]heardItem{{Say: "Hello. For Yes, press 1."}, {Play: "/audio/hi.wav"}}) {
		t.Errorf("heard %+v; want the greeting and a relative audio URL", v.Heard)
	}
	id := v.ID

	if status := ts.postJSON(t, "/try/api/call/"+id+"/press", map[string]string{"digits": "x"}, nil); status != 400 {
		t.Errorf("pressing x = %d, want 400", status)
	}
	if status := ts.postJSON(t, "/try/api/call/"+id+"/record", map[string]string{"text": "too soon"}, nil); status != 409 {
		t.Errorf("recording while the phone waits for keys = %d, want 409", status)
	}
	if status := ts.postJSON(t, "/try/api/call/"+id+"/press", map[string]string{"digits": "1"}, &v); status != 200 {
		t.Fatalf("pressing 1: %d", status)
	}
	if v.Waiting != "record" || v.Record == nil || v.Record.MaxSeconds != 60 || fmt.Sprint(v.Heard) != fmt.Sprint([]heardItem{{Say: "Tell us after the beep."}}) {
		t.Fatalf("after pressing 1: %+v", v)
	}

	// The microphone's recording, as the page sends it: a WAV file and the
	// words typed with it.
	voice := phonesim.WAV(2)
	voice[200] ^= 0x3c
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile("audio", "recording.wav")
	fw.Write(voice)
	mw.WriteField("text", "More trips out please")
	mw.Close()
	status, out := ts.do(t, "POST", "/try/api/call/"+id+"/record", mw.FormDataContentType(), &body, "same-origin")
	if status != 200 {
		t.Fatalf("recording: %d %s", status, out)
	}
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatal(err)
	}
	if v.Waiting != "ended" || fmt.Sprint(v.Heard) != fmt.Sprint([]heardItem{{Say: "Thank you. Goodbye."}}) {
		t.Errorf("after recording: %+v", v)
	}
	ts.voice.mu.Lock()
	got := ts.voice.recording
	ts.voice.mu.Unlock()
	if !bytes.Equal(got, voice) {
		t.Errorf("the recording URL served %d bytes, not the %d uploaded", len(got), len(voice))
	}
	if status := ts.postJSON(t, "/try/api/call/"+id+"/press", map[string]string{"digits": "1"}, nil); status != 409 {
		t.Errorf("pressing after the end = %d, want 409", status)
	}
	if status := ts.postJSON(t, "/try/api/call/"+id+"/hangup", nil, nil); status != 200 {
		t.Errorf("hanging up an ended call = %d", status)
	}
	if status, _ := ts.do(t, "GET", "/try/api/call/"+id, "", nil, "same-origin"); status != 404 {
		t.Errorf("a hung-up call is still kept: %d", status)
	}
}

func TestTryItTypedRecordingAndSilence(t *testing.T) {
	ts := newTryServer(t)
	var v callView
	ts.postJSON(t, "/try/api/call", callRequest{Survey: "day-service", From: "+447700900556"}, &v)
	id := v.ID
	// Silence at the menu: the call goes on past the gather.
	if status := ts.postJSON(t, "/try/api/call/"+id+"/silence", nil, &v); status != 200 || v.Waiting != "ended" ||
		fmt.Sprint(v.Heard) != fmt.Sprint([]heardItem{{Say: "We did not hear you."}}) {
		t.Fatalf("silence: %d %+v", status, v)
	}
	ts.postJSON(t, "/try/api/call", callRequest{Survey: "day-service", From: "+447700900556"}, &v)
	id = v.ID
	ts.postJSON(t, "/try/api/call/"+id+"/press", map[string]string{"digits": "1"}, &v)
	if status := ts.postJSON(t, "/try/api/call/"+id+"/record", map[string]string{"text": "I like the music group"}, &v); status != 200 || v.Waiting != "ended" {
		t.Fatalf("typed recording: %d %+v", status, v)
	}
	ts.voice.mu.Lock()
	n := len(ts.voice.recording)
	ts.voice.mu.Unlock()
	if n != 44+2*8000*2 { // five words: two seconds of tone
		t.Errorf("the typed recording served %d bytes, want 2 s of WAV", n)
	}
}

func TestTryItSweepsOldCalls(t *testing.T) {
	ts := newTryServer(t, func(c *TryItConfig) { c.MaxCalls = 2 })
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
