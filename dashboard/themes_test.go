package dashboard

import (
	"context"
	"encoding/xml"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/haveyoursay/haveyoursay/demo"
	"github.com/haveyoursay/haveyoursay/store"
	"github.com/haveyoursay/haveyoursay/survey"
)

// svgTexts reads an SVG chart as XML: its accessible name and every text.
func svgTexts(t *testing.T, svg string) (label string, texts []string) {
	t.Helper()
	var doc struct {
		Label string `xml:"aria-label,attr"`
		Role  string `xml:"role,attr"`
		Texts []struct {
			Class string `xml:"class,attr"`
			Body  string `xml:",chardata"`
		} `xml:"text"`
	}
	if err := xml.Unmarshal([]byte(svg), &doc); err != nil {
		t.Fatalf("the chart is not well-formed SVG: %v\n%s", err, svg)
	}
	if doc.Role != "img" {
		t.Errorf("the chart's role is %q, want img", doc.Role)
	}
	for _, x := range doc.Texts {
		texts = append(texts, x.Class+":"+x.Body)
	}
	return doc.Label, texts
}

func TestChartsCarryNumbersAsText(t *testing.T) {
	c := BarChart{Title: "How do you feel?", Bars: []Bar{{"Good", 6}, {"OK", 3}, {"Not good <&>", 1}, {"Nobody", 0}}}
	label, texts := svgTexts(t, string(c.SVG()))
	want := []string{"label:Good", "number:6 (60%)", "label:OK", "number:3 (30%)", "label:Not good <&>", "number:1 (10%)", "label:Nobody", "number:0 (0%)"}
	if strings.Join(texts, "|") != strings.Join(want, "|") {
		t.Fatalf("texts %q, want %q", texts, want)
	}
	if label != "How do you feel?. Good: 6 (60%); OK: 3 (30%); Not good <&>: 1 (10%); Nobody: 0 (0%)." {
		t.Fatalf("accessible name %q", label)
	}
	col := ColumnChart{Title: "Each day", Columns: []Bar{{"1 Nov", 4}, {"2 Nov", 0}, {"3 Nov", 12}}}
	label, texts = svgTexts(t, string(col.SVG()))
	if strings.Join(texts, "|") != "number:4|label:1 Nov|number:0|label:2 Nov|number:12|label:3 Nov" {
		t.Fatalf("column texts %q", texts)
	}
	if !strings.Contains(label, "1 Nov: 4; 2 Nov: 0; 3 Nov: 12") {
		t.Fatalf("column accessible name %q", label)
	}
	// An empty chart is still a chart.
	if _, texts := svgTexts(t, string(BarChart{Title: "None"}.SVG())); len(texts) != 0 {
		t.Fatalf("an empty chart has texts %q", texts)
	}
}

// themedApp is a test app with the demo themes and members who answered
// the demo survey by text, through the real webhook.
func themedApp(t *testing.T) *testApp {
	t.Helper()
	ta := newTestApp(t)
	themes, diags := survey.ParseThemes("themes.yaml", demo.ThemesYAML)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if _, err := ta.DB.ImportThemes(context.Background(), "test", themes); err != nil {
		t.Fatal(err)
	}
	for i, m := range []struct{ number, feel, words string }{
		{"+447700900701", "3", "The garden path is hard for my chair. Call me on 07700 900702"},
		{"+447700900702", "1", ""},
		{"+447700900703", "3", "More trips out please"},
	} {
		steps := []string{"DAYS", "yes", m.feel}
		if m.words != "" {
			steps = append(steps, m.words)
		}
		steps = append(steps, []string{"4", "5", "3"}[i], "1")
		for _, s := range steps {
			ta.text(t, m.number, s)
		}
	}
	return ta
}

