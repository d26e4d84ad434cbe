package survey

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
)

func TestParseDemo(t *testing.T) {
	s := Demo()
	if s.ID != "day-service" || s.Language != "en-GB" || !reflect.DeepEqual(s.Keywords, []string{"DAYS"}) || len(s.Questions) != 4 {
		t.Fatalf("demo: %+v", s)
	}
	if !s.HasKeyword(" days ") || s.HasKeyword("STOP") {
		t.Error("keywords are matched in any case")
	}
	q := s.Question("feel")
	if q == nil || q.Answer != Choice || len(q.Options) != 3 || q.Options[2].Key != "3" || q.Then["not-good"] != "better" || q.Line != 11 {
		t.Errorf("feel: %+v", q)
	}
	if !s.IsFollowUp("better") || s.IsFollowUp("staff") {
		t.Error("follow-up rule")
	}
	if b := s.Question("better"); b.Answer != Words || b.MaxSeconds != 90 || !b.Optional {
		t.Errorf("better: %+v", b)
	}
	if st := s.Question("staff"); *st.Min != 1 || *st.Max != 5 {
		t.Errorf("staff: %+v", st)
	}
	if s.Question("nope") != nil || s.QuestionIndex("days") != 3 {
		t.Error("lookup")
	}
	if !reflect.DeepEqual(s.Languages(), []string{"en-GB"}) {
		t.Error("languages")
	}
}

func TestParseDefaults(t *testing.T) {
	s, err := Parse("d.yaml", []byte(`id: d
consent: OK?
start: {keywords: clubs, numbers: "+44 7700 900123"}
questions:
  - id: where
    ask: Where?
    options:
      - Shops
      - {value: park, key: 1}
      - A bit of both
  - id: yn
    ask: Yes?
    answer: yesno
  - id: sc
    ask: How much?
    answer: scale
  - id: w
    ask: Why?
    answer: words
    then: {else: end}
`))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s.Keywords, []string{"CLUBS"}) || !reflect.DeepEqual(s.Numbers, []string{"+447700900123"}) || s.Language != "en-GB" {
		t.Errorf("start: %v %v %s", s.Keywords, s.Numbers, s.Language)
	}
	var got []string
	for _, o := range s.Questions[0].Options {
		got = append(got, o.Key+"="+o.Value+"/"+o.Say)
	}
	if want := []string{"2=shops/Shops", "1=park/Park", "3=a-bit-of-both/A bit of both"}; !reflect.DeepEqual(got, want) {
		t.Errorf("options %v want %v", got, want)
	}
	if s.Questions[0].Answer != Choice {
		t.Error("options imply choice")
	}
	if o := s.Questions[1].AllOptions(); len(o) != 2 || o[0].Value != "yes" || o[1].Key != "2" {
		t.Errorf("yesno defaults %+v", o)
	}
	if lo, hi, _, _ := s.Questions[2].Range(); lo != 1 || hi != 5 {
		t.Errorf("scale default %d-%d", lo, hi)
	}
	if s.Questions[3].MaxSeconds != 60 {
		t.Error("max_seconds default")
	}
}

