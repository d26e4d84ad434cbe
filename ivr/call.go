package ivr

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/twilio/twilio-go/twiml"

	"github.com/haveyoursay/haveyoursay/store"
	"github.com/haveyoursay/haveyoursay/survey"
	"github.com/haveyoursay/haveyoursay/webhook"
)

// ServeIncoming answers POST /twilio/voice: a call comes in. The number
// called picks the survey (a number that serves none in particular offers
// a keypad menu of surveys); someone who hung up in the last
// VOICE_SESSION_TTL is offered to carry on where they stopped.
func (h *Handler) ServeIncoming(w http.ResponseWriter, r *http.Request) {
	h.serveTwiML(w, r, h.incoming)
}

// ServeStep answers POST /twilio/voice/step: a key press, words spoken or
// silence at a <Gather>, or (with r=1) the current question again.
func (h *Handler) ServeStep(w http.ResponseWriter, r *http.Request) {
	h.serveTwiML(w, r, h.step)
}

func (h *Handler) incoming(ctx context.Context, c *call, r *http.Request) ([]twiml.Element, error) {
	if h.isRecordingLine(c.to) {
		return h.recordingLine(), nil
	}
	needs := h.needs(ctx, c.from)
	byNumber, version, numbered := h.Catalog.ByNumber(c.to)
	onNumber := h.Catalog.OnNumber(c.to)

	// Carry on where they stopped: on a number that names surveys, only
	// when it names the one they stopped in.
	if rs, ok := h.loadResume(ctx, c.from); ok && (len(onNumber) == 0 || slices.Contains(onNumber, rs.Sess.SurveyID)) {
		if sv, err := h.Catalog.Version(ctx, rs.Sess.SurveyID, rs.Sess.Version); err == nil {
			rs.Sess.Needs = needs // as staff set them now
			st := callState{Conv: rs.Conv, N: c.firstN(), Mode: modeResume, Sess: rs.Sess}
			return append([]twiml.Element{h.notice(sv, rs.Sess.Lang, rs.Sess.Needs.SlowSpeech)}, h.resumeOffer(sv, st, "")...), nil
		}
	}
	if numbered {
		return h.begin(ctx, c, byNumber, version, needs, true, nil), nil
	}
	// A number several surveys share offers those; a number no survey
	// names offers every survey with a keyword.
	picks := onNumber
	if len(picks) == 0 {
		for _, k := range h.Catalog.Keywords() {
			picks = append(picks, k.SurveyID)
		}
	}
	if len(picks) > 9 {
		picks = picks[:9]
	}
	switch len(picks) {
	case 0:
		lang := h.conf().Language
		return []twiml.Element{h.notice(nil, lang, needs.SlowSpeech), h.say(h.phrase(nil, lang, "voice-nothing"), lang, needs.SlowSpeech), &twiml.VoiceHangup{}}, nil
	case 1:
		if sv, version, ok := h.Catalog.Current(picks[0]); ok {
			return h.begin(ctx, c, sv, version, needs, true, nil), nil
		}
	}
	st := callState{N: c.firstN(), Mode: modePick, Picks: picks, Sess: survey.Session{Needs: needs}}
	lang := h.conf().Language
	return append([]twiml.Element{h.notice(nil, lang, needs.SlowSpeech)}, h.pickMenu(st, "")...), nil
}

// begin starts a survey: the recording notice (unless already said), the
// intro with how many questions and how long, and consent.
func (h *Handler) begin(ctx context.Context, c *call, sv *survey.Survey, version int, needs survey.Needs, notice bool, lead []twiml.Element) []twiml.Element {
	reply, sess := survey.Start(sv, survey.Voice, needs)
	sess.Version = version
	st := callState{Conv: c.conv(), N: c.firstN(), Sess: sess}
	callSid := c.sid // conversations.call_sid is unique: only the call's first conversation has it
	if c.restart > 0 {
		callSid = ""
	}
	h.record(ctx, store.Event{Conversation: &store.ConversationStarted{ID: c.conv(), Person: h.caller(c), SurveyID: sv.ID,
		Version: version, Channel: "voice", CallSid: callSid, Language: sess.Lang}})
	h.rememberCall(ctx, c.sid, c.conv())
	var els []twiml.Element
	if notice {
		els = append(els, h.notice(sv, sess.Lang, needs.SlowSpeech))
	}
	els = append(els, lead...)
	reply = h.offerWeDid(ctx, sv, sess, reply) // "To hear what we changed, press 9" (wedid.go)
	return append(els, h.renderReply(sv, c, st, reply)...)
}

