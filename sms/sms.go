// Package sms answers the texts members send (POST /twilio/sms), keeps
// track of delivery (POST /twilio/sms/status), and sends invitations and
// reminders through Twilio's REST API.
package sms

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/twilio/twilio-go/twiml"

	"github.com/haveyoursay/haveyoursay/safeguarding"
	"github.com/haveyoursay/haveyoursay/store"
	"github.com/haveyoursay/haveyoursay/survey"
	"github.com/haveyoursay/haveyoursay/webhook"
)

// Org is what the HELP reply says about the organisation.
type Org struct {
	Name  string // e.g. "Oakfield Day Services"
	Phone string // a number people can call, e.g. "0161 496 0000"
	About string // one sentence about the service
}

// Handler answers Twilio's SMS webhooks.
type Handler struct {
	Verifier   webhook.Verifier
	Catalog    *store.Catalog
	Journal    *store.Journal
	Redis      *store.Redis
	Phones     *store.Phones
	Org        Org
	SessionTTL time.Duration // how long a conversation waits for the next text
	// ConfirmStop sends our own reply to STOP and START. Leave it off for
	// numbers where Twilio's own opt-out handling already replies.
	ConfirmStop bool
	Log         *slog.Logger
	// Failed is told the cause of each webhook that could not be answered
	// normally (for metrics). May be nil.
	Failed func(cause string)
	// Needs returns the communication needs staff set for a number (by its
	// hash, e.g. store.DB.ParticipantNeeds); a survey the member starts by
	// text uses them. May be nil: no needs.
	Needs func(ctx context.Context, phoneHash []byte) (survey.Needs, error)
	// Risk finds risk phrases in members' texts: a match raises a worry
	// and gets the crisis reply. nil: texts are not checked.
	Risk *safeguarding.Matcher
	// CrisisLines replaces the crisis-lines phrase (HYS_CRISIS_TEXT).
	CrisisLines string
	// Forget keeps a member's request (they texted FORGET) to erase
	// everything about their number (privacy.Requester). nil: FORGET is
	// an ordinary word.
	Forget func(ctx context.Context, number string) error
}

// session is one member's text conversation, kept by store.SMSSessions.
type session = store.SMSSession

// sessions is the store of members' text conversations, shared with the
// Sender's invitations and reminders.
func (h *Handler) sessions() *store.SMSSessions { return store.NewSMSSessions(h.Redis, h.SessionTTL) }

// Kind sentences for when something on our side fails (from the phrase
// book: the member's conversation cannot be read, so in English).
var (
	sorryBroken = survey.Phrase("", "sms-sorry-broken")
	sorryBusy   = survey.Phrase("", "sms-sorry-busy")
)

var stopWords = map[string]bool{"STOP": true, "STOPALL": true, "UNSUBSCRIBE": true, "CANCEL": true,
	"END": true, "QUIT": true, "REVOKE": true, "OPTOUT": true}

var startWords = map[string]bool{"START": true, "UNSTOP": true}

var helpWords = map[string]bool{"HELP": true, "INFO": true}

// maxPhraseWords is the longest text read as "stop" or "help" in other
// words; anything longer is a sentence (an answer, perhaps), not a command.
const maxPhraseWords = 6

// stopFamily are the words that ask to stop, in a short text.
var stopFamily = map[string]bool{"stop": true, "stopall": true, "unsubscribe": true, "unsub": true, "cancel": true,
	"quit": true, "end": true, "optout": true, "revoke": true}

// textWords name our texts ("no more texts", "don't text me").
var textWords = map[string]bool{"text": true, "texts": true, "texting": true, "txt": true, "txts": true, "sms": true,
	"message": true, "messages": true, "messaging": true, "msg": true, "msgs": true}

// negators turn "stop" round: "I don't want to stop".
var negators = map[string]bool{"don't": true, "dont": true, "not": true, "never": true}

// stopFiller are the only other words a short "stop" text may have.
var stopFiller = map[string]bool{"please": true, "pls": true, "plz": true, "me": true, "my": true, "now": true,
	"it": true, "just": true, "i": true, "i'm": true, "im": true, "want": true, "wanna": true, "to": true,
	"you": true, "thanks": true, "thank": true, "thx": true, "no": true, "more": true, "do": true, "all": true,
	"this": true, "them": true, "these": true, "any": true, "anymore": true, "send": true, "sending": true,
	"can": true, "could": true, "would": true, "like": true, "ok": true, "okay": true, "sorry": true, "from": true,
	"us": true, "your": true, "again": true, "right": true, "away": true, "x": true}

// phraseWords splits a short text into lower-case words (apostrophes kept
// inside words, other punctuation dropped). ok is false for a text too long
// to be a command.
func phraseWords(body string) (words []string, ok bool) {
	if len(body) > 200 {
		return nil, false
	}
	body = strings.ToLower(strings.NewReplacer("\u2019", "'", "\u2018", "'", "`", "'").Replace(body))
	for _, w := range strings.FieldsFunc(body, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\''
	}) {
		if w = strings.Trim(w, "'"); w != "" {
			words = append(words, w)
		}
	}
	// "opt out", "opt-out"
	for i := 0; i+1 < len(words); i++ {
		if words[i] == "opt" && words[i+1] == "out" {
			words = append(append(words[:i:i], "optout"), words[i+2:]...)
		}
	}
	return words, len(words) > 0 && len(words) <= maxPhraseWords
}

