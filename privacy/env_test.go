package privacy_test

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/haveyoursay/haveyoursay/config"
	"github.com/haveyoursay/haveyoursay/phonesim"
	"github.com/haveyoursay/haveyoursay/server"
	"github.com/haveyoursay/haveyoursay/store"
	"github.com/haveyoursay/haveyoursay/store/storetest"
	"github.com/haveyoursay/haveyoursay/survey"
)

const (
	accountSID = "AC0123456789abcdef0123456789abcdef"
	authToken  = "0123456789abcdef0123456789abcdef"
	secretKey  = "a-test-secret-that-is-long-enough-123"
	ourNumber  = "+447700900111"
)

// demoYAML is the demo survey, started by DAYS or by calls to ourNumber.
var demoYAML = strings.Replace(string(survey.DemoYAML), "keywords: [DAYS]", "keywords: [DAYS]\n  numbers: [\""+ourNumber+"\"]", 1)

// env is the whole server (server.New) on real Postgres and Redis behind
// real HTTP, with phonesim playing Twilio.
type env struct {
	t     *testing.T
	ctx   context.Context
	db    *store.DB
	redis *store.Redis
	srv   *server.Server
	sim   *phonesim.Emulator
}

func newEnv(t *testing.T, change func(*config.Config)) *env {
	t.Helper()
	return newEnvLog(t, change, slog.New(slog.DiscardHandler))
}

// newEnvLog is newEnv with the server logging to log.
func newEnvLog(t *testing.T, change func(*config.Config), log *slog.Logger) *env {
	t.Helper()
	ctx := context.Background()
	db := storetest.DB(t)
	rdb := storetest.Redis(t)
	s, err := survey.Parse("test.yaml", []byte(demoYAML))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.SaveSurvey(ctx, s.ID, s.Title, demoYAML, "test.yaml"); err != nil {
		t.Fatal(err)
	}
	var handler http.Handler = http.NotFoundHandler()
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(hs.Close)
	sim := phonesim.New(phonesim.Config{AccountSID: accountSID, AuthToken: authToken, WebhookBase: hs.URL})
	t.Cleanup(func() { sim.Close() })
	apiURL, err := sim.StartAPIServer()
	if err != nil {
		t.Fatal(err)
	}
	cfg := config.Defaults()
	cfg.OrgName, cfg.SecretKey, cfg.PublicURL = "Oakfield", secretKey, hs.URL
	cfg.TwilioAccountSID, cfg.TwilioAuthToken, cfg.TwilioAPIURL = accountSID, authToken, apiURL
	cfg.SMSFrom = ourNumber
	cfg.ReminderAfter = 0
	if change != nil {
		change(&cfg)
	}
	srv, err := server.New(ctx, server.Deps{Config: cfg, Log: log, DB: db, Redis: rdb})
	if err != nil {
		t.Fatal(err)
	}
	handler = srv
	t.Cleanup(func() { hs.Close(); srv.Close() })
	return &env{t: t, ctx: ctx, db: db, redis: rdb, srv: srv, sim: sim}
}

// text sends a text as the member and returns our replies.
func (e *env) text(from, body string) []string {
	e.t.Helper()
	res, err := e.sim.Text(e.ctx, from, ourNumber, body)
	if err != nil {
		e.t.Fatalf("texting %q: %v", body, err)
	}
	return res.Messages
}

