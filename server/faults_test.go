package server_test

// Fault tests: a private PostgreSQL and Redis (real processes, started
// here) that each test stops, stalls and restarts under a small load of
// signed text conversations. Every text answered 200 must be in Postgres
// afterwards exactly once, with its answer: "once we have answered Twilio
// 200, what it delivered is never lost" (DESIGN.md, rule 5).

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/haveyoursay/haveyoursay/config"
	"github.com/haveyoursay/haveyoursay/phonesim"
	"github.com/haveyoursay/haveyoursay/server"
	"github.com/haveyoursay/haveyoursay/store"
	"github.com/haveyoursay/haveyoursay/store/localpg"
	"github.com/haveyoursay/haveyoursay/survey"
)

const (
	faultAccount = "AC0123456789abcdef0123456789abcdef"
	faultToken   = "0123456789abcdef0123456789abcdef"
	faultPublic  = "https://feedback.example.org"
	faultNumber  = "+447700900100"
)

// faultEnv is a private Postgres and Redis for one test.
type faultEnv struct {
	t      *testing.T
	dir    string
	pg     *localpg.Server
	pgPort int
	redis  *exec.Cmd
	rPort  int
}

// TestMain removes the template database made for the fault tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if templateDir != "" {
		os.RemoveAll(filepath.Dir(templateDir))
	}
	os.Exit(code)
}

var (
	templateOnce sync.Once
	templateDir  string
	templateErr  error
)

