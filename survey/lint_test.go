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
