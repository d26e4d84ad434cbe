package survey

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// ElseKey is the `then` key for "any other answer, or no answer".
const ElseKey = "else"

// EndTarget is the `then` target that goes straight to the thanks.
const EndTarget = "end"

var (
	idPattern    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9-]*$`)
	langPattern  = regexp.MustCompile(`^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$`)
	phonePattern = regexp.MustCompile(`^\+[1-9][0-9]{7,14}$`)
	wordPattern  = regexp.MustCompile(`^[A-Za-z0-9]+$`)
	yamlLine     = regexp.MustCompile(`line (\d+): (.*)`)
)

var (
	surveyKeys      = []string{"id", "title", "language", "start", "intro", "consent", "thanks", "questions", "translations", "sms_emoji", "phrases", "follow_up"}
	startKeys       = []string{"keywords", "numbers"}
	questionKeys    = []string{"id", "ask", "simpler", "answer", "options", "min", "max", "max_seconds", "optional", "themes", "then"}
	optionKeys      = []string{"value", "say", "key", "words", "emoji"}
	translationKeys = []string{"name", "title", "intro", "consent", "thanks", "questions", "phrases"}
	trQuestionKeys  = []string{"ask", "simpler", "options"}
	trOptionKeys    = []string{"say", "words"}
)

// Twilio's default SMS keywords (any case, a single word).
var (
	optOutWords = []string{"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"}
	optInWords  = []string{"START", "UNSTOP"} // YES too, but only for someone who opted out
	helpWords   = []string{"HELP", "INFO"}
)

// carrierKeyword says which Twilio keyword family a word belongs to.
func carrierKeyword(word string) string {
	w := strings.ToUpper(strings.TrimSpace(word))
	for _, k := range optOutWords {
		if w == k {
			return "STOP"
		}
	}
	for _, k := range optInWords {
		if w == k {
			return "START"
		}
	}
	for _, k := range helpWords {
		if w == k {
			return "HELP"
		}
	}
	return ""
}

type parser struct {
	file  string
	diags Diagnostics
	lines map[string]int // where texts are, for lint: "intro", "q:<id>:ask", "tr:<lang>:intro"...
}

func (p *parser) at(key string, n *yaml.Node) {
	if p.lines == nil {
		p.lines = map[string]int{}
	}
	p.lines[key] = deref(n).Line
}

func (p *parser) errf(line int, format string, args ...any) {
	if line < 1 {
		line = 1
	}
	p.diags = append(p.diags, Diagnostic{File: p.file, Line: line, Severity: Error, Message: fmt.Sprintf(format, args...)})
}

func (p *parser) warnf(line int, format string, args ...any) {
	if line < 1 {
		line = 1
	}
	p.diags = append(p.diags, Diagnostic{File: p.file, Line: line, Severity: Warning, Message: fmt.Sprintf(format, args...)})
}

// Parse reads a survey definition. When the file has structural problems
// the error is a Diagnostics listing every one, each with file and line.
func Parse(filename string, data []byte) (*Survey, error) {
	s, diags := parse(filename, data)
	if errs := diags.Errors(); len(errs) > 0 {
		errs.sort()
		return nil, errs
	}
	return s, nil
}

// MustParse is Parse that panics on error: for surveys built into the binary.
func MustParse(filename string, data []byte) *Survey {
	s, err := Parse(filename, data)
	if err != nil {
		panic(err)
	}
	return s
}

func parse(filename string, data []byte) (s *Survey, diags Diagnostics) {
	p := &parser{file: filename}
	s = &Survey{File: filename, Line: 1}
	defer func() {
		if r := recover(); r != nil { // the YAML reader should never panic; if it does, say so kindly
			p.errf(1, "this file could not be read as YAML (%v)", r)
			s, diags = &Survey{File: filename, Line: 1}, p.diags
		}
	}()
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		line, msg := 1, strings.TrimPrefix(err.Error(), "yaml: ")
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			line, _ = strconv.Atoi(m[1])
			msg = m[2]
		}
		p.errf(line, "this line does not look right to the YAML reader: %s (check the spaces at the start of the line, colons and quotes)", msg)
		return s, p.diags
	}
	if len(root.Content) == 0 {
		p.errf(1, "the file is empty: a survey needs at least an id, a consent and some questions")
		return s, p.diags
	}
	doc := deref(root.Content[0])
	s.parsed = doc.Kind == yaml.MappingNode
	p.survey(s, doc)
	s.lines = p.lines
	if !p.diags.HasErrors() {
		s.compile()
	} else {
		// still index for lint, but never leave a half-built survey usable
		s.index = nil
	}
	return s, p.diags
}

func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 16; i++ {
		n = n.Alias
	}
	if n != nil && n.Kind == yaml.AliasNode {
		return &yaml.Node{Kind: yaml.ScalarNode, Line: n.Line}
	}
	return n
}

type pair struct{ k, v *yaml.Node }

// mapping returns a mapping's entries, reporting unknown and repeated keys.
func (p *parser) mapping(n *yaml.Node, what string, known []string) []pair {
	n = deref(n)
	if n == nil {
		return nil
	}
	if n.Kind != yaml.MappingNode {
		if n.Kind == yaml.ScalarNode && n.Value == "" && n.Tag == "!!null" {
			p.errf(n.Line, "%s is empty", what)
			return nil
		}
		p.errf(n.Line, "%s should be a list of \"name: value\" lines, not %s", what, describe(n))
		return nil
	}
	var out []pair
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), deref(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			p.errf(k.Line, "%s has a name that is not a word", what)
			continue
		}
		if prev, dup := seen[k.Value]; dup {
			p.errf(k.Line, "%s has %q twice (the first is on line %d)", what, k.Value, prev)
			continue
		}
		seen[k.Value] = k.Line
		if known != nil && !contains(known, k.Value) {
			p.errf(k.Line, "%s has an unknown key %q%s", what, k.Value, didYouMean(k.Value, known))
			continue
		}
		out = append(out, pair{k, v})
	}
	return out
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a group of \"name: value\" lines"
	}
	return fmt.Sprintf("%q", n.Value)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// str reads some words.
func (p *parser) str(n *yaml.Node, what string) string {
	n = deref(n)
	if n.Kind != yaml.ScalarNode {
		p.errf(n.Line, "%s should be some words, not %s", what, describe(n))
		return ""
	}
	if n.Tag == "!!null" {
		return ""
	}
	return strings.TrimSpace(n.Value)
}

// list reads a list of words; a single word is a list of one.
func (p *parser) list(n *yaml.Node, what string) []string {
	n = deref(n)
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Tag == "!!null" || strings.TrimSpace(n.Value) == "" {
			return nil
		}
		return []string{strings.TrimSpace(n.Value)}
	case yaml.SequenceNode:
		var out []string
		for _, c := range n.Content {
			c = deref(c)
			if c.Kind != yaml.ScalarNode {
				p.errf(c.Line, "%s should be a list of words, but one of them is %s", what, describe(c))
				continue
			}
			if v := strings.TrimSpace(c.Value); v != "" {
				out = append(out, v)
			}
		}
		return out
	}
	p.errf(n.Line, "%s should be a list of words, like [one, two]", what)
	return nil
}

func (p *parser) integer(n *yaml.Node, what string) *int {
	n = deref(n)
	if n.Kind == yaml.ScalarNode {
		if v, err := strconv.Atoi(strings.TrimSpace(n.Value)); err == nil && v > -1e9 && v < 1e9 {
			return &v
		}
	}
	p.errf(n.Line, "%s should be a whole number, like 1 or 10, not %s", what, describe(n))
	return nil
}

func (p *parser) boolean(n *yaml.Node, what string) bool {
	n = deref(n)
	if n.Kind == yaml.ScalarNode {
		switch strings.ToLower(strings.TrimSpace(n.Value)) {
		case "true", "yes", "on":
			return true
		case "false", "no", "off":
			return false
		}
	}
	p.errf(n.Line, "%s should be true or false, not %s", what, describe(n))
	return false
}

func (p *parser) survey(s *Survey, doc *yaml.Node) {
	s.Line = doc.Line
	var questionsNode, translationsNode *yaml.Node
	for _, e := range p.mapping(doc, "the survey", surveyKeys) {
		switch e.k.Value {
		case "id":
			s.ID = p.str(e.v, `the survey's "id"`)
			if s.ID != "" && !idPattern.MatchString(s.ID) {
				p.errf(e.v.Line, "the survey id %q can only have letters, digits and dashes (try %q)", s.ID, slug(s.ID))
			}
		case "title":
			s.Title = p.str(e.v, `"title"`)
			p.at("title", e.v)
		case "language":
			s.Language = p.str(e.v, `"language"`)
			if s.Language != "" && !langPattern.MatchString(s.Language) {
				p.errf(e.v.Line, "language %q is not a language code: use one like en-GB or cy", s.Language)
			}
		case "start":
			for _, se := range p.mapping(e.v, `"start"`, startKeys) {
				switch se.k.Value {
				case "keywords":
					for _, w := range p.list(se.v, `"keywords"`) {
						up := strings.ToUpper(w)
						switch {
						case !wordPattern.MatchString(w):
							p.errf(se.v.Line, "keyword %q should be one word of letters or digits, with no spaces", w)
						case carrierKeyword(up) != "":
							p.errf(se.v.Line, "keyword %q cannot start a survey: the phone network treats it as %s", up, carrierKeyword(up))
						case contains(s.Keywords, up):
							p.errf(se.v.Line, "keyword %q is listed twice", up)
						default:
							s.Keywords = append(s.Keywords, up)
						}
					}
				case "numbers":
					for _, num := range p.list(se.v, `"numbers"`) {
						clean := strings.NewReplacer(" ", "", "-", "", "(", "", ")", "").Replace(num)
						if !phonePattern.MatchString(clean) {
							p.errf(se.v.Line, "number %q should be a full phone number starting with + and the country code, like \"+447700900123\"", num)
							continue
						}
						s.Numbers = append(s.Numbers, clean)
					}
				}
			}
		case "intro":
			s.Intro = p.str(e.v, `"intro"`)
			p.at("intro", e.v)
		case "consent":
			s.Consent = p.str(e.v, `"consent"`)
			p.at("consent", e.v)
		case "thanks":
			s.Thanks = p.str(e.v, `"thanks"`)
			p.at("thanks", e.v)
		case "sms_emoji":
			s.SMSEmoji = p.boolean(e.v, `"sms_emoji"`)
		case "follow_up":
			s.FollowUp = p.boolean(e.v, `"follow_up"`)
		case "phrases":
			s.Phrases = p.phrases(e.v, `"phrases"`, "phrase:")
		case "questions":
			questionsNode = e.v
		case "translations":
			translationsNode = e.v
		}
	}
	if s.ID == "" {
		p.errf(doc.Line, `the survey needs an "id": a short name of letters, digits and dashes, like "short-breaks"`)
	}
	if s.Language == "" {
		s.Language = "en-GB"
	}
	if s.Consent == "" {
		p.errf(doc.Line, `the survey needs a "consent": tell people how their answers are kept, and ask if that is OK`)
	}
	if questionsNode == nil {
		p.errf(doc.Line, `the survey needs some "questions"`)
	} else {
		p.questions(s, questionsNode)
	}
	if translationsNode != nil {
		p.translations(s, translationsNode)
	}
	p.branches(s)
}