func TestParseErrors(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{"", "x.yaml:1: error: the file is empty"},
		{"- a\n- b\n", `the survey should be a list of "name: value" lines`},
		{"id: a b\nconsent: ok\nquestions: [{id: q, ask: q, answer: words}]", `the survey id "a b" can only have letters, digits and dashes (try "a-b")`},
		{"id: a\nquestions: [{id: q, ask: q, answer: words}]", `the survey needs a "consent"`},
		{"id: a\nconsent: ok\nquestions: [{id: q, ask: q, answer: words}]\nphrases: {progres: x}", `x.yaml:4: error: "phrases" has no phrase called "progres" (did you mean "progress"?)`},
		{"id: a\nconsent: ok\nquestions: [{id: q, ask: q, answer: yesno, options: [{value: yes}, {value: nah}]}]", `its options must be exactly one with value "yes" and one with value "no"`},
		{"id: a\nconsent: ok\nquestions: [{id: q, ask: q, answer: choice, options: [{value: a, key: 1}, {value: b, key: 1}]}]", `question "q" has two options with key 1 (the other is on line 3)`},
		{"id: a\nconsent: ok\nquestions: [{id: q, ask: q, options: [a]}]", `question "q" needs at least 2 options`},
		{"id: a\nconsent: ok\nquestions: [{id: end, ask: q, answer: words}]", `a question cannot be called "end"`},
		{"id: a\nconsent: ok\nquestions: [{id: q, ask: q, answer: scale, max: 20}]", `is a scale from 1 to 20`},
		{"id: a\nconsent: ok\nquestions: [{id: q, ask: q, answer: words, then: {yes: end}}]", `a words question can only use "else"`},
		{"id: a\nconsent: ok\nquestions: [{id: q, ask: q, answer: yesno, options: x}]", `"options" should be a list`},
		{"id: a\nconsent: ok\nid: b\nquestions: [{id: q, ask: q, answer: words}]", `x.yaml:3: error: the survey has "id" twice (the first is on line 1)`},
		{"id: a\nconsent: ok\nquestions: [{id: q, ask: q, answer: words}]\ntranslations: {en-GB: {intro: hi}}", `translation "en-GB" is the survey's own language`},
		{"id: a\nconsent: ok\nquestions: [{id: q, ask: q, answer: choice, options: [{value: a, emoji: [x]}, b]}]", `has "x" in "emoji", but that is not an emoji`},
		{"id: a\nconsent: ok\nstart: {keywords: [HELP]}\nquestions: [{id: q, ask: q, answer: words}]", `keyword "HELP" cannot start a survey: the phone network treats it as HELP`},
	} {
		_, err := Parse("x.yaml", []byte(c.src))
		var ds Diagnostics
		if !errors.As(err, &ds) {
			t.Errorf("%q: want Diagnostics, got %v", c.src, err)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q:\n got %s\nwant %s", c.src, err, c.want)
		}
		for _, d := range ds {
			if d.Line < 1 || d.File != "x.yaml" || d.Severity != Error {
				t.Errorf("bad diagnostic %+v", d)
			}
		}
	}
}

func TestDiagnosticString(t *testing.T) {
	d := Diagnostic{File: "a.yaml", Line: 3, Severity: Warning, Message: "m"}
	if d.String() != "a.yaml:3: warning: m" {
		t.Error(d.String())
	}
	ds := Diagnostics{d, {File: "a.yaml", Line: 4, Message: "n"}}
	if ds.Error() != "a.yaml:3: warning: m\na.yaml:4: error: n" || !ds.HasErrors() || len(ds.Warnings()) != 1 {
		t.Error(ds.Error())
	}
}

func TestSuggest(t *testing.T) {
	ids := []string{"why-not", "staff", "happy"}
	for in, want := range map[string]string{"whynot": "why-not", "Why_Not": "why-not", "staf": "staff", "zebra": "", "hapy": "happy"} {
		if got := suggest(in, ids); got != want {
			t.Errorf("suggest(%q) = %q want %q", in, got, want)
		}
	}
}

// The format guide for charity staff shows the demo survey and every phrase.
func TestDocsMatchCode(t *testing.T) {
	doc, err := os.ReadFile("../docs/surveys.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), string(DemoYAML)) {
		t.Error("docs/surveys.md does not show the current demo survey")
	}
	for _, k := range PhraseNames() {
		if !strings.Contains(string(doc), "| `"+k+"` |") {
			t.Errorf("docs/surveys.md does not list phrase %q", k)
		}
	}
	for _, k := range append(append(append([]string{}, surveyKeys...), questionKeys...), optionKeys...) {
		if !strings.Contains(string(doc), "`"+k+"`") {
			t.Errorf("docs/surveys.md does not explain key %q", k)
		}
	}
}
