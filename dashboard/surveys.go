package dashboard

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/gorilla/mux"

	"github.com/haveyoursay/haveyoursay/store"
	"github.com/haveyoursay/haveyoursay/survey"
)

// surveyPage is what templates/survey.html (the overview) and
// templates/report.html (the printable report) show.
type surveyPage struct {
	ID, Title   string
	Version     int
	Stats       store.SurveyStats
	CompletePct int
	TellMePct   int
	OverTime    ColumnChart
	Channels    BarChart
	Languages   BarChart
	Questions   []questionView
	Themes      []themeInSurvey
	Quotes      []store.Quote
	Words       []wordsView // recent answers in members' own words (overview only)
	Actions     []actionView
	Findings    []store.Finding
	AllThemes   []store.Theme
	NewAction   newAction
	Notice      string
	Problem     string
	Printed     time.Time
}

// questionView is one question with its chart.
type questionView struct {
	ID, Ask  string
	Number   int
	Type     survey.AnswerType
	Chart    *BarChart // choices, yes/no, scales, numbers
	Answered int
	Skipped  int
	Average  string // scales: "3.8 out of 5"
}

// themeInSurvey is one theme a survey's answers are tagged with.
type themeInSurvey struct {
	store.Theme
	Answers int
	Actions int
}

// wordsView is an answer in a member's own words.
type wordsView struct {
	store.WordsAnswer
	Ask string
}

var surveyNotices = map[string]string{
	"quote":    "The quote was saved. It will be in the report.",
	"unquote":  "The quote was taken out of the report.",
	"finding":  "Thank you. Your finding was saved.",
	"action":   "The action was saved.",
	"notfound": "",
}

// showSurvey answers GET /surveys/{id}: the overview of one survey, with
// charts, themes, quotes and actions.
func (a *App) showSurvey(w http.ResponseWriter, r *http.Request) {
	p, ok := a.surveyData(w, r, true)
	if !ok {
		return
	}
	p.Notice = surveyNotices[r.URL.Query().Get("done")]
	a.render(w, r, "survey", p.Title, p)
}

// surveyData gathers a survey's numbers, charts, quotes, actions and
// findings; words adds the recent answers in members' own words (not in
// reports). When ok is false it has answered already.
func (a *App) surveyData(w http.ResponseWriter, r *http.Request, words bool) (p surveyPage, ok bool) {
	ctx := r.Context()
	id := mux.Vars(r)["id"]
	choices, err := a.db.SurveyChoices(ctx)
	if err != nil {
		a.serverError(w, r, err)
		return p, false
	}
	i := slices.IndexFunc(choices, func(c store.SurveyChoice) bool { return c.ID == id })
	if i < 0 {
		a.notFound(w, r, "survey")
		return p, false
	}
	sv, err := a.surveys().Version(ctx, id, choices[i].Version)
	if err != nil {
		a.serverError(w, r, fmt.Errorf("loading survey %s: %w", id, err))
		return p, false
	}
	p = surveyPage{ID: id, Title: choices[i].Title, Version: choices[i].Version, Printed: a.now()}
	if p.Stats, err = a.db.SurveyStats(ctx, id); err != nil {
		a.serverError(w, r, err)
		return p, false
	}
	st := p.Stats
	p.CompletePct = percent(st.Completed, st.Started)
	p.TellMePct = percent(st.TellMe, st.Started)
	p.OverTime = overTime(st.ByDay)
	p.Channels = BarChart{Title: "How people answered", Bars: []Bar{{"By text", st.Channels["sms"]}, {"By phone", st.Channels["voice"]}}}
	p.Languages = BarChart{Title: "Languages"}
	for _, l := range sortedKeys(st.Languages) {
		p.Languages.Bars = append(p.Languages.Bars, Bar{languageName(l), st.Languages[l]})
	}
	counts := map[string]map[string]int{}
	for _, v := range st.Answers {
		if counts[v.QuestionID] == nil {
			counts[v.QuestionID] = map[string]int{}
		}
		counts[v.QuestionID][v.Value] += v.N
	}
	ask := map[string]string{}
	var surveyThemes []string
	for n, q := range sv.Questions {
		ask[q.ID] = q.Ask
		qv := questionChart(q, counts[q.ID])
		qv.Number, qv.Skipped = n+1, st.Skipped[q.ID]
		p.Questions = append(p.Questions, qv)
		for _, t := range q.Themes {
			if !slices.Contains(surveyThemes, t) {
				surveyThemes = append(surveyThemes, t)
			}
		}
	}
	if p.AllThemes, err = a.db.Themes(ctx); err != nil {
		a.serverError(w, r, err)
		return p, false
	}
	p.NewAction = newAction{Survey: id, Themes: p.AllThemes, Statuses: statusChoices()}
	if p.Actions, err = a.actionViews(r, store.ActionFilter{SurveyID: id, SurveyThemes: surveyThemes}); err != nil {
		a.serverError(w, r, err)
		return p, false
	}
	for t := range st.Themes {
		if !slices.Contains(surveyThemes, t) {
			surveyThemes = append(surveyThemes, t)
		}
	}
	for _, t := range surveyThemes {
		ti := themeInSurvey{Theme: a.themeByID(p.AllThemes, t), Answers: st.Themes[t]}
		for _, act := range p.Actions {
			if act.ThemeID == t {
				ti.Actions++
			}
		}
		p.Themes = append(p.Themes, ti)
	}
	sort.SliceStable(p.Themes, func(i, j int) bool { return p.Themes[i].Answers > p.Themes[j].Answers })
	if p.Quotes, err = a.db.Quotes(ctx, id, "", 12); err != nil {
		a.serverError(w, r, err)
		return p, false
	}
	if p.Findings, err = a.db.Findings(ctx, id, ""); err != nil {
		a.serverError(w, r, err)
		return p, false
	}
	if words {
		list, err := a.db.RecentWords(ctx, id, 30)
		if err != nil {
			a.serverError(w, r, err)
			return p, false
		}
		for _, wa := range list {
			if q := sv.Question(wa.QuestionID); q != nil && q.Answer == survey.Words {
				p.Words = append(p.Words, wordsView{WordsAnswer: wa, Ask: ask[wa.QuestionID]})
			}
		}
	}
	return p, true
}

