package survey

import (
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"
)

func txt(s string) Input { return Input{Text: s} }
func dg(s string) Input  { return Input{Digits: s} }
func sp(s string) Input  { return Input{Speech: s, Confidence: 0.9} }
func rec(sec int) Input {
	return Input{Recording: &Recording{URL: "https://x/r.wav", SID: "RE1", Seconds: sec}}
}
func silence() Input { return Input{NoInput: true} }
func loadT(t *testing.T, f string) *Survey {
	t.Helper()
	data, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Parse(f, data)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// talk runs a conversation and returns every reply and the final session.
func talk(s *Survey, ch Channel, needs Needs, inputs ...Input) ([]Reply, Session) {
	r, sess := Start(s, ch, needs)
	out := []Reply{r}
	for _, in := range inputs {
		r, sess = Step(s, sess, in)
		out = append(out, r)
	}
	return out, sess
}

// answers lists "question=value/via" (NoAnswer: "question=-", skipped: "question=skip").
func answers(rs []Reply) []string {
	var out []string
	for _, r := range rs {
		a, ok := r.Answer()
		if !ok {
			continue
		}
		switch {
		case a.NoAnswer:
			out = append(out, a.QuestionID+"=-")
		case a.Skipped:
			out = append(out, a.QuestionID+"=skip")
		default:
			out = append(out, a.QuestionID+"="+a.Value+"/"+a.Via)
		}
	}
	return out
}

func hasAnswer(r Reply) bool {
	_, ok := r.Answer()
	return ok
}

func keys(r Reply) []string {
	var out []string
	for _, p := range r.Prompts {
		out = append(out, p.Key)
	}
	return out
}

func TestDemoConversationSMS(t *testing.T) {
	s := Demo()
	rs, sess := talk(s, SMS, Needs{}, txt("yes"), txt("3"), txt("The noise. It's loud!"), txt("four"), txt("more days"))
	want := []string{
		"Hello. This is Have Your Say. We want to know what you think of your day service.\nIf someone hurts you, we may tell people who can keep you safe.\nWe keep your answers safe. We do not put your name in reports. Is that OK?\nReply with a number:\n1 Yes\n2 No",
		"Question 1 of 3.\nHow do you feel about your day service?\nReply with a number:\n1 Good\n2 OK\n3 Not good",
		"You said: Not good.\nWhat would make your day service better? Tell us in your own words.\nReply in your own words.\nTo skip this question, text SKIP.",
		"Thank you for telling us.\nQuestion 2 of 3.\nHow kind are the staff? 1 is not kind. 5 is very kind.\nReply with a number from 1 to 5.",
		"You said: 4.\nQuestion 3 of 3.\nWould you like more days at your day service, the same, or fewer days?\nReply with a number:\n1 More days\n2 The same\n3 Fewer days",
		"You said: More days.\nThank you for your answers. Our team will read every one.",
	}
	for i, w := range want {
		if got := rs[i].Text(); got != w {
			t.Errorf("reply %d:\n got %q\nwant %q", i, got, w)
		}
	}
	if got, w := answers(rs), []string{"feel=not-good/digits", "better=The noise. It's loud!/text", "staff=4/words", "days=more/words"}; !reflect.DeepEqual(got, w) {
		t.Errorf("answers %v want %v", got, w)
	}
	last := rs[len(rs)-1]
	if !last.Done || sess.Stage != StageDone || last.Expect.Kind != "" {
		t.Errorf("want done, got %+v %+v", last, sess)
	}
	if a, _ := rs[2].Answer(); a.Themes[0] != "day-service" {
		t.Errorf("themes: %v", a.Themes)
	}
	if !reflect.DeepEqual(sess.Path, []string{"feel", "better", "staff", "days"}) {
		t.Errorf("path %v", sess.Path)
	}
	for i, r := range rs {
		if n, ucs2 := Segments(r.Text()); n > 2 || ucs2 {
			t.Errorf("reply %d is %d segments (ucs2 %v)", i, n, ucs2)
		}
	}
}

func TestDemoConversationVoice(t *testing.T) {
	s := Demo()
	rs, _ := talk(s, Voice, Needs{}, dg("1"), sp("um good thanks"), dg("5"), dg("2"))
	if got := rs[0].Prompts[len(rs[0].Prompts)-1].Text; got != "For Yes, press 1. For No, press 2." {
		t.Errorf("consent menu %q", got)
	}
	if got := rs[1].Prompts[2]; got.Key != "menu:feel" || got.Text != "For Good, press 1. For OK, press 2. For Not good, press 3." {
		t.Errorf("voice menu %+v", got)
	}
	if got := rs[2].Prompts; got[len(got)-1].Text != "Press a number from 1 to 5." {
		t.Errorf("scale menu %+v", got)
	}
	if got, w := answers(rs), []string{"feel=good/speech", "staff=5/digits", "days=same/digits"}; !reflect.DeepEqual(got, w) {
		t.Errorf("answers %v want %v", got, w)
	}
	x := rs[1].Expect
	if x.Kind != "choice" || x.QuestionID != "feel" || x.Keys != "123*0" || x.NumDigits != 1 || len(x.Hints) == 0 {
		t.Errorf("expect %+v", x)
	}
}

func TestRetryLadder(t *testing.T) {
	s := Demo()
	// again -> simpler -> offer a person -> move on as no answer
	rs, sess := talk(s, SMS, Needs{}, txt("yes"), txt("purple"), silence(), txt("7"), txt("no"))
	steps := [][]string{
		keys(rs[2]), keys(rs[3]), keys(rs[4]), keys(rs[5]),
	}
	want := [][]string{
		{"retry", "question:feel", "menu:feel"},
		{"simpler", "simpler:feel", "menu:feel"},
		{"offer", "menu:offer"},
		{"moving-on", "progress", "question:staff", "menu:staff"},
	}
	if !reflect.DeepEqual(steps, want) {
		t.Errorf("ladder keys\n got %v\nwant %v", steps, want)
	}
	if rs[3].Prompts[1].Text != "Is your day service good, OK, or not good?" {
		t.Errorf("simpler wording: %q", rs[3].Prompts[1].Text)
	}
	if a, ok := rs[5].Answer(); !ok || !a.NoAnswer || a.QuestionID != "feel" {
		t.Errorf("want NoAnswer for feel, got %+v", a)
	}
	if sess.Question != "staff" || sess.Tries != 0 || rs[5].Done {
		t.Errorf("session %+v", sess)
	}
	if rs[4].Expect.Kind != "offer" || rs[4].Expect.Keys != "12*0" {
		t.Errorf("offer expect %+v", rs[4].Expect)
	}
	// accepting the offer: a person, and still moving on (never a hang-up)
	rs, sess = talk(s, Voice, Needs{}, dg("1"), dg("8"), dg("9"), silence(), dg("1"))
	last := rs[len(rs)-1]
	if a, ok := last.Answer(); !last.Handoff() || !ok || !a.NoAnswer || sess.Question != "staff" || last.Done {
		t.Errorf("accept offer: %+v %+v", last, sess)
	}
	if keys(last)[0] != "help" || last.Prompts[0].Text != DefaultPhrases["help-voice"] {
		t.Errorf("accept offer prompts %v", keys(last))
	}
	// answering the question at the offer still counts
	rs, _ = talk(s, SMS, Needs{}, txt("yes"), txt("x"), txt("x"), txt("x"), txt("a bit ok"))
	if got := answers(rs); !reflect.DeepEqual(got, []string{"feel=ok/words"}) {
		t.Errorf("late answer %v", got)
	}
	// ambiguous answers are asked again with their own words
	rs, _ = talk(s, SMS, Needs{}, txt("yes"), txt("good or ok"))
	if _, ok := rs[2].Answer(); keys(rs[2])[0] != "ambiguous" || ok {
		t.Errorf("ambiguous: %v", keys(rs[2]))
	}
}

func TestBuiltins(t *testing.T) {
	s := loadT(t, "testdata/good.yaml")
	t.Run("repeat", func(t *testing.T) {
		for _, in := range []Input{txt("*"), txt("again"), dg("*"), sp("can you repeat that")} {
			rs, sess := talk(s, SMS, Needs{}, txt("yes"), in)
			if got := keys(rs[2]); !reflect.DeepEqual(got, []string{"question:feel", "menu:feel"}) || sess.Tries != 0 {
				t.Errorf("%+v: %v tries %d", in, got, sess.Tries)
			}
		}
	})
	t.Run("help", func(t *testing.T) {
		for _, in := range []Input{txt("0"), txt("help"), dg("0"), sp("I want to talk to a person")} {
			rs, sess := talk(s, SMS, Needs{}, txt("yes"), in)
			if !rs[2].Handoff() || !sess.Handoff || keys(rs[2])[0] != "help" || sess.Question != "feel" {
				t.Errorf("%+v: %v %+v", in, keys(rs[2]), sess)
			}
		}
		rs, _ := talk(s, SMS, Needs{VoiceOnly: true}, txt("yes"), txt("0"))
		if rs[2].Prompts[0].Text != DefaultPhrases["help-voice"] {
			t.Errorf("voice-only help: %q", rs[2].Prompts[0].Text)
		}
	})
	t.Run("skip optional", func(t *testing.T) {
		rs, sess := talk(s, SMS, Needs{}, txt("yes"), txt("bad"), txt("#"), txt("skip"))
		if got := answers(rs); !reflect.DeepEqual(got, []string{"feel=bad/words", "why=skip", "friends=skip"}) {
			t.Errorf("answers %v", got)
		}
		if sess.Question != "staff" {
			t.Errorf("at %s", sess.Question)
		}
	})
	t.Run("skip refused kindly", func(t *testing.T) {
		rs, sess := talk(s, Voice, Needs{}, dg("1"), dg("#"))
		if got := keys(rs[2]); !reflect.DeepEqual(got, []string{"must-answer", "question:feel", "menu:feel"}) || sess.Question != "feel" || sess.Tries != 0 || hasAnswer(rs[2]) {
			t.Errorf("%v %+v", got, sess)
		}
	})
	t.Run("back", func(t *testing.T) {
		rs, sess := talk(s, SMS, Needs{}, txt("yes"), txt("good"), txt("back"), txt("bad"), txt("fine"))
		if got := keys(rs[3])[:2]; !reflect.DeepEqual(got, []string{"back", "progress"}) {
			t.Errorf("back keys %v", keys(rs[3]))
		}
		if !strings.Contains(rs[3].Text(), "Question 1 of") {
			t.Errorf("back text %q", rs[3].Text())
		}
		if got := answers(rs); !reflect.DeepEqual(got, []string{"feel=good/words", "feel=bad/words", "why=fine/text"}) {
			t.Errorf("answers %v", got)
		}
		if sess.Answers["feel"] != "bad" || !reflect.DeepEqual(sess.Path, []string{"feel", "why"}) {
			t.Errorf("session %+v", sess)
		}
		// back at the first question
		rs, _ = talk(s, SMS, Needs{}, txt("yes"), txt("back"))
		if keys(rs[2])[0] != "first-question" {
			t.Errorf("first %v", keys(rs[2]))
		}
		// nothing on voice: "back" is just an answer we do not understand
		rs, _ = talk(s, Voice, Needs{}, dg("1"), dg("1"), sp("back"))
		if keys(rs[3])[0] == "back" {
			t.Errorf("voice back %v", keys(rs[3]))
		}
	})
}

func TestAnswerTypesAndBranches(t *testing.T) {
	s := loadT(t, "testdata/good.yaml")
	for _, c := range []struct {
		name string
		ch   Channel
		in   []Input
		want []string
	}{
		{"good skips the follow-up, number ends", SMS, []Input{txt("yes"), txt("1"), txt("yeah"), txt("3"), txt("twelve")},
			[]string{"feel=good/digits", "friends=yes/words", "staff=3/digits", "trips=12/words"}},
		{"something else goes to why", SMS, []Input{txt("yes"), txt("something else"), txt("🙂 nice"), txt("2"), txt("5"), txt("0")},
			[]string{"feel=something-else/words", "why=🙂 nice/text", "friends=no/digits", "staff=5/digits", "trips=0/digits"}},
		{"scale 1 branches to worry and ends", Voice, []Input{dg("1"), dg("2"), rec(12), dg("1"), dg("1"), sp("yes")},
			[]string{"feel=bad/digits", "why=/recording", "friends=yes/digits", "staff=1/digits", "worry=yes/speech"}},
		{"number out of range is asked again", SMS, []Input{txt("yes"), txt("1"), txt("1"), txt("2"), txt("99"), txt("5")},
			[]string{"feel=good/digits", "friends=yes/digits", "staff=2/digits", "trips=5/digits"}},
		{"short recording asked once, then moves on", Voice, []Input{dg("1"), dg("2"), rec(0), silence(), dg("2")},
			[]string{"feel=bad/digits", "why=-", "friends=no/digits"}},
		{"voice words skipped with #", Voice, []Input{dg("1"), dg("2"), dg("#")},
			[]string{"feel=bad/digits", "why=skip"}},
		{"emoji answers", SMS, []Input{txt("👍"), txt("😀"), txt("👎🏽")},
			[]string{"feel=good/emoji", "friends=no/emoji"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			rs, _ := talk(s, c.ch, Needs{}, c.in...)
			if got := answers(rs); !reflect.DeepEqual(got, c.want) {
				t.Errorf("answers\n got %v\nwant %v", got, c.want)
			}
		})
	}
	// recordings carry their details; words on voice ask the channel to record
	rs, _ := talk(s, Voice, Needs{}, dg("1"), dg("2"))
	if x := rs[2].Expect; !x.Record || x.MaxSeconds != 60 || !x.Optional || x.Keys != "#" || x.Kind != "words" {
		t.Errorf("voice words expect %+v", x)
	}
	rs, _ = talk(s, Voice, Needs{}, dg("1"), dg("2"), rec(7))
	if a, _ := rs[3].Answer(); a.Recording == nil || a.Recording.Seconds != 7 || a.Recording.SID != "RE1" {
		t.Errorf("recording %+v", a)
	}
	// SMS words: byte for byte
	raw := "  Line one\nline two 👍 "
	rs, _ = talk(s, SMS, Needs{}, txt("yes"), txt("2"), txt(raw))
	if a, _ := rs[3].Answer(); a.Value != raw || a.Raw != raw {
		t.Errorf("words kept byte for byte: %q", a.Value)
	}
	// the survey's own phrases and emoji menus
	rs, _ = talk(s, SMS, Needs{}, txt("yes"), txt("1"))
	if !strings.HasPrefix(rs[2].Text(), "Got it: Good.") {
		t.Errorf("custom confirm %q", rs[2].Text())
	}
	if !strings.Contains(rs[1].Text(), "Reply with a number:\n1 Good 😀\n2 Bad 🙁\n3 Something else") {
		t.Errorf("sms_emoji menu %q", rs[1].Text())
	}
	if !strings.Contains(rs[2].Text(), "Reply with a number:\n1 Yes 👍\n2 No 👎\nTo skip this question, text SKIP.") {
		t.Errorf("yesno default menu %q", rs[2].Text())
	}
}

func TestMenus(t *testing.T) {
	s := MustParse("m.yaml", []byte(`id: m
consent: OK?
questions:
  - id: happy
    ask: How are your short breaks?
    options:
      - {value: yes, say: "Yes", emoji: ["😀"]}
      - {value: bit, say: "A bit"}
      - {value: no, say: "No"}
  - id: n
    ask: How many?
    answer: number
    min: 1
    max: 9
  - id: n2
    ask: How many?
    answer: number
`))
	e := &engine{s: s, sess: Session{Channel: Voice, Lang: s.Language}}
	if got := e.menu(s.Question("happy")); got != "For Yes, press 1. For A bit, press 2. For No, press 3." {
		t.Errorf("voice %q", got)
	}
	e.sess.Channel = SMS
	if got := e.menu(s.Question("happy")); got != "Reply with a number:\n1 Yes\n2 A bit\n3 No" {
		t.Errorf("sms %q", got)
	}
	if got := e.menu(s.Question("n")); got != "Reply with a number from 1 to 9." {
		t.Errorf("number %q", got)
	}
	if got := e.menu(s.Question("n2")); got != "Reply with a number." {
		t.Errorf("number %q", got)
	}
	e.sess.Needs.EmojiMenus = true
	if got := e.menu(s.Question("happy")); got != "Reply with a number:\n1 Yes 😀\n2 A bit\n3 No" {
		t.Errorf("emoji %q", got)
	}
	e.sess.Channel = Voice
	if got := e.menu(s.Question("happy")); strings.Contains(got, "😀") {
		t.Errorf("no emoji by phone %q", got)
	}
}

func TestNeeds(t *testing.T) {
	s := Demo()
	rs, sess := talk(s, SMS, Needs{EasyRead: true, EmojiMenus: true, SlowSpeech: true, Supporter: true}, txt("yes"))
	if got := keys(rs[0]); !reflect.DeepEqual(got, []string{"intro", "sms-notice", "supporter", "consent", "menu:consent"}) {
		t.Errorf("supporter prompt %v", got)
	}
	if got := keys(rs[1]); !reflect.DeepEqual(got, []string{"progress", "simpler:feel", "menu:feel"}) {
		t.Errorf("easy read asks the simpler wording first: %v", got)
	}
	if !strings.Contains(rs[1].Text(), "Reply with a number:\n1 Good 😀\n2 OK 😐\n3 Not good 🙁") {
		t.Errorf("emoji menu %q", rs[1].Text())
	}
	for _, r := range rs {
		if !r.Slow || !r.Supporter {
			t.Errorf("slow/supporter flags: %+v", r)
		}
	}
	if !sess.Needs.EasyRead {
		t.Error("needs kept in the session")
	}
	rs, _ = talk(s, SMS, Needs{}, txt("yes"))
	if rs[1].Slow || rs[1].Supporter || strings.Contains(rs[1].Text(), "😀") {
		t.Errorf("no needs: %+v", rs[1])
	}
}

func TestLanguageChoice(t *testing.T) {
	s := loadT(t, "testdata/welsh.yaml")
	if got := s.Languages(); !reflect.DeepEqual(got, []string{"en-GB", "cy"}) {
		t.Fatalf("languages %v", got)
	}
	rs, sess := talk(s, SMS, Needs{})
	if rs[0].Text() != "Reply 1 for English.\nAtebwch 2 am Cymraeg" || sess.Stage != StageLanguage || rs[0].Expect.Kind != "language" || rs[0].Expect.Keys != "12*0" {
		t.Errorf("language menu %q %+v", rs[0].Text(), rs[0].Expect)
	}
	rs, sess = talk(s, SMS, Needs{}, txt("2"), txt("ydw"), txt("1"))
	if sess.Lang != "cy" || !strings.HasPrefix(rs[1].Text(), "Helo.") || !strings.Contains(rs[1].Text(), "Atebwch 1 am Ydw, 2 am Nac ydw") {
		t.Errorf("welsh consent %q", rs[1].Text())
	}
	if hasAnswer(rs[2]) || sess.Stage != StageQuestion {
		t.Logf("%q", rs[2].Text())
	}
	if !strings.Contains(rs[2].Text(), "Cwestiwn 1 o 2.\nYdych chi'n mynd i glwb?") {
		t.Errorf("welsh question %q", rs[2].Text())
	}
	if got := answers(rs); !reflect.DeepEqual(got, []string{"club=yes/digits"}) {
		t.Errorf("answers %v", got)
	}
	// by name, and by phone
	_, sess = talk(s, SMS, Needs{}, txt("welsh"))
	if sess.Lang != "cy" {
		t.Errorf("by name: %s", sess.Lang)
	}
	rs, sess = talk(s, Voice, Needs{}, dg("1"))
	if sess.Lang != "en-GB" || sess.Stage != StageConsent || rs[0].Prompts[1].Text != "Am Cymraeg, pwyswch 2." {
		t.Errorf("voice: %+v %+v", rs[0].Prompts, sess)
	}
	// never stuck: two misses carry on in the base language
	_, sess = talk(s, SMS, Needs{}, txt("x"), silence())
	if sess.Lang != "en-GB" || sess.Stage != StageConsent {
		t.Errorf("fallback %+v", sess)
	}
	// one language: straight to intro and consent
	rs, sess = talk(Demo(), SMS, Needs{})
	if sess.Stage != StageConsent || keys(rs[0])[0] != "intro" {
		t.Errorf("one language %+v", sess)
	}
}

func TestSessionJSONRoundTrip(t *testing.T) {
	s := Demo()
	_, sess := talk(s, SMS, Needs{EasyRead: true}, txt("yes"), txt("3"))
	sess.Version = 3
	b, err := json.Marshal(sess)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > 300 {
		t.Errorf("session too big: %d bytes: %s", len(b), b)
	}
	var back Session
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, sess) {
		t.Errorf("round trip\n got %+v\nwant %+v", back, sess)
	}
	r1, s1 := Step(s, sess, txt("fine"))
	r2, s2 := Step(s, back, txt("fine"))
	if !reflect.DeepEqual(r1, r2) || !reflect.DeepEqual(s1, s2) {
		t.Error("step differs after a JSON round trip")
	}
}

