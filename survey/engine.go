package survey

import (
	"strconv"
	"strings"
)

// Channel is how a member talks to us.
type Channel string

// Channels.
const (
	SMS   Channel = "sms"
	Voice Channel = "voice"
)

// Needs are a member's communication needs. They are part of the session
// and shape every reply.
type Needs struct {
	VoiceOnly  bool `json:"voice_only,omitempty"`  // prefers the phone: a person calls back, never texts
	EasyRead   bool `json:"easy_read,omitempty"`   // the simpler wording first, every time
	EmojiMenus bool `json:"emoji_menus,omitempty"` // emoji in SMS menus
	SlowSpeech bool `json:"slow_speech,omitempty"` // speak slowly (Reply.Slow)
	Supporter  bool `json:"supporter,omitempty"`   // a supporter answers with the member
}

// Stage is where a conversation is.
type Stage string

// Stages of a conversation.
const (
	StageLanguage Stage = "language"  // choosing a language (surveys with translations)
	StageConsent  Stage = "consent"   // intro said, waiting for yes or no to consent
	StageQuestion Stage = "question"  // asking Session.Question
	StageOffer    Stage = "offer"     // three tries failed: offered a person (then moves on)
	StageDone     Stage = "done"      // thanks said, or consent refused
	StageFollowUp Stage = "follow-up" // thanks said; asked "Can we text you to tell you what we did?"
)

// Session is all the state of one conversation. It round-trips through
// encoding/json and stays small.
type Session struct {
	SurveyID string            `json:"survey"`
	Version  int               `json:"version,omitempty"` // set by the caller; the engine ignores it
	Channel  Channel           `json:"channel"`
	Lang     string            `json:"lang,omitempty"`
	Needs    Needs             `json:"needs,omitzero"`
	Stage    Stage             `json:"stage"`
	Question string            `json:"question,omitempty"` // current question id
	Tries    int               `json:"tries,omitempty"`    // failed tries at the current step
	Path     []string          `json:"path,omitempty"`     // questions answered or passed, in order
	Answers  map[string]string `json:"answers,omitempty"`  // question id -> value
	Handoff  bool              `json:"handoff,omitempty"`  // a person was asked for during this conversation
}

// Input is what the member sent: one of these is set.
type Input struct {
	Text       string     // SMS body or typed text
	Digits     string     // keypad
	Speech     string     // speech recognition result
	Confidence float64    // of Speech, 0..1 (0: not given)
	NoInput    bool       // silence or time-out
	Recording  *Recording // a voice recording (words questions)
}

// Recording is a voice recording made for a words question.
type Recording struct {
	URL     string `json:"url"`
	SID     string `json:"sid,omitempty"`
	Seconds int    `json:"seconds"`
}

// Prompt is one thing to say or send. Key is stable, so a recorded audio
// file can stand in for Text: "intro", "consent", "menu:consent",
// "language:<lang>", "progress", "question:<id>", "simpler:<id>",
// "menu:<id>", "confirm", "retry", "simpler", "ambiguous", "offer",
// "menu:offer", "help", "back-to-question", "skipped", "must-answer",
// "moving-on", "back", "first-question", "not-heard", "words-key",
// "no-answer", "supporter",
// "thanks", "bye", "finished", "simpler:consent", "no-consent", "again".
type Prompt struct {
	Key  string `json:"key"`
	Text string `json:"text"`
}

// Reply is what to say or send back, and what happened. It is
// channel-neutral.
type Reply struct {
	Prompts   []Prompt // in order: SMS joins them, voice says or plays each
	Expect    Expect   // what input comes next (zero when Done)
	Events    []Event  // what happened at this step, in order, for the channel to keep
	Done      bool     // conversation over
	Slow      bool     // speak slowly
	Supporter bool     // a supporter is answering with the member
	Lang      string   // the language of the prompts
}

// Answer returns the answer recorded at this step, if any.
func (r Reply) Answer() (Answer, bool) {
	a, ok := Find[Answered](r.Events)
	return a.Answer, ok
}

// Handoff reports whether the member asked for a person at this step (or
// said yes to the offer of one).
func (r Reply) Handoff() bool {
	_, ok := Find[PersonAsked](r.Events)
	return ok
}

// Expect says what input the next step wants.
type Expect struct {
	Kind       string   // "consent", "language", "offer", "choice", "yesno", "scale", "number", "words"
	QuestionID string   // for questions
	Keys       string   // valid single keys, e.g. "123*0#"
	NumDigits  int      // 1 when one key press is a whole answer; 0: any length, ended by #
	Hints      []string // speech hints
	Record     bool     // by phone: record the answer
	MaxSeconds int      // longest recording
	Optional   bool     // may be skipped with #
}

