package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/haveyoursay/haveyoursay/phonesim"
	"github.com/haveyoursay/haveyoursay/store"
	"github.com/haveyoursay/haveyoursay/store/storetest"
	"github.com/haveyoursay/haveyoursay/survey"
)

func TestSendCommand(t *testing.T) {
	ctx := context.Background()
	dbURL := storetest.DatabaseURL(t)
	db, err := store.OpenDB(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.MigrateRiver(ctx); err != nil { // until DB.Migrate does it
		t.Fatal(err)
	}
	if _, _, err := db.SaveSurvey(ctx, "day-service", "Your day service", string(survey.DemoYAML), "day-service.yaml"); err != nil {
		t.Fatal(err)
	}
	const sid, token = "AC0123456789abcdef0123456789abcdef", "0123456789abcdef0123456789abcdef"
	sim := phonesim.New(phonesim.Config{AccountSID: sid, AuthToken: token, WebhookBase: "http://127.0.0.1:1"})
	t.Cleanup(func() { sim.Close() })
	apiURL, err := sim.StartAPIServer()
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"DATABASE_URL": dbURL, "REDIS_URL": storetest.RedisURL(), "REDIS_PREFIX": storetest.RedisPrefix(t),
		"TWILIO_ACCOUNT_SID": sid, "TWILIO_AUTH_TOKEN": token, "PUBLIC_URL": "http://127.0.0.1:1",
		"HYS_SECRET_KEY": "a-send-command-secret-long-enough-1234", "TWILIO_API_URL": apiURL,
		"TWILIO_SMS_FROM": "+447700900100", "HYS_QUIET_HOURS": "off", "HYS_SMS_RATE": "100",
	}
	file := filepath.Join(t.TempDir(), "members.csv")
	csv := "Name,Mobile\nSam,07700 900001\nAlex,+447700900002\nJo,0770\nKim,07700900003\n"
	if err := os.WriteFile(file, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	args := []string{"--survey", "day-service", "--to", file}
	if err := cmdSend(ctx, args, func(k string) string { return env[k] }, nil, &stdout, &stderr); err != nil {
		t.Fatalf("send: %v\n%s", err, stderr.String())
	}
	for _, want := range []string{`Invited 3 people to "Your day service".`, "1 number could not be read: line 4 '0770' is too short."} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("summary %q does not contain %q", stdout.String(), want)
		}
	}
	if !strings.Contains(stderr.String(), "sent 3 of 3") {
		t.Errorf("progress %q", stderr.String())
	}
	if n := len(sim.Sent()); n != 3 {
		t.Fatalf("%d texts sent, want 3", n)
	}

	// The same list again texts nobody.
	stdout.Reset()
	if err := cmdSend(ctx, args, func(k string) string { return env[k] }, nil, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stdout.String(), "Nobody new to invite") || len(sim.Sent()) != 3 {
		t.Fatalf("second run: %q, %d sent", stdout.String(), len(sim.Sent()))
	}
	t.Log("\n" + stdout.String())

	// Usage mistakes say what is missing.
	if err := cmdSend(ctx, []string{"--survey", "day-service"}, func(string) string { return "" }, nil, &stdout, &stderr); err == nil ||
		!strings.Contains(err.Error(), "--to") {
		t.Errorf("no --to: %v", err)
	}
}
