package sms_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/haveyoursay/haveyoursay/sms"
	"github.com/haveyoursay/haveyoursay/store"
	"github.com/haveyoursay/haveyoursay/store/storetest"
	"github.com/haveyoursay/haveyoursay/survey"
)

// askFollowUp makes the demo survey end with "Can we text you to tell you
// what we did?" (a new version with follow_up: true).
func (f *outFixture) askFollowUp(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	if _, _, err := f.db.SaveSurvey(ctx, "day-service", "Your day service", string(survey.DemoYAML)+"follow_up: true\n", "day-service.yaml"); err != nil {
		t.Fatal(err)
	}
	if err := f.catalog.Reload(ctx); err != nil {
		t.Fatal(err)
	}
}

// answerDayService texts the whole demo survey through the real webhooks:
// "not good" (so the ideas question is asked) with words, or "good"; then
// tell answers "Can we text you to tell you what we did?" ("" when the
// survey does not ask).
func (f *outFixture) answerDayService(t *testing.T, number string, notGood bool, tell ...string) string {
	t.Helper()
	ctx := context.Background()
	steps := []string{"DAYS", "yes", "1", "4", "1"}
	if notGood {
		steps = []string{"DAYS", "yes", "3", "The path to the garden is hard for my chair", "4", "1"}
	}
	steps = append(steps, tell...)
	for _, body := range steps {
		if _, err := f.sim.Text(ctx, number, obFrom, body); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.journal.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	var conv string
	if err := storetest.SQL(t, f.db).QueryRow(ctx, `SELECT c.id FROM conversations c JOIN participants p ON p.id = c.participant_id
		WHERE p.phone_hash = $1 AND c.status = 'completed'`, f.phones.Hash(number)).Scan(&conv); err != nil {
		t.Fatalf("%s's finished conversation: %v", number, err)
	}
	return conv
}

func (f *outFixture) doneAction(t *testing.T, theme, text string) int64 {
	t.Helper()
	id, err := f.db.SaveAction(context.Background(), "staff@example.org", store.Action{ThemeID: theme, SurveyID: "day-service",
		Said: "The garden path is hard for wheelchairs.", Doing: "We made the path smooth and wide.",
		Status: store.ActionDone, MemberText: text})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// An action marked done texts exactly the members it covers who said yes
// to being told: once each, never after STOP, and the texts arrive in the
// emulator.
func TestActionDoneTextsThoseWhoSaidYes(t *testing.T) {
	f := newOutFixture(t)
	s := f.sender(t, nil)
	run(t, s)
	ctx := context.Background()
	f.askFollowUp(t)
	yes, no, stopped, notCovered := "+447700900601", "+447700900602", "+447700900603", "+447700900604"
	for _, m := range []struct {
		number  string
		notGood bool
		tell    string
	}{{yes, true, "yes"}, {no, true, "no"}, {stopped, true, "1"}, {notCovered, false, "yes"}} {
		conv := f.answerDayService(t, m.number, m.notGood, m.tell)
		var tellMe *bool
		if err := storetest.SQL(t, f.db).QueryRow(ctx, `SELECT tell_me FROM conversations WHERE id = $1`, conv).Scan(&tellMe); err != nil {
			t.Fatal(err)
		}
		if tellMe == nil || *tellMe != (m.tell != "no") {
			t.Fatalf("%s answered %q to being told; kept %v", m.number, m.tell, tellMe)
		}
	}
	if _, err := f.sim.Text(ctx, stopped, obFrom, "STOP"); err != nil {
		t.Fatal(err)
	}
	if err := f.journal.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	before := len(f.sim.Sent())

	// A planned action is not sent.
	planned, err := f.db.SaveAction(ctx, "staff@example.org", store.Action{ThemeID: "ideas", Said: "x", Doing: "y",
		Status: store.ActionPlanned, MemberText: "We will fix the path."})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.TellAction(ctx, "staff@example.org", planned); err != sms.ErrActionNotDone {
		t.Fatalf("telling a planned action: %v, want ErrActionNotDone", err)
	}

	id := f.doneAction(t, "ideas", "We made the garden path smooth. Now chairs can use it.")
	told, err := s.TellAction(ctx, "staff@example.org", id)
	if err != nil {
		t.Fatal(err)
	}
	if told.Audience != 1 || told.Queued != 1 || !told.NotBefore.IsZero() {
		t.Fatalf("told %+v, want exactly 1 member (the one who said yes, answered on the theme, and did not STOP)", told)
	}
	if p := settled(t, s, store.ActionBatch(id)); p.Sent != 1 || p.Total != 1 {
		t.Fatalf("progress %+v, want 1 sent", p)
	}
	got := f.sim.Sent()[before:]
	if len(got) != 1 || got[0].To != yes {
		t.Fatalf("texts sent: %+v, want one to %s", got, yes)
	}
	for _, want := range []string{"Hello from Oakfield. You told us what you think. This is what we did:",
		"We made the garden path smooth. Now chairs can use it.", "text STOP"} {
		if !strings.Contains(got[0].Body, want) {
			t.Errorf("the text %q lacks %q", got[0].Body, want)
		}
	}

	// Sending again tells nobody twice.
	again, err := s.TellAction(ctx, "staff@example.org", id)
	if err != nil || again.Queued != 0 || again.Audience != 1 {
		t.Fatalf("telling again: %+v %v", again, err)
	}
	settled(t, s, store.ActionBatch(id))
	if n := len(f.sim.Sent()) - before; n != 1 {
		t.Fatalf("%d texts after sending twice, want 1", n)
	}
	// The text is in the member's messages and the audit log.
	if n := f.count(t, `SELECT count(*) FROM messages WHERE direction = 'out' AND body LIKE '%garden path smooth%'`); n != 1 {
		t.Fatalf("%d logged texts, want 1", n)
	}
	if n := f.count(t, `SELECT count(*) FROM audit_log WHERE action = 'action-tell' AND subject = $1`, store.ActionSubject(id)); n != 2 {
		t.Fatalf("%d audit lines for sending, want 2", n)
	}

	// STOP after being queued: the text is not sent.
	if _, err := f.sim.Text(ctx, yes, obFrom, "STOP"); err != nil {
		t.Fatal(err)
	}
	id2 := f.doneAction(t, "ideas", "We put a bench by the path.")
	// (The STOP may not have reached Postgres yet: the sender checks Redis
	// too, at the moment of sending.)
	if _, err := s.TellAction(ctx, "staff@example.org", id2); err != nil {
		t.Fatal(err)
	}
	if p := settled(t, s, store.ActionBatch(id2)); p.Sent != 0 || p.Total != p.OptedOut {
		t.Fatalf("after STOP: %+v, want nobody texted", p)
	}
	if err := f.journal.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if aud, err := f.db.ActionAudience(ctx, id2); err != nil || len(aud) != 0 {
		t.Fatalf("after STOP reached Postgres the audience is %v (%v), want nobody", aud, err)
	}
	if n := len(f.sim.Sent()) - before; n != 1 {
		t.Fatalf("%d texts, want none after STOP", n)
	}
}

// In quiet hours the texts wait for the morning.
func TestActionTextsWaitForQuietHoursToEnd(t *testing.T) {
	f := newOutFixture(t)
	s := f.sender(t, nil)
	run(t, s)
	ctx := context.Background()
	member := "+447700900611"
	conv := f.answerDayService(t, member, true)
	if err := f.db.SetTellMe(ctx, conv, true); err != nil {
		t.Fatal(err)
	}
	before := len(f.sim.Sent())
	y, m, d := time.Now().In(london).AddDate(0, 0, 7).Date()
	f.clock.Set(time.Date(y, m, d, 22, 30, 0, 0, london))
	id := f.doneAction(t, "", "We made the garden path smooth.")
	if _, err := f.db.SaveAction(ctx, "staff@example.org", store.Action{ID: id, SurveyID: "day-service", Said: "a", Doing: "b",
		Status: store.ActionDone, MemberText: "We made the garden path smooth.", Answers: answersOf(t, f, conv)}); err != nil {
		t.Fatal(err)
	}
	told, err := s.TellAction(ctx, "staff@example.org", id)
	morning := time.Date(y, m, d+1, 8, 0, 0, 0, london)
	if err != nil || told.Queued != 1 || !told.NotBefore.Equal(morning) {
		t.Fatalf("in quiet hours: %+v %v, want 1 queued for %v", told, err, morning)
	}
	var due time.Time
	if err := storetest.SQL(t, f.db).QueryRow(ctx, `SELECT scheduled_at FROM river_job WHERE id = (SELECT job_id FROM outbound WHERE batch_id = $1)`,
		store.ActionBatch(id)).Scan(&due); err != nil {
		t.Fatal(err)
	}
	if !due.Equal(morning) {
		t.Fatalf("the text is due at %v, want %v", due, morning)
	}
	if n := len(f.sim.Sent()) - before; n != 0 {
		t.Fatalf("%d texts sent in quiet hours", n)
	}
}

func answersOf(t *testing.T, f *outFixture, conv string) []int64 {
	t.Helper()
	rows, err := storetest.SQL(t, f.db).Query(context.Background(), `SELECT id FROM answers WHERE conversation_id = $1 ORDER BY id`, conv)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		rows.Scan(&id)
		ids = append(ids, id)
	}
	return ids
}
