package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/mux"

	"github.com/haveyoursay/haveyoursay/audio"
	"github.com/haveyoursay/haveyoursay/dashboard"
	"github.com/haveyoursay/haveyoursay/ivr"
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
	org := sms.Org{Name: d.cfg.OrgName, Phone: d.cfg.OrgPhone, About: d.cfg.OrgAbout}
	texts := &sms.Handler{
		Verifier: verifier, Catalog: catalog, Journal: journal, Redis: d.redis, Phones: phones, Org: org,
		SessionTTL: d.cfg.SMSSessionTTL, ConfirmStop: d.cfg.SMSConfirmStop, Log: d.log, Failed: failed("sms"),
		Needs: d.db.ParticipantNeeds,
	}

	// Invitations and reminders, sent by durable jobs.
	sender, err := sms.NewSender(sms.SenderDeps{DB: d.db, Redis: d.redis, Phones: phones, Catalog: catalog, Log: d.log,
		Texter: sms.NewTexter(d.cfg.TwilioAccountSID, d.cfg.TwilioAuthToken, d.cfg.TwilioAPIURL, d.cfg.PublicURL)},
		sms.SenderConfig{From: d.cfg.SMSFrom, Rate: d.cfg.SMSRate, Quiet: d.sched.quiet, ReminderAfter: d.cfg.ReminderAfter,
			SessionTTL: d.cfg.SMSSessionTTL, Org: org})
	if err != nil {
		return nil, nil, err
	}
	if err := sender.Start(bg); err != nil {
		return nil, nil, fmt.Errorf("starting the text sender: %w", err)
	}
	stopJournal := cleanup
	cleanup = func() {
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := sender.Stop(sctx); err != nil {
			d.log.Error("stopping the text sender", "err", err)
		}
		stopJournal()
	}

	// Calls: the prompt library and the voice webhooks.
	prompts := audio.NewLibrary(d.db, d.cfg.PublicURL, d.log)
	if err := prompts.Load(ctx); err != nil {
		return nil, nil, fmt.Errorf("loading recorded prompts: %w", err)
	}
	wg.Go(func() { prompts.Run(bg, time.Minute) })
	calls := &ivr.Handler{
		Verifier: verifier, Catalog: catalog, Journal: journal, Redis: d.redis, DB: d.db, Phones: phones, Audio: prompts,
		Config: ivr.Config{
			PublicURL: d.cfg.PublicURL, SecretKey: d.cfg.SecretKey, OrgName: d.cfg.OrgName, Language: d.cfg.VoiceLanguage, Voice: d.cfg.Voice,
			GatherTimeout: d.cfg.GatherTimeout, SessionTTL: d.cfg.VoiceSessionTTL,
			StaffNumber: d.cfg.StaffNumber, OfficeHours: d.sched.office,
			AccountSID: d.cfg.TwilioAccountSID, AuthToken: d.cfg.TwilioAuthToken, APIURL: d.cfg.TwilioAPIURL,
			DeleteFromTwilio: d.cfg.DeleteRecordings, TranscribeURL: d.cfg.TranscribeURL,
		},
		Log: d.log, Failed: failed("voice"),
	}
	if d.cfg.TranscribeURL != "" {
		wg.Go(func() { retryTranscriptions(bg, calls, d.log) })
	}
	stopSending := cleanup
	cleanup = func() {
		stopSending()
		calls.Wait() // transcriptions and downloads in flight
	}

	r := mux.NewRouter()
	r.Use(d.metrics.Middleware(d.log))

	// Twilio webhooks (paste these into the Twilio console; see README).
	r.HandleFunc("/twilio/sms", texts.ServeInbound).Methods(http.MethodPost)       // a member's text
	r.HandleFunc("/twilio/sms/status", texts.ServeStatus).Methods(http.MethodPost) // delivery of a text we sent
	r.HandleFunc(ivr.PathIncoming, calls.ServeIncoming).Methods(http.MethodPost)   // a member calls
	r.HandleFunc(ivr.PathStatus, calls.ServeStatus).Methods(http.MethodPost)       // a call ends

	// Later steps of a call: URLs our own TwiML hands Twilio.
	r.HandleFunc(ivr.PathStep, calls.ServeStep).Methods(http.MethodPost)                   // a key, a word, or silence
	r.HandleFunc(ivr.PathRecord, calls.ServeRecorded).Methods(http.MethodPost)             // a spoken answer was recorded
	r.HandleFunc(ivr.PathRecording, calls.ServeRecordingStatus).Methods(http.MethodPost)   // the recording is ready to fetch
	r.HandleFunc(ivr.PathTranscription, calls.ServeTranscription).Methods(http.MethodPost) // Twilio's transcript of it

	// Recorded prompts for Twilio's <Play>: public, with unguessable names.
	r.PathPrefix("/audio/").Handler(prompts).Methods(http.MethodGet, http.MethodHead)

	// Dashboard assets (CSS, JavaScript).
	r.PathPrefix("/static/").Handler(dashboard.Static()).Methods(http.MethodGet, http.MethodHead)

	// The staff dashboard: sign-in, home, members, users, review pages
	// (every route is listed in dashboard.App.Routes).
	staff, err := dashboard.New(dashboard.Deps{DB: d.db, Redis: d.redis, Phones: phones, Log: d.log,
		Config: dashboard.Config{PublicURL: d.cfg.PublicURL, StaffNumber: d.cfg.StaffNumber, Dev: d.dev}})
	if err != nil {
		return nil, nil, err
	}
	staff.Routes(r)

	// The Try-it phone: dev only (it signs webhooks with our own token).
	if d.dev {
		try := dashboard.NewTryIt(dashboard.TryItConfig{
			AccountSID: d.cfg.TwilioAccountSID, AuthToken: d.cfg.TwilioAuthToken, WebhookBase: d.cfg.PublicURL,
			Catalog: catalog, Surveys: d.db.ListSurveys, Log: d.log,
		})
		prev := cleanup
		cleanup = func() { try.Close(); prev() }
		r.HandleFunc("/try", try.ServePage).Methods(http.MethodGet)                           // the page
		r.HandleFunc("/try/api/sms", try.ServeSMS).Methods(http.MethodPost)                   // send a text
		r.HandleFunc("/try/api/call", try.ServeCallStart).Methods(http.MethodPost)            // start a call
		r.HandleFunc("/try/api/call/{id}", try.ServeCall).Methods(http.MethodGet)             // what the call is doing
		r.HandleFunc("/try/api/call/{id}/press", try.ServeCallPress).Methods(http.MethodPost) // keys
		r.HandleFunc("/try/api/call/{id}/speak", try.ServeCallSpeak).Methods(http.MethodPost) // typed speech
		r.HandleFunc("/try/api/call/{id}/silence", try.ServeCallSilence).Methods(http.MethodPost)
		r.HandleFunc("/try/api/call/{id}/record", try.ServeCallRecord).Methods(http.MethodPost)
		r.HandleFunc("/try/api/call/{id}/hangup", try.ServeCallHangup).Methods(http.MethodPost)
	}

	// Operations.
	r.HandleFunc("/healthz", ops.Healthz).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/readyz", ops.Checks{
		"postgres": d.db.Ping,
		"redis":    d.redis.Ping,
	}.Readyz).Methods(http.MethodGet)
	r.Handle("/metrics", d.metrics.Handler()).Methods(http.MethodGet)

	r.MethodNotAllowedHandler = methodNotAllowed(r)
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "There is nothing at this address.", http.StatusNotFound)
	})
	return r, cleanup, nil
}

// methodNotAllowed answers a request with the wrong method (a browser
// opening a webhook address, say) with the methods that work and a
// sentence.
func methodNotAllowed(r *mux.Router) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		var allowed []string
		for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodDelete} {
			probe := req.Clone(req.Context())
			probe.Method = m
			var match mux.RouteMatch
			if r.Match(probe, &match) && match.MatchErr == nil {
				allowed = append(allowed, m)
			}
		}
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		msg := "This address does not answer " + req.Method + " requests."
		if len(allowed) == 1 && allowed[0] == http.MethodPost {
			msg += " It is for Twilio, which sends POST requests."
		} else if len(allowed) > 0 {
			msg += " Use " + strings.Join(allowed, " or ") + "."
		}
		http.Error(w, msg, http.StatusMethodNotAllowed)
	})
}

// retryTranscriptions asks the transcription service again for recordings
// whose transcript failed or never came.
func retryTranscriptions(ctx context.Context, calls *ivr.Handler, log *slog.Logger) {
	t := time.NewTicker(5 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := calls.TranscribeMissing(ctx, 20); err != nil && ctx.Err() == nil {
				log.Error("retrying transcriptions", "err", err)
			}
		}
	}
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