// Answer is one recorded answer (or a recorded lack of one).
type Answer struct {
	QuestionID string     `json:"question"`
	Value      string     `json:"value"`         // option value, number as decimal, or free text ("" for a recording)
	Raw        string     `json:"raw,omitempty"` // what the member sent
	Via        string     `json:"via,omitempty"` // "digits", "words", "typo", "emoji", "speech", "text", "recording"
	NoAnswer   bool       `json:"no_answer,omitempty"`
	Skipped    bool       `json:"skipped,omitempty"`
	Recording  *Recording `json:"recording,omitempty"`
	Themes     []string   `json:"themes,omitempty"`
}

// Text joins the prompts for an SMS: one a line (a menu keeps its own
// lines, one option each), single spaces, and typographic punctuation made
// plain so the text stays GSM-7 when it can.
func (r Reply) Text() string {
	var b strings.Builder
	for _, p := range r.Prompts {
		for _, line := range strings.Split(gsmFriendly.Replace(p.Text), "\n") {
			t := strings.Join(strings.Fields(line), " ")
			if t == "" {
				continue
			}
			if b.Len() > 0 {
				b.WriteByte('\n')
			}
			b.WriteString(t)
		}
	}
	return b.String()
}

type engine struct {
	s    *Survey
	sess Session
	r    Reply
}

// Start begins a conversation: a language menu when the survey has more
// than one language, else the intro and the consent question.
func Start(s *Survey, ch Channel, needs Needs) (Reply, Session) {
	sess := Session{Channel: ch, Needs: needs}
	if s == nil || len(s.Questions) == 0 {
		sess.Stage = StageDone
		return Reply{Done: true, Prompts: []Prompt{{Key: "finished", Text: DefaultPhrases["finished"]}}, Slow: needs.SlowSpeech}, sess
	}
	sess.SurveyID, sess.Lang = s.ID, s.Language
	e := &engine{s: s, sess: sess}
	if len(s.Translations) > 0 {
		e.sess.Stage = StageLanguage
		e.languageMenu()
	} else {
		e.enterConsent()
	}
	return e.finish()
}

// Step moves a conversation on by one input. It is deterministic, pure
// (the session passed in is not changed) and never panics.
func Step(s *Survey, sess Session, in Input) (Reply, Session) {
	e := &engine{s: s, sess: sess}
	e.sess.Path = append([]string(nil), sess.Path...)
	if sess.Answers != nil {
		e.sess.Answers = make(map[string]string, len(sess.Answers)+1)
		for k, v := range sess.Answers {
			e.sess.Answers[k] = v
		}
	}
	if s == nil || len(s.Questions) == 0 {
		e.sess.Stage = StageDone
		e.stepDone(in)
		return e.finish()
	}
	if !s.hasLanguage(e.sess.Lang) {
		e.sess.Lang = s.Language
	}
	switch e.sess.Stage {
	case StageLanguage:
		e.stepLanguage(in)
	case StageConsent:
		e.stepConsent(in)
	case StageQuestion:
		e.stepQuestion(in)
	case StageOffer:
		e.stepOffer(in)
	case StageFollowUp:
		e.stepFollowUp(in)
	case StageDone:
		e.stepDone(in)
	default:
		// a session we do not understand: start again, kindly
		r, ns := Start(s, sess.Channel, sess.Needs)
		ns.Version = sess.Version
		return r, ns
	}
	return e.finish()
}

func (e *engine) phrase(key string) string { return e.s.phrase(e.sess.Lang, key) }

func (e *engine) emit(ev Event) { e.r.Events = append(e.r.Events, ev) }

func (e *engine) say(key, text string) {
	if text != "" {
		e.r.Prompts = append(e.r.Prompts, Prompt{Key: key, Text: text})
	}
}

func (e *engine) sms() bool { return e.sess.Channel != Voice }

func (e *engine) finish() (Reply, Session) {
	e.r.Slow = e.sess.Needs.SlowSpeech
	e.r.Supporter = e.sess.Needs.Supporter
	e.r.Lang = e.sess.Lang
	e.r.Done = e.sess.Stage == StageDone
	if !e.r.Done {
		e.r.Expect = e.expect()
	}
	return e.r, e.sess
}

// ---- input ----

type builtin int

const (
	noBuiltin builtin = iota
	biRepeat
	biHelp
	biSkip
	biBack
)

