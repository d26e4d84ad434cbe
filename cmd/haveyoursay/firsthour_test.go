package main

// What a newcomer meets in their first hour: help that answers, a typo
// that gets a suggestion, commands that find `make run` by themselves, a
// conversation that survives a restart, and `make run` stopping cleanly.

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/haveyoursay/haveyoursay/demo"
	"github.com/haveyoursay/haveyoursay/store/storetest"
)

// helpCases are every command and subcommand, asked for help each way.
func helpCases() [][]string {
	subcommands := map[string][]string{
		"survey": surveyCommands,
		"sim":    {"sms", "call"},
		"user":   userCommands,
	}
	cases := [][]string{{"help"}, {"--help"}, {"-h"}}
	for _, cmd := range commandNames() {
		cases = append(cases, []string{cmd, "--help"}, []string{cmd, "-h"}, []string{cmd, "help"}, []string{"help", cmd})
		for _, sub := range subcommands[cmd] {
			cases = append(cases, []string{cmd, sub, "--help"}, []string{cmd, sub, "-h"}, []string{cmd, sub, "help"},
				[]string{"help", cmd, sub}, []string{cmd, "help", sub})
		}
	}
	return cases
}

var flagLine = regexp.MustCompile(`^  -([a-z-]+)`)

// Every command and subcommand answers --help, -h, help and `help CMD` on
// standard output with exit 0, listing each flag once with one default.
func TestEveryCommandExplainsItself(t *testing.T) {
	t.Parallel()
	env := map[string]string{"HYS_DATA_DIR": t.TempDir()} // no dev to find
	for _, args := range helpCases() {
		stdout, stderr, err := runOnce(t, args, env)
		if err != nil || !strings.Contains(stdout, "Usage") || stderr != "" {
			t.Errorf("%q: err=%v (exit %d), stderr=%q, stdout:\n%s", args, err, exitCode(err), stderr, stdout)
			continue
		}
		lines := strings.Split(stdout, "\n")
		var seen []string
		for i, l := range lines {
			m := flagLine.FindStringSubmatch(l)
			if m == nil {
				continue
			}
			if slices.Contains(seen, m[1]) {
				t.Errorf("%q lists -%s twice:\n%s", args, m[1], stdout)
			}
			seen = append(seen, m[1])
			entry := l
			if i+1 < len(lines) {
				entry += lines[i+1]
			}
			if n := strings.Count(entry, "default"); n > 1 {
				t.Errorf("%q gives -%s's default %d times: %q", args, m[1], n, entry)
			}
		}
	}
	// The secrets sim would sign with never appear in its help.
	out, _, _ := runOnce(t, []string{"sim", "sms", "--help"}, map[string]string{"TWILIO_AUTH_TOKEN": "a-real-secret-token-0123456789ab"})
	if strings.Contains(out, "a-real-secret") || strings.Contains(out, devAuthToken) {
		t.Errorf("sim's help shows an auth token:\n%s", out)
	}
}

// A wrong flag is one sentence, exit 2, pointing at the command's help.
func TestAWrongFlagIsOneSentence(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"survey", "lint", "--bogus"}, {"survey", "import", "--bogus"}, {"survey", "list", "--bogus"},
		{"sim", "sms", "--bogus"}, {"send", "--bogus"}, {"bench", "--bogus"}, {"user", "add", "--bogus"},
	} {
		_, stderr, err := runOnce(t, args, map[string]string{"HYS_DATA_DIR": t.TempDir()})
		name := strings.Join(args[:len(args)-1], " ")
		want := fmt.Sprintf("haveyoursay %s: there is no flag -bogus. See 'haveyoursay %s --help'.", name, name)
		if exitCode(err) != 2 || err.Error() != want || stderr != "" {
			t.Errorf("%q: exit %d, %q, stderr %q; want exit 2 and %q", args, exitCode(err), err, stderr, want)
		}
	}
	_, _, err := runOnce(t, []string{"bench", "--members", "many"}, map[string]string{"HYS_DATA_DIR": t.TempDir()})
	if exitCode(err) != 2 || !strings.Contains(err.Error(), `"many" is not a value -members takes`) {
		t.Errorf("bench --members many: exit %d, %v", exitCode(err), err)
	}
}

