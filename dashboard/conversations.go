package dashboard

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/haveyoursay/haveyoursay/store"
)

// conversationsPage is what templates/conversations.html shows.
type conversationsPage struct {
	Form      conversationsForm
	Rows      []store.ConversationRow
	Next      string // the next page's address; empty on the last page
	Surveys   []store.SurveyChoice
	Questions []choice // the chosen survey's questions
	Themes    []string // the themes of every survey
	Problems  []string // filters that could not be read (and were left out)
	Filtered  bool     // any filter or search is on
}

// choice is an option of a select.
type choice struct{ Value, Label string }

// conversationsForm is the filters as typed, to fill the form again.
type conversationsForm struct {
	Survey, Question, Channel, Status, Theme, From, Until, Search string
	Flagged, Recording                                            bool
}

// maxSearch is the longest search kept (longer is cut, not refused).
const maxSearch = 200

// showConversations answers GET /conversations: every conversation,
// newest first, filtered by the GET parameters, with a search box and a
// "next page" link (keyset pagination: the page after a given
// conversation, so a busy day never shifts what the next page shows).
func (a *App) showConversations(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	q := r.URL.Query()
	form := conversationsForm{Survey: q.Get("survey"), Question: q.Get("question"), Channel: q.Get("channel"),
		Status: q.Get("status"), Theme: strings.TrimSpace(q.Get("theme")), From: q.Get("from"), Until: q.Get("until"),
		Search: strings.TrimSpace(q.Get("q")), Flagged: q.Get("flagged") != "", Recording: q.Get("recording") != ""}
	if len(form.Search) > maxSearch {
		form.Search = form.Search[:maxSearch]
	}
	p := conversationsPage{Form: form}
	f := store.ConversationFilter{SurveyID: form.Survey, QuestionID: form.Question, Theme: form.Theme,
		Search: form.Search, Flagged: form.Flagged, HasRecording: form.Recording, Limit: a.cfg.Review.PageSize}
	switch form.Channel {
	case "", "sms", "voice":
		f.Channel = form.Channel
	default:
		p.Problems = append(p.Problems, "Choose texts or phone calls from the list.")
		p.Form.Channel = ""
	}
	switch form.Status {
	case "", "completed", "partial", "refused", "active":
		f.Status = form.Status
	default:
		p.Problems = append(p.Problems, "Choose a status from the list.")
		p.Form.Status = ""
	}
	loc := a.now().Location()
	if form.From != "" {
		t, err := time.ParseInLocation("2006-01-02", form.From, loc)
		if err != nil {
			p.Problems = append(p.Problems, "The first date should look like 2026-03-31.")
		}
		f.From = t
	}
	if form.Until != "" {
		t, err := time.ParseInLocation("2006-01-02", form.Until, loc)
		if err != nil {
			p.Problems = append(p.Problems, "The last date should look like 2026-03-31.")
		} else {
			f.Until = t.AddDate(0, 0, 1) // the whole of that day
		}
	}
	if after := q.Get("after"); after != "" {
		k, ok := parsePageKey(after)
		if !ok {
			p.Problems = append(p.Problems, "That page link was not right, so this is the first page.")
		}
		f.After = k
	}
	p.Filtered = form != conversationsForm{}
	rows, next, err := a.db.ListConversations(ctx, f)
	if errors.Is(err, store.ErrSearchTooCommon) {
		p.Problems = append(p.Problems, "Those words are too common to search for. Try a word that says more, like “bus” or “lunch”.")
		err = nil
	}
	if err != nil {
		a.serverError(w, r, fmt.Errorf("listing conversations: %w", err))
		return
	}
	p.Rows = rows
	if !next.IsZero() {
		nq := url.Values{}
		for k, v := range q {
			nq[k] = v
		}
		nq.Set("after", formatPageKey(next))
		p.Next = "/conversations?" + nq.Encode()
	}
	if p.Surveys, err = a.db.SurveyChoices(ctx); err != nil {
		a.serverError(w, r, fmt.Errorf("listing surveys: %w", err))
		return
	}
	themes := map[string]bool{}
	for _, s := range p.Surveys {
		sv, err := a.surveys().Version(ctx, s.ID, s.Version)
		if err != nil {
			a.log.Warn("reading a survey for the filters", "survey", s.ID, "err", err)
			continue
		}
		for _, question := range sv.Questions {
			for _, t := range question.Themes {
				themes[t] = true
			}
			if s.ID == form.Survey {
				p.Questions = append(p.Questions, choice{question.ID, question.Ask})
			}
		}
	}
	for t := range themes {
		p.Themes = append(p.Themes, t)
	}
	slices.Sort(p.Themes)
	title := "Conversations"
	if userFrom(ctx).Role.EasyRead() {
		title = "What people said"
	}
	a.render(w, r, "conversations", title, p)
}

// formatPageKey writes where the next page starts: the time (to the
// microsecond, as Postgres keeps it) and the id of the last row shown.
func formatPageKey(k store.PageKey) string {
	return strconv.FormatInt(k.At.UnixMicro(), 10) + "." + k.ID
}

func parsePageKey(s string) (store.PageKey, bool) {
	at, id, ok := strings.Cut(s, ".")
	micro, err := strconv.ParseInt(at, 10, 64)
	if !ok || err != nil || id == "" {
		return store.PageKey{}, false
	}
	return store.PageKey{At: time.UnixMicro(micro), ID: id}, true
}
