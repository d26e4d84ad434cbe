package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/haveyoursay/haveyoursay/store"
	"github.com/haveyoursay/haveyoursay/store/storetest"
)

// reviewFixture writes, through the journal as the webhooks do, a text
// conversation with a words answer, a call with a recording and its
// transcript, and a refused text conversation from the same member.
func reviewFixture(t *testing.T) (*store.DB, context.Context) {
	t.Helper()
	ctx := context.Background()
	db := storetest.DB(t)
	r := storetest.Redis(t)
	if _, _, err := db.SaveSurvey(ctx, "day-service", "Your day service", "id: day-service", ""); err != nil {
		t.Fatal(err)
	}
	p := phones(t)
	ann, bob := person(p, "+447700900111"), person(p, "+447700900222")
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	j := store.NewJournal(db, r, nil)
	ev := func(min int, e store.Event) store.Event { e.At = at.Add(time.Duration(min) * time.Minute); return e }
	events := []store.Event{
		ev(0, store.Event{Conversation: &store.ConversationStarted{ID: "sms-1", Person: ann, SurveyID: "day-service", Version: 1, Channel: "sms"}}),
		ev(1, store.Event{Message: &store.MessageLogged{DedupeKey: "SM1", Direction: "in", Person: ann, ConversationID: "sms-1", Body: "3"}}),
		ev(1, store.Event{Answer: &store.AnswerGiven{ConversationID: "sms-1", QuestionID: "feel", Value: "not-good", Raw: "3", Via: "digits", Themes: []string{"day-service"}, DedupeKey: "SM1:answer"}}),
		ev(2, store.Event{Message: &store.MessageLogged{DedupeKey: "SM2", Direction: "in", Person: ann, ConversationID: "sms-1", Body: "The buses are always late"}}),
		ev(2, store.Event{Answer: &store.AnswerGiven{ConversationID: "sms-1", QuestionID: "better", Value: "The buses are always late", Raw: "The buses are always late", Via: "text", Themes: []string{"ideas"}, DedupeKey: "SM2:answer"}}),
		ev(3, store.Event{End: &store.ConversationEnded{ID: "sms-1", Status: "completed"}}),

		ev(10, store.Event{Conversation: &store.ConversationStarted{ID: "call-1", Person: bob, SurveyID: "day-service", Version: 1, Channel: "voice", CallSid: "CA1"}}),
		ev(11, store.Event{Input: &store.CallInput{DedupeKey: "CA1:1", ConversationID: "call-1", CallSid: "CA1", Stage: "question", QuestionID: "feel", Speech: "not very good", Understood: true}}),
		ev(11, store.Event{Answer: &store.AnswerGiven{ConversationID: "call-1", QuestionID: "feel", Value: "not-good", Raw: "not very good", Via: "speech", DedupeKey: "CA1:1"}}),
		ev(12, store.Event{Answer: &store.AnswerGiven{ConversationID: "call-1", QuestionID: "better", Raw: "RE1", Via: "recording", DedupeKey: "CA1:2"}}),
		ev(13, store.Event{End: &store.ConversationEnded{ID: "call-1", Status: "partial"}}),
		ev(14, store.Event{Callback: &store.CallbackBooked{DedupeKey: "CA1:callback", Person: bob, ConversationID: "call-1", Channel: "voice", Reason: "pressed 0"}}),

		ev(20, store.Event{Conversation: &store.ConversationStarted{ID: "sms-2", Person: ann, SurveyID: "day-service", Version: 1, Channel: "sms"}}),
		ev(21, store.Event{End: &store.ConversationEnded{ID: "sms-2", Status: "refused"}}),
		ev(22, store.Event{Callback: &store.CallbackBooked{DedupeKey: "SM9:callback", Person: ann, ConversationID: "sms-2", Channel: "sms", Reason: "asked by text"}}),
	}
	if err := j.Record(ctx, events...); err != nil {
		t.Fatal(err)
	}
	if err := j.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SaveRecording(ctx, store.Recording{SID: "RE1", CallSID: "CA1", ConversationID: "call-1", QuestionID: "better",
		AnswerKey: "CA1:2", Seconds: 4, ContentType: "audio/wav", Audio: []byte("RIFF....WAVE")}); err != nil {
		t.Fatal(err)
	}
	if err := db.SaveTranscript(ctx, store.Transcript{RecordingSID: "RE1", AnswerKey: "CA1:2", Source: "twilio", Status: "completed",
		Text: "the staff shout at me sometimes"}); err != nil {
		t.Fatal(err)
	}
	return db, ctx
}