func (h *Handler) step(ctx context.Context, c *call, r *http.Request) ([]twiml.Element, error) {
	q := r.URL.Query()
	st, err := h.open(q.Get("st"))
	if err != nil {
		// Only our own TwiML (or a Voice URL pasted wrongly) sends a step
		// without a state: start the call afresh rather than hang up.
		return h.restartCall(ctx, c, r, err)
	}
	if st.Conv == "" && st.Mode == modeSurvey {
		st.Conv = c.sid
	}
	in := inputOf(r.PostForm)
	if els, ok, err := h.recordingGate(ctx, c, st, q, in); ok {
		return els, err // "*" "*" at the start: recording prompts
	}
	if q.Get("r") == "1" {
		return h.repeat(ctx, c, st)
	}
	switch st.Mode {
	case modePick:
		return h.stepPick(ctx, c, st, in)
	case modeResume:
		return h.stepResume(ctx, c, st, in)
	}
	return h.stepSurvey(ctx, c, st, in)
}

// surveyOf loads the survey version a call is answering. When that
// version cannot be had (Postgres is down and it is not cached, or it no
// longer exists) the call carries on with the survey's current version,
// which the engine follows from where the member is; st.Sess.Version is
// changed to it, so the next steps ask for it.
func (h *Handler) surveyOf(ctx context.Context, st *callState) (*survey.Survey, error) {
	sv, err := h.Catalog.Version(ctx, st.Sess.SurveyID, st.Sess.Version)
	if err == nil {
		return sv, nil
	}
	cause := "postgres"
	if errors.Is(err, store.ErrNotFound) {
		cause = "unknown-survey"
	}
	err = fmt.Errorf("loading survey %q version %d: %w", st.Sess.SurveyID, st.Sess.Version, err)
	cur, version, ok := h.Catalog.Current(st.Sess.SurveyID)
	if !ok {
		return nil, fail(cause, err)
	}
	h.failed(cause, err)
	st.Sess.Version = version
	return cur, nil
}

// inputOf reads a <Gather> result. The keypad wins over speech. Digits
// keeps only keypad keys; a "#" that ended a longer entry ("12#", where
// finishOnKey is empty) is dropped; speech is made storable and cut to a
// sane length.
func inputOf(f url.Values) survey.Input {
	digits := dtmf(f.Get("Digits"))
	if trimmed := strings.TrimRight(digits, "#"); trimmed != "" {
		digits = trimmed
	} else if digits != "" {
		digits = "#"
	}
	in := survey.Input{Digits: digits, Speech: strings.TrimSpace(webhook.Storable(f.Get("SpeechResult"), maxSpeech))}
	if in.Digits != "" {
		in.Speech = ""
	} else if c, err := strconv.ParseFloat(f.Get("Confidence"), 64); err == nil {
		in.Confidence = c
	}
	in.NoInput = in.Digits == "" && in.Speech == ""
	return in
}

// describe says what the member did, for consent and call back records.
func describe(in survey.Input) string {
	switch {
	case in.Digits != "":
		return "pressed " + in.Digits
	case in.Speech != "":
		return fmt.Sprintf("said %q", in.Speech)
	case in.Recording != nil:
		return "recorded a message"
	}
	return "no answer"
}

