package survey

import "strings"

// Issue 17: prompts recorded in members' own voices.

// VoicePrompts lists the fixed sentences a caller may hear in lang, each
// with the prompt key the engine says it under (Prompt.Key), in the order a
// caller meets them: the language menu, the survey's own words (intro,
// consent and its menu, each question, its simpler wording and its menu,
// thanks), then the built-in phrases (by their DefaultPhrases id) that
// take no placeholders and are spoken on their own. Each is a sentence a
// member could record. Sentences that change from call to call
// ("Question 2 of 4", "You said: Yes") are not listed.
func (s *Survey) VoicePrompts(lang string) []Prompt {
	if s == nil {
		return nil
	}
	if !s.hasLanguage(lang) {
		lang = s.Language
	}
	e := &engine{s: s, sess: Session{SurveyID: s.ID, Channel: Voice, Lang: lang}}
	var out []Prompt
	seen := map[string]bool{}
	add := func(key, text string) {
		if text = strings.TrimSpace(text); text != "" && !seen[key] {
			seen[key] = true
			out = append(out, Prompt{Key: key, Text: text})
		}
	}
	if len(s.Translations) > 0 {
		for _, o := range e.languageQuestion().Options {
			if o.Value == lang {
				add("language:"+o.Value, fill(s.phrase(o.Value, "voice-language"), "key", o.Key, "name", o.Say))
			}
		}
	}
	add("intro", s.localText(lang, "intro"))
	add("consent", s.localText(lang, "consent"))
	add("menu:consent", e.menu(e.yesNoQuestion("consent")))
	add("simpler:consent", e.phrase("consent-simpler"))
	for i := range s.Questions {
		lq := s.localQuestion(&s.Questions[i], lang)
		add("question:"+lq.ID, lq.Ask)
		add("simpler:"+lq.ID, lq.Simpler)
		add("menu:"+lq.ID, e.menu(lq))
	}
	thanks := s.localText(lang, "thanks")
	if thanks == "" {
		thanks = e.phrase("thanks")
	}
	add("thanks", thanks)
	for _, id := range PhraseNames() {
		text := s.phrase(lang, id)
		if strings.Contains(text, "{") || strings.HasPrefix(id, "sms-") || strings.HasPrefix(id, "record-") || strings.Contains(id, "-sms") || !isSentence(text) {
			continue
		}
		add(id, text)
	}
	return out
}

// isSentence reports whether text ends like a sentence: words said on
// their own, not a label ("Yes") used inside other sentences.
func isSentence(text string) bool {
	t := strings.TrimSpace(text)
	return strings.HasSuffix(t, ".") || strings.HasSuffix(t, "?") || strings.HasSuffix(t, "!")
}
