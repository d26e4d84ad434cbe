package ivr_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/haveyoursay/haveyoursay/ivr"
	"github.com/haveyoursay/haveyoursay/phonesim"
	"github.com/haveyoursay/haveyoursay/store/storetest"
)

// Bad and odd webhooks, each signed like Twilio: the caller always gets
// valid TwiML with status 200; a callback gets a clear 2xx or 4xx (or a
// 5xx only when Twilio should send it again).

// post sends a signed webhook and checks the answer is valid voice TwiML.
func (e *env) postTwiML(t *testing.T, path string, form url.Values) string {
	t.Helper()
	r, err := e.sim.PostForm(e.ctx, path, form)
	if err != nil {
		t.Fatal(err)
	}
	if r.StatusCode != 200 || !strings.HasPrefix(r.ContentType, "text/xml") {
		t.Fatalf("%s answered %d %s: %s", path, r.StatusCode, r.ContentType, r.Body)
	}
	if err := phonesim.CheckVoiceTwiML(r.Body); err != nil {
		t.Fatalf("%s: %v\n%s", path, err, r.Body)
	}
	return string(r.Body)
}

func callForm(c *phonesim.Call, kv ...string) url.Values {
	f := url.Values{"CallSid": {c.Sid}, "From": {member}, "To": {ourNumber}, "AccountSid": {accountSID}}
	for i := 0; i < len(kv); i += 2 {
		f.Set(kv[i], kv[i+1])
	}
	return f
}

// atQuestion1 starts a call and gives consent: the next input answers
// "feel" (choice: 1 Good, 2 OK, 3 Not good).
func (e *env) atQuestion1(t *testing.T, from string) *phonesim.Call {
	t.Helper()
	c := e.call(from)
	must(t, c.Press("1"))
	expectHeard(t, c, "Question 1 of 3.")
	return c
}

// Bug: a caller with a withheld number ("anonymous", or no From at all)
// was offered to carry on the last anonymous caller's survey, and their
// answers joined that stranger's conversation.
func TestWithheldCallersNeverShareACall(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	for _, from := range []string{"anonymous", "+266696687", ""} {
		first := e.atQuestion1(t, from)
		must(t, first.Press("2"))
		must(t, first.Hangup())
		second := e.call(from)
		if strings.Contains(heard(second), "Welcome back") {
			t.Errorf("%q: a stranger was offered to carry on: %s", from, heard(second))
		}
		expectHeard(t, second, "Is that OK?")
	}
	// Each withheld call is a participant of its own.
	e.flush()
	if n := e.count(`SELECT count(DISTINCT participant_id) FROM conversations WHERE participant_id IN
		(SELECT id FROM participants WHERE phone_masked = 'withheld')`); n != 6 {
		t.Errorf("6 withheld calls were kept as %d participants", n)
	}
	// A real number still carries on.
	c := e.atQuestion1(t, member)
	must(t, c.Press("2"))
	must(t, c.Hangup())
	expectHeard(t, e.call(member), "Welcome back")
}

const numberSurvey = `id: outings
title: Outings
language: en-GB
start:
  keywords: [OUT]
  numbers: ["` + ourNumber + `"]
intro: Hello. We want to know about going out.
consent: Is that OK?
questions:
  - id: times
    ask: How many times did you go out last week?
    answer: number
    optional: true
  - id: friends
    ask: How many friends did you see?
    answer: number
  - id: times-again
    ask: And the week before?
    answer: number
    optional: true
thanks: Thank you.
`

// Bug: on an optional question answered with several keys (a number), the
// <Gather> kept finishOnKey "#", so a lone "#" arrived as silence and the
// member was told "Sorry, I did not get that" instead of skipping.
func TestHashSkipsOptionalNumberQuestion(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{surveys: []string{numberSurvey}})
	c := e.call(member)
	must(t, c.Press("1"))
	expectHeard(t, c, "How many times did you go out last week?", "To skip this question, press hash.")
	if g := c.Gather(); g.FinishOnKey != "" || g.NumDigits != 0 {
		t.Fatalf("optional number gather = %+v", g)
	}
	must(t, c.Press("#"))
	expectHeard(t, c, "We will skip this question.", "How many friends did you see?")
	// Not optional: "#" still ends the number at once.
	if g := c.Gather(); g.FinishOnKey != "#" {
		t.Errorf("number gather finishOnKey = %q", g.FinishOnKey)
	}
	must(t, c.Press("3#"))
	expectHeard(t, c, "You said: 3.", "And the week before?")
	// Optional: "12#" is 12 (the "#" arrives as a key and is dropped).
	must(t, c.Press("12#"))
	expectHeard(t, c, "You said: 12.", "Thank you.")
	e.flush()
	got := e.answers(c.Sid)
	if len(got) != 3 || !got[0].Skipped || got[1].Value != "3" || got[2].Value != "12" || got[2].Raw != "12" {
		t.Errorf("answers = %+v", got)
	}
}

