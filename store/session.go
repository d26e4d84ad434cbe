package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrBusy means another request holds the lock for too long.
var ErrBusy = errors.New("another request for the same person is still being answered")

// GetJSON reads a JSON value; found is false when the key does not exist
// (or has expired).
func (r *Redis) GetJSON(ctx context.Context, key string, v any) (found bool, err error) {
	b, err := r.client.Get(ctx, key).Bytes()
	if errors.Is(err, redis.Nil) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, err
	}
	return true, nil
}

// PutJSON writes a JSON value that expires after ttl.
func (r *Redis) PutJSON(ctx context.Context, key string, v any, ttl time.Duration) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return r.client.Set(ctx, key, b, ttl).Err()
}

// First reports whether this is the first time key has been claimed within
// ttl. It makes a webhook Twilio delivers twice (even at the same moment on
// two servers) be handled once.
func (r *Redis) First(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	return r.client.SetNX(ctx, key, 1, ttl).Result()
}

// Forget releases a key claimed with First, so a retry after a failure is
// handled again.
func (r *Redis) Forget(ctx context.Context, key string) error {
	return r.client.Del(ctx, key).Err()
}

const unlockSource = `if redis.call("get", KEYS[1]) == ARGV[1] then return redis.call("del", KEYS[1]) else return 0 end`

var unlockScript = redis.NewScript(unlockSource)

// Lock takes a short lock on key, waiting up to wait for it. Texts from one
// person are answered one at a time, so two quick replies cannot both
// answer the same question.
func (r *Redis) Lock(ctx context.Context, key string, hold, wait time.Duration) (unlock func(), err error) {
	b := make([]byte, 8)
	rand.Read(b)
	return r.lockWithToken(ctx, key, hex.EncodeToString(b), hold, wait)
}

func (r *Redis) lockWithToken(ctx context.Context, key, token string, hold, wait time.Duration) (unlock func(), err error) {
	deadline := time.Now().Add(wait)
	delay := 2 * time.Millisecond
	for {
		ok, err := r.client.SetNX(ctx, key, token, hold).Result()
		if err != nil {
			return nil, err
		}
		if ok {
			return func() {
				ctx, cancel := context.WithTimeout(context.Background(), time.Second)
				defer cancel()
				unlockScript.Run(ctx, r.client, []string{key}, token)
			}, nil
		}
		if time.Now().After(deadline) {
			return nil, ErrBusy
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(delay):
		}
		if delay < 50*time.Millisecond {
			delay *= 2
		}
	}
}
