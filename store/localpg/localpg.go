// Package localpg runs a private PostgreSQL server from the machine's
// PostgreSQL binaries, for `haveyoursay dev`: no set-up, data kept in a
// project-local folder between runs, stopped cleanly on exit.
package localpg

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ErrNoBinaries means PostgreSQL is not installed.
var ErrNoBinaries = errors.New("PostgreSQL is not installed: install it with `sudo apt-get install postgresql` (or run `make run`, which does), or set DATABASE_URL to a server you already have")

// Server is a running private PostgreSQL. It keeps fsync on: the dev data
// (a week of trying things out) survives a power cut too.
type Server struct {
	Dir  string // data folder
	Port int
	bin  string
	cred *syscall.Credential
}

// URL is the address to connect to the server's "haveyoursay" database.
func (s *Server) URL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/haveyoursay?sslmode=disable", s.Port)
}

// FindBinaries returns the folder holding initdb and pg_ctl, preferring the
// newest installed version.
func FindBinaries() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if isExec(filepath.Join(d, "initdb")) && isExec(filepath.Join(d, "pg_ctl")) {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		d := filepath.Dir(p)
		if isExec(filepath.Join(d, "pg_ctl")) {
			return d, nil
		}
	}
	return "", ErrNoBinaries
}

func version(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

func isExec(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}

// Start starts (creating if needed) a server with its data in dir. As root,
// PostgreSQL refuses to run, so the server runs as the `postgres` system
// user, which then owns dir.
func Start(ctx context.Context, dir string) (*Server, error) {
	return StartOn(ctx, dir, 0)
}

// StartOn is Start listening on port (0: any free port), so that a test
// can stop the server and start it again where its clients expect it.
func StartOn(ctx context.Context, dir string, port int) (*Server, error) {
	bin, err := FindBinaries()
	if err != nil {
		return nil, err
	}
	dir, err = filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	s := &Server{Dir: dir, bin: bin}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, errors.New("running as root, PostgreSQL needs the `postgres` system user, which does not exist: install the postgresql package, or run as an ordinary user")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		s.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("making the database folder %s: %w", dir, err)
	}
	if s.cred != nil {
		if err := os.Chown(dir, int(s.cred.Uid), int(s.cred.Gid)); err != nil {
			return nil, err
		}
		if err := s.run(ctx, "test", "-w", dir); err != nil {
			return nil, fmt.Errorf("the postgres user cannot write to %s (a parent folder may be private); set DATABASE_URL or move the project", dir)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		if err := s.run(ctx, filepath.Join(bin, "initdb"), "-D", dir, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C"); err != nil {
			return nil, fmt.Errorf("creating the database folder: %w", err)
		}
	}
	// A server left running by a crashed earlier run is stopped first.
	if _, err := os.Stat(filepath.Join(dir, "postmaster.pid")); err == nil {
		_ = s.run(ctx, filepath.Join(bin, "pg_ctl"), "-D", dir, "-m", "fast", "-w", "stop")
		os.Remove(filepath.Join(dir, "postmaster.pid"))
	}
	if port == 0 {
		if port, err = freePort(); err != nil {
			return nil, err
		}
	}
	s.Port = port
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1", port, dir)
	if err := s.run(ctx, filepath.Join(bin, "pg_ctl"), "-D", dir, "-o", opts, "-l", filepath.Join(dir, "server.log"), "-w", "-t", "60", "start"); err != nil {
		return nil, fmt.Errorf("starting PostgreSQL (its log is %s): %w", filepath.Join(dir, "server.log"), err)
	}
	// The database may already exist from an earlier run.
	out, err := s.output(ctx, filepath.Join(bin, "psql"), "-h", dir, "-p", strconv.Itoa(port), "-U", "postgres", "-d", "postgres", "-tAc",
		"SELECT 1 FROM pg_database WHERE datname = 'haveyoursay'")
	if err != nil {
		s.Stop()
		return nil, err
	}
	if strings.TrimSpace(out) != "1" {
		if err := s.run(ctx, filepath.Join(bin, "createdb"), "-h", dir, "-p", strconv.Itoa(port), "-U", "postgres", "haveyoursay"); err != nil {
			s.Stop()
			return nil, err
		}
	}
	return s, nil
}

// Stop shuts the server down: open connections are closed, data is kept.
func (s *Server) Stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return s.run(ctx, filepath.Join(s.bin, "pg_ctl"), "-D", s.Dir, "-m", "fast", "-w", "stop")
}

func (s *Server) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = "/"
	if s.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
		cmd.Env = append(os.Environ(), "HOME=/var/lib/postgresql", "USER=postgres")
	}
	return cmd
}

func (s *Server) run(ctx context.Context, name string, args ...string) error {
	_, err := s.output(ctx, name, args...)
	return err
}

func (s *Server) output(ctx context.Context, name string, args ...string) (string, error) {
	cmd := s.command(ctx, name, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(errOut.String())
		if msg == "" {
			msg = strings.TrimSpace(out.String())
		}
		return "", fmt.Errorf("%s: %v: %s", filepath.Base(name), err, msg)
	}
	return out.String(), nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
