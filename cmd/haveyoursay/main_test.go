package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/haveyoursay/haveyoursay/store/storetest"
)

// syncBuffer is a bytes.Buffer safe to write from the server goroutine while
// the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func envFrom(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// testEnv is a complete production environment on a fresh database.
func testEnv(t *testing.T) map[string]string {
	return map[string]string{
		"DATABASE_URL":       storetest.DatabaseURL(t),
		"REDIS_URL":          storetest.RedisURL(),
		"REDIS_PREFIX":       storetest.RedisPrefix(t),
		"TWILIO_ACCOUNT_SID": "AC0123456789abcdef0123456789abcdef",
		"TWILIO_AUTH_TOKEN":  "0123456789abcdef0123456789abcdef",
		"PUBLIC_URL":         "https://feedback.example.org",
		"HYS_SECRET_KEY":     "this-is-a-test-secret-of-enough-length",
		"LISTEN_ADDR":        "127.0.0.1:0",
		"HYS_SPOOL_DIR":      t.TempDir(),
		"HYS_DRAIN_PERIOD":   "0s",
	}
}

var listening = regexp.MustCompile(`listening on (http://\S+)`)

// start runs the command in the background and returns the base URL once
// /healthz answers, and a function that stops it and returns run's error.
func start(t *testing.T, args []string, env map[string]string) (string, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, envFrom(env), strings.NewReader(""), &stdout, &stderr) }()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-done:
			cancel()
			t.Fatalf("%v exited early: %v\nstdout: %s\nstderr: %s", args, err, stdout.String(), stderr.String())
		default:
		}
		if m := listening.FindStringSubmatch(stdout.String()); m != nil {
			resp, err := http.Get(m[1] + "/healthz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					var once sync.Once
					var stopErr error
					stop := func() error {
						once.Do(func() {
							cancel()
							select {
							case stopErr = <-done:
							case <-time.After(30 * time.Second):
								t.Error("the server did not stop within 30 s")
							}
						})
						return stopErr
					}
					t.Cleanup(func() { stop() })
					return m[1], stop
				}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	t.Fatalf("%v never became healthy\nstdout: %s\nstderr: %s", args, stdout.String(), stderr.String())
	return "", nil
}

func runOnce(t *testing.T, args []string, env map[string]string) (stdout, stderr string, err error) {
	t.Helper()
	var o, e syncBuffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err = run(ctx, args, envFrom(env), strings.NewReader(""), &o, &e)
	return o.String(), e.String(), err
}

func TestServeWithEmptyEnvironment(t *testing.T) {
	_, stderr, err := runOnce(t, []string{"serve"}, nil)
	if err == nil || exitCode(err) != 1 {
		t.Fatalf("serve with no settings: err=%v code=%d, want exit 1", err, exitCode(err))
	}
	first := strings.SplitN(stderr, "\n", 2)[0]
	if !strings.HasPrefix(first, "DATABASE_URL is not set") || !strings.Contains(first, "postgres://") {
		t.Fatalf("first line should name DATABASE_URL and show its shape, got %q", first)
	}
	for _, name := range []string{"REDIS_URL", "TWILIO_AUTH_TOKEN", "PUBLIC_URL", "HYS_SECRET_KEY"} {
		if !strings.Contains(stderr, name) {
			t.Errorf("stderr does not name %s:\n%s", name, stderr)
		}
	}
	if strings.Contains(stderr, "goroutine") || strings.Contains(stderr, "panic") {
		t.Errorf("a user mistake printed a stack trace:\n%s", stderr)
	}
}

func TestServeRejectsMalformedSettings(t *testing.T) {
	good := map[string]string{
		"DATABASE_URL":       "postgres://u@localhost/db",
		"REDIS_URL":          "redis://localhost:6379/0",
		"TWILIO_ACCOUNT_SID": "AC0123456789abcdef0123456789abcdef",
		"TWILIO_AUTH_TOKEN":  "0123456789abcdef0123456789abcdef",
		"PUBLIC_URL":         "https://feedback.example.org",
		"HYS_SECRET_KEY":     "this-is-a-test-secret-of-enough-length",
	}
	cases := []struct{ name, value, want string }{
		{"DATABASE_URL", "mysql://localhost/db", "DATABASE_URL does not look right"},
		{"REDIS_URL", "localhost:6379", "REDIS_URL does not look right"},
		{"TWILIO_AUTH_TOKEN", "not a token!", "TWILIO_AUTH_TOKEN does not look right"},
		{"PUBLIC_URL", "feedback.example.org", "PUBLIC_URL does not look right"},
		{"HYS_SECRET_KEY", "short", "HYS_SECRET_KEY is too short"},
		{"LISTEN_ADDR", "8080", "LISTEN_ADDR does not look right"},
		// Read with the time zone, still before anything starts.
		{"HYS_OFFICE_HOURS", "whenever", "HYS_OFFICE_HOURS does not look right"},
		{"HYS_OFFICE_HOURS", "Mon-Fri 17:00-09:00", "HYS_OFFICE_HOURS does not look right"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			env := map[string]string{}
			for k, v := range good {
				env[k] = v
			}
			env[c.name] = c.value
			_, stderr, err := runOnce(t, []string{"serve"}, env)
			if exitCode(err) != 1 {
				t.Fatalf("exit code %d, want 1", exitCode(err))
			}
			if strings.TrimSpace(stderr) == "" || !strings.HasPrefix(stderr, c.want) {
				t.Fatalf("stderr = %q, want it to start with %q", stderr, c.want)
			}
		})
	}
}

