package ivr_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/haveyoursay/haveyoursay/phonesim"
	"github.com/haveyoursay/haveyoursay/store/storetest"
)

func TestRecordedPromptsArePlayed(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	intro, err := e.audio.Add(e.ctx, "day-service", "en-GB", "intro", phonesim.WAV(2))
	if err != nil {
		t.Fatal(err)
	}
	notice, err := e.audio.Add(e.ctx, "", "en-GB", "voice-notice", phonesim.WAV(4))
	if err != nil {
		t.Fatal(err)
	}
	c := e.call(member)
	h := c.Heard()
	// phonesim fetched each <Play> URL from /audio and checked it is audio.
	if len(h) < 3 || h[0] != "[play "+e.srv.URL+"/audio/"+notice.Name+"]" || h[1] != "[play "+e.srv.URL+"/audio/"+intro.Name+"]" {
		t.Fatalf("heard %q", h)
	}
	expectHeard(t, c, "There are 3 questions.", "Is that OK?") // no recording: spoken
}

func TestNumberWithSeveralSurveys(t *testing.T) {
	t.Parallel()
	welsh, err := os.ReadFile("../survey/testdata/welsh.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// Neither survey is on the number called: the caller chooses.
	e := newEnv(t, options{surveys: []string{string(welsh), strings.Replace(demoYAML, ourNumber, "+447700900999", 1)}})
	c := e.call(member)
	expectHeard(t, c, "We record this call", "Which questions do you want to answer?", "For Clubs, press 1.", "For Your day service, press 2.")
	must(t, c.Press("7"))
	expectHeard(t, c, "Sorry, we did not understand.", "Which questions")
	must(t, c.Press("1"))
	// Clubs has Welsh too: the language menu comes first.
	expectHeard(t, c, "For English, press 1.", "Am Cymraeg, pwyswch 2.")
	must(t, c.Press("2"))
	expectHeard(t, c, "Helo. Rydyn ni eisiau gwybod am eich clybiau.", "Ydy hynny'n iawn?")
	if g := c.Gather(); g.Language != "cy-GB" {
		t.Errorf("gather language = %q", g.Language)
	}
	must(t, c.Press("1"))
	expectHeard(t, c, "Cwestiwn 1 o 2.", "Ydych chi'n mynd i glwb?")
	must(t, c.Press("1"))
	must(t, c.Press("5"))
	e.flush()
	if s, _ := e.conversation(c.Sid); s != "completed" {
		t.Errorf("status = %s", s)
	}
	got := byQuestion(e.answers(c.Sid))
	if got["club"] != "yes" || got["fun"] != "5" {
		t.Errorf("answers = %v", got)
	}
	// The keys pressed at the menu of surveys are kept too.
	if n := e.count(`SELECT count(*) FROM call_inputs WHERE call_sid = $1 AND stage = 'pick'`, c.Sid); n != 2 {
		t.Errorf("%d keys kept from the menu of surveys, want 2 (7, then 1)", n)
	}
	// The language chosen is kept with the conversation and the member.
	var conv, person string
	if err := storetest.SQL(e.t, e.db).QueryRow(e.ctx, `SELECT c.language, p.language FROM conversations c JOIN participants p ON p.id = c.participant_id
		WHERE c.id = $1`, c.Sid).Scan(&conv, &person); err != nil || conv != "cy" || person != "cy" {
		t.Errorf("language kept: conversation %q, participant %q (%v)", conv, person, err)
	}
}

func TestNoSurveyOnThisNumber(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{surveys: []string{}})
	c := e.call(member)
	expectHeard(t, c, "There are no questions to answer on this number.")
	if c.Waiting() != phonesim.WaitEnded {
		t.Errorf("waiting for %q", c.Waiting())
	}
}

// Two surveys on one number: the caller chooses between those two only,
// and always hears them in the same order.
func TestNumberSharedBySurveys(t *testing.T) {
	t.Parallel()
	welsh, err := os.ReadFile("../survey/testdata/welsh.yaml") // on another number
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, options{surveys: []string{demoYAML, numberSurvey, string(welsh)}})
	for i := 0; i < 3; i++ {
		c := e.call(fmt.Sprintf("+4477009003%02d", i))
		expectHeard(t, c, "Which questions do you want to answer?", "For Your day service, press 1.", "For Outings, press 2.")
		if h := heard(c); strings.Contains(h, "Clubs") {
			t.Fatalf("a survey on another number was offered: %s", h)
		}
		if i == 0 {
			must(t, c.Press("2"))
			expectHeard(t, c, "Hello. We want to know about going out.", "Is that OK?")
		}
	}
}
