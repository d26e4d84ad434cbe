package survey

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// LintOptions changes what Lint looks for.
type LintOptions struct {
	// ExtraHardWords adds words to avoid, each "word" or "word=easier word".
	ExtraHardWords []string
	// Themes, when not nil, are the charity's theme ids (its themes file):
	// a question naming another theme is warned about.
	Themes []string
}

// MaxSentenceWords is the longest sentence easy-read guides suggest.
const MaxSentenceWords = 15

// MaxSMSSegments is the most SMS parts one message should take.
const MaxSMSSegments = 2

// HardWords are long or abstract words that easy-read guides avoid, with
// an everyday word to try instead ("" when it depends).
var HardWords = map[string]string{
	"accessible": "easy to use", "accommodation": "home", "additional": "more",
	"anonymous": "we will not use your name", "appropriate": "right",
	"approximately": "about", "assistance": "help", "commence": "start",
	"communicate": "talk", "concerning": "about", "confidential": "private",
	"consequently": "so", "consultation": "asking you", "currently": "now",
	"demonstrate": "show", "difficulties": "problems", "discontinue": "stop",
	"eligible": "can have", "evaluate": "check", "facilitate": "help",
	"feedback": "what you think", "frequently": "often", "furthermore": "also",
	"however": "but", "implement": "do", "indicate": "say", "individual": "person",
	"individuals": "people", "information": "", "initiate": "start",
	"numerous": "many", "objective": "aim", "obtain": "get", "opportunity": "chance",
	"outcome": "result", "outcomes": "results", "participate": "take part",
	"personalised": "for you", "prior": "before", "provision": "service",
	"purchase": "buy", "questionnaire": "questions", "regarding": "about",
	"require": "need", "requirements": "needs", "satisfaction": "how happy you are",
	"satisfied": "happy", "stakeholder": "", "stakeholders": "", "subsequently": "later",
	"sufficient": "enough", "therefore": "so", "utilise": "use", "utilize": "use",
	"wellbeing": "how you feel", "whereas": "but", "co-production": "working together",
	"coproduction": "working together", "safeguarding": "keeping you safe",
	"experience": "", "facilities": "places",
}

var leadingStarts = map[string]bool{
	"are": true, "do": true, "did": true, "is": true, "was": true, "were": true, "would": true,
	"will": true, "can": true, "could": true, "does": true, "have": true, "has": true,
	"should": true, "dont": true, "doesnt": true, "isnt": true, "arent": true, "wasnt": true,
	"didnt": true, "wouldnt": true, "shouldnt": true,
}

var leadingWords = map[string]bool{
	"happy": true, "like": true, "enjoy": true, "good": true, "agree": true, "nice": true,
	"kind": true, "helpful": true, "safe": true, "satisfied": true, "love": true,
	"better": true, "great": true, "pleased": true, "fun": true, "well": true,
	"useful": true, "easy": true, "friendly": true, "unhappy": true, "sad": true,
	"bad": true, "worried": true, "hard": true, "enjoyed": true, "liked": true,
}

// Lint checks a survey file: the structural errors Parse reports, and
// easy-read advice as warnings. The result is sorted by line.
func Lint(filename string, data []byte, opts LintOptions) Diagnostics {
	s, diags := parse(filename, data)
	p := &parser{file: filename, diags: diags}
	if s != nil && s.parsed {
		advise(p, s, opts)
	}
	p.diags.sort()
	return p.diags
}

