package sms

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"

	"github.com/nyaruka/phonenumbers"

	"github.com/haveyoursay/haveyoursay/store"
)

// BadLine is a line of a list whose number cannot be texted.
type BadLine struct {
	Line   int
	Text   string // the cell as written
	Reason string // e.g. "is too short"
}

func (b BadLine) String() string {
	if b.Reason == unclosedQuote {
		return fmt.Sprintf("line %d: %s", b.Line, b.Reason)
	}
	if b.Text == "" {
		return fmt.Sprintf("line %d %s", b.Line, b.Reason)
	}
	return fmt.Sprintf("line %d '%s' %s", b.Line, b.Text, b.Reason)
}

// List is a list of numbers read from a CSV file.
type List struct {
	People  []Recipient
	Bad     []BadLine
	Repeats []BadLine // the same number again: texted once
	// Broken are lines that cannot be read as CSV at all (a quote mark that
	// is not closed); the lines after them are read on their own.
	Broken []BadLine
}

// unclosedQuote is the reason for a line whose quoted cell never ends.
const unclosedQuote = `this line has a quote mark (") that is not closed`

// phoneHeaders are the column names that hold the numbers.
var phoneHeaders = []string{"phone", "number", "mobile", "phone number", "mobile number", "telephone", "tel", "mobile phone"}

// ReadList reads a CSV list of phone numbers: a header row with a phone,
// number or mobile column, or a single column of numbers (with or without
// a header). Numbers without a country code are read as numbers of region
// (e.g. "GB") and normalised to E.164. A number that cannot be texted is
// listed in Bad with its line; the error is only for a file that cannot be
// read at all.
func ReadList(r io.Reader, region string) (List, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return List{}, err
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) // a byte order mark from Excel
	// lineStart[i] is where line i+1 starts.
	lineStart := []int{0}
	for i, c := range data {
		if c == '\n' {
			lineStart = append(lineStart, i+1)
		}
	}
	var list List
	col := -1
	first := true
	seen := map[string]int{}
	// A quoted cell whose closing quote is missing swallows the lines after
	// it; such a line is reported and reading starts again on the next line.
	from := 0 // lines before the part being read
readPart:
	for from < len(lineStart) {
		part := data[lineStart[from]:]
		cr := csv.NewReader(bytes.NewReader(part))
		cr.FieldsPerRecord = -1
		cr.LazyQuotes = true
		cr.TrimLeadingSpace = true
		cr.ReuseRecord = false
		for {
			start := cr.InputOffset()
			rec, err := cr.Read()
			if errors.Is(err, io.EOF) {
				break readPart
			}
			if err != nil {
				return list, fmt.Errorf("the file is not a CSV file we can read: %w", err)
			}
			rel, _ := cr.FieldPos(0)
			line := from + rel
			// A cell over several lines is fine in a column of notes, not
			// where the number should be; and a quote still open at the end
			// of the file was never closed.
			spill := multiline(rec) && (first || col >= len(rec) || strings.ContainsAny(rec[col], "\r\n") ||
				strings.TrimSpace(rec[col]) == "" || swallowsNumbers(rec, region))
			if spill || (cr.InputOffset() == int64(len(part)) && openQuote(part[start:])) {
				list.Broken = append(list.Broken, BadLine{Line: line, Reason: unclosedQuote})
				from = line
				continue readPart
			}
			if first {
				first = false
				col = headerColumn(rec)
				if col >= 0 {
					continue
				}
				if len(rec) > 1 {
					return list, errors.New("the file has several columns, but none is called phone, number or mobile: add that heading above the numbers")
				}
				col = 0
				if !hasDigit(rec[0]) { // a heading we do not know, like "Contact"
					continue
				}
			}
			if col >= len(rec) || strings.TrimSpace(rec[col]) == "" {
				if !blank(rec) {
					list.Bad = append(list.Bad, BadLine{Line: line, Reason: "has no number"})
				}
				continue
			}
			cell := strings.TrimSpace(rec[col])
			number, reason := Normalise(cell, region)
			if reason != "" {
				list.Bad = append(list.Bad, BadLine{Line: line, Text: cell, Reason: reason})
				continue
			}
			if earlier, ok := seen[number]; ok {
				list.Repeats = append(list.Repeats, BadLine{Line: line, Text: cell, Reason: fmt.Sprintf("is the same number as line %d", earlier)})
				continue
			}
			seen[number] = line
			list.People = append(list.People, Recipient{Number: number, Line: line})
		}
	}
	return list, nil
}

// multiline reports whether a record has a quoted cell over several lines.
func multiline(rec []string) bool {
	for _, c := range rec {
		if strings.ContainsAny(c, "\r\n") {
			return true
		}
	}
	return false
}