// Bug: a speech result with a NUL byte or invalid UTF-8 was journalled
// as is; Postgres refused it and the answer was set aside, never reaching
// the answers table. Digits that are not keypad keys, and huge inputs,
// are cut down before the engine sees them.
func TestOddInputsAreStoredCleanly(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	cases := []struct {
		name     string
		kv       []string
		wantVal  string
		wantRaw  string
		wantHear string
	}{
		{"NUL and invalid UTF-8", []string{"SpeechResult", "great\x00 \xff", "Confidence", "0.9"}, "good", "great \uFFFD", "You said: Good."},
		{"50 digits", []string{"Digits", strings.Repeat("1", 50)}, "", "", "Sorry, we did not understand."},
		{"not keypad keys", []string{"Digits", "x2y"}, "ok", "2", "You said: OK."},
		{"10 kB of speech", []string{"SpeechResult", strings.Repeat("blah ", 2000)}, "", "", "How do you feel"},
		{"repeated parameters", []string{}, "good", "1", "You said: Good."},
	}
	for i, tc := range cases {
		c := e.atQuestion1(t, fmt.Sprintf("+4477009002%02d", i))
		form := callForm(c, tc.kv...)
		if tc.name == "repeated parameters" {
			form["Digits"] = []string{"1", "3"}
			form["CallSid"] = []string{c.Sid, "CAother"}
		}
		doc := e.postTwiML(t, c.Gather().Action, form)
		if !strings.Contains(doc, tc.wantHear) {
			t.Errorf("%s: the caller did not hear %q: %s", tc.name, tc.wantHear, doc)
		}
		e.flush()
		got := e.answers(c.Sid)
		if tc.wantVal == "" {
			if len(got) != 0 {
				t.Errorf("%s: answers = %+v", tc.name, got)
			}
			continue
		}
		if len(got) != 1 || got[0].Value != tc.wantVal || got[0].Raw != tc.wantRaw {
			t.Errorf("%s: answers = %+v", tc.name, got)
		}
	}
	if set, err := e.journal.SetAsideCount(e.ctx); err != nil || set != 0 {
		t.Errorf("%d events were set aside by the journal (%v)", set, err)
	}
}

// Bug: a step whose URL has no state, or state we cannot read, hung up on
// the caller. Now the call starts afresh.
func TestStepWithoutStateStartsAfresh(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	c := e.call(member)
	for _, path := range []string{ivr.PathStep, ivr.PathStep + "?st=AAAA", ivr.PathStep + "?st=%25%25", ivr.PathRecord + "?st=e30x"} {
		doc := e.postTwiML(t, path, callForm(c, "Digits", "1"))
		if strings.Contains(doc, "<Hangup") || !strings.Contains(doc, "We record this call") || !strings.Contains(doc, "Is that OK?") {
			t.Errorf("%s: %s", path, doc)
		}
	}
	if e.failureCount("bad-state") != 4 {
		t.Errorf("bad-state failures = %d", e.failureCount("bad-state"))
	}
}

// A step whose state names a survey version that does not exist (deleted,
// or not loadable) carries on with the current version instead of
// apologising twice and hanging up.
func TestUnknownSurveyVersionCarriesOn(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	c := e.atQuestion1(t, member)
	action := c.Gather().Action
	u, _ := url.Parse(action)
	raw, err := ivr.OpenState(e.h, u.Query().Get("st"))
	if err != nil {
		t.Fatal(err)
	}
	var st map[string]any
	if err := json.Unmarshal(raw, &st); err != nil {
		t.Fatal(err)
	}
	st["s"].(map[string]any)["version"] = 99
	b, _ := json.Marshal(st)
	sealed, err := ivr.SealState(e.h, b)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("st", sealed)
	u.RawQuery = q.Encode()
	doc := e.postTwiML(t, u.String(), callForm(c, "Digits", "1"))
	if !strings.Contains(doc, "You said: Good.") || !strings.Contains(doc, "How kind are the staff?") {
		t.Errorf("answer: %s", doc)
	}
	e.flush()
	if got := e.answers(c.Sid); len(got) != 1 || got[0].Value != "good" {
		t.Errorf("answers = %+v", got)
	}
	if e.failureCount("unknown-survey") != 1 {
		t.Errorf("unknown-survey failures = %d", e.failureCount("unknown-survey"))
	}
}