// stopPhrase reports whether a text asks to stop in a few words ("please
// stop texting me", "I want to stop", "no more texts please"): a short
// text of a stop word and filler only. A longer sentence that mentions
// stopping ("the bus does not stop near my house") is not one, nor is "I
// don't want to stop".
func stopPhrase(body string) bool {
	words, ok := phraseWords(body)
	if !ok {
		return false
	}
	signal := false
	for i, w := range words {
		switch {
		case stopFamily[w]:
			if !negated(words, i) {
				signal = true
			}
		case textWords[w]:
			// "no more texts", "don't text me"
			if i > 0 && (negators[words[i-1]] || slices.Contains(words[:i], "more") && slices.Contains(words[:i], "no")) {
				signal = true
			}
		case stopFiller[w], negators[w]:
		default:
			return false
		}
	}
	return signal
}

// negated reports whether the stop word at i is turned round: "don't
// stop", "I don't want to stop", "do not wanna stop".
func negated(words []string, i int) bool {
	before := func(k int) string {
		if k < 0 {
			return ""
		}
		return words[k]
	}
	want := func(w string) bool { return w == "want" || w == "wanna" || w == "like" }
	switch {
	case negators[before(i-1)]:
		return true
	case want(before(i-1)) && negators[before(i-2)]:
		return true
	case before(i-1) == "to" && want(before(i-2)) && negators[before(i-3)]:
		return true
	}
	return false
}

// helpPhrase reports whether a text is HELP or INFO in a few words: "HELP
// ME", "help please", "Help!".
func helpPhrase(body string) bool {
	words, ok := phraseWords(body)
	if !ok || !helpWords[strings.ToUpper(words[0])] {
		return false
	}
	for _, w := range words[1:] {
		switch w {
		case "me", "please", "pls", "plz", "now", "us":
		default:
			return false
		}
	}
	return true
}

// maxMedia and maxMediaURL bound the picture and voice-note addresses kept
// for one text (Twilio sends at most 10).
const (
	maxMedia    = 10
	maxMediaURL = 2048
)

// mediaURLs returns the http(s) addresses of the pictures and voice notes
// in an inbound MMS (MediaUrl0, MediaUrl1...), at most maxMedia, each cut
// to maxMediaURL bytes.
func mediaURLs(form url.Values) []string {
	// MediaUrl0, MediaUrl1, …: only the keys the form has, in order.
	var idx []int
	for k := range form {
		if n, ok := strings.CutPrefix(k, "MediaUrl"); ok {
			if i, err := strconv.Atoi(n); err == nil && i >= 0 && i < 100 && strconv.Itoa(i) == n {
				idx = append(idx, i)
			}
		}
	}
	slices.Sort(idx)
	var out []string
	for _, i := range idx {
		if len(out) >= maxMedia {
			break
		}
		raw := strings.TrimSpace(form.Get("MediaUrl" + strconv.Itoa(i)))
		if raw == "" {
			continue
		}
		u, err := url.Parse(raw)
		if err != nil || (!strings.EqualFold(u.Scheme, "http") && !strings.EqualFold(u.Scheme, "https")) || u.Host == "" {
			continue
		}
		raw = webhook.Storable(raw, maxMediaURL)
		out = append(out, raw)
	}
	return out
}

// keyword returns the message as one upper-case word, or "" when it is not
// a single word.
func keyword(body string) string {
	w := strings.TrimFunc(body, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsPunct(r) })
	if w == "" || strings.IndexFunc(w, unicode.IsSpace) >= 0 {
		return ""
	}
	return strings.ToUpper(w)
}

func newID(prefix string) string {
	b := make([]byte, 10)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// writeTwiML answers with one <Message> per text (none for an empty reply).
func writeTwiML(w http.ResponseWriter, texts ...string) {
	var els []twiml.Element
	for _, t := range texts {
		if t = strings.TrimSpace(webhook.XMLSafe(t)); t != "" {
			els = append(els, &twiml.MessagingMessage{Body: t})
		}
	}
	doc, err := twiml.Messages(els)
	if err != nil {
		doc = `<?xml version="1.0" encoding="UTF-8"?><Response></Response>`
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	w.Write([]byte(doc))
}

func (h *Handler) failed(cause string, err error) {
	h.Log.Error("sms webhook failed", "cause", cause, "err", err)
	if h.Failed != nil {
		h.Failed(cause)
	}
}

// verify checks the signature and answers 403 (or 400) when it fails.
func (h *Handler) verify(w http.ResponseWriter, r *http.Request) bool {
	if err := h.Verifier.Check(r); err != nil {
		webhook.Refuse(w, err)
		return false
	}
	return true
}

func (h *Handler) person(number string) store.Person {
	return store.Person{Hash: h.Phones.Hash(number), Enc: h.Phones.Encrypt(number), Masked: store.Mask(number)}
}

func detach(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
}
