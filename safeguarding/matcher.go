// Package safeguarding spots words that may mean a member is at risk: a
// shipped list of risk phrases (DefaultPhrases) and any a charity adds,
// matched as whole words in what members text, say and record. It is
// pure: no I/O beyond reading a phrase file the caller names.
package safeguarding

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"unicode"
)

// Matcher finds risk phrases in text. Build one with New; it is safe for
// concurrent use and does no allocation-heavy work per call beyond
// splitting the text into words.
type Matcher struct {
	// byWord holds the phrases whose first word is whole, by that word.
	byWord map[string][]phrase
	// byStem holds phrases whose first word is a stem ("abus*"), by the
	// stem's first three letters.
	byStem map[string][]phrase
	count  int
}

// phrase is one risk phrase, split into words. A word ending in '*' is a
// stem that matches any word starting with it.
type phrase struct {
	id    string // the phrase as listed, normalised: kept with a worry
	words []string
}

// minStem is the shortest stem a '*' may end: shorter ones ("ab*") would
// match far too much.
const minStem = 3

// New builds a matcher from the default phrases and extra ones (a
// charity's own, from ReadPhrases). It returns an error naming a phrase
// that cannot be used.
func New(extra []string) (*Matcher, error) {
	m := &Matcher{byWord: map[string][]phrase{}, byStem: map[string][]phrase{}}
	seen := map[string]bool{}
	for _, list := range [][]string{DefaultPhrases, extra} {
		for _, raw := range list {
			p, err := parse(raw)
			if err != nil {
				return nil, err
			}
			if seen[p.id] {
				continue
			}
			seen[p.id] = true
			first := p.words[0]
			if stem, ok := strings.CutSuffix(first, "*"); ok {
				m.byStem[stem[:minStem]] = append(m.byStem[stem[:minStem]], p)
			} else {
				m.byWord[first] = append(m.byWord[first], p)
			}
			m.count++
		}
	}
	return m, nil
}

// Default is a matcher of the shipped phrases alone.
func Default() *Matcher {
	m, err := New(nil)
	if err != nil {
		panic(err) // the shipped list is tested
	}
	return m
}

// Len is how many distinct phrases the matcher looks for.
func (m *Matcher) Len() int { return m.count }

// parse checks and normalises one phrase.
func parse(raw string) (phrase, error) {
	words := Words(strings.ReplaceAll(raw, "*", "\x00"))
	if len(words) == 0 {
		return phrase{}, fmt.Errorf("%q has no words in it", raw)
	}
	for i, w := range words {
		stem, isStem := strings.CutSuffix(w, "\x00")
		if strings.ContainsRune(stem, 0) {
			return phrase{}, fmt.Errorf("%q: a * may only end a word (like abus*)", raw)
		}
		if isStem {
			if len([]rune(stem)) < minStem || len(stem) < minStem {
				return phrase{}, fmt.Errorf("%q: a word ending in * needs at least %d letters before the *", raw, minStem)
			}
			words[i] = stem + "*"
		}
	}
	return phrase{id: strings.Join(words, " "), words: words}, nil
}

// Words splits text into lower-case words the way phrases are matched:
// apostrophes are dropped inside words ("don't" is "dont"), and anything
// else that is not a letter or a digit separates words ("self-harm" is
// "self harm").
func Words(text string) []string {
	var words []string
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			words = append(words, b.String())
			b.Reset()
		}
	}
	for _, r := range text {
		switch {
		case r == '\'' || r == '\u2019' || r == '\u2018' || r == '`':
			// inside a word: dropped, so "don't" and "dont" are one word
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == 0:
			b.WriteRune(unicode.ToLower(r))
		default:
			flush()
		}
	}
	flush()
	return words
}

// Match returns the first risk phrase in text (the phrase's id, as
// listed), or ok false when there is none.
func (m *Matcher) Match(text string) (id string, ok bool) {
	if m == nil {
		return "", false
	}
	words := Words(text)
	for i, w := range words {
		for _, p := range m.byWord[w] {
			if p.at(words, i) {
				return p.id, true
			}
		}
		if len(w) >= minStem {
			for _, p := range m.byStem[w[:minStem]] {
				if p.at(words, i) {
					return p.id, true
				}
			}
		}
	}
	return "", false
}

// at reports whether the phrase starts at words[i].
func (p phrase) at(words []string, i int) bool {
	if i+len(p.words) > len(words) {
		return false
	}
	for k, pw := range p.words {
		w := words[i+k]
		if stem, ok := strings.CutSuffix(pw, "*"); ok {
			if !strings.HasPrefix(w, stem) {
				return false
			}
		} else if w != pw {
			return false
		}
	}
	return true
}

// ReadPhrases reads a charity's own phrases: one a line; blank lines and
// lines starting with # are ignored. An error names the line.
func ReadPhrases(r io.Reader) ([]string, error) {
	var out []string
	sc := bufio.NewScanner(r)
	line := 0
	for sc.Scan() {
		line++
		t := strings.TrimSpace(sc.Text())
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		if _, err := parse(t); err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		out = append(out, t)
	}
	return out, sc.Err()
}