// phrases reads a `phrases:` map; at prefixes where each is in the file.
func (p *parser) phrases(n *yaml.Node, what, at string) map[string]string {
	out := map[string]string{}
	names := PhraseNames()
	for _, e := range p.mapping(n, what, nil) {
		if _, ok := DefaultPhrases[e.k.Value]; !ok {
			p.errf(e.k.Line, "%s has no phrase called %q%s", what, e.k.Value, didYouMean(e.k.Value, names))
			continue
		}
		out[e.k.Value] = p.str(e.v, fmt.Sprintf("phrase %q", e.k.Value))
		p.at(at+e.k.Value, e.v)
	}
	return out
}

func (p *parser) questions(s *Survey, n *yaml.Node) {
	n = deref(n)
	if n.Kind != yaml.SequenceNode {
		p.errf(n.Line, `"questions" should be a list, each question starting with "- id:"`)
		return
	}
	if len(n.Content) == 0 {
		p.errf(n.Line, `"questions" is empty: add at least one question`)
	}
	seen := map[string]int{}
	for i, qn := range n.Content {
		q := p.question(deref(qn), i+1)
		if q.ID != "" {
			if prev, dup := seen[q.ID]; dup {
				p.errf(q.Line, "there are two questions called %q (the other is on line %d)", q.ID, prev)
			}
			seen[q.ID] = q.Line
		}
		s.Questions = append(s.Questions, q)
	}
}

