// Package survey is the domain and engine of Have Your Say: the survey
// definition (YAML), its loader and linter, answer matching, and the
// channel-neutral conversation engine Step(session, input) -> (reply, session).
//
// It is pure Go: no SQL, no Redis, no HTTP and no Twilio here.
package survey

import (
	"sort"
	"strings"
)

// AnswerType says what kind of answer a question takes.
type AnswerType string

// The answer types a question may have.
const (
	Choice AnswerType = "choice"
	YesNo  AnswerType = "yesno"
	Scale  AnswerType = "scale"
	Number AnswerType = "number"
	Words  AnswerType = "words"
)

// AnswerTypes lists every answer type, in the order the docs give them.
var AnswerTypes = []AnswerType{Choice, YesNo, Scale, Number, Words}

// Option is one choice of a choice or yesno question.
type Option struct {
	Value string   // stored value, e.g. "bit"
	Say   string   // what members read and hear, e.g. "A bit"
	Key   string   // "1".."9"
	Words []string // extra words that mean this option
	Emoji []string // emoji that mean this option (and are shown in emoji menus)
	Line  int
}

// Question is one question of a survey.
type Question struct {
	ID         string
	Ask        string
	Simpler    string // easier wording, used on the second try (and first, for easy-read needs)
	Answer     AnswerType
	Options    []Option
	Min, Max   *int
	MaxSeconds int // words questions by phone: longest recording
	Optional   bool
	Themes     []string
	Then       map[string]string // answer value (or "other") -> question id (or "end")
	Line       int

	m         *matcher       // compiled base-language matcher (set by Parse)
	thenLines map[string]int // line of each then entry
}

// Survey is a loaded survey definition.
type Survey struct {
	ID, Title, Language string
	Keywords            []string // SMS keywords that start it (upper case)
	Numbers             []string // phone numbers that start it
	Intro, Consent      string
	Thanks              string
	Questions           []Question
	SMSEmoji            bool // emoji in SMS menus for everyone
	// FollowUp asks, after the thanks, "Can we text you to tell you what
	// we did?" (follow_up: true; see followup.go).
	FollowUp     bool
	Phrases      map[string]string
	Translations map[string]Translation
	File         string
	Line         int

	langs     []string       // Languages(), cached by compile
	parsed    bool           // the YAML was read (for lint)
	lines     map[string]int // where texts are in the file (for lint)
	index     map[string]int
	followUps map[string]bool
	matchers  map[string]*matcher // lang + "\x00" + question id
}

// Translation holds one language's words. Anything missing falls back to
// the survey's base language.
type Translation struct {
	Name      string // the language's own name, e.g. "Cymraeg"
	Title     string
	Intro     string
	Consent   string
	Thanks    string
	Questions map[string]QuestionTranslation
	Phrases   map[string]string
	Line      int
}

// QuestionTranslation is one question's words in another language.
type QuestionTranslation struct {
	Ask, Simpler string
	Options      map[string]OptionTranslation // by option value
	Line         int
}

// OptionTranslation is one option's words in another language.
type OptionTranslation struct {
	Say   string
	Words []string
	Line  int
}

// Languages lists the survey's languages, base language first, then the
// translations in alphabetical order.
func (s *Survey) Languages() []string {
	if s.langs != nil {
		return append([]string(nil), s.langs...)
	}
	return s.languages()
}

func (s *Survey) languages() []string {
	out := []string{s.Language}
	var rest []string
	for l := range s.Translations {
		if l != s.Language {
			rest = append(rest, l)
		}
	}
	sort.Strings(rest)
	return append(out, rest...)
}

// Question returns the question with this id, or nil.
func (s *Survey) Question(id string) *Question {
	if s == nil {
		return nil
	}
	if s.index != nil {
		if i, ok := s.index[id]; ok && i < len(s.Questions) && s.Questions[i].ID == id {
			return &s.Questions[i]
		}
		return nil
	}
	for i := range s.Questions {
		if s.Questions[i].ID == id {
			return &s.Questions[i]
		}
	}
	return nil
}

// QuestionIndex returns the position (0-based) of a question, or -1.
func (s *Survey) QuestionIndex(id string) int {
	if s == nil {
		return -1
	}
	if s.index != nil {
		if i, ok := s.index[id]; ok && i < len(s.Questions) && s.Questions[i].ID == id {
			return i
		}
		return -1
	}
	for i := range s.Questions {
		if s.Questions[i].ID == id {
			return i
		}
	}
	return -1
}

// hasLanguage reports whether lang is one of the survey's languages.
func (s *Survey) hasLanguage(lang string) bool {
	if lang == s.Language {
		return true
	}
	_, ok := s.Translations[lang]
	return ok
}

// HasKeyword reports whether an SMS word starts this survey (any case).
func (s *Survey) HasKeyword(word string) bool {
	w := strings.ToUpper(strings.TrimSpace(word))
	for _, k := range s.Keywords {
		if k == w {
			return true
		}
	}
	return false
}

// LanguageName is how a language names itself in the language menu.
func (s *Survey) LanguageName(lang string) string {
	if t, ok := s.Translations[lang]; ok && t.Name != "" {
		return t.Name
	}
	base := strings.ToLower(lang)
	if i := strings.IndexAny(base, "-_"); i > 0 {
		base = base[:i]
	}
	if n, ok := languageNames[base]; ok {
		return n
	}
	return lang
}

