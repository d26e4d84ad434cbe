package ivr

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/twilio/twilio-go/twiml"

	"github.com/haveyoursay/haveyoursay/phonesim"
	"github.com/haveyoursay/haveyoursay/survey"
	"github.com/haveyoursay/haveyoursay/webhook"
)

const token = "tok0123456789"

func signedRequest(t *testing.T, path string, form url.Values) *http.Request {
	t.Helper()
	full := "https://hys.example.org" + path
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set(webhook.SignatureHeader, webhook.Sign(token, full, form))
	return r
}

func TestPanicAnswersKindTwiML(t *testing.T) {
	var causes []string
	// No store at all: the first thing the handler touches panics.
	h := &Handler{Verifier: webhook.Verifier{AuthToken: token, PublicURL: "https://hys.example.org"},
		Failed: func(c string) { causes = append(causes, c) }}
	form := url.Values{"CallSid": {"CA1"}, "From": {"+447700900123"}, "To": {"+447700900111"}}
	st := callState{Conv: "CA1", N: 3, Sess: survey.Session{SurveyID: "x", Stage: survey.StageQuestion, Question: "q"}}
	for _, tc := range []struct {
		name, path string
		serve      http.HandlerFunc
		want       []string
	}{
		{"incoming", PathIncoming, h.ServeIncoming, []string{"Sorry, our computer had a problem. Please call us again later.", "<Hangup"}},
		{"step", PathStep + "?st=" + h.seal(st), h.ServeStep, []string{"We will try again.", "<Redirect", "r=1", "e=1"}},
		{"step, third failure", PathStep + "?st=" + h.seal(st) + "&r=1&e=2", h.ServeStep, []string{"Please call us again later.", "<Hangup"}},
		{"record", PathRecord + "?st=" + h.seal(st), h.ServeRecorded, []string{"We will try again."}},
		{"bad state", PathStep + "?st=garbage", h.ServeStep, []string{"Please call us again later."}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			tc.serve(w, signedRequest(t, tc.path, form))
			if w.Code != 200 || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/xml") {
				t.Fatalf("status %d, %s", w.Code, w.Header().Get("Content-Type"))
			}
			if err := phonesim.CheckVoiceTwiML(w.Body.Bytes()); err != nil {
				t.Fatalf("%v\n%s", err, w.Body)
			}
			for _, s := range tc.want {
				if !strings.Contains(w.Body.String(), s) {
					t.Errorf("answer lacks %q: %s", s, w.Body)
				}
			}
		})
	}
	// A step without a readable state starts the call afresh (here that
	// panics too, with no store: then the goodbye).
	if len(causes) != 6 || causes[0] != "panic" || causes[4] != "bad-state" || causes[5] != "panic" {
		t.Errorf("failures counted: %v", causes)
	}
	// A recording callback that panics is answered 500 so Twilio retries.
	w := httptest.NewRecorder()
	h.ServeRecordingStatus(w, signedRequest(t, PathRecording, url.Values{"RecordingSid": {"RE1"}, "RecordingStatus": {"completed"}, "RecordingUrl": {"https://x"}}))
	if w.Code != 500 {
		t.Errorf("recording callback panic answered %d", w.Code)
	}
}

func TestRenderKeepsEmptyAttributesAndLowerCaseSSML(t *testing.T) {
	doc := render([]twiml.Element{&twiml.VoiceGather{NumDigits: "1", FinishOnKey: emptyAttr,
		InnerElements: []twiml.Element{&twiml.VoiceSay{Voice: "Polly.Amy", InnerElements: []twiml.Element{prosody{rate: "90%", text: "Fish & chips <3"}}}}}})
	if err := phonesim.CheckVoiceTwiML([]byte(doc)); err != nil {
		t.Fatalf("%v: %s", err, doc)
	}
	for _, want := range []string{`finishOnKey=""`, `<prosody rate="90%">Fish &amp; chips &lt;3</prosody>`} {
		if !strings.Contains(doc, want) {
			t.Errorf("%s lacks %s", doc, want)
		}
	}
}