var builtinWord = map[builtin]string{biRepeat: "*", biHelp: "help", biSkip: "#", biBack: "back"}

var builtinPhrases = map[string]builtin{
	"*": biRepeat, "star": biRepeat, "again": biRepeat, "repeat": biRepeat, "say again": biRepeat,
	"repeat that": biRepeat, "pardon": biRepeat, "say that again": biRepeat, "what": biRepeat,
	"0": biHelp, "help": biHelp, "person": biHelp, "talk to person": biHelp, "speak to person": biHelp,
	"talk to someone": biHelp, "speak to someone": biHelp, "human": biHelp, "operator": biHelp,
	"need help": biHelp, "help me": biHelp,
	"#": biSkip, "skip": biSkip, "pass": biSkip, "hash": biSkip, "pound": biSkip, "skip this": biSkip,
	"skip question": biSkip, "skip this question": biSkip, "skip this one": biSkip, "next": biSkip,
	"next question": biSkip, "skip that": biSkip,
	"back": biBack, "previous": biBack, "undo": biBack, "change": biBack, "change answer": biBack,
	"previous question": biBack, "last question": biBack,
}

// looseBuiltins are words that, in a short reply we could not otherwise
// understand ("can you repeat that?"), still ask for a built-in.
var looseBuiltins = map[string]builtin{
	"repeat": biRepeat, "again": biRepeat, "pardon": biRepeat,
	"help": biHelp, "person": biHelp, "someone": biHelp, "somebody": biHelp, "human": biHelp, "operator": biHelp,
	"skip": biSkip,
}

func looseBuiltinOf(raw string) builtin {
	toks := tokens(raw, true)
	if len(toks) > 6 {
		return noBuiltin
	}
	found := noBuiltin
	for _, t := range toks {
		if b, ok := looseBuiltins[t]; ok {
			if found != noBuiltin && found != b {
				return noBuiltin
			}
			found = b
		}
	}
	return found
}

func builtinOf(raw string) builtin {
	t := strings.TrimSpace(raw)
	switch t {
	case "*", "0", "#":
		return builtinPhrases[t]
	}
	if len(t) > 40 {
		return noBuiltin
	}
	return builtinPhrases[strings.Join(tokens(t, true), " ")]
}

// input picks the member's input: keypad first, then speech, then text.
func input(in Input) (text, src string, silent bool) {
	switch {
	case in.Digits != "":
		return in.Digits, "digits", false
	case strings.TrimSpace(in.Speech) != "":
		return in.Speech, "speech", false
	case strings.TrimSpace(in.Text) != "":
		return in.Text, "text", false
	}
	return "", "", true
}

// ---- language ----

func (e *engine) languageQuestion() *Question {
	q := &Question{ID: "language", Answer: Choice}
	for i, l := range e.s.Languages() {
		if i >= 9 {
			break
		}
		base := strings.ToLower(l)
		if j := strings.IndexAny(base, "-_"); j > 0 {
			base = base[:j]
		}
		name := e.s.LanguageName(l)
		words := []string{l, base}
		if n, ok := englishLanguageNames[base]; ok {
			words = append(words, n)
		}
		q.Options = append(q.Options, Option{Value: l, Say: name, Key: strconv.Itoa(i + 1), Words: words})
	}
	return q
}

var englishLanguageNames = map[string]string{"en": "english", "cy": "welsh", "gd": "gaelic", "ga": "irish", "pl": "polish", "ur": "urdu", "pa": "punjabi", "bn": "bengali", "gu": "gujarati", "ar": "arabic", "so": "somali", "fr": "french", "es": "spanish", "pt": "portuguese", "ro": "romanian", "it": "italian", "de": "german", "zh": "chinese"}

func (e *engine) languageMenu() {
	q := e.languageQuestion()
	key := "voice-language"
	if e.sms() {
		key = "sms-language"
	}
	for _, o := range q.Options {
		e.say("language:"+o.Value, fill(e.s.phrase(o.Value, key), "key", o.Key, "name", o.Say))
	}
}

func (e *engine) stepLanguage(in Input) {
	text, _, silent := input(in)
	if !silent {
		switch builtinOf(text) {
		case biRepeat:
			e.languageMenu()
			return
		case biHelp:
			e.help(false)
			e.languageMenu()
			return
		}
		if v, _, ok, _ := compileMatcher(e.languageQuestion()).match(text); ok {
			e.sess.Lang = v
			e.sess.Tries = 0
			e.emit(LanguageChosen{Lang: v})
			e.enterConsent()
			return
		}
	}
	e.sess.Tries++
	if e.sess.Tries >= 2 {
		// never stuck: carry on in the survey's own language
		e.sess.Lang = e.s.Language
		e.sess.Tries = 0
		e.enterConsent()
		return
	}
	e.say("retry", e.phrase("retry"))
	e.languageMenu()
}

