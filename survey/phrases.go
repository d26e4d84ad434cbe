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

	// Issue 17: recording prompts by phone. Said only on a recording call,
	// never in a survey (survey.VoicePrompts leaves out "record-" ids).
	"record-hello":      "Hello. This is the line for recording our messages.",
	"record-pin":        "Please type your recording PIN. It has 6 numbers.",
	"record-pin-wrong":  "Sorry, that PIN did not work. Please try again.",
	"record-pin-end":    "Sorry, that PIN did not work. Please check it with staff, and call again. Goodbye.",
	"record-welcome":    "Thank you. We will read you each sentence. Please say it after the beep. Then press hash.",
	"record-skip":       "To skip a sentence, press star while we read it.",
	"record-stop":       "You can hang up at any time. Call again with the same PIN to carry on.",
	"record-sentence":   "Sentence {n} of {total}.",
	"record-after-beep": "Please say it after the beep.",
	"record-heard-back": "This is what we heard.",
	"record-keep-menu":  "To keep it, press 1. To try again, press 2. To hear it again, press star.",
	"record-kept":       "Thank you. We have kept it.",
	"record-try-again":  "OK. Let's try again.",
	"record-not-heard":  "Sorry, we could not hear that well. Let's try again.",
	"record-all-done":   "That is every sentence. Thank you. Staff will listen before callers hear them. Goodbye.",
	"record-closed":     "Sorry, recording is not possible just now. Please call again later. Goodbye.",
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
