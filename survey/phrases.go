package survey

import (
	"sort"
	"strings"
)

// DefaultPhrases is the phrase book: every sentence the service itself says
// or texts (the survey engine, texts, calls, HELP, STOP, errors, reminders
// and invitations), in English, by id. A survey may change any of them with
// `phrases:` (and per translation); BuiltinPhrases holds other languages.
//
// Easy read: at most 15 words a sentence, one idea each, common words, no
// idioms, "we" (never "I"). `survey lint` checks every phrase a survey uses.
// Placeholders in braces are filled in when the phrase is used. An id
// ending in "-one" is used instead of the id without it when the number it
// counts is 1 ("1 minute", "2 minutes").
//
// New phrases go at the end, in a block with a comment naming their issue.
var DefaultPhrases = map[string]string{
	// The survey engine, both channels.
	"progress":          "Question {n} of {total}.",
	"confirm":           "You said: {answer}.",
	"confirm-words":     "Thank you for telling us.",
	"confirm-recording": "Thank you. We have your message.",
	"skipped":           "OK. We will skip this question.",
	"must-answer":       "We need an answer to this question.",
	"retry":             "Sorry, we did not understand. Please try again.",
	"no-answer":         "We did not get an answer. Please try again.",
	"simpler":           "We will ask in a different way.",
	"ambiguous":         "Please choose one answer.",
	"offer":             "Do you want to talk to a person?",
	"moving-on":         "That is OK. We will go on.",
	"help-sms":          "A person from our team will call or text you.",
	"help-voice":        "A person from our team will call you back.",
	"back-to-question":  "Here is the question again.",
	"back":              "OK. We will go back.",
	"first-question":    "This is the first question.",
	"consent-no":        "That is OK. We will not keep your answers. Thank you.",
	"consent-simpler":   "Can we keep your answers?",
	"no-consent":        "That is OK. Thank you for talking to us.",
	"again-sms":         "To start again, text {keyword}.",
	"again-sms-number":  "To start again, send us a text.",
	"again-voice":       "You can call us again at any time.",
	"not-heard":         "We did not hear you. Please speak after the beep.",
	"words-key":         "Please say your answer after the beep.",
	"supporter":         "If you are helping someone, please give their answers.",
	"thanks":            "Thank you for your answers.",
	"finished":          "This survey has finished. Thank you.",
	"yes":               "Yes",
	"no":                "No",
	// Menus. A text menu has one option a line: "Reply with a number:",
	// then "1 Good", "2 OK", "3 Not good".
	"sms-menu":              "Reply with a number:",
	"sms-menu-item":         "{key} {say}",
	"voice-menu-item":       "For {say}, press {key}.",
	"sms-scale":             "Reply with a number from {min} to {max}.",
	"voice-scale":           "Press a number from {min} to {max}.",
	"sms-number":            "Reply with a number.",
	"sms-number-range":      "Reply with a number from {min} to {max}.",
	"voice-number":          "Press the number on your keypad. Then press hash.",
	"voice-number-optional": "Press the number on your keypad. Then wait.",
	"sms-words":             "Reply in your own words.",
	// By phone hash only ever skips: a recording ends with 1.
	"voice-words":      "Speak after the beep. When you finish, press 1.",
	"sms-skip":         "To skip this question, text SKIP.",
	"voice-skip":       "To skip this question, press hash.",
	"voice-words-skip": "To skip this question, press hash now. Or speak after the beep. When you finish, press 1.",
	"sms-language":     "Reply {key} for {name}.",
	"voice-language":   "For {name}, press {key}.",

	// Calls (package ivr).
	"voice-notice":       "Hello. This is {org}. We record this call, so we can listen carefully. If you are not safe, we may tell people who can help you.",
	"voice-length":       "There are {n} questions.",
	"voice-length-one":   "There is 1 question.",
	"voice-minutes":      "It takes about {minutes} minutes.",
	"voice-minutes-one":  "It takes about 1 minute.",
	"voice-speech-tip":   "You can press a key, or say your answer.",
	"voice-resume":       "Welcome back. To go on from where you stopped, press 1. To start again, press 2.",
	"voice-carry-on":     "OK. We will go on from where you stopped.",
	"voice-start-again":  "OK. We will start again.",
	"voice-dial":         "We are calling a person for you. Please wait.",
	"voice-pick":         "Which questions do you want to answer?",
	"voice-pick-item":    "For {title}, press {key}.",
	"voice-pick-help":    "A person from our team will call you back.",
	"voice-nothing":      "There are no questions to answer on this number. Thank you for calling. Goodbye.",
	"voice-sorry":        "Sorry, our computer had a problem. We will try again.",
	"voice-sorry-end":    "Sorry, our computer had a problem. Please call us again later. Goodbye.",
	"voice-not-got-that": "Sorry, we did not understand.",
	"voice-end-offer":    "To talk to a person, press 0.",

	// Texts (package sms): replies outside a survey, HELP, STOP, errors,
	// invitations and reminders.
	"sms-sorry-broken":   "Sorry, our computer had a problem. Please send your text again later.",
	"sms-sorry-busy":     "Sorry, we are still reading your last text. Please send this text again.",
	"sms-stop":           "OK. We will not text you again. To get our texts again, text START.",
	"sms-stop-org":       "{org} will not text you again. To get our texts again, text START.",
	"sms-start":          "Welcome back. {org} can text you again.",
	"sms-media":          "Sorry, we cannot open pictures or voice messages. Please send words.",
	"sms-lapsed":         "It is a long time since your last text. We have kept your answers.",
	"sms-finished":       "Thank you. You have finished the survey.",
	"sms-finished-again": "To answer it again, text {keyword}.",
	"sms-hello":          "Hello from {org}.",
	"sms-help-org":       "This is {org}.",
	"sms-help-phone":     "To talk to a person, call {phone}.",
	"sms-help-stop":      "To stop our texts, text STOP.",
	"sms-help-hint":      "For help, text HELP.",
	"sms-keywords-one":   "To answer {title}, text {keyword}.",
	"sms-keywords":       "To answer our questions, text one of these words:",
	"sms-keywords-item":  "{keyword} for {title}",
	"sms-keywords-none":  "We have no questions for you now.",
	"sms-invite-stop":    "If you do not want our texts, text STOP.",
	"sms-reminder":       "Hello again from {org}. You started to answer our questions. You can answer the rest now.",
	// Issue 17: recording prompts by phone. Said only on a recording call,
	// never in a survey (survey.VoicePrompts leaves out "record-" ids).
	"record-hello":      "Hello. This is the line for recording our messages.",
	"record-pin":        "Please type your recording PIN. It has 6 numbers.",
	"record-pin-wrong":  "Sorry, that PIN did not work. Please try again.",
	"record-pin-end":    "Sorry, that PIN did not work. Please check it with staff, and call again. Goodbye.",
	"record-welcome":    "Thank you. We will read you each sentence. Please say it after the beep. Then press hash.",
	"record-skip":       "To skip a sentence, press star while we read it.",
	"record-stop":       "You can hang up at any time. Call again with the same PIN to go on.",
	"record-sentence":   "Sentence {n} of {total}.",
	"record-after-beep": "Please say it after the beep.",
	"record-heard-back": "This is what we heard.",
	"record-keep-menu":  "To keep it, press 1. To try again, press 2. To hear it again, press star.",
	"record-kept":       "Thank you. We have kept it.",
	"record-try-again":  "OK. We will try again.",
	"record-not-heard":  "Sorry, we could not hear that well. Please try again.",
	"record-all-done":   "That is every sentence. Thank you. Staff will listen before callers hear them. Goodbye.",
	"record-closed":     "Sorry, you cannot record now. Please call again later. Goodbye.",
	// Issue 13, "you said, we did": asking to be told, and telling.
	"tell-me-ask":        "Can we text you to tell you what we did?",
	"tell-me-yes":        "Thank you. We will text you when we do something.",
	"tell-me-no":         "That is OK. We will not text you about it.",
	"we-did-sms":         "Hello from {org}. You told us what you think. This is what we did:",
	"we-did-voice-offer": "To hear what we changed, press 9 now.",
	"we-did-voice-intro": "People told us what they think. This is what we did.",
	"we-did-voice-none":  "We have nothing new to tell you yet.",
	"we-did-voice-end":   "Now, on to the questions.",
	// Safeguarding (issue 15). sms-notice goes before the consent question
	// by text, as voice-notice does by phone. The crisis reply answers a
	// text in which a risk phrase was found; {org-line} is crisis-org when
	// the organisation has a phone number, and {lines} is crisis-lines (or
	// HYS_CRISIS_TEXT). We never ask questions about what they told us: we
	// offer a person, and the survey waits until they want to carry on.
	"sms-notice":      "If someone hurts you, we may tell people who can keep you safe.",
	"crisis-sms":      "Thank you for telling us. We want you to be safe. A person from our team will read your message. {org-line} {lines}",
	"crisis-org":      "To talk to us, call {phone}.",
	"crisis-lines":    "If you are in danger now, call 999. You can call Samaritans free on 116 123. You can call NHS 111 and choose option 2. You can text SHOUT to 85258.",
	"crisis-person":   "Text 0 and a person will contact you.",
	"crisis-carry-on": "You do not have to answer more questions. Text AGAIN if you want to go on.",
	"crisis-waiting":  "We are here for you. Text 0 and a person will contact you. Text AGAIN if you want to go on with the questions.",
	// Said on a call, before anything else, when a caller's words hold a
	// risk phrase; the questions go on, and 0 reaches a person at any.
	"crisis-voice": "Thank you for telling us. We want you to be safe. If you are in danger now, call 999. To talk to a person, press 0.",
	// Issue 15 (consent and rights): a member asks us to forget them.
	"forget-done":    "OK. We are deleting everything we keep about you. That includes your number.",
	"forget-confirm": "We have deleted everything we kept about you, as you asked. That includes your number.",
}

