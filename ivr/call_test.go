package ivr_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/haveyoursay/haveyoursay/config"
	"github.com/haveyoursay/haveyoursay/hours"
	"github.com/haveyoursay/haveyoursay/ivr"
	"github.com/haveyoursay/haveyoursay/phonesim"
)

func TestCallByKeypad(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	c := e.call(member)
	expectHeard(t, c, "This is Oakfield", "We record this call", "If you are not safe, we may tell people who can help you.",
		"We want to know what you think", "There are 3 questions. It takes about 1 minute.", "Is that OK?",
		"For Yes, press 1.", "or say your answer")
	g := c.Gather()
	if g == nil {
		t.Fatalf("not waiting for a key: %s", c.Waiting())
	}
	if !g.Accepts("dtmf") || !g.Accepts("speech") || g.Timeout != 8 || g.NumDigits != 1 || g.FinishOnKey != "" || g.Language != "en-GB" {
		t.Errorf("consent gather = %+v", g)
	}
	must(t, c.Press("1"))
	expectHeard(t, c, "Question 1 of 3.", "How do you feel about your day service?", "For Good, press 1.")
	if h := c.Gather().Hints; !strings.Contains(h, "Good") || !strings.Contains(h, "great") {
		t.Errorf("hints = %q", h)
	}
	must(t, c.Press("1"))
	expectHeard(t, c, "You said: Good.", "Question 2 of 3.", "How kind are the staff?")
	must(t, c.Press("4"))
	expectHeard(t, c, "You said: 4.", "Question 3 of 3.")
	must(t, c.Press("2"))
	expectHeard(t, c, "You said: The same.", "Thank you for your answers. Our team will read every one.", "To talk to a person, press 0.")
	must(t, c.Silence()) // no 0 at the last offer of a person: the call ends
	if c.Waiting() != phonesim.WaitEnded {
		t.Fatalf("the call should have ended politely, it waits for %q", c.Waiting())
	}
	e.flush()
	status, consent := e.conversation(c.Sid)
	if status != "completed" || consent != "pressed 1" {
		t.Errorf("conversation = %s, consent %q", status, consent)
	}
	got := e.answers(c.Sid)
	want := []answerRow{
		{Question: "feel", Value: "good", Raw: "1", Via: "digits", Key: c.Sid + ":2"},
		{Question: "staff", Value: "4", Raw: "4", Via: "digits", Key: c.Sid + ":3"},
		{Question: "days", Value: "same", Raw: "2", Via: "digits", Key: c.Sid + ":4"},
	}
	if len(got) != len(want) {
		t.Fatalf("answers = %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("answer %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestCallBySpeech(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	c := e.call(member)
	must(t, c.Speak("yes please", 0.9))
	must(t, c.Speak("it's great", 0.8))
	expectHeard(t, c, "You said: Good.")
	must(t, c.Speak("five", 0.7))
	must(t, c.Speak("more", 0.9))
	expectHeard(t, c, "Thank you for your answers.")
	e.flush()
	if _, consent := e.conversation(c.Sid); consent != `said "yes please"` {
		t.Errorf("consent = %q", consent)
	}
	got := e.answers(c.Sid)
	if len(got) != 3 || got[0].Value != "good" || got[0].Via != "speech" || got[0].Raw != "it's great" || got[1].Value != "5" || got[2].Value != "more" {
		t.Errorf("answers = %+v", got)
	}
}

func TestWrongKeysAndSilenceNeverHangUp(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	c := e.call(member)
	must(t, c.Press("1"))
	must(t, c.Press("9"))
	expectHeard(t, c, "Sorry, we did not understand.", "How do you feel about your day service?")
	must(t, c.Silence())
	expectHeard(t, c, "We will ask in a different way.", "Is your day service good, OK, or not good?")
	must(t, c.Press("8"))
	expectHeard(t, c, "Do you want to talk to a person?")
	must(t, c.Silence())
	expectHeard(t, c, "That is OK. We will go on.", "Question 2 of 3.")
	if c.Waiting() != phonesim.WaitGather {
		t.Fatalf("waiting for %q", c.Waiting())
	}
	// Silence at consent too: asked again, never hung up on.
	c2 := e.call("+447700900124")
	must(t, c2.Silence())
	expectHeard(t, c2, "We did not get an answer.", "Is that OK?")
	must(t, c2.Silence())
	expectHeard(t, c2, "We will ask in a different way.", "Can we keep your answers?")
	e.flush()
	got := e.answers(c.Sid)
	if len(got) != 1 || got[0].Question != "feel" || !got[0].NoAnswer {
		t.Errorf("answers = %+v", got)
	}
}

func TestStarZeroAndHash(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	c := e.call(member)
	must(t, c.Press("1"))
	must(t, c.Press("*"))
	expectHeard(t, c, "How do you feel about your day service?", "For Good, press 1.")
	must(t, c.Press("0"))
	expectHeard(t, c, "A person from our team will call you back.", "Here is the question again.", "How do you feel")
	must(t, c.Press("0")) // pressing 0 again books no second call back
	must(t, c.Press("3"))
	expectHeard(t, c, "You said: Not good.", "What would make your day service better?", "press hash")
	must(t, c.Press("#"))
	expectHeard(t, c, "OK. We will skip this question.", "How kind are the staff?")
	must(t, c.Press("#")) // not optional
	expectHeard(t, c, "We need an answer to this question.", "How kind are the staff?")
	must(t, c.Hangup())
	e.flush()
	if n := e.count(`SELECT count(*) FROM callbacks WHERE conversation_id = $1 AND channel = 'voice'`, c.Sid); n != 1 {
		t.Errorf("%d call backs booked, want 1", n)
	}
	got := e.answers(c.Sid)
	if len(got) != 2 || got[0].Value != "not-good" || got[1].Question != "better" || !got[1].Skipped {
		t.Errorf("answers = %+v", got)
	}
	if status, _ := e.conversation(c.Sid); status != "partial" {
		t.Errorf("status = %s, want partial", status)
	}
}

func TestZeroDialsStaffInOfficeHours(t *testing.T) {
	t.Parallel()
	open, err := hours.ParseOffice("Mon-Sun 00:00-23:59", time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, options{
		config: func(c *config.Config) { c.StaffNumber, c.OfficeHours = "+441610000000", open },
		now:    func() time.Time { return time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC) },
	})
	c := e.call(member)
	must(t, c.Press("1"))
	must(t, c.Press("0"))
	expectHeard(t, c, "We are calling a person for you.")
	if d := c.Dialed(); len(d) != 1 || d[0] != "+441610000000" {
		t.Errorf("dialled %v", d)
	}
	e.flush()
	if n := e.count(`SELECT count(*) FROM callbacks WHERE conversation_id = $1`, c.Sid); n != 1 {
		t.Errorf("%d call backs, want 1 (booked in case nobody answers)", n)
	}
}

func TestRecordingTranscribedAfterTheCall(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{config: func(c *config.Config) { c.DeleteRecordings = true }})
	c := e.call(member)
	must(t, c.Press("1"))
	must(t, c.Press("3"))
	expectHeard(t, c, "What would make your day service better?", "To skip this question, press hash now. Or speak after the beep")
	must(t, c.Silence()) // no key during the question: the beep and the recording
	rv := c.RecordVerb()
	if rv == nil || rv.FinishOnKey != "1234567890*#" || rv.MaxLength != 90 || !rv.Transcribe || rv.RecordingStatusCallback == "" {
		t.Fatalf("record verb = %+v", rv)
	}
	must(t, c.Silence()) // an empty recording is asked for once more
	expectHeard(t, c, "We did not hear you.", "What would make your day service better?")
	must(t, c.Silence())
	must(t, c.Record(6, "More trips out please"))
	expectHeard(t, c, "Thank you. We have your message.", "How kind are the staff?")
	must(t, c.Hangup())
	// Twilio's callbacks come after the call has ended.
	must(t, e.sim.FlushCallbacks(e.ctx))
	e.flush()

	got := e.answers(c.Sid)
	if len(got) != 2 || got[1].Question != "better" || got[1].Via != "recording" || !strings.HasPrefix(got[1].Raw, "RE") {
		t.Fatalf("answers = %+v", got)
	}
	rec, err := e.db.GetRecording(e.ctx, got[1].Raw)
	if err != nil {
		t.Fatal(err)
	}
	if rec.AnswerKey != got[1].Key || rec.ConversationID != c.Sid || rec.QuestionID != "better" || rec.Seconds != 6 ||
		string(rec.Audio) != string(phonesim.WAV(6)) || !rec.DeletedFromTwilio {
		t.Errorf("recording = %+v (audio %d bytes)", rec.AnswerKey, len(rec.Audio))
	}
	if !e.sim.RecordingDeleted(rec.SID) {
		t.Error("Twilio's copy was not deleted")
	}
	ts, err := e.db.Transcripts(e.ctx, rec.SID)
	if err != nil || len(ts) != 1 || ts[0].Text != "More trips out please" || ts[0].Source != "twilio" || ts[0].AnswerKey != got[1].Key {
		t.Fatalf("transcripts = %+v, %v", ts, err)
	}
	// A staff correction keeps the original.
	must(t, e.db.CorrectTranscript(e.ctx, rec.SID, "More trips out, please.", "sam@example.org"))
	ts, _ = e.db.Transcripts(e.ctx, rec.SID)
	if len(ts) != 2 || ts[0].Text != "More trips out please" || ts[1].Source != "staff" || ts[1].AnswerKey != got[1].Key {
		t.Errorf("after correction = %+v", ts)
	}
	if status, _ := e.conversation(c.Sid); status != "partial" {
		t.Errorf("status = %s", status)
	}
}

func TestRecordingHangUpMidRecording(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	c := e.call(member)
	must(t, c.Press("1"))
	must(t, c.Press("3"))
	must(t, c.Silence())
	must(t, c.RecordAndHangUp(4, "the bus is late"))
	must(t, e.sim.FlushCallbacks(e.ctx))
	e.flush()
	got := e.answers(c.Sid)
	if len(got) != 2 || got[1].Via != "recording" {
		t.Fatalf("answers = %+v", got)
	}
	if n := e.count(`SELECT count(*) FROM transcripts WHERE recording_sid = $1 AND text = 'the bus is late'`, got[1].Raw); n != 1 {
		t.Errorf("transcript not stored")
	}
	if status, _ := e.conversation(c.Sid); status != "partial" {
		t.Errorf("status = %s", status)
	}
}

func TestHangUpThenCarryOn(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	first := e.call(member)
	must(t, first.Press("1"))
	must(t, first.Press("2"))
	expectHeard(t, first, "How kind are the staff?")
	must(t, first.Hangup())
	e.flush()
	if status, _ := e.conversation(first.Sid); status != "partial" {
		t.Fatalf("status after hang-up = %s", status)
	}

	again := e.call(member)
	expectHeard(t, again, "We record this call", "Welcome back. To go on from where you stopped, press 1.")
	must(t, again.Press("1"))
	expectHeard(t, again, "OK. We will go on from where you stopped.", "How kind are the staff?")
	must(t, again.Press("5"))
	must(t, again.Press("1"))
	expectHeard(t, again, "Thank you for your answers.")
	e.flush()
	if status, _ := e.conversation(first.Sid); status != "completed" {
		t.Errorf("status after carrying on = %s, want completed", status)
	}
	got := e.answers(first.Sid)
	if len(got) != 3 || got[0].Value != "ok" || got[1].Value != "5" || got[2].Value != "more" {
		t.Errorf("answers = %+v", got)
	}
	if n := e.count(`SELECT count(*) FROM conversations`); n != 1 {
		t.Errorf("%d conversations, want 1", n)
	}

	// Finished: the next call starts afresh.
	third := e.call(member)
	expectHeard(t, third, "Is that OK?")
}

func TestCallBackAndStartAgain(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	first := e.call(member)
	must(t, first.Press("1"))
	must(t, first.Press("2"))
	must(t, first.Hangup())
	again := e.call(member)
	must(t, again.Press("2"))
	expectHeard(t, again, "OK. We will start again.", "Is that OK?")
	must(t, again.Press("1"))
	expectHeard(t, again, "Question 1 of 3.")
	e.flush()
	if s, _ := e.conversation(first.Sid); s != "partial" {
		t.Errorf("first = %s", s)
	}
	if s, _ := e.conversation(again.Sid); s != "active" {
		t.Errorf("second = %s", s)
	}
}

func TestWebhookTwiceIsStoredOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	c := e.call(member)
	must(t, c.Press("1"))
	action := c.Gather().Action
	form := url.Values{"CallSid": {c.Sid}, "From": {member}, "To": {ourNumber}, "Digits": {"1"}, "AccountSid": {accountSID}}
	var docs []string
	for range 2 {
		r, err := e.sim.PostForm(e.ctx, action, form)
		if err != nil || r.StatusCode != 200 {
			t.Fatalf("%v %+v", err, r)
		}
		must(t, phonesim.CheckVoiceTwiML(r.Body))
		docs = append(docs, string(r.Body))
	}
	if !strings.Contains(docs[1], "How kind are the staff?") {
		t.Errorf("the repeat must be answered the same way: %s", docs[1])
	}
	e.flush()
	if got := e.answers(c.Sid); len(got) != 1 {
		t.Errorf("answers = %+v", got)
	}
}

func TestUnsignedRequestsAreRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	form := url.Values{"CallSid": {"CA00000000000000000000000000000001"}, "From": {member}, "To": {ourNumber}}
	for _, p := range []string{ivr.PathIncoming, ivr.PathStep, ivr.PathRecord, ivr.PathRecording, ivr.PathTranscription, ivr.PathStatus} {
		for _, token := range []string{"", "wrongtoken"} {
			r, err := e.sim.PostUnsigned(e.ctx, p, form, token)
			if err != nil {
				t.Fatal(err)
			}
			if r.StatusCode != 403 {
				t.Errorf("%s signed with %q: %d", p, token, r.StatusCode)
			}
		}
	}
	e.flush()
	if n := e.count(`SELECT count(*) FROM conversations`); n != 0 {
		t.Errorf("a forged call started %d conversations", n)
	}
}
