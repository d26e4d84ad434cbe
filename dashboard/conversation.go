package dashboard

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gorilla/mux"

	"github.com/haveyoursay/haveyoursay/store"
	"github.com/haveyoursay/haveyoursay/survey"
)

// conversationPage is what templates/conversation.html shows.
type conversationPage struct {
	C        store.Conversation
	Items    []answerItem
	Notes    []store.Note // about the whole conversation
	Flags    []store.Flag // about the whole conversation
	Themes   []string     // the survey's themes, offered when tagging
	Notice   string
	Problem  string
	Draft    draft // what was typed before a problem, to fill the form again
	Step     int   // easy-read view: which answer is on the screen
	Item     *answerItem
	Prev     int // easy-read: the step before (-1: none)
	Next     int // easy-read: the step after (-1: none)
	Finished bool
	Role     Role // the person looking, for the flag forms
}

// StepNumber is the easy-read step counted from 1.
func (p conversationPage) StepNumber() int { return p.Step + 1 }

// flagBlock is what the "flags" template shows for the conversation
// (Answer 0) or one answer.
type flagBlock struct {
	Flags        []store.Flag
	Answer       int64
	Conversation string
	Can          Role
}

// FlagsFor returns the flags of one answer, or of the whole conversation.
func (p conversationPage) FlagsFor(answer int64) flagBlock {
	b := flagBlock{Answer: answer, Conversation: p.C.ID, Can: p.Role, Flags: p.Flags}
	if answer != 0 {
		b.Flags = nil
		for _, it := range p.Items {
			if it.ID == answer {
				b.Flags = it.Flags
			}
		}
	}
	return b
}

// answerItem is one answer with everything about it.
type answerItem struct {
	store.Answer
	Ask         string // the question, as the survey asked it
	Options     bool   // a question with a list of answers to choose from
	Understood  string // what we understood, in the survey's words
	Inputs      []store.KeyInput
	Recording   *store.RecordingInfo
	Current     store.Transcript
	Original    store.Transcript
	Corrections []store.Transcript
	Notes       []store.Note
	Flags       []store.Flag
}

// draft is a form's text kept when it could not be saved.
type draft struct {
	Answer     int64
	Note       string
	Transcript string
	SID        string
}

var conversationDone = map[string]string{
	"theme":      "The theme was saved.",
	"untheme":    "The theme was taken off.",
	"note":       "Your note was saved.",
	"flag":       "The flag was saved. Others will see it.",
	"clear":      "The flag was marked as dealt with.",
	"transcript": "The transcript was corrected. The original is kept below it.",
}

// Limits on what a form may hold (a larger form is refused before this).
const (
	maxNote       = 4000
	maxTheme      = 60
	maxReason     = 1000
	maxTranscript = 10000
)

// conversation reads the {id} of a route and its conversation, answering
// the 404 page itself for an unknown one.
func (a *App) conversation(w http.ResponseWriter, r *http.Request) (store.Conversation, bool) {
	c, err := a.db.GetConversation(r.Context(), mux.Vars(r)["id"])
	if errors.Is(err, store.ErrNotFound) {
		a.notFound(w, r, "conversation")
		return c, false
	}
	if err != nil {
		a.serverError(w, r, fmt.Errorf("reading a conversation: %w", err))
		return c, false
	}
	return c, true
}

// showConversation answers GET /conversations/{id}: every answer in order,
// what the member typed or said beside what we understood, recordings,
// transcripts, themes, notes, flags and the member's other conversations.
// Every view is in the audit log. Member reviewers see one answer at a
// time (?step=N).
func (a *App) showConversation(w http.ResponseWriter, r *http.Request) {
	c, ok := a.conversation(w, r)
	if !ok {
		return
	}
	a.audit(r, store.AuditViewConversation, store.ConversationSubject(c.ID), nil)
	p := a.conversationData(r, c)
	p.Notice = conversationDone[r.URL.Query().Get("done")]
	a.showConversationPage(w, r, http.StatusOK, p)
}

func (a *App) showConversationPage(w http.ResponseWriter, r *http.Request, status int, p conversationPage) {
	title := p.C.SurveyTitle
	if userFrom(r.Context()).Role.EasyRead() {
		title = "What someone said"
	}
	a.renderStatus(w, r, status, "conversation", title, p)
}

