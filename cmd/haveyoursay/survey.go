package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/haveyoursay/haveyoursay/config"
	"github.com/haveyoursay/haveyoursay/demo"
	"github.com/haveyoursay/haveyoursay/store"
	"github.com/haveyoursay/haveyoursay/survey"
)

const surveyUsage = `Usage:
  haveyoursay survey lint [--strict] [--words FILE] [--themes FILE] FILE...
                            check survey files, with easy-read advice
  haveyoursay survey import FILE...
                            load survey files into the database
  haveyoursay survey list   list the surveys in the database

Run 'haveyoursay survey COMMAND --help' to see one command's flags.
`

const surveyLintUsage = `Usage: haveyoursay survey lint [--strict] [--words FILE] [--themes FILE] FILE...

Checks survey files: mistakes (exit 1) and easy-read advice (warnings),
each with the line to fix, then one line saying how many there were.
`

const surveyImportUsage = `Usage: haveyoursay survey import FILE...

Loads survey files into the database; a changed file becomes a new version.
A file with mistakes is not loaded (nothing is, until every file is right).
Uses the database of 'make run' when DATABASE_URL is not set.
`

const surveyListUsage = `Usage: haveyoursay survey list

Lists the surveys in the database, and any whose stored version no longer
loads, with the reason. Uses the database of 'make run' when DATABASE_URL is
not set.
`

var surveyCommands = []string{"lint", "import", "list"}

func cmdSurvey(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, surveyUsage)
		return usageError{"haveyoursay survey: say lint, import or list."}
	}
	if isHelp(args[0]) {
		// "survey help lint" is "survey lint --help".
		if len(args) > 1 && slices.Contains(surveyCommands, args[1]) {
			return cmdSurvey(ctx, []string{args[1], "--help"}, getenv, stdout, stderr)
		}
		fmt.Fprint(stdout, surveyUsage)
		return nil
	}
	switch args[0] {
	case "lint":
		return cmdSurveyLint(args[1:], stdout, stderr)
	case "import":
		return cmdSurveyImport(ctx, args[1:], getenv, stdout, stderr)
	case "list":
		return cmdSurveyList(ctx, args[1:], getenv, stdout)
	default:
		return noSuchCommand("haveyoursay survey", args[0], surveyCommands)
	}
}

// cmdSurveyLint prints structural errors and easy-read advice, then a
// one-line summary. It exits 1 when a file has errors (or, with --strict,
// warnings).
func cmdSurveyLint(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("survey lint", flag.ContinueOnError)
	strict := fs.Bool("strict", false, "treat easy-read warnings as errors")
	wordsFile := fs.String("words", "", "a file of extra hard words to warn about, one a line")
	themesFile := fs.String("themes", "", "the charity's themes file: warn about a theme not in it")
	if help, err := parseFlags(fs, args, surveyLintUsage, stdout); help || err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usageError{"haveyoursay survey lint: name at least one survey file. See 'haveyoursay survey lint --help'."}
	}
	var opts survey.LintOptions
	if *wordsFile != "" {
		b, err := os.ReadFile(*wordsFile)
		if err != nil {
			return fmt.Errorf("cannot read the words file: %w", err)
		}
		for _, w := range strings.Split(string(b), "\n") {
			if w = strings.TrimSpace(w); w != "" && !strings.HasPrefix(w, "#") {
				opts.ExtraHardWords = append(opts.ExtraHardWords, w)
			}
		}
	}
	if *themesFile != "" {
		themes, _, err := readThemes(*themesFile, stdout)
		if err != nil {
			return err
		}
		opts.Themes = themeIDs(themes)
	}
	errs, warns := 0, 0
	for _, name := range fs.Args() {
		data, err := readSurveyFile(name)
		if err != nil {
			fmt.Fprintf(stdout, "%s: error: %v\n", name, err)
			errs++
			continue
		}
		for _, d := range survey.Lint(name, data, opts) {
			fmt.Fprintln(stdout, d)
			if d.Severity == survey.Error {
				errs++
			} else {
				warns++
			}
		}
	}
	fmt.Fprintln(stdout, lintSummary(fs.Args(), errs, warns, *strict))
	if errs > 0 || (warns > 0 && *strict) {
		return exitError{code: 1}
	}
	return nil
}

// lintSummary is lint's last line: "day-service.yaml: no problems", or
// "2 errors, 3 warnings".
func lintSummary(files []string, errs, warns int, strict bool) string {
	if errs == 0 && warns == 0 {
		if len(files) == 1 {
			return filepath.Base(files[0]) + ": no problems"
		}
		return fmt.Sprintf("%d files: no problems", len(files))
	}
	s := plural(errs, "error", "errors") + ", " + plural(warns, "warning", "warnings")
	if strict && errs == 0 {
		s += " (--strict counts warnings as errors)"
	}
	return s
}

