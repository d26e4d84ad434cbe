package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"strings"

	"github.com/haveyoursay/haveyoursay/config"
	"github.com/haveyoursay/haveyoursay/privacy"
	"github.com/haveyoursay/haveyoursay/server"
	"github.com/haveyoursay/haveyoursay/sms"
	"github.com/haveyoursay/haveyoursay/store"
)

const forgetUsage = `Usage:
  haveyoursay forget --number N [--no-text]

Erases everything kept about a phone number, when the member asks (by
phone, by letter, in person; a member can also text FORGET): their
answers, recordings (ours, and Twilio's copy), transcripts, texts, call
inputs, call-backs, notes, flags and live conversations. It cannot be
undone. The audit log records that an erasure happened, never whose.

They are texted a plain confirmation (from TWILIO_SMS_FROM) unless
--no-text is given or they texted STOP. Someone who texted STOP keeps only
a hash of their number, so they are never texted again.

The server may keep running. Needs the same settings as serve.
`

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// cmdForget erases a member on request.
func cmdForget(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("forget", flag.ContinueOnError)
	number := fs.String("number", "", "their phone number, with the country code (+447700900123) or as written in "+`HYS_PHONE_REGION`)
	noText := fs.Bool("no-text", false, "do not text them a confirmation")
	if help, err := parseFlags(fs, args, forgetUsage, stdout); help || err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("haveyoursay forget: unexpected %q. Give the number as --number N.", fs.Arg(0))}
	}
	if strings.TrimSpace(*number) == "" {
		return usageError{"haveyoursay forget: say whose data to erase with --number, like --number +447700900123."}
	}
	cfg, err := config.FromEnv(getenv)
	if err != nil {
		return err
	}
	n, reason := sms.Normalise(*number, cfg.PhoneRegion)
	if n == "" {
		// A landline (a caller, never texted) is still a number we keep.
		if compact := strings.NewReplacer(" ", "", "-", "", "(", "", ")", "").Replace(*number); e164.MatchString(compact) {
			n = compact
		} else {
			return usageError{fmt.Sprintf("haveyoursay forget: %q %s. Write it with its country code, like +447700900123.", *number, reason)}
		}
	}
	log := slog.New(privacy.MaskNumbers(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	db, err := openDB(ctx, getenv)
	if err != nil {
		return err
	}
	defer db.Close()
	rdb, err := store.OpenRedis(ctx, cfg.RedisURL, cfg.RedisPrefix)
	if err != nil {
		return err
	}
	defer rdb.Close()
	phones, err := store.NewPhones(cfg.SecretKey)
	if err != nil {
		return err
	}
	journal := store.NewJournal(db, rdb, log)
	f, _ := server.PrivacyParts(cfg, db, rdb, journal, phones, log)
	id, err := f.Request(ctx, n, "cli", "cli", !*noText)
	if err != nil {
		return fmt.Errorf("keeping the request: %w", err)
	}
	e, err := f.Do(ctx, id)
	if err != nil {
		return fmt.Errorf("%w\nThe request is kept: the server carries it out within ten minutes, or run this again", err)
	}
	fmt.Fprintf(stdout, "Erased %s: %d conversations, %d answers, %d texts, %d recordings (and Twilio's copies of %d), %d transcripts, %d call-backs.\n",
		store.Mask(n), e.Conversations, e.Answers, e.Messages, e.Recordings, len(e.TwilioRecordings), e.Transcripts, e.Callbacks)
	if e.KeptOptOut {
		fmt.Fprintln(stdout, "They had texted STOP: only a hash of their number is kept, so they are never texted again. No confirmation was sent.")
	}
	return nil
}