func TestStepIsPure(t *testing.T) {
	s := Demo()
	_, sess := talk(s, SMS, Needs{}, txt("yes"), txt("1"))
	before, _ := json.Marshal(sess)
	Step(s, sess, txt("back"))
	Step(s, sess, txt("5"))
	after, _ := json.Marshal(sess)
	if string(before) != string(after) {
		t.Errorf("Step changed its input session:\n%s\n%s", before, after)
	}
}

func TestOddSessions(t *testing.T) {
	s := Demo()
	for _, sess := range []Session{
		{},
		{Stage: "nonsense"},
		{Stage: StageQuestion, Question: "gone", Lang: "xx"},
		{Stage: StageOffer},
		{Stage: StageOffer, Question: "gone"},
		{Stage: StageDone},
		{Stage: StageQuestion, Question: "staff", Path: []string{"feel", "feel", "staff"}},
	} {
		r, ns := Step(s, sess, txt("1"))
		if len(r.Prompts) == 0 {
			t.Errorf("%+v: no reply", sess)
		}
		if ns.Stage == "" {
			t.Errorf("%+v: no stage", sess)
		}
	}
	if r, _ := Step(nil, Session{}, txt("1")); !r.Done {
		t.Error("nil survey")
	}
	if r, _ := Start(nil, SMS, Needs{}); !r.Done {
		t.Error("nil survey start")
	}
}