func (p *parser) question(n *yaml.Node, pos int) Question {
	q := Question{Line: n.Line}
	what := fmt.Sprintf("question %d", pos)
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k := deref(n.Content[i]); k.Value == "id" {
				if v := deref(n.Content[i+1]); v.Kind == yaml.ScalarNode && v.Value != "" {
					q.ID = strings.TrimSpace(v.Value)
					what = fmt.Sprintf("question %q", q.ID)
				}
			}
		}
	}
	var optionsNode, thenNode *yaml.Node
	answerLine, answerGiven := n.Line, false
	for _, e := range p.mapping(n, what, questionKeys) {
		switch e.k.Value {
		case "id":
			q.ID = p.str(e.v, what+`'s "id"`)
			if q.ID != "" && !idPattern.MatchString(q.ID) {
				p.errf(e.v.Line, "question id %q can only have letters, digits and dashes (try %q)", q.ID, slug(q.ID))
			}
			if q.ID == EndTarget {
				p.errf(e.v.Line, `a question cannot be called "end": that word means "go to the thanks" in "then"`)
			}
		case "ask":
			q.Ask = p.str(e.v, what+`'s "ask"`)
			p.at("q:"+q.ID+":ask", e.v)
		case "simpler":
			q.Simpler = p.str(e.v, what+`'s "simpler"`)
			p.at("q:"+q.ID+":simpler", e.v)
		case "answer":
			a := p.str(e.v, what+`'s "answer"`)
			answerLine, answerGiven = e.v.Line, true
			q.Answer = AnswerType(strings.ToLower(a))
			if !contains(answerNames(), string(q.Answer)) {
				p.errf(e.v.Line, "%s has answer %q, but it must be one of: choice, yesno, scale, number, words%s", what, a, didYouMean(strings.ToLower(a), answerNames()))
				q.Answer = ""
			}
		case "options":
			optionsNode = e.v
		case "min":
			q.Min = p.integer(e.v, what+`'s "min"`)
		case "max":
			q.Max = p.integer(e.v, what+`'s "max"`)
		case "max_seconds":
			if v := p.integer(e.v, what+`'s "max_seconds"`); v != nil {
				q.MaxSeconds = *v
				p.at("q:"+q.ID+":max_seconds", e.v)
				if *v < 5 || *v > 600 {
					p.errf(e.v.Line, `%s has max_seconds %d: give a number of seconds from 5 to 600`, what, *v)
				}
			}
		case "optional":
			q.Optional = p.boolean(e.v, what+`'s "optional"`)
		case "themes":
			q.Themes = p.list(e.v, what+`'s "themes"`)
			p.at("q:"+q.ID+":themes", e.v)
		case "then":
			thenNode = e.v
		}
	}
	if q.ID == "" {
		p.errf(n.Line, `%s needs an "id": a short name of letters, digits and dashes, like "staff"`, what)
	}
	if q.Ask == "" {
		p.errf(n.Line, `%s has no "ask": write the question people will hear and read`, what)
	}
	if q.Answer == "" && optionsNode != nil {
		q.Answer = Choice
	}
	if q.Answer == "" && n.Kind == yaml.MappingNode && !answerGiven {
		p.errf(answerLine, `%s needs an "answer": choice, yesno, scale, number or words`, what)
	}
	if optionsNode != nil {
		if q.Answer != Choice && q.Answer != YesNo && q.Answer != "" {
			p.errf(deref(optionsNode).Line, `%s is a %s question, so it cannot have "options" (only choice and yesno questions do)`, what, q.Answer)
		} else {
			q.Options = p.options(optionsNode, what)
		}
	}
	switch q.Answer {
	case Choice:
		if optionsNode != nil && len(q.Options) < 2 {
			p.errf(deref(optionsNode).Line, `%s needs at least 2 options`, what)
		} else if optionsNode == nil {
			p.errf(n.Line, `%s is a choice question, so it needs "options"`, what)
		}
	case YesNo:
		if len(q.Options) > 0 {
			yes, no := false, false
			for _, o := range q.Options {
				yes = yes || o.Value == "yes"
				no = no || o.Value == "no"
			}
			if !yes || !no || len(q.Options) != 2 {
				p.errf(deref(optionsNode).Line, `%s is a yesno question: its options must be exactly one with value "yes" and one with value "no" (or leave "options" out)`, what)
			}
		}
	}
	if (q.Min != nil || q.Max != nil) && q.Answer != Scale && q.Answer != Number && q.Answer != "" {
		p.errf(n.Line, `%s is a %s question, so it cannot have "min" or "max" (only scale and number questions do)`, what, q.Answer)
	}
	if q.Min != nil && q.Max != nil && *q.Min >= *q.Max {
		p.errf(n.Line, `%s has min %d and max %d: min must be smaller than max`, what, *q.Min, *q.Max)
	}
	if q.Answer == Scale {
		lo, hi, _, _ := q.Range()
		if lo < 0 || hi > 10 || lo >= hi {
			p.errf(n.Line, `%s is a scale from %d to %d: a scale goes from 0 or more up to 10 at most`, what, lo, hi)
		}
	}
	if q.MaxSeconds != 0 && q.Answer != Words && q.Answer != "" {
		p.errf(n.Line, `%s is a %s question, so it cannot have "max_seconds" (only words questions are recorded)`, what, q.Answer)
	}
	if q.Answer == Words && q.MaxSeconds == 0 {
		q.MaxSeconds = 60
	}
	if thenNode != nil {
		q.Then = map[string]string{}
		for _, e := range p.mapping(thenNode, what+`'s "then"`, nil) {
			to := p.str(e.v, what+`'s "then"`)
			q.Then[e.k.Value] = to
			if q.thenLines == nil {
				q.thenLines = map[string]int{}
			}
			q.thenLines[e.k.Value] = e.k.Line
		}
	}
	return q
}

