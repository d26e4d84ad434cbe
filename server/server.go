// Package server builds Have Your Say's whole HTTP surface from its
// dependencies: the one constructor that `serve`, `dev` and every test that
// needs the real routes call. It reads no environment and keeps no globals:
// everything comes in through Deps.
package server

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/haveyoursay/haveyoursay/api"
	"github.com/haveyoursay/haveyoursay/audio"
	"github.com/haveyoursay/haveyoursay/config"
	"github.com/haveyoursay/haveyoursay/dashboard"
	"github.com/haveyoursay/haveyoursay/export"
	"github.com/haveyoursay/haveyoursay/hours"
	"github.com/haveyoursay/haveyoursay/ivr"
	"github.com/haveyoursay/haveyoursay/ops"
	"github.com/haveyoursay/haveyoursay/privacy"
	"github.com/haveyoursay/haveyoursay/safeguarding"
	"github.com/haveyoursay/haveyoursay/sms"
	"github.com/haveyoursay/haveyoursay/store"
	"github.com/haveyoursay/haveyoursay/survey"
	"github.com/haveyoursay/haveyoursay/webhook"
)

// Deps is everything the server is built from.
type Deps struct {
	Config config.Config // parsed settings (config.FromEnv, or config.Defaults in tests)
	Log    *slog.Logger  // nil: logs are discarded
	DB     *store.DB
	Redis  *store.Redis
	// Metrics, when nil, are made afresh with the Postgres pool's statistics.
	Metrics *ops.Metrics
	// Dev adds the Try-it phone, which signs webhooks with our own token:
	// never on a server Twilio reaches.
	Dev bool
	// TryIt, if set, adjusts the Try-it phone's settings (tests: MaxCalls).
	TryIt func(*dashboard.TryItConfig)
	// Voice, if set, adjusts the voice webhooks' handler once it is built
	// (tests: a fixed clock, counting failures); serve leaves it nil.
	Voice func(*ivr.Handler)
}

// Server is the built server: its handler, and the parts tests and
// commands may need to reach.
type Server struct {
	http.Handler
	// Catalog is the surveys in memory, reloaded every 30 seconds.
	Catalog *store.Catalog
	// Sender sends invitations and reminders (durable jobs).
	Sender *sms.Sender
	// Journal is where every webhook's events go on their way to Postgres.
	Journal *store.Journal
	// Phones hashes and encrypts phone numbers with HYS_SECRET_KEY.
	Phones *store.Phones
	// Calls is the voice webhooks' handler (tests: sealed call states,
	// transcriptions in flight).
	Calls *ivr.Handler
	// Prompts is the recorded-prompt library the calls play from.
	Prompts *audio.Library
	// Privacy keeps erasure requests (FORGET, staff) and queues their jobs.
	Privacy *privacy.Requester

	draining *atomic.Bool
	stop     func()
}

// Drain makes /readyz answer 503 from now on, so load balancers stop
// sending new requests; everything else goes on answering.
func (s *Server) Drain() { s.draining.Store(true) }

// Close stops the background work (journal, sender, reloads, transcripts)
// after the HTTP server has finished its requests, and writes what is left
// in the spool.
func (s *Server) Close() { s.stop() }

