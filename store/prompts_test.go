package store_test

import (
	"context"
	"errors"
	"regexp"
	"testing"
	"time"

	"github.com/haveyoursay/haveyoursay/store"
	"github.com/haveyoursay/haveyoursay/store/storetest"
)

func TestPromptVersions(t *testing.T) {
	t.Parallel()
	db := storetest.DB(t)
	ctx := context.Background()
	save := func(name, status string) store.AudioPrompt {
		t.Helper()
		p := store.AudioPrompt{Name: name, SurveyID: "s", Language: "en", Key: "intro", ContentType: "audio/wav", DurationMS: 1000,
			Status: status, Words: "Hello.", RecordedBy: "Sam", PeakDB: -3, RMSDB: -20}
		if err := db.SaveAudioPrompt(ctx, &p, []byte("RIFF")); err != nil {
			t.Fatal(err)
		}
		return p
	}
	first := save("a.wav", store.PromptActive)
	draft := save("b.wav", store.PromptDraft)
	if first.Version != 1 || draft.Version != 2 {
		t.Fatalf("versions %d, %d", first.Version, draft.Version)
	}
	if _, err := db.ActivateAudioPrompt(ctx, "b.wav", "staff@example.org"); !errors.Is(err, store.ErrNotApprovable) {
		t.Fatalf("a draft was used: %v", err)
	}
	if err := db.KeepAudioDraft(ctx, "b.wav"); err != nil {
		t.Fatal(err)
	}
	active, _ := db.AudioPrompts(ctx)
	if len(active) != 1 || active[0].Name != "a.wav" {
		t.Fatalf("a kept recording was played before staff used it: %+v", active)
	}
	p, err := db.ActivateAudioPrompt(ctx, "b.wav", "staff@example.org")
	if err != nil || p.Status != store.PromptActive || p.ApprovedBy != "staff@example.org" || p.ApprovedAt == nil {
		t.Fatalf("use this: %+v %v", p, err)
	}
	versions, err := db.PromptVersions(ctx, "s", "en")
	if err != nil || len(versions) != 2 || versions[0].Name != "b.wav" || versions[1].Status != store.PromptRetired || versions[0].PeakDB != -3 {
		t.Fatalf("versions = %+v %v", versions, err)
	}
	if err := db.RemoveAudioPrompt(ctx, "s", "en", "intro"); err != nil {
		t.Fatal(err)
	}
	if active, _ := db.AudioPrompts(ctx); len(active) != 0 {
		t.Fatalf("removed but still active: %+v", active)
	}
	if _, data, err := db.AudioFile(ctx, "a.wav"); err != nil || string(data) != "RIFF" {
		t.Fatalf("a retired file is no longer served: %v", err)
	}
}

func TestRecordingSessions(t *testing.T) {
	t.Parallel()
	db := storetest.DB(t)
	ctx := context.Background()
	s, pin, err := db.CreateRecordingSession(ctx, store.RecordingSession{SurveyID: "s", Language: "en", Voice: "Sam", CreatedBy: "cli"}, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^[0-9]{6}$`).MatchString(pin) || s.ExpiresAt.Sub(s.CreatedAt) != 24*time.Hour {
		t.Fatalf("pin %q, session %+v", pin, s)
	}
	var stored int
	storetest.SQL(t, db).QueryRow(ctx, `SELECT count(*) FROM recording_sessions WHERE position($1::bytea in pin_hash) > 0 OR position($1::bytea in pin_salt) > 0`, []byte(pin)).Scan(&stored)
	if stored != 0 {
		t.Fatal("the PIN is stored as it is")
	}
	got, err := db.RecordingSessionByPIN(ctx, pin)
	if err != nil || got.ID != s.ID || got.Voice != "Sam" {
		t.Fatalf("by PIN: %+v %v", got, err)
	}
	wrong := "000000"
	if pin == wrong {
		wrong = "111111"
	}
	if _, err := db.RecordingSessionByPIN(ctx, wrong); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a wrong PIN: %v", err)
	}
	for _, k := range []string{"intro", "consent", "intro"} {
		if err := db.MarkRecordingDone(ctx, s.ID, k); err != nil {
			t.Fatal(err)
		}
	}
	if got, _ := db.RecordingSession(ctx, s.ID); len(got.Done) != 2 {
		t.Fatalf("done = %v", got.Done)
	}
	storetest.SQL(t, db).Exec(ctx, `UPDATE recording_sessions SET expires_at = now() - interval '1 second'`)
	if _, err := db.RecordingSessionByPIN(ctx, pin); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("an expired PIN still works: %v", err)
	}
}

// A migration merged after a newer one was applied still counts as to do
// (branches are merged in any order).
func TestSchemaWithAMissingMigration(t *testing.T) {
	t.Parallel()
	db := storetest.DB(t)
	ctx := context.Background()
	if err := db.CheckSchema(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := storetest.SQL(t, db).Exec(ctx, `DELETE FROM goose_db_version WHERE version_id = 4`); err != nil {
		t.Fatal(err)
	}
	if err := db.CheckSchema(ctx); !errors.Is(err, store.ErrSchemaOutOfDate) {
		t.Fatalf("a missing migration below the newest: %v", err)
	}
}
