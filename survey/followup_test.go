package survey

import (
	"strings"
	"testing"
)

func followUpDemo(t *testing.T) *Survey {
	t.Helper()
	s, err := Parse("day.yaml", []byte(string(DemoYAML)+"follow_up: true\n"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestFollowUpQuestion(t *testing.T) {
	s := followUpDemo(t)
	base := []Input{txt("yes"), txt("1"), txt("4"), txt("1")}
	for _, tc := range []struct {
		name    string
		inputs  []Input
		ch      Channel
		want    *bool // FollowUpConsent reported, and its answer
		lastSay string
	}{
		{"yes by text", []Input{txt("yes")}, SMS, ptr(true), "We will text you when we do something."},
		{"no by text", []Input{txt("2")}, SMS, ptr(false), "We will not text you about it."},
		{"yes by phone", []Input{dg("1")}, Voice, ptr(true), "We will text you when we do something."},
		{"said yes", []Input{sp("yes please")}, Voice, ptr(true), "We will text you when we do something."},
		{"unclear twice", []Input{txt("banana"), txt("purple")}, SMS, nil, "We will not text you about it."},
		{"unclear then yes", []Input{txt("banana"), txt("yes")}, SMS, ptr(true), "We will text you when we do something."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := append([]Input{}, base...)
			if tc.ch == Voice {
				in = []Input{dg("1"), dg("1"), dg("4"), dg("1")}
			}
			rs, sess := talk(s, tc.ch, Needs{}, append(in, tc.inputs...)...)
			end := rs[len(in)]
			if _, ok := Find[Ended](end.Events); !ok || end.Done || sess.Stage != StageDone {
				t.Fatalf("the last question's reply: ended=%v done=%v; final stage %q", ok, end.Done, sess.Stage)
			}
			if got := end.Text(); !strings.Contains(got, "Thank you for your answers.") || !strings.Contains(got, "Can we text you to tell you what we did?") {
				t.Fatalf("after the last question: %q", got)
			}
			if tc.ch == SMS && !strings.Contains(end.Text(), "1 Yes\n2 No") {
				t.Errorf("no yes/no menu: %q", end.Text())
			}
			if end.Expect.Kind != string(StageFollowUp) || end.Expect.NumDigits != 1 {
				t.Errorf("expects %+v", end.Expect)
			}
			var got *bool
			for _, r := range rs[len(in)+1:] {
				if fc, ok := Find[FollowUpConsent](r.Events); ok {
					got = &fc.Yes
				}
			}
			if (got == nil) != (tc.want == nil) || (got != nil && *got != *tc.want) {
				t.Fatalf("FollowUpConsent = %v, want %v", got, tc.want)
			}
			last := rs[len(rs)-1]
			if !last.Done || !strings.Contains(last.Text(), tc.lastSay) {
				t.Errorf("last reply (done %v): %q, want %q", last.Done, last.Text(), tc.lastSay)
			}
		})
	}
	// Without follow_up the survey ends at the thanks, as before.
	rs, sess := talk(Demo(), SMS, Needs{}, base...)
	if !rs[len(rs)-1].Done || sess.Stage != StageDone || strings.Contains(rs[len(rs)-1].Text(), "Can we text you") {
		t.Fatalf("a survey without follow_up asked it: %q", rs[len(rs)-1].Text())
	}
}

func ptr(b bool) *bool { return &b }
