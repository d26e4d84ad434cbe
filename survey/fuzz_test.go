package survey

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzMatch(f *testing.F) {
	for _, s := range []string{"1", " 1.", "1)", "one", "number one", "um yes please", "👍🏽", "☺️", "hapy", "not happy", "4 out of 5", "twenty one", "yes or no", "", "\x00\xff", "-", "1,000,000,000,000", strings.Repeat("a ", 3000)} {
		f.Add(s)
	}
	qs := []*Question{&happyQ, &feelQ, {ID: "yn", Answer: YesNo}, {ID: "s", Answer: Scale}, {ID: "n", Answer: Number, Min: intp(0), Max: intp(100)}, {ID: "w", Answer: Words}}
	f.Fuzz(func(t *testing.T, in string) {
		for _, q := range qs {
			v, via, ok, amb := Match(q, in)
			if ok && amb {
				t.Fatalf("%s: %q is both matched and ambiguous", q.ID, in)
			}
			if ok != (via != "") {
				t.Fatalf("%s: %q: ok %v but via %q", q.ID, in, ok, via)
			}
			if ok && (q.Answer == Choice || q.Answer == YesNo) {
				found := false
				for _, o := range q.options() {
					found = found || o.Value == v
				}
				if !found {
					t.Fatalf("%s: %q matched unknown value %q", q.ID, in, v)
				}
			}
			// deterministic
			v2, via2, ok2, amb2 := Match(q, in)
			if v != v2 || via != via2 || ok != ok2 || amb != amb2 {
				t.Fatalf("%s: %q not deterministic", q.ID, in)
			}
		}
	})
}

func FuzzParse(f *testing.F) {
	f.Add(DemoYAML)
	for _, name := range []string{"good", "short-breaks", "cycle", "advice", "welsh", "syntax"} {
		if b, err := os.ReadFile("testdata/" + name + ".yaml"); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("id: x\nconsent: ok\nquestions: [{id: a, ask: b, answer: yesno, then: {yes: a}}]"))
	f.Add([]byte("a: &x [*x]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse("f.yaml", data)
		ds := Lint("f.yaml", data, LintOptions{})
		if (err != nil) != ds.HasErrors() {
			t.Fatalf("Parse error %v but Lint errors %v", err, ds.HasErrors())
		}
		for _, d := range ds {
			if d.Line < 1 || d.File != "f.yaml" || d.Message == "" {
				t.Fatalf("bad diagnostic %+v", d)
			}
		}
		if err != nil {
			if s != nil {
				t.Fatal("survey returned with an error")
			}
			if _, ok := err.(Diagnostics); !ok {
				t.Fatalf("error is %T, want Diagnostics", err)
			}
			return
		}
		// a survey that parses can be talked to without getting stuck
		for _, ch := range []Channel{SMS, Voice} {
			r, sess := Start(s, ch, Needs{})
			for i := 0; i < 10*len(s.Questions)+20 && !r.Done; i++ {
				r, sess = Step(s, sess, Input{NoInput: true})
			}
			if !r.Done {
				t.Fatalf("silence never reaches the end: %+v", sess)
			}
		}
	})
}

func FuzzStep(f *testing.F) {
	f.Add("sms", "yes", "", "", false, 0, "consent", "", 0)
	f.Add("voice", "", "1", "", false, 0, "question", "feel", 0)
	f.Add("voice", "", "", "um a bit", false, 0, "offer", "feel", 3)
	f.Add("voice", "", "#", "", false, 0, "question", "better", 1)
	f.Add("voice", "", "", "", false, 1, "question", "better", 0)
	f.Add("sms", "back", "", "", false, 0, "question", "days", 0)
	f.Add("sms", "\xff\xfe", "*", "", true, -5, "???", "nope", -1)
	s := Demo()
	multi := MustParse("welsh.yaml", mustRead(f, "testdata/welsh.yaml"))
	f.Fuzz(func(t *testing.T, ch, text, digits, speech string, noInput bool, secs int, stage, question string, tries int) {
		in := Input{Text: text, Digits: digits, Speech: speech, NoInput: noInput, Confidence: 0.5}
		if secs != 0 {
			in.Recording = &Recording{URL: "u", Seconds: secs}
		}
		for _, sv := range []*Survey{s, multi} {
			sess := Session{SurveyID: sv.ID, Channel: Channel(ch), Stage: Stage(stage), Question: question, Tries: tries,
				Path: []string{question, "feel"}, Answers: map[string]string{question: text}, Lang: speech}
			r, ns := Step(sv, sess, in)
			if len(r.Prompts) == 0 {
				t.Fatalf("no prompts for %+v %+v", sess, in)
			}
			if r.Done != (ns.Stage == StageDone) {
				t.Fatalf("Done %v but stage %s", r.Done, ns.Stage)
			}
			if r.Done && r.Expect.Kind != "" {
				t.Fatalf("expects input when done")
			}
			if !r.Done && r.Expect.Kind == "" {
				t.Fatalf("expects nothing when not done: %+v", ns)
			}
			if ns.Stage == StageQuestion && sv.Question(ns.Question) == nil {
				t.Fatalf("at unknown question %q", ns.Question)
			}
			if a, ok := r.Answer(); ok && a.Via == "text" && (a.Value != a.Raw || (a.Value != text && a.Value != digits)) {
				t.Fatalf("text answer changed: %q -> %q", text, a.Value)
			}
			if e, ok := Find[Ended](r.Events); ok && (!r.Done || e.How != Completed && (len(ns.Answers) != 0 || len(ns.Path) != 0)) {
				t.Fatalf("ended %s: done %v, session %+v", e.How, r.Done, ns)
			}
			if r.Handoff() && strings.Contains(r.Text(), DefaultPhrases["consent-no"]) {
				t.Fatalf("asked for a person, and told their answers are thrown away: %q", r.Text())
			}
			if _, ok := Find[ConsentGiven](r.Events); ok && sess.Stage != StageConsent {
				t.Fatalf("consent given at stage %s", sess.Stage)
			}
			b, err := json.Marshal(ns)
			if err != nil {
				t.Fatal(err)
			}
			var back Session
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			if utf8.ValidString(text) && utf8.ValidString(question) && utf8.ValidString(stage) && utf8.ValidString(ch) && utf8.ValidString(speech) {
				r1, s1 := Step(sv, ns, in)
				r2, s2 := Step(sv, back, in)
				if r1.Text() != r2.Text() || s1.Stage != s2.Stage || s1.Question != s2.Question {
					t.Fatalf("JSON round trip changes the next step")
				}
			}
		}
	})
}

func mustRead(f *testing.F, name string) []byte {
	b, err := os.ReadFile(name)
	if err != nil {
		f.Fatal(err)
	}
	return b
}
