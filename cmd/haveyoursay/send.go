package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/haveyoursay/haveyoursay/config"
	"github.com/haveyoursay/haveyoursay/server"
	"github.com/haveyoursay/haveyoursay/sms"
	"github.com/haveyoursay/haveyoursay/store"
)

const sendUsage = `Usage:
  haveyoursay send --survey ID --to FILE.csv [--from NUMBER] [--batch NAME] [--rate N] [--any-time] [--no-wait]

FILE.csv has a column headed phone, number or mobile (or just one column of
numbers). Numbers without +44 (or another country code) are read as UK numbers
(--region changes that). Sending the same list again texts nobody twice.
With 'make run' running in this folder and DATABASE_URL not set, the texts go
to its pretend phones.
`

// cmdSend invites a list of people to a survey by text. The invitations are
// durable jobs: once queued they go even if this command stops, sent by the
// server (or by this command while it waits, with a progress bar).
func cmdSend(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	// The settings give the flags their defaults; their problems are
	// reported once the command line itself is right.
	cfg, cfgErr := config.FromEnv(getenv)
	fs := flag.NewFlagSet("send", flag.ContinueOnError)
	surveyID := fs.String("survey", "", "the id of the survey to invite people to")
	file := fs.String("to", "", "the CSV file of phone numbers (- for standard input)")
	from := fs.String("from", cfg.SMSFrom, "the number (or Messaging Service SID) to send from; default the survey's own number")
	batch := fs.String("batch", "", "a name for this list; the same name never texts a number twice (default: made from the survey and the numbers)")
	rate := fs.Float64("rate", cfg.SMSRate, "texts a second (Twilio allows about 1 a second from one number)")
	anyTime := fs.Bool("any-time", false, "send during quiet hours too")
	noWait := fs.Bool("no-wait", false, "only queue the texts: the server sends them")
	wait := fs.Duration("wait", 30*time.Minute, "the longest to wait for the texts to go before leaving the rest to the server")
	region := fs.String("region", cfg.PhoneRegion, "the country of numbers written without a country code")
	if help, err := parseFlags(fs, args, sendUsage, stdout); help || err != nil {
		return err
	}
	if *surveyID == "" || *file == "" || fs.NArg() > 0 {
		fmt.Fprint(stderr, sendUsage)
		return usageError{"haveyoursay send: say which survey (--survey) and which list of numbers (--to)."}
	}
	if *rate <= 0 {
		return usageError{"haveyoursay send: --rate must be more than 0."}
	}

	in := stdin
	if *file != "-" {
		f, err := os.Open(*file)
		if err != nil {
			return fmt.Errorf("cannot read the list of numbers: %w", err)
		}
		defer f.Close()
		in = f
	}
	list, err := sms.ReadList(in, strings.ToUpper(*region))
	if err != nil {
		return fmt.Errorf("%s: %w", *file, err)
	}
	if len(list.People) == 0 {
		// Only why lines could not be read, if any: nothing was queued.
		fmt.Fprint(stdout, sms.Summary{List: list, File: *file}.String())
		return exitError{code: 1, msg: "There are no phone numbers in " + *file + "."}
	}

	if cfgErr != nil {
		fmt.Fprintln(stderr, cfgErr)
		return exitError{code: 1}
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	db, err := store.OpenDB(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.CheckSchema(ctx); err != nil {
		return err
	}
	if err := db.CheckRiver(ctx); err != nil {
		return err
	}
	rdb, err := store.OpenRedis(ctx, cfg.RedisURL, cfg.RedisPrefix)
	if err != nil {
		return err
	}
	defer rdb.Close()
	phones, err := store.NewPhones(cfg.SecretKey)
	if err != nil {
		return err
	}
	catalog := store.NewCatalog(db)
	catalog.SetLog(log)
	if err := catalog.Reload(ctx); err != nil {
		return err
	}
	sender, err := server.NewSender(server.Deps{Config: cfg, Log: log, DB: db, Redis: rdb}, phones, catalog,
		server.SenderOptions{From: *from, Rate: *rate, NoReminders: true})
	if err != nil {
		return err
	}
	res, err := sender.Invite(ctx, sms.Invitation{SurveyID: *surveyID, People: list.People, Batch: *batch, From: *from, AnyTime: *anyTime})
	if err != nil {
		return err
	}
	summary := sms.Summary{Invite: res, List: list, Loc: cfg.Location, File: *file}
	var account *sms.SendError
	if !*noWait {
		if err := sender.Start(ctx); err != nil {
			return err
		}
		watchSend(ctx, sender, res.Batch, *wait, stderr)
		account = sender.AccountError()
		stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		err := sender.Stop(stopCtx)
		cancel()
		if err != nil {
			log.Error("stopping the sender", "err", err)
		}
		summary.Waited = true
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if summary.Progress, err = sender.Progress(sctx, res.Batch); err != nil {
		return err
	}
	if account != nil {
		// Twilio refused our account or our number: nobody is at fault on
		// the list, and the texts stay queued for when it is fixed.
		p := summary.Progress
		return exitError{code: 1, msg: fmt.Sprintf("%s\nSent %d of %d. %s",
			account.Reason(), p.Sent, p.Total, keptLine(p.Pending+p.Waiting+p.Sending))}
	}
	var held []store.Outbound
	if summary.Waited {
		// Texts Twilio would not send because of our own setup, though
		// others went (a country not switched on, a trial account): they
		// stay queued, and staff are told what to fix.
		if held, err = sender.Held(sctx, res.Batch); err != nil {
			return err
		}
		for _, o := range held {
			if o.NotBefore.IsZero() {
				summary.Progress.Pending--
			} else {
				summary.Progress.Waiting--
			}
		}
	}
	if summary.Problems, err = sender.Problems(sctx, res.Batch); err != nil {
		return err
	}
	fmt.Fprint(stdout, summary.String())
	if len(held) > 0 {
		return exitError{code: 1, msg: heldMessage(held, summary.Progress)}
	}
	return nil
}

// keptLine tells staff that n texts not sent are kept for the next run.
func keptLine(n int) string {
	if n == 1 {
		return "The 1 text not sent is kept: run the same command again once this is fixed, and it will be sent."
	}
	return fmt.Sprintf("The %d texts not sent are kept: run the same command again once this is fixed, and they will be sent.", n)
}

// heldMessage says, once for each thing to fix, what Twilio needs changed
// and which lines of the list wait for it.
func heldMessage(held []store.Outbound, p store.BatchProgress) string {
	var b strings.Builder
	var reasons []string
	lines := map[string][]store.Outbound{}
	for _, o := range held {
		if _, ok := lines[o.Reason]; !ok {
			reasons = append(reasons, o.Reason)
		}
		lines[o.Reason] = append(lines[o.Reason], o)
	}
	const most = 20
	for _, r := range reasons {
		b.WriteString(r + "\n")
		for i, o := range lines[r] {
			if i == most {
				fmt.Fprintf(&b, "  and %d more\n", len(lines[r])-most)
				break
			}
			fmt.Fprintf(&b, "  line %d %s (Twilio error %d)\n", o.Line, o.PhoneMasked, o.ErrorCode)
		}
	}
	fmt.Fprintf(&b, "Sent %d of %d. %s", p.Sent, p.Total, keptLine(len(held)))
	return b.String()
}

// watchSend shows progress until every text of the batch has gone (or is
// waiting for quiet hours to end, or held until staff fix our Twilio setup),
// ctx ends, the wait is over, or Twilio refuses our account or our number
// (then nothing more can go).
func watchSend(ctx context.Context, s *sms.Sender, batch string, wait time.Duration, stderr io.Writer) {
	tty := isTerminal(stderr)
	deadline := time.Now().Add(wait)
	var lastLine time.Time
	lastSent := -1
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		p, err := s.Progress(ctx, batch)
		if err == nil {
			busy := p.Pending + p.Sending - p.Stale
			if busy > 0 {
				// Texts held for our own setup wait for staff, not for
				// Twilio: the list is done when only they are left.
				if held, err := s.Held(ctx, batch); err == nil {
					for _, o := range held {
						if o.NotBefore.IsZero() {
							busy--
						}
					}
				}
			}
			switch {
			case tty:
				fmt.Fprintf(stderr, "\r%s", progressBar(p, 30))
			case p.Sent != lastSent && time.Since(lastLine) >= 5*time.Second || busy == 0:
				fmt.Fprintf(stderr, "sent %d of %d\n", p.Sent, p.Total)
				lastLine, lastSent = time.Now(), p.Sent
			}
			if busy == 0 {
				break
			}
		}
		if time.Now().After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			if tty {
				fmt.Fprintln(stderr)
			}
			fmt.Fprintln(stderr, "Stopped. The texts not sent yet are kept: the server sends them, or run the same command again.")
			return
		case <-s.AccountProblem():
			if tty {
				fmt.Fprintln(stderr)
			}
			return
		case <-tick.C:
		}
	}
	if tty {
		fmt.Fprintln(stderr)
	}
}

// progressBar draws "[#####-----] 12/40 sent, 2 not sent".
func progressBar(p store.BatchProgress, width int) string {
	done := 0
	if p.Total > 0 {
		done = p.Done() * width / p.Total
	}
	bar := "[" + strings.Repeat("#", done) + strings.Repeat("-", width-done) + "]"
	s := fmt.Sprintf("%s %d/%d sent", bar, p.Sent, p.Total)
	if n := p.Done() - p.Sent; n > 0 {
		s += fmt.Sprintf(", %d not sent", n)
	}
	if p.Waiting > 0 {
		s += fmt.Sprintf(", %d after quiet hours", p.Waiting)
	}
	return s + "   "
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
