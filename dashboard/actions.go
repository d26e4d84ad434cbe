package dashboard

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gorilla/mux"

	"github.com/haveyoursay/haveyoursay/sms"
	"github.com/haveyoursay/haveyoursay/store"
)

// Teller texts members about a done action: the sms Sender (see
// sms.Sender.TellAction). Without one the dashboard cannot send.
type Teller interface {
	TellAction(ctx context.Context, actor string, actionID int64) (sms.Telling, error)
	ActionProgress(ctx context.Context, actionID int64) (store.BatchProgress, error)
}

// statusWords are the action statuses in plain words.
var statusWords = map[string]string{
	store.ActionPlanned: "We plan to do this",
	store.ActionDoing:   "We are doing this",
	store.ActionDone:    "Done",
	store.ActionCannot:  "We cannot do this",
}

// statusIcons go beside the words (never alone).
var statusIcons = map[string]string{
	store.ActionPlanned: "○", store.ActionDoing: "◐", store.ActionDone: "✓", store.ActionCannot: "✗",
}

// actionView is an action with the words pages show.
type actionView struct {
	store.Action
	Theme      store.Theme
	StatusText string
	StatusIcon string
	DueText    string
}

func (a *App) actionViews(r *http.Request, f store.ActionFilter) ([]actionView, error) {
	list, err := a.db.Actions(r.Context(), f)
	if err != nil {
		return nil, err
	}
	themes, err := a.db.Themes(r.Context())
	if err != nil {
		return nil, err
	}
	out := make([]actionView, len(list))
	for i, act := range list {
		out[i] = viewAction(act, themes, a)
	}
	return out, nil
}

func viewAction(act store.Action, themes []store.Theme, a *App) actionView {
	v := actionView{Action: act, StatusText: statusWords[act.Status], StatusIcon: statusIcons[act.Status]}
	if act.ThemeID != "" {
		v.Theme = a.themeByID(themes, act.ThemeID)
	}
	if act.Due != nil {
		v.DueText = act.Due.Format("2 January 2006")
	}
	return v
}

// cleanText trims a form's text and makes its spaces plain.
func cleanText(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.Join(strings.Fields(l), " ")
	}
	return strings.TrimSpace(strings.Join(lines, "\n"))
}

// maxActionText is the most a field of an action may hold; a member text
// must fit in two SMS parts with its greeting.
const (
	maxActionText = 2000
	maxMemberText = 200
)

// actionForm reads an action from a form. problem is a sentence when the
// form is not right.
func actionForm(r *http.Request) (act store.Action, problem string) {
	f := r.PostForm
	act = store.Action{ThemeID: strings.TrimSpace(f.Get("theme")), SurveyID: strings.TrimSpace(f.Get("survey")),
		Said: cleanText(f.Get("said")), Doing: cleanText(f.Get("doing")), Owner: cleanText(f.Get("owner")),
		Status: f.Get("status"), Reason: cleanText(f.Get("reason")), MemberText: cleanText(f.Get("member_text"))}
	if act.Status == "" {
		act.Status = store.ActionPlanned
	}
	for _, s := range f["answer"] {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return act, "One of the chosen answers could not be read. Please choose them again."
		}
		act.Answers = append(act.Answers, id)
	}
	if due := strings.TrimSpace(f.Get("due")); due != "" {
		t, err := time.Parse("2006-01-02", due)
		if err != nil {
			return act, "The date to do it by should be a date, like 2027-01-31."
		}
		act.Due = &t
	}
	switch {
	case act.Said == "":
		return act, "Write what people said, in a sentence or two."
	case act.Doing == "":
		return act, "Write what we will do (or did)."
	case statusWords[act.Status] == "":
		return act, "Choose how the action stands: planned, doing, done or cannot."
	case act.Status == store.ActionCannot && act.Reason == "":
		return act, "Say why we cannot do it, in plain words. Members will read it."
	case act.ThemeID == "" && act.SurveyID == "" && len(act.Answers) == 0:
		return act, "Choose a theme, or answers, for the action to be about."
	case utf8.RuneCountInString(act.Said) > maxActionText || utf8.RuneCountInString(act.Doing) > maxActionText ||
		utf8.RuneCountInString(act.Reason) > maxActionText || utf8.RuneCountInString(act.Owner) > 200:
		return act, fmt.Sprintf("Each part can be up to %d letters long. Please make it shorter.", maxActionText)
	case utf8.RuneCountInString(act.MemberText) > maxMemberText:
		return act, fmt.Sprintf("The text for members can be up to %d letters long, so it fits in a text message. Please make it shorter.", maxMemberText)
	}
	return act, ""
}