// Bad requests that are not calls, and callbacks: clear 4xx, or 2xx.
func TestBadCallbacks(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	htmlSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte("<html><body>Please log in</body></html>"))
	}))
	t.Cleanup(htmlSrv.Close)
	cb := "?c=CAx&q=better&k=CAx%3A3&l=en-GB"
	for _, tc := range []struct {
		name, path string
		form       url.Values
		want       int
	}{
		{"step without CallSid", ivr.PathStep, url.Values{"From": {member}}, 400},
		{"incoming with a CallSid of NULs", ivr.PathIncoming, url.Values{"CallSid": {"CA\x00\x00"}, "From": {member}}, 400},
		{"status for an unknown call", ivr.PathStatus, url.Values{"CallSid": {"CA99999999999999999999999999999999"}, "CallStatus": {"completed"}}, 200},
		{"status without CallSid", ivr.PathStatus, url.Values{"CallStatus": {"completed"}}, 400},
		{"transcript of an unknown recording, NUL and invalid UTF-8", ivr.PathTranscription + cb,
			url.Values{"RecordingSid": {"RE00000000000000000000000000000001"}, "TranscriptionStatus": {"completed"}, "TranscriptionText": {"the bus\x00 is \xfflate"}}, 204},
		{"transcript without RecordingSid", ivr.PathTranscription, url.Values{"TranscriptionText": {"x"}}, 400},
		{"recording that answers 404 (Twilio may send it again)", ivr.PathRecording + cb, url.Values{"RecordingSid": {"RE00000000000000000000000000000002"},
			"RecordingStatus": {"completed"}, "RecordingUrl": {e.sim.APIURL() + "/nothing-here"}, "RecordingDuration": {"3"}}, 502},
		{"recording that answers a web page (Twilio may send it again)", ivr.PathRecording + cb, url.Values{"RecordingSid": {"RE00000000000000000000000000000003"},
			"RecordingStatus": {"completed"}, "RecordingUrl": {htmlSrv.URL + "/RE3"}, "RecordingDuration": {"x"}}, 502},
		{"recording absent", ivr.PathRecording + cb, url.Values{"RecordingSid": {"RE00000000000000000000000000000004"}, "RecordingStatus": {"absent"}}, 204},
	} {
		r, err := e.sim.PostForm(e.ctx, tc.path, tc.form)
		if err != nil {
			t.Fatal(err)
		}
		if r.StatusCode != tc.want {
			t.Errorf("%s: %d, want %d: %s", tc.name, r.StatusCode, tc.want, r.Body)
		}
		if r.StatusCode == 200 {
			if err := phonesim.CheckVoiceTwiML(r.Body); err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
		}
	}
	ts, err := e.db.Transcripts(e.ctx, "RE00000000000000000000000000000001")
	if err != nil || len(ts) != 1 || ts[0].Text != "the bus is \uFFFDlate" {
		t.Errorf("transcripts = %+v %v", ts, err)
	}
	if n := e.count(`SELECT count(*) FROM recordings`); n != 0 {
		t.Errorf("%d recordings stored from a 404 or a web page", n)
	}
}

// Bug: a RecordingDuration we could not read counted as 0 seconds, so a
// recording that exists was thrown away as "too short".
func TestRecordingDurationUnreadable(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	c := e.atQuestion1(t, member)
	must(t, c.Press("3"))
	must(t, c.Silence())
	rv := c.RecordVerb()
	doc := e.postTwiML(t, rv.Action, callForm(c, "RecordingUrl", e.sim.APIURL()+"/2010-04-01/Accounts/"+accountSID+"/Recordings/RE00000000000000000000000000000009",
		"RecordingSid", "RE00000000000000000000000000000009", "RecordingDuration", "not a number"))
	if !strings.Contains(doc, "We have your message.") {
		t.Errorf("answer: %s", doc)
	}
	e.flush()
	got := e.answers(c.Sid)
	if len(got) != 2 || got[1].Via != "recording" || got[1].Raw != "RE00000000000000000000000000000009" {
		t.Errorf("answers = %+v", got)
	}
}

