package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"github.com/haveyoursay/haveyoursay/privacy"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"syscall"
	"time"

	"github.com/haveyoursay/haveyoursay/config"
	"github.com/haveyoursay/haveyoursay/server"
	"github.com/haveyoursay/haveyoursay/store"
)

func cmdServe(ctx context.Context, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := config.FromEnv(getenv)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitError{code: 1, msg: ""}
	}
	log := slog.New(privacy.MaskNumbers(slog.NewJSONHandler(stderr, nil))) // rule 7: no number in clear
	server.TuneGC(getenv)
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
// ready, when not nil, runs in the background once the server listens on
// the address listen.
func serveHTTP(ctx context.Context, d server.Deps, stdout io.Writer, ready func(ctx context.Context, s *server.Server, listen string)) error {
	ln, err := net.Listen("tcp", d.Config.ListenAddr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Errorf("Something else is already listening on %s: another Have Your Say, perhaps. Stop it, or set LISTEN_ADDR to another port, like LISTEN_ADDR=:8081.", d.Config.ListenAddr)
	}
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
		bg.Go(func() { ready(ctx, s, ln.Addr().String()) })
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