// back is where to go after a form: the page it came from (a local path
// in the form's "back"), else the action.
func back(r *http.Request, fallback string) string {
	if b := r.PostForm.Get("back"); b != "" && localPath(b) == b {
		return b
	}
	return fallback
}

func withDone(path, done string) string {
	frag := ""
	if i := strings.IndexByte(path, '#'); i >= 0 {
		path, frag = path[:i], path[i:]
	}
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	return path + sep + "done=" + url.QueryEscape(done) + frag
}

// addAction answers POST /actions: a new "you said, we did".
func (a *App) addAction(w http.ResponseWriter, r *http.Request) {
	if !a.form(w, r) {
		return
	}
	act, problem := actionForm(r)
	if problem != "" {
		a.fail(w, r, http.StatusBadRequest, problem+" Nothing was saved: please go back and try again.")
		return
	}
	id, err := a.db.SaveAction(r.Context(), actor(r), act)
	switch {
	case errors.Is(err, store.ErrNotFound):
		a.notFound(w, r, "answer")
	case err != nil:
		a.serverError(w, r, err)
	default:
		http.Redirect(w, r, withDone(fmt.Sprintf("/actions/%d", id), "added"), http.StatusSeeOther)
	}
}

// newAction is what the "Record an action" form needs.
type newAction struct {
	Suffix   string // keeps ids apart when a page has several forms
	Survey   string
	Theme    string
	Themes   []store.Theme
	Statuses []choice
}

// actionPage is what templates/action.html shows.
type actionPage struct {
	Action    actionView
	Themes    []store.Theme
	Surveys   []store.SurveyChoice
	Statuses  []choice
	Progress  store.BatchProgress
	CanSend   bool // a sender is wired in
	Notice    string
	Problem   string
	NotBefore string
}

var actionNotices = map[string]string{
	"added":   "The action was saved.",
	"changed": "The action was changed.",
}

func statusChoices() []choice {
	out := make([]choice, len(store.ActionStatuses))
	for i, s := range store.ActionStatuses {
		out[i] = choice{s, statusWords[s]}
	}
	return out
}

// showAction answers GET /actions/{id}: one action, to change it and to
// send it to members once it is done.
func (a *App) showAction(w http.ResponseWriter, r *http.Request) {
	a.actionPage(w, r, http.StatusOK, actionNotices[r.URL.Query().Get("done")], "")
}

func (a *App) actionPage(w http.ResponseWriter, r *http.Request, status int, notice, problem string) {
	id, err := strconv.ParseInt(mux.Vars(r)["id"], 10, 64)
	if err != nil {
		a.notFound(w, r, "action")
		return
	}
	act, err := a.db.GetAction(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		a.notFound(w, r, "action")
		return
	}
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	themes, err := a.db.Themes(r.Context())
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	surveys, err := a.db.SurveyChoices(r.Context())
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	p := actionPage{Action: viewAction(act, themes, a), Themes: themes, Surveys: surveys, Statuses: statusChoices(),
		CanSend: a.teller != nil, Notice: notice, Problem: problem}
	if a.teller != nil {
		if p.Progress, err = a.teller.ActionProgress(r.Context(), id); err != nil {
			a.serverError(w, r, err)
			return
		}
	}
	if t := r.URL.Query().Get("after"); t != "" {
		p.NotBefore = t
	}
	a.renderStatus(w, r, status, "action", fmt.Sprintf("Action %d", id), p)
}

