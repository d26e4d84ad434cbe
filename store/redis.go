package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"
)

// Redis is the live side of the store: conversation sessions, dedupe keys
// and rate limits. Every key starts with Prefix, so several installations
// (or tests) can share one Redis.
type Redis struct {
	client redis.UniversalClient
	Prefix string
}

// OpenRedis connects to Redis and checks that it answers.
func OpenRedis(ctx context.Context, url, prefix string) (*Redis, error) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("reading REDIS_URL: %w", err)
	}
	c := redis.NewClient(opts)
	if err := c.Ping(ctx).Err(); err != nil {
		c.Close()
		return nil, fmt.Errorf("could not reach Redis at %s: %w", opts.Addr, err)
	}
	return &Redis{client: c, Prefix: prefix}, nil
}

// CheckRedisURL reports whether url is a Redis address this store can
// connect with; config turns the error into a sentence for people.
func CheckRedisURL(url string) error {
	_, err := redis.ParseURL(url)
	return err
}

// Key builds a key in this installation's key space.
func (r *Redis) Key(parts ...string) string {
	return r.Prefix + "hys:" + strings.Join(parts, ":")
}

// Ping checks that Redis answers.
func (r *Redis) Ping(ctx context.Context) error { return r.client.Ping(ctx).Err() }

// Close closes the connections.
func (r *Redis) Close() error { return r.client.Close() }

// Persistent reports whether Redis keeps its data across a restart
// (append-only file or snapshots). ok is false when Redis will not say
// (CONFIG is often switched off by managed services).
func (r *Redis) Persistent(ctx context.Context) (persistent, ok bool) {
	aof, err := r.client.ConfigGet(ctx, "appendonly").Result()
	if err != nil {
		return false, false
	}
	save, err := r.client.ConfigGet(ctx, "save").Result()
	if err != nil {
		return false, false
	}
	return aof["appendonly"] == "yes" || strings.TrimSpace(save["save"]) != "", true
}