// ---- consent ----

func (e *engine) yesNoQuestion(id string) *Question {
	return &Question{ID: id, Answer: YesNo, Options: []Option{
		{Value: "yes", Say: e.phrase("yes"), Key: "1", Emoji: defaultYesNo[0].Emoji},
		{Value: "no", Say: e.phrase("no"), Key: "2", Emoji: defaultYesNo[1].Emoji},
	}}
}

func (e *engine) enterConsent() {
	e.sess.Stage = StageConsent
	e.sess.Question = ""
	e.sess.Tries = 0
	e.say("intro", e.s.localText(e.sess.Lang, "intro"))
	if e.sms() {
		// Callers hear voice-notice before the intro (ivr); texters read
		// it here, before they are asked for consent.
		e.say("sms-notice", e.phrase("sms-notice"))
	}
	if e.sess.Needs.Supporter {
		e.say("supporter", e.phrase("supporter"))
	}
	e.consentPrompts()
}

func (e *engine) consentPrompts() {
	e.say("consent", e.s.localText(e.sess.Lang, "consent"))
	e.say("menu:consent", e.menu(e.yesNoQuestion("consent")))
}

// simplerConsent asks for consent in the fewest words.
func (e *engine) simplerConsent() {
	e.say("simpler:consent", e.phrase("consent-simpler"))
	e.say("menu:consent", e.menu(e.yesNoQuestion("consent")))
}

// stepConsent: only a clear yes gives consent and only a clear no refuses
// it. Anything else is asked again, then more simply, then a person is
// offered.
func (e *engine) stepConsent(in Input) {
	text, _, silent := input(in)
	if !silent {
		b := builtinOf(text)
		v, _, ok, amb := compileMatcher(e.yesNoQuestion("consent")).match(text)
		if b == noBuiltin && !ok && !amb {
			b = looseBuiltinOf(text)
		}
		switch {
		case b == biRepeat:
			if e.sess.Tries >= 2 {
				e.simplerConsent()
			} else {
				e.consentPrompts()
			}
			return
		case b == biHelp:
			e.help(false)
			e.consentPrompts()
			return
		case ok && v == "yes":
			e.sess.Tries = 0
			e.emit(ConsentGiven{Words: text})
			e.enterFirstQuestion()
			return
		case ok && v == "no":
			e.refuse(text)
			return
		}
	}
	e.sess.Tries++
	switch e.sess.Tries {
	case 1:
		if silent {
			e.say("no-answer", e.phrase("no-answer"))
		} else {
			e.say("retry", e.phrase("retry"))
		}
		e.consentPrompts()
	case 2:
		e.say("simpler", e.phrase("simpler"))
		e.simplerConsent()
	default:
		e.offer()
	}
}

// refuse ends on a clear no to consent: nothing is kept but the refusal.
func (e *engine) refuse(words string) {
	e.emit(ConsentRefused{Words: words})
	e.forget()
	e.say("bye", e.phrase("consent-no"))
	e.emit(Ended{How: Refused})
}

// noConsent ends a conversation in which consent was never clearly given,
// at the offer of a person. Nothing is said about answers (there are
// none); the door is left open.
func (e *engine) noConsent(personAsked bool) {
	e.emit(ConsentNotGiven{})
	e.forget()
	if !personAsked {
		e.say("no-consent", e.phrase("no-consent"))
	}
	e.startAgain()
	e.emit(Ended{How: NoConsent})
}

// startAgain tells the member how to come back.
func (e *engine) startAgain() {
	switch {
	case !e.sms():
		e.say("again", e.phrase("again-voice"))
	case len(e.s.Keywords) > 0:
		e.say("again", fill(e.phrase("again-sms"), "keyword", e.s.Keywords[0]))
	default:
		e.say("again", e.phrase("again-sms-number"))
	}
}

// forget ends the conversation keeping nothing from it.
func (e *engine) forget() {
	e.sess.Stage = StageDone
	e.sess.Question = ""
	e.sess.Tries = 0
	e.sess.Path = nil
	e.sess.Answers = nil
}

