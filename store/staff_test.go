package store_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/haveyoursay/haveyoursay/store"
	"github.com/haveyoursay/haveyoursay/store/storetest"
	"github.com/haveyoursay/haveyoursay/survey"
)

func TestStaffUsers(t *testing.T) {
	ctx := context.Background()
	db := storetest.DB(t)
	u, err := db.AddStaffUser(ctx, " Ann@Example.org ", " Ann ", "viewer", "hash")
	if err != nil || u.Email != "Ann@Example.org" || u.Name != "Ann" || u.Role != "viewer" || u.Disabled() {
		t.Fatalf("added %+v %v", u, err)
	}
	if _, err := db.AddStaffUser(ctx, "ann@example.ORG", "", "staff", "hash"); err != store.ErrDuplicateEmail {
		t.Errorf("the same address in another case: %v", err)
	}
	if _, err := db.AddStaffUser(ctx, "bo@example.org", "", "boss", "hash"); err == nil {
		t.Error("the database took an unknown role")
	}
	if got, err := db.StaffUserByEmail(ctx, "ANN@example.org"); err != nil || got.ID != u.ID {
		t.Errorf("by e-mail: %+v %v", got, err)
	}
	if _, err := db.StaffUserByID(ctx, u.ID+100); err != store.ErrNotFound {
		t.Errorf("an unknown id: %v", err)
	}
	for _, err := range []error{db.SetStaffRole(ctx, u.ID+100, "staff"), db.DisableStaffUser(ctx, u.ID+100), db.SetStaffPassword(ctx, u.ID+100, "h")} {
		if err != store.ErrNotFound {
			t.Errorf("changing an unknown account: %v", err)
		}
	}

	// "My last visit" is what I last saw before this sign-in.
	t0 := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	for _, err := range []error{
		db.StartStaffVisit(ctx, u.ID, t0),
		db.SeeStaff(ctx, u.ID, t0.Add(30*time.Second)), // within the minute: not written
		db.SeeStaff(ctx, u.ID, t0.Add(2*time.Hour)),
		db.StartStaffVisit(ctx, u.ID, t0.Add(24*time.Hour)),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	got, _ := db.StaffUserByID(ctx, u.ID)
	if got.PreviousSeen == nil || !got.PreviousSeen.Equal(t0.Add(2*time.Hour)) || !got.LastSeenAt.Equal(t0.Add(24*time.Hour)) {
		t.Errorf("visits: previous %v last %v", got.PreviousSeen, got.LastSeenAt)
	}

	db.DisableStaffUser(ctx, u.ID)
	db.AddStaffUser(ctx, "zed@example.org", "", "admin", "hash")
	list, err := db.StaffUsers(ctx)
	if err != nil || len(list) != 2 || list[0].Email != "zed@example.org" || !list[1].Disabled() {
		t.Errorf("list (enabled first): %+v %v", list, err)
	}
}

func TestStaffSessionsAndFailedSignIns(t *testing.T) {
	ctx := context.Background()
	r := storetest.Redis(t)
	a, err := r.NewStaffSession(ctx, store.StaffSession{UserID: 7}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := r.NewStaffSession(ctx, store.StaffSession{UserID: 7}, time.Minute)
	other, _ := r.NewStaffSession(ctx, store.StaffSession{UserID: 8}, time.Minute)
	if a == b || len(a) < 20 {
		t.Fatalf("tokens %q %q", a, b)
	}
	if s, found, err := r.StaffSessionFor(ctx, a, time.Hour); !found || err != nil || s.UserID != 7 {
		t.Errorf("session a: %+v %v %v", s, found, err)
	}
	if _, found, _ := r.StaffSessionFor(ctx, "made-up", time.Hour); found {
		t.Error("a made-up token is a session")
	}
	if err := r.EndStaffSessions(ctx, 7); err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{a, b} {
		if _, found, _ := r.StaffSessionFor(ctx, tok, time.Hour); found {
			t.Error("a session outlived EndStaffSessions")
		}
	}
	if _, found, _ := r.StaffSessionFor(ctx, other, time.Hour); !found {
		t.Error("another user's session ended")
	}

	for i := 1; i <= 3; i++ {
		if n, err := r.FailSignIn(ctx, "Sam@example.org ", time.Minute); n != i || err != nil {
			t.Fatalf("failure %d counted as %d %v", i, n, err)
		}
	}
	n, wait, err := r.FailedSignIns(ctx, "sam@EXAMPLE.org")
	if n != 3 || wait <= 0 || wait > time.Minute || err != nil {
		t.Errorf("failed sign-ins: %d for %v (%v)", n, wait, err)
	}
	r.ClearFailedSignIns(ctx, "sam@example.org")
	if n, wait, _ := r.FailedSignIns(ctx, "sam@example.org"); n != 0 || wait != 0 {
		t.Errorf("after clearing: %d %v", n, wait)
	}
}

func TestMembersAndAttention(t *testing.T) {
	ctx := context.Background()
	db := storetest.DB(t)
	rdb := storetest.Redis(t)
	p := phones(t)
	s := survey.Demo()
	if _, _, err := db.SaveSurvey(ctx, s.ID, s.Title, string(survey.DemoYAML), "day-service.yaml"); err != nil {
		t.Fatal(err)
	}
	who := person(p, "+447700900321")
	j := store.NewJournal(db, rdb, slog.New(slog.DiscardHandler))
	now := time.Now()
	if err := j.Record(ctx,
		store.Event{At: now, Conversation: &store.ConversationStarted{ID: "c1", Person: who, SurveyID: s.ID, Version: 1, Channel: "voice"}},
		store.Event{At: now, Answer: &store.AnswerGiven{ConversationID: "c1", QuestionID: "q", Value: "yes", DedupeKey: "c1-1"}},
		store.Event{At: now, Answer: &store.AnswerGiven{ConversationID: "c1", QuestionID: "r", Value: "no", DedupeKey: "c1-2"}},
		store.Event{At: now, Callback: &store.CallbackBooked{DedupeKey: "cb1", Person: who, ConversationID: "c1", Channel: "voice"}},
		store.Event{At: now, Input: &store.CallInput{DedupeKey: "in1", ConversationID: "c1", CallSid: "CA1", Stage: "question", Speech: "the bus is late", Understood: false}},
		store.Event{At: now, Input: &store.CallInput{DedupeKey: "in2", ConversationID: "c1", CallSid: "CA1", Stage: "question", Digits: "1", Understood: true}},
	); err != nil {
		t.Fatal(err)
	}
	if err := j.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	id, err := db.MemberIDByHash(ctx, who.Hash)
	if err != nil {
		t.Fatal(err)
	}
	m, err := db.Member(ctx, id)
	if err != nil || m.Masked != who.Masked || m.Needs != (survey.Needs{}) || m.OptedOutAt != nil {
		t.Errorf("member %+v %v", m, err)
	}
	if err := db.SetMemberNeeds(ctx, id, survey.Needs{VoiceOnly: true, SlowSpeech: true}); err != nil {
		t.Fatal(err)
	}
	if n, _ := db.ParticipantNeeds(ctx, who.Hash); !n.VoiceOnly || !n.SlowSpeech || n.EasyRead {
		t.Errorf("the channels read needs %+v", n)
	}
	enc, _ := db.MemberNumber(ctx, id)
	if n, err := p.Decrypt(enc); n != "+447700900321" || err != nil {
		t.Errorf("number %q %v", n, err)
	}
	convs, err := db.MemberConversations(ctx, id, 10)
	if err != nil || len(convs) != 1 || convs[0].Answers != 2 || convs[0].SurveyTitle != s.Title || convs[0].Channel != "voice" {
		t.Errorf("conversations %+v %v", convs, err)
	}
	for _, err := range []error{db.SetMemberNeeds(ctx, id+100, survey.Needs{})} {
		if err != store.ErrNotFound {
			t.Errorf("an unknown member: %v", err)
		}
	}
	if _, err := db.Member(ctx, id+100); err != store.ErrNotFound {
		t.Errorf("an unknown member: %v", err)
	}

	at, err := db.Attention(ctx, now.Add(-time.Hour))
	if err != nil || at.NewAnswers != 2 || at.CallbacksWaiting != 1 || at.OldestCallback == nil || at.NotUnderstood != 1 || at.Flagged != 0 ||
		len(at.Surveys) != 1 || at.Surveys[0].Conversations != 1 || at.Surveys[0].Active != 1 || at.Surveys[0].NewAnswers != 2 {
		t.Errorf("attention %+v %v", at, err)
	}
	if at, _ := db.Attention(ctx, time.Now().Add(time.Hour)); at.NewAnswers != 0 || at.NotUnderstood != 0 || at.CallbacksWaiting != 1 {
		t.Errorf("nothing is new after now, but call-backs still wait: %+v", at)
	}

	if err := db.Audit(ctx, "ann@example.org", "view-person", "person:1", map[string]any{"n": 1}); err != nil {
		t.Fatal(err)
	}
	log, err := db.AuditLog(ctx, "person:1", 5)
	if err != nil || len(log) != 1 || log[0].Actor != "ann@example.org" || log[0].Detail["n"] != float64(1) {
		t.Errorf("audit %+v %v", log, err)
	}
}