// pgTemplate makes, once per test binary, a stopped Postgres data folder
// with the schema and the demo survey, which each test copies (much faster
// than initdb and the migrations each time).
func pgTemplate() (string, error) {
	templateOnce.Do(func() {
		ctx := context.Background()
		base, err := os.MkdirTemp("", "hys-faults-")
		if err != nil {
			templateErr = err
			return
		}
		os.Chmod(base, 0o755) // the postgres user must reach the folder when we run as root
		dir := filepath.Join(base, "template")
		pg, err := localpg.Start(ctx, dir)
		if err != nil {
			templateErr = err
			return
		}
		defer pg.Stop()
		db, err := store.OpenDB(ctx, pg.URL())
		if err != nil {
			templateErr = err
			return
		}
		defer db.Close()
		if _, err := db.Migrate(ctx, nil); err != nil {
			templateErr = err
			return
		}
		s := survey.Demo()
		if _, _, err := db.SaveSurvey(ctx, s.ID, s.Title, string(survey.DemoYAML), "day-service.yaml"); err != nil {
			templateErr = err
			return
		}
		templateDir = dir
	})
	if templateErr != nil && templateDir == "" {
		return "", templateErr
	}
	return templateDir, templateErr
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func newFaultEnv(t *testing.T) *faultEnv {
	t.Helper()
	tmpl, err := pgTemplate()
	if err != nil {
		t.Fatalf("making the template database: %v", err)
	}
	dir, err := os.MkdirTemp(filepath.Dir(tmpl), "env-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	t.Cleanup(func() { os.RemoveAll(dir) })
	if out, err := exec.Command("cp", "-a", tmpl, filepath.Join(dir, "pg")).CombinedOutput(); err != nil {
		t.Fatalf("copying the template database: %v %s", err, out)
	}
	e := &faultEnv{t: t, dir: dir, pgPort: freePort(t), rPort: freePort(t)}
	e.startPG()
	e.startRedis()
	t.Cleanup(func() {
		if e.pg != nil {
			e.pg.Stop()
		}
		e.stopRedis()
	})
	return e
}

func (e *faultEnv) dbURL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/haveyoursay?sslmode=disable", e.pgPort)
}

func (e *faultEnv) redisURL() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", e.rPort) }

func (e *faultEnv) startPG() {
	e.t.Helper()
	pg, err := localpg.StartOn(context.Background(), filepath.Join(e.dir, "pg"), e.pgPort)
	if err != nil {
		e.t.Fatalf("starting Postgres: %v", err)
	}
	e.pg = pg
}

// stopPG stops Postgres ("fast": connections are cut).
func (e *faultEnv) stopPG() {
	e.t.Helper()
	if err := e.pg.Stop(); err != nil {
		e.t.Fatalf("stopping Postgres: %v", err)
	}
	e.pg = nil
}

// startRedis starts a Redis with no persistence, as many installs have.
func (e *faultEnv) startRedis() {
	e.t.Helper()
	cmd := exec.Command("/usr/bin/redis-server", "--port", strconv.Itoa(e.rPort), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", e.dir)
	if err := cmd.Start(); err != nil {
		e.t.Fatalf("starting redis-server: %v", err)
	}
	e.redis = cmd
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", e.rPort))
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("redis-server did not start: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// stopRedis kills Redis: without persistence, everything in it is gone.
func (e *faultEnv) stopRedis() {
	if e.redis == nil {
		return
	}
	e.redis.Process.Signal(syscall.SIGKILL)
	e.redis.Wait()
	e.redis = nil
}

// instance is one server (as `serve` builds it) on the private Postgres
// and Redis, with its own spool folder, and a Twilio emulator texting it.
type instance struct {
	srv *server.Server
	hs  *httptest.Server
	sim *phonesim.Emulator
	db  *store.DB
	rdb *store.Redis
}

func (e *faultEnv) instance(spoolDir string) *instance {
	t := e.t
	t.Helper()
	ctx := context.Background()
	db, err := store.OpenDB(ctx, e.dbURL())
	if err != nil {
		t.Fatal(err)
	}
	rdb, err := store.OpenRedis(ctx, e.redisURL(), "")
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Defaults()
	cfg.TwilioAccountSID, cfg.TwilioAuthToken, cfg.PublicURL = faultAccount, faultToken, faultPublic
	cfg.SecretKey = "this-is-a-test-secret-of-enough-length"
	cfg.TwilioAPIURL = "http://127.0.0.1:1"
	cfg.SpoolDir = spoolDir
	srv, err := server.New(ctx, server.Deps{Config: cfg, DB: db, Redis: rdb})
	if err != nil {
		t.Fatal(err)
	}
	in := &instance{srv: srv, hs: httptest.NewServer(srv), db: db, rdb: rdb}
	tr := phonesim.NewRedirectTransport(faultPublic, in.hs.URL, nil)
	in.sim = phonesim.New(phonesim.Config{AccountSID: faultAccount, AuthToken: faultToken, WebhookBase: faultPublic,
		HTTPClient: &http.Client{Transport: tr, Timeout: 20 * time.Second}})
	t.Cleanup(in.close)
	return in
}

// close stops the instance as serve does on SIGTERM: no more requests,
// then the background work, then a last flush of the spool.
func (in *instance) close() {
	in.hs.Close()
	in.srv.Close()
	in.sim.Close()
	in.rdb.Close()
	in.db.Close()
}

// ledger is every text a server answered 200, by MessageSid, and the
// sids whose reply confirmed an answer ("You said").
type ledger struct {
	mu      sync.Mutex
	acked   map[string]bool
	answers map[string]bool
	refused int // 5xx or no answer: Twilio's fallback URL takes these
}

func newLedger() *ledger {
	return &ledger{acked: map[string]bool{}, answers: map[string]bool{}}
}

// text sends one text through sim and notes what happened.
func (l *ledger) text(sim *phonesim.Emulator, from, body string) {
	sid := phonesim.NewSID("SM")
	res, err := sim.TextWithSid(context.Background(), sid, from, faultNumber, body)
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil || res.StatusCode != http.StatusOK {
		l.refused++
		return
	}
	l.acked[sid] = true
	if strings.Contains(strings.Join(res.Messages, " "), "You said") {
		l.answers[sid] = true
	}
}

// converse has members text whole conversations until stop is closed,
// each text going to the next of sims (several servers behind a load
// balancer).
func (l *ledger) converse(members int, stop <-chan struct{}, sims ...func() *phonesim.Emulator) *sync.WaitGroup {
	script := []string{"DAYS", "yes", "1", "4", "2"}
	var wg sync.WaitGroup
	for m := range members {
		wg.Go(func() {
			from := fmt.Sprintf("+4479%08d", m+1)
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				l.text(sims[i%len(sims)](), from, script[i%len(script)])
				time.Sleep(5 * time.Millisecond) // a small, steady load
			}
		})
	}
	return &wg
}

// check counts, in Postgres, every text answered 200 and every answer
// confirmed: each must be stored exactly once.
func (l *ledger) check(t *testing.T, dbURL string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	count := func(q string) map[string]int {
		rows, err := conn.Query(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]int{}
		for rows.Next() {
			var k string
			var n int
			if err := rows.Scan(&k, &n); err != nil {
				t.Fatal(err)
			}
			out[k] = n
		}
		if rows.Err() != nil {
			t.Fatal(rows.Err())
		}
		return out
	}
	texts := count(`SELECT message_sid, count(*) FROM messages WHERE direction = 'in' GROUP BY 1`)
	answers := count(`SELECT dedupe_key, count(*) FROM answers GROUP BY 1`)
	l.mu.Lock()
	defer l.mu.Unlock()
	var lostTexts, dupTexts, lostAnswers, dupAnswers int
	for sid := range l.acked {
		switch n := texts[sid]; {
		case n == 0:
			lostTexts++
		case n > 1:
			dupTexts++
		}
	}
	for sid := range l.answers {
		switch n := answers[sid]; {
		case n == 0:
			lostAnswers++
		case n > 1:
			dupAnswers++
		}
	}
	t.Logf("%d texts and %d answers acknowledged with 200, %d refused; lost %d texts, %d answers; duplicates %d, %d",
		len(l.acked), len(l.answers), l.refused, lostTexts, lostAnswers, dupTexts, dupAnswers)
	if len(l.acked) == 0 || len(l.answers) == 0 {
		t.Fatal("the load acknowledged nothing: the test proves nothing")
	}
	if lostTexts+dupTexts+lostAnswers+dupAnswers > 0 {
		t.Fatalf("acknowledged but lost: %d texts, %d answers; stored twice: %d texts, %d answers", lostTexts, lostAnswers, dupTexts, dupAnswers)
	}
}

// settle waits until each instance's spool is in Postgres.
func settle(t *testing.T, ins ...*instance) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for _, in := range ins {
		if err := in.srv.Journal.Settle(ctx); err != nil {
			t.Fatalf("the spool did not reach Postgres: %v (%d waiting)", err, in.srv.Journal.Stats().Depth)
		}
	}
}

// untilSpooled waits until an instance's spool holds at least n events.
func untilSpooled(t *testing.T, in *instance, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for in.srv.Journal.Stats().Depth < n {
		if time.Now().After(deadline) {
			t.Fatalf("the spool never held %d events (%d)", n, in.srv.Journal.Stats().Depth)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Two servers on one Postgres and Redis, texts alternating between them,
// while a 25 s table lock stalls every write to messages: each server's
// spool holds what it answered until the lock goes, and nothing is lost or
// written twice (the bug: a shared Redis spool whose writer lock expired
// mid-batch let the other writer trim events nobody had stored).
func TestFaultTwoInstancesAndATableLock(t *testing.T) {
	t.Parallel()
	e := newFaultEnv(t)
	a := e.instance(t.TempDir())
	b := e.instance(t.TempDir())
	led := newLedger()
	stop := make(chan struct{})
	wg := led.converse(6, stop, func() *phonesim.Emulator { return a.sim }, func() *phonesim.Emulator { return b.sim })

	ctx := context.Background()
	conn, err := pgx.Connect(ctx, e.dbURL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	locked := make(chan error, 1)
	go func() {
		_, err := conn.Exec(ctx, `BEGIN; LOCK TABLE messages IN EXCLUSIVE MODE; SELECT pg_sleep(25); COMMIT;`)
		locked <- err
	}()
	untilSpooled(t, a, 200)
	untilSpooled(t, b, 200)
	time.Sleep(time.Second) // a little more load while both writers wait on the lock
	close(stop)
	wg.Wait()
	if err := <-locked; err != nil {
		t.Fatal(err)
	}
	settle(t, a, b)
	led.check(t, e.dbURL())
}

// Postgres stops; while it is down Redis (with no persistence) restarts
// and forgets everything. Texts answered meanwhile are on disk in the
// spool and reach Postgres when it returns.
func TestFaultRedisRestartsWhilePostgresIsDown(t *testing.T) {
	t.Parallel()
	e := newFaultEnv(t)
	a := e.instance(t.TempDir())
	led := newLedger()
	stop := make(chan struct{})
	wg := led.converse(6, stop, func() *phonesim.Emulator { return a.sim })
	untilAcked(t, led, 30)
	e.stopPG()
	untilSpooled(t, a, 100)
	e.stopRedis()
	time.Sleep(200 * time.Millisecond) // texts meanwhile: Redis is away
	e.startRedis()
	untilSpooled(t, a, 300)
	e.startPG()
	close(stop)
	wg.Wait()
	settle(t, a)
	led.check(t, e.dbURL())
}

// Postgres and then Redis go down, and the server stops (as on SIGTERM)
// with answers still in its spool; a fresh server on the same spool folder
// writes them once both are back. While nothing can keep a text, the
// webhook answers 503, never a false 200.
func TestFaultBothDownThenShutdown(t *testing.T) {
	t.Parallel()
	e := newFaultEnv(t)
	spool := t.TempDir()
	a := e.instance(spool)
	led := newLedger()
	stop := make(chan struct{})
	wg := led.converse(6, stop, func() *phonesim.Emulator { return a.sim })
	untilAcked(t, led, 30)
	e.stopPG()
	untilSpooled(t, a, 100)
	e.stopRedis()
	n := len(ackedNow(led))
	untilAcked(t, led, n+20) // answered "sorry" and kept in the spool
	close(stop)
	wg.Wait()
	a.hs.Close()
	a.srv.Close() // the flush fails: the events stay in the folder
	if a.srv.Journal.Stats().Depth == 0 {
		t.Fatal("the spool was emptied with Postgres down?")
	}

	// Nothing can keep a text now (the spool is closed, Postgres is down):
	// 503, so Twilio's fallback URL takes it.
	late := httptest.NewServer(a.srv)
	defer late.Close()
	sim := phonesim.New(phonesim.Config{AccountSID: faultAccount, AuthToken: faultToken, WebhookBase: faultPublic,
		HTTPClient: &http.Client{Transport: phonesim.NewRedirectTransport(faultPublic, late.URL, nil), Timeout: 20 * time.Second}})
	defer sim.Close()
	res, err := sim.Text(context.Background(), "+447900000999", faultNumber, "DAYS")
	var se *phonesim.StatusError
	if !(errors.As(err, &se) && se.StatusCode == http.StatusServiceUnavailable) && res.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("a text nothing could keep: %v %+v, want 503", err, res)
	}

	e.startPG()
	e.startRedis()
	fresh := e.instance(spool)
	settle(t, fresh)
	led.check(t, e.dbURL())
}

func ackedNow(l *ledger) map[string]bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make(map[string]bool, len(l.acked))
	for k := range l.acked {
		out[k] = true
	}
	return out
}

// untilAcked waits until the load has had n texts answered 200.
func untilAcked(t *testing.T, l *ledger, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for len(ackedNow(l)) < n {
		if time.Now().After(deadline) {
			t.Fatalf("only %d texts answered 200, waiting for %d", len(ackedNow(l)), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// After Redis restarts with nothing in it, a text conversation left
// active is closed as partial by the sweeper, and the member's next text
// is told kindly that we lost our place, with the keyword to start again.
func TestFaultLostSessionsAreClosed(t *testing.T) {
	t.Parallel()
	e := newFaultEnv(t)
	a := e.instance(t.TempDir())
	led := newLedger()
	from := "+447900000123"
	led.text(a.sim, from, "DAYS")
	led.text(a.sim, from, "yes")
	settle(t, a)
	e.stopRedis()
	e.startRedis()
	ctx := context.Background()
	sessions := store.NewSMSSessions(a.rdb, time.Hour)
	deadline := time.Now().Add(10 * time.Second)
	var closed int
	for {
		n, err := sessions.CloseLost(ctx, a.db, 0, 100)
		if err == nil {
			closed = n
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("closing lost conversations: %v", err)
		}
		time.Sleep(50 * time.Millisecond) // the Redis client reconnects
	}
	if closed != 1 {
		t.Fatalf("closed %d conversations, want 1", closed)
	}
	conn, err := pgx.Connect(ctx, e.dbURL())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var status string
	if err := conn.QueryRow(ctx, `SELECT status FROM conversations`).Scan(&status); err != nil || status != "partial" {
		t.Fatalf("status %q (%v), want partial", status, err)
	}
	res, err := a.sim.Text(ctx, from, faultNumber, "1")
	if err != nil {
		t.Fatal(err)
	}
	reply := strings.Join(res.Messages, " ")
	if !strings.Contains(reply, survey.DefaultPhrases["sms-lapsed"]) || !strings.Contains(reply, "DAYS") {
		t.Fatalf("the next text got %q, want a kind restart", reply)
	}
	if n, _ := sessions.CloseLost(ctx, a.db, 0, 100); n != 0 {
		t.Fatalf("a second sweep closed %d more", n)
	}
}
