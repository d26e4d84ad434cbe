package survey

import "testing"

func intp(v int) *int { return &v }

// the design's example question
var happyQ = Question{ID: "happy", Answer: Choice, Options: []Option{
	{Value: "yes", Say: "Yes", Key: "1", Words: []string{"yes", "yeah", "happy"}, Emoji: []string{"😀", "👍"}},
	{Value: "bit", Say: "A bit", Key: "2", Words: []string{"bit", "ok", "okay"}, Emoji: []string{"😐", "☺️"}},
	{Value: "no", Say: "No", Key: "3", Words: []string{"no", "nope", "sad"}, Emoji: []string{"🙁", "👎"}},
}}

var feelQ = Question{ID: "feel", Answer: Choice, Options: []Option{
	{Value: "good", Say: "Good", Key: "1", Words: []string{"great"}},
	{Value: "not-good", Say: "Not good", Key: "2"},
	{Value: "holiday", Say: "Holidays", Key: "3", Words: []string{"trip"}},
	{Value: "dog", Say: "Dog", Key: "4", Words: []string{"puppy"}},
}}

type matchCase struct {
	input     string
	value     string
	via       string
	ok        bool
	ambiguous bool
}

func runMatch(t *testing.T, q *Question, cases []matchCase) {
	t.Helper()
	for _, c := range cases {
		v, via, ok, amb := Match(q, c.input)
		if v != c.value || ok != c.ok || amb != c.ambiguous || (c.via != "" && via != c.via) {
			t.Errorf("%s: Match(%q) = (%q, %q, %v, %v), want (%q, %q, %v, %v)", q.ID, c.input, v, via, ok, amb, c.value, c.via, c.ok, c.ambiguous)
		}
	}
}

func TestMatchChoice(t *testing.T) {
	runMatch(t, &happyQ, []matchCase{
		// digits in any dress
		{"1", "yes", "digits", true, false},
		{" 1.", "yes", "digits", true, false},
		{"1)", "yes", "digits", true, false},
		{"(2)", "bit", "digits", true, false},
		{"one", "yes", "words", true, false},
		{"number one", "yes", "words", true, false},
		{"Number 3", "no", "digits", true, false},
		{"option two please", "bit", "words", true, false},
		{"3rd", "no", "digits", true, false},
		{"4", "", "", false, false},
		{"9", "", "", false, false},
		// option words, say, value, case, punctuation
		{"YES", "yes", "words", true, false},
		{"A bit", "bit", "words", true, false},
		{"a bit!!", "bit", "words", true, false},
		{"okay", "bit", "words", true, false},
		{"Nope.", "no", "words", true, false},
		{"i am happy", "yes", "words", true, false},
		{"sad", "no", "words", true, false},
		// plurals
		{"bits", "bit", "words", true, false},
		// one-letter typos in words of 4+ letters (OSA: swaps count once)
		{"hapy", "yes", "typo", true, false},
		{"happpy", "yes", "typo", true, false},
		{"hpapy", "yes", "typo", true, false},
		{"okya", "bit", "typo", true, false},
		{"hpay", "", "", false, false}, // two slips
		{"sda", "", "", false, false},  // short words need to be exact
		{"yse", "", "", false, false},  // 3 letters: no typo forgiven
		{"nopee", "no", "typo", true, false},
		// emoji, with skin tones and variation selectors
		{"😀", "yes", "emoji", true, false},
		{"👍", "yes", "emoji", true, false},
		{"👍🏽", "yes", "emoji", true, false},
		{"👍🏿👍🏿", "yes", "emoji", true, false},
		{"☺️", "bit", "emoji", true, false},
		{"☺", "bit", "emoji", true, false},
		{"👎", "no", "emoji", true, false},
		{"🐱", "", "", false, false},
		// speech with filler
		{"um yes please", "yes", "words", true, false},
		{"erm, I think a bit", "bit", "words", true, false},
		{"yeah", "yes", "words", true, false},
		// yes/no synonyms for yes and no options (ok is "A bit" here)
		{"yep", "yes", "words", true, false},
		{"yup", "yes", "words", true, false},
		{"nah", "no", "words", true, false},
		{"ok", "bit", "words", true, false},
		{"not really", "no", "words", true, false},
		// agreeing answers are fine; clashing ones are asked again
		{"2 a bit", "bit", "digits", true, false},
		{"yes 😀", "yes", "", true, false},
		{"yes or no", "", "", false, true},
		{"1 or 2", "", "", false, true},
		{"happy 👎", "", "", false, true},
		// a negated word is never guessed
		{"not happy", "", "", false, false},
		{"i'm not happy", "", "", false, false},
		{"", "", "", false, false},
		{"   ", "", "", false, false},
		{"purple", "", "", false, false},
	})
	runMatch(t, &feelQ, []matchCase{
		{"not good", "not-good", "words", true, false},
		{"good", "good", "words", true, false},
		{"holiday", "holiday", "words", true, false}, // singular of "Holidays"? no: the value
		{"holidays", "holiday", "words", true, false},
		{"trips", "holiday", "words", true, false},
		{"puppies", "dog", "words", true, false},
		{"dogs", "dog", "words", true, false},
		{"gerat", "good", "typo", true, false},
	})
}

