package dashboard

// The recorded prompts of a survey (issue 17): every sentence a caller may
// hear, in each language, beside its recording (or none), who recorded
// it, "use this" for a recording made by phone, upload, and a PIN to
// record by phone.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/haveyoursay/haveyoursay/audio"
	"github.com/haveyoursay/haveyoursay/store"
	"github.com/haveyoursay/haveyoursay/survey"
)

// PromptDeps is what the recorded prompts' page needs besides the
// database. With no Library the page says that prompts are not set up.
type PromptDeps struct {
	Library *audio.Library
	// Phrases lists every sentence a caller to a survey may hear in a
	// language (ivr.Phrases).
	Phrases func(sv *survey.Survey, lang string) []survey.Prompt
	// RecordingNumber is HYS_RECORDING_NUMBER, shown with a new PIN.
	RecordingNumber string
}

// ManagesPrompts reports whether a role may record, upload and choose a
// survey's prompts.
func (r Role) ManagesPrompts() bool { return r == Admin || r == Staff }

// promptRoutes lists the recorded prompts' routes.
func (a *App) promptRoutes(r *mux.Router) {
	a.get(r, "/surveys/{id}/prompts", Role.ManagesPrompts, a.showPrompts)                    // every sentence, its recording, upload
	a.uploadPost(r, "/surveys/{id}/prompts/upload", Role.ManagesPrompts, a.uploadPrompt)     // a WAV or MP3 for one sentence
	a.post(r, "/surveys/{id}/prompts/use", Role.ManagesPrompts, a.usePrompt)                 // "use this": callers hear it
	a.post(r, "/surveys/{id}/prompts/remove", Role.ManagesPrompts, a.removePrompt)           // back to the spoken words
	a.post(r, "/surveys/{id}/prompts/session", Role.ManagesPrompts, a.startRecordingByPhone) // a PIN to record by phone
}

// uploadPost registers a form that carries a file: like post, with room
// for an audio file instead of MaxFormBytes.
func (a *App) uploadPost(r *mux.Router, path string, allow func(Role) bool, h http.HandlerFunc) {
	limited := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, audio.MaxBytes+64<<10)
		a.headers(a.signedIn(a.require(allow)(h))).ServeHTTP(w, r)
	})
	r.Handle(path, a.cop.Handler(limited)).Methods(http.MethodPost)
}

// promptsPage is what the page shows.
type promptsPage struct {
	Survey    *survey.Survey
	Lang      string
	Languages []string
	Rows      []promptRow
	Recorded  int
	Sessions  []sessionRow
	PIN       string // a new PIN, shown once
	PINUntil  time.Time
	Number    string // HYS_RECORDING_NUMBER
	Notice    string
	Warnings  []string
	Problem   string
	Ready     bool // the prompt library is there
}

// promptRow is one sentence.
type promptRow struct {
	Key, Label, Words string
	Active            *promptVersion
	OlderWords        bool // the active recording says words the survey has since changed
	Waiting           []promptVersion
}

// promptVersion is one recording, with what was measured, in words.
type promptVersion struct {
	store.AudioPrompt
	Facts string
}

func versionOf(p store.AudioPrompt) promptVersion {
	facts := fmt.Sprintf("Version %d, %.1f seconds, loudest %.0f dB", p.Version, float64(p.DurationMS)/1000, p.PeakDB)
	if p.Clipped > 0.001 {
		facts += ", too loud in places"
	}
	return promptVersion{AudioPrompt: p, Facts: facts}
}

type sessionRow struct {
	store.RecordingSession
	DoneCount, Total int
}

var promptsDone = map[string]string{
	"used":    "Callers hear that recording from now on (other servers within a minute).",
	"removed": "Callers hear the words spoken again.",
}

// showPrompts answers GET /surveys/{id}/prompts[?lang=L].
func (a *App) showPrompts(w http.ResponseWriter, r *http.Request) {
	a.promptsPage(w, r, http.StatusOK, r.URL.Query().Get("lang"), promptsPage{Notice: promptsDone[r.URL.Query().Get("done")]})
}

// promptSurvey loads the {id} survey's current version.
func (a *App) promptSurvey(ctx context.Context, id string) (*survey.Survey, error) {
	all, err := a.db.CurrentSurveys(ctx)
	if err != nil {
		return nil, err
	}
	for _, v := range all {
		if v.SurveyID == id {
			return survey.Parse(v.FileName, []byte(v.Source))
		}
	}
	return nil, store.ErrNotFound
}

