package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/haveyoursay/haveyoursay/demo"
	"github.com/haveyoursay/haveyoursay/store"
	"github.com/haveyoursay/haveyoursay/survey"
)

const themesUsage = `Usage:
  haveyoursay themes import FILE         load the charity's themes (id, title, description, emoji)
  haveyoursay themes lint FILE [SURVEY...]
                                         check a themes file, and the themes surveys name
  haveyoursay themes list                list the themes in the database

A themes file is YAML: a "themes:" list, each with an id (letters, digits,
dashes), a short easy-read title, and an optional description and emoji.
Surveys name theme ids in their questions' "themes:". Importing again
changes the words; an id is never removed (answers are tagged with it).
demo/themes.yaml is an example. Needs DATABASE_URL (import, list).
`

// cmdThemes loads and checks the charity's themes.
func cmdThemes(ctx context.Context, args []string, getenv func(string) string, _ io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, themesUsage)
		return usageError{"haveyoursay themes: say what to do: import, lint or list."}
	}
	if isHelp(args[0]) {
		fmt.Fprint(stdout, themesUsage)
		return nil
	}
	switch args[0] {
	case "import", "lint", "list":
	default:
		fmt.Fprint(stderr, themesUsage)
		return usageError{fmt.Sprintf("haveyoursay themes: there is no command %q.", args[0])}
	}
	fs := flag.NewFlagSet("themes "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(fs.Output(), themesUsage) }
	if len(args) > 1 && isHelp(args[1]) {
		fmt.Fprint(stdout, themesUsage)
		return nil
	}
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return usageError{fmt.Sprintf("haveyoursay themes %s: %v", args[0], err)}
	}
	switch args[0] {
	case "list":
		if fs.NArg() > 0 {
			return usageError{fmt.Sprintf("haveyoursay themes list takes no arguments (it was given %q).", fs.Arg(0))}
		}
		return cmdThemesList(ctx, getenv, stdout)
	case "lint":
		if fs.NArg() == 0 {
			return usageError{"haveyoursay themes lint: name the themes file, then any survey files to check."}
		}
		return cmdThemesLint(fs.Arg(0), fs.Args()[1:], stdout)
	}
	if fs.NArg() != 1 {
		return usageError{"haveyoursay themes import: name one themes file, like demo/themes.yaml."}
	}
	return cmdThemesImport(ctx, fs.Arg(0), getenv, stdout, stderr)
}

// readThemes reads and checks a themes file, printing its problems.
func readThemes(name string, out io.Writer) ([]survey.Theme, int, error) {
	data, err := readSurveyFile(name)
	if err != nil {
		fmt.Fprintf(out, "%s: error: %v\n", name, err)
		return nil, 0, exitError{code: 1, msg: "The themes file could not be read."}
	}
	themes, diags := survey.ParseThemes(name, data)
	for _, d := range diags {
		fmt.Fprintln(out, d)
	}
	if diags.HasErrors() {
		return nil, len(diags.Warnings()), exitError{code: 1, msg: fmt.Sprintf("%d error(s) in the themes file: nothing was changed.", len(diags.Errors()))}
	}
	return themes, len(diags.Warnings()), nil
}

func themeIDs(themes []survey.Theme) []string {
	ids := make([]string, len(themes))
	for i, t := range themes {
		ids[i] = t.ID
	}
	return ids
}

// cmdThemesLint checks a themes file and warns about the themes the survey
// files name that it does not have.
func cmdThemesLint(name string, surveys []string, stdout io.Writer) error {
	themes, warns, err := readThemes(name, stdout)
	if err != nil {
		return err
	}
	ids := themeIDs(themes)
	errs := 0
	for _, sf := range surveys {
		data, err := readSurveyFile(sf)
		if err != nil {
			fmt.Fprintf(stdout, "%s: error: %v\n", sf, err)
			errs++
			continue
		}
		s, err := survey.Parse(sf, data)
		if err != nil {
			fmt.Fprintln(stdout, err)
			errs++
			continue
		}
		for _, w := range unknownThemes(s, ids) {
			fmt.Fprintf(stdout, "%s: warning: %s\n", sf, w)
			warns++
		}
	}
	if errs > 0 {
		return exitError{code: 1, msg: fmt.Sprintf("%d survey file(s) could not be read.", errs)}
	}
	fmt.Fprintf(stdout, "%s: %d theme(s), %d warning(s).\n", name, len(themes), warns)
	return nil
}

// unknownThemes says which of a survey's themes are not in ids.
func unknownThemes(s *survey.Survey, ids []string) []string {
	var out []string
	for _, q := range s.Questions {
		for _, t := range q.Themes {
			if !slices.Contains(ids, t) {
				out = append(out, fmt.Sprintf("question %q of survey %q names the theme %q, which is not in the themes", q.ID, s.ID, t))
			}
		}
	}
	return out
}

