package main

import (
	"context"
	"strings"
	"testing"

	"github.com/haveyoursay/haveyoursay/store"
	"github.com/haveyoursay/haveyoursay/store/storetest"
)

// TestKeysRotate: numbers stored (and spooled) under the old key are
// moved to the new one in batches, with the live state Redis keeps under
// their hash; a second run finds nothing left to move; the audit log says
// it happened.
func TestKeysRotate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	url := storetest.DatabaseURL(t)
	rdb := storetest.Redis(t)
	db := storetest.Open(t, url)
	const oldKey, newKey = "the-old-secret-key-of-at-least-32-chars", "the-new-secret-key-of-at-least-32-chars"
	old, _ := store.NewPhones(oldKey)
	next, _ := store.NewPhones(newKey)
	numbers := []string{"+447700900001", "+447700900002", "+447700900003"}
	j := store.NewJournal(db, rdb, nil)
	for i, n := range numbers {
		p := store.Person{Hash: old.Hash(n), Enc: old.Encrypt(n), Masked: store.Mask(n)}
		if err := j.Record(ctx, store.Event{OptOut: &store.OptOut{Person: p, Out: i == 0}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Flush(ctx); err != nil { // from the spool to Postgres
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	// The first number texted STOP: its fast opt-out mark lives under its hash.
	rc := storetest.RedisClient(t, rdb)
	if err := rc.Set(ctx, rdb.Key("optout", old.HashString(numbers[0])), 1, 0).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := db.RequestForget(ctx, store.Person{Hash: old.Hash(numbers[2]), Enc: old.Encrypt(numbers[2])}, "sms", "", false); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"DATABASE_URL": url, "REDIS_URL": storetest.RedisURL(), "REDIS_PREFIX": rdb.Prefix,
		"HYS_OLD_SECRET_KEY": oldKey, "HYS_SECRET_KEY": newKey}

	out, _, err := runOnce(t, []string{"keys", "rotate", "--batch", "1"}, env)
	if err != nil || !strings.Contains(out, "4 numbers moved to the new key, 0 were already moved, 1 live Redis keys renamed") {
		t.Fatalf("keys rotate: %v\n%s", err, out)
	}
	sql := storetest.SQL(t, db)
	for _, n := range numbers {
		var enc []byte
		if err := sql.QueryRow(ctx, `SELECT phone_enc FROM participants WHERE phone_hash = $1`, next.Hash(n)).Scan(&enc); err != nil {
			t.Fatalf("%s is not found by its new hash: %v", n, err)
		}
		if got, err := next.Decrypt(enc); err != nil || got != n {
			t.Errorf("%s opens with the new key as %q, %v", n, got, err)
		}
		if _, err := old.Decrypt(enc); err == nil {
			t.Errorf("%s still opens with the old key", n)
		}
	}
	if rc.Exists(ctx, rdb.Key("optout", next.HashString(numbers[0]))).Val() != 1 || rc.Exists(ctx, rdb.Key("optout", old.HashString(numbers[0]))).Val() != 0 {
		t.Error("the opt-out mark was not moved to the new hash")
	}
	var reqs int
	sql.QueryRow(ctx, `SELECT count(*) FROM forget_requests WHERE phone_hash = $1`, next.Hash(numbers[2])).Scan(&reqs)
	if reqs != 1 {
		t.Error("the erasure request was not moved to the new key")
	}

	out, _, err = runOnce(t, []string{"keys", "rotate"}, env)
	if err != nil || !strings.Contains(out, "0 numbers moved to the new key, 4 were already moved") {
		t.Fatalf("keys rotate again: %v\n%s", err, out)
	}
	if e, _ := db.AuditLog(ctx, "", 5); len(e) != 2 || e[0].Action != "keys-rotated" || e[0].Actor != "cli" {
		t.Errorf("audit log: %+v", e)
	}
}

// TestKeysAndForgetExplainThemselves: --help, and plain sentences for
// wrong use (exit 2).
func TestKeysAndForgetExplainThemselves(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"keys", "--help"}, {"keys", "help"}, {"keys", "rotate", "-h"}, {"forget", "--help"}, {"forget", "help"}} {
		out, _, err := runOnce(t, args, map[string]string{})
		if err != nil || !strings.Contains(out, "Usage:") {
			t.Errorf("%v: %v %q", args, err, out)
		}
	}
	for _, c := range []struct {
		args []string
		env  map[string]string
		says string
	}{
		{[]string{"keys", "spin"}, nil, `no command "spin"`},
		{[]string{"keys", "rotate", "--frobnicate"}, nil, ""},
		{[]string{"keys", "rotate"}, map[string]string{"HYS_SECRET_KEY": "x"}, "give the old key"},
		{[]string{"keys", "rotate"}, map[string]string{"HYS_SECRET_KEY": "same-key-same-key-same-key-same-key", "HYS_OLD_SECRET_KEY": "same-key-same-key-same-key-same-key"}, "are the same"},
		{[]string{"forget"}, nil, "say whose data to erase with --number"},
		{[]string{"forget", "--nmber", "1"}, nil, ""},
	} {
		_, _, err := runOnce(t, c.args, c.env)
		if exitCode(err) != 2 || (c.says != "" && !strings.Contains(err.Error(), c.says)) {
			t.Errorf("%v: exit %d, %v", c.args, exitCode(err), err)
		}
	}
}
