package main

import (
	"context"
	"fmt"
	"github.com/haveyoursay/haveyoursay/privacy"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/haveyoursay/haveyoursay/config"
	"github.com/haveyoursay/haveyoursay/dashboard"
	"github.com/haveyoursay/haveyoursay/demo"
	"github.com/haveyoursay/haveyoursay/phonesim"
	"github.com/haveyoursay/haveyoursay/server"
	"github.com/haveyoursay/haveyoursay/store"
	"github.com/haveyoursay/haveyoursay/store/devredis"
	"github.com/haveyoursay/haveyoursay/store/localpg"
)

// cmdDev runs everything locally: a private Postgres (unless DATABASE_URL is
// set), a private Redis that keeps its data (unless REDIS_URL is set), the
// Twilio emulator and the demo surveys. It writes what it made up to
// .hys/dev.env for the other commands (see devSettings).
func cmdDev(ctx context.Context, getenv func(string) string, stdout, stderr io.Writer) error {
	log := slog.New(privacy.MaskNumbers(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))) // no number in clear
	dev, err := config.ForDev(getenv)
	if err != nil {
		return err
	}
	cfg := dev.Config
	server.TuneGC(getenv)
	// A second dev on the same folder would stop the first one's database.
	if running, _ := readDevSettings(func(name string) string {
		if name == "HYS_DATA_DIR" {
			return dev.DataDir
		}
		return ""
	}); running != nil {
		return fmt.Errorf("Have Your Say is already running from %s (process %s, at http://%s). Use that one, or stop it (Ctrl-C in its terminal) and start again.",
			dev.DataDir, running[devPIDKey], localAddr(running["LISTEN_ADDR"]))
	}
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
		// The machine's redis-server when there is one; else in-process.
		rs, err := devredis.Start(ctx, filepath.Join(dev.DataDir, "redis"), lookPath("redis-server", getenv("PATH")))
		if err != nil {
			return err
		}
		defer func() {
			if err := rs.Stop(); err != nil {
				log.Error("stopping Redis", "err", err)
			}
		}()
		log.Info("started a private Redis", "kind", rs.Kind, "data", filepath.Join(dev.DataDir, "redis"))
		cfg.RedisURL = rs.URL()
	}
	if getenv("HYS_DRAIN_PERIOD") == "" {
		cfg.DrainPeriod = 0 // no load balancer in front of dev
	}
	if cfg.SpoolDir == "" {
		cfg.SpoolDir = filepath.Join(dev.DataDir, "spool")
	}
	cfg.TwilioAccountSID = devAccountSID
	cfg.TwilioAuthToken = devAuthToken
	generatedKey := getenv("HYS_SECRET_KEY") == ""
	if generatedKey {
		if cfg.SecretKey, err = devSecret(filepath.Join(dev.DataDir, "secret-key")); err != nil {
			return err
		}
	} else {
		cfg.SecretKey = getenv("HYS_SECRET_KEY")
	}
	if cfg.PublicURL == "" {
		cfg.PublicURL = "http://" + localAddr(cfg.ListenAddr)
	}
	if cfg.SMSFrom == "" {
		cfg.SMSFrom = demo.DaysNumber // invitations and reminders come from the demo's number
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
	d := server.Deps{Config: cfg, Log: log, DB: db, Redis: rdb, Dev: true}
	var removeSettings func()
	defer func() {
		if removeSettings != nil {
			removeSettings()
		}
	}()
	return serveHTTP(ctx, d, stdout, func(ctx context.Context, s *server.Server, listen string) {
		settings := map[string]string{
			"DATABASE_URL":       cfg.DatabaseURL,
			"REDIS_URL":          cfg.RedisURL,
			"REDIS_PREFIX":       cfg.RedisPrefix,
			"LISTEN_ADDR":        listen,
			"PUBLIC_URL":         cfg.PublicURL,
			"TWILIO_ACCOUNT_SID": cfg.TwilioAccountSID,
			"TWILIO_AUTH_TOKEN":  cfg.TwilioAuthToken,
			"TWILIO_API_URL":     cfg.TwilioAPIURL,
			"TWILIO_SMS_FROM":    cfg.SMSFrom,
		}
		if generatedKey {
			settings["HYS_SECRET_KEY"] = cfg.SecretKey
		}
		remove, err := writeDevSettings(dev.DataDir, settings)
		if err != nil {
			log.Warn("the other commands will not find this server by themselves", "err", err)
		}
		removeSettings = remove
		fmt.Fprint(stdout, devBanner("http://"+localAddr(listen), email, password, dev.DataDir))
		loadDemoConversations(ctx, d, s, dev.DemoConversations, stdout)
	})
}

// devBanner is what a newcomer reads once dev is ready: where to try it,
// what to text, how to sign in, the terminal simulator, how to stop.
func devBanner(base, email, password, dataDir string) string {
	self := selfCommand()
	return fmt.Sprintf(`
Have Your Say is ready.
  Try it:      %[1]s/try  (a phone in your browser)
  Demo:        text DAYS to %[2]s, or call it; "Your home" is on %[7]s
  From here:   %[3]s sim sms --survey day-service   (or sim call)
  Staff:       %[1]s/  sign in as %[4]s with the password %[5]s
  Stop:        press Ctrl-C (your data stays in %[6]s)
`, base, demo.DaysNumber, self, email, password, dataDir, demo.HomeNumber)
}

// selfCommand is how to run this program again from the working folder:
// bin/haveyoursay after `make run`, else haveyoursay.
func selfCommand() string {
	exe, err := os.Executable()
	wd, werr := os.Getwd()
	if err != nil || werr != nil {
		return "haveyoursay"
	}
	rel, err := filepath.Rel(wd, exe)
	if err != nil || strings.HasPrefix(rel, "..") || strings.HasSuffix(rel, ".test") || filepath.Base(rel) != "haveyoursay" {
		return "haveyoursay"
	}
	if !strings.Contains(rel, string(filepath.Separator)) {
		rel = "." + string(filepath.Separator) + rel
	}
	return rel
}

// lookPath finds a program in path (a PATH value), or returns "".
func lookPath(program, path string) string {
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			continue
		}
		p := filepath.Join(dir, program)
		if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
			return p
		}
	}
	return ""
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
	if err := loadDemoActions(ctx, d.DB, time.Now()); err != nil { // "you said, we did" (themes.go)
		d.Log.Warn("the demo actions could not be loaded", "err", err)
	}
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
