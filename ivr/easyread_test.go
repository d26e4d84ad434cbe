package ivr_test

import (
	"strings"
	"testing"

	"github.com/haveyoursay/haveyoursay/phonesim"
	"github.com/haveyoursay/haveyoursay/survey"
)

// listener keeps every sentence a caller hears, across calls.
type listener struct {
	t    *testing.T
	said []string
}

// hear takes what the caller heard since their last key or word.
func (l *listener) hear(c *phonesim.Call) {
	l.t.Helper()
	for _, h := range c.Heard() {
		if !strings.HasPrefix(h, "[") { // not a played file or a dialled number
			l.said = append(l.said, h)
		}
	}
}

// check fails for any sentence heard that easy read would change.
func (l *listener) check() {
	l.t.Helper()
	if len(l.said) < 20 {
		l.t.Fatalf("only %d things heard: %q", len(l.said), l.said)
	}
	for _, s := range l.said {
		for _, p := range survey.EasyReadProblems(s) {
			l.t.Errorf("a caller heard %q: %s", s, p)
		}
	}
}

// TestEveryWordACallerHears walks whole calls through the real server
// and phonesim (wrong keys, silence, repeat, a person, skip, a recording
// too short, a key at a recording, a hang-up and a call back, the end)
// and checks every sentence the caller heard: none over 15 words, none
// with a word or idiom easy read avoids, no "I".
func TestEveryWordACallerHears(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{})
	l := &listener{t: t}
	do := func(c *phonesim.Call, err error) {
		t.Helper()
		must(t, err)
		l.hear(c)
	}

	c := e.call(member)
	l.hear(c)
	do(c, c.Silence())  // silence at consent
	do(c, c.Press("7")) // a wrong key
	do(c, c.Press("1")) // yes
	do(c, c.Press("*")) // again
	do(c, c.Press("0")) // a person
	do(c, c.Press("9")) // wrong
	do(c, c.Silence())  // silence
	do(c, c.Press("9")) // the offer of a person
	do(c, c.Press("2")) // no thank you: on to the next question
	do(c, c.Press("#")) // skip a question that must be answered
	do(c, c.Press("4")) // an answer
	do(c, c.Press("1")) // the last answer: thanks, and a last offer of a person
	do(c, c.Press("0")) // a person after the end
	expectHeard(t, c, "A person from our team will call you back.")

	// A words question: a key, then a recording too short, then skip.
	c2 := e.call("+447700900131")
	l.hear(c2)
	do(c2, c2.Press("1"))
	do(c2, c2.Press("3"))
	do(c2, c2.Press("5"))
	expectHeard(t, c2, "Please say your answer after the beep.")
	do(c2, c2.Silence()) // no key: the beep
	do(c2, c2.Record(0, ""))
	do(c2, c2.Press("#"))
	do(c2, c2.Hangup())

	// Hang up, call back, carry on, and say no to consent on another call.
	c3 := e.call("+447700900131")
	l.hear(c3)
	do(c3, c3.Press("1"))
	c4 := e.call("+447700900132")
	l.hear(c4)
	do(c4, c4.Press("2"))
	l.check()
}

// welshYAML is a survey in Welsh only, on ourNumber.
const welshYAML = `id: clybiau
title: Eich clybiau
language: cy
start:
  numbers: ["` + ourNumber + `"]
intro: Helo. Rydyn ni eisiau gwybod am eich clybiau. Mae 2 gwestiwn.
consent: Rydyn ni'n cadw eich atebion yn ddiogel. Ydy hynny'n iawn?
questions:
  - id: teimlo
    ask: Sut ydych chi'n teimlo am eich clwb?
    answer: choice
    options:
      - {value: da, say: Da, key: 1}
      - {value: iawn, say: Iawn, key: 2}
      - {value: gwael, say: Gwael, key: 3}
  - id: newid
    ask: Beth ddylen ni ei newid? Dywedwch wrthon ni yn eich geiriau eich hun.
    answer: words
    optional: true
thanks: Diolch am eich atebion.
`

// englishWords are common English words: two in one sentence, and the
// caller heard English.
var englishWords = map[string]bool{"the": true, "you": true, "your": true, "we": true, "to": true, "is": true,
	"for": true, "please": true, "thank": true, "this": true, "and": true, "of": true, "are": true}

// TestWelshCallIsWelsh: a survey in Welsh is Welsh from the first word of
// a call to the last, spoken and heard with Welsh speech settings.
func TestWelshCallIsWelsh(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{surveys: []string{welshYAML}})
	c := e.call(member)
	var gathers []*phonesim.GatherVerb
	step := func(err error) {
		t.Helper()
		must(t, err)
		if g := c.Gather(); g != nil {
			gathers = append(gathers, g)
		}
	}
	step(nil)
	step(c.Silence())  // nothing
	step(c.Press("7")) // not understood
	step(c.Press("1")) // yes
	step(c.Press("0")) // a person
	step(c.Press("1")) // Da
	step(c.Press("5")) // a key at a recording
	step(c.Silence())  // the beep
	step(c.Record(4, "Mwy o deithiau"))
	step(c.Press("0")) // a person after the end
	var said int
	for _, ev := range c.Transcript() {
		if ev.Kind != "say" {
			continue
		}
		said++
		if lang := ev.Params.Get("language"); lang != "cy-GB" {
			t.Errorf("%q was said with language %q, want cy-GB", ev.Text, lang)
		}
		for _, s := range strings.FieldsFunc(ev.Text, func(r rune) bool { return r == '.' || r == '?' || r == '!' }) {
			n := 0
			for _, w := range strings.Fields(strings.ToLower(s)) {
				if englishWords[strings.Trim(w, ",:;")] {
					n++
				}
			}
			if n >= 2 {
				t.Errorf("the caller heard English: %q", s)
			}
		}
	}
	if said < 15 {
		t.Fatalf("only %d things said: %v", said, c.Transcript())
	}
	for _, want := range []string{survey.WelshPhrases["voice-speech-tip"], survey.WelshPhrases["no-answer"],
		survey.WelshPhrases["words-key"], survey.WelshPhrases["voice-end-offer"], "Mae 2 cwestiwn. Mae'n cymryd tua 2 munud."} {
		found := false
		for _, ev := range c.Transcript() {
			found = found || (ev.Kind == "say" && strings.Contains(ev.Text, want))
		}
		if !found {
			t.Errorf("the caller never heard %q", want)
		}
	}
	for _, g := range gathers {
		if g.Accepts("speech") && g.Language != "cy-GB" {
			t.Errorf("a gather listened for %q, want cy-GB", g.Language)
		}
	}
}
