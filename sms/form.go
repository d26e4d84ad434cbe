package sms

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/haveyoursay/haveyoursay/webhook"
)

// validMessageSid reports whether s is a Twilio message SID: SM (a text)
// or MM (a picture message) and 32 hex digits. Anything else is refused
// before it can become a Redis key or a database row.
func validMessageSid(s string) bool {
	if len(s) != 34 || (s[:2] != "SM" && s[:2] != "MM") {
		return false
	}
	for i := 2; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

// usableFrom reports whether a sender is a phone number we can keep a
// conversation with: an optional + and 3 to 15 digits (E.164 numbers and
// short codes). Withheld or odd senders ("anonymous", letters) are
// refused, so they never share one participant and one session.
func usableFrom(s string) bool {
	digits := strings.TrimPrefix(s, "+")
	if len(digits) < 3 || len(digits) > 15 {
		return false
	}
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return false
		}
	}
	return true
}

// parseInbound reads a text from Twilio's form; problem is a sentence
// saying why the form is not a text we can take ("" when it is).
func parseInbound(form url.Values) (in inbound, problem string) {
	in = inbound{
		sid:        form.Get("MessageSid"),
		from:       strings.TrimSpace(form.Get("From")),
		to:         strings.TrimSpace(form.Get("To")),
		body:       webhook.Storable(form.Get("Body"), 0),
		optOutType: strings.ToUpper(form.Get("OptOutType")),
		media:      mediaURLs(form),
	}
	switch {
	case in.sid == "" || in.from == "":
		return in, "MessageSid and From are required: this does not look like a text from Twilio."
	case !validMessageSid(in.sid):
		return in, "MessageSid must be SM or MM and 32 hex digits: this does not look like a text from Twilio."
	case !usableFrom(in.from):
		return in, "From must be a phone number: we cannot keep a conversation with a hidden or unknown sender."
	}
	return in, ""
}

// statusForm is a delivery status callback as Twilio sends it.
type statusForm struct {
	sid, status, to string
	code            int
}

// parseStatus reads a delivery status callback; problem says why it is
// not one ("" when it is).
func parseStatus(form url.Values) (s statusForm, problem string) {
	s.sid = form.Get("MessageSid")
	if s.sid == "" {
		s.sid = form.Get("SmsSid")
	}
	s.status = strings.ToLower(form.Get("MessageStatus"))
	if s.status == "" {
		s.status = strings.ToLower(form.Get("SmsStatus"))
	}
	if s.sid == "" || s.status == "" {
		return s, "MessageSid and MessageStatus are required: this does not look like a status callback from Twilio."
	}
	s.code, _ = strconv.Atoi(form.Get("ErrorCode"))
	s.to = strings.TrimSpace(form.Get("To"))
	return s, ""
}