func TestServeRefusesOutOfDateSchema(t *testing.T) {
	env := testEnv(t)
	// A brand-new, empty database: nothing migrated.
	env["DATABASE_URL"] = emptyDatabase(t)
	_, _, err := runOnce(t, []string{"serve"}, env)
	if err == nil || !strings.Contains(err.Error(), "haveyoursay migrate") {
		t.Fatalf("serve on an empty database: %v, want a message saying to run migrate", err)
	}
	out, _, err := runOnce(t, []string{"migrate"}, env)
	if err != nil {
		t.Fatalf("migrate: %v", err)
	}
	if !strings.Contains(out, "applied") {
		t.Fatalf("migrate printed %q", out)
	}
	out, _, err = runOnce(t, []string{"migrate"}, env)
	if err != nil || !strings.Contains(out, "already up to date") {
		t.Fatalf("second migrate: %v %q", err, out)
	}
	base, stop := start(t, []string{"serve"}, env)
	resp, err := http.Get(base + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("/readyz = %d, want 200", resp.StatusCode)
	}
	if err := stop(); err != nil {
		t.Fatalf("graceful stop: %v", err)
	}
}

func TestServeEndpoints(t *testing.T) {
	env := testEnv(t)
	base, _ := start(t, []string{"serve"}, env)
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s = %d: %s", path, resp.StatusCode, body)
		}
		if path == "/metrics" {
			for _, want := range []string{`hys_http_requests_total{code="200",method="GET",route="/healthz"}`, "hys_pg_pool_connections"} {
				if !strings.Contains(string(body), want) {
					t.Errorf("/metrics lacks %s", want)
				}
			}
		}
	}
	// Someone opening a webhook in a browser, or a typo: a sentence.
	for _, c := range []struct{ method, path, allow, says string }{
		{http.MethodGet, "/twilio/sms", "POST", "It is for Twilio"},
		{http.MethodDelete, "/healthz", "GET", "Use GET"},
		{http.MethodGet, "/no-such-page", "", "There is nothing at this address."},
	} {
		req, _ := http.NewRequest(c.method, base+c.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		want := http.StatusMethodNotAllowed
		if c.allow == "" {
			want = http.StatusNotFound
		}
		if resp.StatusCode != want || !strings.Contains(string(body), c.says) || !strings.HasPrefix(resp.Header.Get("Allow"), c.allow) {
			t.Errorf("%s %s = %d Allow %q: %s", c.method, c.path, resp.StatusCode, resp.Header.Get("Allow"), body)
		}
	}
}

func TestUnknownCommand(t *testing.T) {
	_, _, err := runOnce(t, []string{"frobnicate"}, nil)
	if exitCode(err) != 2 || !strings.Contains(err.Error(), `no command "frobnicate"`) || !strings.Contains(err.Error(), "'haveyoursay help'") {
		t.Fatalf("err=%v", err)
	}
}

// "dev --help" must explain itself, not start a database and a server.
func TestServerCommandsExplainThemselves(t *testing.T) {
	for _, cmd := range []string{"serve", "dev", "migrate"} {
		out, _, err := runOnce(t, []string{cmd, "--help"}, map[string]string{})
		if err != nil || !strings.Contains(out, "Usage: haveyoursay "+cmd) {
			t.Errorf("%s --help: %v %q", cmd, err, out)
		}
		_, stderr, err := runOnce(t, []string{cmd, "now"}, map[string]string{})
		if exitCode(err) != 2 || !strings.Contains(err.Error(), "takes no arguments") || !strings.Contains(stderr, "Usage:") {
			t.Errorf("%s now: %v %q", cmd, err, stderr)
		}
	}
}

// TestDevLoadsDemoConversations: dev fills an empty database with demo
// conversations over both channels, spread over weeks, once.
func TestDevLoadsDemoConversations(t *testing.T) {
	dbURL := storetest.DatabaseURL(t)
	env := map[string]string{
		"DATABASE_URL":           dbURL,
		"REDIS_URL":              storetest.RedisURL(),
		"REDIS_PREFIX":           storetest.RedisPrefix(t),
		"LISTEN_ADDR":            "127.0.0.1:0",
		"HYS_DATA_DIR":           t.TempDir(),
		"HYS_DEMO_CONVERSATIONS": "24",
	}
	_, stop := start(t, []string{"dev"}, env)
	sql := storetest.SQLAt(t, dbURL)
	var n, channels int
	var oldest time.Time
	deadline := time.Now().Add(2 * time.Minute)
	for {
		err := sql.QueryRow(context.Background(), `SELECT count(*), count(DISTINCT channel), coalesce(min(started_at), now())
			FROM conversations`).Scan(&n, &channels, &oldest)
		if err != nil {
			t.Fatal(err)
		}
		if (n >= 24 && time.Since(oldest) > 7*24*time.Hour) || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if n < 24 || channels != 2 {
		t.Fatalf("dev made %d demo conversations on %d channels, want 24 on both", n, channels)
	}
	if time.Since(oldest) < 7*24*time.Hour {
		t.Errorf("the oldest demo conversation started %s ago: they should be spread over weeks", time.Since(oldest).Round(time.Hour))
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	// A second start with the same database adds none.
	_, stop = start(t, []string{"dev"}, env)
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	var again int
	if err := sql.QueryRow(context.Background(), `SELECT count(*) FROM conversations`).Scan(&again); err != nil {
		t.Fatal(err)
	}
	if again != n {
		t.Errorf("a second dev start changed the demo conversations from %d to %d", n, again)
	}
}
