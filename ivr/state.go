package ivr

import (
	"bytes"
	"compress/flate"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/url"
	"strconv"

	"golang.org/x/crypto/hkdf"

	"github.com/haveyoursay/haveyoursay/survey"
)

// Modes of a call before and during a survey.
const (
	modeSurvey = ""       // in a survey
	modePick   = "pick"   // choosing which survey (a number that serves several)
	modeResume = "resume" // offered to carry on where they stopped
)

// callState is everything a step of a call needs. It travels in the URLs
// our TwiML hands Twilio, which lets a call carry on when Redis is down.
// It holds the answers given so far (health and disability data), and
// Twilio and any proxy keep URLs in their logs: so it travels sealed
// (AES-256-GCM under a key from HYS_SECRET_KEY), never readable.
type callState struct {
	Conv  string         `json:"c,omitempty"` // conversation id
	N     int            `json:"n"`           // step number: CallSid:N keys this step's answer
	Mode  string         `json:"m,omitempty"`
	Tries int            `json:"t,omitempty"` // failed tries at a menu outside the survey
	Picks []string       `json:"p,omitempty"` // survey ids offered (modePick)
	Sess  survey.Session `json:"s"`
}

// stateKeyInfo labels the key that seals call states, so it is never the
// key that encrypts phone numbers, though both come from HYS_SECRET_KEY.
const stateKeyInfo = "haveyoursay voice call state v1"

// newStateSealer derives the call-state key from secret; an empty secret
// gets a random key, good for this process only (a call in progress when
// the server restarts then starts afresh).
func newStateSealer(secret string) cipher.AEAD {
	key := make([]byte, 32)
	if secret == "" {
		rand.Read(key)
	} else if _, err := io.ReadFull(hkdf.New(sha256.New, []byte(secret), nil, []byte(stateKeyInfo)), key); err != nil {
		panic(err) // hkdf cannot fail for 32 bytes
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		panic(err) // a 32-byte key is always valid
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return aead
}

// stateAD is the associated data of a sealed state: what it is for.
var stateAD = []byte("voice call state")

// seal turns a call's state into the opaque value of the st parameter:
// base64url of a random nonce and the AES-GCM ciphertext of the state's
// JSON, deflated first so a long survey's URL stays well inside Twilio's
// 4 KB (question ids repeat in the path and the answers). The state holds
// no text the caller chose freely (option values, numbers, ids), so its
// compressed length tells an onlooker nothing a plain length would not.
func (h *Handler) seal(st callState) string {
	h.conf()
	plain, err := json.Marshal(st)
	if err != nil {
		panic(err) // callState has only plain fields
	}
	var z bytes.Buffer
	w, _ := flate.NewWriterDict(&z, flate.BestCompression, stateDict) // fails only for a bad level
	w.Write(plain)
	w.Close()
	aead := h.sealer
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+z.Len()+aead.Overhead())
	rand.Read(nonce)
	return base64.RawURLEncoding.EncodeToString(aead.Seal(nonce, nonce, z.Bytes(), stateAD))
}

// stateDict primes the compression with what every state says.
var stateDict = []byte(`{"c":"CA","n":1,"m":"pick","p":[],"s":{"survey":"","version":1,"channel":"voice","lang":"en-GB","needs":{},"stage":"question","question":"","tries":1,"path":["",""],"answers":{"":"","":""},"handoff":true}}`)

// maxState bounds what a sealed state may inflate to: ours are a few KB.
const maxState = 1 << 20

var errBadState = errors.New("the call's step URL carries no state we can open (missing, damaged, or sealed with another HYS_SECRET_KEY)")

// open reads a state sealed by seal.
func (h *Handler) open(v string) (callState, error) {
	var st callState
	h.conf()
	aead := h.sealer
	b, err := base64.RawURLEncoding.DecodeString(v)
	if err != nil || len(b) < aead.NonceSize()+aead.Overhead() {
		return st, errBadState
	}
	n := aead.NonceSize()
	z, err := aead.Open(nil, b[:n], b[n:], stateAD)
	if err != nil {
		return st, errBadState
	}
	plain, err := io.ReadAll(io.LimitReader(flate.NewReaderDict(bytes.NewReader(z), stateDict), maxState))
	if err != nil {
		return st, errBadState
	}
	if err := json.Unmarshal(plain, &st); err != nil {
		return st, errBadState
	}
	return st, nil
}

func (h *Handler) url(path string, q url.Values) string {
	return h.conf().PublicURL + path + "?" + q.Encode()
}

// stepURL is where a <Gather> (or a <Redirect> after it) sends the next input.
func (h *Handler) stepURL(st callState) string {
	return h.url(PathStep, url.Values{"st": {h.seal(st)}})
}

// repeatURL asks the current question again without taking input: after a
// <Dial>, or after a failure (errs counts them, to stop trying).
func (h *Handler) repeatURL(st callState, errs int) string {
	q := url.Values{"st": {h.seal(st)}, "r": {"1"}}
	if errs > 0 {
		q.Set("e", strconv.Itoa(errs))
	}
	return h.url(PathStep, q)
}

func (h *Handler) recordURL(st callState) string {
	return h.url(PathRecord, url.Values{"st": {h.seal(st)}})
}

// callbackQuery names the answer a recording belongs to, for the
// recording and transcription callbacks that arrive after the call. Each
// value is an identifier we made (conversation id, the survey's question
// id, CallSid:step, the survey language), never anything the member said.
func callbackQuery(conv, question, answerKey, lang string) url.Values {
	return url.Values{"c": {conv}, "q": {question}, "k": {answerKey}, "l": {lang}}
}
