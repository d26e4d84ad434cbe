package phonesim

import (
	"context"
	"errors"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

var sidRE = regexp.MustCompile(`^CA[0-9a-f]{32}$`)

func TestCallFollowsTwiML(t *testing.T) {
	a := newApp(t)
	e, clk := newEmu(t, a)
	ctx := context.Background()
	a.route("/twilio/voice", func(f url.Values) string {
		if f.Get("Digits") == "1" {
			return resp(`<Redirect>next?x=1</Redirect>`)
		}
		return resp(`<Say voice="Polly.Amy" language="en-GB">Hello <prosody rate="slow">there</prosody><break time="500ms"/>friend</Say>` +
			`<Play>/audio/hi.wav</Play><Pause length="1"/>` +
			`<Gather numDigits="1" timeout="3"><Say>Press 1</Say><Play>../audio/beep.wav</Play></Gather><Say>Bye</Say>`)
	})
	a.static("/twilio/next", resp(`<Say>Done</Say><Hangup/><Say>never</Say>`))

	c, err := e.Call(ctx, "+447700900123", "+447700900999")
	if err != nil {
		t.Fatal(err)
	}
	if !sidRE.MatchString(c.Sid) {
		t.Errorf("CallSid %q", c.Sid)
	}
	first := a.last("/twilio/voice").Form
	for k, v := range map[string]string{"CallSid": c.Sid, "AccountSid": DefaultAccountSID, "From": "+447700900123",
		"Caller": "+447700900123", "To": "+447700900999", "Called": "+447700900999", "CallStatus": "ringing",
		"Direction": "inbound", "ApiVersion": "2010-04-01", "FromCountry": "GB"} {
		eq(t, "incoming "+k, first.Get(k), v)
	}
	eq(t, "heard", c.Heard(), []string{"Hello there friend", "[play " + a.srv.URL + "/audio/hi.wav]", "Press 1", "[play " + a.srv.URL + "/audio/beep.wav]"})
	eq(t, "waiting", c.Waiting(), WaitGather)
	g := c.Gather()
	eq(t, "gather action (document URL)", g.Action, a.srv.URL+"/twilio/voice")
	eq(t, "gather method", g.Method, "POST")
	eq(t, "gather timeout", g.Timeout, 3)
	eq(t, "gather numDigits", g.NumDigits, 1)
	eq(t, "gather finishOnKey", g.FinishOnKey, "#")
	eq(t, "gather input", g.Input, []string{"dtmf"})
	eq(t, "gather language", g.Language, "en-US")

	clk.Advance(42 * time.Second)
	if err := c.Press("1"); err != nil {
		t.Fatal(err)
	}
	second := a.requests("/twilio/voice")[1].Form
	eq(t, "Digits", second.Get("Digits"), "1")
	eq(t, "CallStatus", second.Get("CallStatus"), "in-progress")
	eq(t, "redirect query", a.last("/twilio/next").RawQuery, "x=1")
	eq(t, "heard after press", c.Heard(), []string{"Done"})
	eq(t, "waiting", c.Waiting(), WaitEnded)
	st := a.last("/twilio/voice/status").Form
	eq(t, "status", st.Get("CallStatus"), "completed")
	eq(t, "duration", st.Get("CallDuration"), "42")
	eq(t, "status CallSid", st.Get("CallSid"), c.Sid)
	if err := c.Hangup(); err != nil {
		t.Fatal(err)
	}
	eq(t, "status callbacks", len(a.requests("/twilio/voice/status")), 1)
	if err := c.Press("1"); !errors.Is(err, ErrNotWaiting) {
		t.Errorf("press after the end: %v", err)
	}
	kinds := []string{}
	for _, ev := range c.Transcript() {
		kinds = append(kinds, ev.Kind)
	}
	eq(t, "transcript kinds", strings.Join(kinds, ","), "request,say,play,pause,say,play,gather,input,request,redirect,request,say,hangup,status")
}

func TestGatherSilence(t *testing.T) {
	a := newApp(t)
	e, _ := newEmu(t, a)
	ctx := context.Background()
	a.static("/twilio/voice", resp(`<Redirect method="GET">/q/1?lang=en</Redirect>`))
	a.static("/q/1", resp(`<Gather><Say>Question one</Say></Gather><Say>I did not hear you</Say><Redirect>/q/1?lang=en&amp;try=2</Redirect>`))
	a.static("/q/2", resp(`<Gather action="/q/2/answer" actionOnEmptyResult="true" input="dtmf speech" finishOnKey=""><Say>Question two</Say></Gather><Say>unreached</Say>`))
	a.static("/q/2/answer", resp(`<Say>Thanks</Say>`))

	c, err := e.Call(ctx, "+447700900123", "+447700900999")
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "get redirect", a.last("/q/1").Method, "GET")
	eq(t, "gather action defaults to the document URL", c.Gather().Action, a.srv.URL+"/q/1?lang=en")
	if err := c.Silence(); err != nil {
		t.Fatal(err)
	}
	eq(t, "heard after silence", c.Heard(), []string{"I did not hear you", "Question one"})
	eq(t, "redirected", a.last("/q/1").RawQuery, "lang=en&try=2")
	eq(t, "redirect method default POST", a.last("/q/1").Method, "POST")

	// Press("#") with finishOnKey "#" is an empty result: same as silence.
	if err := c.Press("#"); err != nil {
		t.Fatal(err)
	}
	eq(t, "heard after #", c.Heard(), []string{"I did not hear you", "Question one"})
	eq(t, "no Digits ever posted", a.last("/q/1").Form.Get("Digits"), "")
	if err := c.Press("12#3"); err != nil {
		t.Fatal(err)
	}
	eq(t, "finishOnKey stripped", a.last("/q/1").Form.Get("Digits"), "12")

	a.static("/q/1", resp(`<Redirect>/q/2</Redirect>`))
	if err := c.Press("9"); err != nil {
		t.Fatal(err)
	}
	eq(t, "heard", c.Heard(), []string{"Question two"})
	eq(t, "input", c.Gather().Input, []string{"dtmf", "speech"})
	if err := c.Silence(); err != nil {
		t.Fatal(err)
	}
	r := a.last("/q/2/answer")
	if _, ok := r.Form["Digits"]; ok {
		t.Errorf("actionOnEmptyResult posted Digits: %v", r.Form)
	}
	eq(t, "heard after empty result", c.Heard(), []string{"Thanks"})
	eq(t, "ended", c.Waiting(), WaitEnded)
}