// A mistyped command gets the nearest real one.
func TestUnknownCommandsSuggestTheNearest(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"surevy", "list"}, `haveyoursay: there is no command "surevy". Did you mean "survey"?`},
		{[]string{"simm"}, `Did you mean "sim"?`},
		{[]string{"serv"}, `Did you mean "serve"?`},
		{[]string{"help", "migrat"}, `Did you mean "migrate"?`},
		{[]string{"survey", "lsit"}, `haveyoursay survey: there is no command "lsit". Did you mean "list"?`},
		{[]string{"user", "ad"}, `Did you mean "add"?`},
	} {
		_, _, err := runOnce(t, c.args, map[string]string{"HYS_DATA_DIR": t.TempDir()})
		if exitCode(err) != 2 || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: exit %d, %v; want exit 2 and %q", c.args, exitCode(err), err, c.want)
		}
	}
	_, _, err := runOnce(t, []string{"frobnicate"}, nil)
	if err == nil || strings.Contains(err.Error(), "Did you mean") {
		t.Errorf("frobnicate is near nothing, yet: %v", err)
	}
	// A command another file adds with one usage line is known too.
	if names := commandNames(); !slices.Contains(names, "survey") || !slices.Contains(names, "bench") || slices.Contains(names, "COMMAND") {
		t.Errorf("commandNames() = %q", names)
	}
}

func TestPlural(t *testing.T) {
	for n, want := range map[int]string{0: "0 seconds", 1: "1 second", 2: "2 seconds", 8: "8 seconds"} {
		if got := plural(n, "second", "seconds"); got != want {
			t.Errorf("plural(%d) = %q, want %q", n, got, want)
		}
	}
}

// sim talks to the server at LISTEN_ADDR, and says in one sentence when
// nothing answers there.
func TestSimFollowsListenAddr(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	env := map[string]string{"LISTEN_ADDR": closed, "HYS_DATA_DIR": t.TempDir()}
	var out, errOut syncBuffer
	err = run(context.Background(), []string{"sim", "sms", "--survey", "day-service"}, envFrom(env), strings.NewReader("1\n"), &out, &errOut)
	want := "No Have Your Say server answers at http://" + closed + ". Start one with 'make run'."
	if err == nil || err.Error() != want {
		t.Errorf("sim with nothing listening: %v\nwant: %s", err, want)
	}

	base, flags, _ := serveDemo(t) // flags: --url U --public-url P --token T --account A
	env = map[string]string{
		"LISTEN_ADDR": strings.TrimPrefix(base, "http://"), "HYS_DATA_DIR": t.TempDir(),
		"PUBLIC_URL": flags[3], "TWILIO_AUTH_TOKEN": flags[5], "TWILIO_ACCOUNT_SID": flags[7],
	}
	out = syncBuffer{}
	err = run(context.Background(), []string{"sim", "sms", "--survey", "day-service"}, envFrom(env), strings.NewReader("1\n"), &out, &errOut)
	if err != nil || !strings.Contains(out.String(), "How do you feel about your day service?") {
		t.Errorf("sim with LISTEN_ADDR %s: %v\n%s", env["LISTEN_ADDR"], err, out.String())
	}
}

// A port in use is explained, with what to do.
func TestAPortInUseIsExplained(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	env := testEnv(t)
	env["LISTEN_ADDR"] = l.Addr().String()
	_, _, err = runOnce(t, []string{"serve"}, env)
	if err == nil || !strings.Contains(err.Error(), "already listening on "+l.Addr().String()) || !strings.Contains(err.Error(), "LISTEN_ADDR=:8081") {
		t.Errorf("serve on a port in use: %v", err)
	}
}

// startDev runs `dev` in the background with env and waits for its banner.
func startDev(t *testing.T, env map[string]string) (stdout *syncBuffer, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stdout = &syncBuffer{}
	var stderr syncBuffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"dev"}, envFrom(env), strings.NewReader(""), stdout, &stderr) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("dev stopped with %v", err)
			}
		})
	}
	t.Cleanup(stop)
	for deadline := time.Now().Add(time.Minute); !strings.Contains(stdout.String(), "Stop:"); time.Sleep(20 * time.Millisecond) {
		select {
		case err := <-done:
			t.Fatalf("dev exited early: %v\n%s\n%s", err, stdout, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("dev printed no banner in a minute:\n%s\n%s", stdout, stderr.String())
		}
	}
	return stdout, stop
}