func wordsAnswer(t *testing.T, ta *testApp, like string) int64 {
	t.Helper()
	list, err := ta.DB.RecentWords(context.Background(), "day-service", 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range list {
		if strings.Contains(w.Words, like) {
			return w.ID
		}
	}
	t.Fatalf("no answer with %q in %+v", like, list)
	return 0
}

func TestSurveyOverviewThemesAndReports(t *testing.T) {
	t.Parallel()
	ta := themedApp(t)
	staff := ta.signedIn(t, Staff)

	res := staff.get("/surveys/day-service")
	if res.status != 200 {
		t.Fatalf("overview: %d %s", res.status, res.body)
	}
	page := html.UnescapeString(res.body)
	for _, want := range []string{"3 (people who said yes to taking part)", "3 (100%)", // finished
		"By text: 3 (100%)", "Good: 1 (33%)", "Not good: 2 (67%)", "Average: 4.0 out of 5",
		"The garden path is hard for my chair", "A day service I enjoy", "No action yet"} {
		if !strings.Contains(page, want) {
			t.Errorf("the overview lacks %q", want)
		}
	}
	if r := staff.get("/surveys/no-such-survey"); r.status != http.StatusNotFound {
		t.Errorf("an unknown survey: %d", r.status)
	}

	// A quote with a phone number is refused; without it, it is used.
	path := wordsAnswer(t, ta, "garden path")
	r := staff.post("/surveys/day-service/quotes", url.Values{"answer": {itoa(path)}, "body": {"The garden path is hard for my chair. Call me on 07700 900702"}})
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, "phone number") {
		t.Fatalf("a quote with a number: %d %s", r.status, r.body)
	}
	r = staff.post("/surveys/day-service/quotes", url.Values{"answer": {itoa(path)}, "body": {"The garden path is hard for my chair."}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("choosing a quote: %d %s", r.status, r.body)
	}

	// An action about that answer and the "ideas" theme.
	r = staff.post("/actions", url.Values{"survey": {"day-service"}, "theme": {"ideas"}, "answer": {itoa(path)},
		"said": {"The garden path is hard for wheelchairs."}, "doing": {"We will make the path smooth and wide."},
		"owner": {"Sam Jones"}, "status": {"doing"}, "due": {"2027-03-31"}})
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.location, "/actions/") {
		t.Fatalf("adding an action: %d %s", r.status, r.body)
	}
	actionPath := strings.SplitN(r.location, "?", 2)[0]
	// "Cannot" needs a reason, in a sentence.
	r = staff.post("/actions", url.Values{"theme": {"travel"}, "said": {"More buses"}, "doing": {"Ask the council"}, "status": {"cannot"}})
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, "Say why we cannot do it") {
		t.Fatalf("cannot without a reason: %d %s", r.status, r.body)
	}
	r = staff.post("/actions", url.Values{"theme": {"travel"}, "said": {"People want more trips out."}, "doing": {"Run a minibus on Fridays."},
		"status": {"cannot"}, "reason": {"We do not have a driver yet."}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("cannot with a reason: %d %s", r.status, r.body)
	}

	// A member reviewer writes a finding; a viewer may not.
	reviewer := ta.signedIn(t, Reviewer)
	r = reviewer.post("/findings", url.Values{"survey": {"day-service"}, "body": {"People like the garden but the path is hard for chairs."}})
	if r.status != http.StatusSeeOther {
		t.Fatalf("a finding: %d %s", r.status, r.body)
	}
	if r := ta.signedIn(t, Viewer).post("/findings", url.Values{"survey": {"day-service"}, "body": {"x"}}); r.status != http.StatusForbidden {
		t.Fatalf("a viewer's finding: %d", r.status)
	}
	// A reviewer cannot record actions.
	if r := reviewer.post("/actions", url.Values{"theme": {"ideas"}, "said": {"a"}, "doing": {"b"}}); r.status != http.StatusForbidden {
		t.Fatalf("a reviewer's action: %d", r.status)
	}

	res = staff.get(actionPath)
	if res.status != 200 || !strings.Contains(res.body, "We are doing this") || !strings.Contains(res.body, "31 March 2027") {
		t.Fatalf("the action's page: %d %s", res.status, res.body)
	}

	res = staff.get("/themes")
	page = html.UnescapeString(res.body)
	if res.status != 200 {
		t.Fatalf("themes: %d %s", res.status, res.body)
	}
	for _, want := range []string{"To be listened to", "My ideas are used", "We will make the path smooth and wide.",
		"We do not have a driver yet.", "Kind staff who know me", "4: 1 (33%)"} {
		if !strings.Contains(page, want) {
			t.Errorf("/themes lacks %q", want)
		}
	}

	// The reports: everything a group hands out, and no name or number.
	for _, p := range []string{"/surveys/day-service/report", "/themes/report"} {
		res := staff.get(p)
		if res.status != 200 {
			t.Fatalf("%s: %d %s", p, res.status, res.body)
		}
		body := html.UnescapeString(res.body)
		checkNoPersonalData(t, p, body, ta)
		if !strings.Contains(body, "The garden path is hard for my chair.") && p != "/themes/report" {
			t.Errorf("%s lacks the chosen quote", p)
		}
		for _, want := range []string{"We will make the path smooth and wide.", "We are doing this"} {
			if !strings.Contains(body, want) {
				t.Errorf("%s lacks %q", p, want)
			}
		}
	}
	report := html.UnescapeString(staff.get("/surveys/day-service/report").body)
	for _, want := range []string{"3 people told us what they think.", "People like the garden but the path is hard for chairs.",
		"Member reviewers", "Not good: 2 (67%)"} {
		if !strings.Contains(report, want) {
			t.Errorf("the survey report lacks %q", want)
		}
	}
	if !strings.Contains(html.UnescapeString(staff.get("/themes/report").body), "We do not have a driver yet.") {
		t.Error("the themes report lacks the reason we cannot")
	}
	// Words nobody chose are not in the report.
	if strings.Contains(report, "More trips out please") {
		t.Error("the report shows words staff did not choose")
	}
}

// reportDigits is a run of digits that could be (part of) a phone number.
var reportDigits = regexp.MustCompile(`\d[\d\s•]{5,}\d`)

// checkNoPersonalData fails when a report holds a phone number in any
// form, or the name or address of anyone: members, staff, the owner.
func checkNoPersonalData(t *testing.T, path, body string, ta *testApp) {
	t.Helper()
	for _, n := range []string{"+447700900701", "+447700900702", "+447700900703"} {
		for _, form := range []string{n, n[1:], n[3:], "0" + n[3:], store.Mask(n)} {
			if strings.Contains(body, form) {
				t.Errorf("%s shows %q", path, form)
			}
		}
	}
	if m := reportDigits.FindString(body); m != "" {
		t.Errorf("%s shows the digits %q", path, m)
	}
	for _, word := range []string{"•", "@example.org", "Sam Jones", "Test staff", "Test reviewer"} {
		if strings.Contains(body, word) {
			t.Errorf("%s shows %q", path, word)
		}
	}
}

func itoa(n int64) string { return store.ActionSubject(n)[len("action:"):] }
