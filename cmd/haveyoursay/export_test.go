package main

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/haveyoursay/haveyoursay/store"
	"github.com/haveyoursay/haveyoursay/store/storetest"
	"github.com/haveyoursay/haveyoursay/survey"
)

func TestExportAndTokenCommandsExplainThemselves(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"export", "--help"}, {"export", "-h"}, {"export", "help"},
		{"token", "--help"}, {"token", "-h"}, {"token", "help"},
		{"token", "add", "--help"}, {"token", "list", "-h"}, {"token", "revoke", "help"},
	} {
		out, _, err := runOnce(t, args, map[string]string{})
		if err != nil || !strings.Contains(out, "Usage") {
			t.Errorf("%q: %v %q", args, err, out)
		}
	}
	if out, _, _ := runOnce(t, []string{"export", "--help"}, map[string]string{}); strings.Count(out, "\n  -with-numbers\n") != 1 {
		t.Errorf("export --help lists its flags once each: %q", out)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"export", "--bogus"}, ""},
		{[]string{"export", "--survey", "x"}, "which format"},
		{[]string{"export", "--survey", "x", "--format", "xlsx"}, `"xlsx" is not an export format`},
		{[]string{"export", "--survey", "x", "--format", "csv", "--since", "yesterday"}, `"yesterday" is not a date`},
		{[]string{"export", "--survey", "x", "--format", "csv", "--since", "2026-11-30", "--until", "2026-11-01"}, "before --since"},
		{[]string{"token", "add", "--name", "n", "--role", "admin"}, "--role viewer or --role staff"},
		{[]string{"token", "revoke"}, "--name"},
		{[]string{"token", "frob"}, `no command "frob"`},
	} {
		_, _, err := runOnce(t, c.args, map[string]string{})
		if exitCode(err) != 2 || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: exit %d %v, want 2 and %q", c.args, exitCode(err), err, c.want)
		}
	}
}

func TestExportCommand(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	env := testEnv(t)
	db := storetest.Open(t, env["DATABASE_URL"])
	s := survey.Demo()
	if _, _, err := db.SaveSurvey(ctx, s.ID, s.Title, string(survey.DemoYAML), "day-service.yaml"); err != nil {
		t.Fatal(err)
	}
	end := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	if err := db.SeedConversations(ctx, store.Seed{SurveyID: s.ID, Conversations: 30, End: end}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()

	// CSV to a file.
	out, stderr, err := runOnce(t, []string{"export", "--survey", s.ID, "--format", "csv", "--out", filepath.Join(dir, "a.csv")}, env)
	if err != nil || out != "" || !strings.Contains(stderr, "Exported 30 conversations (120 answers) of day-service as csv") {
		t.Fatalf("csv: %v out=%q stderr=%q", err, out, stderr)
	}
	b, err := os.ReadFile(filepath.Join(dir, "a.csv"))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(b, []byte("\uFEFF")))).ReadAll()
	if err != nil || len(rows) != 31 {
		t.Fatalf("%d rows, %v", len(rows), err)
	}
	if regexp.MustCompile(`\+?447700\d{6}`).Match(b) {
		t.Error("the CSV holds a phone number")
	}

	// JSON to standard output, one day only (the seed goes back a minute a
	// conversation from noon, so all 30 are on the 20th).
	out, _, err = runOnce(t, []string{"export", "--survey", s.ID, "--format", "json", "--since", "2026-11-20", "--until", "2026-11-20"}, env)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct{ Conversations []json.RawMessage }
	if err := json.Unmarshal([]byte(out), &doc); err != nil || len(doc.Conversations) != 30 {
		t.Fatalf("json: %v, %d conversations", err, len(doc.Conversations))
	}
	out, _, err = runOnce(t, []string{"export", "--survey", s.ID, "--format", "json", "--until", "2026-11-19"}, env)
	if err != nil || !strings.Contains(out, `"conversations":[]`) {
		t.Fatalf("json before the 19th: %v %q", err, out)
	}

	// Flow Results as a zip and as a folder.
	if _, _, err := runOnce(t, []string{"export", "--survey", s.ID, "--format", "floip", "--out", filepath.Join(dir, "p.zip")}, env); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.OpenReader(filepath.Join(dir, "p.zip"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
	}
	zr.Close()
	if strings.Join(names, ",") != "datapackage.json,flow-results-data.json" {
		t.Errorf("zip holds %q", names)
	}
	if _, _, err := runOnce(t, []string{"export", "--survey", s.ID, "--format", "floip", "--out", filepath.Join(dir, "pkg")}, env); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "pkg", "datapackage.json")); err != nil {
		t.Error(err)
	}

	// With numbers: allowed on the command line, and in the audit log.
	if _, _, err := runOnce(t, []string{"export", "--survey", s.ID, "--format", "csv", "--with-numbers", "--out", filepath.Join(dir, "n.csv")}, env); err == nil {
		// The seeded people have no real sealed number: reading one fails
		// with a sentence, and no half file is left.
		t.Error("an export of unreadable numbers succeeded")
	} else if !strings.Contains(err.Error(), "cannot be read") && !strings.Contains(err.Error(), "damaged") {
		t.Errorf("with numbers: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "n.csv")); !os.IsNotExist(err) {
		t.Error("a failed export left a file behind")
	}
	log, err := db.AuditLog(ctx, store.SurveySubject(s.ID), 20)
	if err != nil {
		t.Fatal(err)
	}
	formats := map[string]int{}
	for _, e := range log {
		if e.Action == store.AuditExport && e.Actor == "cli" {
			formats[e.Detail["format"].(string)]++
		}
	}
	if formats["csv"] != 2 || formats["json"] != 2 || formats["floip"] != 2 {
		t.Errorf("audit log exports %v", formats)
	}
	if log[0].Detail["with_numbers"] != true || log[0].Detail["failed"] != true {
		t.Errorf("the export with numbers was logged as %v", log[0].Detail)
	}

	// Unknown survey; missing secret.
	if _, _, err := runOnce(t, []string{"export", "--survey", "nope", "--format", "csv"}, env); err == nil || !strings.Contains(err.Error(), `There is no survey "nope"`) {
		t.Errorf("unknown survey: %v", err)
	}
	noKey := map[string]string{"DATABASE_URL": env["DATABASE_URL"]}
	if _, _, err := runOnce(t, []string{"export", "--survey", s.ID, "--format", "csv"}, noKey); err == nil || !strings.Contains(err.Error(), "HYS_SECRET_KEY") {
		t.Errorf("no secret: %v", err)
	}
}

