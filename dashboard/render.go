package dashboard

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"
)

// A view is a file templates/NAME.html that defines "content" (and, if it
// needs one, "scripts"). Each is parsed with layout.html and parts.html
// (and parts-*.html, more pieces views share) at start-up: every
// dashboard page shares one layout.

// layoutFuncs are the functions every template may use.
var layoutFuncs = template.FuncMap{
	// chrome returns the dashboard page around a view, or nil for pages
	// that have their own data (the Try-it phone).
	"chrome": func(v any) *page {
		p, _ := v.(*page)
		return p
	},
	"when":  when,
	"since": since,
}

// notViews are templates that are not pages of their own.
var notViews = map[string]bool{"layout": true, "parts": true, "try": true}

func parseViews() (map[string]*template.Template, error) {
	base, err := template.New("layout").Funcs(layoutFuncs).ParseFS(templateFiles, "templates/layout.html", "templates/parts*.html")
	if err != nil {
		return nil, fmt.Errorf("dashboard layout: %w", err)
	}
	files, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		return nil, err
	}
	views := map[string]*template.Template{}
	for _, f := range files {
		name := strings.TrimSuffix(path.Base(f), ".html")
		if notViews[name] || strings.HasPrefix(name, "parts-") {
			continue
		}
		t, err := template.Must(base.Clone()).ParseFS(templateFiles, f)
		if err != nil {
			return nil, fmt.Errorf("dashboard view %s: %w", name, err)
		}
		if t.Lookup("content") == nil {
			return nil, fmt.Errorf("dashboard view %s defines no \"content\"", name)
		}
		views[name] = t
	}
	for _, need := range []string{"error", "login"} {
		if views[need] == nil {
			return nil, fmt.Errorf("dashboard view %s is missing", need)
		}
	}
	return views, nil
}

// page is what the layout is given: the view's own data is in Data.
type page struct {
	Title    string
	User     *User     // nil on the sign-in page and some error pages
	EasyRead bool      // the member-reviewer view: larger type and targets, icons with text, plain words
	Dev      bool      // `haveyoursay dev`
	Nav      []navLink // only what the role may use
	Data     any
}

// Can is the signed-in person's role, for templates: {{if .Can.CanEdit}}.
func (p *page) Can() Role {
	if p.User == nil {
		return ""
	}
	return p.User.Role
}

type navLink struct {
	Path, Label, Icon string
	Current           bool
}

// navigation is the menu, with who sees each item. Easy-read labels are
// the plain words a member reviewer reads.
var navigation = []struct {
	path, label, easy, icon string
	allow                   func(Role) bool
	devOnly                 bool
}{
	{"/", "Home", "Start", "⌂", Role.Valid, false},
	{"/conversations", "Conversations", "What people said", "✉", Role.CanReview, false},
	{"/callbacks", "Call-backs", "Call people back", "☎", Role.SeesPeople, false},
	{"/themes", "Themes", "What we did", "✓", Role.CanReview, false},
	{"/worries", "Worries", "Worries", "⚑", Role.SeesWorries, false},
	{"/users", "Users", "Users", "☺", Role.CanManageUsers, false},
	{"/audit", "Audit log", "Audit log", "☰", Role.CanAudit, false},
	{"/exports", "Downloads", "Download answers", "⇩", Role.CanExport, false},
	{"/try", "Try it", "Try it", "☏", Role.Valid, true},
}

func (a *App) nav(r *http.Request, u *User) []navLink {
	if u == nil {
		return nil
	}
	var out []navLink
	for _, n := range navigation {
		if !n.allow(u.Role) || (n.devOnly && !a.cfg.Dev) {
			continue
		}
		l := navLink{Path: n.path, Label: n.label, Icon: n.icon}
		if u.Role.EasyRead() {
			l.Label = n.easy
		}
		l.Current = r.URL.Path == n.path || (n.path != "/" && strings.HasPrefix(r.URL.Path, n.path+"/"))
		out = append(out, l)
	}
	return out
}

// render writes the view with the layout around it. Rendering into a
// buffer first means a template error becomes the error page, not half a
// page.
func (a *App) render(w http.ResponseWriter, r *http.Request, view, title string, data any) {
	a.renderStatus(w, r, http.StatusOK, view, title, data)
}

func (a *App) renderStatus(w http.ResponseWriter, r *http.Request, status int, view, title string, data any) {
	t := a.views[view]
	if t == nil {
		a.serverError(w, r, fmt.Errorf("no view %q", view))
		return
	}
	u := userFrom(r.Context())
	p := &page{Title: title, User: u, Dev: a.cfg.Dev, Nav: a.nav(r, u), Data: data}
	p.EasyRead = u != nil && u.Role.EasyRead()
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		if view == "error" {
			a.log.Error("rendering the error page", "err", err)
			http.Error(w, "Sorry, something went wrong on our side.", http.StatusInternalServerError)
			return
		}
		a.serverError(w, r, fmt.Errorf("rendering %s: %w", view, err))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// errorPage is what the error view shows.
type errorPage struct {
	Status  int
	Message string
}

// fail is the one place a dashboard request ends in an error: a page with
// one sentence saying what happened and what to do.
func (a *App) fail(w http.ResponseWriter, r *http.Request, status int, message string) {
	title := "Sorry"
	switch status {
	case http.StatusForbidden:
		title = "Not allowed" // a page this role may not use, or a form sent from another website
	case http.StatusNotFound:
		title = "Not found"
	}
	a.renderStatus(w, r, status, "error", title, errorPage{Status: status, Message: message})
}

// notFound answers an unknown id: what was asked for, in a sentence.
func (a *App) notFound(w http.ResponseWriter, r *http.Request, what string) {
	a.fail(w, r, http.StatusNotFound, "We could not find that "+what+". It may have been removed, or the address may be wrong.")
}

// serverError logs what went wrong (never personal data) and answers a
// sentence.
func (a *App) serverError(w http.ResponseWriter, r *http.Request, err error) {
	a.log.Error("dashboard", "path", r.URL.Path, "err", err)
	a.fail(w, r, http.StatusInternalServerError, "Sorry, something went wrong on our side, and nothing was changed. Please try again in a minute.")
}

// when shows a time as people read it: "Sunday 29 November 2026, 2:05pm".
func when(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.Local().Format("Monday 2 January 2006, 3:04pm")
}

// since says how long ago t was, in words: "5 minutes", "3 days".
func since(t time.Time) string { return waited(time.Since(t)) }

// waited says how long someone has waited, in words.
func waited(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "less than a minute"
	case d < time.Hour:
		return plural(int(d/time.Minute), "minute")
	case d < 48*time.Hour:
		return plural(int(d/time.Hour), "hour")
	}
	return plural(int(d/(24*time.Hour)), "day")
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return fmt.Sprintf("%d %ss", n, word)
}