// changeAction answers POST /actions/{id}: change what an action says or
// how it stands.
func (a *App) changeAction(w http.ResponseWriter, r *http.Request) {
	if !a.form(w, r) {
		return
	}
	id, err := strconv.ParseInt(mux.Vars(r)["id"], 10, 64)
	if err != nil {
		a.notFound(w, r, "action")
		return
	}
	act, problem := actionForm(r)
	if problem != "" {
		a.actionPage(w, r, http.StatusBadRequest, "", problem+" Nothing was changed.")
		return
	}
	act.ID = id
	_, err = a.db.SaveAction(r.Context(), actor(r), act)
	switch {
	case errors.Is(err, store.ErrNotFound):
		a.notFound(w, r, "action")
	case err != nil:
		a.serverError(w, r, err)
	default:
		http.Redirect(w, r, withDone(fmt.Sprintf("/actions/%d", id), "changed"), http.StatusSeeOther)
	}
}

// tellAction answers POST /actions/{id}/tell: text the members the action
// covers who asked to be told (once each; STOP, quiet hours and the rate
// limit are the sender's).
func (a *App) tellAction(w http.ResponseWriter, r *http.Request) {
	if !a.form(w, r) {
		return
	}
	id, err := strconv.ParseInt(mux.Vars(r)["id"], 10, 64)
	if err != nil {
		a.notFound(w, r, "action")
		return
	}
	if a.teller == nil {
		a.actionPage(w, r, http.StatusServiceUnavailable, "", "This server cannot send texts (it has no Twilio number set up), so nobody was told.")
		return
	}
	t, err := a.teller.TellAction(r.Context(), actor(r), id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		a.notFound(w, r, "action")
		return
	case errors.Is(err, sms.ErrActionNotDone):
		a.actionPage(w, r, http.StatusBadRequest, "", "Only an action that is done can be sent. Mark it done first.")
		return
	case errors.Is(err, sms.ErrNoMemberText):
		a.actionPage(w, r, http.StatusBadRequest, "", "Write the text for members first: a short, easy-read sentence about what we did.")
		return
	case err != nil:
		a.serverError(w, r, err)
		return
	}
	var notice string
	switch {
	case t.Audience == 0:
		notice = "Nobody to tell: no member this action covers said yes to a text (or they have texted STOP)."
	case t.Queued == 0:
		notice = fmt.Sprintf("Everyone this action covers has been sent it already (%d %s). Nobody is told twice.", t.Audience, peopleWord(t.Audience))
	default:
		notice = fmt.Sprintf("%d %s will get the text.", t.Queued, peopleWord(t.Queued))
		if !t.NotBefore.IsZero() {
			notice += " It is quiet hours, so the texts will go at " + t.NotBefore.Local().Format("3:04pm on Monday 2 January") + "."
		}
	}
	a.actionPage(w, r, http.StatusOK, notice, "")
}

func peopleWord(n int) string {
	if n == 1 {
		return "member"
	}
	return "members"
}

// addFinding answers POST /findings: a member reviewer's finding on a
// theme or a survey.
func (a *App) addFinding(w http.ResponseWriter, r *http.Request) {
	if !a.form(w, r) {
		return
	}
	theme, surveyID := strings.TrimSpace(r.PostForm.Get("theme")), strings.TrimSpace(r.PostForm.Get("survey"))
	body := cleanText(r.PostForm.Get("body"))
	switch {
	case body == "":
		a.fail(w, r, http.StatusBadRequest, "Write what you found, then press the button. Nothing was saved.")
		return
	case utf8.RuneCountInString(body) > maxActionText:
		a.fail(w, r, http.StatusBadRequest, fmt.Sprintf("A finding can be up to %d letters long. Please make it shorter.", maxActionText))
		return
	case theme == "" && surveyID == "":
		a.fail(w, r, http.StatusBadRequest, "Choose a theme or a survey for the finding. Nothing was saved.")
		return
	}
	if _, err := a.db.AddFinding(r.Context(), actor(r), theme, surveyID, body); err != nil {
		a.serverError(w, r, err)
		return
	}
	fallback := "/themes"
	if surveyID != "" {
		fallback = "/surveys/" + url.PathEscape(surveyID) + "#findings"
	}
	http.Redirect(w, r, withDone(back(r, fallback), "finding"), http.StatusSeeOther)
}
