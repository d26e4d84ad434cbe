package ivr

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/url"
	"strconv"

	"github.com/haveyoursay/haveyoursay/survey"
)

// Modes of a call before and during a survey.
const (
	modeSurvey = ""       // in a survey
	modePick   = "pick"   // choosing which survey (a number that serves several)
	modeResume = "resume" // offered to carry on where they stopped
)

// callState is everything a step of a call needs. It travels in the URLs
// our TwiML hands Twilio (Twilio signs the whole URL, so it cannot be
// changed on the way), which lets a call carry on when Redis is down.
type callState struct {
	Conv  string         `json:"c,omitempty"` // conversation id
	N     int            `json:"n"`           // step number: CallSid:N keys this step's answer
	Mode  string         `json:"m,omitempty"`
	Tries int            `json:"t,omitempty"` // failed tries at a menu outside the survey
	Picks []string       `json:"p,omitempty"` // survey ids offered (modePick)
	Sess  survey.Session `json:"s"`
}

func (s callState) encode() string {
	b, _ := json.Marshal(s)
	return base64.RawURLEncoding.EncodeToString(b)
}

var errBadState = errors.New("the call's step URL carries no state we can read")

func decodeState(v string) (callState, error) {
	var s callState
	if v == "" {
		return s, errBadState
	}
	b, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil {
		return s, errBadState
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, errBadState
	}
	return s, nil
}

func (h *Handler) url(path string, q url.Values) string {
	return h.conf().PublicURL + path + "?" + q.Encode()
}

// stepURL is where a <Gather> (or a <Redirect> after it) sends the next input.
func (h *Handler) stepURL(st callState) string {
	return h.url(PathStep, url.Values{"st": {st.encode()}})
}

// repeatURL asks the current question again without taking input: after a
// <Dial>, or after a failure (errs counts them, to stop trying).
func (h *Handler) repeatURL(st callState, errs int) string {
	q := url.Values{"st": {st.encode()}, "r": {"1"}}
	if errs > 0 {
		q.Set("e", strconv.Itoa(errs))
	}
	return h.url(PathStep, q)
}

func (h *Handler) recordURL(st callState) string {
	return h.url(PathRecord, url.Values{"st": {st.encode()}})
}

// callbackQuery names the answer a recording belongs to, for the
// recording and transcription callbacks that arrive after the call.
func callbackQuery(conv, question, answerKey, lang string) url.Values {
	return url.Values{"c": {conv}, "q": {question}, "k": {answerKey}, "l": {lang}}
}
