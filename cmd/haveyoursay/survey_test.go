package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/haveyoursay/haveyoursay/survey"
)

func TestSurveyLint(t *testing.T) {
	out, _, err := runOnce(t, []string{"survey", "lint", "../../survey/demo/day-service.yaml"}, nil)
	if err != nil || strings.TrimSpace(out) != "day-service.yaml: no problems" {
		t.Fatalf("the demo survey should lint clean, saying so: err=%v\n%s", err, out)
	}
	out, _, err = runOnce(t, []string{"survey", "lint", "../../survey/testdata/short-breaks.yaml"}, nil)
	if exitCode(err) != 1 {
		t.Fatalf("a broken branch: exit %d, want 1", exitCode(err))
	}
	want := `short-breaks.yaml:22: error: question "happy" sends "no" to "whynot", but there is no question "whynot" (did you mean "why-not"?)`
	if !strings.Contains(out, want) {
		t.Fatalf("lint output lacks\n%s\ngot:\n%s", want, out)
	}
	checkLintSummary(t, out)
	_, _, err = runOnce(t, []string{"survey", "lint", "no-such-file.yaml"}, nil)
	if exitCode(err) != 1 {
		t.Fatalf("a missing file: exit %d, want 1", exitCode(err))
	}
	// Warnings alone pass, unless --strict.
	dir := t.TempDir()
	wordy := filepath.Join(dir, "wordy.yaml")
	src := strings.Replace(string(survey.DemoYAML), "How do you feel about your day service?",
		"How do you feel about the facilitation of activities and the general accessibility of your day service provision this year?", 1)
	os.WriteFile(wordy, []byte(src), 0o644)
	out, _, err = runOnce(t, []string{"survey", "lint", wordy}, nil)
	if err != nil || !strings.Contains(out, "warning") {
		t.Fatalf("warnings only: err=%v out=%s", err, out)
	}
	checkLintSummary(t, out)
	if _, _, err = runOnce(t, []string{"survey", "lint", "--strict", wordy}, nil); exitCode(err) != 1 {
		t.Fatalf("--strict with warnings: exit %d, want 1", exitCode(err))
	}
	// Things that cannot be a survey are refused, without reading them all.
	big := filepath.Join(dir, "big.yaml")
	os.WriteFile(big, []byte(strings.Repeat("# a comment\n", 200000)), 0o644)
	for file, says := range map[string]string{"/dev/zero": "this is not a file", dir: "this is not a file", big: "this file is too big to be a survey"} {
		out, _, err = runOnce(t, []string{"survey", "lint", file}, nil)
		if exitCode(err) != 1 || !strings.Contains(out, file+": error: "+says) {
			t.Errorf("lint %s: exit %d, %q", file, exitCode(err), out)
		}
	}
}

// checkLintSummary: lint's last line counts the errors and warnings it
// printed above it, e.g. "1 error, 3 warnings".
func checkLintSummary(t *testing.T, out string) {
	t.Helper()
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	errs, warns := 0, 0
	for _, l := range lines[:len(lines)-1] {
		switch {
		case strings.Contains(l, ": error: "):
			errs++
		case strings.Contains(l, ": warning: "):
			warns++
		}
	}
	want := plural(errs, "error", "errors") + ", " + plural(warns, "warning", "warnings")
	if last := lines[len(lines)-1]; last != want {
		t.Errorf("lint's last line is %q, want %q", last, want)
	}
	if !regexp.MustCompile(`^\d+ errors?, \d+ warnings?$`).MatchString(want) || (errs == 1) != strings.HasPrefix(want, "1 error,") {
		t.Errorf("the summary %q does not read right", want)
	}
}