// stepDone answers after the end: a person is still there for whoever
// asks; anything else is told kindly that the survey is finished.
func (e *engine) stepDone(in Input) {
	e.sess.Stage = StageDone
	if text, _, silent := input(in); !silent {
		b := builtinOf(text)
		if b == noBuiltin {
			b = looseBuiltinOf(text)
		}
		if b == biHelp {
			e.help(false)
			return
		}
	}
	e.say("finished", e.phrase("finished"))
}

// ---- questions ----

func (e *engine) enterFirstQuestion() {
	e.enterQuestion(e.s.Questions[0].ID)
}

func (e *engine) enterQuestion(id string) {
	e.sess.Stage = StageQuestion
	e.sess.Question = id
	e.sess.Tries = 0
	q := e.s.Question(id)
	if q == nil {
		e.end()
		return
	}
	// A follow-up (asked only because of an answer) has no number: the
	// intro counted the main questions, and "Question 2 of 3" must not
	// become "of 4" half way through.
	if !e.followUps()[id] {
		n, total := e.progress()
		e.say("progress", fill(e.phrase("progress"), "n", strconv.Itoa(n), "total", strconv.Itoa(total)))
	}
	e.ask(q, e.sess.Needs.EasyRead)
}

// ask says the question (simpler wording when asked for) and its menu.
func (e *engine) ask(q *Question, simpler bool) {
	lq := e.s.localQuestion(q, e.sess.Lang)
	if simpler && lq.Simpler != "" {
		e.say("simpler:"+q.ID, lq.Simpler)
	} else {
		e.say("question:"+q.ID, lq.Ask)
	}
	e.say("menu:"+q.ID, e.menu(lq))
}

// progress returns "Question n of total", counting main questions only
// (follow-ups are not numbered): n counts those passed so far; total adds
// those still ahead on the path the answers so far have chosen, so it only
// changes when a branch skips main questions.
func (e *engine) progress() (int, int) {
	fu := e.followUps()
	n := 1
	for _, id := range e.sess.Path {
		if !fu[id] && id != e.sess.Question {
			n++
		}
	}
	remaining := 0
	id := e.sess.Question
	for steps := 0; id != "" && steps <= len(e.s.Questions); steps++ {
		q := e.s.Question(id)
		if q == nil {
			break
		}
		if !fu[id] {
			remaining++
		}
		v, ok := e.sess.Answers[id]
		id = e.nextID(q, v, ok && id != e.sess.Question)
	}
	return n, n - 1 + remaining
}

// nextID says where to go after q ("" for the end).
func (e *engine) nextID(q *Question, value string, answered bool) string {
	to, ok := "", false
	if answered {
		to, ok = q.Then[value]
	}
	if !ok {
		to, ok = q.Then[ElseKey]
	}
	if ok {
		if to == EndTarget {
			return ""
		}
		if e.s.Question(to) != nil {
			return to
		}
	}
	i := e.s.QuestionIndex(q.ID)
	if i < 0 {
		return ""
	}
	if j := nextInOrder(e.s, i, e.followUps()); j < len(e.s.Questions) {
		return e.s.Questions[j].ID
	}
	return ""
}

func (e *engine) followUps() map[string]bool {
	if e.s.followUps != nil {
		return e.s.followUps
	}
	return followUps(e.s)
}

func (e *engine) current() *Question {
	q := e.s.Question(e.sess.Question)
	if q != nil {
		return q
	}
	// an unknown question (the survey changed): the first one not yet passed
	for i := range e.s.Questions {
		if !contains(e.sess.Path, e.s.Questions[i].ID) {
			return &e.s.Questions[i]
		}
	}
	return nil
}