func ids(rows []store.ConversationRow) []string {
	var out []string
	for _, r := range rows {
		out = append(out, r.ID)
	}
	return out
}

func TestListConversationsFilters(t *testing.T) {
	db, ctx := reviewFixture(t)
	if _, err := db.RaiseFlag(ctx, "lead@example.org", "sms-1", 0, store.FlagWorry, "sounds unhappy"); err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name string
		f    store.ConversationFilter
		want []string
	}{
		{"all, newest first", store.ConversationFilter{}, []string{"sms-2", "call-1", "sms-1"}},
		{"survey", store.ConversationFilter{SurveyID: "day-service"}, []string{"sms-2", "call-1", "sms-1"}},
		{"other survey", store.ConversationFilter{SurveyID: "nope"}, nil},
		{"channel", store.ConversationFilter{Channel: "voice"}, []string{"call-1"}},
		{"status", store.ConversationFilter{Status: "refused"}, []string{"sms-2"}},
		{"question", store.ConversationFilter{QuestionID: "better"}, []string{"call-1", "sms-1"}},
		{"theme", store.ConversationFilter{Theme: "ideas"}, []string{"sms-1"}},
		{"flagged", store.ConversationFilter{Flagged: true}, []string{"sms-1"}},
		{"has recording", store.ConversationFilter{HasRecording: true}, []string{"call-1"}},
		{"from", store.ConversationFilter{From: day.Add(10*time.Hour + 5*time.Minute)}, []string{"sms-2", "call-1"}},
		{"until", store.ConversationFilter{Until: day.Add(10*time.Hour + 5*time.Minute)}, []string{"sms-1"}},
		{"search a text answer", store.ConversationFilter{Search: "BUSES"}, []string{"sms-1"}},
		{"search a transcript", store.ConversationFilter{Search: "shouting"}, []string{"call-1"}},
		{"search phrase", store.ConversationFilter{Search: `"always late"`}, []string{"sms-1"}},
		{"search nothing", store.ConversationFilter{Search: "elephant"}, nil},
		{"search a recording's sid finds nothing", store.ConversationFilter{Search: "RE1"}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			rows, next, err := db.ListConversations(ctx, c.f)
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(rows); !slices.Equal(got, c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
			if !next.IsZero() {
				t.Fatalf("one page only, but next = %+v", next)
			}
		})
	}
	if _, _, err := db.ListConversations(ctx, store.ConversationFilter{Search: "the and"}); !errors.Is(err, store.ErrSearchTooCommon) {
		t.Fatalf("a search of only common words: %v", err)
	}
	rows, _, err := db.ListConversations(ctx, store.ConversationFilter{Search: "shout"})
	if err != nil || len(rows) != 1 {
		t.Fatal(rows, err)
	}
	r := rows[0]
	if r.Excerpt != "the staff shout at me sometimes" || !r.HasRecording || r.PhoneMasked != "+44 ••••••• 222" || r.SurveyTitle != "Your day service" {
		t.Fatalf("row: %+v", r)
	}
	rows, _, _ = db.ListConversations(ctx, store.ConversationFilter{Channel: "sms", Status: "completed"})
	if len(rows) != 1 || rows[0].Excerpt != "The buses are always late" || !slices.Equal(rows[0].Themes, []string{"day-service", "ideas"}) || !rows[0].Flagged {
		t.Fatalf("row: %+v", rows)
	}
}