// With `dev` running and no environment at all (only its .hys folder),
// survey list, user list and sim work; a text conversation carries on
// across a restart of dev, with either kind of private Redis.
func TestCommandsFindDevAndConversationsSurviveARestart(t *testing.T) {
	for _, kind := range []string{"redis-server", "in-process Redis"} {
		t.Run(kind, func(t *testing.T) {
			project := t.TempDir()
			env := map[string]string{
				"DATABASE_URL":           storetest.DatabaseURL(t), // the private PostgreSQL is TestMakeRun's
				"HYS_DATA_DIR":           filepath.Join(project, ".hys"),
				"LISTEN_ADDR":            "127.0.0.1:0",
				"HYS_DEMO_CONVERSATIONS": "0",
			}
			if kind == "redis-server" {
				env["PATH"] = os.Getenv("PATH") // where dev looks for redis-server
			}
			banner, stop := startDev(t, env)
			for _, want := range []string{"/try", "text DAYS to " + demo.DaysNumber, "sim sms --survey day-service", "sign in as ", "Ctrl-C"} {
				if !strings.Contains(banner.String(), want) {
					t.Errorf("dev's start-up lacks %q:\n%s", want, banner)
				}
			}
			// A second dev on the same folder says so, and leaves the first alone.
			if _, _, err := runOnce(t, []string{"dev"}, env); err == nil || !strings.Contains(err.Error(), "already running") {
				t.Errorf("a second dev on the same folder: %v", err)
			}
			envFile := filepath.Join(project, ".hys", "dev.env")
			if st, err := os.Stat(envFile); err != nil || st.Mode().Perm() != 0o600 {
				t.Fatalf("dev.env: %v, mode %v; want it private (0600)", err, st.Mode().Perm())
			}

			demoFile, _ := filepath.Abs("../../survey/demo/day-service.yaml")
			list := filepath.Join(project, "people.csv")
			os.WriteFile(list, []byte("phone\n+447700900555\n"), 0o644)
			t.Chdir(project) // a newcomer's shell in the project, with no settings
			out, _, err := runOnce(t, []string{"survey", "import", demoFile}, nil)
			if err != nil || !strings.Contains(out, `survey "day-service" is unchanged`) {
				t.Fatalf("survey import with no environment: %v\n%s", err, out)
			}
			out, stderr, err := runOnce(t, []string{"send", "--survey", "day-service", "--to", list, "--any-time"}, nil)
			if err != nil || !strings.Contains(stderr, "sent 1 of 1") {
				t.Fatalf("send with no environment: %v\n%s\n%s", err, out, stderr)
			}
			out, _, err = runOnce(t, []string{"survey", "list"}, nil)
			if err != nil || !strings.Contains(out, "day-service") {
				t.Fatalf("survey list with no environment: %v\n%s", err, out)
			}
			out, _, err = runOnce(t, []string{"user", "list"}, nil)
			if err != nil || !strings.Contains(out, "admin@") {
				t.Fatalf("user list with no environment: %v\n%s", err, out)
			}
			out = simNoEnv(t, "--survey", "day-service", "1") // 1: yes, that is OK
			if !strings.Contains(out, "How do you feel about your day service?") {
				t.Fatalf("sim sms with no environment did not reach the first question:\n%s", out)
			}

			stop()
			if _, err := os.Stat(envFile); !os.IsNotExist(err) {
				t.Errorf("dev.env is still there after dev stopped (%v)", err)
			}
			_, _, err = runOnce(t, []string{"survey", "list"}, nil)
			if err == nil || !strings.Contains(err.Error(), "make run") {
				t.Errorf("survey list with dev stopped: %v; want a sentence saying to start 'make run'", err)
			}

			startDev(t, env)
			// The member's next text answers the question they were asked.
			out = simNoEnv(t, "1") // Good
			if !strings.Contains(out, "You said: Good.") || strings.Contains(out, "Hello") {
				t.Fatalf("after a restart the conversation did not carry on:\n%s", out)
			}
		})
	}
}

