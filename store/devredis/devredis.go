// Package devredis runs the private Redis of `haveyoursay dev`, keeping its
// data in a project-local folder so that text conversations in progress
// survive a restart: the machine's redis-server (with an append-only file)
// when one is installed, else an in-process miniredis whose keys are saved
// to a snapshot file while it runs and on exit, and loaded on start.
package devredis

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/alicebob/miniredis/v2"
)

// Server is a running private Redis.
type Server struct {
	// Kind says which Redis it is, for a person: "redis-server" or
	// "in-process Redis".
	Kind string
	addr string

	cmd    *exec.Cmd     // redis-server
	exited chan struct{} // closed when redis-server has exited
	dir    string

	mr       *miniredis.Miniredis // in-process
	snapshot string
	stopSave chan struct{}
	saving   sync.WaitGroup
	stopOnce sync.Once
	stopErr  error
}

// URL is the address to connect to the server.
func (s *Server) URL() string { return "redis://" + s.addr + "/0" }

// Start starts a Redis keeping its data in dir. redisServer is the path of
// the redis-server program, or "" for the in-process one.
func Start(ctx context.Context, dir, redisServer string) (*Server, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("making the Redis folder %s: %w", dir, err)
	}
	if redisServer == "" {
		return startInProcess(dir)
	}
	return startRedisServer(ctx, dir, redisServer)
}

// Stop shuts the server down, its data saved.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		if s.mr != nil {
			close(s.stopSave)
			s.saving.Wait()
			s.stopErr = s.save()
			s.mr.Close()
			return
		}
		s.cmd.Process.Signal(syscall.SIGTERM) // redis-server writes its file and exits
		select {
		case <-s.exited:
		case <-time.After(20 * time.Second):
			s.cmd.Process.Kill()
			<-s.exited
			s.stopErr = fmt.Errorf("redis-server did not stop within 20 s, so it was killed (its log is %s)", filepath.Join(s.dir, "redis.log"))
		}
	})
	return s.stopErr
}

func startRedisServer(ctx context.Context, dir, program string) (*Server, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	pidFile := filepath.Join(dir, "redis.pid")
	stopLeftOver(pidFile)
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	s := &Server{Kind: "redis-server", addr: "127.0.0.1:" + strconv.Itoa(port), dir: dir, exited: make(chan struct{})}
	s.cmd = exec.Command(program,
		"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--protected-mode", "yes",
		"--dir", dir, "--appendonly", "yes", "--appendfsync", "everysec", "--save", "",
		"--pidfile", pidFile, "--logfile", filepath.Join(dir, "redis.log"), "--daemonize", "no")
	// Its own process group: Ctrl-C reaches dev, which stops Redis after
	// its last write. It dies with dev if dev is killed outright.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting redis-server: %w", err)
	}
	go func() { s.cmd.Wait(); close(s.exited) }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		if err := ping(s.addr); err == nil {
			return s, nil
		} else if time.Now().After(deadline) || ctx.Err() != nil {
			s.Stop()
			return nil, fmt.Errorf("redis-server did not start (its log is %s): %v", filepath.Join(dir, "redis.log"), err)
		}
		select {
		case <-s.exited:
			return nil, fmt.Errorf("redis-server stopped as it started: its log %s says why", filepath.Join(dir, "redis.log"))
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// ping checks that Redis answers and has loaded its data.
func ping(addr string) error {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "+PONG") {
		return errors.New(strings.TrimSpace(line)) // e.g. -LOADING
	}
	return nil
}

