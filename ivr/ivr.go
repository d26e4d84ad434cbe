// Package ivr answers Twilio's voice webhooks: a member phones in, hears a
// recording notice, gives consent, and answers the survey's questions by
// keypad or by speaking; words questions are recorded and transcribed
// after the call.
//
// Routes (wired with every other route in server/routes.go):
//
//	POST /twilio/voice               ServeIncoming        a call comes in (the number's Voice webhook)
//	POST /twilio/voice/step          ServeStep            every <Gather> answer, silence and repeat
//	POST /twilio/voice/record        ServeRecorded        a <Record> finished
//	POST /twilio/voice/recording     ServeRecordingStatus Twilio's recording status callback
//	POST /twilio/voice/transcription ServeTranscription   Twilio's transcription callback
//	POST /twilio/voice/status        ServeStatus          the call ended (the number's status callback)
//
// Every answer to a call is valid TwiML with status 200, whatever fails:
// the member hears a kind sentence, never Twilio's "application error".
// The state of a call travels in the step URLs, sealed (nothing a member
// said can be read in a URL), so a call carries on when Redis is down; the
// Journal keeps answers when Postgres is down. Redis is reached only
// through store's methods.
package ivr

import (
	"context"
	"crypto/cipher"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twilio/twilio-go/twiml"

	"github.com/haveyoursay/haveyoursay/audio"
	"github.com/haveyoursay/haveyoursay/safeguarding"
	"github.com/haveyoursay/haveyoursay/store"
	"github.com/haveyoursay/haveyoursay/survey"
	"github.com/haveyoursay/haveyoursay/webhook"
)

// The paths this package answers.
const (
	PathIncoming      = "/twilio/voice"
	PathStep          = "/twilio/voice/step"
	PathRecord        = "/twilio/voice/record"
	PathRecording     = "/twilio/voice/recording"
	PathTranscription = "/twilio/voice/transcription"
	PathStatus        = "/twilio/voice/status"
)

// Config is how calls sound and behave. Zero values get defaults.
type Config struct {
	PublicURL string // PUBLIC_URL: the base of every URL handed to Twilio
	// SecretKey (HYS_SECRET_KEY) seals the state a call carries in its
	// URLs. Every server answering the same number needs the same key.
	// Empty: a random key for this process only, so a call in progress
	// when it restarts starts afresh.
	SecretKey string
	OrgName   string // said in the recording notice

	Language string            // Twilio language when a survey's cannot be used; default en-GB
	Voice    string            // voice for Language's languages; default Polly.Amy
	Voices   map[string]string // voice per Twilio language tag, e.g. "cy-GB": "Polly.Gwyneth"
	Rate     string            // SSML speaking rate, about 150 words a minute; default 90%
	SlowRate string            // for members whose needs ask for slow speech; default 75%

	GatherTimeout time.Duration // how long to wait for a key or a word; default 8s
	SessionTTL    time.Duration // VOICE_SESSION_TTL: how long a call can be carried on; default 30m

	// StaffNumber, when set, is dialled in OfficeHours when a member
	// presses 0 (a call back is booked either way).
	StaffNumber string
	OfficeHours OfficeHours

	AccountSID string // for downloading and deleting recordings
	AuthToken  string
	APIURL     string // TWILIO_API_URL: send REST calls here instead of Twilio (the emulator)
	// DeleteFromTwilio deletes Twilio's copy of a recording once ours is
	// stored.
	DeleteFromTwilio bool
	// TranscribeURL is an OpenAI-compatible transcription service
	// (TRANSCRIBE_URL); empty means Twilio transcribes.
	TranscribeURL string

	Now func() time.Time // default time.Now

	// RecordingNumber (HYS_RECORDING_NUMBER) is a number whose calls
	// record prompts (recordprompts.go) instead of answering a survey.
	RecordingNumber string
}

// Handler answers Twilio's voice webhooks.
type Handler struct {
	Verifier webhook.Verifier
	Catalog  *store.Catalog
	Journal  *store.Journal
	Redis    *store.Redis
	DB       *store.DB
	Phones   *store.Phones
	Audio    *audio.Library // may be nil: every prompt is spoken
	// Transcriber transcribes recordings; nil means an OpenAI-compatible
	// service at Config.TranscribeURL when set, else Twilio's transcription.
	Transcriber Transcriber
	// HTTPClient downloads recordings and talks to Twilio's REST API;
	// default a client with a 30 s timeout.
	HTTPClient *http.Client
	Config     Config
	Log        *slog.Logger
	// Failed is told the cause of each failure answered with a fallback
	// ("redis", "postgres", "panic"...), for /metrics. May be nil.
	Failed func(cause string)
	// Risk finds risk phrases in what callers say and in transcripts: a
	// match raises a worry (safeguarding.go). nil: nothing is checked.
	Risk *safeguarding.Matcher

	once   sync.Once
	cfg    Config
	sealer cipher.AEAD // seals call states (see state.go)
	bg     sync.WaitGroup
	// redisRestUntil (unix nanoseconds): after a Redis failure, calls skip
	// Redis for a moment instead of each waiting for it.
	redisRestUntil atomic.Int64
}

