package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/haveyoursay/haveyoursay/store"
	"github.com/haveyoursay/haveyoursay/store/storetest"
)

// texts makes the events of n inbound texts as the SMS webhook records
// them: every text its message and our reply, three in five an answer,
// one in five a new conversation (and its end).
func texts(p *store.Phones, n int) []store.Event {
	var out []store.Event
	at := time.Now().UTC()
	for i := range n {
		member := person(p, fmt.Sprintf("+4477%08d", i/5))
		conv := fmt.Sprintf("sms-%d", i/5)
		sid := fmt.Sprintf("SM%032x", i)
		if i%5 == 0 {
			out = append(out, store.Event{At: at, Conversation: &store.ConversationStarted{ID: conv, Person: member, SurveyID: "s", Version: 1, Channel: "sms"}})
		}
		out = append(out,
			store.Event{At: at, Message: &store.MessageLogged{DedupeKey: sid, Direction: "in", MessageSid: sid, Person: member, ConversationID: conv, Body: "1", Status: "received"}},
			store.Event{At: at, Message: &store.MessageLogged{DedupeKey: sid + ":reply:0", Direction: "out", Person: member, ConversationID: conv, Body: "You said: Good. Question 2 of 4.", Status: "replied"}})
		if i%5 >= 2 {
			out = append(out, store.Event{At: at, Answer: &store.AnswerGiven{ConversationID: conv, QuestionID: fmt.Sprint("q", i%5), Value: "good", Raw: "1", Via: "digits", Themes: []string{"day-service"}, DedupeKey: sid}})
		}
		if i%5 == 4 {
			out = append(out, store.Event{At: at, End: &store.ConversationEnded{ID: conv, Status: "completed"}})
		}
	}
	return out
}

// BenchmarkJournalWriter is the storing side alone: b.N texts' events
// wait in the spool, and the writer moves them to Postgres. It reports
// texts stored a second by the batched writer ("stored/s") and, on the
// same events, by the earlier writer's one statement per event in
// 500-event transactions ("event-by-event/s").
func BenchmarkJournalWriter(b *testing.B) {
	ctx := context.Background()
	p := phonesB(b)
	setup := func() *store.Journal {
		db := storetest.DB(b)
		if _, _, err := db.SaveSurvey(ctx, "s", "S", "id: s", ""); err != nil {
			b.Fatal(err)
		}
		j := store.NewJournal(db, storetest.Redis(b), nil)
		b.Cleanup(func() { j.Close() })
		return j
	}
	events := texts(p, b.N)

	old := setup()
	start := time.Now()
	for i := 0; i < len(events); i += 500 {
		if err := old.ApplyEventByEvent(ctx, events[i:min(i+500, len(events))]); err != nil {
			b.Fatal(err)
		}
	}
	before := time.Since(start)

	j := setup()
	for i := 0; i < len(events); i += 50 {
		if err := j.Record(ctx, events[i:min(i+50, len(events))]...); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	start = time.Now()
	if err := j.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	after := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/after.Seconds(), "stored/s")
	b.ReportMetric(float64(b.N)/before.Seconds(), "event-by-event/s")
}

func phonesB(b *testing.B) *store.Phones {
	p, err := store.NewPhones(secret)
	if err != nil {
		b.Fatal(err)
	}
	return p
}
