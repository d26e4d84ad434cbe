package ivr

// Recording prompts by phone (issue 17). A member with a recording PIN
// (`haveyoursay audio session`, or the dashboard) calls the number in
// HYS_RECORDING_NUMBER, or any survey number and presses "*" "*" at the
// start, and types the PIN. Each sentence of the survey is read out; they
// say it after the beep, hear it back, and press 1 to keep it or 2 to try
// again. A kept recording waits for staff to press "use this" before
// callers hear it. They can hang up at any time and carry on later with the
// same PIN: the session remembers which sentences are done.
//
//	POST /twilio/voice/prompts?a=pin|skip|rec|keep&rs=…   every step of such a call

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/twilio/twilio-go/twiml"

	"github.com/haveyoursay/haveyoursay/audio"
	"github.com/haveyoursay/haveyoursay/store"
	"github.com/haveyoursay/haveyoursay/survey"
	"github.com/haveyoursay/haveyoursay/webhook"
)

// PathRecordPrompts is every step of a call that records prompts.
const PathRecordPrompts = "/twilio/voice/prompts"

// pinTries is how many wrong PINs a call may type.
const pinTries = 3

// recState is a recording call's state, sealed in its URLs like callState.
type recState struct {
	Session int64  `json:"s,omitempty"`
	Key     string `json:"k,omitempty"` // the phrase being recorded
	Draft   string `json:"d,omitempty"` // the recording being heard back
	Tries   int    `json:"t,omitempty"` // wrong PINs, or tries without a usable recording
	Back    string `json:"b,omitempty"` // the sealed survey state to go back to ("" on the recording line)
}

var recAD = []byte("prompt recording call state")

func (h *Handler) sealRec(rs recState) string {
	h.conf()
	plain, err := json.Marshal(rs)
	if err != nil {
		panic(err) // plain fields only
	}
	nonce := make([]byte, h.sealer.NonceSize(), h.sealer.NonceSize()+len(plain)+h.sealer.Overhead())
	rand.Read(nonce)
	return base64.RawURLEncoding.EncodeToString(h.sealer.Seal(nonce, nonce, plain, recAD))
}

func (h *Handler) openRec(v string) (recState, error) {
	var rs recState
	h.conf()
	b, err := base64.RawURLEncoding.DecodeString(v)
	n := h.sealer.NonceSize()
	if err != nil || len(b) < n+h.sealer.Overhead() {
		return rs, errBadState
	}
	plain, err := h.sealer.Open(nil, b[:n], b[n:], recAD)
	if err != nil || json.Unmarshal(plain, &rs) != nil {
		return rs, errBadState
	}
	return rs, nil
}

func (h *Handler) recURL(action string, rs recState) string {
	return h.url(PathRecordPrompts, url.Values{"a": {action}, "rs": {h.sealRec(rs)}})
}

// Phrases lists every sentence a caller to a survey may hear in lang, by
// prompt key, for recording: the recording notice and how long the survey
// takes, the survey's own words and the built-in phrases
// (survey.VoicePrompts), then this package's other fixed sentences. org is
// the organisation's name (HYS_ORG_NAME), said in the notice.
func Phrases(sv *survey.Survey, lang, org string) []survey.Prompt {
	h := &Handler{Config: Config{OrgName: org}}
	return h.phrases(sv, lang)
}

func (h *Handler) phrases(sv *survey.Survey, lang string) []survey.Prompt {
	if sv == nil {
		return nil
	}
	seen := map[string]bool{}
	var out []survey.Prompt
	add := func(key, text string) {
		if text = strings.TrimSpace(text); text != "" && !seen[key] && !strings.Contains(text, "{") {
			seen[key] = true
			out = append(out, survey.Prompt{Key: key, Text: text})
		}
	}
	add("voice-notice", h.phrase(sv, lang, "voice-notice"))
	add("voice-length", h.lengthPhrase(sv, lang))
	add("voice-speech-tip", h.phrase(sv, lang, "voice-speech-tip"))
	for _, p := range sv.VoicePrompts(lang) {
		add(p.Key, p.Text)
	}
	return out
}

// isRecordingLine reports whether a call to number records prompts.
func (h *Handler) isRecordingLine(number string) bool {
	n := h.conf().RecordingNumber
	return n != "" && strings.TrimSpace(number) == n
}

// recordingLine greets a call to HYS_RECORDING_NUMBER and asks for the PIN.
func (h *Handler) recordingLine() []twiml.Element {
	lang := h.conf().Language
	return append([]twiml.Element{h.say(survey.DefaultPhrases["record-hello"], lang, false)}, h.askPIN(recState{}, "")...)
}

