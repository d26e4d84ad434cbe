package ivr

import (
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzGatherForm: whatever a <Gather> result holds, reading it never
// panics, keeps only keypad keys (at most maxDigits), prefers keys to
// speech, and keeps speech storable (valid UTF-8, no NUL, cut to size).
func FuzzGatherForm(f *testing.F) {
	f.Add("1", "", "")
	f.Add("12#", "yes please", "0.9")
	f.Add("", "caf\xe9\x00 ok", "NaN")
	f.Add("##", strings.Repeat("word ", 400), "-1")
	f.Fuzz(func(t *testing.T, digits, speech, confidence string) {
		in := inputOf(url.Values{"Digits": {digits}, "SpeechResult": {speech}, "Confidence": {confidence}})
		if len(in.Digits) > maxDigits || strings.Trim(in.Digits, "0123456789*#") != "" {
			t.Fatalf("digits %q", in.Digits)
		}
		if in.Digits != "" && in.Speech != "" {
			t.Fatalf("both keys %q and speech %q", in.Digits, in.Speech)
		}
		if len(in.Speech) > maxSpeech || !utf8.ValidString(in.Speech) || strings.ContainsRune(in.Speech, 0) {
			t.Fatalf("speech not storable: %q", in.Speech)
		}
		if in.NoInput != (in.Digits == "" && in.Speech == "") {
			t.Fatalf("NoInput %v for %+v", in.NoInput, in)
		}
	})
}

// FuzzCallForm: the CallSid and caller check every voice webhook makes
// never panics, and a withheld caller is never taken for a number.
func FuzzCallForm(f *testing.F) {
	f.Add("CA0123456789abcdef0123456789abcdef", "+447700900001")
	f.Add("", "anonymous")
	f.Add("CA\x00\xff", " Restricted ")
	f.Fuzz(func(t *testing.T, sid, from string) {
		if validSID(sid) && (sid == "" || len(sid) > maxSID || strings.ContainsAny(sid, " \x00\n")) {
			t.Fatalf("accepted CallSid %q", sid)
		}
		if withheld(from) && strings.ContainsAny(strings.TrimPrefix(strings.TrimSpace(from), "+"), "123456789") &&
			!strings.HasPrefix(strings.TrimSpace(from), "+") {
			t.Fatalf("withheld %q", from)
		}
	})
}