// simNoEnv runs sim sms with no environment: flags, then the one line
// typed. Without --survey no keyword is sent first.
func simNoEnv(t *testing.T, args ...string) string {
	t.Helper()
	var out, errOut syncBuffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	flags, line := args[:len(args)-1], args[len(args)-1]
	if err := run(ctx, append([]string{"sim", "sms"}, flags...), envFrom(nil), strings.NewReader(line+"\n"), &out, &errOut); err != nil {
		t.Fatalf("sim: %v\n%s\n%s", err, out.String(), errOut.String())
	}
	return out.String()
}

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// buildFlags is GOFLAGS for building the program in tests: with -race
// when the tests have it, so the build reuses the packages `go test -race`
// has just compiled (a build without it compiles everything again: minutes).
func buildFlags() string {
	flags := os.Getenv("GOFLAGS")
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "-race" && s.Value == "true" {
				flags = strings.TrimSpace(flags + " -race")
			}
		}
	}
	return flags
}

// builtBinary builds the program once for the package's tests, as
// script/run does, so script/run's own build finds it up to date.
func builtBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "hys-bin")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "haveyoursay")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/haveyoursay")
		cmd.Dir = "../.."
		cmd.Env = append(os.Environ(), "GOFLAGS="+buildFlags())
		if out, err := cmd.CombinedOutput(); err != nil {
			binErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// `make run` says it is building, starts everything, and SIGTERM to make
// stops all of it: no process of its group, no PostgreSQL, no Redis.
func TestMakeRunStopsEverythingOnSIGTERM(t *testing.T) {
	t.Parallel()
	bin := builtBinary(t)
	data, err := os.MkdirTemp("", "hys-run")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(data, 0o755) // the postgres user must reach it when we run as root
	t.Cleanup(func() { os.RemoveAll(data) })
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()

	cmd := exec.Command("make", "--no-print-directory", "run")
	cmd.Dir = "../.."
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DATABASE_URL=") && !strings.HasPrefix(kv, "REDIS_URL=") && !strings.HasPrefix(kv, "MAKEFLAGS=") && !strings.HasPrefix(kv, "GOFLAGS=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "GOFLAGS="+buildFlags(), "HYS_BIN="+bin, "HYS_DATA_DIR="+filepath.Join(data, "hys"), "LISTEN_ADDR="+addr, "HYS_DEMO_CONVERSATIONS=0")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	group := cmd.Process.Pid
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		syscall.Kill(-group, syscall.SIGKILL) // only if the test failed half-way
	})
	for deadline := time.Now().Add(2 * time.Minute); !strings.Contains(out.String(), "Have Your Say is ready"); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) || len(exited) > 0 {
			t.Fatalf("make run did not get ready:\n%s", out.String())
		}
	}
	if first, _, _ := strings.Cut(out.String(), "\n"); !strings.HasPrefix(first, "Building Have Your Say") {
		t.Errorf("make run's first line is %q: it should say it is building", first)
	}
	pg := pidFromFile(t, filepath.Join(data, "hys", "pgdata", "postmaster.pid"))
	redis := pidFromFile(t, filepath.Join(data, "hys", "redis", "redis.pid"))
	if len(inGroup(group)) < 2 || !running(pg) || !running(redis) {
		t.Fatalf("before SIGTERM: group %v, postgres %d alive %v, redis %d alive %v", inGroup(group), pg, running(pg), redis, running(redis))
	}

	syscall.Kill(group, syscall.SIGTERM) // to make alone, as a process manager would
	select {
	case <-exited:
	case <-time.After(time.Minute):
		t.Fatalf("make run was still running a minute after SIGTERM:\n%s", out.String())
	}
	var left []int
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if left = inGroup(group); len(left) == 0 && !running(pg) && !running(redis) {
			break
		}
	}
	if len(left) > 0 || running(pg) || running(redis) {
		t.Errorf("after SIGTERM still running: group %v, postgres %v, redis %v\n%s", left, running(pg), running(redis), out.String())
	}
	if _, err := http.Get("http://" + addr + "/healthz"); err == nil {
		t.Errorf("/healthz still answers after SIGTERM")
	}
	if _, err := os.Stat(filepath.Join(data, "hys", "dev.env")); !os.IsNotExist(err) {
		t.Errorf("dev.env was left behind: %v", err)
	}
}