// stepSurvey passes one input to the engine, journals what it decided
// (once per CallSid and step, however often Twilio sends the webhook) and
// answers the next question.
func (h *Handler) stepSurvey(ctx context.Context, c *call, st callState, in survey.Input) ([]twiml.Element, error) {
	sv, err := h.surveyOf(ctx, &st)
	if err != nil {
		return nil, err
	}
	if st.Sess.Stage == survey.StageConsent && in.Digits == weDidKey {
		return h.playWeDid(ctx, c, sv, st), nil // what we did, then consent again (wedid.go)
	}
	key := c.sid + ":" + strconv.Itoa(st.N)
	prev := st.Sess
	reply, next := survey.Step(sv, prev, in)
	nst := callState{Conv: st.Conv, N: st.N + 1, Sess: next}
	if h.claim(ctx, key) {
		h.record(ctx, h.events(c, st.Conv, key, prev, next, reply, in)...)
		h.saveResume(ctx, c.from, st.Conv, next, reply.Done)
	}
	out := h.renderReply(sv, c, nst, reply)
	if _, worrying := h.Risk.Match(in.Speech); worrying && in.Speech != "" {
		// Before anything else: we heard them, how to get help now, and
		// how to reach a person (0 works at every question). We never
		// ask about what they said.
		crisis := h.prompt(sv, reply.Lang, "crisis-voice", h.phrase(sv, reply.Lang, "crisis-voice"), reply.Slow)
		out = append([]twiml.Element{crisis}, out...)
	}
	return out, nil
}

// events is what one step of a call keeps: the key pressed or words said,
// and what the engine reported, through the path texts use too.
func (h *Handler) events(c *call, conv, key string, prev, next survey.Session, reply survey.Reply, in survey.Input) []store.Event {
	var events []store.Event
	if in.Digits != "" || in.Speech != "" {
		// Everything pressed or said is kept, understood or not: a
		// sentence the menu could not match may be the one that matters.
		stuck := next.Stage == prev.Stage && next.Question == prev.Question && next.Tries > prev.Tries
		a, answered := reply.Answer()
		missed := answered && a.NoAnswer
		ignored := prev.Stage == survey.StageDone && !reply.Handoff() // after the end only 0 means anything
		events = append(events, store.Event{Input: &store.CallInput{DedupeKey: key, ConversationID: conv, CallSid: c.sid,
			Stage: string(prev.Stage), QuestionID: prev.Question, Digits: in.Digits, Speech: in.Speech,
			Confidence: in.Confidence, Understood: !stuck && !missed && !ignored}})
		events = append(events, h.speechWorry(c, conv, key, in.Speech, !stuck && !missed && !ignored)...)
	}
	if len(reply.Events) == 0 {
		return events
	}
	return append(events, h.conversation(c, conv).Events(key, describe(in), reply.Events)...)
}

// conversation is the call's conversation, for the journal.
func (h *Handler) conversation(c *call, conv string) store.ConversationRef {
	return store.ConversationRef{ID: conv, Person: h.caller(c), Channel: string(survey.Voice)}
}

// repeat answers the current question (or menu) again, taking no input.
func (h *Handler) repeat(ctx context.Context, c *call, st callState) ([]twiml.Element, error) {
	switch st.Mode {
	case modePick:
		return h.pickMenu(st, ""), nil
	case modeResume:
		sv, err := h.surveyOf(ctx, &st)
		if err != nil {
			return nil, err
		}
		return h.resumeOffer(sv, st, ""), nil
	}
	sv, err := h.surveyOf(ctx, &st)
	if err != nil {
		return nil, err
	}
	reply, _ := survey.Step(sv, st.Sess, survey.Input{Digits: "*"})
	return h.renderReply(sv, c, st, reply), nil
}

// ---- choosing a survey ----

func (h *Handler) pickMenu(st callState, lead string) []twiml.Element {
	lang, slow := h.conf().Language, st.Sess.Needs.SlowSpeech
	var prompts []twiml.Element
	if lead != "" {
		prompts = append(prompts, h.say(lead, lang, slow))
	}
	prompts = append(prompts, h.prompt(nil, lang, "voice-pick", h.phrase(nil, lang, "voice-pick"), slow))
	x := survey.Expect{NumDigits: 1}
	for i, id := range st.Picks {
		if sv, _, ok := h.Catalog.Current(id); ok {
			item := survey.Phrase(lang, "voice-pick-item", "title", sv.Title, "key", strconv.Itoa(i+1))
			prompts = append(prompts, h.prompt(sv, lang, "voice-pick-item", item, slow))
			x.Hints = append(x.Hints, sv.Title)
		}
	}
	return h.gather(st, x, lang, prompts)
}

