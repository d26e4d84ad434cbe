package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/haveyoursay/haveyoursay/phonesim"
	"github.com/haveyoursay/haveyoursay/store"
	"github.com/haveyoursay/haveyoursay/store/storetest"
	"github.com/haveyoursay/haveyoursay/survey"
)

func TestSendCommand(t *testing.T) {
	ctx := context.Background()
	_, sim, env := sendFixture(t)
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

// sendFixture is a database with the demo survey and the Twilio emulator,
// and the environment the send command reads.
func sendFixture(t *testing.T) (*store.DB, *phonesim.Emulator, map[string]string) {
	t.Helper()
	ctx := context.Background()
	dbURL := storetest.DatabaseURL(t)
	db := storetest.Open(t, dbURL)
	if err := db.MigrateRiver(ctx); err != nil {
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
	return db, sim, env
}

func TestSendWithTheWrongTokenKeepsTheTexts(t *testing.T) {
	ctx := context.Background()
	db, sim, env := sendFixture(t)
	file := filepath.Join(t.TempDir(), "people.csv")
	if err := os.WriteFile(file, []byte("phone\n07700 900011\n07700 900012\n07700 900013\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"--survey", "day-service", "--to", file}
	rightToken := env["TWILIO_AUTH_TOKEN"]
	env["TWILIO_AUTH_TOKEN"] = "ffffffffffffffffffffffffffffffff"
	var stdout, stderr bytes.Buffer
	start := time.Now()
	err := cmdSend(ctx, args, func(k string) string { return env[k] }, nil, &stdout, &stderr)
	const sentence = "Twilio did not accept our account details: check TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN."
	var ee exitError
	if !errors.As(err, &ee) || exitCode(err) != 1 || !strings.Contains(err.Error(), sentence) {
		t.Fatalf("send with the wrong token: %v (exit %d)\nstdout %q\nstderr %q", err, exitCode(err), stdout.String(), stderr.String())
	}
	if time.Since(start) > 20*time.Second {
		t.Errorf("the command took %v to notice", time.Since(start))
	}
	if strings.Contains(stdout.String()+err.Error(), "Authenticate") {
		t.Errorf("Twilio's own words were shown: %q %q", stdout.String(), err)
	}
	var failed, pending int
	if err := storetest.SQL(t, db).QueryRow(ctx, `SELECT count(*) FILTER (WHERE status = 'failed'), count(*) FILTER (WHERE status = 'pending')
		FROM outbound`).Scan(&failed, &pending); err != nil {
		t.Fatal(err)
	}
	if failed != 0 || pending != 3 || len(sim.Sent()) != 0 {
		t.Fatalf("after the wrong token: %d failed, %d pending, %d sent; want 0, 3, 0", failed, pending, len(sim.Sent()))
	}
	t.Log("\n" + stdout.String() + err.Error())

	// With the right token the same command texts them, once each.
	env["TWILIO_AUTH_TOKEN"] = rightToken
	stdout.Reset()
	stderr.Reset()
	if err := cmdSend(ctx, args, func(k string) string { return env[k] }, nil, &stdout, &stderr); err != nil {
		t.Fatalf("send with the right token: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stdout.String(), `3 people in this list have now been invited to "Your day service".`) || strings.Contains(stdout.String(), "Nobody new") {
		t.Errorf("second run: %q", stdout.String())
	}
	for _, n := range []string{"+447700900011", "+447700900012", "+447700900013"} {
		if got := len(sim.SentTo(n)); got != 1 {
			t.Errorf("%s texted %d times, want 1", n, got)
		}
	}
	t.Log("\n" + stdout.String())
}

func TestSendListWithNoNumbers(t *testing.T) {
	ctx := context.Background()
	_, sim, env := sendFixture(t)
	dir := t.TempDir()
	for name, content := range map[string]string{"empty.csv": "", "heading.csv": "phone\n", "blank.csv": "\n\n"} {
		file := filepath.Join(dir, name)
		if err := os.WriteFile(file, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		var stdout, stderr bytes.Buffer
		err := cmdSend(ctx, []string{"--survey", "day-service", "--to", file}, func(k string) string { return env[k] }, nil, &stdout, &stderr)
		if exitCode(err) != 1 || err == nil || !strings.Contains(err.Error(), "There are no phone numbers in "+file+".") {
			t.Errorf("%s: %v (exit %d)", name, err, exitCode(err))
		}
		if stdout.String() != "" {
			t.Errorf("%s: printed %q; want only that there are no numbers", name, stdout.String())
		}
	}
	if len(sim.Sent()) != 0 {
		t.Fatal("texts were sent")
	}
}

func TestSendReportsAnUnclosedQuote(t *testing.T) {
	ctx := context.Background()
	_, sim, env := sendFixture(t)
	file := filepath.Join(t.TempDir(), "people.csv")
	csv := "name,phone\nSam,07700 900021\nAl,07700 900022\nJo,07700 900023\nKim,07700 900024\nLee,07700 900025\n\"Mo,07700 900026\nBo,07700 900027\n"
	if err := os.WriteFile(file, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if err := cmdSend(ctx, []string{"--survey", "day-service", "--to", file}, func(k string) string { return env[k] }, nil, &stdout, &stderr); err != nil {
		t.Fatalf("send: %v\n%s", err, stderr.String())
	}
	want := file + `:7: this line has a quote mark (") that is not closed.`
	if !strings.Contains(stdout.String(), want) || strings.Contains(stdout.String(), "has no number") {
		t.Errorf("summary %q does not contain %q", stdout.String(), want)
	}
	if len(sim.Sent()) != 6 || len(sim.SentTo("+447700900027")) != 1 {
		t.Errorf("%d texts sent; want 6, including line 8", len(sim.Sent()))
	}
}

// refusingAPI puts a Twilio API in front of the emulator that refuses texts
// to the numbers refuse picks with a Twilio error code, until allow is
// called. It returns allow and the API's address.
func refusingAPI(t *testing.T, sim *phonesim.Emulator, code int, refuse func(to string) bool) (allow func(), apiURL string) {
	t.Helper()
	var mu sync.Mutex
	api := sim.APIHandler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/Messages.json") && r.ParseForm() == nil {
			mu.Lock()
			no := refuse != nil && refuse(r.PostForm.Get("To"))
			mu.Unlock()
			if no {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusBadRequest)
				fmt.Fprintf(w, `{"code": %d, "message": "The 'From' number is not allowed here", "more_info": "https://www.twilio.com/docs/errors/%d", "status": 400}`, code, code)
				return
			}
		}
		api.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return func() { mu.Lock(); refuse = nil; mu.Unlock() }, srv.URL
}

func countOutbound(t *testing.T, db *store.DB) (failed, pending int) {
	t.Helper()
	if err := storetest.SQL(t, db).QueryRow(context.Background(), `SELECT count(*) FILTER (WHERE status = 'failed'),
		count(*) FILTER (WHERE status = 'pending') FROM outbound`).Scan(&failed, &pending); err != nil {
		t.Fatal(err)
	}
	return failed, pending
}

func TestSendStopsWhenTwilioWillNotSendFromOurNumber(t *testing.T) {
	ctx := context.Background()
	db, sim, env := sendFixture(t)
	allow, apiURL := refusingAPI(t, sim, 21606, func(string) bool { return true })
	env["TWILIO_API_URL"] = apiURL
	file := filepath.Join(t.TempDir(), "people.csv")
	if err := os.WriteFile(file, []byte("phone\n07700 900041\n07700 900042\n07700 900043\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"--survey", "day-service", "--to", file}
	var stdout, stderr bytes.Buffer
	start := time.Now()
	err := cmdSend(ctx, args, func(k string) string { return env[k] }, nil, &stdout, &stderr)
	const sentence = "Twilio will not send from this number: check TWILIO_SMS_FROM or the survey's number, and that it can send texts."
	if exitCode(err) != 1 || err == nil || !strings.HasPrefix(err.Error(), sentence+"\n") ||
		!strings.Contains(err.Error(), "Sent 0 of 3. The 3 texts not sent are kept: run the same command again") {
		t.Fatalf("send from a number Twilio refuses: %v (exit %d)\nstdout %q\nstderr %q", err, exitCode(err), stdout.String(), stderr.String())
	}
	if time.Since(start) > 20*time.Second {
		t.Errorf("the command took %v to stop", time.Since(start))
	}
	if strings.Contains(stdout.String()+err.Error(), "'From'") {
		t.Errorf("Twilio's own words were shown: %q %q", stdout.String(), err)
	}
	if failed, pending := countOutbound(t, db); failed != 0 || pending != 3 || len(sim.Sent()) != 0 {
		t.Fatalf("after Twilio refused our number: %d failed, %d pending, %d sent; want 0, 3, 0", failed, pending, len(sim.Sent()))
	}
	var code int
	var reason string
	if err := storetest.SQL(t, db).QueryRow(ctx, `SELECT max(error_code), max(reason) FROM outbound WHERE error_code IS NOT NULL`).Scan(&code, &reason); err != nil ||
		code != 21606 || reason != sentence {
		t.Fatalf("the rows say %d %q (%v); want Twilio's code and what to fix", code, reason, err)
	}
	t.Log("\n" + err.Error())

	// Fixed, the same command texts everyone once.
	allow()
	stdout.Reset()
	if err := cmdSend(ctx, args, func(k string) string { return env[k] }, nil, &stdout, &stderr); err != nil {
		t.Fatalf("send once fixed: %v\n%s", err, stderr.String())
	}
	for _, n := range []string{"+447700900041", "+447700900042", "+447700900043"} {
		if got := len(sim.SentTo(n)); got != 1 {
			t.Errorf("%s texted %d times, want 1", n, got)
		}
	}
}

func TestSendCarriesOnPastACountryNotSwitchedOn(t *testing.T) {
	ctx := context.Background()
	db, sim, env := sendFixture(t)
	allow, apiURL := refusingAPI(t, sim, 21408, func(to string) bool { return strings.HasPrefix(to, "+1") })
	env["TWILIO_API_URL"] = apiURL
	file := filepath.Join(t.TempDir(), "people.csv")
	if err := os.WriteFile(file, []byte("phone\n07700 900051\n+1 415 555 2671\n07700 900052\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"--survey", "day-service", "--to", file}
	var stdout, stderr bytes.Buffer
	start := time.Now()
	err := cmdSend(ctx, args, func(k string) string { return env[k] }, nil, &stdout, &stderr)
	const sentence = "Texts to this country are not switched on for our Twilio account: turn it on under Messaging > Settings > Geo permissions in the Twilio console."
	if exitCode(err) != 1 || err == nil || !strings.HasPrefix(err.Error(), sentence+"\n  line 3 ") ||
		!strings.Contains(err.Error(), "Sent 2 of 3. The 1 text not sent is kept: run the same command again once this is fixed, and it will be sent.") {
		t.Fatalf("send with a country not switched on: %v (exit %d)\nstdout %q\nstderr %q", err, exitCode(err), stdout.String(), stderr.String())
	}
	if time.Since(start) > 20*time.Second {
		t.Errorf("the command took %v; it should not wait for texts held for our setup", time.Since(start))
	}
	// The rest of the list went, and the summary does not blame the member.
	if out := stdout.String(); !strings.Contains(out, `Invited 2 people to "Your day service".`) ||
		strings.Contains(out, "could not be texted") || strings.Contains(out, "still to be texted") {
		t.Errorf("summary %q", out)
	}
	if failed, pending := countOutbound(t, db); failed != 0 || pending != 1 || len(sim.Sent()) != 2 || len(sim.SentTo("+14155552671")) != 0 {
		t.Fatalf("%d failed, %d pending, %d sent; want 0, 1, 2 (not the US number)", failed, pending, len(sim.Sent()))
	}
	t.Log("\n" + stdout.String() + err.Error())

	// Switched on, the same command texts that number, and nobody twice.
	allow()
	stdout.Reset()
	if err := cmdSend(ctx, args, func(k string) string { return env[k] }, nil, &stdout, &stderr); err != nil {
		t.Fatalf("send once switched on: %v\n%s", err, stderr.String())
	}
	for _, n := range []string{"+447700900051", "+14155552671", "+447700900052"} {
		if got := len(sim.SentTo(n)); got != 1 {
			t.Errorf("%s texted %d times, want 1", n, got)
		}
	}
	t.Log("\n" + stdout.String())
}