func TestPressAndSpeak(t *testing.T) {
	a := newApp(t)
	e, _ := newEmu(t, a)
	ctx := context.Background()
	a.route("/twilio/voice", func(f url.Values) string {
		return resp(`<Gather action="/ans" numDigits="2" finishOnKey=""><Say>Keys</Say></Gather>`)
	})
	a.route("/ans", func(f url.Values) string {
		return resp(`<Gather action="/speech" input="speech" hints="yes, no" language="en-GB"><Say>Say it</Say></Gather>`)
	})
	a.static("/speech", resp(`<Say>ok</Say>`))
	c, err := e.Call(ctx, "+447700900123", "+447700900999")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Speak("hello", 0.9); err == nil {
		t.Error("Speak on a dtmf-only gather must fail")
	}
	if err := c.Press("x"); err == nil {
		t.Error("Press with a non-key must fail")
	}
	if err := c.Press("#55"); err != nil {
		t.Fatal(err)
	}
	eq(t, "# is a digit when finishOnKey is empty; numDigits caps", a.last("/ans").Form.Get("Digits"), "#5")
	if err := c.Press("1"); err == nil {
		t.Error("Press on a speech-only gather must fail")
	}
	eq(t, "hints", c.Gather().Hints, "yes, no")
	if err := c.Speak("yes please", 0.87); err != nil {
		t.Fatal(err)
	}
	f := a.last("/speech").Form
	eq(t, "SpeechResult", f.Get("SpeechResult"), "yes please")
	eq(t, "Confidence", f.Get("Confidence"), "0.87")
}