func (h *Handler) stepPick(ctx context.Context, c *call, st callState, in survey.Input) ([]twiml.Element, error) {
	chosen := -1
	if n, err := strconv.Atoi(in.Digits); err == nil && n >= 1 && n <= len(st.Picks) {
		chosen = n - 1
	}
	if in.Speech != "" {
		said := strings.ToLower(in.Speech)
		for i, id := range st.Picks {
			if sv, _, ok := h.Catalog.Current(id); ok && (strings.Contains(said, strings.ToLower(sv.Title)) || (len(sv.Keywords) > 0 && strings.Contains(said, strings.ToLower(sv.Keywords[0])))) {
				chosen = i
			}
		}
	}
	h.keepInput(ctx, c, c.sid, st, in, chosen >= 0 || in.Digits == "*" || in.Digits == "0")
	nst := st
	nst.N++
	switch {
	case chosen < 0 && in.Digits == "*":
		return h.pickMenu(nst, ""), nil
	case chosen < 0 && in.Digits == "0":
		key := c.sid + ":" + strconv.Itoa(st.N)
		h.record(ctx, h.conversation(c, "").Events(key, describe(in), []survey.Event{survey.PersonAsked{}})...)
		return h.pickMenu(nst, h.phrase(nil, h.conf().Language, "voice-pick-help")), nil
	case chosen < 0 && st.Tries < 2:
		nst.Tries++
		return h.pickMenu(nst, h.phrase(nil, h.conf().Language, "voice-not-got-that")), nil
	case chosen < 0:
		chosen = 0 // never stuck: the first survey
	}
	sv, version, ok := h.Catalog.Current(st.Picks[chosen])
	if !ok {
		return nil, fail("internal", fmt.Errorf("survey %s is no longer in the catalog", st.Picks[chosen]))
	}
	return h.begin(ctx, c, sv, version, st.Sess.Needs, false, nil), nil
}

// ---- carrying on after a hang-up ----

// resumeState is what Redis keeps, by phone number, to carry on a call.
type resumeState struct {
	Conv string         `json:"c"`
	Sess survey.Session `json:"s"`
}

// resumeKey is the Redis name of a caller: the hash of their number.
func (h *Handler) resumeKey(from string) string { return h.Phones.HashString(from) }

func (h *Handler) loadResume(ctx context.Context, from string) (resumeState, bool) {
	var rs resumeState
	if withheld(from) {
		return rs, false // strangers to each other: never carry on someone else's call
	}
	found := false
	err := h.redisDo(ctx, func(ctx context.Context) error {
		var err error
		found, err = h.Redis.CallResume(ctx, h.resumeKey(from), &rs)
		return err
	})
	return rs, err == nil && found && rs.Conv != "" && rs.Sess.SurveyID != ""
}

// saveResume remembers where a member is in a survey, so a call back can
// carry on; a finished survey is forgotten.
func (h *Handler) saveResume(ctx context.Context, from, conv string, sess survey.Session, done bool) {
	if withheld(from) {
		return
	}
	switch {
	case done:
		h.redisDo(ctx, func(ctx context.Context) error { return h.Redis.ForgetCallResume(ctx, h.resumeKey(from)) })
	case sess.Stage == survey.StageQuestion || sess.Stage == survey.StageOffer:
		h.redisDo(ctx, func(ctx context.Context) error {
			return h.Redis.SaveCallResume(ctx, h.resumeKey(from), resumeState{Conv: conv, Sess: sess}, h.conf().SessionTTL)
		})
	}
}

func (h *Handler) resumeOffer(sv *survey.Survey, st callState, lead string) []twiml.Element {
	lang, slow := st.Sess.Lang, st.Sess.Needs.SlowSpeech
	var prompts []twiml.Element
	if lead != "" {
		prompts = append(prompts, h.say(lead, lang, slow))
	}
	prompts = append(prompts, h.prompt(sv, lang, "voice-resume", h.phrase(sv, lang, "voice-resume"), slow))
	return h.gather(st, survey.Expect{NumDigits: 1, Hints: []string{"carry on", "yes", "start again", "no"}}, lang, prompts)
}