// New builds the server and starts its background work; Close stops it.
func New(ctx context.Context, d Deps) (*Server, error) {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Metrics == nil {
		d.Metrics = ops.NewMetrics(d.DB.PoolStats)
	}
	cfg := d.Config
	phones, err := store.NewPhones(cfg.SecretKey)
	if err != nil {
		return nil, err
	}
	catalog := store.NewCatalog(d.DB)
	catalog.SetLog(d.Log)
	// A survey that no longer loads is skipped and logged, not fatal.
	if err := catalog.Reload(ctx); err != nil {
		return nil, fmt.Errorf("loading surveys: %w", err)
	}

	// Background work stops in the reverse order it started: cleanups run
	// last first.
	bg, stopBG := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	var cleanups []func()
	stop := func() {
		for i := len(cleanups) - 1; i >= 0; i-- {
			cleanups[i]()
		}
	}
	fail := func(err error) (*Server, error) {
		stop()
		return nil, err
	}

	// What Twilio delivers goes to the file spool (HYS_SPOOL_DIR; tests:
	// a temporary one) and from there to Postgres.
	var journal *store.Journal
	if cfg.SpoolDir != "" {
		if journal, err = store.OpenJournal(d.DB, d.Redis, cfg.SpoolDir, d.Log); err != nil {
			stopBG()
			return nil, fmt.Errorf("opening the spool (HYS_SPOOL_DIR): %w", err)
		}
	} else {
		journal = store.NewJournal(d.DB, d.Redis, d.Log)
	}
	d.Metrics.WatchSpool(journal.Stats)
	d.Metrics.Token = cfg.MetricsToken
	wg.Go(func() { reloadSurveys(bg, catalog, d.Log) })
	wg.Go(func() { sweepLostSessions(bg, d.DB, d.Redis, cfg.SMSSessionTTL, journal, d.Log) })
	cleanups = append(cleanups, func() {
		stopBG()
		wg.Wait()
		fctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := journal.Flush(fctx); err != nil {
			d.Log.Error("some answers are still in the spool on this machine; they will be written at the next start", "err", err,
				"events", journal.Stats().Depth, "dir", journal.SpoolDir())
		} else {
			d.Log.Info("the spool is empty: everything is in Postgres")
		}
		journal.Close()
	})

	failed := func(channel string) func(string) {
		return func(cause string) { d.Metrics.Failures.WithLabelValues(channel, cause).Inc() }
	}
	verifier := webhook.Verifier{AuthToken: cfg.TwilioAuthToken, PublicURL: cfg.PublicURL}
	// Safeguarding: the risk phrases every text, speech and transcript is
	// checked against (config has checked the charity's own).
	risk, err := safeguarding.New(cfg.SafeguardingPhrases)
	if err != nil {
		return fail(fmt.Errorf("HYS_SAFEGUARDING_PHRASES: %w", err))
	}
	org := sms.Org{Name: cfg.OrgName, Phone: cfg.OrgPhone, About: cfg.OrgAbout}

	// Texts: the SMS webhooks, and invitations and reminders sent by
	// durable jobs.
	texts := &sms.Handler{
		Verifier: verifier, Catalog: catalog, Journal: journal, Redis: d.Redis, Phones: phones, Org: org,
		SessionTTL: cfg.SMSSessionTTL, ConfirmStop: cfg.SMSConfirmStop, Log: d.Log, Failed: failed("sms"),
		Needs: d.DB.ParticipantNeeds, // members' communication needs, as staff set them
		Risk:  risk, CrisisLines: cfg.CrisisText,
	}
	// Privacy: erasure on request (FORGET) and retention, as durable jobs
	// on the sender's queue.
	forgetter, retention := privacyParts(d, journal, phones)
	var sender *sms.Sender
	requests := &privacy.Requester{F: forgetter, Queue: func() *store.Queue { return sender.Queue() }, Log: d.Log}
	texts.Forget = func(ctx context.Context, number string) error {
		_, err := requests.Forget(ctx, number, "sms", "", false)
		return err
	}
	sender, err = NewSender(d, phones, catalog, SenderOptions{Jobs: privacy.Jobs(forgetter, retention)})
	if err != nil {
		return fail(err)
	}
	if err := sender.Start(bg); err != nil {
		return fail(fmt.Errorf("starting the text sender: %w", err))
	}
	// The journal starts writing once the sender is there: a worry it
	// writes queues its alerts (sms.AlertConfig) in the same transaction.
	wg.Go(func() { journal.Run(bg) })
	cleanups = append(cleanups, func() {
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := sender.Stop(sctx); err != nil {
			d.Log.Error("stopping the text sender", "err", err)
		}
	})

	// Calls: the prompt library and the voice webhooks.
	prompts := audio.NewLibrary(d.DB, cfg.PublicURL, d.Log)
	if err := prompts.Load(ctx); err != nil {
		return fail(fmt.Errorf("loading recorded prompts: %w", err))
	}
	wg.Go(func() { prompts.Run(bg, time.Minute) })
	calls := &ivr.Handler{
		Verifier: verifier, Catalog: catalog, Journal: journal, Redis: d.Redis, DB: d.DB, Phones: phones, Audio: prompts,
		Config: ivr.Config{
			PublicURL: cfg.PublicURL, SecretKey: cfg.SecretKey, OrgName: cfg.OrgName, Language: cfg.VoiceLanguage, Voice: cfg.Voice,
			GatherTimeout: cfg.GatherTimeout, SessionTTL: cfg.VoiceSessionTTL,
			StaffNumber: cfg.StaffNumber, OfficeHours: ivr.OfficeHours(cfg.OfficeHours),
			AccountSID: cfg.TwilioAccountSID, AuthToken: cfg.TwilioAuthToken, APIURL: cfg.TwilioAPIURL,
			DeleteFromTwilio: cfg.DeleteRecordings, TranscribeURL: cfg.TranscribeURL,
			RecordingNumber: cfg.RecordingNumber,
		},
		Log: d.Log, Failed: failed("voice"), Risk: risk,
	}
	if d.Voice != nil {
		d.Voice(calls)
	}
	if cfg.TranscribeURL != "" {
		wg.Go(func() { retryTranscriptions(bg, calls, d.Log) })
	}
	cleanups = append(cleanups, calls.Wait) // transcriptions and downloads in flight

	// Exports and the API for other systems (bearer tokens) name members
	// by a pseudonym made with HYS_SECRET_KEY.
	members, err := export.NewMembers(cfg.SecretKey)
	if err != nil {
		return fail(err)
	}
	apis := api.New(api.Deps{DB: d.DB, Members: members, PublicURL: cfg.PublicURL, Log: d.Log})
	downloads := &export.Exporter{DB: d.DB, Phones: phones, Members: members, PublicURL: cfg.PublicURL}

	// The staff dashboard (every route in dashboard.App.Routes).
	staff, err := dashboard.New(dashboard.Deps{DB: d.DB, Redis: d.Redis, Phones: phones, Log: d.Log, Forget: requests.ForgetMember, Exporter: downloads,
		Config: dashboard.Config{PublicURL: cfg.PublicURL, StaffNumber: cfg.StaffNumber, Dev: d.Dev},
		Prompts: dashboard.PromptDeps{Library: prompts, Phrases: func(sv *survey.Survey, lang string) []survey.Prompt {
			return ivr.Phrases(sv, lang, cfg.OrgName)
		}, RecordingNumber: cfg.RecordingNumber},
		Teller: sender}) // "you said, we did" texts go through the sender
	if err != nil {
		return fail(err)
	}

	var try *dashboard.TryIt
	if d.Dev {
		tc := dashboard.TryItConfig{
			AccountSID: cfg.TwilioAccountSID, AuthToken: cfg.TwilioAuthToken, WebhookBase: cfg.PublicURL,
			Catalog: catalog, Surveys: d.DB.ListSurveys, Log: d.Log,
		}
		if d.TryIt != nil {
			d.TryIt(&tc)
		}
		try = dashboard.NewTryIt(tc)
		cleanups = append(cleanups, func() { try.Close() })
	}

	// Call-backs reach staff: a text to HYS_STAFF_NUMBER in office hours
	// (Mon-Fri 09:00-17:00 when HYS_OFFICE_HOURS is not set), at most
	// hourly, saying how many wait, never who.
	if cfg.StaffNumber != "" && cfg.SMSFrom != "" {
		office := cfg.OfficeHours
		if office.Days == [7]bool{} {
			if office, err = hours.ParseOffice("Mon-Fri 09:00-17:00", cfg.Location); err != nil {
				return fail(err)
			}
		}
		alert := &sms.StaffAlert{DB: d.DB, Texter: sms.NewTexter(cfg.TwilioAccountSID, cfg.TwilioAuthToken, cfg.TwilioAPIURL, cfg.PublicURL),
			From: cfg.SMSFrom, To: cfg.StaffNumber, InHours: office.Contains, Link: cfg.PublicURL + "/callbacks", Log: d.Log}
		wg.Go(func() { alert.Run(bg) })
	}

	draining := new(atomic.Bool)
	h := routes(handlers{
		metrics: d.Metrics, log: d.Log, texts: texts, calls: calls, prompts: prompts, try: try, staff: staff, api: apis,
		limits: &limiter{redis: d.Redis, verifier: verifier, log: d.Log},
		ready: ops.Readiness{
			Checks:           ops.Checks{"postgres": d.DB.Ping, "redis": d.Redis.Ping},
			SurveysNotLoaded: catalog.BrokenIDs,
			Draining:         draining.Load,
			Log:              d.Log,
		},
	})
	var once sync.Once
	return &Server{Handler: h, Catalog: catalog, Sender: sender, Journal: journal, Phones: phones, Calls: calls, Prompts: prompts, Privacy: requests,
		draining: draining, stop: func() { once.Do(stop) }}, nil
}