func (a *App) promptsPage(w http.ResponseWriter, r *http.Request, status int, lang string, p promptsPage) {
	ctx := r.Context()
	sv, err := a.promptSurvey(ctx, mux.Vars(r)["id"])
	if errors.Is(err, store.ErrNotFound) {
		a.notFound(w, r, "survey")
		return
	}
	if err != nil {
		a.serverError(w, r, fmt.Errorf("loading a survey for its prompts: %w", err))
		return
	}
	p.Survey, p.Languages, p.Number = sv, sv.Languages(), a.prompts.RecordingNumber
	p.Lang = sv.Language
	for _, l := range p.Languages {
		if l == lang {
			p.Lang = l
		}
	}
	p.Ready = a.prompts.Library != nil && a.prompts.Phrases != nil
	if !p.Ready {
		a.renderStatus(w, r, status, "prompts", "Recorded prompts: "+sv.Title, p)
		return
	}
	versions, err := a.db.PromptVersions(ctx, sv.ID, p.Lang)
	if err != nil {
		a.serverError(w, r, fmt.Errorf("listing prompt versions: %w", err))
		return
	}
	phrases := a.prompts.Phrases(sv, p.Lang)
	for _, ph := range phrases {
		row := promptRow{Key: ph.Key, Label: phraseLabel(ph.Key), Words: ph.Text}
		for i := range versions {
			v := versions[i]
			if v.Key != ph.Key {
				continue
			}
			switch v.Status {
			case store.PromptActive:
				av := versionOf(v)
				row.Active = &av
				row.OlderWords = v.Words != "" && !sameWords(v.Words, ph.Text)
			case store.PromptRecorded:
				row.Waiting = append(row.Waiting, versionOf(v))
			}
		}
		if row.Active != nil && !row.OlderWords {
			p.Recorded++
		}
		p.Rows = append(p.Rows, row)
	}
	sessions, err := a.db.RecordingSessions(ctx, sv.ID)
	if err != nil {
		a.serverError(w, r, fmt.Errorf("listing recording sessions: %w", err))
		return
	}
	for _, s := range sessions {
		if s.Language == p.Lang {
			p.Sessions = append(p.Sessions, sessionRow{RecordingSession: s, DoneCount: len(s.Done), Total: len(phrases)})
		}
	}
	a.renderStatus(w, r, status, "prompts", "Recorded prompts: "+sv.Title, p)
}

func sameWords(a, b string) bool {
	return strings.EqualFold(strings.Join(strings.Fields(a), " "), strings.Join(strings.Fields(b), " "))
}

// phraseLabel says what a phrase key is, for people.
func phraseLabel(key string) string {
	kind, id, found := strings.Cut(key, ":")
	if !found {
		switch key {
		case "intro":
			return "Introduction"
		case "consent":
			return "Asking for consent"
		case "thanks":
			return "Thank you at the end"
		case "voice-notice":
			return "Recording notice (first words of a call)"
		case "voice-length":
			return "How long the survey takes"
		}
		return "Built-in sentence"
	}
	switch kind {
	case "question":
		return "Question " + id
	case "menu":
		return "Answers to choose from: " + id
	case "simpler":
		return "Simpler wording: " + id
	case "language":
		return "Choosing a language"
	}
	return "Sentence"
}

// promptsRedirect sends the browser back to the page in lang after a change.
func promptsRedirect(w http.ResponseWriter, r *http.Request, lang, done string) {
	q := url.Values{"lang": {lang}, "done": {done}}
	http.Redirect(w, r, "/surveys/"+url.PathEscape(mux.Vars(r)["id"])+"/prompts?"+q.Encode(), http.StatusSeeOther)
}

// phraseOf finds the sentence a form names; ok is false (and the page
// answered) when the survey, language or phrase is unknown.
func (a *App) phraseOf(w http.ResponseWriter, r *http.Request, lang, key string) (*survey.Survey, survey.Prompt, bool) {
	sv, err := a.promptSurvey(r.Context(), mux.Vars(r)["id"])
	if errors.Is(err, store.ErrNotFound) {
		a.notFound(w, r, "survey")
		return nil, survey.Prompt{}, false
	}
	if err != nil {
		a.serverError(w, r, err)
		return nil, survey.Prompt{}, false
	}
	if a.prompts.Library == nil || a.prompts.Phrases == nil {
		a.fail(w, r, http.StatusServiceUnavailable, "Recorded prompts are not set up on this server, so nothing was changed.")
		return nil, survey.Prompt{}, false
	}
	for _, p := range a.prompts.Phrases(sv, lang) {
		if p.Key == key {
			return sv, p, true
		}
	}
	a.fail(w, r, http.StatusBadRequest, "That sentence or language is not part of this survey, so nothing was changed.")
	return nil, survey.Prompt{}, false
}