var languageNames = map[string]string{
	"en": "English", "cy": "Cymraeg", "gd": "Gàidhlig", "ga": "Gaeilge",
	"pl": "Polski", "ur": "اردو", "pa": "ਪੰਜਾਬੀ", "bn": "বাংলা", "gu": "ગુજરાતી",
	"ar": "العربية", "so": "Soomaali", "fr": "Français", "es": "Español",
	"pt": "Português", "ro": "Română", "it": "Italiano", "de": "Deutsch",
	"zh": "中文", "bsl": "BSL",
}

// compile builds indexes and matchers. Parse calls it; it is safe to call
// again after changing a Survey by hand.
func (s *Survey) compile() {
	s.langs = s.languages()
	s.index = make(map[string]int, len(s.Questions))
	for i := range s.Questions {
		if _, dup := s.index[s.Questions[i].ID]; !dup {
			s.index[s.Questions[i].ID] = i
		}
	}
	s.followUps = followUps(s)
	s.matchers = make(map[string]*matcher)
	for _, lang := range s.Languages() {
		for i := range s.Questions {
			q := &s.Questions[i]
			m := compileMatcher(s.localQuestion(q, lang))
			s.matchers[lang+"\x00"+q.ID] = m
			if lang == s.Language {
				q.m = m
			}
		}
	}
}

// Compile prepares a Survey built by hand (not by Parse) for the engine.
// Parse already does this.
func (s *Survey) Compile() { s.compile() }

// followUps finds the questions that are asked only when a `then` sends
// someone there: a branch target that sits directly after the question that
// branches to it (or after other targets of that same question).
func followUps(s *Survey) map[string]bool {
	out := map[string]bool{}
	for i := range s.Questions {
		targets := map[string]bool{}
		for _, t := range s.Questions[i].Then {
			targets[t] = true
		}
		for j := i + 1; j < len(s.Questions) && targets[s.Questions[j].ID]; j++ {
			out[s.Questions[j].ID] = true
		}
	}
	return out
}

// IsFollowUp reports whether a question is asked only after a branch.
func (s *Survey) IsFollowUp(id string) bool {
	if s.followUps == nil {
		return followUps(s)[id]
	}
	return s.followUps[id]
}

// localQuestion returns the question with its words in lang.
func (s *Survey) localQuestion(q *Question, lang string) *Question {
	if lang == s.Language || s.Translations == nil {
		return q
	}
	t, ok := s.Translations[lang]
	if !ok {
		return q
	}
	qt, ok := t.Questions[q.ID]
	c := *q
	c.m = nil
	if q.Answer == YesNo && len(q.Options) == 0 {
		c.Options = []Option{defaultYesNo[0], defaultYesNo[1]}
		c.Options[0].Say = s.phrase(lang, "yes")
		c.Options[1].Say = s.phrase(lang, "no")
	}
	if !ok {
		return &c
	}
	if qt.Ask != "" {
		c.Ask = qt.Ask
	}
	if qt.Simpler != "" {
		c.Simpler = qt.Simpler
	}
	if len(qt.Options) > 0 {
		c.Options = append([]Option(nil), q.options()...)
		for i := range c.Options {
			if ot, ok := qt.Options[c.Options[i].Value]; ok {
				if ot.Say != "" {
					c.Options[i].Say = ot.Say
				}
				// words in both languages are understood
				c.Options[i].Words = append(append([]string(nil), c.Options[i].Words...), ot.Words...)
			}
		}
	}
	return &c
}

// localText returns a survey-level text (intro, consent, thanks, title) in lang.
func (s *Survey) localText(lang, key string) string {
	if t, ok := s.Translations[lang]; ok && lang != s.Language {
		var v string
		switch key {
		case "intro":
			v = t.Intro
		case "consent":
			v = t.Consent
		case "thanks":
			v = t.Thanks
		case "title":
			v = t.Title
		}
		if v != "" {
			return v
		}
	}
	switch key {
	case "intro":
		return s.Intro
	case "consent":
		return s.Consent
	case "thanks":
		return s.Thanks
	case "title":
		return s.Title
	}
	return ""
}

// matcherFor returns the compiled matcher for q in lang.
func (s *Survey) matcherFor(q *Question, lang string) *matcher {
	if m, ok := s.matchers[lang+"\x00"+q.ID]; ok {
		return m
	}
	if lang == s.Language && q.m != nil {
		return q.m
	}
	return compileMatcher(s.localQuestion(q, lang))
}

// options returns a question's options, with the default Yes/No for yesno
// questions that give none.
func (q *Question) options() []Option {
	if q.Answer == YesNo && len(q.Options) == 0 {
		return defaultYesNo
	}
	return q.Options
}

// AllOptions returns the options members choose from (yesno questions with
// none get Yes (1) and No (2)).
func (q *Question) AllOptions() []Option { return q.options() }

// Range returns the lowest and highest answers of a scale or number
// question; ok is false for a side with no limit.
func (q *Question) Range() (lo, hi int, hasLo, hasHi bool) {
	if q.Answer == Scale {
		lo, hi = 1, 5
		if q.Min != nil {
			lo = *q.Min
		}
		if q.Max != nil {
			hi = *q.Max
		}
		return lo, hi, true, true
	}
	if q.Min != nil {
		lo, hasLo = *q.Min, true
	}
	if q.Max != nil {
		hi, hasHi = *q.Max, true
	}
	return
}

var defaultYesNo = []Option{
	{Value: "yes", Say: "Yes", Key: "1", Emoji: []string{"👍", "✅"}},
	{Value: "no", Say: "No", Key: "2", Emoji: []string{"👎", "❌"}},
}