const (
	callTTL   = 2 * time.Hour // a call's step claims and its conversation id
	dbTimeout = 150 * time.Millisecond
	// redisTimeout bounds the Redis calls on a caller's path: a call can
	// go on without Redis, so it must not wait long for it.
	redisTimeout = 250 * time.Millisecond
)

// redisRest is how long Redis is left alone after it failed.
const redisRest = 2 * time.Second

var errRedisResting = errors.New("Redis failed a moment ago; not waiting for it again yet")

func withTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), d)
}

// redisDo runs f with a short deadline, unless Redis failed in the last
// redisRest. A failure is counted.
func (h *Handler) redisDo(ctx context.Context, f func(ctx context.Context) error) error {
	if time.Now().UnixNano() < h.redisRestUntil.Load() {
		h.failed("redis", errRedisResting)
		return errRedisResting
	}
	ctx, cancel := withTimeout(ctx, redisTimeout)
	defer cancel()
	err := f(ctx)
	if err != nil {
		h.redisRestUntil.Store(time.Now().Add(redisRest).UnixNano())
		h.failed("redis", err)
	}
	return err
}

func (h *Handler) conf() *Config {
	h.once.Do(func() {
		c := h.Config
		if c.PublicURL == "" {
			c.PublicURL = h.Verifier.PublicURL
		}
		c.PublicURL = strings.TrimRight(c.PublicURL, "/")
		if c.OrgName == "" {
			c.OrgName = "Have Your Say"
		}
		if c.Language == "" {
			c.Language = "en-GB"
		}
		if c.Voice == "" {
			c.Voice = "Polly.Amy"
		}
		if c.Rate == "" {
			c.Rate = "90%"
		}
		if c.SlowRate == "" {
			c.SlowRate = "75%"
		}
		if c.GatherTimeout <= 0 {
			c.GatherTimeout = 8 * time.Second
		}
		if c.SessionTTL <= 0 {
			c.SessionTTL = 30 * time.Minute
		}
		if c.Now == nil {
			c.Now = time.Now
		}
		if h.Log == nil {
			h.Log = slog.New(slog.DiscardHandler)
		}
		if h.HTTPClient == nil {
			h.HTTPClient = &http.Client{Timeout: 30 * time.Second}
		}
		if h.Transcriber == nil && c.TranscribeURL != "" {
			h.Transcriber = &OpenAITranscriber{URL: c.TranscribeURL, HTTP: h.HTTPClient}
		}
		h.sealer = newStateSealer(c.SecretKey)
		h.cfg = c
	})
	return &h.cfg
}

// failure is an error with the cause counted in /metrics.
type failure struct {
	cause string
	err   error
}

func (f *failure) Error() string { return f.cause + ": " + f.err.Error() }
func (f *failure) Unwrap() error { return f.err }

func fail(cause string, err error) error { return &failure{cause: cause, err: err} }

func (h *Handler) failed(cause string, err error) {
	h.Log.Error("voice webhook failed", "cause", cause, "err", err)
	if h.Failed != nil {
		h.Failed(cause)
	}
}

// verify checks Twilio's signature: 403 (400 for an unreadable body) and
// nothing changed when it fails.
func (h *Handler) verify(w http.ResponseWriter, r *http.Request) bool {
	if err := h.Verifier.Check(r); err != nil {
		webhook.Refuse(w, err)
		return false
	}
	return true
}

// call is what every voice webhook says about the call.
type call struct {
	sid, from, to string
	// restart counts the times this call started afresh because a step
	// came without a state we could read (0: never). A restart is a new
	// conversation with its own step numbers, so nothing it stores can
	// collide with what the call stored before.
	restart int
}

// conv is the id of the conversation a call starts.
func (c *call) conv() string {
	if c.restart == 0 {
		return c.sid
	}
	return c.sid + "-" + strconv.Itoa(c.restart)
}

// firstN is the number of a call's first step (see restart).
func (c *call) firstN() int { return c.restart*10000 + 1 }

// restartCall starts a call afresh after a step we could not read. What
// the call said so far stays in its first conversation; the caller is
// offered to carry on with it (when we know their number) or starts a new
// one. The call status callback closes both.
func (h *Handler) restartCall(ctx context.Context, c *call, r *http.Request, cause error) ([]twiml.Element, error) {
	h.failed("bad-state", cause)
	n := 0
	h.redisDo(ctx, func(ctx context.Context) error {
		var err error
		n, err = h.Redis.CountCallRestart(ctx, c.sid, callTTL)
		return err
	})
	if n == 0 {
		n = 1 + int(time.Now().UnixNano()%9000) // Redis is away: still a fresh range
	}
	c.restart = n
	return h.incoming(ctx, c, r)
}