func TestReplyText(t *testing.T) {
	r := Reply{Prompts: []Prompt{{Key: "a", Text: "  It’s  a “test” – ok…  "}, {Key: "b"}, {Key: "c", Text: "Two\n lines"}}}
	if got := r.Text(); got != "It's a \"test\" - ok...\nTwo\nlines" {
		t.Errorf("%q", got)
	}
	if _, ucs2 := Segments(r.Text()); ucs2 {
		t.Error("Text should be GSM-7 friendly")
	}
}

// "Question n of total" counts main questions only, the number the phone
// intro gives: a follow-up has no number, so the total never grows; an
// answer that skips questions makes it shrink.
func TestProgressCountsMainQuestions(t *testing.T) {
	s := MustParse("p.yaml", []byte(`id: p
consent: Is that OK?
questions:
  - id: go
    ask: Do you go out?
    answer: yesno
    then: {yes: where, no: last}
  - id: where
    ask: Where do you go?
    answer: words
  - id: bus
    ask: Do you take the bus?
    answer: yesno
  - id: last
    ask: Are you happy?
    answer: yesno
thanks: Thank you.
`))
	progress := func(rs []Reply) []string {
		var out []string
		for _, r := range rs {
			for _, p := range r.Prompts {
				if p.Key == "progress" {
					out = append(out, p.Text)
				}
			}
		}
		return out
	}
	rs, _ := talk(s, SMS, Needs{}, txt("yes"), txt("yes"), txt("the shops"), txt("no"), txt("yes"))
	if got, want := progress(rs), []string{"Question 1 of 3.", "Question 2 of 3.", "Question 3 of 3."}; !reflect.DeepEqual(got, want) {
		t.Errorf("with the follow-up: %q, want %q", got, want)
	}
	if !strings.Contains(rs[2].Text(), "Where do you go?") || strings.Contains(rs[2].Text(), "Question") {
		t.Errorf("the follow-up is asked without a number: %q", rs[2].Text())
	}
	rs, _ = talk(s, SMS, Needs{}, txt("yes"), txt("no"), txt("yes"))
	if got, want := progress(rs), []string{"Question 1 of 3.", "Question 2 of 2."}; !reflect.DeepEqual(got, want) {
		t.Errorf("skipping the bus: %q, want %q", got, want)
	}
}

