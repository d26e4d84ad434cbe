package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/mux"

	"github.com/haveyoursay/haveyoursay/ops"
	"github.com/haveyoursay/haveyoursay/sms"
	"github.com/haveyoursay/haveyoursay/store"
	"github.com/haveyoursay/haveyoursay/webhook"
)

// newServer builds the whole HTTP surface. Every URL the service answers is
// listed here. The returned cleanup stops background work after the HTTP
// server has finished its requests.
func newServer(ctx context.Context, d deps) (http.Handler, func(), error) {
	phones, err := store.NewPhones(d.cfg.SecretKey)
	if err != nil {
		return nil, nil, err
	}
	catalog := store.NewCatalog(d.db)
	if err := catalog.Reload(ctx); err != nil {
		return nil, nil, fmt.Errorf("loading surveys: %w", err)
	}
	journal := store.NewJournal(d.db, d.redis, d.log)
	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	wg.Go(func() { journal.Run(bg) })
	wg.Go(func() { reloadSurveys(bg, catalog, d.log) })
	cleanup := func() {
		stopBG()
		wg.Wait()
		fctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := journal.Flush(fctx); err != nil {
			d.log.Error("some answers are still in the Redis spool; they will be written at the next start", "err", err)
		}
	}
	verifier := webhook.Verifier{AuthToken: d.cfg.TwilioAuthToken, PublicURL: d.cfg.PublicURL}
	failed := func(channel string) func(string) {
		return func(cause string) { d.metrics.Failures.WithLabelValues(channel, cause).Inc() }
	}
	texts := &sms.Handler{
		Verifier: verifier, Catalog: catalog, Journal: journal, Redis: d.redis, Phones: phones,
		Org:        sms.Org{Name: d.cfg.OrgName, Phone: d.cfg.OrgPhone, About: d.cfg.OrgAbout},
		SessionTTL: d.cfg.SMSSessionTTL, ConfirmStop: d.cfg.SMSConfirmStop, Log: d.log, Failed: failed("sms"),
	}

	r := mux.NewRouter()
	r.Use(d.metrics.Middleware(d.log))

	// Twilio webhooks (paste these into the Twilio console; see README).
	r.HandleFunc("/twilio/sms", texts.ServeInbound).Methods(http.MethodPost)       // a member's text
	r.HandleFunc("/twilio/sms/status", texts.ServeStatus).Methods(http.MethodPost) // delivery of a text we sent

	// Operations.
	r.HandleFunc("/healthz", ops.Healthz).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/readyz", ops.Checks{
		"postgres": d.db.Ping,
		"redis":    d.redis.Ping,
	}.Readyz).Methods(http.MethodGet)
	r.Handle("/metrics", d.metrics.Handler()).Methods(http.MethodGet)

	return r, cleanup, nil
}

// reloadSurveys picks up surveys imported by another process.
func reloadSurveys(ctx context.Context, c *store.Catalog, log *slog.Logger) {
	t := time.NewTicker(30 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := c.Reload(ctx); err != nil && ctx.Err() == nil {
				log.Error("reloading surveys", "err", err)
			}
		}
	}
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
