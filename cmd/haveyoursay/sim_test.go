package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/haveyoursay/haveyoursay/phonesim"
	"github.com/haveyoursay/haveyoursay/store"
	"github.com/haveyoursay/haveyoursay/store/storetest"
	"github.com/haveyoursay/haveyoursay/survey"
)

// serveDemo starts `serve` on a fresh database holding the demo survey and
// returns the server's URL, the flags that sign like its Twilio account,
// and the database.
func serveDemo(t *testing.T) (string, []string, *store.DB) {
	t.Helper()
	env := testEnv(t)
	ctx := context.Background()
	db := storetest.Open(t, env["DATABASE_URL"])
	s := survey.Demo()
	if _, _, err := db.SaveSurvey(ctx, s.ID, s.Title, string(survey.DemoYAML), "day-service.yaml"); err != nil {
		t.Fatal(err)
	}
	base, _ := start(t, []string{"serve"}, env)
	flags := []string{"--url", base, "--public-url", env["PUBLIC_URL"],
		"--token", env["TWILIO_AUTH_TOKEN"], "--account", env["TWILIO_ACCOUNT_SID"]}
	return base, flags, db
}

// simulate runs `sim` with the lines a person would type.
func simulate(t *testing.T, args []string, lines ...string) (string, string, error) {
	t.Helper()
	var out, errOut syncBuffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// No environment: the flags say everything.
	err := cmdSim(ctx, args, envFrom(nil), strings.NewReader(strings.Join(lines, "\n")+"\n"), &out, &errOut)
	return out.String(), errOut.String(), err
}

// waitForAnswers polls until the journal has written n answers to Postgres.
func waitForAnswers(t *testing.T, db *store.DB, n int) {
	t.Helper()
	var got int
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if err := storetest.SQL(t, db).QueryRow(context.Background(), "SELECT count(*) FROM answers").Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got >= n {
			return
		}
	}
	t.Fatalf("%d answers stored after 30 s, want %d", got, n)
}

func TestSimTextsASurveyToTheEnd(t *testing.T) {
	_, flags, db := serveDemo(t)
	// Consent yes, feel Good, staff 4, days The same.
	out, stderr, err := simulate(t, append([]string{"sms", "--survey", "day-service"}, flags...), "1", "1", "4", "2")
	if err != nil {
		t.Fatalf("sim sms: %v\nstdout:\n%s\nstderr:\n%s", err, out, stderr)
	}
	for _, want := range []string{
		"you> DAYS\n",
		"them> Hello. This is Have Your Say.",
		"Reply with a number:\n      1 Good\n      2 OK\n      3 Not good",
		"You said: 4.",
		"them> You said: The same.\n      Thank you for your answers. Our team will read every one.",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the conversation lacks %q:\n%s", want, out)
		}
	}
	waitForAnswers(t, db, 3)
}

func TestSimPhonesASurveyToTheEnd(t *testing.T) {
	_, flags, db := serveDemo(t)
	// Consent yes, feel Not good, wait for the beep, record a sentence,
	// staff 5, days More, and no 0 at the last offer of a person.
	out, stderr, err := simulate(t, append([]string{"call", "--survey", "day-service"}, flags...),
		"1", "3", "", "More trips out please", "5", "1", "")
	if err != nil {
		t.Fatalf("sim call: %v\nstdout:\n%s\nstderr:\n%s", err, out, stderr)
	}
	for _, want := range []string{"Calling +447700900000", "phone> ", "say> ", "Thank you for your answers.", "The call has ended."} {
		if !strings.Contains(out, want) {
			t.Errorf("the call lacks %q:\n%s", want, out)
		}
	}
	waitForAnswers(t, db, 4)
}

func TestSimMistakes(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
		code int
	}{
		{nil, "say sms or call", 2},
		{[]string{"fax"}, "say sms or call", 2},
		{[]string{"sms", "--url", "localhost:8080"}, "--url", 2},
		{[]string{"sms", "--survey", "short-breaks"}, "set DATABASE_URL", 1},
		{[]string{"call", "extra"}, `unexpected "extra"`, 2},
	} {
		_, stderr, err := simulate(t, c.args)
		if err == nil || exitCode(err) != c.code || !strings.Contains(err.Error()+stderr, c.want) {
			t.Errorf("sim %q: err=%v (exit %d), stderr=%q; want exit %d saying %q", c.args, err, exitCode(err), stderr, c.code, c.want)
		}
	}
}

func TestSimExplainsAWrongToken(t *testing.T) {
	base, _, _ := serveDemo(t)
	_, _, err := simulate(t, []string{"sms", "--survey", "day-service", "--url", base, "--token", "wrongtoken"})
	if err == nil || !strings.Contains(err.Error(), "403") || !strings.Contains(err.Error(), "--token") {
		t.Fatalf("err = %v, want it to say 403 and to check --token", err)
	}
}

func TestBenchTextsAgainstTheServer(t *testing.T) {
	_, flags, db := serveDemo(t)
	var out, stderr syncBuffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	args := append([]string{"--members", "3", "--conversations", "6", "--sms", "1", "--json", "--seed", "5"}, flags...)
	if err := cmdBench(ctx, args, envFrom(nil), strings.NewReader(""), &out, &stderr); err != nil {
		t.Fatalf("bench: %v\n%s\n%s", err, out.String(), stderr.String())
	}
	var rep phonesim.LoadReport
	if err := json.Unmarshal([]byte(out.String()), &rep); err != nil {
		t.Fatalf("--json printed something else: %v\n%s", err, out.String())
	}
	if rep.Conversations != 6 || rep.Finished != 6 || rep.Errors != 0 {
		t.Fatalf("conversations %d, finished %d, errors %d %q", rep.Conversations, rep.Finished, rep.Errors, rep.ErrorSamples)
	}
	if len(rep.Kinds) != 1 || rep.Kinds[0].Kind != "sms" || rep.Kinds[0].P99ms <= 0 {
		t.Errorf("kinds %+v, want sms only, with latencies", rep.Kinds)
	}
	if rep.MemoryPeakBytes <= 0 {
		t.Errorf("the server's memory was not read from /metrics: %+v", rep)
	}
	// Each finished text conversation stores at least three answers.
	waitForAnswers(t, db, 18)

	var text syncBuffer
	args = append([]string{"--members", "1", "--conversations", "1", "--sms", "1"}, flags...)
	if err := cmdBench(ctx, args, envFrom(nil), strings.NewReader(""), &text, &stderr); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"1 finished", "WEBHOOK", "sms", "Server memory (resident):", "Errors: none."} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("the report lacks %q:\n%s", want, text.String())
		}
	}
}

func TestBenchRefusesAFarServer(t *testing.T) {
	var out, stderr syncBuffer
	err := cmdBench(context.Background(), []string{"--url", "https://feedback.example.org", "--conversations", "1"},
		envFrom(nil), strings.NewReader(""), &out, &stderr)
	if err == nil || !strings.Contains(err.Error(), "only runs against a server on this machine") {
		t.Fatalf("err = %v", err)
	}
}