// swallowsNumbers reports whether a cell over several lines holds, on a
// line after its first, what looks like a row of the list: a phone number
// at the start. A note over two lines is fine; a quote mark left open in
// a notes column that swallowed the next people is not.
func swallowsNumbers(rec []string, region string) bool {
	for _, c := range rec {
		lines := strings.FieldsFunc(c, func(r rune) bool { return r == '\n' || r == '\r' })
		for _, l := range lines[min(1, len(lines)):] {
			first, _, _ := strings.Cut(l, ",")
			if _, reason := Normalise(strings.Trim(strings.TrimSpace(first), `"`), region); reason == "" {
				return true
			}
		}
	}
	return false
}

// openQuote reports whether raw, the last record of a file, ends inside a
// quoted cell, read as encoding/csv reads with LazyQuotes and
// TrimLeadingSpace: a quote mark starting a cell opens it; "" inside is a
// quote mark; a quote mark followed by a comma, a line end or the end
// closes it; any other quote mark is kept as text.
func openQuote(raw []byte) bool {
	in, cellStart := false, true
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if in {
			switch {
			case c != '"':
			case i+1 < len(raw) && raw[i+1] == '"':
				i++
			case i+1 == len(raw) || raw[i+1] == ',' || raw[i+1] == '\n' || raw[i+1] == '\r':
				in = false
			}
			continue
		}
		switch {
		case c == ',' || c == '\n':
			cellStart = true
		case cellStart && (c == ' ' || c == '\t' || c == '\r'):
		case cellStart && c == '"':
			in, cellStart = true, false
		default:
			cellStart = false
		}
	}
	return in
}

func headerColumn(rec []string) int {
	for i, cell := range rec {
		c := strings.ToLower(strings.TrimSpace(cell))
		for _, h := range phoneHeaders {
			if c == h {
				return i
			}
		}
	}
	return -1
}

func hasDigit(s string) bool { return strings.IndexFunc(s, unicode.IsDigit) >= 0 }

