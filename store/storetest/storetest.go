// Package storetest gives each test its own real Postgres database and its
// own Redis key space.
//
// The first test in a process migrates a template database (named after a
// hash of the migrations, so a schema change makes a new one); every test
// then gets a copy made with CREATE DATABASE … TEMPLATE, dropped when the
// test ends. Redis keys get a per-test prefix and are deleted afterwards.
//
// Connections come from TEST_DATABASE_URL and TEST_REDIS_URL, defaulting to
// postgres://postgres@127.0.0.1:5432/postgres and redis://127.0.0.1:6379.
// `make test` starts private servers when none are running. A missing
// server fails the test with a sentence saying how to start one: it never
// skips.
//
// # Looking underneath the store in tests
//
// Package store is the only package that speaks SQL or Redis commands, so
// store.DB and store.Redis hand out no raw clients. A test that must check
// a row or a key that no store method offers asks this package instead:
//
//   - SQL(t, db) is a *pgxpool.Pool on the same database as db, for a db from
//     DB or Open. It is opened on first use and closed when the test ends,
//     before its database is dropped.
//   - RedisClient(t, r) is a Redis client on the same server as r, for an r
//     from Redis or OpenRedis; keys are under r.Prefix (build them with
//     r.Key).
//   - Open(t, url) and OpenRedis(t, url, prefix) replace store.OpenDB and
//     store.OpenRedis in a test that connects to an address of its own (a
//     proxy, say), so SQL and RedisClient know where it points; both close
//     when the test ends.
//   - SQLAt(t, url) is a pool on any Postgres address, for a test that has
//     no *store.DB (closed when the test ends, or earlier by the test).
//
// So `db.Pool.QueryRow(ctx, q)` in an older test becomes
// `storetest.SQL(t, db).QueryRow(ctx, q)`, and `r.Client.LLen(ctx, k)`
// becomes `storetest.RedisClient(t, r).LLen(ctx, k)`. Prefer a store method
// when one already gives the value.
package storetest

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/haveyoursay/haveyoursay/store"
)

const howToStart = "start PostgreSQL and Redis (or run `make test`, which starts private ones), or set TEST_DATABASE_URL and TEST_REDIS_URL"

// AdminURL is the Postgres server tests use, from TEST_DATABASE_URL.
func AdminURL() string {
	if v := os.Getenv("TEST_DATABASE_URL"); v != "" {
		return v
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// RedisURL is the Redis server tests use, from TEST_REDIS_URL.
func RedisURL() string {
	if v := os.Getenv("TEST_REDIS_URL"); v != "" {
		return v
	}
	return "redis://127.0.0.1:6379/0"
}

var (
	templateOnce sync.Once
	templateName string
	templateErr  error
)

// schemaGeneration changes whenever Migrate does more than the SQL files
// (it also creates River's job tables), so old templates are not reused.
const schemaGeneration = "goose+river-v0.51"

func migrationsHash() (string, error) {
	h := sha256.New()
	h.Write([]byte(schemaGeneration))
	var names []string
	err := fs.WalkDir(store.Migrations(), ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			names = append(names, p)
		}
		return err
	})
	if err != nil {
		return "", err
	}
	sort.Strings(names)
	for _, n := range names {
		b, err := fs.ReadFile(store.Migrations(), n)
		if err != nil {
			return "", err
		}
		h.Write([]byte(n))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:12], nil
}

// withDatabase returns url with its database name replaced.
func withDatabase(raw, name string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	u.Path = "/" + name
	return u.String()
}

func adminConn(ctx context.Context) (*pgx.Conn, error) {
	c, err := pgx.Connect(ctx, AdminURL())
	if err != nil {
		return nil, fmt.Errorf("cannot reach the test Postgres at %s (%v): %s", AdminURL(), err, howToStart)
	}
	return c, nil
}

func makeTemplate(ctx context.Context) (string, error) {
	hash, err := migrationsHash()
	if err != nil {
		return "", err
	}
	name := "hys_template_" + hash
	conn, err := adminConn(ctx)
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	// Several test binaries start at once: one of them builds the template.
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock(727274)"); err != nil {
		return "", err
	}
	defer conn.Exec(context.Background(), "SELECT pg_advisory_unlock(727274)")
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1 AND datistemplate)", name).Scan(&exists); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	if _, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
		return "", err
	}
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", err
	}
	db, err := store.OpenDB(ctx, withDatabase(AdminURL(), name))
	if err != nil {
		return "", err
	}
	_, err = db.Migrate(ctx, nil)
	db.Close()
	if err != nil {
		return "", err
	}
	if _, err := conn.Exec(ctx, "ALTER DATABASE "+name+" WITH is_template true"); err != nil {
		return "", err
	}
	return name, nil
}