// conversationData puts each recording, transcript, key press, note and
// flag beside the answer it belongs to.
func (a *App) conversationData(r *http.Request, c store.Conversation) conversationPage {
	p := conversationPage{C: c, Prev: -1, Next: -1}
	if u := userFrom(r.Context()); u != nil {
		p.Role = u.Role
	}
	sv, err := a.surveys().Version(r.Context(), c.SurveyID, c.SurveyVersion)
	if err != nil {
		a.log.Warn("reading the survey of a conversation", "survey", c.SurveyID, "err", err)
	}
	themes := map[string]bool{}
	for _, ans := range c.Answers {
		it := answerItem{Answer: ans, Understood: ans.Value}
		if q := question(sv, ans.QuestionID); q != nil {
			it.Ask = q.Ask
			it.Options = len(q.Options) > 0
			for _, o := range q.Options {
				if o.Value == ans.Value {
					it.Understood = o.Say
				}
			}
			for _, t := range q.Themes {
				themes[t] = true
			}
		}
		for _, in := range c.Inputs {
			if in.QuestionID == ans.QuestionID && in.Stage == "question" {
				it.Inputs = append(it.Inputs, in)
			}
		}
		for i := range c.Recordings {
			rec := &c.Recordings[i]
			if rec.SID == ans.RecordingSID {
				it.Recording = rec
				it.Current, _ = rec.Current()
				it.Original, _ = rec.Original()
				it.Corrections = rec.Corrections()
			}
		}
		for _, n := range c.Notes {
			if n.AnswerID != nil && *n.AnswerID == ans.ID {
				it.Notes = append(it.Notes, n)
			}
		}
		for _, f := range c.Flags {
			if f.Kind == store.FlagWorry && !p.Role.CanEdit() {
				continue // a worry's details are for staff, not reviewers or viewers
			}
			if f.AnswerID != nil && *f.AnswerID == ans.ID {
				it.Flags = append(it.Flags, f)
			}
		}
		p.Items = append(p.Items, it)
	}
	for _, n := range c.Notes {
		if n.AnswerID == nil {
			p.Notes = append(p.Notes, n)
		}
	}
	for _, f := range c.Flags {
		if f.Kind == store.FlagWorry && !p.Role.CanEdit() {
			continue
		}
		if f.AnswerID == nil {
			p.Flags = append(p.Flags, f)
		}
	}
	for t := range themes {
		p.Themes = append(p.Themes, t)
	}
	slices.Sort(p.Themes)
	// The easy-read view: one answer on the screen.
	p.Step, _ = strconv.Atoi(r.URL.Query().Get("step"))
	if p.Step < 0 || p.Step > len(p.Items) {
		p.Step = 0
	}
	if p.Step < len(p.Items) {
		p.Item = &p.Items[p.Step]
		p.Next = p.Step + 1
	} else {
		p.Finished = true
	}
	if p.Step > 0 {
		p.Prev = p.Step - 1
	}
	return p
}

func question(sv *survey.Survey, id string) *survey.Question {
	if sv == nil {
		return nil
	}
	for i := range sv.Questions {
		if sv.Questions[i].ID == id {
			return &sv.Questions[i]
		}
	}
	return nil
}

// user is the signed-in person's name for notes, flags and the audit log.
func actor(r *http.Request) string {
	if u := userFrom(r.Context()); u != nil {
		return u.Email
	}
	return "anonymous"
}

