package survey

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// AvoidPhrases are idioms and vague words that easy-read guides avoid (a
// member may take them literally, or not know when "soon" is), with words
// to try instead ("" when it depends). Like HardWords, `survey lint --avoid`
// adds more.
var AvoidPhrases = map[string]string{
	"let's": "we will", "let me": "we will", "let us": "we will",
	"did not get that": "did not understand", "didn't get that": "did not understand",
	"lost our place": "", "it has been a while": "", "a while": "",
	"in a moment": "", "just now": "now", "soon": "", "shortly": "", "later on": "later",
	"hold on": "wait", "hang on": "wait", "carry on": "go on", "get in touch": "call or text",
	"change your mind": "", "on our side": "", "touch base": "talk",
	"give it a go": "try", "pop in": "come",
	"bear with us": "please wait", "no problem": "that is OK", "sort out": "fix",
	"pick a number": "say which number; use it only for a question about numbers",
	"etc":           "say each thing", "asap": "now",
	"hash key": "hash", "pound key": "hash",
}

// firstPerson are words that make "we" into "I".
var firstPerson = map[string]bool{"i": true, "im": true, "ive": true, "ill": true, "id": true, "me": true, "my": true}

// countNouns are nouns whose number must agree with a number before them.
var countNouns = map[string]string{
	"question": "questions", "minute": "minutes", "second": "seconds", "hour": "hours", "day": "days",
	"week": "weeks", "month": "months", "year": "years", "answer": "answers", "time": "times",
	"text": "texts", "survey": "surveys", "option": "options", "choice": "choices", "number": "numbers",
}

// wordCount reads a number written as digits or a word ("3", "three").
func wordCount(w string) (int, bool) {
	if n, ok := numberWords[w]; ok && n.kind == 1 && w != "once" && w != "twice" && w != "none" {
		return n.val, true
	}
	if isDigits(w) && len(w) < 6 {
		n, err := strconv.Atoi(w)
		return n, err == nil
	}
	return 0, false
}

// agreement finds a number and a noun that do not agree in an English
// sentence ("1 minutes", "there are 1", "3 question"), or "".
func agreement(sentence string) string {
	toks := tokens(sentence, false)
	for i, t := range toks {
		n, ok := wordCount(t)
		if !ok || i+1 >= len(toks) {
			continue
		}
		next := toks[i+1]
		if i > 0 && (toks[i-1] == "question" || toks[i-1] == "press" || toks[i-1] == "reply" || toks[i-1] == "text") {
			continue // "Question 2 of 4", "press 1"
		}
		if n == 1 {
			for sing, plural := range countNouns {
				if next == plural {
					return fmt.Sprintf("%q should be %q", t+" "+next, t+" "+sing)
				}
			}
		} else if plural, ok := countNouns[next]; ok && !(i+2 < len(toks) && toks[i+2] == "of") {
			return fmt.Sprintf("%q should be %q", t+" "+next, t+" "+plural)
		}
		if i > 0 && toks[i-1] == "are" && n == 1 {
			return fmt.Sprintf("%q should be %q", "are "+t, "is "+t)
		}
		if i > 0 && toks[i-1] == "is" && n != 1 && i > 1 && toks[i-2] == "there" {
			return fmt.Sprintf("%q should be %q", "is "+t, "are "+t)
		}
	}
	return ""
}

// wordChecker gives easy-read advice about one piece of text.
type wordChecker struct {
	p       *parser
	hard    map[string]string // single words
	idioms  map[string]string // normalised "w1 w2" -> try
	display map[string]string // normalised idiom -> as written ("lets" -> "let's")
	english bool              // check words (not only sentence length)
}

