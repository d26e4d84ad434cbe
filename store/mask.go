package store

import "regexp"

// phoneLike is a run of 7 to 15 digits, perhaps after a +, that is not
// part of a longer word (so a SID like RE0123456789abc is left alone).
var phoneLike = regexp.MustCompile(`(^|[^\p{L}\p{N}+])(\+?[0-9]{7,15})($|[^\p{L}\p{N}])`)

// MaskNumbers masks every phone number in s (Mask), for error texts and
// log lines: Twilio's own error messages name the number ("The 'To'
// number +447700900123 is not a valid phone number.").
func MaskNumbers(s string) string {
	// Twice: adjacent numbers share the character between them.
	for range 2 {
		s = phoneLike.ReplaceAllStringFunc(s, func(m string) string {
			sub := phoneLike.FindStringSubmatch(m)
			return sub[1] + Mask(sub[2]) + sub[3]
		})
	}
	return s
}