// stopLeftOver stops a redis-server left running by an earlier dev that
// was killed outright, so two never write the same file.
func stopLeftOver(pidFile string) {
	b, err := os.ReadFile(pidFile)
	if err != nil {
		return
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 1 {
		return
	}
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if err != nil || !strings.HasPrefix(string(comm), "redis-server") {
		return
	}
	syscall.Kill(pid, syscall.SIGTERM)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if syscall.Kill(pid, 0) != nil {
			return
		}
	}
	syscall.Kill(pid, syscall.SIGKILL)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// saveEvery is how often the in-process Redis is saved while it runs, so a
// crash loses at most this much.
const saveEvery = 10 * time.Second

func startInProcess(dir string) (*Server, error) {
	mr := miniredis.NewMiniRedis()
	s := &Server{Kind: "in-process Redis", mr: mr, snapshot: filepath.Join(dir, "miniredis.json"), stopSave: make(chan struct{})}
	if err := s.load(); err != nil {
		return nil, err
	}
	if err := mr.StartAddr("127.0.0.1:0"); err != nil {
		return nil, fmt.Errorf("starting the in-process Redis: %w", err)
	}
	s.addr = mr.Addr()
	s.saving.Go(func() {
		t := time.NewTicker(saveEvery)
		defer t.Stop()
		for {
			select {
			case <-s.stopSave:
				return
			case <-t.C:
				s.save()
			}
		}
	})
	return s, nil
}

// entry is one key in the snapshot file.
type entry struct {
	Key    string             `json:"key"`
	Type   string             `json:"type"`
	TTLms  int64              `json:"ttl_ms,omitempty"`
	String string             `json:"string,omitempty"`
	List   []string           `json:"list,omitempty"` // a list, or a set's members
	Hash   map[string]string  `json:"hash,omitempty"`
	ZSet   map[string]float64 `json:"zset,omitempty"`
}

// save writes every key to the snapshot file, replacing it whole.
func (s *Server) save() error {
	var entries []entry
	for _, k := range s.mr.Keys() {
		e := entry{Key: k, Type: s.mr.Type(k), TTLms: s.mr.TTL(k).Milliseconds()}
		var err error
		switch e.Type {
		case "string":
			e.String, err = s.mr.Get(k)
		case "list":
			e.List, err = s.mr.List(k)
		case "set":
			e.List, err = s.mr.Members(k)
		case "hash":
			var fields []string
			fields, err = s.mr.HKeys(k)
			e.Hash = make(map[string]string, len(fields))
			for _, f := range fields {
				e.Hash[f] = s.mr.HGet(k, f)
			}
		case "zset":
			e.ZSet, err = s.mr.SortedSet(k)
		default:
			continue // streams and the like: dev keeps none
		}
		if err != nil {
			continue // the key went away while we read it
		}
		entries = append(entries, e)
	}
	b, err := json.Marshal(entries)
	if err != nil {
		return err
	}
	tmp := s.snapshot + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("saving the in-process Redis: %w", err)
	}
	if err := os.Rename(tmp, s.snapshot); err != nil {
		return fmt.Errorf("saving the in-process Redis: %w", err)
	}
	return nil
}

// load puts back the keys of the snapshot file, if there is one.
func (s *Server) load() error {
	b, err := os.ReadFile(s.snapshot)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading the saved Redis data: %w", err)
	}
	var entries []entry
	if err := json.Unmarshal(b, &entries); err != nil {
		return fmt.Errorf("the saved Redis data in %s cannot be read (%v): move it away to start with none", s.snapshot, err)
	}
	for _, e := range entries {
		switch e.Type {
		case "string":
			err = s.mr.Set(e.Key, e.String)
		case "list":
			_, err = s.mr.Push(e.Key, e.List...)
		case "set":
			_, err = s.mr.SetAdd(e.Key, e.List...)
		case "hash":
			for f, v := range e.Hash {
				s.mr.HSet(e.Key, f, v)
			}
		case "zset":
			for m, score := range e.ZSet {
				if _, err = s.mr.ZAdd(e.Key, score, m); err != nil {
					break
				}
			}
		}
		if err != nil {
			return fmt.Errorf("loading the saved Redis key %q: %w", e.Key, err)
		}
		if e.TTLms > 0 {
			s.mr.SetTTL(e.Key, time.Duration(e.TTLms)*time.Millisecond)
		}
	}
	return nil
}