func answerNames() []string {
	out := make([]string, len(AnswerTypes))
	for i, a := range AnswerTypes {
		out[i] = string(a)
	}
	return out
}

// slug makes an id from words: "A bit" -> "a-bit".
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
		} else {
			dash = true
		}
	}
	return b.String()
}

func (p *parser) options(n *yaml.Node, qwhat string) []Option {
	n = deref(n)
	if n.Kind != yaml.SequenceNode {
		p.errf(n.Line, `%s's "options" should be a list, each option starting with "-"`, qwhat)
		return nil
	}
	var opts []Option
	keyLine := map[string]int{}
	valueLine := map[string]int{}
	for i, on := range n.Content {
		on = deref(on)
		o := Option{Line: on.Line}
		what := fmt.Sprintf("option %d of %s", i+1, qwhat)
		if on.Kind == yaml.ScalarNode {
			// short form: "- A bit"
			o.Say = strings.TrimSpace(on.Value)
			o.Value = slug(o.Say)
		} else {
			for j := 0; on.Kind == yaml.MappingNode && j+1 < len(on.Content); j += 2 {
				if k, v := deref(on.Content[j]), deref(on.Content[j+1]); k.Value == "value" && v.Kind == yaml.ScalarNode && v.Value != "" {
					what = fmt.Sprintf("option %q of %s", strings.TrimSpace(v.Value), qwhat)
				}
			}
			for _, e := range p.mapping(on, what, optionKeys) {
				switch e.k.Value {
				case "value":
					o.Value = p.str(e.v, what+`'s "value"`)
				case "say":
					o.Say = p.str(e.v, what+`'s "say"`)
				case "key":
					o.Key = p.str(e.v, what+`'s "key"`)
					if o.Key != "" && (len(o.Key) != 1 || o.Key[0] < '1' || o.Key[0] > '9') {
						p.errf(e.v.Line, `%s has key %q, but keys must be 1 to 9 (0, * and # are kept for help, repeat and skip)`, what, o.Key)
						o.Key = ""
					}
				case "words":
					o.Words = p.list(e.v, what+`'s "words"`)
				case "emoji":
					o.Emoji = p.list(e.v, what+`'s "emoji"`)
					for _, em := range o.Emoji {
						if normEmoji(em) == "" {
							p.errf(e.v.Line, `%s has %q in "emoji", but that is not an emoji`, what, em)
						}
					}
				}
			}
		}
		if o.Value == "" {
			o.Value = slug(o.Say)
		}
		if o.Value == "" {
			p.errf(on.Line, `%s needs a "value" (the short name stored for it) or a "say"`, what)
			continue
		}
		if o.Say == "" {
			o.Say = strings.ToUpper(o.Value[:1]) + strings.ReplaceAll(o.Value[1:], "-", " ")
		}
		if o.Value == ElseKey {
			p.errf(on.Line, `%s cannot have the value "else": that word means "any other answer" in "then"`, what)
		}
		if prev, dup := valueLine[o.Value]; dup {
			p.errf(on.Line, `%s has two options with the value %q (the other is on line %d)`, qwhat, o.Value, prev)
		}
		valueLine[o.Value] = on.Line
		if o.Key != "" {
			if prev, dup := keyLine[o.Key]; dup {
				p.errf(on.Line, `%s has two options with key %s (the other is on line %d)`, qwhat, o.Key, prev)
			}
			keyLine[o.Key] = on.Line
		}
		opts = append(opts, o)
	}
	if len(opts) > 9 {
		p.errf(n.Line, `%s has %d options, but there are only 9 keys: use 9 options or fewer (3 is best)`, qwhat, len(opts))
		return opts
	}
	// options with no key get the lowest free key, in order
	next := 1
	for i := range opts {
		if opts[i].Key != "" {
			continue
		}
		for next <= 9 && keyLine[strconv.Itoa(next)] != 0 {
			next++
		}
		if next <= 9 {
			opts[i].Key = strconv.Itoa(next)
			keyLine[opts[i].Key] = opts[i].Line
		}
	}
	return opts
}