func TestListConversationsPages(t *testing.T) {
	db, ctx := reviewFixture(t)
	var seen []string
	var after store.PageKey
	for page := 0; ; page++ {
		rows, next, err := db.ListConversations(ctx, store.ConversationFilter{Limit: 2, After: after})
		if err != nil {
			t.Fatal(err)
		}
		seen = append(seen, ids(rows)...)
		if next.IsZero() {
			break
		}
		if page > 3 {
			t.Fatal("pages never end")
		}
		after = next
	}
	if want := []string{"sms-2", "call-1", "sms-1"}; !slices.Equal(seen, want) {
		t.Fatalf("pages gave %v, want %v", seen, want)
	}
}

func TestTranscriptCorrectionKeepsOriginalAndIsSearched(t *testing.T) {
	db, ctx := reviewFixture(t)
	if err := db.CorrectRecordingTranscript(ctx, "lead@example.org", "call-1", "RE1", "the staff shout at me on Mondays"); err != nil {
		t.Fatal(err)
	}
	if err := db.CorrectRecordingTranscript(ctx, "lead@example.org", "sms-1", "RE1", "x"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a recording of another conversation: %v", err)
	}
	// A machine transcript arriving after the correction does not replace it.
	if err := db.SaveTranscript(ctx, store.Transcript{RecordingSID: "RE1", AnswerKey: "CA1:2", Source: "service", Status: "completed", Text: "the stuff shout"}); err != nil {
		t.Fatal(err)
	}
	c, err := db.GetConversation(ctx, "call-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Recordings) != 1 {
		t.Fatalf("recordings: %+v", c.Recordings)
	}
	rec := c.Recordings[0]
	cur, _ := rec.Current()
	orig, _ := rec.Original()
	if cur.Text != "the staff shout at me on Mondays" || cur.CreatedBy != "lead@example.org" || orig.Text != "the staff shout at me sometimes" {
		t.Fatalf("current %+v, original %+v", cur, orig)
	}
	if len(rec.Corrections()) != 1 {
		t.Fatalf("corrections: %+v", rec.Corrections())
	}
	var words store.Answer
	for _, a := range c.Answers {
		if a.QuestionID == "better" {
			words = a
		}
	}
	if words.RecordingSID != "RE1" || words.Words() != cur.Text {
		t.Fatalf("the answer shows %+v", words)
	}
	rows, _, _ := db.ListConversations(ctx, store.ConversationFilter{Search: "mondays"})
	if !slices.Equal(ids(rows), []string{"call-1"}) {
		t.Fatalf("the correction is not searched: %v", ids(rows))
	}
	rows, _, _ = db.ListConversations(ctx, store.ConversationFilter{Search: "sometimes"})
	if len(rows) != 0 {
		t.Fatalf("the replaced words are still searched: %v", ids(rows))
	}
}

// A transcript can reach Postgres before its answer (the journal was
// spooling): the answer still gets it.
func TestTranscriptBeforeAnswer(t *testing.T) {
	db, ctx := reviewFixture(t)
	if err := db.SaveTranscript(ctx, store.Transcript{RecordingSID: "RE7", AnswerKey: "CA7:2", Source: "twilio", Status: "completed", Text: "the garden is lovely"}); err != nil {
		t.Fatal(err)
	}
	j := store.NewJournal(db, storetest.Redis(t), nil)
	p := phones(t)
	if err := j.Record(ctx,
		store.Event{Conversation: &store.ConversationStarted{ID: "call-7", Person: person(p, "+447700900777"), SurveyID: "day-service", Version: 1, Channel: "voice", CallSid: "CA7"}},
		store.Event{Answer: &store.AnswerGiven{ConversationID: "call-7", QuestionID: "better", Raw: "RE7", Via: "recording", DedupeKey: "CA7:2"}}); err != nil {
		t.Fatal(err)
	}
	if err := j.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	rows, _, err := db.ListConversations(ctx, store.ConversationFilter{Search: "garden"})
	if err != nil || !slices.Equal(ids(rows), []string{"call-7"}) {
		t.Fatalf("%v %v", ids(rows), err)
	}
}

