package store

import (
	"strings"
	"unicode/utf8"

	"github.com/haveyoursay/haveyoursay/survey"
)

// ConversationRef is what the journal needs to keep what the survey engine
// reports about one conversation, whichever channel it is on. Texts and
// calls both keep the engine's events through it, so consent, answers and
// call backs are stored by one set of rules.
type ConversationRef struct {
	ID      string // "" when there is none (a member asking for help after it was forgotten)
	Person  Person
	Channel string // "sms" or "voice"
}

// Events turns what the engine reported at one turn into journal events.
// key identifies the turn (a MessageSid, or CallSid:step) so a webhook
// delivered twice is stored once; said is a plain description of what the
// member sent ("yes", "pressed 1", `said "yes please"`), kept as the words
// of consent and in the reason for a call back.
func (c ConversationRef) Events(key, said string, events []survey.Event) []Event {
	var out []Event
	for _, ev := range events {
		switch e := ev.(type) {
		case survey.ConsentGiven:
			words := said
			if words == "" {
				words = e.Words
			}
			out = append(out, Event{End: &ConversationEnded{ID: c.ID, Consent: words}})
		case survey.Answered:
			raw := e.Raw
			if e.Recording != nil {
				raw = e.Recording.SID // the recording's own row keeps the rest
			}
			out = append(out, Event{Answer: &AnswerGiven{ConversationID: c.ID, QuestionID: e.QuestionID, Value: e.Value,
				Raw: raw, Via: e.Via, NoAnswer: e.NoAnswer, Skipped: e.Skipped, Themes: e.Themes, DedupeKey: key}})
		case survey.PersonAsked:
			// One call back per conversation, however often they ask.
			dedupe := c.ID + ":callback"
			if c.ID == "" {
				dedupe = key + ":callback"
			}
			out = append(out, Event{Callback: &CallbackBooked{DedupeKey: dedupe, Person: c.Person,
				ConversationID: c.ID, Channel: c.Channel, Reason: c.reason(e, said)}})
		case survey.FollowUpConsent:
			tell := "no"
			if e.Yes {
				tell = "yes"
			}
			out = append(out, Event{End: &ConversationEnded{ID: c.ID, TellMe: tell}})
		case survey.LanguageChosen:
			out = append(out, Event{End: &ConversationEnded{ID: c.ID, Language: e.Lang}})
		case survey.Ended:
			// Refused and no consent are the same fact to keep: nothing
			// but that consent was not given. (ConsentRefused and
			// ConsentNotGiven store nothing of their own: not even the
			// words of a "no" are kept.)
			status := "completed"
			if e.How != survey.Completed {
				status = "refused"
			}
			out = append(out, Event{End: &ConversationEnded{ID: c.ID, Status: status}})
		}
	}
	return out
}

// reason tells staff, in a sentence, when and how a member asked for a
// person.
func (c ConversationRef) reason(e survey.PersonAsked, said string) string {
	how := "by text"
	if c.Channel == string(survey.Voice) {
		how = "during a call"
	}
	var where string
	switch {
	case e.Stage == "":
		where = "before choosing a survey"
	case e.Stage == survey.StageDone && c.ID == "":
		where = "outside a survey"
	case e.Stage == survey.StageDone:
		where = "after the survey had ended"
	case e.QuestionID != "":
		where = "at question " + e.QuestionID
	case e.Stage == survey.StageLanguage:
		where = "while choosing a language"
	default:
		where = "at the consent question"
	}
	asked := "Asked for a person"
	if e.Offered {
		asked = "Said yes to talking to a person"
	}
	s := asked + " " + how + ", " + where
	if said = clip(strings.Join(strings.Fields(said), " "), 80); said != "" {
		s += " (" + said + ")"
	}
	return s + "."
}

// clip shortens s to at most n characters, marking the cut.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