func blank(rec []string) bool {
	for _, c := range rec {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

// Normalise returns number in E.164, read as a number of region when it has
// no country code, or a reason it cannot be texted ("is too short").
// Numbers libphonenumber cannot place but that have a possible length (such
// as Ofcom's drama range 07700 900xxx) are accepted: Twilio refuses them if
// they are not real. Landlines and other numbers that cannot get texts are
// refused.
func Normalise(number, region string) (string, string) {
	if !hasDigit(number) {
		return "", "is not a phone number"
	}
	n, err := phonenumbers.Parse(number, region)
	if err != nil {
		switch {
		case errors.Is(err, phonenumbers.ErrTooShortNSN), errors.Is(err, phonenumbers.ErrTooShortAfterIDD):
			return "", "is too short"
		case errors.Is(err, phonenumbers.ErrInvalidCountryCode):
			return "", "does not start with a country code we know"
		case errors.Is(err, phonenumbers.ErrNumTooLong):
			return "", "is too long"
		}
		return "", "is not a phone number"
	}
	switch phonenumbers.IsPossibleNumberWithReason(n) {
	case phonenumbers.IS_POSSIBLE:
	case phonenumbers.TOO_SHORT, phonenumbers.IS_POSSIBLE_LOCAL_ONLY: // local-only: no area code
		return "", "is too short"
	case phonenumbers.INVALID_LENGTH:
		return "", "has the wrong number of digits"
	case phonenumbers.TOO_LONG:
		return "", "is too long"
	case phonenumbers.INVALID_COUNTRY_CODE:
		return "", "does not start with a country code we know"
	default:
		return "", "is not a phone number"
	}
	if phonenumbers.IsValidNumber(n) {
		switch phonenumbers.GetNumberType(n) {
		case phonenumbers.FIXED_LINE:
			return "", "is a landline, which cannot get texts"
		case phonenumbers.TOLL_FREE, phonenumbers.PREMIUM_RATE, phonenumbers.SHARED_COST, phonenumbers.UAN,
			phonenumbers.VOICEMAIL:
			return "", "is a service number, which cannot get texts"
		}
	}
	return phonenumbers.Format(n, phonenumbers.E164), ""
}

// Summary is the closing report of `haveyoursay send`.
type Summary struct {
	Invite   InviteResult
	List     List
	Progress store.BatchProgress
	Problems []store.Outbound
	Waited   bool // false: queued only, the server sends
	Loc      *time.Location
	// File names the list in lines that cannot be read (people.csv:7: ...).
	File string
}

// String writes the report in plain words, one fact a line.
func (s Summary) String() string {
	var b strings.Builder
	p := s.Progress
	title := "the survey"
	if s.Invite.Survey != nil {
		title = fmt.Sprintf("%q", s.Invite.Survey.Title)
	}
	people := func(n int) string {
		if n == 1 {
			return "1 person"
		}
		return fmt.Sprintf("%d people", n)
	}
	numbers := func(n int) string {
		if n == 1 {
			return "1 number"
		}
		return fmt.Sprintf("%d numbers", n)
	}
	were := func(n int) string {
		if n == 1 {
			return "1 person was"
		}
		return people(n) + " were"
	}
	inv := s.Invite
	before := inv.Already - inv.Resumed // dealt with by an earlier run
	switch {
	case inv.Added == 0 && inv.Already == 0:
		// Nobody to invite (a list with no numbers): no headline.
	case inv.Added == 0 && inv.Resumed == 0 && inv.Already > 0:
		fmt.Fprintf(&b, "Nobody new to invite: everyone in this list was invited to %s before (batch %s), so nobody was texted again.\n",
			title, inv.Batch)
	case (s.Waited || p.Sent > 0) && inv.Already > 0:
		// A list run again: the count covers every run of it.
		have := "people in this list have"
		if p.Sent == 1 {
			have = "person in this list has"
		}
		fmt.Fprintf(&b, "%d %s now been invited to %s.\n", p.Sent, have, title)
	case s.Waited || p.Sent > 0:
		fmt.Fprintf(&b, "Invited %s to %s.\n", people(p.Sent), title)
	default:
		fmt.Fprintf(&b, "Queued invitations to %s for %s.\n", title, people(inv.Added+inv.Resumed))
	}
	if inv.Resumed > 0 {
		fmt.Fprintf(&b, "%s still to be texted from an earlier run of this list (batch %s).\n", were(inv.Resumed), inv.Batch)
	}
	if before > 0 && (inv.Added > 0 || inv.Resumed > 0) {
		fmt.Fprintf(&b, "%s already in this list (batch %s) from an earlier run, so not texted again.\n",
			were(before), inv.Batch)
	}
	file := s.File
	if file == "" {
		file = "line"
	}
	for _, bad := range s.List.Broken {
		fmt.Fprintf(&b, "%s:%d: %s.\n", file, bad.Line, bad.Reason)
	}
	if n := len(s.List.Bad); n > 0 {
		verb := "could not be read"
		if n == 1 {
			fmt.Fprintf(&b, "1 number %s: %s.\n", verb, s.List.Bad[0])
		} else {
			fmt.Fprintf(&b, "%s %s:\n", numbers(n), verb)
			for _, bad := range s.List.Bad {
				fmt.Fprintf(&b, "  %s\n", bad)
			}
		}
	}
	if n := len(s.List.Repeats); n > 0 {
		fmt.Fprintf(&b, "%s appeared twice in the file; each person gets one text.\n", numbers(n))
	}
	group := map[string][]store.Outbound{}
	for _, o := range s.Problems {
		group[o.Status] = append(group[o.Status], o)
	}
	lines := func(os []store.Outbound) {
		for _, o := range os {
			reason := o.Reason
			if o.ErrorCode != 0 && !strings.Contains(reason, "error ") {
				reason = fmt.Sprintf("%s (Twilio error %d).", strings.TrimSuffix(reason, "."), o.ErrorCode)
			}
			fmt.Fprintf(&b, "  line %d %s: %s\n", o.Line, o.PhoneMasked, reason)
		}
	}
	if os := group[store.OutOptedOut]; len(os) > 0 {
		fmt.Fprintf(&b, "%s had asked for no more texts, so we did not text them.\n", people(len(os)))
	}
	if os := group[store.OutSkipped]; len(os) > 0 {
		fmt.Fprintf(&b, "%s not texted:\n", were(len(os)))
		lines(os)
	}
	if os := group[store.OutFailed]; len(os) > 0 {
		fmt.Fprintf(&b, "%s could not be texted:\n", people(len(os)))
		lines(os)
	}
	if os := group[store.OutUnknown]; len(os) > 0 {
		fmt.Fprintf(&b, "%s may or may not have got the text (check Twilio's message log); we did not send it again:\n", people(len(os)))
		lines(os)
	}
	if p.Waiting > 0 {
		when := "quiet hours end"
		if !p.NextAt.IsZero() {
			loc := s.Loc
			if loc == nil {
				loc = time.UTC
			}
			when = p.NextAt.In(loc).Format("15:04 on Mon 2 Jan")
		}
		fmt.Fprintf(&b, "%s will be texted after %s (no texts in quiet hours). The server sends them: keep it running.\n", people(p.Waiting), when)
	}
	if left := p.Pending + p.Sending; left > 0 && s.Waited {
		fmt.Fprintf(&b, "%s are still to be texted; the server will carry on.\n", people(left))
	} else if !s.Waited && s.Invite.Added > 0 && p.Sent == 0 {
		b.WriteString("The server sends them: keep it running.\n")
	}
	return b.String()
}