// BuiltinPhrases are the built-in phrase books by language (the part of a
// language tag before "-": "en", "cy"). A phrase missing from one is said in
// English.
var BuiltinPhrases = map[string]map[string]string{
	"en": DefaultPhrases,
	"cy": WelshPhrases,
}

// PhraseNames lists the phrase ids a survey may change, sorted.
func PhraseNames() []string {
	out := make([]string, 0, len(DefaultPhrases))
	for k := range DefaultPhrases {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// baseLang is a language tag's language: "cy-GB" is "cy".
func baseLang(lang string) string {
	lang = strings.ToLower(lang)
	if i := strings.IndexAny(lang, "-_"); i > 0 {
		lang = lang[:i]
	}
	return lang
}

// builtinPhrase is the built-in phrase id in lang, if that language's book
// has it.
func builtinPhrase(lang, id string) (string, bool) {
	v, ok := BuiltinPhrases[baseLang(lang)][id]
	return v, ok && v != ""
}

// Phrase returns the phrase id in lang, filled in (pairs are name, value,
// name, value...): the survey's own words first (its translation's for a
// translated language), then the built-in book of that language, then
// English. s may be nil (no survey: the built-in words).
func (s *Survey) Phrase(lang, id string, pairs ...string) string {
	return fill(s.phrase(lang, id), pairs...)
}

// PhraseCount is Phrase for a sentence that counts something: the id with
// "-one" when n is 1 and that phrase exists.
func (s *Survey) PhraseCount(lang, id string, n int, pairs ...string) string {
	if n == 1 && s.hasPhrase(lang, id+"-one") {
		id += "-one"
	}
	return s.Phrase(lang, id, pairs...)
}

// Phrase returns a built-in phrase in lang, filled in, for words said
// outside any survey.
func Phrase(lang, id string, pairs ...string) string {
	return (*Survey)(nil).Phrase(lang, id, pairs...)
}

// hasPhrase reports whether id has words in lang at all.
func (s *Survey) hasPhrase(lang, id string) bool {
	return s.phrase(lang, id) != ""
}

// phrase returns the phrase id in lang, not filled in.
func (s *Survey) phrase(lang, key string) string {
	if s == nil {
		if v, ok := builtinPhrase(lang, key); ok {
			return v
		}
		return DefaultPhrases[key]
	}
	if lang == "" {
		lang = s.Language
	}
	if lang != s.Language {
		if t, ok := s.Translations[lang]; ok {
			if v := t.Phrases[key]; v != "" {
				return v
			}
		}
		// A language with a built-in book speaks it, rather than the
		// survey's own (base language) words.
		if v, ok := builtinPhrase(lang, key); ok {
			return v
		}
	}
	if v, ok := s.Phrases[key]; ok && v != "" {
		return v
	}
	if v, ok := builtinPhrase(s.Language, key); ok {
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
