package ivr_test

import (
	"strings"
	"testing"

	"github.com/haveyoursay/haveyoursay/store"
	"github.com/haveyoursay/haveyoursay/store/storetest"
)

// The phone menu plays the done actions: callers hear at the start that
// pressing 9 tells them what changed; 9 plays the latest done actions
// (not the planned ones) and asks the consent question again. Nothing is
// offered when nothing is done.
func TestPhoneMenuPlaysDoneActions(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	c := e.call(member)
	if h := heard(c); strings.Contains(h, "To hear what we changed") {
		t.Fatalf("offered what changed with nothing done: %q", h)
	}
	must(t, c.Hangup())

	save := func(a store.Action) {
		t.Helper()
		if _, err := e.db.SaveAction(e.ctx, "staff@example.org", a); err != nil {
			t.Fatal(err)
		}
	}
	save(store.Action{SurveyID: "day-service", Said: "The path is hard.", Doing: "We made it smooth.", Status: store.ActionDone,
		MemberText: "We made the garden path smooth."})
	save(store.Action{ThemeID: "staff", Said: "Staff are rushed.", Doing: "More staff on Mondays.", Status: store.ActionDone,
		MemberText: "There are more staff on Mondays now."})
	save(store.Action{SurveyID: "day-service", Said: "Trips.", Doing: "A minibus.", Status: store.ActionPlanned,
		MemberText: "We bought a minibus."})
	save(store.Action{ThemeID: "home", Said: "Another survey's theme.", Doing: "x", Status: store.ActionDone,
		MemberText: "We painted the kitchen."})

	c = e.call("+447700900124")
	expectHeard(t, c, "To hear what we changed, press 9 now.", "Is that OK?")
	must(t, c.Press("9"))
	got := heard(c)
	for _, want := range []string{"People told us what they think. This is what we did.", "There are more staff on Mondays now.",
		"We made the garden path smooth.", "Now, on to the questions.", "Is that OK?"} {
		if !strings.Contains(got, want) {
			t.Errorf("after 9 the caller heard %q, without %q", got, want)
		}
	}
	for _, not := range []string{"We bought a minibus.", "We painted the kitchen.", "Sorry"} {
		if strings.Contains(got, not) {
			t.Errorf("after 9 the caller heard %q", not)
		}
	}
	// Then the survey goes on as ever.
	must(t, c.Press("1"))
	expectHeard(t, c, "How do you feel about your day service?")
	e.flush()
	if n := e.count(`SELECT count(*) FROM answers WHERE conversation_id = $1 AND raw = '9'`, c.Sid); n != 0 {
		t.Errorf("the 9 was kept as an answer")
	}
}

// A survey with follow_up: true asks callers, after the thanks, whether we
// may text them what we did; pressing 1 keeps their yes.
func TestPhoneFollowUpQuestion(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{surveys: []string{demoYAML + "follow_up: true\n"}})
	c := e.call(member)
	for _, k := range []string{"1", "1", "4", "1"} {
		must(t, c.Press(k))
	}
	expectHeard(t, c, "Thank you for your answers.", "Can we text you to tell you what we did?", "For Yes, press 1.")
	must(t, c.Press("1"))
	expectHeard(t, c, "Thank you. We will text you when we do something.")
	e.flush()
	var tellMe *bool
	if err := storetest.SQL(t, e.db).QueryRow(e.ctx, `SELECT tell_me FROM conversations WHERE id = $1`, c.Sid).Scan(&tellMe); err != nil {
		t.Fatal(err)
	}
	if tellMe == nil || !*tellMe {
		t.Fatalf("the caller's yes was kept as %v", tellMe)
	}
	if status, _ := e.conversation(c.Sid); status != "completed" {
		t.Fatalf("the conversation is %q, want completed", status)
	}
}