// themeByID finds a theme's words; a tag that is not one of the charity's
// themes is shown as it is.
func (a *App) themeByID(all []store.Theme, id string) store.Theme {
	for _, t := range all {
		if t.ID == id {
			return t
		}
	}
	return store.Theme{ID: id, Title: id}
}

// questionChart draws one question's answers: options in the survey's
// order, a scale from its lowest to its highest, numbers in order.
func questionChart(q survey.Question, counts map[string]int) questionView {
	qv := questionView{ID: q.ID, Ask: q.Ask, Type: q.Answer}
	for _, n := range counts {
		qv.Answered += n
	}
	c := &BarChart{Title: q.Ask}
	switch q.Answer {
	case survey.Choice, survey.YesNo:
		opts := q.Options
		if len(opts) == 0 {
			opts = []survey.Option{{Value: "yes", Say: "Yes"}, {Value: "no", Say: "No"}}
		}
		for _, o := range opts {
			c.Bars = append(c.Bars, Bar{o.Say, counts[o.Value]})
		}
	case survey.Scale:
		lo, hi := 1, 5
		if q.Min != nil {
			lo = *q.Min
		}
		if q.Max != nil {
			hi = *q.Max
		}
		sum, n := 0, 0
		for v := lo; v <= hi; v++ {
			k := strconv.Itoa(v)
			c.Bars = append(c.Bars, Bar{k, counts[k]})
			sum, n = sum+v*counts[k], n+counts[k]
		}
		if n > 0 {
			qv.Average = fmt.Sprintf("%.1f out of %d", float64(sum)/float64(n), hi)
		}
	case survey.Number:
		keys := sortedKeys(counts)
		sort.SliceStable(keys, func(i, j int) bool {
			x, _ := strconv.ParseFloat(keys[i], 64)
			y, _ := strconv.ParseFloat(keys[j], 64)
			return x < y
		})
		for _, k := range keys {
			c.Bars = append(c.Bars, Bar{k, counts[k]})
		}
	default:
		return qv
	}
	qv.Chart = c
	return qv
}

// overTime counts conversations by day, or by week when there are many
// days, so the chart stays readable.
func overTime(days []store.DayCount) ColumnChart {
	c := ColumnChart{Title: "Conversations started each day"}
	if len(days) == 0 {
		return c
	}
	first, last := days[0].Day, days[len(days)-1].Day
	span := int(last.Sub(first).Hours()/24) + 1
	if span <= 14 {
		byDay := map[string]int{}
		for _, d := range days {
			byDay[d.Day.Format("2006-01-02")] = d.N
		}
		for i := 0; i < span; i++ {
			d := first.AddDate(0, 0, i)
			c.Columns = append(c.Columns, Bar{d.Format("2 Jan"), byDay[d.Format("2006-01-02")]})
		}
		return c
	}
	c.Title = "Conversations started each week"
	weeks := (span + 6) / 7
	c.Columns = make([]Bar, weeks)
	for i := range c.Columns {
		c.Columns[i].Label = first.AddDate(0, 0, 7*i).Format("2 Jan")
	}
	for _, d := range days {
		c.Columns[int(d.Day.Sub(first).Hours()/24)/7].N += d.N
	}
	return c
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// languageName names a language code in words.
func languageName(code string) string {
	switch code {
	case "":
		return "Not known"
	case "en", "en-GB":
		return "English"
	case "cy":
		return "Welsh"
	}
	return code
}

// chooseQuote answers POST /surveys/{id}/quotes: "use this quote" on an
// answer (or, with action=remove, stop using it).
func (a *App) chooseQuote(w http.ResponseWriter, r *http.Request) {
	if !a.form(w, r) {
		return
	}
	id := mux.Vars(r)["id"]
	answer, err := strconv.ParseInt(r.PostForm.Get("answer"), 10, 64)
	if err != nil {
		a.fail(w, r, http.StatusBadRequest, "That form did not say which answer to quote. Please go back and try again.")
		return
	}
	done := "quote"
	if r.PostForm.Get("action") == "remove" {
		err, done = a.db.DropQuote(r.Context(), actor(r), answer), "unquote"
	} else {
		body := cleanText(r.PostForm.Get("body"))
		if body == "" {
			a.fail(w, r, http.StatusBadRequest, "The quote has no words. Please go back and write the words to use.")
			return
		}
		err = a.db.ChooseQuote(r.Context(), actor(r), answer, body)
	}
	switch {
	case errors.Is(err, store.ErrQuoteHasNumber):
		a.fail(w, r, http.StatusBadRequest, "The quote has a phone number in it. Reports never show one. Please go back and take the number out.")
	case errors.Is(err, store.ErrNotFound):
		a.notFound(w, r, "answer")
	case err != nil:
		a.serverError(w, r, err)
	default:
		http.Redirect(w, r, "/surveys/"+id+"?done="+done+"#words", http.StatusSeeOther)
	}
}
