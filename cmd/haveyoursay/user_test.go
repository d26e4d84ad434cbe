package main

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/haveyoursay/haveyoursay/dashboard"
	"github.com/haveyoursay/haveyoursay/store"
	"github.com/haveyoursay/haveyoursay/store/storetest"
)

// runWithStdin runs a command with its standard input piped, as a script
// would.
func runWithStdin(t *testing.T, env map[string]string, stdin string, args ...string) (string, string, error) {
	t.Helper()
	var o, e syncBuffer
	err := run(context.Background(), args, envFrom(env), strings.NewReader(stdin), &o, &e)
	return o.String(), e.String(), err
}

func TestUserCommand(t *testing.T) {
	url := storetest.DatabaseURL(t)
	rdb := storetest.Redis(t)
	env := map[string]string{"DATABASE_URL": url, "REDIS_URL": storetest.RedisURL(), "REDIS_PREFIX": rdb.Prefix}
	ctx := context.Background()
	db, err := store.OpenDB(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()

	out, _, err := runWithStdin(t, env, "", "user", "list")
	if err != nil || !strings.Contains(out, "There are no accounts yet") {
		t.Fatalf("list of none: %v %q", err, out)
	}
	out, _, err = runWithStdin(t, env, "a long enough password\n", "user", "add", "--email", "Ann@Example.org", "--role", "Admin", "--name", "Ann")
	if err != nil || !strings.Contains(out, "Added Ann@Example.org as admin") {
		t.Fatalf("add: %v %q", err, out)
	}
	u, err := db.StaffUserByEmail(ctx, "ann@example.org")
	if err != nil || u.Name != "Ann" || u.Role != "admin" || !strings.HasPrefix(u.PasswordHash, "$argon2id$v=19$m=65536,t=3,p=2$") ||
		!dashboard.CheckPassword(u.PasswordHash, "a long enough password") || dashboard.CheckPassword(u.PasswordHash, "a long enough passwore") {
		t.Fatalf("stored %+v %v", u, err)
	}

	for _, c := range []struct {
		args  []string
		stdin string
		want  string
		code  int
	}{
		{[]string{"add", "--email", "ann@example.org", "--role", "staff"}, "another long password", "There is already an account for ann@example.org.", 1},
		{[]string{"add", "--email", "bo@example.org", "--role", "boss"}, "another long password", `"boss" is not a role. Use one of: admin, staff, safeguarding, reviewer, viewer.`, 2},
		{[]string{"add", "--email", "bo@example.org"}, "another long password", "say what they may do with --role", 2},
		{[]string{"add", "--role", "staff"}, "another long password", "say whose account with --email", 2},
		{[]string{"add", "--email", "bo@example.org", "--role", "staff"}, "short\n", "That password is too short (5 characters): use at least 12.", 1},
		{[]string{"add", "--email", "bo@example.org", "--role", "staff"}, "", "No password was given on standard input.", 1},
		{[]string{"add", "--email", "not an address", "--role", "staff"}, "another long password", `"not an address" is not an e-mail address we can use.`, 1},
		{[]string{"disable", "--email", "nobody@example.org"}, "", "There is no account for nobody@example.org.", 1},
		{[]string{"password", "--email", "nobody@example.org"}, "another long password", "There is no account for nobody@example.org.", 1},
		{[]string{"rename"}, "", `there is no command "rename"`, 2},
	} {
		_, errOut, err := runWithStdin(t, env, c.stdin, append([]string{"user"}, c.args...)...)
		if err == nil || !strings.Contains(err.Error()+errOut, c.want) || exitCode(err) != c.code {
			t.Errorf("user %v: exit %d %v %q; want %d and %q", c.args, exitCode(err), err, errOut, c.code, c.want)
		}
	}

	// A new password works and the old one does not; sessions end.
	token, err := rdb.NewStaffSession(ctx, store.StaffSession{UserID: u.ID}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	out, _, err = runWithStdin(t, env, "a brand new password\n", "user", "password", "--email", "ANN@example.org")
	if err != nil || !strings.Contains(out, "has a new password") {
		t.Fatalf("password: %v %q", err, out)
	}
	u, _ = db.StaffUserByEmail(ctx, "ann@example.org")
	if !dashboard.CheckPassword(u.PasswordHash, "a brand new password") || dashboard.CheckPassword(u.PasswordHash, "a long enough password") {
		t.Error("the new password was not stored")
	}
	if _, found, err := rdb.StaffSessionFor(ctx, token, time.Hour); found || err != nil {
		t.Errorf("a new password left the old session signed in (%v)", err)
	}

	out, _, err = runWithStdin(t, env, "", "user", "disable", "--email", "ann@example.org")
	if err != nil || !strings.Contains(out, "can no longer sign in") {
		t.Fatalf("disable: %v %q", err, out)
	}
	out, _, err = runWithStdin(t, env, "", "user", "list")
	if err != nil || !strings.Contains(out, "Ann@Example.org") || !strings.Contains(out, "disabled") {
		t.Errorf("list: %v %q", err, out)
	}
	entries, err := db.AuditLog(ctx, "", 10)
	if err != nil || len(entries) != 3 || entries[0].Action != "user-disabled" || entries[2].Action != "user-added" || entries[0].Actor != "cli" {
		t.Errorf("audit log: %+v %v", entries, err)
	}

	if _, _, err := runWithStdin(t, map[string]string{}, "", "user", "list"); err == nil || !strings.Contains(err.Error(), "DATABASE_URL") {
		t.Errorf("without DATABASE_URL: %v", err)
	}
}

var demoAdmin = regexp.MustCompile(`sign in as (\S+) with the password (\w+)`)

// TestDevSignsInADemoAdmin: `haveyoursay dev` prints a sign-in that works,
// the dashboard is at / and the Try-it phone is still at /try.
func TestDevSignsInADemoAdmin(t *testing.T) {
	env := map[string]string{
		"DATABASE_URL": storetest.DatabaseURL(t),
		"REDIS_URL":    storetest.RedisURL(),
		"REDIS_PREFIX": storetest.RedisPrefix(t),
		"LISTEN_ADDR":  "127.0.0.1:0",
		"HYS_DATA_DIR": t.TempDir(),
	}
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"dev"}, envFrom(env), strings.NewReader(""), &stdout, &stderr) }()
	t.Cleanup(func() { cancel(); <-done })
	var base string
	var m []string
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		// The sign-in is in the banner, printed once the server listens.
		if l := listening.FindStringSubmatch(stdout.String()); l != nil {
			if base, m = l[1], demoAdmin.FindStringSubmatch(stdout.String()); m != nil {
				break
			}
		}
	}
	if base == "" || m == nil {
		t.Fatalf("dev did not start with a sign-in:\n%s\n%s", stdout.String(), stderr.String())
	}
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	res, err := client.PostForm(base+"/login", url.Values{"email": {m[1]}, "password": {m[2]}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(body), "What needs attention") || !strings.Contains(string(body), `href="/try"`) {
		t.Fatalf("signing in as the printed demo admin: %d %s", res.StatusCode, body)
	}
	res, err = http.Get(base + "/try")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("GET /try = %d", res.StatusCode)
	}
}