func (e *engine) stepQuestion(in Input) {
	q := e.current()
	if q == nil {
		e.end()
		return
	}
	if q.ID != e.sess.Question {
		e.enterQuestion(q.ID)
		return
	}
	text, src, silent := input(in)
	voiceWords := q.Answer == Words && !e.sms()
	if voiceWords && in.Recording != nil && in.Digits == "" {
		if in.Recording.Seconds >= 1 {
			rec := *in.Recording
			e.record(q, &Answer{QuestionID: q.ID, Via: "recording", Recording: &rec}, "", true)
			return
		}
		e.failWords(q, false)
		return
	}
	if !silent {
		b := builtinOf(text)
		if q.Answer == Number && b == biHelp && strings.TrimSpace(text) == "0" {
			if _, _, ok, _ := e.s.matcherFor(q, e.sess.Lang).match(text); ok {
				b = noBuiltin // 0 is an answer here; "help" still reaches a person
			}
		}
		if b == biBack && !e.sms() {
			b = noBuiltin
		}
		switch b {
		case biRepeat:
			e.ask(q, e.sess.Tries >= 2 || e.sess.Needs.EasyRead)
			return
		case biHelp:
			e.help(false)
			e.say("back-to-question", e.phrase("back-to-question"))
			e.ask(q, e.sess.Tries >= 2 || e.sess.Needs.EasyRead)
			return
		case biSkip:
			if q.Optional {
				e.say("skipped", e.phrase("skipped"))
				e.advance(q, &Answer{QuestionID: q.ID, Skipped: true, Raw: text, Via: src}, "", false)
				return
			}
			e.say("must-answer", e.phrase("must-answer"))
			e.ask(q, e.sess.Tries >= 2 || e.sess.Needs.EasyRead)
			return
		case biBack:
			e.back()
			return
		}
		if src == "speech" && in.Confidence > 0 && in.Confidence < 0.2 && q.Answer != Words {
			e.fail(q, false, false)
			return
		}
		if q.Answer == Words {
			if voiceWords && src == "digits" {
				e.failWords(q, true)
				return
			}
			via := "text"
			if src == "speech" {
				via = "speech"
			}
			e.record(q, &Answer{QuestionID: q.ID, Value: text, Raw: text, Via: via}, text, true)
			return
		}
		v, via, ok, amb := e.s.matcherFor(q, e.sess.Lang).match(text)
		if ok {
			if src == "speech" {
				via = "speech"
			}
			e.record(q, &Answer{QuestionID: q.ID, Value: v, Raw: text, Via: via}, v, true)
			return
		}
		if !amb && b == noBuiltin {
			if lb := looseBuiltinOf(text); lb != noBuiltin {
				e.stepQuestion(Input{Text: builtinWord[lb]})
				return
			}
		}
		e.fail(q, amb, false)
		return
	}
	if voiceWords {
		e.failWords(q, false)
		return
	}
	e.fail(q, false, true)
}

// record confirms an answer and moves on.
func (e *engine) record(q *Question, a *Answer, value string, answered bool) {
	switch {
	case a.Recording != nil:
		e.say("confirm", e.phrase("confirm-recording"))
	case q.Answer == Words:
		e.say("confirm", e.phrase("confirm-words"))
	default:
		e.say("confirm", fill(e.phrase("confirm"), "answer", e.sayValue(q, value)))
	}
	e.advance(q, a, value, answered)
}

// sayValue is how an answer value is said back: the option's words.
func (e *engine) sayValue(q *Question, value string) string {
	for _, o := range e.s.localQuestion(q, e.sess.Lang).options() {
		if o.Value == value {
			return o.Say
		}
	}
	return value
}

// advance stores the answer, moves to the next question (or the end) and
// asks it.
func (e *engine) advance(q *Question, a *Answer, value string, answered bool) {
	a.Themes = q.Themes
	e.emit(Answered{Answer: *a})
	if n := len(e.sess.Path); n == 0 || e.sess.Path[n-1] != q.ID {
		e.sess.Path = append(e.sess.Path, q.ID)
	}
	if answered {
		if e.sess.Answers == nil {
			e.sess.Answers = map[string]string{}
		}
		e.sess.Answers[q.ID] = value
	} else if e.sess.Answers != nil {
		delete(e.sess.Answers, q.ID)
	}
	next := e.nextID(q, value, answered)
	if next != "" && (contains(e.sess.Path, next) || len(e.sess.Path) > 2*len(e.s.Questions)) {
		// never go round in a circle, even in a survey built by hand
		next = ""
		if i := e.s.QuestionIndex(q.ID); i >= 0 {
			for j := i + 1; j < len(e.s.Questions); j++ {
				if !contains(e.sess.Path, e.s.Questions[j].ID) {
					next = e.s.Questions[j].ID
					break
				}
			}
		}
	}
	if next == "" {
		e.end()
		return
	}
	e.enterQuestion(next)
}

func (e *engine) end() {
	e.sess.Stage = StageDone
	e.sess.Question = ""
	e.sess.Tries = 0
	thanks := e.s.localText(e.sess.Lang, "thanks")
	if thanks == "" {
		thanks = e.phrase("thanks")
	}
	e.say("thanks", thanks)
	e.emit(Ended{How: Completed})
	e.askFollowUp()
}