func TestGetConversationInFull(t *testing.T) {
	db, ctx := reviewFixture(t)
	if _, err := db.GetConversation(ctx, "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown id: %v", err)
	}
	c, err := db.GetConversation(ctx, "sms-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Answers) != 2 || c.Answers[0].QuestionID != "feel" || c.Answers[0].Raw != "3" || c.Answers[0].Value != "not-good" {
		t.Fatalf("answers: %+v", c.Answers)
	}
	if len(c.Messages) != 2 || c.Messages[1].Body != "The buses are always late" {
		t.Fatalf("messages: %+v", c.Messages)
	}
	if !slices.Equal(ids(c.Others), []string{"sms-2"}) || c.SurveyTitle != "Your day service" || c.Status != "completed" {
		t.Fatalf("conversation: %+v", c)
	}
	call, err := db.GetConversation(ctx, "call-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(call.Inputs) != 1 || call.Inputs[0].Speech != "not very good" || len(call.Others) != 0 {
		t.Fatalf("call: %+v", call)
	}
	rec, err := db.ConversationRecording(ctx, "call-1", "RE1")
	if err != nil || string(rec.Audio) != "RIFF....WAVE" {
		t.Fatalf("recording: %v", err)
	}
	if _, err := db.ConversationRecording(ctx, "sms-1", "RE1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a recording through another conversation: %v", err)
	}
}

func TestThemesNotesFlagsAreAudited(t *testing.T) {
	db, ctx := reviewFixture(t)
	c, _ := db.GetConversation(ctx, "sms-1")
	words := c.Answers[1].ID
	const who = "lead@example.org"
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(db.AddTheme(ctx, who, "sms-1", words, "transport"))
	must(db.AddTheme(ctx, who, "sms-1", words, "transport"))
	must(db.RemoveTheme(ctx, who, "sms-1", words, "ideas"))
	if err := db.AddTheme(ctx, who, "call-1", words, "x"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("an answer of another conversation: %v", err)
	}
	must(db.AddNote(ctx, who, "sms-1", words, "<b>Ring the bus company</b>"))
	must(db.AddNote(ctx, who, "sms-1", 0, "Whole conversation"))
	if err := db.AddNote(ctx, who, "nope", 0, "x"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a note on nothing: %v", err)
	}
	flag, err := db.RaiseFlag(ctx, who, "sms-1", words, store.FlagMatters, "")
	must(err)
	must(db.ClearFlag(ctx, who, "sms-1", flag))
	if err := db.ClearFlag(ctx, who, "sms-1", flag); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("clearing twice: %v", err)
	}
	if _, err := db.RaiseFlag(ctx, who, "sms-1", 0, "bad", ""); err == nil {
		t.Fatal("an unknown kind of flag was kept")
	}
	must(db.Audit(ctx, who, store.AuditViewConversation, store.ConversationSubject("sms-1"), nil))

	c, _ = db.GetConversation(ctx, "sms-1")
	if !slices.Equal(c.Answers[1].Themes, []string{"transport"}) {
		t.Fatalf("themes: %v", c.Answers[1].Themes)
	}
	if len(c.Notes) != 2 || c.Notes[0].Body != "<b>Ring the bus company</b>" || *c.Notes[0].AnswerID != words || c.Notes[1].AnswerID != nil {
		t.Fatalf("notes: %+v", c.Notes)
	}
	if len(c.Flags) != 1 || c.Flags[0].Open() || c.Flags[0].ClearedBy != who {
		t.Fatalf("flags: %+v", c.Flags)
	}
	rows, err := storetest.SQL(t, db).Query(ctx, `SELECT action, subject, detail::text FROM audit_log WHERE actor = $1 ORDER BY id`, who)
	must(err)
	var got []string
	for rows.Next() {
		var a, s, d string
		must(rows.Scan(&a, &s, &d))
		if strings.Contains(d, "bus") {
			t.Errorf("the audit log holds what was written: %s", d)
		}
		got = append(got, a+" "+s)
	}
	want := []string{"add-theme conversation:sms-1", "remove-theme conversation:sms-1", "add-note conversation:sms-1", "add-note conversation:sms-1", "raise-flag conversation:sms-1", "clear-flag conversation:sms-1", "view-conversation conversation:sms-1"}
	if !slices.Equal(got, want) {
		t.Fatalf("audit:\n got %v\nwant %v", got, want)
	}
}

