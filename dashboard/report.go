package dashboard

import (
	"bytes"
	"fmt"
	"net/http"
)

// The printable easy-read reports, for members and trustees: big type, one
// idea a line, the charts, quotes staff chose (never a name or a number),
// actions and their status, and member reviewers' findings. They print on
// A4 from the browser (static/report.css). A report is its own page, with
// no dashboard menu and no staff name on it.

// showSurveyReport answers GET /surveys/{id}/report: one survey's report.
func (a *App) showSurveyReport(w http.ResponseWriter, r *http.Request) {
	p, ok := a.surveyData(w, r, false)
	if !ok {
		return
	}
	a.renderReport(w, r, "report", p.Title+": what you said and what we did", p)
}

// showThemesReport answers GET /themes/report: every theme's report.
func (a *App) showThemesReport(w http.ResponseWriter, r *http.Request) {
	p, ok := a.themesData(w, r)
	if !ok {
		return
	}
	a.renderReport(w, r, "themes-report", "Our charter: what you said and what we did", p)
}

func (a *App) renderReport(w http.ResponseWriter, r *http.Request, view, title string, data any) {
	var buf bytes.Buffer
	if err := a.views[view].ExecuteTemplate(&buf, "report-page", &page{Title: title, Data: data}); err != nil {
		a.serverError(w, r, fmt.Errorf("rendering %s: %w", view, err))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(buf.Bytes())
}
