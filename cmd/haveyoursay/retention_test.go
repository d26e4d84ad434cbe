package main

import (
	"context"
	"strings"
	"testing"

	"github.com/haveyoursay/haveyoursay/store/storetest"
	"github.com/haveyoursay/haveyoursay/survey"
)

// TestRetentionCommand: a survey's own times are set, listed, put back to
// the default; a run deletes what is due and says how much.
func TestRetentionCommand(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := storetest.DatabaseURL(t)
	db := storetest.Open(t, url)
	s := survey.Demo()
	if _, _, err := db.SaveSurvey(ctx, s.ID, s.Title, string(survey.DemoYAML), "day-service.yaml"); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"DATABASE_URL": url, "HYS_RETAIN_RECORDINGS": "90d"}
	out, _, err := runOnce(t, []string{"retention", "set", "--survey", s.ID, "--answers", "1y"}, env)
	if err != nil || !strings.Contains(out, "keeps answers 365 days and recordings 90 days (default)") {
		t.Fatalf("set: %v %q", err, out)
	}
	out, _, err = runOnce(t, []string{"retention", "list"}, env)
	if err != nil || !strings.Contains(out, s.ID) || !strings.Contains(out, "365 days") || !strings.Contains(out, "2555 days (default)") {
		t.Fatalf("list: %v %q", err, out)
	}
	_, _, err = runOnce(t, []string{"retention", "set", "--survey", "nope", "--answers", "1y"}, env)
	if err == nil || !strings.Contains(err.Error(), `there is no survey "nope"`) {
		t.Errorf("an unknown survey: %v", err)
	}
	for _, args := range [][]string{{"retention", "set", "--survey", s.ID, "--answers", "soon"}, {"retention", "prune"}, {"retention", "set"}} {
		if _, _, err := runOnce(t, args, env); exitCode(err) != 2 {
			t.Errorf("%v: exit %d, %v", args, exitCode(err), err)
		}
	}
	out, _, err = runOnce(t, []string{"retention", "help"}, nil)
	if err != nil || !strings.Contains(out, "Usage:") {
		t.Errorf("help: %v %q", err, out)
	}
	storetest.SQL(t, db).Exec(ctx, `INSERT INTO participants (phone_hash, phone_enc, phone_masked, created_at) VALUES ('\x01', 'x', 'm', now() - interval '3 years')`)
	out, _, err = runOnce(t, []string{"retention", "run"}, env)
	if err != nil || !strings.Contains(out, "Deleted 0 conversations (0 answers, 0 texts), 0 recordings, 1 members with nothing left.") {
		t.Fatalf("run: %v %q", err, out)
	}
	if _, _, err := runOnce(t, []string{"retention", "set", "--survey", s.ID, "--answers", "default"}, env); err != nil {
		t.Fatal(err)
	}
	if e, _ := db.AuditLog(ctx, "survey:"+s.ID, 5); len(e) != 2 || e[0].Action != "set-retention" || e[0].Actor != "cli" {
		t.Errorf("audit: %+v", e)
	}
}