func pidFromFile(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan()
	pid, err := strconv.Atoi(strings.TrimSpace(sc.Text()))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return pid
}

// inGroup lists the live processes of a process group (zombies are dead).
func inGroup(pgid int) []int {
	var pids []int
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range stats {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ...: comm may hold spaces.
		_, rest, ok := strings.Cut(string(b), ") ")
		f := strings.Fields(rest)
		if !ok || len(f) < 3 || f[0] == "Z" {
			continue
		}
		if g, _ := strconv.Atoi(f[2]); g == pgid {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(p)))
			pids = append(pids, pid)
		}
	}
	return pids
}

// running reports whether a process exists and is not a zombie.
func running(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	_, rest, _ := strings.Cut(string(b), ") ")
	return !strings.HasPrefix(rest, "Z")
}

var (
	mdLink  = regexp.MustCompile(`\]\(([^)\s]+)\)`)
	docPath = regexp.MustCompile("`([a-zA-Z0-9_./-]+\\.(?:md|yaml|go))`")
)

// The README and docs stand alone in a clone: every link and every file
// they name is inside the repository.
func TestDocsStandAlone(t *testing.T) {
	t.Parallel()
	root := "../.."
	docs, _ := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	docs = append(docs, filepath.Join(root, "README.md"))
	for _, doc := range docs {
		b, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		text := string(b)
		if strings.Contains(text, "../") {
			t.Errorf("%s points outside the repository (../):\n%s", doc, text[max(0, strings.Index(text, "../")-80):][:160])
		}
		for _, m := range mdLink.FindAllStringSubmatch(text, -1) {
			target, _, _ := strings.Cut(m[1], "#")
			if target == "" || strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(doc), target)); err != nil {
				t.Errorf("%s links to %s, which is not in the repository", doc, m[1])
			}
		}
		for _, m := range docPath.FindAllStringSubmatch(text, -1) {
			if !strings.Contains(m[1], "/") || strings.ContainsAny(m[1], "{}") {
				continue // a file name alone, e.g. my-survey.yaml
			}
			if _, err := os.Stat(filepath.Join(root, m[1])); err != nil {
				t.Errorf("%s names %s, which is not in the repository", doc, m[1])
			}
		}
	}
}

// dev.env left by a dev that was killed is ignored; one of a live dev
// fills in only what the environment leaves empty, and never when the
// environment names its own database.
func TestDevSettingsFallBackOnlyOnALiveDev(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if _, err := writeDevSettings(dir, map[string]string{"DATABASE_URL": "postgres://dev@127.0.0.1:5999/haveyoursay", "LISTEN_ADDR": "127.0.0.1:8123", "PUBLIC_URL": "http://it's quoted"}); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"HYS_DATA_DIR": dir, "LISTEN_ADDR": ":9000"}
	got := devSettings(envFrom(env))
	if got("DATABASE_URL") != "postgres://dev@127.0.0.1:5999/haveyoursay" || got("LISTEN_ADDR") != ":9000" || got("PUBLIC_URL") != "http://it's quoted" {
		t.Errorf("a live dev's settings: DATABASE_URL %q, LISTEN_ADDR %q, PUBLIC_URL %q", got("DATABASE_URL"), got("LISTEN_ADDR"), got("PUBLIC_URL"))
	}
	own := map[string]string{"HYS_DATA_DIR": dir, "DATABASE_URL": "postgres://prod/db"}
	if got := devSettings(envFrom(own)); got("LISTEN_ADDR") != "" || got("DATABASE_URL") != "postgres://prod/db" {
		t.Errorf("with DATABASE_URL set, dev's settings were used: LISTEN_ADDR %q", got("LISTEN_ADDR"))
	}

	// The same file from a process that has ended.
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "dev.env"))
	stale := regexp.MustCompile(`(?m)^HYS_DEV_PID=.*$`).ReplaceAllString(string(b), fmt.Sprintf("HYS_DEV_PID='%d'", gone.Process.Pid))
	os.WriteFile(filepath.Join(dir, "dev.env"), []byte(stale), 0o600)
	if got := devSettings(envFrom(env)); got("DATABASE_URL") != "" {
		t.Errorf("a dead dev's settings were used: DATABASE_URL %q", got("DATABASE_URL"))
	}
}
