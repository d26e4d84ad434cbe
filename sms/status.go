package sms

import (
	"net/http"

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
	st, problem := parseStatus(r.PostForm)
	if problem != "" {
		http.Error(w, problem, http.StatusBadRequest)
		return
	}
	sid, status, code := st.sid, st.status, st.code
	events := []store.Event{{Status: &store.MessageStatus{MessageSid: sid, Status: status, ErrorCode: code}}}
	ctx := r.Context()
	if code == ErrOptedOut {
		if to := st.to; to != "" {
			events = append(events, store.Event{OptOut: &store.OptOut{Person: h.person(to), Out: true}})
			if err := h.sessions().SetOptedOut(ctx, h.Phones.HashString(to), true); err != nil {
				h.failed("redis", err)
			}
		}
	}
	if err := h.Journal.Record(ctx, events...); err != nil {
		h.failed("journal", err)
		notKept(w)
		return
	}
	writeTwiML(w)
}