// plural writes a count with the right noun: "1 error", "0 errors".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func openDB(ctx context.Context, getenv func(string) string) (*store.DB, error) {
	if getenv("DATABASE_URL") == "" {
		return nil, errors.New("There is no database to use: DATABASE_URL is not set, and no 'make run' is running in this folder. Start one with 'make run' (in another terminal), or set DATABASE_URL to a PostgreSQL address like postgres://user:password@localhost:5432/haveyoursay.")
	}
	url, err := config.DatabaseFromEnv(getenv)
	if err != nil {
		return nil, err
	}
	db, err := store.OpenDB(ctx, url)
	if err != nil {
		return nil, err
	}
	if err := db.CheckSchema(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// cmdSurveyImport stores survey files. A file with errors is not stored.
func cmdSurveyImport(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("survey import", flag.ContinueOnError)
	if help, err := parseFlags(fs, args, surveyImportUsage, stdout); help || err != nil {
		return err
	}
	args = fs.Args()
	if len(args) == 0 {
		return usageError{"haveyoursay survey import: name at least one survey file. See 'haveyoursay survey import --help'."}
	}
	type file struct {
		name string
		data []byte
		s    *survey.Survey
	}
	var files []file
	bad := 0
	for _, name := range args {
		data, err := readSurveyFile(name)
		if err != nil {
			fmt.Fprintf(stderr, "%s: error: %v\n", name, err)
			bad++
			continue
		}
		s, err := survey.Parse(name, data)
		if err != nil {
			fmt.Fprintln(stderr, err)
			bad++
			continue
		}
		files = append(files, file{name, data, s})
	}
	if bad > 0 {
		return exitError{code: 1, msg: "Nothing was imported. Fix the errors above (haveyoursay survey lint helps), then import again."}
	}
	db, err := openDB(ctx, getenv)
	if err != nil {
		return err
	}
	defer db.Close()
	batch := make([]store.SurveyFile, len(files))
	for i, f := range files {
		batch[i] = store.SurveyFile{ID: f.s.ID, Title: f.s.Title, Source: string(f.data), FileName: filepath.Base(f.name)}
	}
	// The database keeps a keyword for one survey, and a number for at
	// most nine: it refuses the whole import if a file asks for more.
	saved, err := db.SaveSurveys(ctx, batch)
	var claim *store.ClaimError
	if errors.As(err, &claim) {
		for _, f := range files {
			if f.s.ID == claim.SurveyID {
				fmt.Fprintf(stderr, "%s: error: %v\n", f.name, claim)
			}
		}
		return exitError{code: 1, msg: "Nothing was imported. Fix the errors above, then import again."}
	}
	if err != nil {
		return fmt.Errorf("saving the surveys: %w", err)
	}
	for i, f := range files {
		reportSaved(stdout, filepath.Base(f.name), f.s.ID, saved[i])
	}
	return nil
}

func reportSaved(stdout io.Writer, name, id string, s store.SavedSurvey) {
	if s.Changed {
		fmt.Fprintf(stdout, "%s: saved survey %q as version %d.\n", name, id, s.Version)
	} else {
		fmt.Fprintf(stdout, "%s: survey %q is unchanged (version %d).\n", name, id, s.Version)
	}
}

func cmdSurveyList(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("survey list", flag.ContinueOnError)
	if help, err := parseFlags(fs, args, surveyListUsage, stdout); help || err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("haveyoursay survey list takes no arguments (it was given %q).", fs.Arg(0))}
	}
	db, err := openDB(ctx, getenv)
	if err != nil {
		return err
	}
	defer db.Close()
	list, err := db.ListSurveys(ctx)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		fmt.Fprintln(stdout, "There are no surveys yet. Add one with: haveyoursay survey import FILE")
		return nil
	}
	// The catalog loads every survey as the server does, and says which
	// ones it cannot (it logs nothing here: the list says it).
	catalog := store.NewCatalog(db)
	catalog.SetLog(slog.New(slog.DiscardHandler))
	if err := catalog.Reload(ctx); err != nil {
		return err
	}
	broken := catalog.Broken()
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTITLE\tVERSION\tUPDATED\tCONVERSATIONS\tANSWERS")
	for _, s := range list {
		id := s.ID
		if slices.ContainsFunc(broken, func(b store.BrokenSurvey) bool { return b.ID == s.ID }) {
			id += " (does not load)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%d\t%d\n", id, s.Title, s.Version, s.UpdatedAt.Format("2006-01-02 15:04"), s.Conversations, s.Answers)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, b := range broken {
		fmt.Fprintf(stdout, "\nSurvey %q (version %d) does not load, so nobody can start it; the others work.\n  %s\nFix the file, then import it again (haveyoursay survey lint helps).\n", b.ID, b.Version, b.Reason)
	}
	return nil
}

// loadDemo imports the demo surveys (a new version only when one changed):
// "Your day service" (text DAYS, or call) and "Your home" (its own number,
// in English and Welsh).
func loadDemo(ctx context.Context, db *store.DB, stdout io.Writer) error {
	day, home := survey.Demo(), demo.Home()
	files := []store.SurveyFile{
		{ID: day.ID, Title: day.Title, Source: string(survey.DemoYAML), FileName: "day-service.yaml"},
		{ID: home.ID, Title: home.Title, Source: string(demo.HomeYAML), FileName: "your-home.yaml"},
	}
	saved, err := db.SaveSurveys(ctx, files)
	if err != nil {
		return fmt.Errorf("saving the demo surveys: %w", err)
	}
	for i, f := range files {
		reportSaved(stdout, f.FileName, f.ID, saved[i])
	}
	return loadDemoThemes(ctx, db)
}

// maxSurveyFile is far more than any survey needs (the demo is 2 kB).
const maxSurveyFile = 1 << 20

// readSurveyFile reads a survey file, refusing what cannot be one: a
// folder, a device, or something over 1 MB.
func readSurveyFile(name string) ([]byte, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("cannot read the file: %v", errors.Unwrap(err))
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("cannot read the file: %v", errors.Unwrap(err))
	}
	if !info.Mode().IsRegular() {
		return nil, errors.New("this is not a file (a folder or a device?): name a survey file, like day-service.yaml")
	}
	data, err := io.ReadAll(io.LimitReader(f, maxSurveyFile+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read the file: %v", err)
	}
	if len(data) > maxSurveyFile {
		return nil, errors.New("this file is too big to be a survey (over 1 MB): is it the right file?")
	}
	return data, nil
}
