package sms_test

import (
	"strings"
	"testing"

	"github.com/haveyoursay/haveyoursay/config"
	"github.com/haveyoursay/haveyoursay/phonesim"
	"github.com/haveyoursay/haveyoursay/survey"
)

const (
	lead   = "+447700900901" // the safeguarding lead
	deputy = "+447700900902"
)

// safeFixture is the whole server with safeguarding alerts going to lead
// and deputy through the emulator's REST API.
type safeFixture struct {
	*fixture
	api *phonesim.Emulator // the emulator whose REST API the alerts go through
}

func newSafeFixture(t *testing.T) *safeFixture {
	t.Helper()
	var api *phonesim.Emulator
	f := newFixture(t, func(c *config.Config) {
		api = phonesim.New(phonesim.Config{AccountSID: account, AuthToken: token, WebhookBase: c.PublicURL})
		t.Cleanup(func() { api.Close() })
		u, err := api.StartAPIServer()
		if err != nil {
			t.Fatal(err)
		}
		c.TwilioAPIURL, c.SMSFrom = u, ours
		c.SafeguardingAlertTo = []string{lead, deputy}
	})
	return &safeFixture{fixture: f, api: api}
}

// alerted waits until each number has had one alert, and returns them.
func (f *safeFixture) alerted(t *testing.T, numbers ...string) []phonesim.Message {
	t.Helper()
	var out []phonesim.Message
	eventually(t, "the alert texts reach "+strings.Join(numbers, " and "), func() bool {
		out = out[:0]
		for _, n := range numbers {
			got := f.api.SentTo(n)
			if len(got) != 1 {
				return false
			}
			out = append(out, got[0])
		}
		return true
	})
	return out
}

// A risk phrase in a text answer: one worry with the member's words, a
// crisis reply at once instead of the next question, and alert texts to
// lead and deputy that name no one, tried again after Twilio refused the
// first.
func TestRiskPhraseByText(t *testing.T) {
	t.Parallel()
	f := newSafeFixture(t)
	f.api.FailNextMessages(1, 500, 20500)

	mustContain(t, f.text(t, member, "days"), "If someone hurts you, we may tell people who can keep you safe.", "Is that OK?")
	f.text(t, member, "yes")
	mustContain(t, f.text(t, member, "3"), "own words")
	words := "The staff shout at me and I feel scared"
	reply := f.text(t, member, words)
	mustContain(t, reply, "Thank you for telling us", "call 999", "116 123", "NHS 111", "85258", orgPhone, "Text 0", "Text AGAIN")
	if strings.Contains(reply, "Question 2") {
		t.Fatalf("the next question came straight after a disclosure: %q", reply)
	}

	f.flush(t)
	if n := f.count(t, `SELECT count(*) FROM worries WHERE source = 'text' AND channel = 'sms' AND words = $1
		AND phrase = 'shout at me' AND conversation_id IS NOT NULL AND participant_id IS NOT NULL`, words); n != 1 {
		t.Fatalf("%d worries for the text; want 1", n)
	}
	if n := f.count(t, `SELECT count(*) FROM answers WHERE raw = $1`, words); n != 1 {
		t.Fatalf("the answer itself was not kept (%d)", n)
	}

	alerts := f.alerted(t, lead, deputy)
	for _, a := range alerts {
		if !strings.Contains(a.Body, f.srv.URL+"/worries/") || a.From != ours {
			t.Errorf("alert %q from %s does not say where to look", a.Body, a.From)
		}
		for _, secret := range []string{"shout", "scared", member, member[len(member)-3:]} {
			if strings.Contains(a.Body, secret) {
				t.Errorf("alert %q gives away %q", a.Body, secret)
			}
		}
	}
	if n := len(f.api.Refused()); n != 1 {
		t.Fatalf("%d refused alerts; want the one the emulator refused", n)
	}
	eventually(t, "both alerts are recorded as sent", func() bool {
		return f.count(t, `SELECT count(*) FROM worry_alerts WHERE status = 'sent'`) == 2
	})
	if n := f.count(t, `SELECT sum(attempts) FROM worry_alerts`); n != 3 {
		t.Errorf("%d tries recorded; want 3 (one refused, two sent)", n)
	}

	// The survey waits: another text is not taken as an answer...
	mustContain(t, f.text(t, member, "what happens now"), "We are here for you", "Text AGAIN")
	// ...until they ask to carry on.
	mustContain(t, f.text(t, member, "again"), "How kind are the staff?")
	f.flush(t)
	if n := f.count(t, `SELECT count(*) FROM worries`); n != 1 {
		t.Fatalf("%d worries; want still 1", n)
	}
	if n := f.count(t, `SELECT count(*) FROM answers WHERE raw = 'what happens now'`); n != 0 {
		t.Fatal("a text while the survey waited was taken as an answer")
	}
}

// While the survey waits, 0 still reaches a person.
func TestPersonWhileWaitingAfterADisclosure(t *testing.T) {
	t.Parallel()
	f := newSafeFixture(t)
	f.text(t, member, "days")
	f.text(t, member, "yes")
	mustContain(t, f.text(t, member, "he hits me"), "call 999")
	mustContain(t, f.text(t, member, "0"), survey.DefaultPhrases["help-sms"])
	f.flush(t)
	if n := f.count(t, `SELECT count(*) FROM callbacks`); n != 1 {
		t.Fatalf("%d call backs; want 1", n)
	}
	f.alerted(t, lead, deputy)
}

// A risk phrase outside any survey is a worry too, with the crisis reply;
// someone who texted STOP gets no reply (rule 4), but the worry is raised.
func TestRiskPhraseOutsideASurveyAndAfterStop(t *testing.T) {
	t.Parallel()
	f := newSafeFixture(t)
	mustContain(t, f.text(t, member, "i want to kms"), "call 999", "Samaritans")
	other := "+447700900077"
	f.text(t, other, "STOP")
	if got := f.text(t, other, "nobody cares, I will end it all"); got != "" {
		t.Fatalf("someone who texted STOP was answered: %q", got)
	}
	f.flush(t)
	if n := f.count(t, `SELECT count(*) FROM worries WHERE conversation_id IS NULL AND participant_id IS NOT NULL`); n != 2 {
		t.Fatalf("%d worries; want 2", n)
	}
	eventually(t, "two alerts to each", func() bool {
		return len(f.api.SentTo(lead)) == 2 && len(f.api.SentTo(deputy)) == 2
	})
}

// Ordinary answers raise nothing.
func TestNoWorryWithoutARiskPhrase(t *testing.T) {
	t.Parallel()
	f := newSafeFixture(t)
	f.text(t, member, "days")
	f.text(t, member, "yes")
	f.text(t, member, "3")
	mustContain(t, f.text(t, member, "We sing in harmony and I love it"), "Question 2 of 3")
	f.flush(t)
	if n := f.count(t, `SELECT count(*) FROM worries`); n != 0 {
		t.Fatalf("%d worries; want none", n)
	}
}
