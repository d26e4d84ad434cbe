// Package store is the only package that speaks SQL or Redis commands:
// Postgres keeps everything durable, Redis keeps live conversations.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations returns the embedded SQL migrations, in the folder layout goose
// reads.
func Migrations() fs.FS {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		panic(err) // the folder is embedded at build time
	}
	return sub
}

// ErrSchemaOutOfDate means the database needs `haveyoursay migrate`.
var ErrSchemaOutOfDate = errors.New("the database is not up to date: run `haveyoursay migrate` first")

// DB is the Postgres side of the store.
type DB struct {
	pool *pgxpool.Pool
	// worryAlerts queues the alert texts for a new worry, in the
	// transaction that records it (Queue.AlertWorries); nil: no alerts.
	worryAlerts atomic.Pointer[worryAlerter]
	needs       needsIndex // who has communication needs (needs.go)
}

// OpenDB connects to Postgres and checks that it answers.
func OpenDB(ctx context.Context, url string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("reading DATABASE_URL: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connecting to Postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("could not reach Postgres at %s:%d: %w", cfg.ConnConfig.Host, cfg.ConnConfig.Port, err)
	}
	return &DB{pool: pool}, nil
}

// CheckDatabaseURL reports whether url is a PostgreSQL address this store
// can connect with; config turns the error into a sentence for people.
func CheckDatabaseURL(url string) error {
	_, err := pgxpool.ParseConfig(url)
	return err
}

// PoolStats is a snapshot of the Postgres connection pool, for metrics.
type PoolStats struct {
	Idle, Acquired, Max int32
	Acquires            int64         // connections acquired since start
	AcquireWait         time.Duration // time spent waiting for a connection since start
}

// PoolStats returns a snapshot of the connection pool.
func (db *DB) PoolStats() PoolStats {
	s := db.pool.Stat()
	return PoolStats{Idle: s.IdleConns(), Acquired: s.AcquiredConns(), Max: s.MaxConns(),
		Acquires: s.AcquireCount(), AcquireWait: s.AcquireDuration()}
}

// Close closes every connection.
func (db *DB) Close() { db.pool.Close() }

// Ping checks that Postgres answers.
func (db *DB) Ping(ctx context.Context) error { return db.pool.Ping(ctx) }

func (db *DB) migrator() (*goose.Provider, *sql.DB, error) {
	sqldb := stdlib.OpenDBFromPool(db.pool)
	// Out of order: migrations are numbered as work starts, not as it
	// merges, so a database may have a later one before an earlier one
	// arrives; the earlier one is applied then.
	p, err := goose.NewProvider(goose.DialectPostgres, sqldb, Migrations(),
		goose.WithDisableGlobalRegistry(true), goose.WithAllowOutofOrder(true))
	if err != nil {
		sqldb.Close()
		return nil, nil, err
	}
	return p, sqldb, nil
}

// Migrate applies every migration not yet applied, each in its own
// transaction, and returns the names of those it applied.
func (db *DB) Migrate(ctx context.Context, log *slog.Logger) ([]string, error) {
	p, sqldb, err := db.migrator()
	if err != nil {
		return nil, err
	}
	defer sqldb.Close()
	results, err := p.Up(ctx)
	var applied []string
	for _, r := range results {
		applied = append(applied, r.Source.Path)
		if log != nil {
			log.Info("migration applied", "file", r.Source.Path, "took", r.Duration)
		}
	}
	if err != nil {
		return applied, fmt.Errorf("migrating the database: %w", err)
	}
	// The job queue (River) keeps its own versioned tables.
	if err := db.MigrateRiver(ctx); err != nil {
		return applied, err
	}
	// Surveys stored before keywords were kept in a table of their own.
	if err := db.claimStored(ctx); err != nil {
		return applied, err
	}
	return applied, nil
}

// MigrateDownTo undoes the migrations after version, newest first (tests
// use it to make a database as an older release left it).
func (db *DB) MigrateDownTo(ctx context.Context, version int64) error {
	p, sqldb, err := db.migrator()
	if err != nil {
		return err
	}
	defer sqldb.Close()
	_, err = p.DownTo(ctx, version)
	return err
}

// CheckSchema returns ErrSchemaOutOfDate when migrations are pending.
func (db *DB) CheckSchema(ctx context.Context) error {
	p, sqldb, err := db.migrator()
	if err != nil {
		return err
	}
	defer sqldb.Close()
	// Pending counts a migration below the newest applied one too (merged
	// later), which comparing version numbers would miss.
	pending, err := p.HasPending(ctx)
	if err != nil {
		return fmt.Errorf("reading the database's schema version: %w", err)
	}
	if pending {
		return ErrSchemaOutOfDate
	}
	return db.CheckRiver(ctx)
}