// SenderOptions are what one run of `send` changes in the sender.
type SenderOptions struct {
	From string  // sending number; "" is TWILIO_SMS_FROM (cfg.SMSFrom)
	Rate float64 // texts a second; 0 is HYS_SMS_RATE (cfg.SMSRate)
	// NoReminders: only send invitations (the send command); the server
	// also reminds people who stopped in the middle.
	NoReminders bool
	// Jobs are other durable jobs on the sender's queue (the server's
	// privacy jobs); nil for none.
	Jobs *sms.Jobs
}

// NewSender makes the text sender (invitations and reminders, as durable
// jobs) from the same settings the server uses; `send` calls it too.
func NewSender(d Deps, phones *store.Phones, catalog *store.Catalog, o SenderOptions) (*sms.Sender, error) {
	cfg := d.Config
	if o.From == "" {
		o.From = cfg.SMSFrom
	}
	if o.Rate == 0 {
		o.Rate = cfg.SMSRate
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	remindAfter := cfg.ReminderAfter
	if o.NoReminders {
		remindAfter = 0
	}
	org := sms.Org{Name: cfg.OrgName, Phone: cfg.OrgPhone, About: cfg.OrgAbout}
	return sms.NewSender(sms.SenderDeps{DB: d.DB, Redis: d.Redis, Phones: phones, Catalog: catalog, Log: d.Log, Jobs: o.Jobs,
		Texter: sms.NewTexter(cfg.TwilioAccountSID, cfg.TwilioAuthToken, cfg.TwilioAPIURL, cfg.PublicURL)},
		sms.SenderConfig{From: o.From, Rate: o.Rate, Quiet: sms.QuietHours(cfg.QuietHours), ReminderAfter: remindAfter,
			SessionTTL: cfg.SMSSessionTTL, Org: org,
			Alerts: sms.AlertConfig{To: cfg.SafeguardingAlertTo, Link: cfg.PublicURL + "/worries"}})
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

// privacyParts builds erasure and retention from the settings; the
// `forget` and `retention` commands use the same.
func privacyParts(d Deps, journal *store.Journal, phones *store.Phones) (*privacy.Forgetter, *privacy.Retention) {
	return PrivacyParts(d.Config, d.DB, d.Redis, journal, phones, d.Log)
}

// PrivacyParts builds erasure (Twilio's copies of recordings deleted
// through its REST API, confirmations texted from TWILIO_SMS_FROM) and
// retention (HYS_RETAIN_*) from the settings.
func PrivacyParts(cfg config.Config, db *store.DB, r *store.Redis, journal *store.Journal, phones *store.Phones, log *slog.Logger) (*privacy.Forgetter, *privacy.Retention) {
	f := &privacy.Forgetter{DB: db, Redis: r, Journal: journal, Phones: phones, Log: log}
	if cfg.TwilioAccountSID != "" {
		f.Recordings = privacy.NewTwilioRecordings(cfg.TwilioAccountSID, cfg.TwilioAuthToken, cfg.TwilioAPIURL)
		if cfg.SMSFrom != "" {
			texter := sms.NewTexter(cfg.TwilioAccountSID, cfg.TwilioAuthToken, cfg.TwilioAPIURL, "")
			f.Confirm = func(_ context.Context, number string) error {
				_, err := texter.Send(cfg.SMSFrom, number, survey.DefaultPhrases["forget-confirm"])
				return err
			}
		}
	}
	ret := &privacy.Retention{DB: db, Log: log, Defaults: store.RetentionDefaults{
		Answers: cfg.RetainAnswers, Recordings: cfg.RetainRecordings, Worries: cfg.RetainWorries}}
	return f, ret
}

// sweepLostSessions closes, every minute, text conversations whose Redis
// session is gone (see store.SMSSessions.CloseLost), while this server's
// spool is empty: an end still on its way to Postgres is not overtaken.
func sweepLostSessions(ctx context.Context, db *store.DB, r *store.Redis, ttl time.Duration, j *store.Journal, log *slog.Logger) {
	sessions := store.NewSMSSessions(r, ttl)
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if j.Stats().Depth > 0 {
			continue
		}
		n, err := sessions.CloseLost(ctx, db, lostAfter, 500)
		if err != nil && ctx.Err() == nil {
			log.Warn("closing text conversations whose session is gone", "err", err)
		} else if n > 0 {
			log.Info("closed text conversations whose session is gone, as partial", "conversations", n)
		}
	}
}

// lostAfter is how long a member must have been quiet before their
// conversation with no session is closed.
const lostAfter = 15 * time.Minute