// caller is the participant a call belongs to. A caller whose number is
// withheld is a participant of their own for this call only: strangers
// must not share one record (and its needs, opt-outs and history).
func (h *Handler) caller(c *call) store.Person {
	if withheld(c.from) {
		return store.Person{Hash: h.Phones.Hash("withheld:" + c.sid), Enc: h.Phones.Encrypt(c.from), Masked: "withheld"}
	}
	return store.Person{Hash: h.Phones.Hash(c.from), Enc: h.Phones.Encrypt(c.from), Masked: store.Mask(c.from)}
}

type stepFunc func(ctx context.Context, c *call, r *http.Request) ([]twiml.Element, error)

// serveTwiML checks the signature, then always answers TwiML: a failure or
// a panic becomes a kind sentence, then the question again where that is
// possible, or a polite goodbye.
func (h *Handler) serveTwiML(w http.ResponseWriter, r *http.Request, f stepFunc) {
	h.conf()
	if !h.verify(w, r) {
		return
	}
	c := &call{sid: r.PostForm.Get("CallSid"), from: webhook.Storable(strings.TrimSpace(r.PostForm.Get("From")), maxSID),
		to: webhook.Storable(strings.TrimSpace(r.PostForm.Get("To")), maxSID)}
	if !validSID(c.sid) {
		// Not a call Twilio could make: nobody is listening, so no TwiML.
		http.Error(w, "CallSid is required (up to 64 printable characters): this does not look like a call from Twilio.", http.StatusBadRequest)
		return
	}
	var els []twiml.Element
	func() {
		defer func() {
			if p := recover(); p != nil {
				h.failed("panic", fmt.Errorf("%v\n%s", p, debug.Stack()))
				els = h.sorry(r)
			}
		}()
		var err error
		els, err = f(r.Context(), c, r)
		if err != nil {
			cause := "internal"
			var fe *failure
			if errors.As(err, &fe) {
				cause = fe.cause
			}
			h.failed(cause, err)
			els = h.sorry(r)
		}
	}()
	writeTwiML(w, els)
}

// sorry apologises and asks the current question again (at most twice in
// a row), or, when there is no question to go back to, says goodbye.
func (h *Handler) sorry(r *http.Request) []twiml.Element {
	lang := h.conf().Language
	q := r.URL.Query()
	st, err := h.open(q.Get("st"))
	errs, _ := strconv.Atoi(q.Get("e"))
	if err == nil && errs < 2 {
		if st.Sess.Lang != "" {
			lang = st.Sess.Lang
		}
		return []twiml.Element{
			h.say(h.phrase(nil, lang, "voice-sorry"), lang, st.Sess.Needs.SlowSpeech),
			&twiml.VoiceRedirect{Url: h.repeatURL(st, errs+1), Method: "POST"},
		}
	}
	return []twiml.Element{h.say(h.phrase(nil, lang, "voice-sorry-end"), lang, false), &twiml.VoiceHangup{}}
}

// claim reports whether this is the first time a step of a call is
// handled (Twilio may send a webhook twice). Without Redis every delivery
// counts as the first: the answers' dedupe keys still store it once.
func (h *Handler) claim(ctx context.Context, key string) bool {
	first := true
	h.redisDo(ctx, func(ctx context.Context) error {
		var err error
		first, err = h.Redis.ClaimCallStep(ctx, key, callTTL)
		if err != nil {
			first = true
		}
		return err
	})
	return first
}

// record journals events; when neither Redis nor Postgres takes them they
// are held in memory and retried, and the call carries on.
func (h *Handler) record(ctx context.Context, events ...store.Event) {
	if len(events) == 0 {
		return
	}
	ctx, cancel := withTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := h.Journal.Record(ctx, events...); err != nil {
		h.failed("journal", err)
	}
}

// Wait waits for background work (transcriptions) to finish.
func (h *Handler) Wait() { h.bg.Wait() }

// ---- words ----

// phrase is the phrase id in lang from the phrase book (survey.Phrase):
// the survey's own words when it changes it, {org} filled in.
func (h *Handler) phrase(sv *survey.Survey, lang, key string) string {
	return sv.Phrase(lang, key, "org", h.conf().OrgName)
}

// lengthPhrase tells how many questions there are and roughly how long
// they take (follow-up questions only some members hear are not counted).
func (h *Handler) lengthPhrase(sv *survey.Survey, lang string) string {
	n, secs := 0, 0
	for _, q := range sv.Questions {
		if sv.IsFollowUp(q.ID) {
			continue
		}
		n++
		secs += 20
		if q.Answer == survey.Words {
			secs += min(max(q.MaxSeconds, 30), 90)
		}
	}
	minutes := max(1, (secs+59)/60)
	text := sv.PhraseCount(lang, "voice-length", n, "n", strconv.Itoa(n), "minutes", strconv.Itoa(minutes))
	if strings.Contains(sv.Phrase(lang, "voice-length"), "{minutes}") {
		return text // a survey's own sentence that says both
	}
	return text + " " + sv.PhraseCount(lang, "voice-minutes", minutes, "minutes", strconv.Itoa(minutes))
}
