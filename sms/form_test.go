package sms

import (
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestMessageSidAndFrom(t *testing.T) {
	for _, c := range []struct {
		sid, from string
		ok        bool
	}{
		{"SM0123456789abcdef0123456789ABCDEF", "+447700900001", true},
		{"MM0123456789abcdef0123456789abcdef", "+447700900001", true},
		{"SM0123456789abcdef0123456789abcdef", "447700900001", true},
		{"SM0123456789abcdef0123456789abcdef", "60123", true}, // a short code
		{"SM1", "+447700900001", false},
		{"CA0123456789abcdef0123456789abcdef", "+447700900001", false},
		{"SM0123456789abcdef0123456789abcdeg", "+447700900001", false},
		{"SM" + strings.Repeat("a", 5000), "+447700900001", false},
		{"SM0123456789abcdef0123456789abcdef", "anonymous", false},
		{"SM0123456789abcdef0123456789abcdef", "+", false},
		{"SM0123456789abcdef0123456789abcdef", "+4477009000011234", false},
		{"SM0123456789abcdef0123456789abcdef", "whatsapp:+447700900001", false},
	} {
		_, problem := parseInbound(url.Values{"MessageSid": {c.sid}, "From": {c.from}, "Body": {"hi"}})
		if (problem == "") != c.ok {
			t.Errorf("MessageSid %.40q From %q: problem %q, want ok=%v", c.sid, c.from, problem, c.ok)
		}
	}
}

// FuzzInboundForm: whatever Twilio (or anyone) posts, parsing a text never
// panics, accepts only a well-formed MessageSid and sender, and keeps a
// body that is valid UTF-8 with no NUL (Postgres refuses both).
func FuzzInboundForm(f *testing.F) {
	f.Add("SM0123456789abcdef0123456789abcdef", "+447700900001", "+447700900100", "DAYS", "", "https://api.twilio.com/m/1")
	f.Add("MM0123456789abcdef0123456789abcdef", "anonymous", "", "caf\xe9\x00", "STOP", "javascript:alert(1)")
	f.Fuzz(func(t *testing.T, sid, from, to, body, optOut, media string) {
		in, problem := parseInbound(url.Values{"MessageSid": {sid}, "From": {from}, "To": {to}, "Body": {body},
			"OptOutType": {optOut}, "MediaUrl0": {media}, "NumMedia": {"1"}})
		if problem != "" {
			return
		}
		if !validMessageSid(in.sid) || !usableFrom(in.from) {
			t.Fatalf("accepted MessageSid %q From %q", in.sid, in.from)
		}
		if !utf8.ValidString(in.body) || strings.ContainsRune(in.body, 0) {
			t.Fatalf("body not storable: %q", in.body)
		}
		for _, m := range in.media {
			if !strings.HasPrefix(strings.ToLower(m), "http") {
				t.Fatalf("media address kept: %q", m)
			}
		}
	})
}

// FuzzStatusForm: a delivery status callback parses without panicking and
// is accepted only with a MessageSid and a status.
func FuzzStatusForm(f *testing.F) {
	f.Add("SM0123456789abcdef0123456789abcdef", "", "Delivered", "", "30003", "+447700900001")
	f.Add("", "SM1", "", "sent", "x", "")
	f.Fuzz(func(t *testing.T, sid, smsSid, status, smsStatus, code, to string) {
		s, problem := parseStatus(url.Values{"MessageSid": {sid}, "SmsSid": {smsSid}, "MessageStatus": {status},
			"SmsStatus": {smsStatus}, "ErrorCode": {code}, "To": {to}})
		if problem == "" && (s.sid == "" || s.status == "" || s.status != strings.ToLower(s.status)) {
			t.Fatalf("accepted %+v", s)
		}
	})
}