// recordingGate watches the first key of a survey call: a "*" is the
// usual repeat, but its URLs remember it, so that a second "*" asks for a
// recording PIN instead. ok is false for every other step.
func (h *Handler) recordingGate(ctx context.Context, c *call, st callState, q url.Values, in survey.Input) (els []twiml.Element, ok bool, err error) {
	if in.Digits != "*" || q.Get("r") == "1" {
		return nil, false, nil
	}
	if q.Get("ss") == "1" {
		return h.askPIN(recState{Back: q.Get("st")}, ""), true, nil
	}
	if st.N%10000 != 1 {
		return nil, false, nil // not the first key of the call
	}
	stage := st.Mode
	if stage == modeSurvey {
		stage = string(st.Sess.Stage)
	}
	h.record(ctx, store.Event{Input: &store.CallInput{DedupeKey: c.sid + ":" + strconv.Itoa(st.N), ConversationID: st.Conv,
		CallSid: c.sid, Stage: stage, QuestionID: st.Sess.Question, Digits: "*", Understood: true}})
	els, err = h.repeat(ctx, c, st)
	for _, el := range els {
		switch v := el.(type) {
		case *twiml.VoiceGather:
			v.Action += "&ss=1"
		case *twiml.VoiceRedirect:
			v.Url += "&ss=1"
		}
	}
	return els, true, err
}

// askPIN asks for the 6-digit PIN (after lead, a phrase id, when given).
func (h *Handler) askPIN(rs recState, lead string) []twiml.Element {
	lang := h.conf().Language
	var prompts []twiml.Element
	if lead != "" {
		prompts = append(prompts, h.say(survey.DefaultPhrases[lead], lang, false))
	}
	prompts = append(prompts, h.say(survey.DefaultPhrases["record-pin"], lang, false))
	action := h.recURL("pin", rs)
	return []twiml.Element{
		&twiml.VoiceGather{Input: "dtmf", Action: action, Method: "POST", NumDigits: "6", Timeout: "10", FinishOnKey: "#",
			ActionOnEmptyResult: "true", InnerElements: prompts},
		&twiml.VoiceRedirect{Url: action, Method: "POST"},
	}
}

// ServeRecordPrompts answers POST /twilio/voice/prompts: each step of a
// call that records prompts.
func (h *Handler) ServeRecordPrompts(w http.ResponseWriter, r *http.Request) {
	h.serveTwiML(w, r, h.recordStep)
}

func (h *Handler) recordStep(ctx context.Context, c *call, r *http.Request) ([]twiml.Element, error) {
	q := r.URL.Query()
	rs, err := h.openRec(q.Get("rs"))
	if err != nil {
		h.failed("bad-state", err)
		return h.askPIN(recState{}, ""), nil
	}
	if h.Audio == nil {
		return h.recordingClosed(), nil
	}
	in := inputOf(r.PostForm)
	if q.Get("a") == "pin" {
		return h.stepPIN(ctx, rs, in)
	}
	sess, sv, err := h.recordingSession(ctx, rs.Session)
	if err != nil {
		return nil, err
	}
	if sv == nil {
		return h.recordingClosed(), nil
	}
	switch q.Get("a") {
	case "skip":
		if in.Digits == "*" {
			if err := h.DB.MarkRecordingDone(ctx, sess.ID, rs.Key); err != nil {
				return nil, fail("postgres", err)
			}
			sess.Done = append(sess.Done, rs.Key)
			return h.nextPhrase(sess, sv, recState{Session: sess.ID, Back: rs.Back}, nil), nil
		}
		return h.phraseTwiML(sess, sv, rs, nil), nil
	case "rec":
		return h.stepRecorded(ctx, c, sess, sv, rs, r.PostForm.Get("RecordingUrl"), r.PostForm.Get("RecordingSid"))
	case "keep":
		return h.stepKeep(ctx, sess, sv, rs, in)
	}
	return h.nextPhrase(sess, sv, rs, nil), nil
}

