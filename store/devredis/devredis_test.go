package devredis_test

import (
	"context"
	"os/exec"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/haveyoursay/haveyoursay/store/devredis"
)

// Keys of every kind dev uses, with their expiry, are there again after a
// stop and a start, for both kinds of private Redis.
func TestDataSurvivesARestart(t *testing.T) {
	kinds := map[string]string{"in-process Redis": ""}
	if p, err := exec.LookPath("redis-server"); err == nil {
		kinds["redis-server"] = p
	} else {
		t.Error("redis-server is not installed: `make test` installs it; this test needs it to check dev's redis-server")
	}
	for kind, program := range kinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			dir := t.TempDir()
			s, err := devredis.Start(ctx, dir, program)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { s.Stop() })
			if s.Kind != kind {
				t.Errorf("Kind = %q, want %q", s.Kind, kind)
			}
			c := client(t, s)
			must(t, c.Set(ctx, "session", "question 2", time.Hour).Err())
			must(t, c.RPush(ctx, "list", "a", "b", "c").Err())
			must(t, c.SAdd(ctx, "set", "x", "y").Err())
			must(t, c.HSet(ctx, "hash", "f", "v").Err())
			must(t, c.ZAdd(ctx, "zset", redis.Z{Score: 2.5, Member: "m"}).Err())
			c.Close()
			if err := s.Stop(); err != nil {
				t.Fatalf("stop: %v", err)
			}

			s, err = devredis.Start(ctx, dir, program)
			if err != nil {
				t.Fatalf("start again: %v", err)
			}
			t.Cleanup(func() { s.Stop() })
			c = client(t, s)
			if v, err := c.Get(ctx, "session").Result(); err != nil || v != "question 2" {
				t.Errorf("string: %q %v", v, err)
			}
			if ttl := c.TTL(ctx, "session").Val(); ttl <= 0 || ttl > time.Hour {
				t.Errorf("the expiry was lost: TTL %v", ttl)
			}
			if v := c.LRange(ctx, "list", 0, -1).Val(); len(v) != 3 || v[0] != "a" || v[2] != "c" {
				t.Errorf("list: %q", v)
			}
			if n := c.SCard(ctx, "set").Val(); n != 2 {
				t.Errorf("set has %d members, want 2", n)
			}
			if v := c.HGet(ctx, "hash", "f").Val(); v != "v" {
				t.Errorf("hash: %q", v)
			}
			if v := c.ZScore(ctx, "zset", "m").Val(); v != 2.5 {
				t.Errorf("zset: %v", v)
			}
		})
	}
}

func client(t *testing.T, s *devredis.Server) *redis.Client {
	t.Helper()
	opt, err := redis.ParseURL(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opt)
	t.Cleanup(func() { c.Close() })
	return c
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
