package ivr_test

import (
	"strings"
	"testing"
	"time"

	"github.com/haveyoursay/haveyoursay/config"
)

const (
	lead   = "+447700900901" // the safeguarding lead
	deputy = "+447700900902"
)

// alerting sends safeguarding alerts to lead and deputy through the
// emulator's REST API.
func alerting(c *config.Config) {
	c.SafeguardingAlertTo, c.SMSFrom = []string{lead, deputy}, ourNumber
}

// expectAlerts waits until lead and deputy each have exactly one alert that
// says where to look and nothing about the member.
func expectAlerts(t *testing.T, e *env, secrets ...string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for len(e.sim.SentTo(lead)) < 1 || len(e.sim.SentTo(deputy)) < 1 {
		if time.Now().After(deadline) {
			t.Fatalf("no alert texts to lead and deputy (sent %d, refused %d)", len(e.sim.Sent()), len(e.sim.Refused()))
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, n := range []string{lead, deputy} {
		got := e.sim.SentTo(n)
		if len(got) != 1 {
			t.Fatalf("%d alerts to %s; want 1", len(got), n)
		}
		if !strings.Contains(got[0].Body, e.srv.URL+"/worries/") {
			t.Errorf("alert %q does not say where to look", got[0].Body)
		}
		for _, s := range append(secrets, member, member[len(member)-3:]) {
			if strings.Contains(got[0].Body, s) {
				t.Errorf("alert %q gives away %q", got[0].Body, s)
			}
		}
	}
}

// A transcript that arrives after the call has ended, with a risk phrase
// in it, raises one worry and alerts lead
// and deputy, tried again after Twilio first refused.
func TestRiskPhraseInATranscriptAfterTheCall(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{config: alerting})
	e.sim.FailNextMessages(1, 503, 20500)
	c := e.call(member)
	must(t, c.Press("1"))
	must(t, c.Press("3"))
	must(t, c.Silence())
	words := "My support worker hurts me when nobody is looking"
	must(t, c.Record(6, words))
	must(t, c.Hangup())
	if n := e.count(`SELECT count(*) FROM worries`); n != 0 {
		t.Fatalf("%d worries before any transcript", n)
	}
	must(t, e.sim.FlushCallbacks(e.ctx)) // Twilio's callbacks come after the call
	e.flush()
	if n := e.count(`SELECT count(*) FROM worries WHERE source = 'transcript' AND channel = 'voice' AND words = $1
		AND phrase = 'hurts me' AND conversation_id = $2 AND recording_sid LIKE 'RE%'`, words, c.Sid); n != 1 {
		t.Fatalf("%d worries for the transcript; want 1", n)
	}
	expectAlerts(t, e, "hurts", "support worker")
	if n := len(e.sim.Refused()); n != 1 {
		t.Errorf("%d refused; want the one the emulator refused", n)
	}
}

// Words the menu did not understand, with a risk phrase, raise a worry.
func TestRiskPhraseInSpeechNotUnderstood(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{config: alerting})
	e.sim.FailNextMessages(1, 429, 20429)
	c := e.call(member)
	must(t, c.Speak("yes", 0.9))
	words := "the staff shout at me and I feel scared"
	must(t, c.Speak(words, 0.8))
	// They hear at once how to get help, then the question again.
	expectHeard(t, c, "Thank you for telling us.", "If you are in danger now, call 999.", "To talk to a person, press 0.",
		"How do you feel about your day service?")
	// 0 reaches a person from there.
	must(t, c.Press("0"))
	expectHeard(t, c, "A person from our team will call you back.")
	must(t, c.Hangup())
	e.flush()
	if n := e.count(`SELECT count(*) FROM worries WHERE source = 'not-understood' AND channel = 'voice' AND words = $1
		AND conversation_id = $2 AND participant_id IS NOT NULL`, words, c.Sid); n != 1 {
		t.Fatalf("%d worries for the words; want 1", n)
	}
	if n := e.count(`SELECT count(*) FROM call_inputs WHERE speech = $1 AND NOT understood`, words); n != 1 {
		t.Fatalf("the words themselves were not kept (%d)", n)
	}
	expectAlerts(t, e, "shout", "scared")
	if n := len(e.sim.Refused()); n != 1 {
		t.Errorf("%d refused; want the one the emulator refused", n)
	}
}
