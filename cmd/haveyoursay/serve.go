package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/alicebob/miniredis/v2"

	"github.com/haveyoursay/haveyoursay/config"
	"github.com/haveyoursay/haveyoursay/dashboard"
	"github.com/haveyoursay/haveyoursay/demo"
	"github.com/haveyoursay/haveyoursay/phonesim"
	"github.com/haveyoursay/haveyoursay/server"
	"github.com/haveyoursay/haveyoursay/store"
	"github.com/haveyoursay/haveyoursay/store/localpg"
)

func cmdServe(ctx context.Context, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := config.FromEnv(getenv)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitError{code: 1, msg: ""}
	}
	log := slog.New(slog.NewJSONHandler(stderr, nil))
	if cfg.SpoolDir == "" {
		cfg.SpoolDir = "spool" // beside the working directory; see docs/operations.md
	}
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
	if persistent, known := rdb.Persistent(ctx); known && !persistent {
		log.Warn("Redis does not persist its data (appendonly is off and there are no snapshots): no answer is lost, " +
			"but after a Redis restart members in the middle of a survey start again. Turn on appendonly (docs/operations.md).")
	}
	return serveHTTP(ctx, server.Deps{Config: cfg, Log: log, DB: db, Redis: rdb}, stdout, nil)
}

func cmdMigrate(ctx context.Context, getenv func(string) string, stdout, stderr io.Writer) error {
	url, err := config.DatabaseFromEnv(getenv)
	if err != nil {
		return err
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
	dev, err := config.ForDev(getenv)
	if err != nil {
		return err
	}
	cfg := dev.Config
	if err := os.MkdirAll(dev.DataDir, 0o755); err != nil {
		return fmt.Errorf("making the data folder %s: %w", dev.DataDir, err)
	}
	if cfg.DatabaseURL == "" {
		fmt.Fprintln(stdout, "Starting a private PostgreSQL (data in "+filepath.Join(dev.DataDir, "pgdata")+") ...")
		pg, err := localpg.Start(ctx, filepath.Join(dev.DataDir, "pgdata"))
		if err != nil {
			return err
		}
		defer func() {
			if err := pg.Stop(); err != nil {
				log.Error("stopping PostgreSQL", "err", err)
			}
		}()
		cfg.DatabaseURL = pg.URL()
	}
	if cfg.RedisURL == "" {
		mr, err := miniredis.Run()
		if err != nil {
			return fmt.Errorf("starting the in-process Redis: %w", err)
		}
		defer mr.Close()
		cfg.RedisURL = "redis://" + mr.Addr()
	}
	if getenv("HYS_DRAIN_PERIOD") == "" {
		cfg.DrainPeriod = 0 // no load balancer in front of dev
	}
	if cfg.SpoolDir == "" {
		cfg.SpoolDir = filepath.Join(dev.DataDir, "spool")
	}
	cfg.TwilioAccountSID = devAccountSID
	cfg.TwilioAuthToken = devAuthToken
	if cfg.SecretKey, err = devSecret(filepath.Join(dev.DataDir, "secret-key")); err != nil {
		return err
	}
	if cfg.PublicURL == "" {
		cfg.PublicURL = "http://" + localAddr(cfg.ListenAddr)
	}
	// Texts sent in dev go to the Twilio emulator's REST API, never to Twilio.
	if cfg.TwilioAPIURL == "" {
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
	if err := loadDemo(ctx, db, stdout); err != nil {
		return err
	}
	email, password, err := dashboard.EnsureDemoAdmin(ctx, db, rdb)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "The staff dashboard is at %s/ (sign in as %s with the password %s)\n", cfg.PublicURL, email, password)
	fmt.Fprintf(stdout, "Try a survey by text or by phone at %s/try\n", cfg.PublicURL)
	d := server.Deps{Config: cfg, Log: log, DB: db, Redis: rdb, Dev: true}
	return serveHTTP(ctx, d, stdout, func(ctx context.Context, s *server.Server) {
		loadDemoConversations(ctx, d, s, dev.DemoConversations, stdout)
	})
}

// loadDemoConversations fills an empty database with a few hundred
// conversations, made by scripted members texting and calling the real
// webhooks, spread over six weeks, so no dashboard page is empty. A
// database that already has conversations is left as it is.
func loadDemoConversations(ctx context.Context, d server.Deps, s *server.Server, n int, stdout io.Writer) {
	if n == 0 {
		return
	}
	if has, err := d.DB.HasConversations(ctx); err != nil || has {
		return
	}
	fmt.Fprintln(stdout, "Loading demo conversations (members texting and calling the demo surveys) ...")
	res, err := demo.Load(ctx, demo.Options{Handler: s, PublicURL: d.Config.PublicURL, Conversations: n,
		AccountSID: d.Config.TwilioAccountSID, AuthToken: d.Config.TwilioAuthToken, Log: d.Log,
		Settle: s.Journal.Settle,
		Backdate: func(ctx context.Context, shifts []demo.Shift) error {
			out := make([]store.Shift, len(shifts))
			for i, sh := range shifts {
				out[i] = store.Shift{PhoneHash: s.Phones.Hash(sh.Phone), From: sh.From, To: sh.To, By: sh.By}
			}
			return d.DB.Backdate(ctx, out)
		}})
	if err != nil {
		d.Log.Warn("some demo conversations could not be loaded", "err", err)
	}
	fmt.Fprintf(stdout, "Loaded %d demo conversations (%d by text, %d by phone).\n", res.Conversations, res.Texts, res.Calls)
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

// randomToken returns n random letters and digits.
func randomToken(n int) string {
	const alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
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
// ready, when not nil, runs in the background once the server listens.
func serveHTTP(ctx context.Context, d server.Deps, stdout io.Writer, ready func(context.Context, *server.Server)) error {
	ln, err := net.Listen("tcp", d.Config.ListenAddr)
	if err != nil {
		return fmt.Errorf("cannot listen on %s (LISTEN_ADDR): %w", d.Config.ListenAddr, err)
	}
	s, err := server.New(ctx, d)
	if err != nil {
		ln.Close()
		return err
	}
	defer s.Close()
	srv := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(d.Log.Handler(), slog.LevelWarn),
	}
	fmt.Fprintf(stdout, "Have Your Say is listening on http://%s\n", localAddr(ln.Addr().String()))
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	var bg sync.WaitGroup
	defer bg.Wait() // before s.Close: the demo still talks to the server
	if ready != nil {
		bg.Go(func() { ready(ctx, s) })
	}
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// Drain: /readyz says 503 at once so load balancers stop sending new
	// requests, but everything is still answered for the drain period
	// (Twilio does not retry a refused text); then requests in flight
	// finish, and the deferred Close stops the workers and empties the
	// spool into Postgres.
	s.Drain()
	d.Log.Info("shutting down: /readyz now says 503; still answering during the drain period", "drain", d.Config.DrainPeriod)
	select {
	case <-time.After(d.Config.DrainPeriod):
	case err := <-errc:
		return err
	}
	d.Log.Info("shutting down: finishing requests in progress")
	shutCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		return fmt.Errorf("shutting down: %w", err)
	}
	return nil
}