func TestRecord(t *testing.T) {
	a := newApp(t)
	e, _ := newEmu(t, a)
	ctx := context.Background()
	a.static("/twilio/voice", resp(`<Say>Tell us</Say><Record action="/rec" maxLength="60" recordingStatusCallback="/cb/rec" transcribeCallback="/cb/trans"/><Say>after</Say>`))
	a.static("/rec", resp(`<Say>Got it</Say><Record action="/rec2" recordingStatusCallback="/cb/rec" recordingStatusCallbackEvent="completed absent"/><Say>nothing recorded</Say>`))
	c, err := e.Call(ctx, "+447700900123", "+447700900999")
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "waiting", c.Waiting(), WaitRecord)
	rv := c.RecordVerb()
	eq(t, "record defaults", []any{rv.Timeout, rv.FinishOnKey, rv.MaxLength, rv.PlayBeep, rv.Trim, rv.Transcribe}, []any{5, "1234567890*#", 60, true, "trim-silence", true})
	if err := c.Press("1"); !errors.Is(err, ErrNotWaiting) {
		t.Errorf("Press during record: %v", err)
	}
	if err := c.Record(75, "I like the staff"); err != nil {
		t.Fatal(err)
	}
	f := a.last("/rec").Form
	eq(t, "duration capped at maxLength", f.Get("RecordingDuration"), "60")
	eq(t, "Digits", f.Get("Digits"), "#")
	recSid := f.Get("RecordingSid")
	if !regexp.MustCompile(`^RE[0-9a-f]{32}$`).MatchString(recSid) {
		t.Errorf("RecordingSid %q", recSid)
	}
	recURL := f.Get("RecordingUrl")
	if !strings.HasPrefix(recURL, e.APIURL()+"/2010-04-01/Accounts/"+DefaultAccountSID+"/Recordings/"+recSid) {
		t.Errorf("RecordingUrl %q", recURL)
	}
	eq(t, "heard", c.Heard(), []string{"Got it"})
	eq(t, "callbacks wait for flush", len(a.requests("/cb/rec")), 0)
	eq(t, "pending", e.PendingCallbacks(), 2)
	if err := e.FlushCallbacks(ctx); err != nil {
		t.Fatal(err)
	}
	rs := a.last("/cb/rec").Form
	for k, v := range map[string]string{"RecordingSid": recSid, "RecordingUrl": recURL, "RecordingStatus": "completed",
		"RecordingDuration": "60", "CallSid": c.Sid, "AccountSid": DefaultAccountSID} {
		eq(t, "recording callback "+k, rs.Get(k), v)
	}
	tr := a.last("/cb/trans").Form
	for k, v := range map[string]string{"TranscriptionText": "I like the staff", "TranscriptionStatus": "completed",
		"RecordingSid": recSid, "RecordingUrl": recURL, "CallSid": c.Sid} {
		eq(t, "transcription "+k, tr.Get(k), v)
	}
	if !strings.HasPrefix(tr.Get("TranscriptionSid"), "TR") {
		t.Errorf("TranscriptionSid %q", tr.Get("TranscriptionSid"))
	}

	// Empty recording: the action is skipped, the next verb runs.
	if err := c.Record(0, ""); err != nil {
		t.Fatal(err)
	}
	eq(t, "no action for an empty recording", len(a.requests("/rec2")), 0)
	eq(t, "heard after empty recording", c.Heard(), []string{"nothing recorded"})
	eq(t, "ended", c.Waiting(), WaitEnded)
	if err := e.FlushCallbacks(ctx); err != nil {
		t.Fatal(err)
	}
	eq(t, "absent callback", a.last("/cb/rec").Form.Get("RecordingStatus"), "absent")
}