// fail walks the ladder: ask again, then more simply, then offer a person.
// ambiguous: the answer fitted two options; silent: there was no answer.
func (e *engine) fail(q *Question, ambiguous, silent bool) {
	e.sess.Tries++
	switch {
	case e.sess.Tries == 1:
		switch {
		case ambiguous:
			e.say("ambiguous", e.phrase("ambiguous"))
		case silent:
			e.say("no-answer", e.phrase("no-answer"))
		default:
			e.say("retry", e.phrase("retry"))
		}
		e.ask(q, e.sess.Needs.EasyRead)
	case e.sess.Tries == 2:
		e.say("simpler", e.phrase("simpler"))
		e.ask(q, true)
	default:
		e.offer()
	}
}

// failWords: a recording too short (or none), or a key that is no answer
// (key), is asked for once more, then the survey moves on.
func (e *engine) failWords(q *Question, key bool) {
	e.sess.Tries++
	if e.sess.Tries >= 2 {
		e.say("moving-on", e.phrase("moving-on"))
		e.advance(q, &Answer{QuestionID: q.ID, NoAnswer: true}, "", false)
		return
	}
	if key {
		e.say("words-key", e.phrase("words-key"))
	} else {
		e.say("not-heard", e.phrase("not-heard"))
	}
	e.ask(q, e.sess.Needs.EasyRead)
}

// help books a person: offered says it was at the offer of one.
func (e *engine) help(offered bool) {
	e.emit(PersonAsked{Stage: e.sess.Stage, QuestionID: e.sess.Question, Offered: offered})
	e.sess.Handoff = true
	if e.sms() && !e.sess.Needs.VoiceOnly {
		e.say("help", e.phrase("help-sms"))
	} else {
		e.say("help", e.phrase("help-voice"))
	}
}

func (e *engine) offer() {
	e.sess.Stage = StageOffer
	e.sess.Tries = 0
	e.offerPrompts()
}

func (e *engine) offerPrompts() {
	e.say("offer", e.phrase("offer"))
	e.say("menu:offer", e.menu(e.yesNoQuestion("offer")))
}

func (e *engine) stepOffer(in Input) {
	q := e.s.Question(e.sess.Question)
	text, src, silent := input(in)
	if !silent {
		switch builtinOf(text) {
		case biRepeat:
			e.offerPrompts()
			return
		case biHelp:
			e.acceptOffer(q)
			return
		case biBack:
			if e.sms() && q != nil {
				e.back()
				return
			}
		}
		digits := src == "digits" || isDigits(strings.TrimSpace(text))
		if !digits && q != nil && q.Answer != Words && q.Answer != YesNo {
			// they answered the question after all
			if v, via, ok, _ := e.s.matcherFor(q, e.sess.Lang).match(text); ok {
				if src == "speech" {
					via = "speech"
				}
				e.sess.Stage = StageQuestion
				e.record(q, &Answer{QuestionID: q.ID, Value: v, Raw: text, Via: via}, v, true)
				return
			}
		}
		v, _, ok, _ := compileMatcher(e.yesNoQuestion("offer")).match(text)
		if ok && v == "yes" {
			e.acceptOffer(q)
			return
		}
	}
	if q == nil { // the offer was made at consent: no, silence, "maybe later"
		e.noConsent(false)
		return
	}
	e.say("moving-on", e.phrase("moving-on"))
	e.advance(q, &Answer{QuestionID: q.ID, NoAnswer: true}, "", false)
}

func (e *engine) acceptOffer(q *Question) {
	e.help(true)
	if q == nil { // at consent: a person will be in touch; nothing is kept
		e.noConsent(true)
		return
	}
	e.advance(q, &Answer{QuestionID: q.ID, NoAnswer: true}, "", false)
}

// back goes to the last question passed, to change its answer (SMS).
func (e *engine) back() {
	n := len(e.sess.Path)
	if n == 0 {
		e.sess.Stage = StageQuestion
		e.sess.Tries = 0
		e.say("first-question", e.phrase("first-question"))
		if q := e.current(); q != nil {
			e.ask(q, e.sess.Needs.EasyRead)
		}
		return
	}
	prev := e.sess.Path[n-1]
	e.sess.Path = e.sess.Path[:n-1]
	if e.sess.Answers != nil {
		delete(e.sess.Answers, prev)
	}
	e.say("back", e.phrase("back"))
	e.enterQuestion(prev)
}

// ---- menus ----

