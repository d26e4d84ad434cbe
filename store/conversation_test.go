package store_test

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/haveyoursay/haveyoursay/store"
	"github.com/haveyoursay/haveyoursay/store/storetest"
	"github.com/haveyoursay/haveyoursay/survey"
)

func TestConversationEvents(t *testing.T) {
	p := phones(t)
	who := person(p, "+447700900123")
	text := store.Conversation{ID: "sms-1", Person: who, Channel: "sms"}
	call := store.Conversation{ID: "CA1", Person: who, Channel: "voice"}
	for _, c := range []struct {
		name      string
		conv      store.Conversation
		key, said string
		events    []survey.Event
		want      []store.Event
	}{
		{"consent keeps what they said", call, "CA1:2", "pressed 1",
			[]survey.Event{survey.ConsentGiven{Words: "1"}},
			[]store.Event{{End: &store.ConversationEnded{ID: "CA1", Consent: "pressed 1"}}}},
		{"a clear no keeps nothing but the refusal", text, "SM1", "no",
			[]survey.Event{survey.ConsentRefused{Words: "no"}, survey.Ended{How: survey.Refused}},
			[]store.Event{{End: &store.ConversationEnded{ID: "sms-1", Status: "refused"}}}},
		{"no consent keeps nothing but that", text, "SM2", "maybe later",
			[]survey.Event{survey.ConsentNotGiven{}, survey.Ended{How: survey.NoConsent}},
			[]store.Event{{End: &store.ConversationEnded{ID: "sms-1", Status: "refused"}}}},
		{"yes to a person at consent: a call back, no consent", text, "SM3", "yes",
			[]survey.Event{survey.PersonAsked{Stage: survey.StageOffer, Offered: true}, survey.ConsentNotGiven{}, survey.Ended{How: survey.NoConsent}},
			[]store.Event{
				{Callback: &store.CallbackBooked{DedupeKey: "sms-1:callback", Person: who, ConversationID: "sms-1", Channel: "sms",
					Reason: "Said yes to talking to a person by text, at the consent question (yes)."}},
				{End: &store.ConversationEnded{ID: "sms-1", Status: "refused"}}}},
		{"an answer, and the end", call, "CA1:5", "pressed 2",
			[]survey.Event{survey.Answered{Answer: survey.Answer{QuestionID: "days", Value: "same", Raw: "2", Via: "digits", Themes: []string{"t"}}},
				survey.Ended{How: survey.Completed}},
			[]store.Event{
				{Answer: &store.AnswerGiven{ConversationID: "CA1", QuestionID: "days", Value: "same", Raw: "2", Via: "digits", Themes: []string{"t"}, DedupeKey: "CA1:5"}},
				{End: &store.ConversationEnded{ID: "CA1", Status: "completed"}}}},
		{"a recording is kept by its sid", call, "CA1:3", "recorded a message",
			[]survey.Event{survey.Answered{Answer: survey.Answer{QuestionID: "why", Via: "recording", Recording: &survey.Recording{URL: "u", SID: "RE1", Seconds: 4}}}},
			[]store.Event{{Answer: &store.AnswerGiven{ConversationID: "CA1", QuestionID: "why", Raw: "RE1", Via: "recording", DedupeKey: "CA1:3"}}}},
		{"a person at a question", call, "CA1:4", "pressed 0",
			[]survey.Event{survey.PersonAsked{Stage: survey.StageQuestion, QuestionID: "feel"}},
			[]store.Event{{Callback: &store.CallbackBooked{DedupeKey: "CA1:callback", Person: who, ConversationID: "CA1", Channel: "voice",
				Reason: "Asked for a person during a call, at question feel (pressed 0)."}}}},
		{"help with no conversation: one call back per message", store.Conversation{Person: who, Channel: "sms"}, "SM9", "I need help",
			[]survey.Event{survey.PersonAsked{Stage: survey.StageDone}},
			[]store.Event{{Callback: &store.CallbackBooked{DedupeKey: "SM9:callback", Person: who, Channel: "sms",
				Reason: "Asked for a person by text, outside a survey (I need help)."}}}},
		{"a language", text, "SM4", "2",
			[]survey.Event{survey.LanguageChosen{Lang: "cy"}},
			[]store.Event{{End: &store.ConversationEnded{ID: "sms-1", Language: "cy"}}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := c.conv.Events(c.key, c.said, c.events)
			if !reflect.DeepEqual(got, c.want) {
				g, _ := json.Marshal(got)
				w, _ := json.Marshal(c.want)
				t.Errorf("events\n got %s\nwant %s", g, w)
			}
		})
	}
	long := strings.Repeat("help ", 100)
	ev := text.Events("SM5", long, []survey.Event{survey.PersonAsked{Stage: survey.StageQuestion, QuestionID: "q"}})
	if r := ev[0].Callback.Reason; len([]rune(r)) > 160 || !strings.Contains(r, "…") {
		t.Errorf("a long text is clipped in the reason: %q", r)
	}
}

// What a member who never consented sent is not kept as consent: the
// conversation is refused, with no consent words and no answers.
func TestNoConsentStoresNothingButTheFact(t *testing.T) {
	ctx := context.Background()
	conv := store.Conversation{ID: "sms-x", Person: person(phones(t), "+447700900555"), Channel: "sms"}
	db := storetest.DB(t)
	j := store.NewJournal(db, storetest.Redis(t), nil)
	if _, _, err := db.SaveSurvey(ctx, "s", "S", "id: s", ""); err != nil {
		t.Fatal(err)
	}
	events := []store.Event{{Conversation: &store.ConversationStarted{ID: conv.ID, Person: conv.Person, SurveyID: "s", Version: 1, Channel: "sms"}}}
	events = append(events, conv.Events("SM1", "maybe later", []survey.Event{survey.ConsentNotGiven{}, survey.Ended{How: survey.NoConsent}})...)
	if err := j.Record(ctx, events...); err != nil {
		t.Fatal(err)
	}
	if err := j.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	var status string
	var consent *string
	if err := db.Pool.QueryRow(ctx, "SELECT status, consent FROM conversations WHERE id = $1", conv.ID).Scan(&status, &consent); err != nil {
		t.Fatal(err)
	}
	if status != "refused" || consent != nil {
		t.Errorf("status %q consent %v; want refused and no consent", status, consent)
	}
	if n := count(t, db, "answers"); n != 0 {
		t.Errorf("%d answers kept", n)
	}
}
