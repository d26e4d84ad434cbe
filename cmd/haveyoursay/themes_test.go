package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/haveyoursay/haveyoursay/store"
	"github.com/haveyoursay/haveyoursay/survey"
)

func TestThemesHelp(t *testing.T) {
	for _, args := range [][]string{{"themes", "help"}, {"themes", "-h"}, {"themes", "--help"}, {"themes", "import", "--help"}, {"themes", "lint", "-h"}} {
		out, _, err := runOnce(t, args, nil)
		if err != nil || !strings.Contains(out, "haveyoursay themes import FILE") {
			t.Errorf("%v: err=%v out=%q", args, err, out)
		}
	}
	_, _, err := runOnce(t, []string{"themes", "import", "--colour", "x"}, nil)
	if exitCode(err) != 2 || !strings.Contains(err.Error(), "colour") {
		t.Errorf("a wrong flag: %v (exit %d)", err, exitCode(err))
	}
	if _, _, err := runOnce(t, []string{"themes", "frobnicate"}, nil); exitCode(err) != 2 {
		t.Errorf("an unknown command: exit %d", exitCode(err))
	}
}

func TestThemesLint(t *testing.T) {
	out, _, err := runOnce(t, []string{"themes", "lint", "../../demo/themes.yaml", "../../survey/demo/day-service.yaml", "../../demo/surveys/your-home.yaml"}, nil)
	if err != nil || !strings.Contains(out, "9 theme(s), 0 warning(s)") {
		t.Fatalf("the demo themes cover the demo surveys: %v\n%s", err, out)
	}
	dir := t.TempDir()
	few := filepath.Join(dir, "few.yaml")
	os.WriteFile(few, []byte("themes:\n  - {id: staff, title: Kind staff}\n"), 0o644)
	out, _, err = runOnce(t, []string{"themes", "lint", few, "../../survey/demo/day-service.yaml"}, nil)
	if err != nil || !strings.Contains(out, `names the theme "ideas", which is not in the themes`) {
		t.Fatalf("an unknown theme warns: %v\n%s", err, out)
	}
	// survey lint --themes does the same.
	out, _, err = runOnce(t, []string{"survey", "lint", "--themes", few, "../../survey/demo/day-service.yaml"}, nil)
	if err != nil || !strings.Contains(out, `names the theme "day-service", which is not in the themes file`) {
		t.Fatalf("survey lint --themes: %v\n%s", err, out)
	}
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("themes:\n  - {id: a b}\n"), 0o644)
	out, _, err = runOnce(t, []string{"themes", "lint", bad}, nil)
	if exitCode(err) != 1 || !strings.Contains(out, `has no "title"`) {
		t.Fatalf("a broken file: %v\n%s", err, out)
	}
}

func TestThemesImport(t *testing.T) {
	env := testEnv(t)
	dir := t.TempDir()
	day := filepath.Join(dir, "day-service.yaml")
	os.WriteFile(day, survey.DemoYAML, 0o644)
	if _, stderr, err := runOnce(t, []string{"survey", "import", day}, env); err != nil {
		t.Fatalf("survey import: %v %s", err, stderr)
	}
	few := filepath.Join(dir, "few.yaml")
	os.WriteFile(few, []byte("themes:\n  - {id: staff, title: Kind staff}\n  - {id: ideas, title: My ideas are used}\n"), 0o644)
	out, _, err := runOnce(t, []string{"themes", "import", few}, env)
	if err != nil || !strings.Contains(out, "2 theme(s) added, 0 changed, 0 unchanged") {
		t.Fatalf("import: %v\n%s", err, out)
	}
	if !strings.Contains(out, `warning: question "feel" of survey "day-service" names the theme "day-service"`) {
		t.Fatalf("import warns about the surveys' other themes:\n%s", out)
	}
	os.WriteFile(few, []byte("themes:\n  - {id: staff, title: Staff who are kind, emoji: \"🤝\"}\n  - {id: ideas, title: My ideas are used}\n"), 0o644)
	out, _, err = runOnce(t, []string{"themes", "import", few}, env)
	if err != nil || !strings.Contains(out, "0 theme(s) added, 1 changed, 1 unchanged") {
		t.Fatalf("import again: %v\n%s", err, out)
	}
	out, _, err = runOnce(t, []string{"themes", "list"}, env)
	if err != nil || !strings.Contains(out, "🤝 Staff who are kind") || !strings.Contains(out, "ideas") {
		t.Fatalf("list: %v\n%s", err, out)
	}
	// A broken file changes nothing.
	os.WriteFile(few, []byte("themes:\n  - {id: staff}\n"), 0o644)
	_, stderr, err := runOnce(t, []string{"themes", "import", few}, env)
	if exitCode(err) != 1 || !strings.Contains(stderr, `has no "title"`) {
		t.Fatalf("broken import: %v %s", err, stderr)
	}
	out, _, _ = runOnce(t, []string{"themes", "list"}, env)
	if !strings.Contains(out, "Staff who are kind") {
		t.Fatalf("a broken import changed the themes:\n%s", out)
	}
}

// dev's demo "you said, we did": actions in every state and a finding,
// made once.
func TestDemoActions(t *testing.T) {
	env := testEnv(t)
	ctx := t.Context()
	db, err := openDB(ctx, envFrom(env))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := loadDemo(ctx, db, io.Discard); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	for range 2 {
		if err := loadDemoActions(ctx, db, now); err != nil {
			t.Fatal(err)
		}
	}
	acts, err := db.Actions(ctx, store.ActionFilter{})
	if err != nil || len(acts) != 4 {
		t.Fatalf("%d demo actions (%v), want 4, made once", len(acts), err)
	}
	states := map[string]bool{}
	for _, a := range acts {
		states[a.Status] = true
		if a.Status == store.ActionCannot && a.Reason == "" {
			t.Errorf("a demo action we cannot do has no reason")
		}
	}
	if len(states) != 4 {
		t.Errorf("demo actions in states %v, want all four", states)
	}
	if f, err := db.Findings(ctx, "day-service", ""); err != nil || len(f) != 1 {
		t.Errorf("demo findings: %v %v", f, err)
	}
	themes, err := db.Themes(ctx)
	if err != nil || len(themes) != 9 {
		t.Errorf("dev loads the demo themes: %d %v", len(themes), err)
	}
}