func resumeChoice(in survey.Input) string {
	switch in.Digits {
	case "1":
		return "carry"
	case "2":
		return "again"
	case "*", "0":
		return in.Digits
	}
	said := " " + strings.ToLower(in.Speech) + " "
	switch {
	case strings.Contains(said, "again") || strings.Contains(said, "start") || strings.Contains(said, " no "):
		return "again"
	case strings.Contains(said, "carry") || strings.Contains(said, "continue") || strings.Contains(said, " yes ") || strings.Contains(said, " on "):
		return "carry"
	}
	return ""
}

func (h *Handler) stepResume(ctx context.Context, c *call, st callState, in survey.Input) ([]twiml.Element, error) {
	sv, err := h.surveyOf(ctx, &st)
	if err != nil {
		return nil, err
	}
	lang := st.Sess.Lang
	nst := st
	nst.N++
	choice := resumeChoice(in)
	h.keepInput(ctx, c, st.Conv, st, in, choice != "")
	switch {
	case choice == "again":
		h.saveResume(ctx, c.from, st.Conv, st.Sess, true)
		cur, version, ok := h.Catalog.Current(st.Sess.SurveyID)
		if !ok {
			cur, version = sv, st.Sess.Version
		}
		return h.begin(ctx, c, cur, version, st.Sess.Needs, false,
			[]twiml.Element{h.prompt(sv, lang, "voice-start-again", h.phrase(sv, lang, "voice-start-again"), st.Sess.Needs.SlowSpeech)}), nil
	case choice == "*":
		return h.resumeOffer(sv, nst, ""), nil
	case choice == "0":
		h.record(ctx, h.conversation(c, st.Conv).Events(c.sid+":"+strconv.Itoa(st.N), describe(in),
			[]survey.Event{survey.PersonAsked{Stage: st.Sess.Stage, QuestionID: st.Sess.Question}})...)
		return h.resumeOffer(sv, nst, h.phrase(sv, lang, "voice-pick-help")), nil
	case choice == "" && st.Tries < 1:
		nst.Tries++
		return h.resumeOffer(sv, nst, h.phrase(sv, lang, "voice-not-got-that")), nil
	}
	// Carry on (also after two unclear answers: they called back for this).
	h.reopen(ctx, st.Conv)
	h.rememberCall(ctx, c.sid, st.Conv)
	reply, _ := survey.Step(sv, st.Sess, survey.Input{Digits: "*"})
	nst = callState{Conv: st.Conv, N: st.N + 1, Sess: st.Sess}
	lead := h.prompt(sv, lang, "voice-carry-on", h.phrase(sv, lang, "voice-carry-on"), st.Sess.Needs.SlowSpeech)
	return append([]twiml.Element{lead}, h.renderReply(sv, c, nst, reply)...), nil
}

// keepInput keeps a key or words heard at a menu outside the survey (which
// survey, carry on or not), as events() does for the survey's own steps.
func (h *Handler) keepInput(ctx context.Context, c *call, conv string, st callState, in survey.Input, understood bool) {
	if in.Digits == "" && in.Speech == "" {
		return
	}
	key := c.sid + ":" + strconv.Itoa(st.N)
	h.record(ctx, append([]store.Event{{Input: &store.CallInput{DedupeKey: key, ConversationID: conv,
		CallSid: c.sid, Stage: st.Mode, Digits: in.Digits, Speech: in.Speech, Confidence: in.Confidence, Understood: understood}}},
		h.speechWorry(c, conv, key, in.Speech, understood)...)...)
}

func (h *Handler) reopen(ctx context.Context, conv string) {
	ctx, cancel := withTimeout(ctx, dbTimeout)
	defer cancel()
	if err := h.DB.ReopenConversation(ctx, conv); err != nil {
		// The answers still join the conversation; it just stays "partial".
		h.failed("postgres", err)
	}
}

// ---- the call as a whole ----

// rememberCall notes which conversation a call belongs to (not its own
// CallSid when it carries on an earlier call), for the status callback.
func (h *Handler) rememberCall(ctx context.Context, sid, conv string) {
	h.redisDo(ctx, func(ctx context.Context) error { return h.Redis.RememberCall(ctx, sid, conv, callTTL) })
}

func (h *Handler) needs(ctx context.Context, from string) survey.Needs {
	if withheld(from) {
		return survey.Needs{}
	}
	ctx, cancel := withTimeout(ctx, dbTimeout)
	defer cancel()
	n, err := h.DB.ParticipantNeeds(ctx, h.Phones.Hash(from))
	if err != nil {
		h.failed("postgres", err)
	}
	return n
}

