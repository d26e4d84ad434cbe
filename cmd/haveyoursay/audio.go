package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/haveyoursay/haveyoursay/audio"
	"github.com/haveyoursay/haveyoursay/ivr"
	"github.com/haveyoursay/haveyoursay/store"
	"github.com/haveyoursay/haveyoursay/survey"
)

const audioUsage = `Usage:
  haveyoursay audio add --survey ID --phrase KEY [--lang L] [--by NAME] FILE
  haveyoursay audio list --survey ID [--lang L]
  haveyoursay audio remove --survey ID --phrase KEY [--lang L]
  haveyoursay audio session --survey ID [--lang L] [--voice NAME]

Recorded prompts are sentences callers hear in a member's own voice instead
of a synthetic one. 'list' shows every sentence of a survey (its phrase KEY,
the words, and whether it has a recording). 'add' checks a WAV (8- or
16-bit PCM, mu-law) or MP3 file and plays it to callers from now on; 'remove'
goes back to the spoken words. 'session' prints a 6-digit PIN, valid for a
day, to record the sentences by phone: call HYS_RECORDING_NUMBER, or any
survey number and press star twice at the start, then type the PIN. Phone
recordings wait for staff to choose "use this" on the survey's prompts page.
--lang is the survey's own language unless given. Needs DATABASE_URL.
`

// cmdAudio manages the recorded prompts of a survey.
func cmdAudio(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, audioUsage)
		return usageError{}
	}
	if isHelp(args[0]) {
		fmt.Fprint(stdout, audioUsage)
		return nil
	}
	fs := flag.NewFlagSet("audio "+args[0], flag.ContinueOnError)
	fs.SetOutput(io.Discard) // its messages are ours, below
	fs.Usage = func() {}
	surveyID := fs.String("survey", "", "the survey's id")
	lang := fs.String("lang", "", "the language (default: the survey's own)")
	var phrase, by, voice *string
	switch args[0] {
	case "add":
		phrase = fs.String("phrase", "", "the phrase KEY, as 'audio list' shows it")
		by = fs.String("by", "", "who recorded it, as the dashboard shows it (optional)")
	case "remove":
		phrase = fs.String("phrase", "", "the phrase KEY, as 'audio list' shows it")
	case "session":
		voice = fs.String("voice", "", "who will record, as the dashboard shows it (optional)")
	case "list":
	default:
		fmt.Fprint(stderr, audioUsage)
		return usageError{fmt.Sprintf("haveyoursay audio: there is no command %q.", args[0])}
	}
	err := fs.Parse(args[1:])
	if errors.Is(err, flag.ErrHelp) || (len(args) > 1 && isHelp(args[1])) {
		fmt.Fprint(stdout, audioUsage)
		fmt.Fprintf(stdout, "\nSettings of 'audio %s':\n", args[0])
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		return nil
	}
	if err != nil {
		return usageError{fmt.Sprintf("haveyoursay audio %s: %v. Run 'haveyoursay audio help' to see how to use it.", args[0], err)}
	}
	want := 0
	if args[0] == "add" {
		want = 1
	}
	if fs.NArg() != want {
		if want == 1 {
			return usageError{"haveyoursay audio add: give one audio file (WAV or MP3) after the settings."}
		}
		return usageError{fmt.Sprintf("haveyoursay audio %s: unexpected %q. Give settings as --survey ID.", args[0], fs.Arg(0))}
	}
	if strings.TrimSpace(*surveyID) == "" {
		return usageError{fmt.Sprintf("haveyoursay audio %s: say which survey with --survey ID.", args[0])}
	}
	if phrase != nil && strings.TrimSpace(*phrase) == "" {
		return usageError{fmt.Sprintf("haveyoursay audio %s: say which sentence with --phrase KEY ('haveyoursay audio list --survey %s' shows them).", args[0], *surveyID)}
	}
	var data []byte
	if want == 1 {
		var err error
		if data, err = readAudioFile(fs.Arg(0)); err != nil {
			return err
		}
	}

	db, err := openDB(ctx, getenv)
	if err != nil {
		return err
	}
	defer db.Close()
	sv, err := storedSurvey(ctx, db, *surveyID)
	if err != nil {
		return err
	}
	if *lang == "" {
		*lang = sv.Language
	}
	if !contains(sv.Languages(), *lang) {
		return usageError{fmt.Sprintf("haveyoursay audio %s: survey %s has no language %q (it has %s).", args[0], sv.ID, *lang, strings.Join(sv.Languages(), ", "))}
	}
	org := getenv("HYS_ORG_NAME")
	if org == "" {
		org = "Have Your Say"
	}
	phrases := ivr.Phrases(sv, *lang, org)
	var words string
	if phrase != nil {
		found := false
		for _, p := range phrases {
			if p.Key == *phrase {
				words, found = p.Text, true
			}
		}
		if !found {
			return usageError{fmt.Sprintf("haveyoursay audio %s: survey %s has no sentence %q; 'haveyoursay audio list --survey %s' shows them.", args[0], sv.ID, *phrase, sv.ID)}
		}
	}
	lib := audio.NewLibrary(db, "", nil)

	switch args[0] {
	case "add":
		who := strings.TrimSpace(*by)
		if who == "" {
			who = "command line"
		}
		p, info, err := lib.Save(ctx, store.AudioPrompt{SurveyID: sv.ID, Language: *lang, Key: *phrase, Status: store.PromptActive,
			Words: words, Source: "upload", RecordedBy: who, ApprovedBy: "command line"}, data)
		if errors.Is(err, audio.ErrInvalid) {
			return fmt.Errorf("%s: %w", fs.Arg(0), err)
		}
		if err != nil {
			return err
		}
		for _, w := range info.Warnings {
			fmt.Fprintln(stderr, "Note: "+w)
		}
		auditAudio(ctx, db, stderr, "prompt-added", sv.ID, map[string]any{"phrase": p.Key, "language": p.Language, "version": p.Version})
		fmt.Fprintf(stdout, "Saved %s (%s), version %d: %s.\nCallers hear it from now on (a running server picks it up within a minute).\n",
			p.Key, p.Language, p.Version, info.Summary())
		return nil
	case "remove":
		if _, ok := activePrompt(ctx, db, sv.ID, *lang, *phrase); !ok {
			return fmt.Errorf("%s (%s) of survey %s has no recording in use: callers already hear the words spoken.", *phrase, *lang, sv.ID)
		}
		if err := lib.Remove(ctx, sv.ID, *lang, *phrase); err != nil {
			return err
		}
		auditAudio(ctx, db, stderr, "prompt-removed", sv.ID, map[string]any{"phrase": *phrase, "language": *lang})
		fmt.Fprintf(stdout, "Removed: callers hear %s (%s) spoken again (a running server notices within a minute).\n", *phrase, *lang)
		return nil
	case "session":
		s, pin, err := db.CreateRecordingSession(ctx, store.RecordingSession{SurveyID: sv.ID, Language: *lang, Voice: strings.TrimSpace(*voice),
			CreatedBy: "command line"}, 24*time.Hour)
		if err != nil {
			return err
		}
		auditAudio(ctx, db, stderr, "recording-session-started", sv.ID, map[string]any{"session": s.ID, "language": *lang})
		how := "call any number of the survey and press star twice at the start"
		if n := getenv("HYS_RECORDING_NUMBER"); n != "" {
			how = "call " + n + " (or any number of the survey and press star twice at the start)"
		}
		fmt.Fprintf(stdout, "PIN: %s\n\nTo record the %d sentences of %q in %s by phone, %s, then type the PIN.\nIt works until %s. Recordings wait for staff to choose \"use this\" on the survey's prompts page.\n",
			pin, len(phrases), sv.Title, *lang, how, s.ExpiresAt.UTC().Format("Mon 2 Jan 15:04 MST"))
		return nil
	}
	return listPrompts(ctx, db, sv, *lang, phrases, stdout)
}

func readAudioFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s cannot be read: %w", path, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, audio.MaxBytes+1))
	if err != nil {
		return nil, fmt.Errorf("%s cannot be read: %w", path, err)
	}
	return data, nil
}

// storedSurvey loads the current version of a survey from the database.
func storedSurvey(ctx context.Context, db *store.DB, id string) (*survey.Survey, error) {
	all, err := db.CurrentSurveys(ctx)
	if err != nil {
		return nil, err
	}
	for _, v := range all {
		if v.SurveyID == id {
			sv, err := survey.Parse(v.FileName, []byte(v.Source))
			if err != nil {
				return nil, fmt.Errorf("survey %s no longer loads: %w", id, err)
			}
			return sv, nil
		}
	}
	return nil, fmt.Errorf("There is no survey %q in the database ('haveyoursay survey list' shows them).", id)
}

func activePrompt(ctx context.Context, db *store.DB, surveyID, lang, key string) (store.AudioPrompt, bool) {
	versions, err := db.PromptVersions(ctx, surveyID, lang)
	if err != nil {
		return store.AudioPrompt{}, false
	}
	for _, v := range versions {
		if v.Key == key && v.Status == store.PromptActive {
			return v, true
		}
	}
	return store.AudioPrompt{}, false
}

// listPrompts prints each sentence and whether callers hear a recording.
func listPrompts(ctx context.Context, db *store.DB, sv *survey.Survey, lang string, phrases []survey.Prompt, stdout io.Writer) error {
	versions, err := db.PromptVersions(ctx, sv.ID, lang)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "PHRASE\tRECORDING\tBY\tWORDS")
	recorded := 0
	for _, p := range phrases {
		state, by := "none: spoken", ""
		for _, v := range versions {
			if v.Key != p.Key {
				continue
			}
			switch {
			case v.Status == store.PromptActive && v.Words != "" && !sameSentence(v.Words, p.Text):
				state, by = fmt.Sprintf("version %d, for older words: spoken", v.Version), v.RecordedBy
			case v.Status == store.PromptActive:
				state, by = fmt.Sprintf("version %d, played", v.Version), v.RecordedBy
				recorded++
			case v.Status == store.PromptRecorded && by == "":
				state, by = fmt.Sprintf("version %d, waiting for \"use this\"", v.Version), v.RecordedBy
			}
			if v.Status == store.PromptActive {
				break
			}
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", p.Key, state, by, clip(p.Text, 60))
	}
	if err := w.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\n%d of %d sentences of %s (%s) are played from a recording.\n", recorded, len(phrases), sv.ID, lang)
	return nil
}

func sameSentence(a, b string) bool {
	return strings.EqualFold(strings.Join(strings.Fields(a), " "), strings.Join(strings.Fields(b), " "))
}

func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func auditAudio(ctx context.Context, db *store.DB, stderr io.Writer, action, surveyID string, detail map[string]any) {
	if err := db.Audit(ctx, "cli", action, "survey:"+surveyID, detail); err != nil {
		fmt.Fprintf(stderr, "warning: the audit log could not be written: %v\n", err)
	}
}
