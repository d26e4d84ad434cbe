package survey

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Match reads a member's answer to q: SMS text, keypad digits, or a speech
// result. It returns the option value (choice, yesno), the number as a
// decimal (scale, number) or the text itself (words), and how it was
// understood (via: "digits", "words", "typo", "emoji", "text").
// ambiguous is true when the input fits two or more options: it is then
// asked again, never guessed. Match never panics.
func Match(q *Question, input string) (value string, via string, ok bool, ambiguous bool) {
	if q == nil {
		return "", "", false, false
	}
	m := q.m
	if m == nil {
		m = compileMatcher(q)
	}
	return m.match(input)
}

type phrase struct {
	toks  []string
	opt   int
	runes []rune // the words joined, for typo checks
}

func newPhrase(toks []string, opt int) phrase {
	return phrase{toks: toks, opt: opt, runes: []rune(strings.Join(toks, " "))}
}

type matcher struct {
	kind     AnswerType
	opts     []Option
	keys     map[string]int // key -> option index
	explicit []phrase       // value, say, words and their plurals
	raw      []phrase       // phrases made only of filler words: matched unfiltered
	synonyms []phrase       // yes/no synonyms, where no option claims the word
	emoji    [][]string     // normalized, per option
	isNo     []bool         // option means "no": a "no" before it is not a negation
	lo, hi   int
	hasLo    bool
	hasHi    bool
}

var yesSynonyms = []string{"yes", "yeah", "yea", "yeh", "yep", "yup", "ya", "y", "sure", "ok", "okay", "aye", "correct", "definitely", "absolutely", "of course", "certainly", "mhm", "yes please", "alright", "all right"}
var noSynonyms = []string{"no", "nah", "nope", "naw", "n", "not really", "not at all", "never", "no way"}

func compileMatcher(q *Question) *matcher {
	m := &matcher{kind: q.Answer}
	switch q.Answer {
	case Scale, Number:
		m.lo, m.hi, m.hasLo, m.hasHi = q.Range()
		return m
	case Words:
		return m
	}
	m.opts = q.options()
	m.keys = make(map[string]int, len(m.opts))
	claimed := map[string]bool{}
	add := func(text string, opt int) {
		toks := tokens(text, true)
		if len(toks) == 0 {
			if rt := tokens(text, false); len(rt) > 0 {
				m.raw = append(m.raw, newPhrase(rt, opt))
			}
			return
		}
		claimed[strings.Join(toks, " ")] = true
		for _, v := range plurals(toks) {
			m.explicit = append(m.explicit, newPhrase(v, opt))
		}
	}
	m.emoji = make([][]string, len(m.opts))
	m.isNo = make([]bool, len(m.opts))
	for i, o := range m.opts {
		if o.Key != "" {
			m.keys[o.Key] = i
		}
		m.isNo[i] = yesOrNo(o) == "no"
		add(o.Value, i)
		add(o.Say, i)
		for _, w := range o.Words {
			add(w, i)
		}
		for _, e := range o.Emoji {
			if n := normEmoji(e); n != "" {
				m.emoji[i] = append(m.emoji[i], n)
			}
		}
	}
	// yes/no synonyms apply to options meaning yes or no, unless an
	// option claims the word for itself ("ok" may mean "A bit").
	for i, o := range m.opts {
		var syn []string
		switch yesOrNo(o) {
		case "yes":
			syn = yesSynonyms
		case "no":
			syn = noSynonyms
		default:
			continue
		}
		for _, w := range syn {
			toks := tokens(w, true)
			if len(toks) == 0 || claimed[strings.Join(toks, " ")] {
				continue
			}
			m.synonyms = append(m.synonyms, newPhrase(toks, i))
		}
	}
	return m
}

// yesOrNo says whether an option means yes or no.
func yesOrNo(o Option) string {
	for _, s := range []string{o.Value, o.Say} {
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "yes", "y":
			return "yes"
		case "no", "n":
			return "no"
		}
	}
	return ""
}

// plurals returns toks and the forms with the last word made plural.
func plurals(toks []string) [][]string {
	out := [][]string{toks}
	last := toks[len(toks)-1]
	if utf8.RuneCountInString(last) < 2 || isDigits(last) {
		return out
	}
	forms := []string{last + "s", last + "es"}
	if strings.HasSuffix(last, "y") && len(last) > 2 {
		forms = append(forms, last[:len(last)-1]+"ies")
	}
	for _, f := range forms {
		v := append(append([]string(nil), toks[:len(toks)-1]...), f)
		out = append(out, v)
	}
	return out
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if (s[i] < '0' || s[i] > '9') && !(i == 0 && s[i] == '-' && len(s) > 1) {
			return false
		}
	}
	return true
}