// backTo sends the browser back to the conversation after a change, to
// the answer it was about and (easy-read) the same step.
func backTo(w http.ResponseWriter, r *http.Request, id, done string, answer int64) {
	q := url.Values{"done": {done}}
	if s, err := strconv.Atoi(r.PostForm.Get("step")); err == nil && s > 0 {
		q.Set("step", strconv.Itoa(s))
	}
	target := "/conversations/" + url.PathEscape(id) + "?" + q.Encode()
	if answer != 0 {
		target += fmt.Sprintf("#answer-%d", answer)
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// problem shows the conversation again with a sentence saying what to
// fix, and what was typed still in the form.
func (a *App) problem(w http.ResponseWriter, r *http.Request, c store.Conversation, message string, d draft) {
	p := a.conversationData(r, c)
	p.Problem, p.Draft = message, d
	a.showConversationPage(w, r, http.StatusBadRequest, p)
}

// answerForm reads a form about a conversation and, when it names one, one
// of its answers (0: the whole conversation). When ok is false it has
// already answered with a page saying what was wrong.
func (a *App) answerForm(w http.ResponseWriter, r *http.Request) (c store.Conversation, answer int64, ok bool) {
	if !a.form(w, r) {
		return c, 0, false
	}
	if c, ok = a.conversation(w, r); !ok {
		return c, 0, false
	}
	if answer, ok = answerID(r); !ok {
		a.notFound(w, r, "answer")
	}
	return c, answer, ok
}

// answerID reads the optional answer a form is about (0: the whole
// conversation).
func answerID(r *http.Request) (int64, bool) {
	v := r.PostForm.Get("answer")
	if v == "" {
		return 0, true
	}
	id, err := strconv.ParseInt(v, 10, 64)
	return id, err == nil && id > 0
}

// saved finishes a change: the 404 page for an answer or conversation
// that is not there, the error page for a failure, else back to the page.
func (a *App) saved(w http.ResponseWriter, r *http.Request, err error, id, done string, answer int64) {
	switch {
	case errors.Is(err, store.ErrNotFound):
		a.notFound(w, r, "answer")
	case err != nil:
		a.serverError(w, r, fmt.Errorf("saving a change to a conversation: %w", err))
	default:
		backTo(w, r, id, done, answer)
	}
}

// changeTheme answers POST /conversations/{id}/themes: add (or, for
// staff, remove) a theme on one answer: the survey's themes or a free tag.
func (a *App) changeTheme(w http.ResponseWriter, r *http.Request) {
	c, answer, ok := a.answerForm(w, r)
	if !ok {
		return
	}
	if answer == 0 {
		a.notFound(w, r, "answer")
		return
	}
	theme := strings.Join(strings.Fields(r.PostForm.Get("theme")), " ")
	switch {
	case theme == "":
		a.problem(w, r, c, "Type a theme or a tag, then press the button.", draft{Answer: answer})
		return
	case utf8.RuneCountInString(theme) > maxTheme:
		a.problem(w, r, c, fmt.Sprintf("A theme can be up to %d letters long. Please make it shorter.", maxTheme), draft{Answer: answer})
		return
	}
	if r.PostForm.Get("action") == "remove" {
		if !userFrom(r.Context()).Role.CanEdit() {
			a.fail(w, r, http.StatusForbidden, "Your account can add themes but not take them off. Ask a member of staff.")
			return
		}
		a.saved(w, r, a.db.RemoveTheme(r.Context(), actor(r), c.ID, answer, theme), c.ID, "untheme", answer)
		return
	}
	a.saved(w, r, a.db.AddTheme(r.Context(), actor(r), c.ID, answer, theme), c.ID, "theme", answer)
}

// addNote answers POST /conversations/{id}/notes: a note about the
// conversation or one answer. It is shown as text, whatever it holds.
func (a *App) addNote(w http.ResponseWriter, r *http.Request) {
	c, answer, ok := a.answerForm(w, r)
	if !ok {
		return
	}
	body := strings.TrimSpace(r.PostForm.Get("note"))
	switch {
	case body == "":
		a.problem(w, r, c, "Write your note in the box, then press the button.", draft{Answer: answer})
		return
	case utf8.RuneCountInString(body) > maxNote:
		a.problem(w, r, c, fmt.Sprintf("A note can be up to %d letters long. Please make it shorter, or write two notes.", maxNote),
			draft{Answer: answer, Note: body})
		return
	}
	a.saved(w, r, a.db.AddNote(r.Context(), actor(r), c.ID, answer, body), c.ID, "note", answer)
}

// raiseFlag answers POST /conversations/{id}/flags: staff flag a worry
// (with why); anyone who tags may say "this matters".
func (a *App) raiseFlag(w http.ResponseWriter, r *http.Request) {
	c, answer, ok := a.answerForm(w, r)
	if !ok {
		return
	}
	kind := r.PostForm.Get("kind")
	reason := strings.TrimSpace(r.PostForm.Get("reason"))
	switch {
	case kind != store.FlagWorry && kind != store.FlagMatters:
		a.problem(w, r, c, "Choose a kind of flag.", draft{Answer: answer})
		return
	case kind == store.FlagWorry && !userFrom(r.Context()).Role.CanEdit():
		a.fail(w, r, http.StatusForbidden, "Your account can say “this matters” but not flag a worry. Tell a member of staff.")
		return
	case utf8.RuneCountInString(reason) > maxReason:
		a.problem(w, r, c, fmt.Sprintf("Why can be up to %d letters long. Please make it shorter.", maxReason), draft{Answer: answer})
		return
	}
	_, err := a.db.RaiseFlag(r.Context(), actor(r), c.ID, answer, kind, reason)
	a.saved(w, r, err, c.ID, "flag", answer)
}

// clearFlag answers POST /conversations/{id}/flags/{flag}/clear.
func (a *App) clearFlag(w http.ResponseWriter, r *http.Request) {
	if !a.form(w, r) {
		return
	}
	c, ok := a.conversation(w, r)
	if !ok {
		return
	}
	id, _ := strconv.ParseInt(mux.Vars(r)["flag"], 10, 64)
	err := a.db.ClearFlag(r.Context(), actor(r), c.ID, id)
	if errors.Is(err, store.ErrNotFound) {
		a.notFound(w, r, "flag (it may already be dealt with)")
		return
	}
	a.saved(w, r, err, c.ID, "clear", 0)
}

// correctTranscript answers POST /conversations/{id}/transcripts/{sid}: a
// person's correction of what a recording says. The machine's original
// and earlier corrections are kept and shown.
func (a *App) correctTranscript(w http.ResponseWriter, r *http.Request) {
	if !a.form(w, r) {
		return
	}
	c, ok := a.conversation(w, r)
	if !ok {
		return
	}
	sid := mux.Vars(r)["sid"]
	answer, _ := answerID(r)
	text := strings.TrimSpace(r.PostForm.Get("text"))
	switch {
	case text == "":
		a.problem(w, r, c, "Write what the recording says in the box, then press the button.", draft{Answer: answer, SID: sid})
		return
	case utf8.RuneCountInString(text) > maxTranscript:
		a.problem(w, r, c, fmt.Sprintf("A transcript can be up to %d letters long.", maxTranscript), draft{Answer: answer, SID: sid, Transcript: text})
		return
	}
	err := a.db.CorrectRecordingTranscript(r.Context(), actor(r), c.ID, sid, text)
	if errors.Is(err, store.ErrNotFound) {
		a.notFound(w, r, "recording")
		return
	}
	a.saved(w, r, err, c.ID, "transcript", answer)
}