// menu builds the menu of q for the session's channel, the choice before
// the key: "For Yes, press 1." by phone; by text one option a line,
// "Reply with a number:", "1 Yes", "2 No".
func (e *engine) menu(q *Question) string {
	sms := e.sms()
	emoji := sms && (e.s.SMSEmoji || e.sess.Needs.EmojiMenus)
	var out string
	switch q.Answer {
	case Choice, YesNo:
		var items []string
		for _, o := range q.options() {
			say := o.Say
			if emoji && len(o.Emoji) > 0 {
				say += " " + o.Emoji[0]
			}
			if sms {
				items = append(items, fill(e.phrase("sms-menu-item"), "key", o.Key, "say", say))
			} else {
				items = append(items, fill(e.phrase("voice-menu-item"), "key", o.Key, "say", say))
			}
		}
		if sms {
			// one option a line: "Reply with a number:", "1 Good", "2 OK"
			out = fill(e.phrase("sms-menu"), "items", strings.Join(items, ", "))
			if !strings.Contains(e.phrase("sms-menu"), "{items}") {
				out = strings.Join(append([]string{out}, items...), "\n")
			}
		} else {
			out = strings.Join(items, " ")
		}
	case Scale:
		lo, hi, _, _ := q.Range()
		key := "voice-scale"
		if sms {
			key = "sms-scale"
		}
		out = fill(e.phrase(key), "min", strconv.Itoa(lo), "max", strconv.Itoa(hi))
	case Number:
		lo, hi, hasLo, hasHi := q.Range()
		switch {
		case !sms && q.Optional:
			// "#" skips, so the number is taken when they stop pressing
			out = e.phrase("voice-number-optional")
		case !sms:
			out = e.phrase("voice-number")
		case hasLo && hasHi:
			out = fill(e.phrase("sms-number-range"), "min", strconv.Itoa(lo), "max", strconv.Itoa(hi))
		default:
			out = e.phrase("sms-number")
		}
	case Words:
		switch {
		case sms:
			out = e.phrase("sms-words")
		case q.Optional && (e.s.ownPhrase(e.sess.Lang, "voice-words-skip") ||
			!e.s.ownPhrase(e.sess.Lang, "voice-words") && !e.s.ownPhrase(e.sess.Lang, "voice-skip")):
			// By phone "#" skips before the beep and finishes after it:
			// say which is which, skip first. (A survey that words the
			// two parts itself, in a translation say, keeps its words.)
			return e.phrase("voice-words-skip")
		default:
			out = e.phrase("voice-words")
		}
	}
	if q.Optional {
		if sms {
			out += "\n" + e.phrase("sms-skip")
		} else {
			out += " " + e.phrase("voice-skip")
		}
	}
	return out
}

func (e *engine) expect() Expect {
	switch e.sess.Stage {
	case StageLanguage:
		q := e.languageQuestion()
		x := Expect{Kind: "language", NumDigits: 1}
		for _, o := range q.Options {
			x.Keys += o.Key
			x.Hints = append(x.Hints, o.Say)
		}
		x.Keys += "*0"
		return x
	case StageConsent, StageOffer, StageFollowUp:
		return Expect{Kind: string(e.sess.Stage), QuestionID: e.sess.Question, Keys: "12*0", NumDigits: 1,
			Hints: []string{e.phrase("yes"), e.phrase("no"), "repeat", "help"}}
	case StageQuestion:
		q := e.s.Question(e.sess.Question)
		if q == nil {
			return Expect{}
		}
		lq := e.s.localQuestion(q, e.sess.Lang)
		x := Expect{Kind: string(q.Answer), QuestionID: q.ID, Optional: q.Optional}
		switch q.Answer {
		case Choice, YesNo:
			x.NumDigits = 1
			for _, o := range lq.options() {
				x.Keys += o.Key
				x.Hints = append(x.Hints, o.Say)
				x.Hints = append(x.Hints, o.Words...)
			}
			x.Keys += "*0"
		case Scale:
			lo, hi, _, _ := q.Range()
			for v := lo; v <= hi && v <= 9; v++ {
				if v > 0 {
					x.Keys += strconv.Itoa(v)
				}
				if v >= 0 && v < len(numberNames) {
					x.Hints = append(x.Hints, numberNames[v])
				}
			}
			x.Keys += "*0"
			if hi <= 9 {
				x.NumDigits = 1
			}
		case Number:
			x.Keys = "0123456789*"
		case Words:
			if !e.sms() {
				x.Record = true
				x.MaxSeconds = q.MaxSeconds
				if x.MaxSeconds == 0 {
					x.MaxSeconds = 60
				}
			}
		}
		if q.Optional {
			x.Keys += "#"
			x.Hints = append(x.Hints, "skip")
		}
		if q.Answer != Words {
			x.Hints = append(x.Hints, "repeat", "help")
		}
		return x
	}
	return Expect{}
}

var numberNames = []string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"}