// cmdThemesImport stores a themes file, then warns about surveys in the
// database that name a theme it does not have.
func cmdThemesImport(ctx context.Context, name string, getenv func(string) string, stdout, stderr io.Writer) error {
	themes, _, err := readThemes(name, stderr)
	if err != nil {
		return err
	}
	db, err := openDB(ctx, getenv)
	if err != nil {
		return err
	}
	defer db.Close()
	res, err := db.ImportThemes(ctx, "cli", themes)
	if err != nil {
		return fmt.Errorf("saving the themes: %w", err)
	}
	fmt.Fprintf(stdout, "%s: %d theme(s) added, %d changed, %d unchanged.\n", filepath.Base(name), res.Added, res.Changed, res.Same)
	return warnUnknownThemes(ctx, db, stdout)
}

// warnUnknownThemes lists the surveys' themes that the database's themes
// do not have.
func warnUnknownThemes(ctx context.Context, db *store.DB, out io.Writer) error {
	all, err := db.Themes(ctx)
	if err != nil {
		return err
	}
	ids := make([]string, len(all))
	for i, t := range all {
		ids[i] = t.ID
	}
	list, err := db.ListSurveys(ctx)
	if err != nil {
		return err
	}
	catalog := store.NewCatalog(db)
	catalog.SetLog(slog.New(slog.DiscardHandler))
	if err := catalog.Reload(ctx); err != nil {
		return err
	}
	for _, s := range list {
		if sv, _, ok := catalog.Current(s.ID); ok {
			for _, w := range unknownThemes(sv, ids) {
				fmt.Fprintf(out, "warning: %s\n", w)
			}
		}
	}
	return nil
}

func cmdThemesList(ctx context.Context, getenv func(string) string, stdout io.Writer) error {
	db, err := openDB(ctx, getenv)
	if err != nil {
		return err
	}
	defer db.Close()
	all, err := db.Themes(ctx)
	if err != nil {
		return err
	}
	if len(all) == 0 {
		fmt.Fprintln(stdout, "There are no themes yet. Add them with: haveyoursay themes import FILE")
		return nil
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tTITLE")
	for _, t := range all {
		fmt.Fprintf(tw, "%s\t%s\n", t.ID, t.Label())
	}
	return tw.Flush()
}

// loadDemoThemes imports the demo themes (dev).
func loadDemoThemes(ctx context.Context, db *store.DB) error {
	themes, diags := survey.ParseThemes("themes.yaml", demo.ThemesYAML)
	if diags.HasErrors() {
		return diags
	}
	_, err := db.ImportThemes(ctx, "system", themes)
	return err
}

// loadDemoActions gives dev's demo data some "you said, we did": actions
// in every state, a member reviewers' finding, and a few quotes from the
// demo conversations, so the overview and the printed report show what a
// charity's would. A database that has actions already is left alone.
func loadDemoActions(ctx context.Context, db *store.DB, now time.Time) error {
	if have, err := db.Actions(ctx, store.ActionFilter{}); err != nil || len(have) > 0 {
		return err
	}
	due := now.AddDate(0, 2, 0)
	for _, a := range []store.Action{
		{ThemeID: "staff", SurveyID: "day-service", Said: "Staff are kind, but sometimes they are in a rush.",
			Doing: "We have one more member of staff on the busiest days.", Owner: "Day service manager", Status: store.ActionDone,
			MemberText: "We have more staff on busy days now. Thank you for telling us."},
		{ThemeID: "ideas", SurveyID: "day-service", Said: "People want more trips out.",
			Doing: "We will plan a trip each month, with members choosing where.", Owner: "Activities lead", Due: &due, Status: store.ActionDoing},
		{ThemeID: "choice-and-control", SurveyID: "day-service", Said: "Some people want more days at the day service.",
			Doing: "We asked the council to pay for more days.", Owner: "Manager", Status: store.ActionCannot,
			Reason: "The council said no for this year. We will ask again in April."},
		{ThemeID: "home", SurveyID: "your-home", Said: "Some people feel cold at home in the evening.",
			Doing: "We will check the heating in every house before winter.", Owner: "Housing team", Due: &due, Status: store.ActionPlanned},
	} {
		if _, err := db.SaveAction(ctx, "system", a); err != nil {
			return err
		}
	}
	if _, err := db.AddFinding(ctx, "system", "", "day-service", "People like the garden, but the path is hard for wheelchairs."); err != nil {
		return err
	}
	words, err := db.RecentWords(ctx, "day-service", 50)
	if err != nil {
		return err
	}
	chosen := 0
	for _, w := range words {
		if chosen == 3 || len(w.Words) < 15 || len(w.Words) > 140 {
			continue
		}
		if err := db.ChooseQuote(ctx, "system", w.ID, w.Words); err == nil {
			chosen++
		}
	}
	return nil
}
