package dashboard

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gorilla/mux"

	"github.com/haveyoursay/haveyoursay/store"
)

// callbacksPage is what templates/callbacks.html shows.
type callbacksPage struct {
	Waiting  []waitingCallback
	Done     []store.Callback
	Outcomes []choice
	Notice   string
	Problem  string
}

type waitingCallback struct {
	store.Callback
	Waited string // how long they have waited, in words
	Long   bool   // over a working day
}

// callbackOutcomes are what can come of calling a member back.
var callbackOutcomes = []choice{
	{"reached", "We talked"},
	{"voicemail", "Left a message"},
	{"no-answer", "No answer"},
	{"wrong-number", "Wrong number"},
	{"other", "Something else (say in the note)"},
}

// OutcomeLabel is an outcome in words.
func (callbacksPage) OutcomeLabel(v string) string {
	for _, o := range callbackOutcomes {
		if o.Value == v {
			return o.Label
		}
	}
	return v
}

var callbacksDone = map[string]string{"done": "Thank you. The call-back is marked done."}

// showCallbacks answers GET /callbacks: everyone who asked for a person,
// oldest first, with how long they have waited.
func (a *App) showCallbacks(w http.ResponseWriter, r *http.Request) {
	a.callbacksPage(w, r, http.StatusOK, callbacksDone[r.URL.Query().Get("done")], "")
}

func (a *App) callbacksPage(w http.ResponseWriter, r *http.Request, status int, notice, problem string) {
	waiting, err := a.db.WaitingCallbacks(r.Context())
	if err != nil {
		a.serverError(w, r, fmt.Errorf("listing call-backs: %w", err))
		return
	}
	done, err := a.db.RecentCallbacks(r.Context(), 20)
	if err != nil {
		a.serverError(w, r, fmt.Errorf("listing call-backs: %w", err))
		return
	}
	p := callbacksPage{Done: done, Outcomes: callbackOutcomes, Notice: notice, Problem: problem}
	now := a.now()
	for _, c := range waiting {
		d := now.Sub(c.CreatedAt)
		p.Waiting = append(p.Waiting, waitingCallback{Callback: c, Waited: waited(d), Long: d > 8*time.Hour})
	}
	a.renderStatus(w, r, status, "callbacks", "Call-backs", p)
}

// callbackDone answers POST /callbacks/{callback}/done: "I called", with
// what came of it and a note.
func (a *App) callbackDone(w http.ResponseWriter, r *http.Request) {
	if !a.form(w, r) {
		return
	}
	id, _ := strconv.ParseInt(mux.Vars(r)["callback"], 10, 64)
	outcome := r.PostForm.Get("outcome")
	note := strings.TrimSpace(r.PostForm.Get("note"))
	known := false
	for _, o := range callbackOutcomes {
		known = known || o.Value == outcome
	}
	switch {
	case !known:
		a.callbacksPage(w, r, http.StatusBadRequest, "", "Choose what happened when you called, then press the button.")
		return
	case utf8.RuneCountInString(note) > maxNote:
		a.callbacksPage(w, r, http.StatusBadRequest, "", fmt.Sprintf("A note can be up to %d letters long. Please make it shorter.", maxNote))
		return
	}
	err := a.db.CompleteCallback(r.Context(), actor(r), id, outcome, note)
	switch {
	case errors.Is(err, store.ErrNotFound):
		a.notFound(w, r, "call-back")
	case errors.Is(err, store.ErrAlreadyDone):
		a.callbacksPage(w, r, http.StatusConflict, "", "Someone else marked that call-back done already, so nothing was changed.")
	case err != nil:
		a.serverError(w, r, fmt.Errorf("marking a call-back done: %w", err))
	default:
		http.Redirect(w, r, "/callbacks?done=done", http.StatusSeeOther)
	}
}
