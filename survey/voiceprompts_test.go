package survey_test

import (
	"testing"

	"github.com/haveyoursay/haveyoursay/survey"
)

// The sentences listed for recording are the very ones a caller hears.
func TestVoicePromptsAreWhatCallersHear(t *testing.T) {
	sv := survey.Demo()
	listed := map[string]string{}
	for _, p := range sv.VoicePrompts(sv.Language) {
		listed[p.Key] = p.Text
	}
	reply, sess := survey.Start(sv, survey.Voice, survey.Needs{})
	heard := reply.Prompts
	reply, sess = survey.Step(sv, sess, survey.Input{Digits: "1"}) // consent
	heard = append(heard, reply.Prompts...)
	checked := 0
	for _, p := range heard {
		if p.Key == "progress" {
			if _, ok := listed[p.Key]; ok {
				t.Errorf("progress changes from question to question, yet it is listed")
			}
			continue
		}
		if listed[p.Key] != p.Text {
			t.Errorf("%s: caller hears %q, listed %q", p.Key, p.Text, listed[p.Key])
		}
		checked++
	}
	if checked < 5 || sess.Question == "" {
		t.Fatalf("only %d prompts checked (%v)", checked, heard)
	}
	for _, q := range sv.Questions {
		if listed["question:"+q.ID] == "" || listed["menu:"+q.ID] == "" {
			t.Errorf("question %s or its menu is not listed", q.ID)
		}
	}
	if listed["thanks"] == "" || listed["retry"] != survey.DefaultPhrases["retry"] || listed["not-heard"] == "" {
		t.Errorf("thanks or built-in phrases missing: %v", listed)
	}
	for _, key := range []string{"sms-words", "yes", "voice-menu-item", "help-sms", "confirm"} {
		if _, ok := listed[key]; ok {
			t.Errorf("%s is listed, but is never said on its own by phone", key)
		}
	}
}