func newWordChecker(p *parser, opts LintOptions) *wordChecker {
	c := &wordChecker{p: p, hard: map[string]string{}, idioms: map[string]string{}, display: map[string]string{}}
	add := func(k, v string, idiom bool) {
		toks := tokens(strings.ReplaceAll(k, "-", ""), false)
		switch {
		case len(toks) == 0:
		case len(toks) == 1 && !idiom:
			c.hard[toks[0]] = v
		default:
			c.idioms[strings.Join(toks, " ")] = v
			c.display[strings.Join(toks, " ")] = strings.ToLower(k)
		}
	}
	for k, v := range HardWords {
		add(k, v, false)
	}
	for k, v := range AvoidPhrases {
		add(k, v, true)
	}
	for _, w := range opts.ExtraHardWords {
		k, v, _ := strings.Cut(w, "=")
		add(strings.TrimSpace(k), strings.TrimSpace(v), false)
	}
	return c
}

// check warns about t at line l: sentences too long, and (when words is
// true) avoided words, "I", and numbers that do not agree. member is
// true for what a member says (an option), where "I" is fine.
func (c *wordChecker) check(where string, l int, t string, words, member bool) {
	if t == "" {
		return
	}
	for _, sent := range sentences(t) {
		if n := len(strings.Fields(sent)); n > MaxSentenceWords {
			c.p.warnf(l, "%s has a sentence of %d words: easy read keeps sentences to %d words or fewer (%q)", where, n, MaxSentenceWords, clip(sent))
		}
	}
	if !words {
		return
	}
	toks := tokens(strings.ReplaceAll(t, "-", ""), false)
	seen := map[string]bool{}
	for _, w := range toks {
		try, ok := c.hard[w]
		if !ok {
			try, ok = c.hard[strings.TrimSuffix(w, "s")]
		}
		if !ok || seen[w] {
			continue
		}
		seen[w] = true
		if try != "" {
			c.p.warnf(l, "%s uses %q: easy read uses everyday words (try %q)", where, w, try)
		} else {
			c.p.warnf(l, "%s uses %q: easy read uses everyday words", where, w)
		}
	}
	joined := " " + strings.Join(toks, " ") + " "
	for _, idiom := range sortedKeys(c.idioms) {
		if !strings.Contains(joined, " "+idiom+" ") {
			continue
		}
		if try := c.idioms[idiom]; try != "" {
			c.p.warnf(l, "%s uses %q: easy read avoids idioms and vague words (try %q)", where, c.display[idiom], try)
		} else {
			c.p.warnf(l, "%s uses %q: easy read avoids idioms and vague words; say exactly what you mean", where, c.display[idiom])
		}
	}
	if !member {
		for _, w := range toks {
			if firstPerson[w] {
				if w == "i" {
					w = "I"
				}
				c.p.warnf(l, `%s says %q: we speak as "we" throughout, never "I"`, where, w)
				break
			}
		}
	}
	for _, sent := range sentences(t) {
		if a := agreement(sent); a != "" {
			c.p.warnf(l, "%s counts wrongly: %s", where, a)
			break
		}
	}
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ---- questions ----

var auxStart = regexp.MustCompile(`^(are|is|do|does|did|was|were|would|will|can|could|have|has|should|dont|doesnt|isnt|arent|wasnt|didnt|wouldnt|shouldnt)\b`)

// questionSentence is the sentence of text that asks (ends with "?"); the
// one offering choices ("... or ...?") when there are several.
func questionSentence(text string) string {
	best := ""
	for _, s := range sentences(text) {
		if !strings.HasSuffix(s, "?") {
			continue
		}
		if best == "" || (!hasOr(best) && hasOr(s)) {
			best = s
		}
	}
	return best
}

func hasOr(s string) bool {
	for _, t := range tokens(s, false) {
		if t == "or" {
			return true
		}
	}
	return false
}

// offered is how many answers a question's wording offers: the parts of
// "A, B, or C?", 2 for a question answered yes or no ("Are you happy?"),
// 0 when the wording does not say ("How do you feel?").
func offered(sentence string) int {
	if sentence == "" {
		return 0
	}
	if hasOr(sentence) {
		parts := 0
		for _, chunk := range strings.Split(strings.TrimSuffix(sentence, "?"), ",") {
			for _, part := range strings.Split(" "+chunk+" ", " or ") {
				if strings.TrimSpace(part) != "" {
					parts++
				}
			}
		}
		return parts
	}
	if auxStart.MatchString(strings.Join(tokens(sentence, false), " ")) {
		return 2
	}
	return 0
}

// menuSize is how many answers q's menu offers (0 when it has no menu).
func menuSize(q *Question) int {
	switch q.Answer {
	case Choice, YesNo:
		return len(q.options())
	case Scale:
		lo, hi, _, _ := q.Range()
		return hi - lo + 1
	}
	return 0
}

// choiceCount warns when a question's wording offers a different number
// of answers than its menu: "Is it good or not good?" with three options,
// "Are the staff kind?" answered 1 to 5.
func choiceCount(p *parser, s *Survey, q *Question, lang string) {
	lq := s.localQuestion(q, lang)
	size := menuSize(q)
	if size == 0 {
		return
	}
	suffix := ""
	if lang != s.Language {
		suffix = fmt.Sprintf(" (in %s)", lang)
	}
	for _, w := range []struct{ key, what, text string }{{"ask", "", lq.Ask}, {"simpler", "'s simpler wording", lq.Simpler}} {
		qs := questionSentence(w.text)
		n := offered(qs)
		if n == 0 || n == size {
			continue
		}
		l := s.lines["q:"+q.ID+":"+w.key]
		if lang != s.Language {
			l = s.lines["tr:"+lang+":q:"+q.ID+":"+w.key]
		}
		if l == 0 {
			l = q.Line
		}
		what := fmt.Sprintf("question %q%s%s", q.ID, w.what, suffix)
		if q.Answer == Scale && !hasOr(qs) {
			p.warnf(l, "%s asks a yes or no question (%q) but the answer is a number from the scale: ask about the number, like \"How kind are the staff?\"", what, clip(qs))
			continue
		}
		p.warnf(l, "%s offers %d answers in its words (%q) but its menu has %d: say each choice the menu has, or ask \"How ...?\"", what, n, clip(qs), size)
	}
}

// leadingQuestion spots a question that pushes towards one answer: a
// yes-or-no question with a loaded word ("Are the staff kind?", "Do you
// like it?"), whatever the menu.
func leadingQuestion(text string) bool {
	qs := questionSentence(text)
	if qs == "" || hasOr(qs) {
		return false
	}
	toks := tokens(qs, false)
	if len(toks) == 0 || !leadingStarts[toks[0]] {
		return false
	}
	for _, t := range toks[1:] {
		if leadingWords[t] {
			return true
		}
	}
	return false
}

// introCount warns when the intro says how many questions there are and
// the survey asks a different number (follow-ups only some hear are not
// counted).
func introCount(p *parser, s *Survey) {
	main := 0
	for _, q := range s.Questions {
		if !s.IsFollowUp(q.ID) {
			main++
		}
	}
	toks := tokens(s.Intro, false)
	for i := 0; i+1 < len(toks); i++ {
		n, ok := wordCount(toks[i])
		if ok && (toks[i+1] == "questions" || toks[i+1] == "question") && n != main {
			l := s.lines["intro"]
			if l == 0 {
				l = s.Line
			}
			p.warnf(l, "the intro says there are %d questions, but the survey asks %d (not counting follow-ups only some people hear)", n, main)
			return
		}
	}
}

// EasyReadProblems lists what easy read would change in a sentence or
// more that a member reads or hears, in English: a sentence over
// MaxSentenceWords, a word or idiom to avoid, "I", numbers that do not
// agree. None: nil. Tests use it on every sentence a conversation sends.
func EasyReadProblems(text string) []string {
	p := &parser{}
	newWordChecker(p, LintOptions{}).check("it", 1, text, true, false)
	var out []string
	for _, d := range p.diags {
		out = append(out, strings.TrimPrefix(d.Message, "it "))
	}
	return out
}
