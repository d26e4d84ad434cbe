package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/haveyoursay/haveyoursay/config"
	"github.com/haveyoursay/haveyoursay/export"
	"github.com/haveyoursay/haveyoursay/store"
)

const exportUsage = `Usage: haveyoursay export --survey ID --format csv|json|floip [--since DATE] [--until DATE] [--out PATH] [--with-numbers]

Writes what members said in a survey, oldest conversation first:
  csv    one row per conversation, a column per question (opens in Excel)
  json   every conversation with every answer, transcript and recording
  floip  a Flow Results package (datapackage.json and its responses), as a
         folder, or a .zip when --out ends in .zip (or to standard output)
csv and json go to standard output unless --out names a file.

Members are named by a pseudonym (member_id), the same in every export;
phone numbers are left out unless you add --with-numbers (written to the
audit log). DATE is 2026-11-30 (a whole day, in HYS_TIME_ZONE) or a time
like 2026-11-30T14:00:00Z. Needs DATABASE_URL and HYS_SECRET_KEY; PUBLIC_URL
makes the links to recordings whole. docs/export.md describes every column.

Flags:
`

// cmdExport writes a survey's conversations as CSV, JSON or Flow Results.
func cmdExport(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	surveyID := fs.String("survey", "", "the id of the survey to export")
	format := fs.String("format", "", "csv, json or floip")
	since := fs.String("since", "", "only conversations started on or after this date")
	until := fs.String("until", "", "only conversations started on or before this date")
	out := fs.String("out", "", "a file to write (floip: a folder, or a file ending in .zip); default standard output")
	withNumbers := fs.Bool("with-numbers", false, "add members' phone numbers (admins only; written to the audit log)")
	fs.Usage = func() { fmt.Fprint(stderr, exportUsage); fs.PrintDefaults() }
	if len(args) > 0 && isHelp(args[0]) {
		fs.SetOutput(stdout)
		fmt.Fprint(stdout, exportUsage)
		fs.PrintDefaults()
		return nil
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return usageError{}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("haveyoursay export: unexpected %q. Give settings as --survey ID --format csv.", fs.Arg(0))}
	}
	if *surveyID == "" || *format == "" {
		return usageError{"haveyoursay export: say which survey (--survey ID) and which format (--format csv, json or floip)."}
	}
	*format = strings.ToLower(*format)
	if err := export.Check(*format); err != nil {
		return usageError{"haveyoursay export: " + err.Error() + "."}
	}
	loc := time.UTC
	if tz := getenv("HYS_TIME_ZONE"); tz != "" {
		l, err := time.LoadLocation(tz)
		if err != nil {
			return fmt.Errorf("HYS_TIME_ZONE %q is not a time zone (for example Europe/London).", tz)
		}
		loc = l
	} else if l, err := time.LoadLocation("Europe/London"); err == nil {
		loc = l
	}
	from, err := parseDate(*since, loc, false)
	if err != nil {
		return usageError{"haveyoursay export: --since " + err.Error()}
	}
	to, err := parseDate(*until, loc, true)
	if err != nil {
		return usageError{"haveyoursay export: --until " + err.Error()}
	}
	if !from.IsZero() && !to.IsZero() && !to.After(from) {
		return usageError{"haveyoursay export: --until is before --since, so nothing would be exported."}
	}
	if *format != "floip" && *out != "" {
		if fi, err := os.Stat(*out); err == nil && fi.IsDir() {
			return usageError{fmt.Sprintf("haveyoursay export: --out %s is a folder: give a file name.", *out)}
		}
	}
	if *format == "floip" && *out == "" && isTerminal(stdout) {
		return usageError{"haveyoursay export: a Flow Results package is a folder or a .zip file: say where with --out (for example --out package.zip)."}
	}

	secret := getenv("HYS_SECRET_KEY")
	members, err := export.NewMembers(strings.TrimSpace(secret))
	if err != nil {
		return errors.New("HYS_SECRET_KEY is not set or too short: exports name members by a pseudonym made with it, so set the same key the server uses.")
	}
	var phones *store.Phones
	if *withNumbers {
		if phones, err = store.NewPhones(secret); err != nil {
			return err
		}
	}
	publicURL := strings.TrimRight(getenv("PUBLIC_URL"), "/")
	if publicURL != "" {
		if msg := config.CheckPublicURL(publicURL); msg != "" {
			return errors.New(msg)
		}
	}
	db, err := openDB(ctx, getenv)
	if err != nil {
		return err
	}
	defer db.Close()

	e := &export.Exporter{DB: db, Phones: phones, Members: members, PublicURL: publicURL}
	if isTerminal(stderr) {
		total, err := db.CountExport(ctx, store.ExportFilter{SurveyID: *surveyID, Since: from, Until: to})
		if err == nil {
			e.Progress = func(n int) { fmt.Fprintf(stderr, "\r%s", exportBar(n, total, 30)) }
		}
	}
	req := export.Request{SurveyID: *surveyID, Format: *format, Since: from, Until: to, WithNumbers: *withNumbers,
		Actor: "cli", Via: "cli"}

	w, finish := stdout, func(ok bool) error { return nil }
	if *out != "" && *format != "floip" {
		w, finish, err = atomicFile(*out)
		if err != nil {
			return err
		}
	} else if *format == "floip" {
		req.Out = *out
	}
	st, err := e.Run(ctx, req, w)
	if e.Progress != nil {
		fmt.Fprintln(stderr)
	}
	if ferr := finish(err == nil); err == nil {
		err = ferr
	}
	if errors.Is(err, export.ErrUnknownSurvey) {
		return fmt.Errorf("There is no survey %q. 'haveyoursay survey list' shows the surveys.", *surveyID)
	}
	if err != nil {
		return fmt.Errorf("The export stopped: %w", err)
	}
	where := "standard output"
	if *out != "" {
		where = *out
	}
	numbers := ""
	if *withNumbers {
		numbers = ", with phone numbers (noted in the audit log)"
	}
	fmt.Fprintf(stderr, "Exported %d conversations (%d answers) of %s as %s to %s%s.\n",
		st.Conversations, st.Answers, *surveyID, *format, where, numbers)
	return nil
}

// parseDate reads 2026-11-30 (the start of that day in loc, or with
// endOfDay the start of the next) or an RFC 3339 time.
func parseDate(s string, loc *time.Location, endOfDay bool) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseInLocation("2006-01-02", s, loc); err == nil {
		if endOfDay {
			d = d.AddDate(0, 0, 1)
		}
		return d, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a date: write it as 2026-11-30, or a time as 2026-11-30T14:00:00Z.", s)
	}
	if endOfDay {
		t = t.Add(time.Nanosecond) // "until 14:00" includes 14:00
	}
	return t, nil
}

// atomicFile writes to a file beside path and renames it into place only
// when the export succeeded, so a failed export never leaves half a file.
func atomicFile(path string) (io.Writer, func(ok bool) error, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return nil, nil, fmt.Errorf("cannot write %s: %w", path, err)
	}
	return f, func(ok bool) error {
		cerr := f.Close()
		if !ok || cerr != nil {
			os.Remove(f.Name())
			return cerr
		}
		return os.Rename(f.Name(), path)
	}, nil
}

// exportBar draws "[#####-----] 1200/5000 conversations".
func exportBar(n, total, width int) string {
	done := width
	if total > 0 {
		done = min(width, n*width/total)
	}
	return fmt.Sprintf("[%s%s] %d/%d conversations", strings.Repeat("#", done), strings.Repeat("-", width-done), n, total)
}
