package ivr

import (
	"strings"
)

// Limits on what a webhook may hand the engine and the database. Twilio
// never sends more; anything longer is cut, never refused: the caller
// still hears the next question.
const (
	maxDigits = 32   // a <Gather> answer on the keypad
	maxSpeech = 1000 // a speech result, in bytes
	maxText   = 64 << 10
	maxSID    = 64
)

// dtmf keeps only the keys a telephone keypad has; Twilio sends nothing
// else in Digits.
func dtmf(s string) string {
	s = strings.Map(func(r rune) rune {
		if (r >= '0' && r <= '9') || r == '*' || r == '#' {
			return r
		}
		return -1
	}, s)
	if len(s) > maxDigits {
		s = s[:maxDigits]
	}
	return s
}

// validSID reports whether a Twilio SID (CallSid, RecordingSid) is one we
// can use as a key: short printable ASCII.
func validSID(s string) bool {
	if s == "" || len(s) > maxSID {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

// withheld reports whether a caller's number tells us nothing about who
// they are: absent, or one of the placeholders Twilio sends when caller ID
// is withheld. Such callers must not share a "carry on" state or
// communication needs: each is a stranger to the others.
func withheld(from string) bool {
	f := strings.ToLower(strings.TrimSpace(from))
	switch f {
	case "", "anonymous", "restricted", "unknown", "private", "blocked", "unavailable", "withheld",
		"+266696687", "+86282452253", "+8656696", "+7378742833", "+2562533":
		return true
	}
	return false
}
