package ivr_test

import (
	"strings"
	"testing"

	"github.com/haveyoursay/haveyoursay/phonesim"
	"github.com/haveyoursay/haveyoursay/store/storetest"
)

const notKept = "We will not keep your answers"

// steps runs inputs on a call and returns all the caller heard after each.
func steps(t *testing.T, c *phonesim.Call, inputs ...func() error) []string {
	t.Helper()
	var out []string
	for _, in := range inputs {
		must(t, in())
		out = append(out, heard(c))
	}
	return out
}

func (e *env) consentKept(conv string) (status string, consent *string) {
	e.t.Helper()
	if err := storetest.SQL(e.t, e.db).QueryRow(e.ctx, `SELECT status, consent FROM conversations WHERE id = $1`, conv).Scan(&status, &consent); err != nil {
		e.t.Fatal(err)
	}
	return status, consent
}

// Three unclear answers at consent (a wrong key, silence, words), then
// "maybe later" at the offer of a person: no consent is kept, nothing but
// that fact, and the caller is not told their answers are thrown away.
func TestNoConsentByPhone(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	c := e.call(member)
	said := steps(t, c,
		func() error { return c.Press("7") },
		c.Silence,
		func() error { return c.Speak("I am not sure", 0.8) },
		func() error { return c.Speak("maybe later", 0.8) })
	if !strings.Contains(said[0], "Is that OK?") || !strings.Contains(said[1], "Can we keep your answers?") ||
		!strings.Contains(said[2], "Do you want to talk to a person?") {
		t.Errorf("the ladder: %q", said[:3])
	}
	if last := said[3]; !strings.Contains(last, "That is OK.") || !strings.Contains(last, "You can call us again at any time.") {
		t.Errorf("goodbye: %q", last)
	}
	for _, s := range said {
		if strings.Contains(s, notKept) {
			t.Errorf("a caller who never answered heard %q: %q", notKept, s)
		}
	}
	if c.Waiting() != phonesim.WaitEnded {
		t.Errorf("waiting for %q after they said no to a person", c.Waiting())
	}
	e.flush()
	if status, consent := e.consentKept(c.Sid); status != "refused" || consent != nil {
		t.Errorf("conversation %s, consent %v; want refused with no consent words", status, consent)
	}
	if n := e.count(`SELECT count(*) FROM answers`); n != 0 {
		t.Errorf("%d answers kept", n)
	}
	if n := e.count(`SELECT count(*) FROM callbacks`); n != 0 {
		t.Errorf("%d call backs booked", n)
	}
}

// Yes to the offer of a person at consent: exactly one call back, and the
// caller hears that a person will call, not that answers are thrown away.
func TestPersonAtConsentByPhone(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	c := e.call(member)
	said := steps(t, c, c.Silence, c.Silence, c.Silence, func() error { return c.Press("1") })
	last := said[3]
	if !strings.Contains(last, "A person from our team will call you back.") || strings.Contains(last, notKept) {
		t.Errorf("after yes to a person: %q", last)
	}
	if c.Waiting() != phonesim.WaitEnded {
		t.Errorf("waiting for %q", c.Waiting())
	}
	e.flush()
	if n := e.count(`SELECT count(*) FROM callbacks WHERE conversation_id = $1`, c.Sid); n != 1 {
		t.Errorf("%d call backs, want 1", n)
	}
	if status, consent := e.consentKept(c.Sid); status != "refused" || consent != nil {
		t.Errorf("conversation %s, consent %v", status, consent)
	}
}

// After the thanks, one short chance to reach a person before the call
// ends: 0 books a call back; another key is told the survey is finished,
// and the offer is not made twice.
func TestHelpAfterTheEndByPhone(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	finish := func(from string) *phonesim.Call {
		c := e.call(from)
		for _, k := range []string{"1", "1", "4", "2"} {
			must(t, c.Press(k))
		}
		expectHeard(t, c, "Thank you for your answers. Our team will read every one.", "To talk to a person, press 0.")
		if g := c.Gather(); g == nil || g.NumDigits != 1 || g.Timeout > 5 || g.ActionOnEmptyResult {
			t.Fatalf("the last offer waits briefly for one key: %+v", g)
		}
		return c
	}
	c := finish(member)
	must(t, c.Press("0"))
	expectHeard(t, c, "A person from our team will call you back.")
	if c.Waiting() != phonesim.WaitEnded {
		t.Errorf("waiting for %q", c.Waiting())
	}
	c2 := finish("+447700900126")
	must(t, c2.Press("5"))
	expectHeard(t, c2, "This survey has finished.")
	if h := heard(c2); strings.Contains(h, "press 0") || c2.Waiting() != phonesim.WaitEnded {
		t.Errorf("offered twice, or not ended: %q, waiting for %q", h, c2.Waiting())
	}
	e.flush()
	if n := e.count(`SELECT count(*) FROM callbacks WHERE conversation_id = $1 AND reason LIKE '%after the survey had ended%'`, c.Sid); n != 1 {
		t.Errorf("%d call backs after the end, want 1", n)
	}
	if n := e.count(`SELECT count(*) FROM callbacks WHERE conversation_id = $1`, c2.Sid); n != 0 {
		t.Errorf("%d call backs for a key that is not 0", n)
	}
	for _, conv := range []string{c.Sid, c2.Sid} {
		if status, _ := e.conversation(conv); status != "completed" {
			t.Errorf("status %s, want completed", status)
		}
	}
}
