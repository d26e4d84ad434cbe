package sms_test

import (
	"context"
	"strings"
	"testing"

	"github.com/haveyoursay/haveyoursay/store/storetest"
)

const notKept = "We will not keep your answers"

// consentOf reads the one conversation's status and consent words (nil
// when none were kept).
func (f *fixture) consentOf(t *testing.T) (status string, consent *string) {
	t.Helper()
	if err := storetest.SQL(t, f.db).QueryRow(context.Background(), "SELECT status, consent FROM conversations").Scan(&status, &consent); err != nil {
		t.Fatal(err)
	}
	return status, consent
}

// Three unclear texts at consent, then "maybe later": consent was never
// given, so nothing but that fact is kept, and the goodbye keeps the door
// open without talk of throwing answers away.
func TestNoConsentByText(t *testing.T) {
	f := newFixture(t)
	var replies []string
	for _, body := range []string{"DAYS", "ys", "dunno", "hmm"} {
		replies = append(replies, f.text(t, member, body))
	}
	mustContain(t, replies[1], "Sorry, we did not understand.", "Is that OK?")
	mustContain(t, replies[2], "We will ask in a different way.", "Can we keep your answers?")
	mustContain(t, replies[3], "Do you want to talk to a person?")
	last := f.text(t, member, "maybe later")
	mustContain(t, last, "That is OK.", "To start again, text DAYS.")
	for _, r := range append(replies, last) {
		if strings.Contains(r, notKept) {
			t.Errorf("a member who never answered is told %q: %q", notKept, r)
		}
	}
	f.flush(t)
	status, consent := f.consentOf(t)
	if status != "refused" || consent != nil {
		t.Errorf("conversation %s, consent %v; want refused with no consent words", status, consent)
	}
	for _, table := range []string{"answers", "callbacks"} {
		if n := f.count(t, "SELECT count(*) FROM "+table); n != 0 {
			t.Errorf("%d rows in %s", n, table)
		}
	}
	// The door is open: the keyword starts again.
	mustContain(t, f.text(t, member, "DAYS"), "Is that OK?")
}

// Yes to the offer of a person at consent: one call back (however often
// they asked), they are told a person will contact them, and nothing is
// said about answers being thrown away.
func TestPersonAtConsentByText(t *testing.T) {
	f := newFixture(t)
	mustContain(t, f.text(t, member, "DAYS"), "Is that OK?")
	mustContain(t, f.text(t, member, "0"), "A person from our team will call or text you.", "Is that OK?")
	for _, body := range []string{"purple", "blue", "green"} {
		f.text(t, member, body)
	}
	last := f.text(t, member, "yes")
	mustContain(t, last, "A person from our team will call or text you.", "text DAYS")
	if strings.Contains(last, notKept) {
		t.Errorf("asked for a person, and told %q", last)
	}
	f.flush(t)
	if n := f.count(t, "SELECT count(*) FROM callbacks WHERE channel = 'sms' AND conversation_id IS NOT NULL"); n != 1 {
		t.Errorf("%d call backs, want 1", n)
	}
	status, consent := f.consentOf(t)
	if status != "refused" || consent != nil {
		t.Errorf("conversation %s, consent %v; want refused with no consent words", status, consent)
	}
}

// A clear no is still a refusal, said as before, and its words are not
// kept as consent.
func TestClearNoByText(t *testing.T) {
	f := newFixture(t)
	f.text(t, member, "DAYS")
	mustContain(t, f.text(t, member, "No"), "That is OK. "+notKept)
	f.flush(t)
	if status, consent := f.consentOf(t); status != "refused" || consent != nil {
		t.Errorf("conversation %s, consent %v", status, consent)
	}
}

// "0" or "help me" reaches a person after the survey has ended, and with
// no survey at all; plain HELP still gets the HELP text. Each text that
// asks books one call back, however often Twilio delivers it.
func TestHelpAfterTheEnd(t *testing.T) {
	f := newFixture(t)
	for _, body := range []string{"DAYS", "yes", "1", "4"} {
		f.text(t, member, body)
	}
	mustContain(t, f.text(t, member, "2"), "Thank you")
	res, err := f.sim.TextWithSid(context.Background(), "SMaf000000000000000000000000000001", member, ours, "0")
	if err != nil {
		t.Fatal(err)
	}
	mustContain(t, strings.Join(res.Messages, "\n"), "A person from our team will call or text you.")
	if _, err := f.sim.TextWithSid(context.Background(), "SMaf000000000000000000000000000001", member, ours, "0"); err != nil {
		t.Fatal(err)
	}
	mustContain(t, f.text(t, member, "HELP"), orgName+".", orgPhone)
	mustContain(t, f.text(t, member, "thanks"), "You have finished the survey")

	const stranger = "+447700900077" // has never texted
	mustContain(t, f.text(t, stranger, "I need help"), "A person from our team will call or text you.")
	mustContain(t, f.text(t, stranger, "help me"), "A person from our team will call or text you.")
	f.flush(t)
	if n := f.count(t, "SELECT count(*) FROM callbacks WHERE channel = 'sms'"); n != 3 {
		t.Errorf("%d call backs, want 3 (one for each text that asked)", n)
	}
	if n := f.count(t, "SELECT count(*) FROM callbacks WHERE reason LIKE 'Asked for a person by text, outside a survey%'"); n != 3 {
		t.Errorf("%d call backs say why", n)
	}
}