// ServeStatus answers POST /twilio/voice/status: the call ended. The
// conversation is closed; if it was not finished, what was answered is
// kept as a partial response.
func (h *Handler) ServeStatus(w http.ResponseWriter, r *http.Request) {
	h.conf()
	if !h.verify(w, r) {
		return
	}
	sid := r.PostForm.Get("CallSid")
	if !validSID(sid) {
		http.Error(w, "CallSid is required (up to 64 printable characters): this does not look like a call status callback from Twilio.", http.StatusBadRequest)
		return
	}
	switch r.PostForm.Get("CallStatus") {
	case "completed", "busy", "failed", "no-answer", "canceled":
		conv := sid
		h.redisDo(r.Context(), func(ctx context.Context) error {
			v, found, err := h.Redis.CallConversation(ctx, sid)
			if found {
				conv = v
			}
			return err
		})
		// A finished or refused conversation is not changed by this. The
		// call's first conversation is closed too, in case the call
		// started afresh after a step we could not read.
		events := []store.Event{{End: &store.ConversationEnded{ID: conv, Status: "partial"}}}
		if conv != sid {
			events = append(events, store.Event{End: &store.ConversationEnded{ID: sid, Status: "partial"}})
		}
		h.record(r.Context(), events...)
	}
	writeTwiML(w, nil)
}

// ---- TwiML for a reply ----

func (h *Handler) staffAvailable() bool {
	c := h.conf()
	return c.StaffNumber != "" && c.OfficeHours.Contains(c.Now())
}

// prompt plays the recorded prompt for key (of these words) when the
// library has one, else says text.
func (h *Handler) prompt(sv *survey.Survey, lang, key, text string, slow bool) twiml.Element {
	if h.Audio != nil {
		if sv != nil {
			if u, ok := h.Audio.Find(sv.ID, lang, key, text); ok {
				return &twiml.VoicePlay{Url: u}
			}
		}
		if u, ok := h.Audio.Find("", lang, key, text); ok {
			return &twiml.VoicePlay{Url: u}
		}
	}
	return h.say(text, lang, slow)
}

func (h *Handler) notice(sv *survey.Survey, lang string, slow bool) twiml.Element {
	return h.prompt(sv, lang, "voice-notice", h.phrase(sv, lang, "voice-notice"), slow)
}

// renderReply turns the engine's reply into TwiML whose URLs carry st.
func (h *Handler) renderReply(sv *survey.Survey, c *call, st callState, reply survey.Reply) []twiml.Element {
	lang, slow := reply.Lang, reply.Slow
	dial := reply.Handoff() && h.staffAvailable()
	var prompts []twiml.Element
	for _, p := range reply.Prompts {
		if dial && p.Key == "help" {
			// Put them through now; when the person hangs up, the call
			// comes back to the question.
			prompts = append(prompts, h.prompt(sv, lang, "voice-dial", h.phrase(sv, lang, "voice-dial"), slow))
			return append(prompts, &twiml.VoiceDial{Number: h.conf().StaffNumber, Action: h.repeatURL(st, 0), Method: "POST", Timeout: "30"})
		}
		prompts = append(prompts, h.prompt(sv, lang, p.Key, p.Text, slow))
		switch p.Key {
		case "intro":
			prompts = append(prompts, h.prompt(sv, lang, "voice-length", h.lengthPhrase(sv, lang), slow))
		case "menu:consent":
			prompts = append(prompts, h.prompt(sv, lang, "voice-speech-tip", h.phrase(sv, lang, "voice-speech-tip"), slow))
		}
	}
	if reply.Done {
		return append(prompts, h.endOffer(sv, st, reply)...)
	}
	if reply.Expect.Record {
		return h.recordVerbs(c, st, reply, prompts)
	}
	return h.gather(st, reply.Expect, lang, prompts)
}