// An optional words question by phone: "press hash now" before the beep;
// a translation that words the two parts itself keeps its own words.
func TestVoiceOptionalWordsMenu(t *testing.T) {
	s := MustParse("w.yaml", []byte(`id: w
consent: Is that OK?
questions:
  - id: why
    ask: Tell us why.
    answer: words
    optional: true
thanks: Thank you.
translations:
  cy:
    consent: Ydy hynny'n iawn?
    questions:
      why: {ask: Dywedwch pam.}
    phrases:
      voice-words: "Siaradwch ar ol y bip."
      voice-skip: "I hepgor, pwyswch hash."
`))
	menu := func(r Reply) string {
		for _, p := range r.Prompts {
			if p.Key == "menu:why" {
				return p.Text
			}
		}
		return ""
	}
	rs, _ := talk(s, Voice, Needs{}, dg("1"), dg("1"))
	if got := menu(rs[2]); got != DefaultPhrases["voice-words-skip"] {
		t.Errorf("English menu = %q", got)
	}
	rs, _ = talk(s, Voice, Needs{}, dg("2"), dg("1"))
	if got := menu(rs[2]); got != "Siaradwch ar ol y bip. I hepgor, pwyswch hash." {
		t.Errorf("Welsh menu = %q", got)
	}
}
