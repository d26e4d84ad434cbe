package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// A running `dev` writes the settings it made up (its private database and
// Redis, where it listens, its secret key and Twilio emulator) to
// .hys/dev.env, so every other command run in the project finds it with
// no environment at all. The file is private (0600) and removed when dev
// stops; one left by a dev that was killed is ignored.

// devEnvName is the file's name inside dev's data folder.
const devEnvName = "dev.env"

// devPIDKey names the process that wrote the file, to tell a stale one.
const devPIDKey = "HYS_DEV_PID"

// devSettings returns getenv, falling back on a running dev's settings for
// every variable the environment leaves empty, when the environment does
// not name a database itself (DATABASE_URL set means "not the dev one").
// run passes it to every command but serve, dev and migrate: a command
// needs only to read its settings through the getenv it was given.
func devSettings(getenv func(string) string) func(string) string {
	if getenv("DATABASE_URL") != "" {
		return getenv
	}
	settings, _ := readDevSettings(getenv)
	if settings == nil {
		return getenv
	}
	return func(name string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return settings[name]
	}
}

// devEnvPath is where a dev with this environment writes its settings.
func devEnvPath(dataDir string) string { return filepath.Join(dataDir, devEnvName) }

// findDevEnv is the dev.env file to read: in HYS_DATA_DIR when it is set,
// else in the nearest .hys folder from the working folder upwards (so a
// command run from a subfolder of the project finds it too).
func findDevEnv(getenv func(string) string) string {
	if d := getenv("HYS_DATA_DIR"); d != "" {
		return devEnvPath(d)
	}
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		p := devEnvPath(filepath.Join(dir, ".hys"))
		if _, err := os.Stat(p); err == nil {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// readDevSettings reads the settings of the dev that is running, or
// returns nil when none is.
func readDevSettings(getenv func(string) string) (map[string]string, error) {
	path := findDevEnv(getenv)
	if path == "" {
		return nil, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	settings := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		name, value, ok := strings.Cut(line, "=")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		settings[name] = unquote(value)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	pid, err := strconv.Atoi(settings[devPIDKey])
	if err != nil || !alive(pid) {
		return nil, nil // a dev that was killed left it: nothing answers there
	}
	return settings, nil
}

// alive reports whether a process with this id exists.
func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// writeDevSettings writes settings to dataDir/dev.env (mode 0600, whole or
// not at all) and returns a function that removes it.
func writeDevSettings(dataDir string, settings map[string]string) (remove func(), err error) {
	var b strings.Builder
	fmt.Fprintf(&b, "# Written by 'haveyoursay dev' while it runs; removed when it stops.\n")
	fmt.Fprintf(&b, "# The other commands read it when DATABASE_URL is not set. To use it in a\n")
	fmt.Fprintf(&b, "# shell yourself: set -a; . %s; set +a\n", devEnvPath(dataDir))
	settings[devPIDKey] = strconv.Itoa(os.Getpid())
	names := make([]string, 0, len(settings))
	for name := range settings {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if settings[name] != "" {
			fmt.Fprintf(&b, "%s=%s\n", name, quote(settings[name]))
		}
	}
	path := devEnvPath(dataDir)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(b.String()), 0o600); err != nil {
		return nil, fmt.Errorf("writing dev's settings for the other commands: %w", err)
	}
	if err := os.Chmod(tmp, 0o600); err != nil { // an older file's mode is kept by WriteFile
		return nil, err
	}
	if err := os.Rename(tmp, path); err != nil {
		return nil, fmt.Errorf("writing dev's settings for the other commands: %w", err)
	}
	return func() { os.Remove(path) }, nil
}

// quote writes a value the shell reads back as it was: 'it'\”s'.
func quote(v string) string { return "'" + strings.ReplaceAll(v, "'", `'\''`) + "'" }

func unquote(v string) string {
	if len(v) >= 2 && v[0] == '\'' && v[len(v)-1] == '\'' {
		return strings.ReplaceAll(v[1:len(v)-1], `'\''`, "'")
	}
	return v
}