// fillers are words people add around an answer, mostly in speech.
var fillers = map[string]bool{
	"um": true, "umm": true, "uhm": true, "uh": true, "uhh": true, "er": true, "erm": true,
	"err": true, "ah": true, "ahh": true, "hmm": true, "hm": true, "mm": true, "mmm": true,
	"oh": true, "please": true, "pls": true, "plz": true, "well": true, "so": true,
	"thanks": true, "thank": true, "you": true, "ta": true, "i": true, "id": true,
	"im": true, "its": true, "it": true, "is": true, "the": true, "a": true, "an": true,
	"think": true, "say": true, "would": true, "number": true, "option": true,
	"choice": true, "press": true, "pressed": true, "answer": true, "about": true,
	"just": true, "my": true, "ill": true, "go": true, "with": true, "pick": true,
	"choose": true,
}

var negators = map[string]bool{
	"not": true, "never": true, "dont": true, "didnt": true, "doesnt": true,
	"isnt": true, "wasnt": true, "arent": true, "werent": true, "cant": true,
	"cannot": true, "couldnt": true, "wont": true, "wouldnt": true, "hardly": true,
	"no": true, "aint": true,
}

// tokens lower-cases text, drops punctuation and emoji, and splits it into
// words. With filter, filler words are removed.
func tokens(text string, filter bool) []string {
	if len(text) > 4096 {
		text = text[:4096]
	}
	var out []string
	var cur []rune
	flush := func() {
		if len(cur) == 0 {
			return
		}
		w := string(cur)
		cur = cur[:0]
		// 1st, 2nd, 3rd, 4th
		if len(w) > 2 && isDigits(w[:len(w)-2]) {
			switch w[len(w)-2:] {
			case "st", "nd", "rd", "th":
				w = w[:len(w)-2]
			}
		}
		if filter && fillers[w] {
			return
		}
		out = append(out, w)
	}
	runes := []rune(text)
	for i, r := range runes {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || (unicode.IsMark(r) && len(cur) > 0):
			cur = append(cur, unicode.ToLower(r))
		case r == '\'' || r == '’' || r == '`':
			// don't -> dont
		case r == ',' && len(cur) > 0 && isDigitRune(cur[len(cur)-1]) && i+1 < len(runes) && isDigitRune(runes[i+1]):
			// 1,000 -> 1000
		case r == '-' && len(cur) == 0 && i+1 < len(runes) && isDigitRune(runes[i+1]) && (i == 0 || unicode.IsSpace(runes[i-1])):
			cur = append(cur, r)
		default:
			flush()
		}
	}
	flush()
	return out
}

func isDigitRune(r rune) bool { return r >= '0' && r <= '9' }

// normEmoji drops skin tones and variation selectors and keeps only the
// emoji (and other symbols) of s, so 👍🏽 matches 👍 and ☺️ matches ☺.
func normEmoji(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == 0xFE0E || r == 0xFE0F:
		case r >= 0x1F3FB && r <= 0x1F3FF:
		case r == 0x200D || isEmojiRune(r):
			b.WriteRune(r)
		}
	}
	return strings.Trim(b.String(), "\u200d")
}

func isEmojiRune(r rune) bool {
	switch {
	case r >= 0x1F000 && r <= 0x1FAFF:
		return true
	case r >= 0x2600 && r <= 0x27BF: // misc symbols, dingbats (☺ ✅ ❌ ✔)
		return true
	case r >= 0x2190 && r <= 0x21FF, r >= 0x2B00 && r <= 0x2BFF, r >= 0x2300 && r <= 0x23FF:
		return true
	case r == 0x00A9 || r == 0x00AE || r == 0x203C || r == 0x2049 || r == 0x2122 || r == 0x2139 || r == 0x3030 || r == 0x303D:
		return true
	}
	return false
}

var emoticons = strings.NewReplacer(":-)", "🙂", ":)", "🙂", ":-(", "🙁", ":(", "🙁", ":D", "😀", ":-D", "😀", "<3", "❤")

