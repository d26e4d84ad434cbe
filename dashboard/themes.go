package dashboard

import (
	"net/http"
	"time"

	"github.com/haveyoursay/haveyoursay/store"
	"github.com/haveyoursay/haveyoursay/survey"
)

// themesPage is what templates/themes.html and the themes report show:
// each of the charity's themes across every survey.
type themesPage struct {
	Themes   []themeView
	Surveys  []store.SurveyChoice
	Statuses []choice
	Notice   string
	Printed  time.Time
}

// themeView is one theme: how many answers, how they lean, quotes,
// actions and findings.
type themeView struct {
	store.Theme
	Answers  int
	Leans    []questionView // per question asked under the theme
	Quotes   []store.Quote
	Actions  []actionView
	Findings []store.Finding
}

// showThemes answers GET /themes: every theme across all surveys, how a
// co-production group checks a service against its charter.
func (a *App) showThemes(w http.ResponseWriter, r *http.Request) {
	p, ok := a.themesData(w, r)
	if !ok {
		return
	}
	p.Notice = surveyNotices[r.URL.Query().Get("done")]
	a.render(w, r, "themes", "Themes", p)
}

func (a *App) themesData(w http.ResponseWriter, r *http.Request) (p themesPage, ok bool) {
	ctx := r.Context()
	themes, err := a.db.Themes(ctx)
	if err != nil {
		a.serverError(w, r, err)
		return p, false
	}
	counts, err := a.db.ThemeCounts(ctx)
	if err != nil {
		a.serverError(w, r, err)
		return p, false
	}
	if p.Surveys, err = a.db.SurveyChoices(ctx); err != nil {
		a.serverError(w, r, err)
		return p, false
	}
	defs := map[string]*survey.Survey{}
	for _, c := range p.Surveys {
		if sv, err := a.surveys().Version(ctx, c.ID, c.Version); err == nil {
			defs[c.ID] = sv
		}
	}
	actions, err := a.actionViews(r, store.ActionFilter{})
	if err != nil {
		a.serverError(w, r, err)
		return p, false
	}
	p.Statuses, p.Printed = statusChoices(), a.now()
	for _, t := range themes {
		tv := themeView{Theme: t}
		// Group the theme's answers by question, in the order they come.
		type key struct{ survey, question string }
		byQ := map[key]map[string]int{}
		var order []key
		for _, v := range counts[t.ID] {
			tv.Answers += v.N
			k := key{v.SurveyID, v.QuestionID}
			if byQ[k] == nil {
				byQ[k] = map[string]int{}
				order = append(order, k)
			}
			byQ[k][v.Value] += v.N
		}
		for _, k := range order {
			sv := defs[k.survey]
			if sv == nil {
				continue
			}
			q := sv.Question(k.question)
			if q == nil || q.Answer == survey.Words {
				continue
			}
			if qv := questionChart(*q, byQ[k]); qv.Chart != nil {
				tv.Leans = append(tv.Leans, qv)
			}
		}
		if tv.Quotes, err = a.db.Quotes(ctx, "", t.ID, 3); err != nil {
			a.serverError(w, r, err)
			return p, false
		}
		if tv.Findings, err = a.db.Findings(ctx, "", t.ID); err != nil {
			a.serverError(w, r, err)
			return p, false
		}
		for _, act := range actions {
			if act.ThemeID == t.ID {
				tv.Actions = append(tv.Actions, act)
			}
		}
		p.Themes = append(p.Themes, tv)
	}
	return p, true
}
