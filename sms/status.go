package sms

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/haveyoursay/haveyoursay/store"
)

// ErrOptedOut is Twilio's error code for a number that texted STOP.
const ErrOptedOut = 21610

// ServeStatus answers POST /twilio/sms/status: Twilio telling us what
// happened to a text we sent (queued, sent, delivered, undelivered,
// failed). Error 21610 means the number opted out with Twilio: we record
// that too, so we never try again.
func (h *Handler) ServeStatus(w http.ResponseWriter, r *http.Request) {
	if !h.verify(w, r) {
		return
	}
	sid := r.PostForm.Get("MessageSid")
	if sid == "" {
		sid = r.PostForm.Get("SmsSid")
	}
	status := strings.ToLower(r.PostForm.Get("MessageStatus"))
	if status == "" {
		status = strings.ToLower(r.PostForm.Get("SmsStatus"))
	}
	if sid == "" || status == "" {
		http.Error(w, "MessageSid and MessageStatus are required: this does not look like a status callback from Twilio.", http.StatusBadRequest)
		return
	}
	code, _ := strconv.Atoi(r.PostForm.Get("ErrorCode"))
	events := []store.Event{{Status: &store.MessageStatus{MessageSid: sid, Status: status, ErrorCode: code}}}
	ctx := r.Context()
	if code == ErrOptedOut {
		if to := strings.TrimSpace(r.PostForm.Get("To")); to != "" {
			events = append(events, store.Event{OptOut: &store.OptOut{Person: h.person(to), Out: true}})
			if err := h.sessions().SetOptedOut(ctx, h.Phones.HashString(to), true); err != nil {
				h.failed("redis", err)
			}
		}
	}
	if err := h.Journal.Record(ctx, events...); err != nil {
		h.failed("journal", err)
	}
	writeTwiML(w)
}