func randomSuffix() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// DatabaseURL creates a fresh, migrated database for this test and returns
// its URL. The database is dropped when the test ends.
func DatabaseURL(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	templateOnce.Do(func() { templateName, templateErr = makeTemplate(ctx) })
	if templateErr != nil {
		t.Fatalf("preparing the test database: %v", templateErr)
	}
	conn, err := adminConn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	name := "hys_test_" + randomSuffix()
	for attempt := 0; ; attempt++ {
		_, err = conn.Exec(ctx, "CREATE DATABASE "+name+" TEMPLATE "+templateName)
		var pgErr *pgconn.PgError
		// 55006: the template is briefly in use by another copy.
		if err != nil && errors.As(err, &pgErr) && pgErr.Code == "55006" && attempt < 50 {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		break
	}
	if err != nil {
		t.Fatalf("creating the test database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := adminConn(ctx)
		if err != nil {
			t.Errorf("dropping the test database: %v", err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("dropping the test database: %v", err)
		}
	})
	return withDatabase(AdminURL(), name)
}

// DB opens a fresh, migrated database for this test.
func DB(t testing.TB) *store.DB {
	t.Helper()
	return Open(t, DatabaseURL(t))
}

// Open opens the database at url for this test, closed when the test ends,
// and remembers the address for SQL.
func Open(t testing.TB, url string) *store.DB {
	t.Helper()
	db, err := store.OpenDB(context.Background(), url)
	if err != nil {
		t.Fatalf("opening the test database: %v", err)
	}
	e := &sqlEntry{url: url}
	registry.Lock()
	registry.dbs[db] = e
	registry.Unlock()
	// Runs before the drop registered by DatabaseURL.
	t.Cleanup(func() {
		registry.Lock()
		delete(registry.dbs, db)
		registry.Unlock()
		e.close()
		db.Close()
	})
	return db
}

// sqlEntry is where a *store.DB handed out here points, and the pool SQL
// opened on it, if any.
type sqlEntry struct {
	url  string
	mu   sync.Mutex
	pool *pgxpool.Pool
}

func (e *sqlEntry) close() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.pool != nil {
		e.pool.Close()
	}
}

// redisEntry is where a *store.Redis handed out here points, and the
// client RedisClient opened on it, if any.
type redisEntry struct {
	url    string
	mu     sync.Mutex
	client *redis.Client
}

func (e *redisEntry) close() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.client != nil {
		e.client.Close()
	}
}

// registry remembers the address behind each store handed out by DB, Open,
// Redis and OpenRedis, until its test ends.
var registry = struct {
	sync.Mutex
	dbs     map[*store.DB]*sqlEntry
	redises map[*store.Redis]*redisEntry
}{dbs: map[*store.DB]*sqlEntry{}, redises: map[*store.Redis]*redisEntry{}}

// SQL returns a pool on the same database as db, which must come from DB
// or Open, for checks no store method offers. It is closed when db's test
// ends.
func SQL(t testing.TB, db *store.DB) *pgxpool.Pool {
	t.Helper()
	registry.Lock()
	e := registry.dbs[db]
	registry.Unlock()
	if e == nil {
		t.Fatal("storetest.SQL needs a *store.DB from storetest.DB or storetest.Open (its test may have ended)")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.pool == nil {
		p, err := openPool(e.url)
		if err != nil {
			t.Fatal(err)
		}
		e.pool = p
	}
	return e.pool
}

// SQLAt returns a pool on the Postgres database at url, closed when the
// test ends (closing it earlier is fine).
func SQLAt(t testing.TB, url string) *pgxpool.Pool {
	t.Helper()
	p, err := openPool(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

func openPool(url string) (*pgxpool.Pool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, err := pgxpool.New(ctx, url)
	if err != nil {
		return nil, fmt.Errorf("opening a pool on the test database: %w", err)
	}
	if err := p.Ping(ctx); err != nil {
		p.Close()
		return nil, fmt.Errorf("cannot reach the test database (%v): %s", err, howToStart)
	}
	return p, nil
}

// RedisPrefix returns a key prefix of this test's own and deletes every key
// under it when the test ends.
func RedisPrefix(t testing.TB) string {
	t.Helper()
	opts, err := redis.ParseURL(RedisURL())
	if err != nil {
		t.Fatalf("TEST_REDIS_URL is not a Redis address: %v", err)
	}
	c := redis.NewClient(opts)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		t.Fatalf("cannot reach the test Redis at %s (%v): %s", RedisURL(), err, howToStart)
	}
	prefix := "test:" + strings.ReplaceAll(t.Name(), "/", ".") + ":" + randomSuffix() + ":"
	t.Cleanup(func() {
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		iter := c.Scan(ctx, 0, prefix+"*", 500).Iterator()
		var keys []string
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		if len(keys) > 0 {
			c.Del(ctx, keys...)
		}
	})
	return prefix
}

// Redis opens the test Redis with a key prefix of this test's own.
func Redis(t testing.TB) *store.Redis {
	t.Helper()
	return OpenRedis(t, RedisURL(), RedisPrefix(t))
}

// OpenRedis opens the Redis at url with keys under prefix for this test,
// closed when the test ends, and remembers the address for RedisClient.
// It does not delete keys: take prefix from RedisPrefix for that.
func OpenRedis(t testing.TB, url, prefix string) *store.Redis {
	t.Helper()
	r, err := store.OpenRedis(context.Background(), url, prefix)
	if err != nil {
		t.Fatalf("cannot reach the test Redis: %v: %s", err, howToStart)
	}
	e := &redisEntry{url: url}
	registry.Lock()
	registry.redises[r] = e
	registry.Unlock()
	t.Cleanup(func() {
		registry.Lock()
		delete(registry.redises, r)
		registry.Unlock()
		e.close()
		r.Close()
	})
	return r
}

// RedisClient returns a client on the same Redis as r, which must come
// from Redis or OpenRedis, for checks no store method offers. Its keys are
// not prefixed: build them with r.Key. It is closed when r's test ends.
func RedisClient(t testing.TB, r *store.Redis) redis.UniversalClient {
	t.Helper()
	registry.Lock()
	e := registry.redises[r]
	registry.Unlock()
	if e == nil {
		t.Fatal("storetest.RedisClient needs a *store.Redis from storetest.Redis or storetest.OpenRedis (its test may have ended)")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.client == nil {
		opts, err := redis.ParseURL(e.url)
		if err != nil {
			t.Fatalf("%s is not a Redis address: %v", e.url, err)
		}
		e.client = redis.NewClient(opts)
	}
	return e.client
}