// stepPIN checks a PIN typed: the session's first sentence, or try again,
// or (after pinTries, or silence on a survey call) back to where they were.
func (h *Handler) stepPIN(ctx context.Context, rs recState, in survey.Input) ([]twiml.Element, error) {
	back := func() []twiml.Element {
		return []twiml.Element{&twiml.VoiceRedirect{Url: h.url(PathStep, url.Values{"st": {rs.Back}, "r": {"1"}}), Method: "POST"}}
	}
	if in.Digits == "" && rs.Back != "" {
		return back(), nil
	}
	sess := store.RecordingSession{}
	var err error
	if len(in.Digits) == 6 {
		lctx, cancel := withTimeout(ctx, 2*time.Second)
		sess, err = h.DB.RecordingSessionByPIN(lctx, in.Digits)
		cancel()
	} else {
		err = store.ErrNotFound
	}
	if errors.Is(err, store.ErrNotFound) {
		rs.Tries++
		switch {
		case rs.Tries < pinTries:
			return h.askPIN(rs, "record-pin-wrong"), nil
		case rs.Back != "":
			return back(), nil
		}
		return []twiml.Element{h.say(survey.DefaultPhrases["record-pin-end"], h.conf().Language, false), &twiml.VoiceHangup{}}, nil
	}
	if err != nil {
		return nil, fail("postgres", err)
	}
	sv, _, ok := h.Catalog.Current(sess.SurveyID)
	if !ok {
		return h.recordingClosed(), nil
	}
	lang := sess.Language
	lead := []twiml.Element{h.say(sv.Phrase(lang, "record-welcome"), lang, false), h.say(sv.Phrase(lang, "record-skip"), lang, false),
		h.say(sv.Phrase(lang, "record-stop"), lang, false)}
	return h.nextPhrase(sess, sv, recState{Session: sess.ID, Back: rs.Back}, lead), nil
}

// recordingSession loads a call's session and its survey; sv is nil when
// the session has expired or its survey is gone.
func (h *Handler) recordingSession(ctx context.Context, id int64) (store.RecordingSession, *survey.Survey, error) {
	lctx, cancel := withTimeout(ctx, 2*time.Second)
	defer cancel()
	sess, err := h.DB.RecordingSession(lctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return sess, nil, nil
	}
	if err != nil {
		return sess, nil, fail("postgres", err)
	}
	if !sess.ExpiresAt.After(h.conf().Now()) {
		return sess, nil, nil
	}
	sv, _, ok := h.Catalog.Current(sess.SurveyID)
	if !ok {
		return sess, nil, nil
	}
	return sess, sv, nil
}

func (h *Handler) recordingClosed() []twiml.Element {
	return []twiml.Element{h.say(survey.DefaultPhrases["record-closed"], h.conf().Language, false), &twiml.VoiceHangup{}}
}

// nextPhrase reads out the first sentence the session has not done, or
// says goodbye when every one is.
func (h *Handler) nextPhrase(sess store.RecordingSession, sv *survey.Survey, rs recState, lead []twiml.Element) []twiml.Element {
	lang := sess.Language
	for _, p := range h.phrases(sv, lang) {
		if !slices.Contains(sess.Done, p.Key) {
			rs.Key, rs.Draft, rs.Tries = p.Key, "", 0
			return h.phraseTwiML(sess, sv, rs, lead)
		}
	}
	return append(lead, h.say(sv.Phrase(lang, "record-all-done"), lang, false), &twiml.VoiceHangup{})
}

// phraseTwiML reads out rs.Key's sentence (a "*" meanwhile skips it),
// then records after the beep.
func (h *Handler) phraseTwiML(sess store.RecordingSession, sv *survey.Survey, rs recState, lead []twiml.Element) []twiml.Element {
	lang := sess.Language
	all := h.phrases(sv, lang)
	i := slices.IndexFunc(all, func(p survey.Prompt) bool { return p.Key == rs.Key })
	if i < 0 {
		return h.nextPhrase(sess, sv, rs, lead) // the survey changed under us
	}
	n := strings.NewReplacer("{n}", strconv.Itoa(i+1), "{total}", strconv.Itoa(len(all))).Replace(sv.Phrase(lang, "record-sentence"))
	prompts := append(lead, h.say(n, lang, false), h.say(all[i].Text, lang, false), h.say(sv.Phrase(lang, "record-after-beep"), lang, false))
	rs.Draft = ""
	pre := &twiml.VoiceGather{Input: "dtmf", Action: h.recURL("skip", rs), Method: "POST", NumDigits: "1", FinishOnKey: emptyAttr,
		Timeout: "1", InnerElements: prompts}
	rec := &twiml.VoiceRecord{Action: h.recURL("rec", rs), Method: "POST", FinishOnKey: "#", MaxLength: strconv.Itoa(int(audio.MaxDuration.Seconds())),
		Timeout: "5", PlayBeep: "true", Trim: "trim-silence"}
	// An empty recording skips the action: the redirect says so.
	return []twiml.Element{pre, rec, &twiml.VoiceRedirect{Url: h.recURL("rec", rs), Method: "POST"}}
}