func advise(p *parser, s *Survey, opts LintOptions) {
	c := newWordChecker(p, opts)
	english := isEnglish(s.Language)
	line := func(key string, fallback int) int {
		if l := s.lines[key]; l > 0 {
			return l
		}
		return fallback
	}
	text := func(where string, l int, t string, base bool) {
		c.check(where, l, t, base && english, false)
	}
	if s.Intro == "" {
		p.warnf(s.Line, `the survey has no "intro": say hello, who you are, and how many questions there are`)
	}
	text("the title", line("title", s.Line), s.Title, true)
	text("the intro", line("intro", s.Line), s.Intro, true)
	text("the consent", line("consent", s.Line), s.Consent, true)
	text("the thanks", line("thanks", s.Line), s.Thanks, true)
	for i := range s.Questions {
		q := &s.Questions[i]
		what := fmt.Sprintf("question %q", q.ID)
		text(what, line("q:"+q.ID+":ask", q.Line), q.Ask, true)
		text(what+"'s simpler wording", line("q:"+q.ID+":simpler", q.Line), q.Simpler, true)
		for _, o := range q.Options {
			c.check(fmt.Sprintf("option %q of %s", o.Value, what), o.Line, o.Say, english, true)
		}
		if q.Answer == Choice && len(q.Options) > 3 {
			p.warnf(q.Line, "%s has %d options: by phone, people can hold 3 options in mind; try 3, or split the question", what, len(q.Options))
		}
		if english {
			if leading(q) || leadingQuestion(q.Ask) {
				p.warnf(line("q:"+q.ID+":ask", q.Line), `%s is a yes/no question that may lead people to one answer: try either/or with "something else", like "Is it good, bad, or something else?"`, what)
			} else if leadingQuestion(q.Simpler) {
				p.warnf(line("q:"+q.ID+":simpler", q.Line), `%s's simpler wording is a yes/no question that may lead people to one answer: try "Is it good, OK, or bad?"`, what)
			}
		}
		if !p.diags.HasErrors() {
			for _, lang := range s.Languages() {
				if isEnglish(lang) { // the wording checks read English
					choiceCount(p, s, q, lang)
				}
			}
		}
		if q.Answer == Words && q.MaxSeconds > 120 {
			p.warnf(line("q:"+q.ID+":max_seconds", q.Line), "%s records up to %d seconds, but recordings over 2 minutes get no written transcript", what, q.MaxSeconds)
		}
		optionWords(p, q)
	}
	if opts.Themes != nil {
		known := map[string]bool{}
		for _, t := range opts.Themes {
			known[t] = true
		}
		lintThemes(p, s, known, line)
	}
	smsLength(p, s)
	if !p.diags.HasErrors() {
		reachable(p, s)
		if english {
			introCount(p, s)
		}
		lintPhrases(p, s, c)
	}
	translationGaps(p, s, text)
}

// isEnglish reports whether a language tag is English, whose words lint
// checks (in other languages it checks sentence length only).
func isEnglish(lang string) bool { return baseLang(lang) == "en" }

// sentences splits text at . ! ? and new lines.
func sentences(t string) []string {
	var out []string
	start := 0
	rs := []rune(t)
	for i, r := range rs {
		end := r == '\n' || ((r == '.' || r == '!' || r == '?') && (i+1 == len(rs) || rs[i+1] == ' ' || rs[i+1] == '\n'))
		if end {
			if s := strings.TrimSpace(string(rs[start : i+1])); s != "" {
				out = append(out, s)
			}
			start = i + 1
		}
	}
	if s := strings.TrimSpace(string(rs[start:])); s != "" {
		out = append(out, s)
	}
	return out
}

func clip(s string) string {
	f := strings.Fields(s)
	if len(f) > 6 {
		return strings.Join(f[:6], " ") + "..."
	}
	return s
}

