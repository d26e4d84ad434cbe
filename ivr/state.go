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
	"sync"

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

// A sealed state's plain text starts with a byte saying how the state's
// JSON follows: as it is, or deflated.
const (
	stateJSON     = 'j'
	stateDeflated = 'z'
)

// deflateOver is the length of JSON worth compressing: only a long
// survey's state comes near Twilio's 4 KB limit on URLs, and compressing
// costs more time than the rest of sealing.
const deflateOver = 1024

// seal turns a call's state into the opaque value of the st parameter:
// base64url of a random nonce and the AES-GCM ciphertext of the state's
// JSON, deflated first when it is long (question ids repeat in the path
// and the answers). The state holds no text the caller chose freely
// (option values, numbers, ids), so its compressed length tells an
// onlooker nothing a plain length would not.
func (h *Handler) seal(st callState) string {
	h.conf()
	plain, err := json.Marshal(st)
	if err != nil {
		panic(err) // callState has only plain fields
	}
	var body bytes.Buffer
	if len(plain) > deflateOver {
		body.WriteByte(stateDeflated)
		w := deflaters.Get().(*flate.Writer)
		w.Reset(&body)
		w.Write(plain)
		w.Close()
		deflaters.Put(w)
	} else {
		body.WriteByte(stateJSON)
		body.Write(plain)
	}
	aead := h.sealer
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+body.Len()+aead.Overhead())
	rand.Read(nonce)
	return base64.RawURLEncoding.EncodeToString(aead.Seal(nonce, nonce, body.Bytes(), stateAD))
}

// deflaters keeps compressors for reuse: each is large to make.
var deflaters = sync.Pool{New: func() any {
	w, err := flate.NewWriterDict(nil, flate.BestCompression, stateDict)
	if err != nil {
		panic(err) // only for a bad level
	}
	return w
}}

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
	if err != nil || len(b) < aead.NonceSize()+aead.Overhead()+1 {
		return st, errBadState
	}
	n := aead.NonceSize()
	body, err := aead.Open(nil, b[:n], b[n:], stateAD)
	if err != nil || len(body) == 0 {
		return st, errBadState
	}
	plain := body[1:]
	switch body[0] {
	case stateJSON:
	case stateDeflated:
		plain, err = io.ReadAll(io.LimitReader(flate.NewReaderDict(bytes.NewReader(body[1:]), stateDict), maxState))
		if err != nil {
			return st, errBadState
		}
	default:
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