// Bug: words a caller said that matched no option were thrown away. What
// someone says about being hurt must reach a person even when it is not
// an answer to the menu: every key and every sentence is kept.
func TestEverythingSaidIsKept(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	c := e.atQuestion1(t, member)
	must(t, c.Speak("the staff shout at me and hurt me", 0.8))
	expectHeard(t, c, "Sorry, we did not understand.")
	must(t, c.Press("9"))
	must(t, c.Press("2"))
	expectHeard(t, c, "You said: OK.")
	e.flush()
	rows, err := storetest.SQL(e.t, e.db).Query(e.ctx, `SELECT stage, question_id, digits, speech, understood FROM call_inputs
		WHERE call_sid = $1 ORDER BY created_at, dedupe_key`, c.Sid)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var stage, q, digits, speech string
		var ok bool
		if err := rows.Scan(&stage, &q, &digits, &speech, &ok); err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%s/%s/%s/%s/%v", stage, q, digits, speech, ok))
	}
	want := []string{"consent//1//true", "question/feel//the staff shout at me and hurt me/false",
		"question/feel/9//false", "question/feel/2//true"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("call_inputs:\n got %q\nwant %q", got, want)
	}
}

// Bug: a step with a state we could not read, in the middle of a call,
// started the call afresh with the same conversation and step numbers, so
// the answers given after it collided with earlier ones and were dropped.
// Now the caller is offered to carry on, and the steps after the restart
// have numbers of their own; with a withheld number (no carry on) a new
// conversation starts.
func TestRestartMidCallKeepsEverything(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	actionOf := func(doc string) string {
		t.Helper()
		_, rest, ok := strings.Cut(doc, `action="`)
		if !ok {
			t.Fatalf("no action in %s", doc)
		}
		a, _, _ := strings.Cut(rest, `"`)
		return strings.ReplaceAll(a, "&amp;", "&")
	}
	for _, from := range []string{member, "anonymous"} {
		c := e.atQuestion1(t, from)
		must(t, c.Press("1")) // feel = good; now at "staff"
		form := callForm(c, "Digits", "4")
		form.Set("From", from)
		doc := e.postTwiML(t, ivr.PathStep+"?st=broken", form)
		if from == member {
			if !strings.Contains(doc, "To go on from where you stopped, press 1.") {
				t.Fatalf("restart with a known number: %s", doc)
			}
			form.Set("Digits", "1")
			doc = e.postTwiML(t, actionOf(doc), form) // carry on: the staff question again
			form.Set("Digits", "4")
			doc = e.postTwiML(t, actionOf(doc), form)
			if !strings.Contains(doc, "You said: 4.") {
				t.Fatalf("carrying on: %s", doc)
			}
			e.flush()
			if got := byQuestion(e.answers(c.Sid)); got["feel"] != "good" || got["staff"] != "4" {
				t.Errorf("answers after the restart = %v", got)
			}
		} else {
			if !strings.Contains(doc, "Is that OK?") || strings.Contains(doc, "carry on") {
				t.Fatalf("restart with a withheld number: %s", doc)
			}
			form.Set("Digits", "1")
			doc = e.postTwiML(t, actionOf(doc), form) // consent in the new conversation
			form.Set("Digits", "3")
			e.postTwiML(t, actionOf(doc), form)
			e.flush()
			if got := byQuestion(e.answers(c.Sid)); got["feel"] != "good" || len(got) != 1 {
				t.Errorf("first conversation's answers = %v", got)
			}
			if got := byQuestion(e.answers(c.Sid + "-1")); got["feel"] != "not-good" {
				t.Errorf("restarted conversation's answers = %v", got)
			}
		}
		must(t, c.Hangup())
		e.flush()
		if s, _ := e.conversation(c.Sid); s != "partial" {
			t.Errorf("%s: first conversation = %q after hanging up, want partial", from, s)
		}
	}
	if set, err := e.journal.SetAsideCount(e.ctx); err != nil || set != 0 {
		t.Errorf("%d events were set aside by the journal (%v)", set, err)
	}
}