func (p *parser) translations(s *Survey, n *yaml.Node) {
	s.Translations = map[string]Translation{}
	for _, e := range p.mapping(n, `"translations"`, nil) {
		lang := e.k.Value
		what := fmt.Sprintf("translation %q", lang)
		if !langPattern.MatchString(lang) {
			p.errf(e.k.Line, "translation %q is not a language code: use one like cy or pl", lang)
			continue
		}
		if strings.EqualFold(lang, s.Language) {
			p.errf(e.k.Line, "translation %q is the survey's own language: translations are for other languages", lang)
			continue
		}
		t := Translation{Line: e.k.Line, Questions: map[string]QuestionTranslation{}}
		for _, te := range p.mapping(e.v, what, translationKeys) {
			switch te.k.Value {
			case "name":
				t.Name = p.str(te.v, what+`'s "name"`)
			case "title":
				t.Title = p.str(te.v, what+`'s "title"`)
				p.at("tr:"+lang+":title", te.v)
			case "intro":
				t.Intro = p.str(te.v, what+`'s "intro"`)
				p.at("tr:"+lang+":intro", te.v)
			case "consent":
				t.Consent = p.str(te.v, what+`'s "consent"`)
				p.at("tr:"+lang+":consent", te.v)
			case "thanks":
				t.Thanks = p.str(te.v, what+`'s "thanks"`)
				p.at("tr:"+lang+":thanks", te.v)
			case "phrases":
				t.Phrases = p.phrases(te.v, what+`'s "phrases"`, "tr:"+lang+":phrase:")
			case "questions":
				for _, qe := range p.mapping(te.v, what+`'s "questions"`, nil) {
					q := s.Question(qe.k.Value)
					if q == nil {
						p.errf(qe.k.Line, "%s has words for question %q, but there is no question %q%s", what, qe.k.Value, qe.k.Value, didYouMean(qe.k.Value, questionIDs(s)))
						continue
					}
					qwhat := fmt.Sprintf("%s of question %q", what, q.ID)
					qt := QuestionTranslation{Line: qe.k.Line}
					for _, f := range p.mapping(qe.v, qwhat, trQuestionKeys) {
						switch f.k.Value {
						case "ask":
							qt.Ask = p.str(f.v, qwhat+`'s "ask"`)
							p.at("tr:"+lang+":q:"+q.ID+":ask", f.v)
						case "simpler":
							qt.Simpler = p.str(f.v, qwhat+`'s "simpler"`)
							p.at("tr:"+lang+":q:"+q.ID+":simpler", f.v)
						case "options":
							qt.Options = map[string]OptionTranslation{}
							var values []string
							for _, o := range q.options() {
								values = append(values, o.Value)
							}
							for _, oe := range p.mapping(f.v, qwhat+`'s "options"`, nil) {
								if !contains(values, oe.k.Value) {
									p.errf(oe.k.Line, "%s has words for option %q, but question %q has no option %q%s", what, oe.k.Value, q.ID, oe.k.Value, didYouMean(oe.k.Value, values))
									continue
								}
								ot := OptionTranslation{Line: oe.k.Line}
								owhat := fmt.Sprintf("%s option %q", qwhat, oe.k.Value)
								if v := deref(oe.v); v.Kind == yaml.ScalarNode {
									ot.Say = p.str(v, owhat)
								} else {
									for _, g := range p.mapping(oe.v, owhat, trOptionKeys) {
										switch g.k.Value {
										case "say":
											ot.Say = p.str(g.v, owhat+`'s "say"`)
										case "words":
											ot.Words = p.list(g.v, owhat+`'s "words"`)
										}
									}
								}
								qt.Options[oe.k.Value] = ot
							}
						}
					}
					t.Questions[q.ID] = qt
				}
			}
		}
		s.Translations[lang] = t
	}
}

