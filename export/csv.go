package export

import (
	"bufio"
	"encoding/csv"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/haveyoursay/haveyoursay/store"
	"github.com/haveyoursay/haveyoursay/survey"
)

// bom makes Excel read the file as UTF-8 (emoji and accents intact).
const bom = "\uFEFF"

// CSV writes one row per conversation: who (a pseudonym), when, how, and a
// column per question with the value we understood, and beside each words
// question the member's own words (their text, or the transcript of their
// recording). Cells a spreadsheet would run as a formula are neutralised.
func CSV(w io.Writer, o Options, convs Conversations) (Stats, error) {
	bw := bufio.NewWriterSize(w, 64<<10)
	if _, err := bw.WriteString(bom); err != nil {
		return Stats{}, err
	}
	cw := csv.NewWriter(bw)
	cw.UseCRLF = true
	questions := o.questions()
	header := []string{"conversation_id", "member_id"}
	if o.Numbers != nil {
		header = append(header, "phone")
	}
	header = append(header, "started_utc", "ended_utc", "channel", "status", "language", "survey_version")
	for _, q := range questions {
		header = append(header, q.ID)
		if q.Answer == survey.Words {
			header = append(header, q.ID+" (words)")
		}
	}
	header = append(header, "themes")
	if err := cw.Write(header); err != nil {
		return Stats{}, err
	}
	var st Stats
	row := make([]string, 0, len(header))
	for c, err := range convs {
		if err != nil {
			return st, err
		}
		phone, err := o.phone(c)
		if err != nil {
			return st, err
		}
		row = append(row[:0], c.ID, o.Members.ID(c.ParticipantID))
		if o.Numbers != nil {
			row = append(row, Neutralise(phone))
		}
		ended := ""
		if c.EndedAt != nil {
			ended = sheetTime(*c.EndedAt)
		}
		row = append(row, sheetTime(c.StartedAt), ended, c.Channel, c.Status, c.Language, itoa(c.SurveyVersion))
		// The last answer to a question is the one that counts (a
		// member may go back, or a call may be picked up again).
		last := map[string]store.ExportAnswer{}
		var themes []string
		for _, a := range c.Answers {
			last[a.QuestionID] = a
			for _, t := range a.Themes {
				if !slices.Contains(themes, t) {
					themes = append(themes, t)
				}
			}
		}
		for _, q := range questions {
			a, ok := last[q.ID]
			value, words := "", ""
			if ok && !a.Skipped && !a.NoAnswer {
				value, words = a.Value, a.Words()
			}
			if q.Answer == survey.Words {
				if value == words {
					value = "" // the words column has them
				}
				row = append(row, Neutralise(value), Neutralise(words))
			} else {
				row = append(row, Neutralise(value))
			}
		}
		slices.Sort(themes)
		row = append(row, Neutralise(strings.Join(themes, "; ")))
		if err := cw.Write(row); err != nil {
			return st, err
		}
		st.Conversations++
		st.Answers += len(c.Answers)
		if o.Progress != nil && st.Conversations%1000 == 0 {
			o.Progress(st.Conversations)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return st, err
	}
	if o.Progress != nil {
		o.Progress(st.Conversations)
	}
	return st, bw.Flush()
}

var plainNumber = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)

// Neutralise stops a spreadsheet running a cell as a formula: a cell that
// starts with =, +, -, @, a tab or a carriage return gets a ' in front
// (OWASP's advice), except a plain negative number.
func Neutralise(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '@', '\t', '\r':
		return "'" + s
	case '-':
		if plainNumber.MatchString(s) {
			return s
		}
		return "'" + s
	}
	return s
}

// sheetTime is a time as spreadsheets read it: "2026-11-30 14:05:09", UTC.
func sheetTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05") }

func itoa(n int) string { return strconv.Itoa(n) }
