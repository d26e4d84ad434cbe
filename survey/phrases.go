package survey

import (
	"sort"
	"strings"
)

// DefaultPhrases are the engine's own words (base language English). A
// survey may change any of them with `phrases:`, and each translation
// should give its own. Placeholders in braces are filled in by the engine.
var DefaultPhrases = map[string]string{
	"progress":          "Question {n} of {total}.",
	"confirm":           "You said: {answer}.",
	"confirm-words":     "Thank you for telling us.",
	"confirm-recording": "Thank you. We have your message.",
	"skipped":           "OK. We will skip that one.",
	"must-answer":       "We need an answer to this one, please.",
	"retry":             "Sorry, I did not get that. Let's try again.",
	"simpler":           "Let me ask in a different way.",
	"ambiguous":         "Please choose just one answer.",
	"offer":             "Would you like to talk to a person?",
	"moving-on":         "That is OK. Let's go on.",
	"help-sms":          "We will ask a person to contact you soon.",
	"help-voice":        "A person will call you back soon.",
	"back-to-question":  "Now, back to the question.",
	"back":              "OK, let's go back.",
	"first-question":    "This is the first question.",
	"consent-no":        "That is fine. We will not keep your answers. Thank you for your time.",
	"consent-simpler":   "Is it OK if we keep your answers?",
	"no-consent":        "That is OK. Thank you for your time.",
	"again-sms":         "If you want to start again, text {keyword}.",
	"again-sms-number":  "If you want to start again, just text us.",
	"again-voice":       "You can call us again any time.",
	"not-heard":         "Sorry, I did not hear anything. Please try again after the beep.",
	"supporter":         "If you are helping someone, please give their answers.",
	"thanks":            "Thank you for your answers.",
	"finished":          "This survey is finished. Thank you.",
	"yes":               "Yes",
	"no":                "No",
	"sms-menu":          "Reply {items}",
	"sms-menu-item":     "{key} for {say}",
	"voice-menu-item":   "For {say}, press {key}.",
	"sms-scale":         "Reply with a number from {min} to {max}",
	"voice-scale":       "Press a number from {min} to {max}.",
	"sms-number":        "Reply with a number",
	"sms-number-range":  "Reply with a number from {min} to {max}",
	"voice-number":      "Press the number on your keypad, then press hash.",
	"sms-words":         "Reply in your own words",
	"voice-words":       "Please speak after the beep. Press hash when you have finished.",
	"sms-skip":          "or SKIP",
	"voice-skip":        "To skip this question, press hash.",
	"voice-words-skip":  "To skip this question, press hash now. Or speak after the beep, and press hash when you have finished.",
	"sms-language":      "Reply {key} for {name}",
	"voice-language":    "For {name}, press {key}.",

	// Issue 15 (consent and rights): a member asks us to forget them.
	"forget-done":    "OK. We are deleting everything we keep about you. That includes your number.",
	"forget-confirm": "We have deleted everything we kept about you, as you asked. That includes your number.",
}

// PhraseNames lists the phrase keys a survey may change, sorted.
func PhraseNames() []string {
	out := make([]string, 0, len(DefaultPhrases))
	for k := range DefaultPhrases {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// phrase returns the engine phrase key in lang.
func (s *Survey) phrase(lang, key string) string {
	if s == nil {
		return DefaultPhrases[key]
	}
	if t, ok := s.Translations[lang]; ok && lang != s.Language {
		if v, ok := t.Phrases[key]; ok && v != "" {
			return v
		}
	}
	if v, ok := s.Phrases[key]; ok && v != "" {
		return v
	}
	return DefaultPhrases[key]
}

// ownPhrase reports whether the survey gives its own words for key in
// lang (a translation's phrases, or the survey's own for its language).
func (s *Survey) ownPhrase(lang, key string) bool {
	if t, ok := s.Translations[lang]; ok && lang != s.Language {
		return t.Phrases[key] != ""
	}
	return s.Phrases[key] != ""
}

// fill replaces {name} placeholders: pairs are name, value, name, value...
func fill(text string, pairs ...string) string {
	if !strings.Contains(text, "{") {
		return text
	}
	var b strings.Builder
	b.Grow(len(text) + 16)
	for {
		i := strings.IndexByte(text, '{')
		if i < 0 {
			b.WriteString(text)
			break
		}
		j := strings.IndexByte(text[i:], '}')
		if j < 0 {
			b.WriteString(text)
			break
		}
		name := text[i+1 : i+j]
		b.WriteString(text[:i])
		found := false
		for k := 0; k+1 < len(pairs); k += 2 {
			if pairs[k] == name {
				b.WriteString(pairs[k+1])
				found = true
				break
			}
		}
		if !found {
			b.WriteString(text[i : i+j+1])
		}
		text = text[i+j+1:]
	}
	return b.String()
}
