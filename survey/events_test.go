package survey

import (
	"reflect"
	"strings"
	"testing"
)

// summary is an event in a few words, for tables.
func summary(ev Event) string {
	switch e := ev.(type) {
	case ConsentGiven:
		return "consent-given " + e.Words
	case ConsentRefused:
		return "consent-refused " + e.Words
	case ConsentNotGiven:
		return "consent-not-given"
	case Answered:
		switch {
		case e.NoAnswer:
			return "answered " + e.QuestionID + "=-"
		case e.Skipped:
			return "answered " + e.QuestionID + "=skip"
		}
		return "answered " + e.QuestionID + "=" + e.Value
	case PersonAsked:
		s := "person-asked at " + string(e.Stage)
		if e.QuestionID != "" {
			s += " " + e.QuestionID
		}
		if e.Offered {
			s += " (offered)"
		}
		return s
	case LanguageChosen:
		return "language " + e.Lang
	case Ended:
		return "ended " + string(e.How)
	}
	return "?"
}

func summaries(rs []Reply) []string {
	var out []string
	for _, r := range rs {
		for _, ev := range r.Events {
			out = append(out, summary(ev))
		}
	}
	return out
}

const notKept = "We will not keep your answers"

func TestEvents(t *testing.T) {
	demo := Demo()
	welsh := loadT(t, "testdata/welsh.yaml")
	byNumber := MustParse("n.yaml", []byte(`id: n
start:
  numbers: ["+447700900999"]
consent: Is that OK?
questions:
  - id: q
    ask: Are you happy?
    answer: yesno
`))
	for _, c := range []struct {
		name  string
		s     *Survey
		ch    Channel
		sess  *Session // start here instead of Start
		in    []Input
		want  []string
		text  []string // the last reply says each of these
		never []string // and no reply says any of these
	}{
		{name: "consent by text", s: demo, ch: SMS, in: []Input{txt("Yes")},
			want: []string{"consent-given Yes"}},
		{name: "consent by key", s: demo, ch: Voice, in: []Input{dg("1")},
			want: []string{"consent-given 1"}},
		{name: "consent by speech", s: demo, ch: Voice, in: []Input{sp("yes please")},
			want: []string{"consent-given yes please"}},
		{name: "a clear no", s: demo, ch: SMS, in: []Input{txt("no")},
			want: []string{"consent-refused no", "ended refused"}, text: []string{notKept}},
		{name: "a clear no by key", s: demo, ch: Voice, in: []Input{dg("2")},
			want: []string{"consent-refused 2", "ended refused"}, text: []string{notKept}},
		{name: "help at consent, then yes", s: demo, ch: SMS, in: []Input{txt("help"), txt("yes")},
			want: []string{"person-asked at consent", "consent-given yes"}},
		{name: "help in other words at consent", s: demo, ch: SMS, in: []Input{txt("can I talk to someone")},
			want: []string{"person-asked at consent"}, text: []string{"Is that OK?"}},
		{name: "unclear three times, then maybe later", s: demo, ch: SMS,
			in:   []Input{txt("ys"), txt("dunno"), txt("hmm"), txt("maybe later")},
			want: []string{"consent-not-given", "ended no-consent"},
			text: []string{"That is OK.", "To start again, text DAYS."}, never: []string{notKept}},
		{name: "silence by phone, and at the offer", s: demo, ch: Voice,
			in:   []Input{silence(), silence(), silence(), silence()},
			want: []string{"consent-not-given", "ended no-consent"},
			text: []string{"You can call us again at any time."}, never: []string{notKept}},
		{name: "no to the offer is not a refusal", s: demo, ch: Voice,
			in:   []Input{dg("7"), dg("8"), dg("9"), dg("2")},
			want: []string{"consent-not-given", "ended no-consent"}, never: []string{notKept}},
		{name: "yes to the offer at consent", s: demo, ch: SMS,
			in:   []Input{txt("purple"), txt("blue"), txt("green"), txt("yes")},
			want: []string{"person-asked at offer (offered)", "consent-not-given", "ended no-consent"},
			text: []string{"A person from our team will call or text you.", "text DAYS"}, never: []string{notKept, "That is OK."}},
		{name: "0 at the offer at consent, by phone", s: demo, ch: Voice,
			in:   []Input{silence(), silence(), silence(), dg("0")},
			want: []string{"person-asked at offer (offered)", "consent-not-given", "ended no-consent"},
			text: []string{"A person from our team will call you back."}, never: []string{notKept}},
		{name: "a survey started by number says how to start again", s: byNumber, ch: SMS,
			in:   []Input{txt("x"), txt("x"), txt("x"), txt("no")},
			want: []string{"consent-not-given", "ended no-consent"}, text: []string{"send us a text"}},
		{name: "a whole survey", s: demo, ch: SMS, in: []Input{txt("yes"), txt("3"), txt("skip"), txt("4"), txt("1")},
			want: []string{"consent-given yes", "answered feel=not-good", "answered better=skip", "answered staff=4",
				"answered days=more", "ended completed"}},
		{name: "a person at a question, offered", s: demo, ch: Voice, in: []Input{dg("1"), dg("8"), dg("9"), silence(), dg("1")},
			want: []string{"consent-given 1", "person-asked at offer feel (offered)", "answered feel=-"}},
		{name: "0 at a question", s: demo, ch: Voice, in: []Input{dg("1"), dg("0")},
			want: []string{"consent-given 1", "person-asked at question feel"}},
		{name: "help after the end", s: demo, ch: SMS, sess: &Session{SurveyID: "day-service", Channel: SMS, Stage: StageDone},
			in: []Input{txt("thanks"), txt("I need help")}, want: []string{"person-asked at done"},
			text: []string{"A person from our team will call or text you."}},
		{name: "0 after the end, by phone", s: demo, ch: Voice, sess: &Session{SurveyID: "day-service", Channel: Voice, Stage: StageDone},
			in: []Input{dg("0")}, want: []string{"person-asked at done"}, text: []string{"A person from our team will call you back."}},
		{name: "help with no survey at all", s: nil, ch: SMS, sess: &Session{Channel: SMS, Stage: StageDone},
			in: []Input{txt("help me")}, want: []string{"person-asked at done"}},
		{name: "a language chosen", s: welsh, ch: SMS, in: []Input{txt("2"), txt("ydw")},
			want: []string{"language cy", "consent-given ydw"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var rs []Reply
			var sess Session
			if c.sess != nil {
				sess = *c.sess
				for _, in := range c.in {
					var r Reply
					r, sess = Step(c.s, sess, in)
					rs = append(rs, r)
				}
			} else {
				rs, sess = talk(c.s, c.ch, Needs{}, c.in...)
			}
			if got := summaries(rs); !reflect.DeepEqual(got, c.want) {
				t.Errorf("events\n got %q\nwant %q", got, c.want)
			}
			last := rs[len(rs)-1]
			for _, w := range c.text {
				if !strings.Contains(last.Text(), w) {
					t.Errorf("the last reply does not say %q: %q", w, last.Text())
				}
			}
			for _, r := range rs {
				for _, w := range c.never {
					if strings.Contains(r.Text(), w) {
						t.Errorf("a reply says %q: %q", w, r.Text())
					}
				}
			}
			if e, ok := Find[Ended](last.Events); ok && e.How != Completed && (len(sess.Answers) != 0 || len(sess.Path) != 0) {
				t.Errorf("ended %s but the session keeps answers: %+v", e.How, sess)
			}
		})
	}
}