func TestSurveyImportAndList(t *testing.T) {
	env := testEnv(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "day-service.yaml")
	os.WriteFile(file, survey.DemoYAML, 0o644)

	out, _, err := runOnce(t, []string{"survey", "list"}, env)
	if err != nil || !strings.Contains(out, "no surveys yet") {
		t.Fatalf("empty list: %v %q", err, out)
	}
	out, _, err = runOnce(t, []string{"survey", "import", file}, env)
	if err != nil || !strings.Contains(out, `saved survey "day-service" as version 1`) {
		t.Fatalf("import: %v %q", err, out)
	}
	out, _, err = runOnce(t, []string{"survey", "import", file}, env)
	if err != nil || !strings.Contains(out, "unchanged (version 1)") {
		t.Fatalf("import again: %v %q", err, out)
	}
	os.WriteFile(file, []byte(strings.Replace(string(survey.DemoYAML), "Your day service", "Our day service", 1)), 0o644)
	out, _, err = runOnce(t, []string{"survey", "import", file}, env)
	if err != nil || !strings.Contains(out, "version 2") {
		t.Fatalf("import a changed file: %v %q", err, out)
	}
	out, _, err = runOnce(t, []string{"survey", "list"}, env)
	if err != nil || !strings.Contains(out, "day-service") || !strings.Contains(out, "Our day service") {
		t.Fatalf("list: %v %q", err, out)
	}
	// A broken file is not imported, and says why.
	_, stderr, err := runOnce(t, []string{"survey", "import", "../../survey/testdata/short-breaks.yaml"}, env)
	if exitCode(err) != 1 || !strings.Contains(stderr, "whynot") || !strings.Contains(err.Error(), "Nothing was imported") {
		t.Fatalf("broken import: %v %q", err, stderr)
	}
	// A keyword another survey already has is refused: a text of DAYS
	// must start one survey, the same one every time.
	clash := filepath.Join(dir, "outings.yaml")
	os.WriteFile(clash, []byte(strings.NewReplacer("id: day-service", "id: outings", "[DAYS]", "[OUT, days]").Replace(string(survey.DemoYAML))), 0o644)
	_, stderr, err = runOnce(t, []string{"survey", "import", clash}, env)
	if exitCode(err) != 1 || !strings.Contains(stderr, `the keyword "DAYS" already starts survey "day-service"`) {
		t.Fatalf("keyword clash: %v %q", err, stderr)
	}
	out, _, _ = runOnce(t, []string{"survey", "list"}, env)
	if strings.Contains(out, "outings") {
		t.Fatalf("a survey with a clashing keyword was imported: %q", out)
	}
	// Changing a survey's own keywords is not a clash.
	os.WriteFile(clash, []byte(strings.NewReplacer("id: day-service", "id: outings", "[DAYS]", "[OUT]").Replace(string(survey.DemoYAML))), 0o644)
	if _, stderr, err = runOnce(t, []string{"survey", "import", file, clash}, env); err != nil {
		t.Fatalf("import two surveys: %v %q", err, stderr)
	}
}

// A stored survey that no longer loads (say, after an upgrade made the
// loader stricter) is named by `survey list` and /readyz, and the server
// starts and serves the others.
func TestABrokenSurveyDoesNotStopTheServer(t *testing.T) {
	env := testEnv(t)
	dir := t.TempDir()
	days := filepath.Join(dir, "day-service.yaml")
	os.WriteFile(days, survey.DemoYAML, 0o644)
	outings := filepath.Join(dir, "outings.yaml")
	os.WriteFile(outings, []byte(strings.NewReplacer("id: day-service", "id: outings", "[DAYS]", "[OUT]").Replace(string(survey.DemoYAML))), 0o644)
	if _, stderr, err := runOnce(t, []string{"survey", "import", days, outings}, env); err != nil {
		t.Fatalf("import: %v %s", err, stderr)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, env["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	_, err = conn.Exec(ctx, `UPDATE survey_versions SET source = replace(source, 'answer: scale', 'answer: stars') WHERE survey_id = 'outings'`)
	conn.Close(ctx)
	if err != nil {
		t.Fatal(err)
	}

	out, _, err := runOnce(t, []string{"survey", "list"}, env)
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	for _, want := range []string{"outings (does not load)", `Survey "outings" (version 1) does not load`, `"stars"`, "day-service "} {
		if !strings.Contains(out, want) {
			t.Errorf("survey list lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "day-service (does not load)") {
		t.Errorf("survey list says the good survey does not load:\n%s", out)
	}

	base, _ := start(t, []string{"serve"}, env)
	resp, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var ready struct {
		Ready            bool
		SurveysNotLoaded []string `json:"surveys_not_loaded"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&ready); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !ready.Ready || len(ready.SurveysNotLoaded) != 1 || ready.SurveysNotLoaded[0] != "outings" {
		t.Fatalf("/readyz = %d %+v, want 200 naming outings", resp.StatusCode, ready)
	}
}
