package survey

import "strings"

// gsmBasic is the GSM 03.38 default alphabet (each costs one septet).
const gsmBasic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"

// gsmExtension characters cost two septets (escape + char).
const gsmExtension = "^{}\\[]~|€\f"

var gsmCost [128]uint8 // ASCII fast path: 0 = not GSM-7
var gsmOther = map[rune]uint8{}

func init() {
	for _, r := range gsmBasic {
		if r < 128 {
			gsmCost[r] = 1
		} else {
			gsmOther[r] = 1
		}
	}
	for _, r := range gsmExtension {
		if r < 128 {
			gsmCost[r] = 2
		} else {
			gsmOther[r] = 2
		}
	}
}

// gsmSeptets returns the septet cost of r in GSM-7, or 0 if r is not in it.
func gsmSeptets(r rune) int {
	if r < 128 {
		return int(gsmCost[r])
	}
	return int(gsmOther[r])
}

// IsGSM7 reports whether text can be sent in the GSM-7 alphabet.
func IsGSM7(text string) bool {
	for _, r := range text {
		if gsmSeptets(r) == 0 {
			return false
		}
	}
	return true
}

// Segments counts the SMS segments text needs, as a phone network would:
// GSM-7 when every character is in the GSM alphabet (160 septets in one
// message, 153 a part when split; extension characters ^ { } \ [ ] ~ | €
// cost two and are never split across parts), otherwise UCS-2 (70 UTF-16
// code units in one message, 67 a part; a character outside the BMP such as
// an emoji is two units and is never split). Empty text is 0 segments.
func Segments(text string) (segments int, ucs2 bool) {
	if text == "" {
		return 0, false
	}
	ucs2 = !IsGSM7(text)
	single, part := 160, 153
	if ucs2 {
		single, part = 70, 67
	}
	cost := func(r rune) int {
		if !ucs2 {
			return gsmSeptets(r)
		}
		if r >= 0x10000 {
			return 2
		}
		return 1
	}
	total := 0
	for _, r := range text {
		total += cost(r)
	}
	if total <= single {
		return 1, ucs2
	}
	segments, used := 1, 0
	for _, r := range text {
		c := cost(r)
		if used+c > part {
			segments++
			used = 0
		}
		used += c
	}
	return segments, ucs2
}

// gsmFriendly replaces typographic punctuation (as pasted from a word
// processor) with plain GSM-7 characters, so a message is not sent as UCS-2
// (twice the cost) because of one curly quote.
var gsmFriendly = strings.NewReplacer(
	"\u2018", "'", "\u2019", "'", "\u201A", "'", "\u201B", "'",
	"\u201C", "\"", "\u201D", "\"", "\u201E", "\"",
	"\u2013", "-", "\u2014", "-", "\u2012", "-", "\u2212", "-",
	"\u2026", "...", "\u00A0", " ", "\u2009", " ", "\u202F", " ",
	"`", "'", "\u00B4", "'",
)
