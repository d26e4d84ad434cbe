package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/alicebob/miniredis/v2"

	"github.com/haveyoursay/haveyoursay/config"
	"github.com/haveyoursay/haveyoursay/dashboard"
	"github.com/haveyoursay/haveyoursay/ops"
	"github.com/haveyoursay/haveyoursay/phonesim"
	"github.com/haveyoursay/haveyoursay/store"
	"github.com/haveyoursay/haveyoursay/store/localpg"
)

// deps is everything the HTTP server is built from.
type deps struct {
	cfg     config.Config
	sched   schedules
	log     *slog.Logger
	db      *store.DB
	redis   *store.Redis
	metrics *ops.Metrics
	dev     bool
}

func cmdServe(ctx context.Context, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := config.FromEnv(getenv)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitError{code: 1, msg: ""}
	}
	sched, err := readSchedules(cfg)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitError{code: 1, msg: ""}
	}
	log := slog.New(slog.NewJSONHandler(stderr, nil))
	db, err := store.OpenDB(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.CheckSchema(ctx); err != nil {
		return err
	}
	rdb, err := store.OpenRedis(ctx, cfg.RedisURL, cfg.RedisPrefix)
	if err != nil {
		return err
	}
	defer rdb.Close()
	return serveHTTP(ctx, deps{cfg: cfg, sched: sched, log: log, db: db, redis: rdb, metrics: ops.NewMetrics(db.Pool)}, stdout)
}

func cmdMigrate(ctx context.Context, getenv func(string) string, stdout, stderr io.Writer) error {
	url := getenv("DATABASE_URL")
	if msg := config.CheckDatabaseURL(url); msg != "" {
		return errors.New(msg)
	}
	db, err := store.OpenDB(ctx, url)
	if err != nil {
		return err
	}
	defer db.Close()
	applied, err := db.Migrate(ctx, nil)
	for _, a := range applied {
		fmt.Fprintf(stdout, "applied %s\n", a)
	}
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintln(stdout, "The database is already up to date.")
	} else {
		fmt.Fprintln(stdout, "The database is up to date.")
	}
	return nil
}

// cmdDev runs everything locally: a private Postgres (unless DATABASE_URL is
// set), an in-process Redis (unless REDIS_URL is set), the demo survey.
func cmdDev(ctx context.Context, getenv func(string) string, stdout, stderr io.Writer) error {
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	dataDir := getenv("HYS_DATA_DIR")
	if dataDir == "" {
		dataDir = ".hys"
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return fmt.Errorf("making the data folder %s: %w", dataDir, err)
	}
	cfg := config.Defaults()
	if err := config.Optional(getenv, &cfg); err != nil {
		return err
	}
	sched, err := readSchedules(cfg)
	if err != nil {
		return err
	}
	cfg.DatabaseURL = getenv("DATABASE_URL")
	if cfg.DatabaseURL == "" {
		fmt.Fprintln(stdout, "Starting a private PostgreSQL (data in "+filepath.Join(dataDir, "pgdata")+") ...")
		pg, err := localpg.Start(ctx, filepath.Join(dataDir, "pgdata"))
		if err != nil {
			return err
		}
		defer func() {
			if err := pg.Stop(); err != nil {
				log.Error("stopping PostgreSQL", "err", err)
			}
		}()
		cfg.DatabaseURL = pg.URL()
	} else if msg := config.CheckDatabaseURL(cfg.DatabaseURL); msg != "" {
		return errors.New(msg)
	}
	cfg.RedisURL = getenv("REDIS_URL")
	if cfg.RedisURL == "" {
		mr, err := miniredis.Run()
		if err != nil {
			return fmt.Errorf("starting the in-process Redis: %w", err)
		}
		defer mr.Close()
		cfg.RedisURL = "redis://" + mr.Addr()
	} else if msg := config.CheckRedisURL(cfg.RedisURL); msg != "" {
		return errors.New(msg)
	}
	cfg.TwilioAccountSID = devAccountSID
	cfg.TwilioAuthToken = devAuthToken
	secret, err := devSecret(filepath.Join(dataDir, "secret-key"))
	if err != nil {
		return err
	}
	cfg.SecretKey = secret
	if cfg.PublicURL = getenv("PUBLIC_URL"); cfg.PublicURL == "" {
		cfg.PublicURL = "http://" + localAddr(cfg.ListenAddr)
	}
	// Texts sent in dev go to the Twilio emulator's REST API, never to Twilio.
	if cfg.TwilioAPIURL = getenv("TWILIO_API_URL"); cfg.TwilioAPIURL == "" {
		emu := phonesim.New(phonesim.Config{AccountSID: cfg.TwilioAccountSID, AuthToken: cfg.TwilioAuthToken, WebhookBase: cfg.PublicURL})
		defer emu.Close()
		apiURL, err := emu.StartAPIServer()
		if err != nil {
			return fmt.Errorf("starting the Twilio emulator: %w", err)
		}
		cfg.TwilioAPIURL = apiURL
	}

	db, err := store.OpenDB(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Migrate(ctx, log); err != nil {
		return err
	}
	rdb, err := store.OpenRedis(ctx, cfg.RedisURL, cfg.RedisPrefix)
	if err != nil {
		return err
	}
	defer rdb.Close()
	d := deps{cfg: cfg, sched: sched, log: log, db: db, redis: rdb, metrics: ops.NewMetrics(db.Pool), dev: true}
	if err := loadDemo(ctx, d, stdout); err != nil {
		return err
	}
	email, password, err := dashboard.EnsureDemoAdmin(ctx, db, rdb)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "The staff dashboard is at %s/ (sign in as %s with the password %s)\n", cfg.PublicURL, email, password)
	fmt.Fprintf(stdout, "Try a survey by text or by phone at %s/try\n", cfg.PublicURL)
	return serveHTTP(ctx, d, stdout)
}

// devSecret keeps one random secret per data folder, so numbers encrypted
// in one dev run can be read in the next.
func devSecret(path string) (string, error) {
	if b, err := os.ReadFile(path); err == nil && len(b) >= 32 {
		return string(b), nil
	}
	s := randomToken(48)
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		return "", fmt.Errorf("saving the dev secret key: %w", err)
	}
	return s, nil
}

func localAddr(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

// serveHTTP listens until ctx ends, then lets in-flight requests finish.
func serveHTTP(ctx context.Context, d deps, stdout io.Writer) error {
	ln, err := net.Listen("tcp", d.cfg.ListenAddr)
	if err != nil {
		return fmt.Errorf("cannot listen on %s (LISTEN_ADDR): %w", d.cfg.ListenAddr, err)
	}
	handler, cleanup, err := newServer(ctx, d)
	if err != nil {
		ln.Close()
		return err
	}
	defer cleanup()
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(d.log.Handler(), slog.LevelWarn),
	}
	fmt.Fprintf(stdout, "Have Your Say is listening on http://%s\n", localAddr(ln.Addr().String()))
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	d.log.Info("shutting down: finishing requests in progress")
	shutCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		return fmt.Errorf("shutting down: %w", err)
	}
	return nil
}