// endOffer ends a call. When the survey has just ended, a short last
// chance to reach a person comes first ("To talk to a person, press 0"),
// so nobody is cut off without it; silence hangs up. It is not offered
// to someone who has just asked for a person, or said no to one.
func (h *Handler) endOffer(sv *survey.Survey, st callState, reply survey.Reply) []twiml.Element {
	ended, ok := survey.Find[survey.Ended](reply.Events)
	if !ok || ended.How == survey.NoConsent || reply.Handoff() {
		return []twiml.Element{&twiml.VoiceHangup{}}
	}
	offer := h.prompt(sv, reply.Lang, "voice-end-offer", h.phrase(sv, reply.Lang, "voice-end-offer"), reply.Slow)
	g := &twiml.VoiceGather{Input: "dtmf speech", Action: h.stepURL(st), Method: "POST", Timeout: "4", NumDigits: "1",
		FinishOnKey: emptyAttr, SpeechTimeout: "auto", Language: h.twilioLanguage(reply.Lang), Hints: "help, person",
		InnerElements: []twiml.Element{offer}}
	return []twiml.Element{g, &twiml.VoiceHangup{}}
}

func seconds(d interface{ Seconds() float64 }) string { return strconv.Itoa(int(d.Seconds() + 0.5)) }

// gather asks for keys or words. Keypad always works; speech is a
// convenience. A single-key question has finishOnKey="" so that # arrives
// as a key (skip). No input comes back to the same step as silence.
func (h *Handler) gather(st callState, x survey.Expect, lang string, prompts []twiml.Element) []twiml.Element {
	action := h.stepURL(st)
	g := &twiml.VoiceGather{Input: "dtmf speech", Action: action, Method: "POST", Timeout: seconds(h.conf().GatherTimeout),
		SpeechTimeout: "auto", Language: h.twilioLanguage(lang), Hints: hints(x.Hints), ActionOnEmptyResult: "true",
		InnerElements: prompts}
	switch {
	case x.NumDigits == 1:
		g.NumDigits, g.FinishOnKey = "1", emptyAttr
	case x.Optional:
		// A longer answer (a number) that may be skipped: with the default
		// finishOnKey a lone "#" arrives as silence and could never skip.
		// "12#" arrives after the time-out and the "#" is dropped.
		g.FinishOnKey = emptyAttr
	}
	return []twiml.Element{g, &twiml.VoiceRedirect{Url: action, Method: "POST"}}
}

func hints(words []string) string {
	seen := map[string]bool{}
	var out []string
	for _, w := range words {
		w = strings.TrimSpace(strings.ReplaceAll(webhook.XMLSafe(w), ",", " "))
		if w != "" && !seen[strings.ToLower(w)] {
			seen[strings.ToLower(w)] = true
			out = append(out, w)
		}
	}
	return strings.Join(out, ", ")
}

// recordVerbs asks a words question: the question inside a short keypad
// <Gather> (so *, 0 and # still work), then <Record> after the beep. An
// empty recording makes Twilio skip the action and go on to the
// <Redirect>, which the engine hears as silence (asked once more).
func (h *Handler) recordVerbs(c *call, st callState, reply survey.Reply, prompts []twiml.Element) []twiml.Element {
	x := reply.Expect
	action := h.stepURL(st)
	pre := &twiml.VoiceGather{Input: "dtmf", Action: action, Method: "POST", NumDigits: "1", FinishOnKey: emptyAttr,
		Timeout: "1", InnerElements: prompts}
	q := callbackQuery(st.Conv, x.QuestionID, c.sid+":"+strconv.Itoa(st.N), reply.Lang)
	maxSecs := x.MaxSeconds
	if maxSecs <= 0 {
		maxSecs = 60
	}
	// We say "press 1" to finish (hash only ever skips); any key ends it.
	rec := &twiml.VoiceRecord{Action: h.recordURL(st), Method: "POST", FinishOnKey: "1234567890*#", MaxLength: strconv.Itoa(maxSecs),
		Timeout: seconds(h.conf().GatherTimeout), PlayBeep: "true", Trim: "trim-silence",
		RecordingStatusCallback: h.url(PathRecording, q), RecordingStatusCallbackMethod: "POST",
		RecordingStatusCallbackEvent: "completed absent"}
	if h.Transcriber == nil {
		rec.Transcribe, rec.TranscribeCallback = "true", h.url(PathTranscription, q)
	}
	return []twiml.Element{pre, rec, &twiml.VoiceRedirect{Url: action, Method: "POST"}}
}
