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
	"text/tabwriter"

	"github.com/haveyoursay/haveyoursay/config"
	"github.com/haveyoursay/haveyoursay/store"
	"github.com/haveyoursay/haveyoursay/survey"
)

const surveyUsage = `Usage:
  haveyoursay survey lint [--strict] [--words FILE] FILE...
  haveyoursay survey import FILE...
  haveyoursay survey list
`

func cmdSurvey(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, surveyUsage)
		return usageError{}
	}
	switch args[0] {
	case "lint":
		return cmdSurveyLint(args[1:], stdout, stderr)
	case "import":
		return cmdSurveyImport(ctx, args[1:], getenv, stdout, stderr)
	case "list":
		return cmdSurveyList(ctx, getenv, stdout)
	default:
		fmt.Fprint(stderr, surveyUsage)
		return usageError{fmt.Sprintf("haveyoursay survey: there is no command %q.", args[0])}
	}
}

// cmdSurveyLint prints structural errors and easy-read advice. It exits 1
// when a file has errors (or, with --strict, warnings).
func cmdSurveyLint(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("survey lint", flag.ContinueOnError)
	fs.SetOutput(stderr)
	strict := fs.Bool("strict", false, "treat easy-read warnings as errors")
	wordsFile := fs.String("words", "", "a file of extra hard words to warn about, one a line")
	if err := fs.Parse(args); err != nil {
		return usageError{}
	}
	if fs.NArg() == 0 {
		fmt.Fprint(stderr, surveyUsage)
		return usageError{"haveyoursay survey lint: name at least one survey file."}
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
	switch {
	case errs > 0:
		return exitError{code: 1, msg: fmt.Sprintf("%d error(s), %d warning(s).", errs, warns)}
	case warns > 0 && *strict:
		return exitError{code: 1, msg: fmt.Sprintf("%d warning(s) (--strict).", warns)}
	}
	return nil
}

func openDB(ctx context.Context, getenv func(string) string) (*store.DB, error) {
	url := getenv("DATABASE_URL")
	if msg := config.CheckDatabaseURL(url); msg != "" {
		return nil, errors.New(msg)
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
	if len(args) == 0 {
		fmt.Fprint(stderr, surveyUsage)
		return usageError{"haveyoursay survey import: name at least one survey file."}
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
	// A keyword starts one survey only: refuse a file whose keyword
	// another survey (stored, or in this import) already has.
	owner := map[string]string{}
	importing := map[string]bool{}
	for _, f := range files {
		importing[f.s.ID] = true
	}
	current, err := db.CurrentSurveys(ctx)
	if err != nil {
		return err
	}
	for _, r := range current {
		if importing[r.SurveyID] {
			continue
		}
		if s, err := survey.Parse(r.FileName, []byte(r.Source)); err == nil {
			for _, k := range s.Keywords {
				owner[strings.ToUpper(k)] = r.SurveyID
			}
		}
	}
	for _, f := range files {
		for _, k := range f.s.Keywords {
			k = strings.ToUpper(k)
			if id, ok := owner[k]; ok && id != f.s.ID {
				fmt.Fprintf(stderr, "%s: error: the keyword %q already starts survey %q. A keyword can start only one survey: choose another.\n", f.name, k, id)
				bad++
			}
			owner[k] = f.s.ID
		}
	}
	if bad > 0 {
		return exitError{code: 1, msg: "Nothing was imported. Fix the errors above, then import again."}
	}
	for _, f := range files {
		if err := importSurvey(ctx, db, f.s, filepath.Base(f.name), f.data, stdout); err != nil {
			return err
		}
	}
	return nil
}

func importSurvey(ctx context.Context, db *store.DB, s *survey.Survey, name string, data []byte, stdout io.Writer) error {
	v, changed, err := db.SaveSurvey(ctx, s.ID, s.Title, string(data), name)
	if err != nil {
		return fmt.Errorf("saving %s: %w", name, err)
	}
	if changed {
		fmt.Fprintf(stdout, "%s: saved survey %q as version %d.\n", name, s.ID, v)
	} else {
		fmt.Fprintf(stdout, "%s: survey %q is unchanged (version %d).\n", name, s.ID, v)
	}
	return nil
}

func cmdSurveyList(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
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
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTITLE\tVERSION\tUPDATED\tCONVERSATIONS\tANSWERS")
	for _, s := range list {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%d\t%d\n", s.ID, s.Title, s.Version, s.UpdatedAt.Format("2006-01-02 15:04"), s.Conversations, s.Answers)
	}
	return tw.Flush()
}

// loadDemo imports the demo survey (a new version only when it changed).
func loadDemo(ctx context.Context, d deps, stdout io.Writer) error {
	s := survey.Demo()
	return importSurvey(ctx, d.db, s, "day-service.yaml", survey.DemoYAML, stdout)
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
