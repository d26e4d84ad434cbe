package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/haveyoursay/haveyoursay/store/storetest"
)

func TestCallConversation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := storetest.Redis(t)
	if conv, found, err := r.CallConversation(ctx, "CA1"); err != nil || found || conv != "" {
		t.Fatalf("a call never noted = %q, %v, %v", conv, found, err)
	}
	if err := r.RememberCall(ctx, "CA1", "CA0-2", time.Hour); err != nil {
		t.Fatal(err)
	}
	if conv, found, err := r.CallConversation(ctx, "CA1"); err != nil || !found || conv != "CA0-2" {
		t.Fatalf("noted call = %q, %v, %v", conv, found, err)
	}
	if _, found, _ := r.CallConversation(ctx, "CA2"); found {
		t.Error("another call's conversation was found")
	}
	if ttl := r.Client.TTL(ctx, r.Key("voice", "call", "CA1")).Val(); ttl <= 0 || ttl > time.Hour {
		t.Errorf("the note does not expire within the hour: %v", ttl)
	}
}

func TestClaimCallStep(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := storetest.Redis(t)
	for i, want := range []bool{true, false, false} {
		if first, err := r.ClaimCallStep(ctx, "CA1:3", time.Hour); err != nil || first != want {
			t.Fatalf("claim %d = %v, %v; want %v", i+1, first, err, want)
		}
	}
	if first, _ := r.ClaimCallStep(ctx, "CA1:4", time.Hour); !first {
		t.Error("the next step was claimed already")
	}
}

func TestCountCallRestart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := storetest.Redis(t)
	for want := 1; want <= 3; want++ {
		if n, err := r.CountCallRestart(ctx, "CA1", time.Hour); err != nil || n != want {
			t.Fatalf("restart = %d, %v; want %d", n, err, want)
		}
	}
	if n, _ := r.CountCallRestart(ctx, "CA2", time.Hour); n != 1 {
		t.Errorf("another call's first restart = %d", n)
	}
	if ttl := r.Client.TTL(ctx, r.Key("ivr", "restarts", "CA1")).Val(); ttl <= 0 || ttl > time.Hour {
		t.Errorf("the count does not expire within the hour: %v", ttl)
	}
}

func TestCallResume(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := storetest.Redis(t)
	type where struct{ Conv, Question string }
	var got where
	if found, err := r.CallResume(ctx, "hash1", &got); err != nil || found {
		t.Fatalf("nothing kept = %v, %v", found, err)
	}
	if err := r.SaveCallResume(ctx, "hash1", where{"CA1", "staff"}, 30*time.Minute); err != nil {
		t.Fatal(err)
	}
	if found, err := r.CallResume(ctx, "hash1", &got); err != nil || !found || got != (where{"CA1", "staff"}) {
		t.Fatalf("kept = %+v, %v, %v", got, found, err)
	}
	if ttl := r.Client.TTL(ctx, r.Key("voice", "resume", "hash1")).Val(); ttl <= 0 || ttl > 30*time.Minute {
		t.Errorf("the place does not expire within 30 minutes: %v", ttl)
	}
	if found, _ := r.CallResume(ctx, "hash2", &got); found {
		t.Error("another caller's place was found")
	}
	if err := r.ForgetCallResume(ctx, "hash1"); err != nil {
		t.Fatal(err)
	}
	if found, err := r.CallResume(ctx, "hash1", &got); err != nil || found {
		t.Fatalf("forgotten place = %v, %v", found, err)
	}
}
