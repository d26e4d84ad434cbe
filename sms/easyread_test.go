package sms_test

import (
	"strings"
	"testing"
	"time"

	"github.com/haveyoursay/haveyoursay/config"
	"github.com/haveyoursay/haveyoursay/survey"
)

// TestEveryWordAMemberReads walks whole text conversations through the
// real server and phonesim (a stray text, HELP, wrong answers, repeat, a
// person, the offer of one, skip, back, a picture, the end, a text after
// it, a lapsed conversation, STOP and START) and checks every line a
// member was sent: none over 15 words, none with a word or idiom easy
// read avoids, no "I"; and every menu has one option a line.
func TestEveryWordAMemberReads(t *testing.T) {
	const ttl = 400 * time.Millisecond
	f := newFixture(t, func(c *config.Config) { c.SMSConfirmStop = true; c.SMSSessionTTL = ttl })
	var got []string
	send := func(from, body string) string {
		t.Helper()
		reply := f.text(t, from, body)
		got = append(got, reply)
		return reply
	}
	send(member, "hi there")
	send(member, "HELP")
	first := send(member, "DAYS")
	if !strings.Contains(first, "Reply with a number:\n1 Yes\n2 No") {
		t.Errorf("the consent menu is not one option a line: %q", first)
	}
	send(member, "maybe later")
	send(member, "yes")
	send(member, "*")
	send(member, "0")
	send(member, "purple")
	send(member, "purple")
	send(member, "purple")
	send(member, "no")   // no person: on to the next question
	send(member, "back") // change the last answer
	send(member, "3")    // Not good: the words question
	got = append(got, f.mms(t, member, "", "https://api.twilio.com/2010-04-01/Accounts/"+account+"/Messages/MM1/Media/ME1"))
	send(member, "skip")
	send(member, "4")
	send(member, "good or ok")
	send(member, "1")
	send(member, "thanks!")
	send(member, "0")

	// A conversation left for too long, then STOP and START.
	other := "+447700900077"
	send(other, "DAYS")
	send(other, "yes")
	f.untilForgotten(t, other, ttl)
	send(other, "2")
	send(other, "STOP")
	send(other, "START")
	send(other, "no")
	t.Logf("every reply:\n%s", strings.Join(got, "\n---\n"))
	if len(got) < 20 {
		t.Fatalf("only %d replies", len(got))
	}
	for _, reply := range got {
		for _, line := range strings.Split(reply, "\n") {
			for _, p := range survey.EasyReadProblems(line) {
				t.Errorf("a member read %q: %s", line, p)
			}
		}
	}
}