func TestMatchYesNo(t *testing.T) {
	q := &Question{ID: "yn", Answer: YesNo}
	runMatch(t, q, []matchCase{
		{"1", "yes", "digits", true, false},
		{"2", "no", "digits", true, false},
		{"3", "", "", false, false},
		{"Yes", "yes", "words", true, false},
		{"yeah", "yes", "words", true, false},
		{"yep", "yes", "words", true, false},
		{"yup", "yes", "words", true, false},
		{"ok", "yes", "words", true, false},
		{"OK!", "yes", "words", true, false},
		{"okay", "yes", "words", true, false},
		{"sure", "yes", "words", true, false},
		{"y", "yes", "words", true, false},
		{"nah", "no", "words", true, false},
		{"nope", "no", "words", true, false},
		{"n", "no", "words", true, false},
		{"no thanks", "no", "words", true, false},
		{"um yes please", "yes", "words", true, false},
		{"👍", "yes", "emoji", true, false},
		{"👍🏽", "yes", "emoji", true, false},
		{"👎🏻", "no", "emoji", true, false},
		{"yess", "yes", "words", true, false}, // a plural, kindly read
		{"yse", "", "", false, false},         // 3-letter words must be exact
		{"yes no", "", "", false, true},
		{"maybe", "", "", false, false},
	})
}

func TestMatchScale(t *testing.T) {
	q := &Question{ID: "staff", Answer: Scale, Min: intp(1), Max: intp(5)}
	runMatch(t, q, []matchCase{
		{"4", "4", "digits", true, false},
		{" 4.", "4", "digits", true, false},
		{"four", "4", "words", true, false},
		{"number five", "5", "words", true, false},
		{"I'd say 3", "3", "digits", true, false},
		{"4 out of 5", "4", "digits", true, false},
		{"4/5", "4", "digits", true, false},
		{"for", "4", "words", true, false}, // speech homophone
		{"6", "", "", false, false},
		{"0", "", "", false, false},
		{"3 or 4", "", "", false, true},
		{"lots", "", "", false, false},
	})
	d := &Question{ID: "default", Answer: Scale}
	runMatch(t, d, []matchCase{{"5", "5", "digits", true, false}, {"6", "", "", false, false}})
}

func TestMatchNumber(t *testing.T) {
	q := &Question{ID: "trips", Answer: Number, Min: intp(0), Max: intp(200)}
	runMatch(t, q, []matchCase{
		{"12", "12", "digits", true, false},
		{"0", "0", "digits", true, false},
		{"none", "0", "words", true, false},
		{"twice", "2", "words", true, false},
		{"twenty one", "21", "words", true, false},
		{"twenty-one", "21", "words", true, false},
		{"one hundred and five", "105", "words", true, false},
		{"about 5 times", "5", "digits", true, false},
		{"1,000", "", "", false, false}, // over max
		{"201", "", "", false, false},
		{"2 or 3", "", "", false, true},
		{"some", "", "", false, false},
	})
	open := &Question{ID: "any", Answer: Number}
	runMatch(t, open, []matchCase{{"1,000", "1000", "digits", true, false}, {"-3", "-3", "digits", true, false}})
}

func TestMatchWords(t *testing.T) {
	q := &Question{ID: "why", Answer: Words}
	for _, in := range []string{"It's too loud 😀", "  spaces kept  ", "1", "ça va"} {
		v, via, ok, amb := Match(q, in)
		if v != in || via != "text" || !ok || amb {
			t.Errorf("Match(%q) = %q %q %v %v", in, v, via, ok, amb)
		}
	}
	if _, _, ok, _ := Match(q, " \n "); ok {
		t.Error("blank text is not an answer")
	}
	if _, _, ok, _ := Match(nil, "x"); ok {
		t.Error("nil question")
	}
}

func TestOSA(t *testing.T) {
	for _, c := range []struct {
		a, b string
		d    int
	}{{"", "", 0}, {"abc", "", 3}, {"whynot", "why-not", 1}, {"ca", "ac", 1}, {"happy", "hpapy", 1}, {"ca", "abc", 3}, {"kitten", "sitting", 3}} {
		if d := osa([]rune(c.a), []rune(c.b)); d != c.d {
			t.Errorf("osa(%q,%q)=%d want %d", c.a, c.b, d, c.d)
		}
	}
}

func TestSegments(t *testing.T) {
	rep := func(s string, n int) string {
		out := ""
		for i := 0; i < n; i++ {
			out += s
		}
		return out
	}
	for _, c := range []struct {
		name string
		text string
		segs int
		ucs2 bool
	}{
		{"empty", "", 0, false},
		{"short", "Hello", 1, false},
		{"160 gsm", rep("a", 160), 1, false},
		{"161 gsm", rep("a", 161), 2, false},
		{"306 gsm", rep("a", 306), 2, false},
		{"307 gsm", rep("a", 307), 3, false},
		{"80 euro = 160 septets", rep("€", 80), 1, false},
		{"81 euro", rep("€", 81), 2, false},
		{"escape not split", rep("a", 152) + "€" + rep("a", 10), 2, false}, // 152+2 > 153: € starts part 2
		{"escape fills part", rep("a", 151) + "[" + rep("a", 10), 2, false},
		{"gsm accents", "Café ñ ü £", 1, false},
		{"70 ucs2", "😀" + rep("a", 68), 1, true},
		{"71 ucs2", "😀" + rep("a", 69), 2, true},
		{"134 ucs2", "😀" + rep("a", 132), 2, true},
		{"135 ucs2", "😀" + rep("a", 133), 3, true},
		{"surrogate not split", rep("a", 66) + "😀" + rep("a", 10), 2, true},
		{"curly quote is ucs2", "It’s", 1, true},
		{"backtick is ucs2", "`", 1, true},
	} {
		n, u := Segments(c.text)
		if n != c.segs || u != c.ucs2 {
			t.Errorf("%s: Segments = %d,%v want %d,%v", c.name, n, u, c.segs, c.ucs2)
		}
	}
}