// stepRecorded keeps a new recording as a draft and plays it back; one we
// cannot use (none, silent, too short) is asked for again.
func (h *Handler) stepRecorded(ctx context.Context, c *call, sess store.RecordingSession, sv *survey.Survey, rs recState, recURL, recSID string) ([]twiml.Element, error) {
	lang := sess.Language
	again := func() ([]twiml.Element, error) {
		rs.Tries++
		if rs.Tries > pinTries {
			// Nobody there, or it keeps failing: stop kindly; the PIN carries on later.
			return []twiml.Element{h.say(sv.Phrase(lang, "record-stop"), lang, false), &twiml.VoiceHangup{}}, nil
		}
		return h.phraseTwiML(sess, sv, rs, []twiml.Element{h.say(sv.Phrase(lang, "record-not-heard"), lang, false)}), nil
	}
	if strings.TrimSpace(recURL) == "" {
		return again()
	}
	data, _, err := h.download(ctx, webhook.Storable(recURL, 2048))
	if err != nil {
		h.failed("twilio-download", err)
		return again()
	}
	text := ""
	for _, p := range h.phrases(sv, lang) {
		if p.Key == rs.Key {
			text = p.Text
		}
	}
	by := sess.Voice
	if by == "" {
		by = "by phone"
	}
	p, _, err := h.Audio.Save(ctx, store.AudioPrompt{SurveyID: sess.SurveyID, Language: lang, Key: rs.Key, Status: store.PromptDraft,
		Words: text, Source: "phone", RecordedBy: by, SessionID: sess.ID}, data)
	if errors.Is(err, audio.ErrInvalid) {
		h.Log.Info("a phone recording of a prompt was not usable", "call", c.sid, "phrase", rs.Key, "why", err)
		return again()
	}
	if err != nil {
		return nil, fail("postgres", err)
	}
	if sid := webhook.Storable(recSID, maxSID); h.conf().DeleteFromTwilio && validSID(sid) {
		h.bg.Go(func() {
			if err := h.deleteFromTwilio(sid); err != nil {
				h.failed("twilio-delete", err) // ours is kept; Twilio's copy stays until deleted by hand
			}
		})
	}
	rs.Draft, rs.Tries = p.Name, 0
	return h.listenBack(sv, lang, rs), nil
}

// listenBack plays the draft and asks: keep it, try again, or hear it again.
func (h *Handler) listenBack(sv *survey.Survey, lang string, rs recState) []twiml.Element {
	action := h.recURL("keep", rs)
	return []twiml.Element{
		h.say(sv.Phrase(lang, "record-heard-back"), lang, false),
		&twiml.VoicePlay{Url: h.Audio.URL(rs.Draft)},
		&twiml.VoiceGather{Input: "dtmf", Action: action, Method: "POST", NumDigits: "1", FinishOnKey: emptyAttr, Timeout: "8",
			ActionOnEmptyResult: "true", InnerElements: []twiml.Element{h.say(sv.Phrase(lang, "record-keep-menu"), lang, false)}},
		&twiml.VoiceRedirect{Url: action, Method: "POST"},
	}
}

func (h *Handler) stepKeep(ctx context.Context, sess store.RecordingSession, sv *survey.Survey, rs recState, in survey.Input) ([]twiml.Element, error) {
	lang := sess.Language
	switch in.Digits {
	case "1":
		if err := h.DB.KeepAudioDraft(ctx, rs.Draft); err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, fail("postgres", err)
		}
		if err := h.DB.MarkRecordingDone(ctx, sess.ID, rs.Key); err != nil {
			return nil, fail("postgres", err)
		}
		sess.Done = append(sess.Done, rs.Key)
		return h.nextPhrase(sess, sv, rs, []twiml.Element{h.say(sv.Phrase(lang, "record-kept"), lang, false)}), nil
	case "2":
		if err := h.DB.DeleteAudioDrafts(ctx, rs.Draft); err != nil {
			h.failed("postgres", err) // a stray draft is cleaned up after a day
		}
		rs.Draft = ""
		return h.phraseTwiML(sess, sv, rs, []twiml.Element{h.say(sv.Phrase(lang, "record-try-again"), lang, false)}), nil
	case "":
		rs.Tries++
		if rs.Tries > pinTries {
			return []twiml.Element{h.say(sv.Phrase(lang, "record-stop"), lang, false), &twiml.VoiceHangup{}}, nil
		}
	}
	return h.listenBack(sv, lang, rs), nil
}