func TestCallbacksOldestFirstAndDoneOnce(t *testing.T) {
	db, ctx := reviewFixture(t)
	waiting, err := db.WaitingCallbacks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(waiting) != 2 || waiting[0].ConversationID != "call-1" || waiting[1].ConversationID != "sms-2" || waiting[0].SurveyID != "day-service" {
		t.Fatalf("waiting: %+v", waiting)
	}
	if err := db.CompleteCallback(ctx, "lead@example.org", waiting[0].ID, "reached", "All fine"); err != nil {
		t.Fatal(err)
	}
	if err := db.CompleteCallback(ctx, "other@example.org", waiting[0].ID, "reached", ""); !errors.Is(err, store.ErrAlreadyDone) {
		t.Fatalf("done twice: %v", err)
	}
	if err := db.CompleteCallback(ctx, "x", 999, "", ""); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown: %v", err)
	}
	waiting, _ = db.WaitingCallbacks(ctx)
	done, _ := db.RecentCallbacks(ctx, 10)
	if len(waiting) != 1 || len(done) != 1 || done[0].Outcome != "reached" || done[0].Note != "All fine" || done[0].DoneBy != "lead@example.org" {
		t.Fatalf("waiting %+v done %+v", waiting, done)
	}
}

func TestClaimCallbacksToTextBatches(t *testing.T) {
	db, ctx := reviewFixture(t)
	now := time.Date(2026, 3, 2, 11, 0, 0, 0, time.UTC)
	claimed, waiting, err := db.ClaimCallbacksToText(ctx, now, time.Hour)
	if err != nil || len(claimed) != 2 || waiting != 2 {
		t.Fatalf("first claim: %v %d %v", claimed, waiting, err)
	}
	if again, _, _ := db.ClaimCallbacksToText(ctx, now.Add(time.Minute), time.Hour); len(again) != 0 {
		t.Fatalf("claimed twice: %v", again)
	}
	p := phones(t)
	j := store.NewJournal(db, storetest.Redis(t), nil)
	for i := range 3 {
		if err := j.Record(ctx, store.Event{Callback: &store.CallbackBooked{DedupeKey: fmt.Sprint("x", i), Person: person(p, "+447700900333"), Channel: "sms"}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if soon, _, _ := db.ClaimCallbacksToText(ctx, now.Add(10*time.Minute), time.Hour); len(soon) != 0 {
		t.Fatalf("texted again within the hour: %v", soon)
	}
	later, waiting, err := db.ClaimCallbacksToText(ctx, now.Add(61*time.Minute), time.Hour)
	if err != nil || len(later) != 3 || waiting != 5 {
		t.Fatalf("after an hour: %v %d %v", later, waiting, err)
	}
	if err := db.UnclaimCallbacks(ctx, later); err != nil {
		t.Fatal(err)
	}
	if again, _, _ := db.ClaimCallbacksToText(ctx, now.Add(62*time.Minute), time.Hour); len(again) != 3 {
		t.Fatalf("unclaimed call-backs are not claimed again: %v", again)
	}
}
