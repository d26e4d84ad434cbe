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
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/twilio/twilio-go/twiml"

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
}

// session is what Redis keeps for one member's text conversation.
type session struct {
	Conversation string         `json:"conv"`
	Survey       survey.Session `json:"s"`
}

const (
	dedupeTTL = 7 * 24 * time.Hour
	seenTTL   = 90 * 24 * time.Hour // remember a finished or lapsed conversation for "let's start again"
)

// Kind sentences for when something on our side fails.
const (
	sorryBroken = "Sorry, something went wrong on our side. Please text again in a few minutes."
	sorryBusy   = "Sorry, we are still reading your last text. Please send this one again in a moment."
)

var stopWords = map[string]bool{"STOP": true, "STOPALL": true, "UNSUBSCRIBE": true, "CANCEL": true,
	"END": true, "QUIT": true, "REVOKE": true, "OPTOUT": true}

var startWords = map[string]bool{"START": true, "UNSTOP": true}

var helpWords = map[string]bool{"HELP": true, "INFO": true}

// keyword returns the message as one upper-case word, or "" when it is not
// a single word.
func keyword(body string) string {
	w := strings.TrimFunc(body, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsPunct(r) })
	if w == "" || strings.IndexFunc(w, unicode.IsSpace) >= 0 {
		return ""
	}
	return strings.ToUpper(w)
}

// storable makes text Postgres can hold while keeping everything else
// exactly as sent: invalid UTF-8 becomes U+FFFD and NUL bytes are dropped
// (Postgres text cannot contain them).
func storable(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return strings.ReplaceAll(s, "\x00", "")
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