// leading spots yes/no questions that push towards one answer.
func leading(q *Question) bool {
	isYesNo := q.Answer == YesNo
	if q.Answer == Choice && len(q.Options) == 2 {
		a, b := yesOrNo(q.Options[0]), yesOrNo(q.Options[1])
		isYesNo = a != "" && b != "" && a != b
	}
	if !isYesNo {
		return false
	}
	toks := tokens(q.Ask, false)
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

// optionWords warns about option words that clash with the phone
// network's keywords, the built-in keys, or another option.
func optionWords(p *parser, q *Question) {
	type owner struct {
		opt  int
		line int
	}
	seen := map[string]owner{}
	reported := map[string]bool{}
	for i, o := range q.Options {
		what := fmt.Sprintf("option %q of question %q", o.Value, q.ID)
		var list []string
		list = append(list, o.Value, o.Say)
		list = append(list, o.Words...)
		mine := map[string]bool{}
		for _, w := range list {
			toks := tokens(w, false)
			if len(toks) == 1 {
				switch carrierKeyword(toks[0]) {
				case "STOP":
					p.warnf(o.Line, "%s uses the word %q: a text of just %s unsubscribes people from all our texts; use another word", what, w, strings.ToUpper(toks[0]))
				case "START":
					p.warnf(o.Line, "%s uses the word %q: the phone network reads %s as a keyword (start texts again); use another word", what, w, strings.ToUpper(toks[0]))
				case "HELP":
					p.warnf(o.Line, "%s uses the word %q: the phone network answers %s with its own help message; use another word", what, w, strings.ToUpper(toks[0]))
				}
			}
			if b := builtinOf(w); b != noBuiltin {
				p.warnf(o.Line, "%s uses %q, which everywhere means %q: people who say it will %s", what, w, builtinName[b], builtinDoes[b])
			}
			key := strings.Join(tokens(w, true), " ")
			if key == "" || mine[key] {
				continue
			}
			mine[key] = true
			if prev, ok := seen[key]; ok && prev.opt != i && !reported[key] {
				reported[key] = true
				p.warnf(o.Line, "%q means both %q and %q in question %q: people who say it will be asked again", w, q.Options[prev.opt].Value, o.Value, q.ID)
				continue
			}
			seen[key] = owner{i, o.Line}
		}
		for _, em := range o.Emoji {
			key := "emoji:" + normEmoji(em)
			if prev, ok := seen[key]; ok && prev.opt != i && !reported[key] {
				reported[key] = true
				p.warnf(o.Line, "emoji %s means both %q and %q in question %q: people who send it will be asked again", em, q.Options[prev.opt].Value, o.Value, q.ID)
				continue
			}
			seen[key] = owner{i, o.Line}
		}
	}
}

var builtinName = map[builtin]string{biRepeat: "say it again", biHelp: "talk to a person", biSkip: "skip", biBack: "go back"}
var builtinDoes = map[builtin]string{biRepeat: "hear the question again", biHelp: "be put through to a person", biSkip: "skip the question", biBack: "go back a question"}

// smsLength warns when a text the engine sends would take more than two
// SMS parts.
func smsLength(p *parser, s *Survey) {
	if len(s.Questions) == 0 || p.diags.HasErrors() {
		return
	}
	for _, lang := range s.Languages() {
		suffix := ""
		if lang != s.Language {
			suffix = fmt.Sprintf(" (in %s)", lang)
		}
		check := func(l int, what string, r Reply) {
			t := r.Text()
			n, ucs2 := Segments(t)
			if n <= MaxSMSSegments {
				return
			}
			if ucs2 {
				p.warnf(l, "%s%s takes %d text messages: it has emoji or special characters, so only %d characters fit in %d; make it shorter", what, suffix, n, 2*67, MaxSMSSegments)
			} else {
				p.warnf(l, "%s%s takes %d text messages (%d characters): keep it to %d characters or fewer", what, suffix, n, len([]rune(t)), 2*153)
			}
		}
		e := &engine{s: s, sess: Session{Channel: SMS, Lang: lang}}
		e.enterConsent()
		// The safeguarding notice is the same in every survey and not the
		// author's to shorten: measure what they wrote.
		e.r.Prompts = slices.DeleteFunc(e.r.Prompts, func(p Prompt) bool { return p.Key == "sms-notice" })
		check(s.lines["intro"], "the first text (intro and consent)", e.r)
		for i := range s.Questions {
			q := &s.Questions[i]
			e := &engine{s: s, sess: Session{Channel: SMS, Lang: lang}}
			// a worst case for "Question n of N"
			e.sess.Path = make([]string, len(s.Questions)-1)
			e.enterQuestion(q.ID)
			check(q.Line, fmt.Sprintf("the text for question %q", q.ID), e.r)
			if q.Simpler != "" {
				e := &engine{s: s, sess: Session{Channel: SMS, Lang: lang}}
				e.ask(q, true)
				check(q.Line, fmt.Sprintf("the simpler text for question %q", q.ID), e.r)
			}
			if len(q.Options) > 0 && !s.SMSEmoji {
				if hasEmoji(q) {
					e := &engine{s: s, sess: Session{Channel: SMS, Lang: lang, Needs: Needs{EmojiMenus: true}}}
					e.ask(q, false)
					check(q.Line, fmt.Sprintf("the text for question %q with emoji menus", q.ID), e.r)
				}
			}
		}
		e = &engine{s: s, sess: Session{Channel: SMS, Lang: lang}}
		e.say("confirm", fill(e.phrase("confirm"), "answer", "Yes"))
		e.end()
		check(s.lines["thanks"], "the last text (thanks)", e.r)
	}
}

func hasEmoji(q *Question) bool {
	for _, o := range q.Options {
		if len(o.Emoji) > 0 {
			return true
		}
	}
	return false
}

func reachable(p *parser, s *Survey) {
	if len(s.Questions) == 0 {
		return
	}
	seen := reach(graph(s), 0)
	for i := range s.Questions {
		if !seen[i] {
			p.warnf(s.Questions[i].Line, "question %q can never be asked: no answer leads to it", s.Questions[i].ID)
		}
	}
}

func translationGaps(p *parser, s *Survey, text func(string, int, string, bool)) {
	langs := make([]string, 0, len(s.Translations))
	for l := range s.Translations {
		langs = append(langs, l)
	}
	sort.Strings(langs)
	for _, lang := range langs {
		t := s.Translations[lang]
		what := fmt.Sprintf("translation %q", lang)
		missing := func(l int, thing string) {
			p.warnf(l, "%s has no %s: people who choose %s will get the %s words", what, thing, s.LanguageName(lang), s.Language)
		}
		for _, f := range []struct{ key, base, tr string }{{"title", s.Title, t.Title}, {"intro", s.Intro, t.Intro}, {"consent", s.Consent, t.Consent}, {"thanks", s.Thanks, t.Thanks}} {
			if f.base != "" && f.tr == "" {
				missing(t.Line, fmt.Sprintf("%q", f.key))
			}
			text(fmt.Sprintf("%s's %s", what, f.key), s.lines["tr:"+lang+":"+f.key], f.tr, false)
		}
		done := map[string]bool{}
		for i := range s.Questions {
			q := &s.Questions[i]
			if q.ID == "" || done[q.ID] {
				continue
			}
			done[q.ID] = true
			qt, ok := t.Questions[q.ID]
			if !ok {
				missing(t.Line, fmt.Sprintf("words for question %q", q.ID))
				continue
			}
			if qt.Ask == "" {
				missing(qt.Line, fmt.Sprintf("\"ask\" for question %q", q.ID))
			}
			if q.Simpler != "" && qt.Simpler == "" {
				missing(qt.Line, fmt.Sprintf("\"simpler\" for question %q", q.ID))
			}
			text(fmt.Sprintf("%s of question %q", what, q.ID), s.lines["tr:"+lang+":q:"+q.ID+":ask"], qt.Ask, false)
			text(fmt.Sprintf("%s of question %q's simpler wording", what, q.ID), s.lines["tr:"+lang+":q:"+q.ID+":simpler"], qt.Simpler, false)
			for _, o := range q.Options {
				if ot, ok := qt.Options[o.Value]; !ok || ot.Say == "" {
					missing(qt.Line, fmt.Sprintf("\"say\" for option %q of question %q", o.Value, q.ID))
				}
			}
		}
		if !isEnglish(lang) {
			var gaps []string
			for _, k := range PhraseNames() {
				if _, ok := builtinPhrase(lang, k); !ok && t.Phrases[k] == "" {
					gaps = append(gaps, k)
				}
			}
			if len(gaps) > 0 {
				p.warnf(t.Line, "%s has no words for %d of the built-in phrases (%s): they will be in English; add them under \"phrases\"", what, len(gaps), clipList(gaps))
			}
		}
	}
}

// lintPhrases checks every phrase the survey will say or text, in each of
// its languages: the built-in words, or the survey's own where it changes
// them. A built-in phrase is reported at the survey's (or translation's)
// first line; a changed one where it is changed.
func lintPhrases(p *parser, s *Survey, c *wordChecker) {
	keyword := "DAYS"
	if len(s.Keywords) > 0 {
		keyword = s.Keywords[0]
	}
	for _, lang := range s.Languages() {
		t, translated := s.Translations[lang]
		translated = translated && lang != s.Language
		for _, id := range PhraseNames() {
			n := "2"
			if strings.HasSuffix(id, "-one") {
				n = "1"
			}
			text := fill(s.phrase(lang, id), "n", n, "total", "4", "minutes", n, "answer", "Yes", "say", "Good",
				"key", "1", "min", "1", "max", "5", "keyword", keyword, "org", "Oakfield", "title", "Your home",
				"name", s.LanguageName(lang), "phone", "01632 960000", "items", "1 for Yes, 2 for No")
			where, l := fmt.Sprintf("the built-in phrase %q", id), s.Line
			switch {
			case translated && t.Phrases[id] != "":
				where, l = fmt.Sprintf("phrase %q", id), s.lines["tr:"+lang+":phrase:"+id]
			case translated:
				l = t.Line
			case s.Phrases[id] != "":
				where, l = fmt.Sprintf("phrase %q", id), s.lines["phrase:"+id]
			}
			if lang != s.Language {
				where += fmt.Sprintf(" (in %s)", lang)
			}
			c.check(where, l, text, isEnglish(lang), false)
		}
	}
}

func clipList(l []string) string {
	if len(l) > 4 {
		return strings.Join(l[:4], ", ") + ", ..."
	}
	return strings.Join(l, ", ")
}