func questionIDs(s *Survey) []string {
	out := make([]string, 0, len(s.Questions))
	for _, q := range s.Questions {
		if q.ID != "" {
			out = append(out, q.ID)
		}
	}
	return out
}

// answerValues lists what a `then` may name for q.
func answerValues(q *Question) []string {
	var out []string
	switch q.Answer {
	case Choice, YesNo:
		for _, o := range q.options() {
			out = append(out, o.Value)
		}
	case Scale:
		lo, hi, _, _ := q.Range()
		for v := lo; v <= hi && v-lo < 20; v++ {
			out = append(out, strconv.Itoa(v))
		}
	}
	return out
}

func (p *parser) branches(s *Survey) {
	ids := questionIDs(s)
	idx := map[string]int{}
	for i, q := range s.Questions {
		if _, dup := idx[q.ID]; !dup {
			idx[q.ID] = i
		}
	}
	for i := range s.Questions {
		q := &s.Questions[i]
		keys := make([]string, 0, len(q.Then))
		for k := range q.Then {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(a, b int) bool { return q.thenLines[keys[a]] < q.thenLines[keys[b]] })
		values := answerValues(q)
		for _, k := range keys {
			to, line := q.Then[k], q.thenLines[k]
			switch {
			case to == "":
				p.errf(line, "question %q sends %q nowhere: name a question, or \"end\"", q.ID, k)
			case to != EndTarget && !hasKey(idx, to):
				p.errf(line, "question %q sends %q to %q, but there is no question %q%s", q.ID, k, to, to, didYouMean(to, append(ids, EndTarget)))
			}
			if k == ElseKey {
				continue
			}
			switch q.Answer {
			case Number:
				if _, err := strconv.Atoi(k); err != nil {
					p.errf(line, "question %q sends %q to %q, but its answers are numbers", q.ID, k, to)
				} else if lo, hi, hasLo, hasHi := q.Range(); (hasLo && atoi(k) < lo) || (hasHi && atoi(k) > hi) {
					p.errf(line, "question %q sends %q to %q, but %s is not one of its answers", q.ID, k, to, k)
				}
			case Words:
				p.errf(line, "question %q sends %q to %q, but a words question can only use \"else\" in \"then\"", q.ID, k, to)
			case "":
			default:
				if !contains(values, k) {
					p.errf(line, "question %q sends %q to %q, but %q is not one of its answers (%s)%s", q.ID, k, to, k, strings.Join(values, ", "), didYouMean(k, values))
				}
			}
		}
	}
	// cycles: default moves only go forward, so every circle has a `then`
	// that goes back (or to itself); report that one.
	if p.diags.HasErrors() {
		return
	}
	g := graph(s)
	for i := range s.Questions {
		q := &s.Questions[i]
		for _, k := range sortedThen(q) {
			to := q.Then[k]
			j, ok := idx[to]
			if !ok || j > i {
				continue
			}
			if j == i {
				p.errf(q.thenLines[k], "question %q sends %q back to itself: people would hear it again and again", q.ID, k)
				continue
			}
			if reach(g, j)[i] {
				p.errf(q.thenLines[k], "question %q sends %q back to %q, which leads to %q again: people could go round in a circle and never finish", q.ID, k, to, q.ID)
			}
		}
	}
}