// Unclear answers at consent: again, then the simpler wording, then the
// offer of a person.
func TestConsentLadder(t *testing.T) {
	rs, sess := talk(Demo(), SMS, Needs{}, txt("ys"), silence(), txt("hmm"))
	got := [][]string{keys(rs[1]), keys(rs[2]), keys(rs[3])}
	want := [][]string{
		{"retry", "consent", "menu:consent"},
		{"simpler", "simpler:consent", "menu:consent"},
		{"offer", "menu:offer"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ladder\n got %v\nwant %v", got, want)
	}
	if sess.Stage != StageOffer || sess.Question != "" || rs[3].Expect.Kind != "offer" {
		t.Errorf("at %+v, expecting %+v", sess, rs[3].Expect)
	}
	for _, r := range rs {
		if len(r.Events) != 0 {
			t.Errorf("nothing happens on the ladder, got %q", summaries([]Reply{r}))
		}
	}
	if rs[2].Prompts[1].Text != DefaultPhrases["consent-simpler"] {
		t.Errorf("simpler consent %q", rs[2].Prompts[1].Text)
	}
	// "again" on the simpler rung repeats the simpler wording
	rs, _ = talk(Demo(), SMS, Needs{}, txt("ys"), txt("ys"), txt("again"))
	if got := keys(rs[3]); !reflect.DeepEqual(got, []string{"simpler:consent", "menu:consent"}) {
		t.Errorf("again %v", got)
	}
}

// Find, Answer and Handoff read the events.
func TestFindEvents(t *testing.T) {
	r := Reply{Events: []Event{PersonAsked{Stage: StageQuestion}, Answered{Answer{QuestionID: "q", Value: "v"}}, Ended{How: Completed}}}
	if a, ok := r.Answer(); !ok || a.Value != "v" {
		t.Errorf("answer %+v %v", a, ok)
	}
	if !r.Handoff() {
		t.Error("handoff")
	}
	if e, ok := Find[Ended](r.Events); !ok || e.How != Completed {
		t.Errorf("ended %+v", e)
	}
	if _, ok := Find[ConsentGiven](r.Events); ok {
		t.Error("found what is not there")
	}
	if (Reply{}).Handoff() {
		t.Error("empty handoff")
	}
}
