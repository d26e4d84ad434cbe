package dashboard

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/gorilla/mux"

	"github.com/haveyoursay/haveyoursay/export"
)

// Downloads: each survey's answers as CSV (spreadsheets), JSON (programs)
// or a Flow Results package (other survey platforms), streamed with the
// staff session. Every download is in the audit log; phone numbers only
// for an admin who asks (docs/export.md).

// CanExport: download answers. Everyone who reads conversations, except
// member reviewers (who review one answer a screen, in the easy-read view).
func (r Role) CanExport() bool { return r.CanReview() && r != Reviewer }

// CanExportNumbers: downloads with members' phone numbers (audit-logged).
func (r Role) CanExportNumbers() bool { return r == Admin }

// exportsPage is what templates/exports.html shows.
type exportsPage struct {
	Surveys      []exportSurvey
	Since, Until string // as typed: 2026-11-30
	Problem      string
}

type exportSurvey struct {
	ID, Title string
	Links     []exportLink
	Numbers   []exportLink // with phone numbers (admins)
}

type exportLink struct {
	Href, Label, What string
}

var exportFormats = []struct{ ext, label, what string }{
	{"csv", "CSV", "for Excel and other spreadsheets"},
	{"json", "JSON", "every answer and transcript, for programs"},
	{"zip", "Flow Results", "a .zip package other survey platforms read"},
}

// showExports answers GET /exports: a download button per survey for each
// format, for the dates chosen.
func (a *App) showExports(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p := exportsPage{Since: q.Get("since"), Until: q.Get("until")}
	status := http.StatusOK
	if _, _, err := a.exportDates(q); err != nil {
		p.Problem, status = err.Error(), http.StatusBadRequest
	}
	surveys, err := a.db.SurveyChoices(r.Context())
	if err != nil {
		a.serverError(w, r, err)
		return
	}
	dates := url.Values{}
	if p.Since != "" {
		dates.Set("since", p.Since)
	}
	if p.Until != "" {
		dates.Set("until", p.Until)
	}
	admin := userFrom(r.Context()).Role.CanExportNumbers()
	for _, s := range surveys {
		es := exportSurvey{ID: s.ID, Title: s.Title}
		for _, f := range exportFormats {
			href := "/surveys/" + url.PathEscape(s.ID) + "/export." + f.ext
			link := exportLink{Href: href, Label: f.label, What: f.what}
			if len(dates) > 0 {
				link.Href += "?" + dates.Encode()
			}
			es.Links = append(es.Links, link)
			if admin {
				with := url.Values{"numbers": {"1"}}
				for k, v := range dates {
					with[k] = v
				}
				es.Numbers = append(es.Numbers, exportLink{Href: href + "?" + with.Encode(), Label: f.label, What: f.what})
			}
		}
		p.Surveys = append(p.Surveys, es)
	}
	a.renderStatus(w, r, status, "exports", "Download answers", p)
}

// exportDates reads since and until (2026-11-30: whole days, in the
// server's time zone).
func (a *App) exportDates(q url.Values) (since, until time.Time, err error) {
	read := func(name string, next bool) (time.Time, error) {
		v := q.Get(name)
		if v == "" {
			return time.Time{}, nil
		}
		t, err := time.ParseInLocation("2006-01-02", v, time.Local)
		if err != nil {
			return t, fmt.Errorf("%q is not a date. Please write it as 2026-11-30.", v)
		}
		if next {
			t = t.AddDate(0, 0, 1)
		}
		return t, nil
	}
	if since, err = read("since", false); err != nil {
		return
	}
	if until, err = read("until", true); err != nil {
		return
	}
	if !since.IsZero() && !until.IsZero() && !until.After(since) {
		err = errors.New("The end date is before the start date, so there would be nothing to download.")
	}
	return
}

// downloadExport answers GET /surveys/{id}/export.{format}: the survey's
// answers as a file, streamed. ?numbers=1 adds phone numbers (admins only).
func (a *App) downloadExport(w http.ResponseWriter, r *http.Request) {
	id, ext := mux.Vars(r)["id"], mux.Vars(r)["format"]
	format := map[string]string{"csv": "csv", "json": "json", "zip": "floip"}[ext]
	if format == "" || a.dl == nil {
		a.notFound(w, r, "download")
		return
	}
	u := userFrom(r.Context())
	numbers := r.URL.Query().Get("numbers") != ""
	if numbers && !u.Role.CanExportNumbers() {
		a.fail(w, r, http.StatusForbidden, "Only an admin can download phone numbers. Download without them, or ask an admin.")
		return
	}
	since, until, err := a.exportDates(r.URL.Query())
	if err != nil {
		a.fail(w, r, http.StatusBadRequest, err.Error())
		return
	}
	// Find the survey before the first byte, so a wrong address gets a page.
	if _, err := a.dl.Survey(r.Context(), id); errors.Is(err, export.ErrUnknownSurvey) {
		a.notFound(w, r, "survey")
		return
	} else if err != nil {
		a.serverError(w, r, err)
		return
	}
	types := map[string]string{"csv": "text/csv; charset=utf-8", "json": "application/json", "zip": "application/zip"}
	name := fmt.Sprintf("%s-%s.%s", id, a.now().Format("2006-01-02"), ext)
	if numbers {
		name = fmt.Sprintf("%s-%s-with-numbers.%s", id, a.now().Format("2006-01-02"), ext)
	}
	w.Header().Set("Content-Type", types[ext])
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	if r.Method == http.MethodHead {
		return // a browser checking the link: nothing is exported, nothing logged
	}
	st, err := a.dl.Run(r.Context(), export.Request{SurveyID: id, Format: format, Since: since, Until: until,
		WithNumbers: numbers, Actor: u.Email, Via: "dashboard"}, w)
	if err != nil {
		// Headers are gone: the browser shows a failed download.
		a.log.Error("dashboard download", "survey", id, "format", format, "rows", st.Rows(format), "err", err)
	}
}
