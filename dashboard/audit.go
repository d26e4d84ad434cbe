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

// CanAudit is who reads the audit log: admins.
func (r Role) CanAudit() bool { return r == Admin }

// CanErase is who may erase everything about a member on their request:
// admins.
func (r Role) CanErase() bool { return r == Admin }

// auditPage is what the audit page shows.
type auditPage struct {
	Entries          []auditLine
	Actors, Actions  []string
	Actor, Action    string
	From, Until      string // as typed (YYYY-MM-DD)
	Problem          string
	Next             string // the next page's address, "" for none
	Filtered, Paging bool
}

// auditLine is one entry as a person reads it.
type auditLine struct {
	store.AuditEntry
	Details string
}

const dateForm = "2006-01-02"

// showAudit answers GET /audit: the audit log, newest first, filtered by
// who (actor), what (action) and dates (from, until: whole days in the
// service's time zone, both included), 50 a page (before: the page after
// that entry). Nothing on it can be changed, here or in the database.
func (a *App) showAudit(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p := auditPage{Actor: q.Get("actor"), Action: q.Get("action"), From: strings.TrimSpace(q.Get("from")), Until: strings.TrimSpace(q.Get("until"))}
	f := store.AuditFilter{Actor: p.Actor, Action: p.Action, Limit: 50}
	loc := time.Local
	var problems []string
	if p.From != "" {
		d, err := time.ParseInLocation(dateForm, p.From, loc)
		if err != nil {
			problems = append(problems, fmt.Sprintf("The date \"from\" (%s) should be a date like 2026-11-30.", p.From))
		}
		f.From = d
	}
	if p.Until != "" {
		d, err := time.ParseInLocation(dateForm, p.Until, loc)
		if err != nil {
			problems = append(problems, fmt.Sprintf("The date \"until\" (%s) should be a date like 2026-11-30.", p.Until))
		} else {
			f.Until = d.AddDate(0, 0, 1) // the whole day
		}
	}
	if !f.From.IsZero() && !f.Until.IsZero() && !f.Until.After(f.From) {
		problems = append(problems, "The date \"until\" is before the date \"from\", so nothing can match. Swap them round.")
	}
	if b := q.Get("before"); b != "" {
		n, err := strconv.ParseInt(b, 10, 64)
		if err != nil || n <= 0 {
			problems = append(problems, "That page address is not right. Start again from the first page.")
		}
		f.Before = n
		p.Paging = true
	}
	p.Filtered = p.Actor != "" || p.Action != "" || p.From != "" || p.Until != ""
	var err error
	if p.Actors, p.Actions, err = a.db.AuditChoices(r.Context()); err != nil {
		a.serverError(w, r, fmt.Errorf("listing the audit log's actors: %w", err))
		return
	}
	status := http.StatusOK
	if len(problems) > 0 {
		p.Problem = strings.Join(problems, " ")
		status = http.StatusBadRequest
		a.renderStatus(w, r, status, "audit", "Audit log", p)
		return
	}
	entries, next, err := a.db.AuditPage(r.Context(), f)
	if err != nil {
		a.serverError(w, r, fmt.Errorf("reading the audit log: %w", err))
		return
	}
	for _, e := range entries {
		p.Entries = append(p.Entries, auditLine{AuditEntry: e, Details: details(e.Detail)})
	}
	if next != 0 {
		v := url.Values{}
		for _, k := range []string{"actor", "action", "from", "until"} {
			if s := q.Get(k); s != "" {
				v.Set(k, s)
			}
		}
		v.Set("before", strconv.FormatInt(next, 10))
		p.Next = "/audit?" + v.Encode()
	}
	a.render(w, r, "audit", "Audit log", p)
}

// details writes an entry's small facts as "name: value" pairs.
func details(d map[string]any) string {
	if len(d) == 0 {
		return ""
	}
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s: %v", strings.ReplaceAll(k, "_", " "), d[k]))
	}
	return strings.Join(parts, ", ")
}

// forgetMember answers POST /people/{id}/forget: an admin acts on a
// member's request, made by phone or in person, to erase everything about
// them. The box "checked" must be ticked (they checked who asked); "text"
// asks for a confirmation text once it is done. The erasure runs as a
// durable job; the audit log says who asked for it.
func (a *App) forgetMember(w http.ResponseWriter, r *http.Request) {
	if !a.form(w, r) {
		return
	}
	p, ok := a.person(w, r)
	if !ok {
		return
	}
	if a.forget == nil {
		a.fail(w, r, http.StatusServiceUnavailable, "Erasing a member is not switched on for this dashboard.")
		return
	}
	if r.PostForm.Get("checked") == "" {
		a.personPage(w, r, p, "", "Nothing was erased. Tick the box to say you have checked that the request came from the member, or from someone allowed to ask for them.")
		return
	}
	u := userFrom(r.Context())
	if _, err := a.forget(r.Context(), p.ID, u.Email, r.PostForm.Get("text") != ""); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			a.notFound(w, r, "member")
			return
		}
		a.serverError(w, r, fmt.Errorf("asking to erase a member: %w", err))
		return
	}
	a.audit(r, "forget-requested", "", nil)
	http.Redirect(w, r, "/audit?action=forget-requested", http.StatusSeeOther)
}