// flush waits until every journalled event is in Postgres.
func (e *env) flush() {
	e.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		err := e.srv.Journal.Flush(e.ctx)
		n, perr := e.srv.Journal.Pending(e.ctx)
		if err == nil && perr == nil && n == 0 {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("the journal did not reach Postgres: %v %v (%d pending)", err, perr, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitFor polls cond until it holds (or fails the test after a minute).
func (e *env) waitFor(what string, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			e.t.Fatalf("waited a minute for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// count runs a count query.
func (e *env) count(sql string, args ...any) int {
	e.t.Helper()
	var n int
	if err := storetest.SQL(e.t, e.db).QueryRow(e.ctx, sql, args...).Scan(&n); err != nil {
		e.t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// needles are the ways a member's number can be written down: in clear,
// its keyed hash (as bytes in hex, as the Redis key form, in base64 as the
// spool's JSON has it), and the recordings they made.
func (e *env) needles(number string, recordings []string) []string {
	h := e.srv.Phones.Hash(number)
	out := []string{number, strings.TrimPrefix(number, "+"), number[len(number)-9:], hex.EncodeToString(h),
		e.srv.Phones.HashString(number), base64.StdEncoding.EncodeToString(h), hex.EncodeToString([]byte(number))}
	return append(out, recordings...)
}

// traces searches every column of every table that can hold text or bytes
// (text, varchar, bytea, json, jsonb, arrays, tsvector) for each needle,
// and returns where each was found.
func (e *env) traces(needles []string, skip func(table string) bool) []string {
	e.t.Helper()
	pool := storetest.SQL(e.t, e.db)
	rows, err := pool.Query(e.ctx, `SELECT table_name, column_name, data_type FROM information_schema.columns
		WHERE table_schema = current_schema()
		AND data_type IN ('text', 'character varying', 'character', 'bytea', 'json', 'jsonb', 'ARRAY', 'tsvector', 'USER-DEFINED')
		AND table_name IN (SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE')
		ORDER BY table_name, column_name`)
	if err != nil {
		e.t.Fatal(err)
	}
	type col struct{ table, column, kind string }
	var cols []col
	for rows.Next() {
		var c col
		if err := rows.Scan(&c.table, &c.column, &c.kind); err != nil {
			e.t.Fatal(err)
		}
		cols = append(cols, c)
	}
	rows.Close()
	if len(cols) < 20 {
		e.t.Fatalf("only %d columns to search: the search is broken", len(cols))
	}
	var found []string
	for _, c := range cols {
		if skip != nil && skip(c.table) {
			continue
		}
		for _, n := range needles {
			var hits int
			q := fmt.Sprintf(`SELECT count(*) FROM %q WHERE position(lower($1) in lower(%q::text)) > 0`, c.table, c.column)
			if err := pool.QueryRow(e.ctx, q, n).Scan(&hits); err != nil {
				e.t.Fatalf("%s: %v", q, err)
			}
			if hits > 0 {
				found = append(found, fmt.Sprintf("%s.%s holds %q (%d rows)", c.table, c.column, n, hits))
			}
		}
	}
	return found
}

// redisTraces searches every key of the test's Redis key space, and every
// value in it, for each needle.
// spoolTraces lists the files of the server's file spool that hold a
// needle: what is waiting on disk on its way to Postgres.
func (e *env) spoolTraces(needles []string) []string {
	e.t.Helper()
	dir := e.srv.Journal.SpoolDir()
	if dir == "" {
		e.t.Fatal("the server has no file spool")
	}
	var found []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, n := range needles {
			if strings.Contains(strings.ToLower(string(b)), strings.ToLower(n)) {
				found = append(found, fmt.Sprintf("spool file %s holds %q", filepath.Base(path), n))
			}
		}
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return found
}

func (e *env) redisTraces(needles []string) []string {
	e.t.Helper()
	rc := storetest.RedisClient(e.t, e.redis)
	keys, err := rc.Keys(e.ctx, e.redis.Prefix+"*").Result()
	if err != nil {
		e.t.Fatal(err)
	}
	var found []string
	for _, k := range keys {
		var vals []string
		switch typ := rc.Type(e.ctx, k).Val(); typ {
		case "string":
			vals = []string{rc.Get(e.ctx, k).Val()}
		case "list":
			vals = rc.LRange(e.ctx, k, 0, -1).Val()
		case "set":
			vals = rc.SMembers(e.ctx, k).Val()
		case "zset":
			vals = rc.ZRange(e.ctx, k, 0, -1).Val()
		case "hash":
			for f, v := range rc.HGetAll(e.ctx, k).Val() {
				vals = append(vals, f, v)
			}
		case "none":
		default:
			e.t.Fatalf("key %s is a %s, which this test cannot read", k, typ)
		}
		for _, n := range needles {
			if strings.Contains(strings.ToLower(k), strings.ToLower(n)) {
				found = append(found, fmt.Sprintf("key %s names %q", k, n))
			}
			for _, v := range vals {
				if strings.Contains(strings.ToLower(v), strings.ToLower(n)) {
					found = append(found, fmt.Sprintf("key %s holds %q", k, n))
				}
			}
		}
	}
	return found
}