func TestTokenCommand(t *testing.T) {
	t.Parallel()
	env := testEnv(t)
	db := storetest.Open(t, env["DATABASE_URL"])
	ctx := context.Background()
	out, _, err := runOnce(t, []string{"token", "list"}, env)
	if err != nil || !strings.Contains(out, "There are no API tokens yet") {
		t.Fatalf("list: %v %q", err, out)
	}
	out, stderr, err := runOnce(t, []string{"token", "add", "--name", "case-system", "--role", "staff"}, env)
	secret := strings.TrimSpace(out)
	if err != nil || !strings.HasPrefix(secret, store.TokenPrefix) || len(secret) < 40 || !strings.Contains(stderr, "not shown again") {
		t.Fatalf("add: %v %q %q", err, out, stderr)
	}
	tok, err := db.APITokenFor(ctx, secret)
	if err != nil || tok.Name != "case-system" || tok.Role != "staff" {
		t.Fatalf("token %+v %v", tok, err)
	}
	if _, _, err := runOnce(t, []string{"token", "add", "--name", "Case-System", "--role", "viewer"}, env); err == nil || !strings.Contains(err.Error(), "already in use") {
		t.Errorf("same name twice: %v", err)
	}
	out, _, err = runOnce(t, []string{"token", "list"}, env)
	if err != nil || !strings.Contains(out, "case-system") || !strings.Contains(out, "in use") || strings.Contains(out, secret) {
		t.Errorf("list: %v %q", err, out)
	}
	out, _, err = runOnce(t, []string{"token", "revoke", "--name", "case-system"}, env)
	if err != nil || !strings.Contains(out, "no longer works") {
		t.Fatalf("revoke: %v %q", err, out)
	}
	if _, err := db.APITokenFor(ctx, secret); err != store.ErrNotFound {
		t.Errorf("a revoked token still works: %v", err)
	}
	if _, _, err := runOnce(t, []string{"token", "revoke", "--name", "case-system"}, env); err == nil || !strings.Contains(err.Error(), "no token in use") {
		t.Errorf("revoke twice: %v", err)
	}
}