// uploadPrompt answers POST /surveys/{id}/prompts/upload (multipart:
// lang, phrase, file): checked like `audio add`, then played.
func (a *App) uploadPrompt(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			a.fail(w, r, http.StatusRequestEntityTooLarge, fmt.Sprintf("That file is too large (at most %d MB), so nothing was changed.", audio.MaxBytes>>20))
			return
		}
		a.fail(w, r, http.StatusBadRequest, "That upload could not be read, so nothing was changed. Please choose the file again.")
		return
	}
	defer r.MultipartForm.RemoveAll()
	lang, key := r.PostForm.Get("lang"), r.PostForm.Get("phrase")
	sv, ph, ok := a.phraseOf(w, r, lang, key)
	if !ok {
		return
	}
	f, hdr, err := r.FormFile("file")
	if err != nil {
		a.promptsPage(w, r, http.StatusBadRequest, lang, promptsPage{Problem: "Please choose a sound file (WAV or MP3) for “" + ph.Text + "”."})
		return
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, audio.MaxBytes+1))
	if err != nil {
		a.fail(w, r, http.StatusBadRequest, "That upload could not be read, so nothing was changed. Please choose the file again.")
		return
	}
	u := userFrom(r.Context())
	who := u.Email
	if u.Name != "" {
		who = u.Name
	}
	p, info, err := a.prompts.Library.Save(r.Context(), store.AudioPrompt{SurveyID: sv.ID, Language: lang, Key: key, Status: store.PromptActive,
		Words: ph.Text, Source: "upload", RecordedBy: who, ApprovedBy: u.Email}, data)
	if errors.Is(err, audio.ErrInvalid) {
		a.promptsPage(w, r, http.StatusBadRequest, lang, promptsPage{Problem: fmt.Sprintf("%s was not used for “%s”: %s.", hdr.Filename, ph.Text,
			strings.TrimPrefix(err.Error(), audio.ErrInvalid.Error()+": "))})
		return
	}
	if err != nil {
		a.serverError(w, r, fmt.Errorf("saving an uploaded prompt: %w", err))
		return
	}
	a.audit(r, "prompt-uploaded", "survey:"+sv.ID, map[string]any{"phrase": key, "language": lang, "version": p.Version})
	a.promptsPage(w, r, http.StatusOK, lang, promptsPage{Notice: fmt.Sprintf("Callers hear your recording of “%s” from now on: %s.", ph.Text, info.Summary()),
		Warnings: info.Warnings})
}

// usePrompt answers POST /surveys/{id}/prompts/use (name): staff's "use
// this" for a recording made by phone (or an earlier version).
func (a *App) usePrompt(w http.ResponseWriter, r *http.Request) {
	if !a.form(w, r) {
		return
	}
	p, err := a.db.AudioPrompt(r.Context(), r.PostForm.Get("name"))
	if errors.Is(err, store.ErrNotFound) || (err == nil && p.SurveyID != mux.Vars(r)["id"]) {
		a.notFound(w, r, "recording")
		return
	}
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	if a.prompts.Library == nil {
		a.fail(w, r, http.StatusServiceUnavailable, "Recorded prompts are not set up on this server, so nothing was changed.")
		return
	}
	if _, err := a.prompts.Library.Approve(r.Context(), p.Name, userFrom(r.Context()).Email); errors.Is(err, store.ErrNotApprovable) {
		a.fail(w, r, http.StatusConflict, "That recording was never kept on the phone, so it cannot be used.")
		return
	} else if err != nil {
		a.serverError(w, r, fmt.Errorf("using a prompt: %w", err))
		return
	}
	a.audit(r, "prompt-used", "survey:"+p.SurveyID, map[string]any{"phrase": p.Key, "language": p.Language, "version": p.Version})
	promptsRedirect(w, r, p.Language, "used")
}

// removePrompt answers POST /surveys/{id}/prompts/remove (lang, phrase).
func (a *App) removePrompt(w http.ResponseWriter, r *http.Request) {
	if !a.form(w, r) {
		return
	}
	lang, key := r.PostForm.Get("lang"), r.PostForm.Get("phrase")
	sv, _, ok := a.phraseOf(w, r, lang, key)
	if !ok {
		return
	}
	if err := a.prompts.Library.Remove(r.Context(), sv.ID, lang, key); err != nil {
		a.serverError(w, r, fmt.Errorf("removing a prompt: %w", err))
		return
	}
	a.audit(r, "prompt-removed", "survey:"+sv.ID, map[string]any{"phrase": key, "language": lang})
	promptsRedirect(w, r, lang, "removed")
}

// startRecordingByPhone answers POST /surveys/{id}/prompts/session (lang,
// voice): a PIN, shown once, valid for a day.
func (a *App) startRecordingByPhone(w http.ResponseWriter, r *http.Request) {
	if !a.form(w, r) {
		return
	}
	lang := r.PostForm.Get("lang")
	sv, err := a.promptSurvey(r.Context(), mux.Vars(r)["id"])
	if errors.Is(err, store.ErrNotFound) {
		a.notFound(w, r, "survey")
		return
	}
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	known := false
	for _, l := range sv.Languages() {
		known = known || l == lang
	}
	if !known {
		a.fail(w, r, http.StatusBadRequest, "That language is not part of this survey, so no PIN was made.")
		return
	}
	s, pin, err := a.db.CreateRecordingSession(r.Context(), store.RecordingSession{SurveyID: sv.ID, Language: lang,
		Voice: strings.TrimSpace(r.PostForm.Get("voice")), CreatedBy: userFrom(r.Context()).Email}, 24*time.Hour)
	if err != nil {
		a.serverError(w, r, fmt.Errorf("starting a recording session: %w", err))
		return
	}
	a.audit(r, "recording-session-started", "survey:"+sv.ID, map[string]any{"session": s.ID, "language": lang})
	w.Header().Set("Cache-Control", "no-store")
	a.promptsPage(w, r, http.StatusOK, lang, promptsPage{PIN: pin, PINUntil: s.ExpiresAt})
}
