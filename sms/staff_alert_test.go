package sms_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/haveyoursay/haveyoursay/hours"
	"github.com/haveyoursay/haveyoursay/sms"
)

const staffNumber = "+441614960000"

// A member texting for a person reaches staff by text, in office hours,
// in a few texts however many ask, and the text never says who they are
// or what they wrote.
func TestStaffAlertTextsAboutCallbacks(t *testing.T) {
	ctx := context.Background()
	f := newOutFixture(t)
	office, err := hours.ParseOffice("Mon-Fri 09:00-17:00", london)
	if err != nil {
		t.Fatal(err)
	}
	alert := &sms.StaffAlert{DB: f.db, Texter: f.texter, From: obFrom, To: staffNumber, InHours: office.Contains,
		Link: "https://feedback.example.org/callbacks", Every: time.Hour, Now: f.clock.Now}
	askForAPerson := func(member string) {
		t.Helper()
		for _, body := range []string{"DAYS", "yes", "0"} {
			if _, err := f.sim.Text(ctx, member, obFrom, body); err != nil {
				t.Fatal(err)
			}
		}
		if err := f.journal.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	once := func(want bool) {
		t.Helper()
		sent, err := alert.Once(ctx)
		if err != nil || sent != want {
			t.Fatalf("at %s: sent=%v err=%v, want sent=%v", f.clock.Now().Format("Mon 15:04"), sent, err, want)
		}
	}

	// Saturday: nobody is at work, nothing is sent.
	f.clock.Set(time.Date(2026, 3, 7, 11, 0, 0, 0, london))
	askForAPerson("+447700900301")
	once(false)
	waiting, err := f.db.WaitingCallbacks(ctx)
	if err != nil || len(waiting) != 1 {
		t.Fatalf("the text did not book a call-back: %v %v", waiting, err)
	}

	// Monday morning: one text about the weekend's request.
	f.clock.Set(time.Date(2026, 3, 9, 9, 0, 0, 0, london))
	once(true)
	texts := f.sim.SentTo(staffNumber)
	if len(texts) != 1 || texts[0].Body != "Have Your Say: 1 person is waiting for a call back. See https://feedback.example.org/callbacks" {
		t.Fatalf("texts to staff: %+v", texts)
	}

	// A busy hour: five more ask; one text covers them.
	for _, m := range []string{"+447700900302", "+447700900303", "+447700900304", "+447700900305", "+447700900306"} {
		askForAPerson(m)
		f.clock.Set(f.clock.Now().Add(10 * time.Minute))
		once(false)
	}
	f.clock.Set(time.Date(2026, 3, 9, 10, 0, 0, 0, london))
	once(true)
	once(false)
	texts = f.sim.SentTo(staffNumber)
	if len(texts) != 2 || !strings.Contains(texts[1].Body, "6 people are waiting for a call back (5 new)") {
		t.Fatalf("texts to staff: %+v", texts)
	}
	for _, m := range texts {
		if strings.Contains(m.Body, "7700900") || strings.Contains(m.Body, "•") {
			t.Fatalf("a text to staff shows a member's number: %q", m.Body)
		}
	}

	// Twilio refuses the text: the call-backs are texted about next time.
	askForAPerson("+447700900307")
	f.clock.Set(time.Date(2026, 3, 9, 11, 0, 0, 0, london))
	f.sim.FailNextMessages(1, 500, 20500)
	if sent, err := alert.Once(ctx); sent || err == nil {
		t.Fatalf("a refused text: sent=%v err=%v", sent, err)
	}
	f.clock.Set(time.Date(2026, 3, 9, 11, 1, 0, 0, london))
	once(true)
	if texts = f.sim.SentTo(staffNumber); len(texts) != 3 || !strings.Contains(texts[2].Body, "(1 new)") {
		t.Fatalf("texts to staff: %+v", texts)
	}
}