func atoi(s string) int { v, _ := strconv.Atoi(s); return v }

func sortedThen(q *Question) []string {
	keys := make([]string, 0, len(q.Then))
	for k := range q.Then {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(a, b int) bool {
		if q.thenLines[keys[a]] != q.thenLines[keys[b]] {
			return q.thenLines[keys[a]] < q.thenLines[keys[b]]
		}
		return keys[a] < keys[b]
	})
	return keys
}

// graph returns, for each question index, the indexes it can lead to
// (len(Questions) means the end).
func graph(s *Survey) [][]int {
	idx := map[string]int{}
	for i, q := range s.Questions {
		if _, dup := idx[q.ID]; !dup {
			idx[q.ID] = i
		}
	}
	fu := followUps(s)
	g := make([][]int, len(s.Questions))
	for i := range s.Questions {
		q := &s.Questions[i]
		for _, to := range q.Then {
			if to == EndTarget {
				g[i] = append(g[i], len(s.Questions))
			} else if j, ok := idx[to]; ok {
				g[i] = append(g[i], j)
			}
		}
		if _, ok := q.Then[ElseKey]; !ok {
			g[i] = append(g[i], nextInOrder(s, i, fu))
		}
	}
	return g
}

// nextInOrder is the next question after index i that is not a follow-up
// (len(Questions) for the end).
func nextInOrder(s *Survey, i int, fu map[string]bool) int {
	for j := i + 1; j < len(s.Questions); j++ {
		if !fu[s.Questions[j].ID] {
			return j
		}
	}
	return len(s.Questions)
}

func reach(g [][]int, from int) map[int]bool {
	seen := map[int]bool{}
	stack := []int{from}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[n] || n >= len(g) {
			seen[n] = true
			continue
		}
		seen[n] = true
		stack = append(stack, g[n]...)
	}
	return seen
}

func hasKey(m map[string]int, k string) bool { _, ok := m[k]; return ok }