func TestRecordAndHangUp(t *testing.T) {
	a := newApp(t)
	e, _ := newEmu(t, a)
	a.static("/twilio/voice", resp(`<Record finishOnKey="*"/>`))
	c, err := e.Call(context.Background(), "+447700900123", "+447700900999")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.RecordAndHangUp(5, "bye"); err != nil {
		t.Fatal(err)
	}
	rs := a.requests("/twilio/voice")
	eq(t, "action = document URL", len(rs), 2)
	eq(t, "Digits", rs[1].Form.Get("Digits"), "hangup")
	eq(t, "ended", c.Waiting(), WaitEnded)
	eq(t, "status", a.last("/twilio/voice/status").Form.Get("CallStatus"), "completed")
	eq(t, "no callbacks without recordingStatusCallback", e.PendingCallbacks(), 0)
}

func TestRejectDialHangup(t *testing.T) {
	a := newApp(t)
	e, _ := newEmu(t, a)
	ctx := context.Background()
	a.static("/twilio/voice", resp(`<Reject reason="busy"/>`))
	c, err := e.Call(ctx, "+447700900123", "+447700900999")
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "rejected status", c.Status(), "busy")
	st := a.last("/twilio/voice/status").Form
	eq(t, "status callback", st.Get("CallStatus"), "busy")
	eq(t, "unanswered duration", st.Get("CallDuration"), "0")

	a.static("/twilio/voice", resp(`<Say>Connecting you</Say><Dial callerId="+447700900999"><Number>+447700900555</Number></Dial><Say>after</Say>`))
	c, err = e.Call(ctx, "+447700900123", "+447700900999")
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "dialed", c.Dialed(), []string{"+447700900555"})
	eq(t, "ended after dial", c.Waiting(), WaitEnded)

	a.static("/twilio/voice", resp(`<Gather><Say>Hi</Say></Gather>`))
	c, err = e.Call(ctx, "+447700900123", "+447700900999")
	if err != nil {
		t.Fatal(err)
	}
	n := len(a.requests("/twilio/voice/status"))
	if err := c.Hangup(); err != nil {
		t.Fatal(err)
	}
	eq(t, "hangup posts status", len(a.requests("/twilio/voice/status")), n+1)
	eq(t, "caller hangup status", a.last("/twilio/voice/status").Form.Get("CallStatus"), "completed")
}

func TestCallErrors(t *testing.T) {
	a := newApp(t)
	e, _ := newEmu(t, a)
	ctx := context.Background()
	cases := []struct {
		name, twiml, want string
	}{
		{"invalid TwiML", resp(`<Say>Hi</Say><Gather><Record/></Gather>`), "<Record>"},
		{"play not audio", resp(`<Play>/audio/page.html</Play>`), "not audio"},
		{"play refused", resp(`<Play>/nothing.wav</Play>`), "answered 403"},
		{"server error", "STATUS 500", "500"},
		{"redirect loop", resp(`<Redirect>/twilio/voice</Redirect>`), "loop"},
	}
	for _, tc := range cases {
		a.static("/twilio/voice", tc.twiml)
		_, err := e.Call(ctx, "+447700900123", "+447700900999")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err = %v, want it to mention %q", tc.name, err, tc.want)
		}
	}
	// A bad signature makes the app answer 403.
	e2 := New(Config{AuthToken: "wrongtoken", WebhookBase: a.srv.URL})
	a.static("/twilio/voice", resp(`<Say>Hi</Say>`))
	_, err := e2.Call(ctx, "+447700900123", "+447700900999")
	var se *StatusError
	if !errors.As(err, &se) || se.StatusCode != 403 {
		t.Errorf("wrong token: %v", err)
	}
}

func TestSayLoopAndSSMLInsideGather(t *testing.T) {
	a := newApp(t)
	e, _ := newEmu(t, a)
	a.static("/twilio/voice", resp(`<Say loop="2">Hi</Say><Gather><Say><p><s>One</s><s>Two <say-as interpret-as="digits">123</say-as></s></p></Say></Gather>`))
	c, err := e.Call(context.Background(), "+447700900123", "+447700900999")
	if err != nil {
		t.Fatal(err)
	}
	eq(t, "heard", c.Heard(), []string{"Hi", "Hi", "One Two 123"})
}
