package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"text/tabwriter"
	"time"

	"github.com/haveyoursay/haveyoursay/config"
	"github.com/haveyoursay/haveyoursay/privacy"
	"github.com/haveyoursay/haveyoursay/store"
)

const retentionUsage = `Usage:
  haveyoursay retention list
  haveyoursay retention set --survey ID [--answers 1y] [--recordings 90d]
  haveyoursay retention run

How long each survey keeps answers and recordings. A survey without its own
times uses HYS_RETAIN_ANSWERS (default 2y) and HYS_RETAIN_RECORDINGS
(default 6mo). Times are whole days, weeks, months or years: 90d, 8w, 6mo,
2y; "default" goes back to the default. The server deletes what is due once
a day; 'run' does it now (and deletes Twilio's copies only in the server).
Needs DATABASE_URL. docs/privacy.md explains.
`

// cmdRetention lists, sets and applies retention.
func cmdRetention(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, retentionUsage)
		return usageError{}
	}
	if isHelp(args[0]) {
		fmt.Fprint(stdout, retentionUsage)
		return nil
	}
	fs := flag.NewFlagSet("retention "+args[0], flag.ContinueOnError)
	var surveyID, answers, recordings *string
	switch args[0] {
	case "set":
		surveyID = fs.String("survey", "", "the survey's id")
		answers = fs.String("answers", "", "how long its answers are kept (or default)")
		recordings = fs.String("recordings", "", "how long its recordings are kept (or default)")
	case "list", "run":
	default:
		fmt.Fprint(stderr, retentionUsage)
		return noSuchCommand("haveyoursay retention", args[0], []string{"list", "set", "run"})
	}
	if help, err := parseFlags(fs, args[1:], retentionUsage, stdout); help || err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("haveyoursay retention %s: unexpected %q.", args[0], fs.Arg(0))}
	}
	cfg := config.Defaults()
	var problems config.Problems
	for _, name := range []string{"HYS_RETAIN_ANSWERS", "HYS_RETAIN_RECORDINGS", "HYS_RETAIN_WORRIES"} {
		if v := getenv(name); v != "" {
			d, err := config.ParseAge(v)
			if err != nil {
				problems = append(problems, fmt.Sprintf("%s does not look right: %q should be like 2y, 6mo or 90d.", name, v))
				continue
			}
			switch name {
			case "HYS_RETAIN_ANSWERS":
				cfg.RetainAnswers = d
			case "HYS_RETAIN_RECORDINGS":
				cfg.RetainRecordings = d
			default:
				cfg.RetainWorries = d
			}
		}
	}
	if len(problems) > 0 {
		return problems
	}
	age := func(flag, v string) (time.Duration, error) {
		if v == "" || v == "default" {
			return 0, nil
		}
		d, err := config.ParseAge(v)
		if err != nil {
			return 0, usageError{fmt.Sprintf("haveyoursay retention set: --%s %q should be like 1y, 6mo, 8w or 90d (or default).", flag, v)}
		}
		return d, nil
	}
	var a, r time.Duration
	if args[0] == "set" {
		if *surveyID == "" {
			return usageError{"haveyoursay retention set: say which survey with --survey ID."}
		}
		var err error
		if a, err = age("answers", *answers); err != nil {
			return err
		}
		if r, err = age("recordings", *recordings); err != nil {
			return err
		}
	}
	db, err := openDB(ctx, getenv)
	if err != nil {
		return err
	}
	defer db.Close()
	days := func(d, def time.Duration) string {
		if d == 0 {
			return fmt.Sprintf("%d days (default)", def/(24*time.Hour))
		}
		return fmt.Sprintf("%d days", d/(24*time.Hour))
	}
	switch args[0] {
	case "set":
		if err := db.SetSurveyRetention(ctx, "cli", *surveyID, a, r); errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("there is no survey %q (haveyoursay survey list shows them)", *surveyID)
		} else if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s keeps answers %s and recordings %s.\n", *surveyID, days(a, cfg.RetainAnswers), days(r, cfg.RetainRecordings))
	case "list":
		rs, err := db.SurveyRetentions(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SURVEY\tANSWERS KEPT\tRECORDINGS KEPT")
		for _, s := range rs {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", s.SurveyID, days(s.Answers, cfg.RetainAnswers), days(s.Recordings, cfg.RetainRecordings))
		}
		tw.Flush()
		fmt.Fprintf(stdout, "A conversation with a worry is kept %s.\n", days(0, cfg.RetainWorries))
	case "run":
		ret := &privacy.Retention{DB: db, Log: slog.New(privacy.MaskNumbers(slog.NewTextHandler(stderr, nil))),
			Defaults: store.RetentionDefaults{Answers: cfg.RetainAnswers, Recordings: cfg.RetainRecordings, Worries: cfg.RetainWorries}}
		n, err := ret.Run(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Deleted %d conversations (%d answers, %d texts), %d recordings, %d members with nothing left. %d of Twilio's copies of recordings are queued for the server to delete.\n",
			n.Conversations, n.Answers, n.Messages, n.Recordings, n.People, n.TwilioQueued)
	}
	return nil
}