func (m *matcher) match(input string) (string, string, bool, bool) {
	if m.kind == Words {
		if strings.TrimSpace(input) == "" {
			return "", "", false, false
		}
		return input, "text", true, false
	}
	if m.kind == Scale || m.kind == Number {
		return m.matchNumber(tokens(strings.ReplaceAll(input, "/", " of "), true))
	}
	toks := tokens(input, true)
	nopts := len(m.opts)
	if nopts == 0 {
		return "", "", false, false
	}
	// emoji
	var emojiSet uint64
	if em := normEmoji(emoticons.Replace(input)); em != "" {
		for i, list := range m.emoji {
			for _, e := range list {
				if strings.Contains(em, e) {
					emojiSet |= 1 << uint(i%64)
					break
				}
			}
		}
	}
	// explicit words
	wordSet, covered, negated := m.spans(toks, m.explicit)
	if len(m.raw) > 0 {
		rs, _, rn := m.spans(tokens(input, false), m.raw)
		wordSet |= rs
		negated = negated || rn
	}
	// digits and number words (not those inside an option's words)
	var digitSet uint64
	numVia := "digits"
	badNumber := false
	for _, n := range findNumbers(toks) {
		if overlaps(covered, n.start, n.end) {
			continue
		}
		if i, ok := m.keys[strconv.Itoa(n.val)]; ok && n.val >= 0 {
			digitSet |= 1 << uint(i%64)
			if !n.digits {
				numVia = "words"
			}
		} else {
			badNumber = true
		}
	}
	if len(toks) == 1 && digitSet == 0 && wordSet == 0 {
		if n, ok := homophones[toks[0]]; ok {
			if i, ok := m.keys[strconv.Itoa(n)]; ok {
				digitSet |= 1 << uint(i%64)
				numVia = "words"
			}
		}
	}
	all := emojiSet | wordSet | digitSet
	if all == 0 && !badNumber && !negated {
		syn, _, sneg := m.spans(toks, m.synonyms)
		if sneg {
			negated = true
		}
		if syn != 0 {
			wordSet = syn
			all = syn
		}
	}
	if all == 0 {
		if badNumber || negated {
			return "", "", false, false
		}
		set := m.typos(toks)
		if set == 0 {
			return "", "", false, false
		}
		if set&(set-1) != 0 {
			return "", "", false, true
		}
		return m.opts[bitIndex(set)].Value, "typo", true, false
	}
	if all&(all-1) != 0 {
		return "", "", false, true
	}
	via := "emoji"
	switch {
	case digitSet != 0:
		via = numVia
	case wordSet != 0:
		via = "words"
	}
	return m.opts[bitIndex(all)].Value, via, true, false
}

func bitIndex(set uint64) int {
	for i := 0; i < 64; i++ {
		if set&(1<<uint(i)) != 0 {
			return i
		}
	}
	return 0
}

type span struct{ start, end, opt int }

// spans finds where phrases occur in toks. Shorter matches inside longer
// ones are dropped ("good" inside "not good"); a match right after a
// negating word ("not happy") is dropped and reported as negated.
func (m *matcher) spans(toks []string, phrases []phrase) (set uint64, covered []span, negated bool) {
	if len(toks) == 0 {
		return 0, nil, false
	}
	var found []span
	for _, p := range phrases {
		n := len(p.toks)
		for s := 0; s+n <= len(toks); s++ {
			if equalToks(toks[s:s+n], p.toks) {
				found = append(found, span{s, s + n, p.opt})
			}
		}
	}
	for i, a := range found {
		inside := false
		for j, b := range found {
			if i != j && b.start <= a.start && a.end <= b.end && (b.end-b.start) > (a.end-a.start) {
				inside = true
				break
			}
		}
		if inside {
			continue
		}
		covered = append(covered, a)
		neg := false
		for k := a.start - 1; k >= 0 && k >= a.start-2 && !m.isNo[a.opt]; k-- {
			if negators[toks[k]] {
				neg = true
			}
		}
		if neg {
			negated = true
			continue
		}
		set |= 1 << uint(a.opt%64)
	}
	return set, covered, negated
}

