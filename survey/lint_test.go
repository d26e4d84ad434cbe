package survey

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the lint .golden files in testdata")

// TestLintGolden lints every testdata/*.yaml and compares the output with
// the .golden file beside it. Run with -update to rewrite them.
func TestLintGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/*.yaml")
	if err != nil || len(files) < 5 {
		t.Fatalf("expected test surveys in testdata, got %v (%v)", files, err)
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			for _, d := range Lint(name, data, LintOptions{}) {
				b.WriteString(d.String())
				b.WriteByte('\n')
			}
			got := b.String()
			golden := strings.TrimSuffix(f, ".yaml") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -run TestLintGolden -update ./survey/)", err)
			}
			if got != string(want) {
				t.Errorf("lint output differs from %s\n--- got\n%s--- want\n%s", golden, got, want)
			}
		})
	}
}

func TestLintBranchTypoMessage(t *testing.T) {
	data, _ := os.ReadFile("testdata/short-breaks.yaml")
	want := `short-breaks.yaml:22: error: question "happy" sends "no" to "whynot", but there is no question "whynot" (did you mean "why-not"?)`
	for _, d := range Lint("short-breaks.yaml", data, LintOptions{}) {
		if d.String() == want {
			return
		}
	}
	t.Errorf("missing %q", want)
}

func TestLintCleanFiles(t *testing.T) {
	for _, f := range []string{"testdata/good.yaml"} {
		data, _ := os.ReadFile(f)
		if ds := Lint(f, data, LintOptions{}); len(ds) != 0 {
			t.Errorf("%s: want no diagnostics, got\n%s", f, ds.Error())
		}
	}
	if ds := Lint("day-service.yaml", DemoYAML, LintOptions{}); len(ds) != 0 {
		t.Errorf("demo survey: want no diagnostics, got\n%s", ds.Error())
	}
	if ds := Lint("easy-read.yaml", EasyReadYAML, LintOptions{}); len(ds) != 0 {
		t.Errorf("easy-read demo survey: want no diagnostics, got\n%s", ds.Error())
	}
}

func TestLintExitCodeSplit(t *testing.T) {
	data, _ := os.ReadFile("testdata/advice.yaml")
	ds := Lint("advice.yaml", data, LintOptions{})
	if ds.HasErrors() || len(ds.Warnings()) == 0 {
		t.Errorf("advice.yaml: want warnings only, got %d errors, %d warnings", len(ds.Errors()), len(ds.Warnings()))
	}
	data, _ = os.ReadFile("testdata/cycle.yaml")
	if ds := Lint("cycle.yaml", data, LintOptions{}); !ds.HasErrors() {
		t.Error("cycle.yaml: want errors")
	}
}

func TestLintSortedByLine(t *testing.T) {
	data, _ := os.ReadFile("testdata/short-breaks.yaml")
	ds := Lint("short-breaks.yaml", data, LintOptions{})
	for i := 1; i < len(ds); i++ {
		if ds[i].Line < ds[i-1].Line {
			t.Fatalf("not sorted: %v before %v", ds[i-1], ds[i])
		}
	}
}

func TestLintExtraHardWords(t *testing.T) {
	src := "id: x\nintro: Hello. This is about your respite.\nconsent: Is that OK?\nquestions:\n  - id: a\n    ask: Is respite good, bad, or something else?\n    answer: words\n"
	ds := Lint("x.yaml", []byte(src), LintOptions{ExtraHardWords: []string{"respite=short break"}})
	want := []string{
		`x.yaml:2: warning: the intro uses "respite": easy read uses everyday words (try "short break")`,
		`x.yaml:6: warning: question "a" uses "respite": easy read uses everyday words (try "short break")`,
	}
	if ds.Error() != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", ds.Error(), strings.Join(want, "\n"))
	}
	if ds := Lint("x.yaml", []byte(src), LintOptions{}); len(ds) != 0 {
		t.Errorf("without the extra word: %s", ds.Error())
	}
}

func TestLintSMSLength(t *testing.T) {
	long := strings.Repeat("Tell us. ", 30)
	src := "id: x\nintro: Hi.\nconsent: Is that OK?\nquestions:\n  - id: a\n    ask: " + long + "\n    answer: words\n"
	ds := Lint("x.yaml", []byte(src), LintOptions{})
	if len(ds) != 1 || !strings.Contains(ds[0].Message, `the text for question "a" takes 3 text messages`) {
		t.Errorf("got %s", ds.Error())
	}
	// emoji make a text UCS-2: 2 parts hold only 134 characters
	src = "id: x\nintro: Hi.\nconsent: Is that OK?\nsms_emoji: true\nquestions:\n  - id: a\n    ask: " + strings.Repeat("Good? ", 15) + "\n    options:\n      - {value: good, say: Good, emoji: [\"😀\"]}\n      - {value: bad, say: Bad, emoji: [\"🙁\"]}\n"
	ds = Lint("x.yaml", []byte(src), LintOptions{})
	if len(ds) != 1 || !strings.Contains(ds[0].Message, "emoji or special characters") {
		t.Errorf("got %s", ds.Error())
	}
}

// TestLintBuiltinPhrases lints a survey in each shipped language that
// changes nothing: every built-in phrase, in every language, with no
// warning.
func TestLintBuiltinPhrases(t *testing.T) {
	langs := make([]string, 0, len(BuiltinPhrases))
	for l := range BuiltinPhrases {
		langs = append(langs, l)
	}
	if len(langs) < 2 {
		t.Fatalf("shipped languages %v: want English and Welsh", langs)
	}
	for _, lang := range langs {
		src := "id: plain\ntitle: Your home\nlanguage: " + lang + "\nstart:\n  keywords: [HOME]\n" +
			"intro: Hello.\nconsent: OK?\nquestions:\n  - id: q\n    ask: How is it?\n    answer: words\n"
		ds := Lint("plain-"+lang+".yaml", []byte(src), LintOptions{})
		if len(ds) != 0 {
			t.Errorf("built-in phrases in %s: want no warnings, got\n%s", lang, ds)
		}
		// and the checks do look at them: one long phrase is reported
		bad := src + "phrases:\n  offer: \"Do you want us to ask a person from our team to call you on the phone later today?\"\n"
		if ds := Lint("bad-"+lang+".yaml", []byte(bad), LintOptions{}); len(ds) != 1 || !strings.Contains(ds[0].String(), `bad-`+lang+`.yaml:13: warning: phrase "offer" has a sentence of 19 words`) {
			t.Errorf("a long phrase in %s: got %s", lang, ds)
		}
	}
}

// TestWelshBookComplete: every English phrase has Welsh, so a Welsh call
// is Welsh from the first word to the last. A new phrase needs its Welsh
// here too (marked for a first-language speaker's check).
func TestWelshBookComplete(t *testing.T) {
	for _, id := range PhraseNames() {
		if WelshPhrases[id] == "" {
			t.Errorf("WelshPhrases has no %q: add it to survey/phrases_cy.go", id)
		}
	}
	for id := range WelshPhrases {
		if _, ok := DefaultPhrases[id]; !ok {
			t.Errorf("WelshPhrases has %q, which DefaultPhrases does not", id)
		}
	}
}

// TestLintReadsWhatMembersRead: idioms, "I", numbers that do not agree,
// a question whose words offer other choices than its menu, and leading
// questions, in a survey's words and in the phrases it changes.
func TestLintReadsWhatMembersRead(t *testing.T) {
	src := `id: x
language: en-GB
intro: Hello. There are 3 questions. Let's start.
consent: Is that OK?
questions:
  - id: a
    ask: Is your club good or bad?
    answer: choice
    options: [Good, OK, Bad]
  - id: b
    ask: Are the staff kind? Pick a number.
    answer: scale
thanks: I will read them soon.
phrases:
  voice-minutes: "It takes about 1 minutes."
  retry: "Sorry, we did not get that."
`
	var got []string
	for _, d := range Lint("x.yaml", []byte(src), LintOptions{ExtraHardWords: []string{"club night=evening at the club"}}) {
		got = append(got, d.String())
	}
	all := strings.Join(got, "\n")
	for _, want := range []string{
		`x.yaml:3: warning: the intro uses "let's": easy read avoids idioms`,
		`x.yaml:3: warning: the intro says there are 3 questions, but the survey asks 2`,
		`x.yaml:7: warning: question "a" offers 2 answers in its words ("Is your club good or bad?") but its menu has 3`,
		`x.yaml:11: warning: question "b" uses "pick a number"`,
		`x.yaml:11: warning: question "b" is a yes/no question that may lead people to one answer`,
		`x.yaml:11: warning: question "b" asks a yes or no question ("Are the staff kind?") but the answer is a number`,
		`x.yaml:13: warning: the thanks uses "soon"`,
		`x.yaml:13: warning: the thanks says "I": we speak as "we" throughout`,
		`x.yaml:15: warning: phrase "voice-minutes" counts wrongly: "1 minutes" should be "1 minute"`,
		`x.yaml:16: warning: phrase "retry" uses "did not get that"`,
	} {
		if !strings.Contains(all, want) {
			t.Errorf("missing %q in\n%s", want, all)
		}
	}
}

// A survey may change any phrase, the call's own words too (voice-notice
// was once refused), per language; PhraseCount picks the "-one" form.
func TestSurveyChangesAnyPhrase(t *testing.T) {
	s, err := Parse("p.yaml", []byte(`id: p
language: en-GB
consent: OK?
questions:
  - {id: q, ask: "How is it?", answer: words}
phrases:
  voice-notice: "Hello. This is {org}. We record calls."
translations:
  cy:
    phrases:
      voice-notice: "Helo. {org} sydd yma."
`))
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Phrase("en-GB", "voice-notice", "org", "Oakfield"); got != "Hello. This is Oakfield. We record calls." {
		t.Errorf("en-GB: %q", got)
	}
	if got := s.Phrase("cy", "voice-notice", "org", "Oakfield"); got != "Helo. Oakfield sydd yma." {
		t.Errorf("cy: %q", got)
	}
	if got := s.Phrase("cy", "thanks"); got != WelshPhrases["thanks"] {
		t.Errorf("cy thanks from the Welsh book: %q", got)
	}
	if got := s.PhraseCount("en-GB", "voice-minutes", 1, "minutes", "1"); got != "It takes about 1 minute." {
		t.Errorf("1 minute: %q", got)
	}
	if got := s.PhraseCount("en-GB", "voice-minutes", 3, "minutes", "3"); got != "It takes about 3 minutes." {
		t.Errorf("3 minutes: %q", got)
	}
	if got := Phrase("cy-GB", "offer"); got != WelshPhrases["offer"] {
		t.Errorf("no survey, cy-GB: %q", got)
	}
}