func equalToks(a, b []string) bool {
	for i := range b {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func overlaps(spans []span, start, end int) bool {
	for _, s := range spans {
		if start < s.end && s.start < end {
			return true
		}
	}
	return false
}

// typos forgives one slip (a wrong, missing, extra or swapped letter) in
// words of four letters or more.
func (m *matcher) typos(toks []string) uint64 {
	var set uint64
	if len(toks) == 0 || len(toks) > 8 {
		return 0
	}
	joined := []rune(strings.Join(toks, " "))
	trs := make([][]rune, len(toks))
	for i, t := range toks {
		trs[i] = []rune(t)
	}
	check := func(list []phrase) {
		for _, p := range list {
			pr := p.runes
			if len(p.toks) == 1 {
				if len(pr) < 4 || isDigits(p.toks[0]) {
					continue
				}
				for _, tr := range trs {
					if len(tr) >= 4 && abs(len(tr)-len(pr)) <= 1 && osa(tr, pr) == 1 {
						set |= 1 << uint(p.opt%64)
					}
				}
				continue
			}
			if len(pr) >= 4 && abs(len(pr)-len(joined)) <= 1 && osa(joined, pr) == 1 {
				set |= 1 << uint(p.opt%64)
			}
		}
	}
	check(m.explicit)
	if set == 0 {
		check(m.synonyms)
	}
	return set
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func (m *matcher) matchNumber(toks []string) (string, string, bool, bool) {
	nums := findNumbers(toks)
	// "4 out of 5", "4 of 5": the scale's top is not an answer
	if len(nums) == 2 && nums[1].start >= 1 && toks[nums[1].start-1] == "of" {
		nums = nums[:1]
	}
	if len(nums) == 0 && len(toks) == 1 {
		if n, ok := homophones[toks[0]]; ok {
			nums = []number{{val: n, start: 0, end: 1}}
		}
	}
	if len(nums) == 0 {
		return "", "", false, false
	}
	v := nums[0]
	for _, n := range nums[1:] {
		if n.val != v.val {
			return "", "", false, true
		}
	}
	if (m.hasLo && v.val < m.lo) || (m.hasHi && v.val > m.hi) {
		return "", "", false, false
	}
	via := "digits"
	if !v.digits {
		via = "words"
	}
	return strconv.Itoa(v.val), via, true, false
}

type number struct {
	val        int
	start, end int
	digits     bool
}

var homophones = map[string]int{"won": 1, "to": 2, "too": 2, "for": 4, "fore": 4, "ate": 8}

type numWord struct {
	val  int
	kind int // 1 unit/teen, 2 ten, 3 hundred
}

var numberWords = map[string]numWord{
	"zero": {0, 1}, "nought": {0, 1}, "none": {0, 1}, "once": {1, 1}, "twice": {2, 1},
	"one": {1, 1}, "two": {2, 1}, "three": {3, 1}, "four": {4, 1}, "five": {5, 1},
	"six": {6, 1}, "seven": {7, 1}, "eight": {8, 1}, "nine": {9, 1}, "ten": {10, 1},
	"eleven": {11, 1}, "twelve": {12, 1}, "thirteen": {13, 1}, "fourteen": {14, 1},
	"fifteen": {15, 1}, "sixteen": {16, 1}, "seventeen": {17, 1}, "eighteen": {18, 1},
	"nineteen": {19, 1}, "twenty": {20, 2}, "thirty": {30, 2}, "forty": {40, 2},
	"fifty": {50, 2}, "sixty": {60, 2}, "seventy": {70, 2}, "eighty": {80, 2},
	"ninety": {90, 2}, "hundred": {100, 3},
}

// findNumbers finds numbers written as digits or words ("twenty one").
func findNumbers(toks []string) []number {
	var out []number
	for i := 0; i < len(toks); {
		t := toks[i]
		if isDigits(t) {
			if len(t) <= 9 {
				if v, err := strconv.Atoi(t); err == nil {
					out = append(out, number{v, i, i + 1, true})
				}
			}
			i++
			continue
		}
		if _, ok := numberWords[t]; !ok {
			i++
			continue
		}
		start, val, last := i, 0, 0
		for i < len(toks) {
			w, ok := numberWords[toks[i]]
			if !ok {
				if toks[i] == "and" && val > 0 && i+1 < len(toks) {
					if nw, ok := numberWords[toks[i+1]]; ok && nw.kind != 3 {
						i++
						continue
					}
				}
				break
			}
			if (w.kind == 1 && last == 1) || (w.kind == 2 && last != 0 && last != 3) || (w.kind == 3 && last == 3) {
				break
			}
			if w.kind == 3 {
				if val == 0 {
					val = 1
				}
				val *= 100
			} else {
				val += w.val
			}
			last = w.kind
			i++
		}
		out = append(out, number{val, start, i, false})
	}
	return out
}
