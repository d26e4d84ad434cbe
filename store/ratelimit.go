package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/go-redis/redis_rate/v10"
)

// RateLimit is at most Count events in Period from one source (a steady
// rate with a burst of Count), counted in Redis across every server.
type RateLimit struct {
	Count  int
	Period time.Duration
}

func (l RateLimit) limit() redis_rate.Limit {
	return redis_rate.Limit{Rate: l.Count, Burst: l.Count, Period: l.Period}
}

// rateKey names a source's count without its address in clear.
func (r *Redis) rateKey(name, source string) string {
	sum := sha256.Sum256([]byte(source))
	return r.Key("limit", name, hex.EncodeToString(sum[:12]))
}

// RateOver reports whether source has used up limit for name (e.g.
// "webhook", "sign-in"), without counting anything, and how long until it
// may try again.
func (r *Redis) RateOver(ctx context.Context, name, source string, l RateLimit) (bool, time.Duration, error) {
	res, err := redis_rate.NewLimiter(r.client).AllowN(ctx, r.rateKey(name, source), l.limit(), 0)
	if err != nil {
		return false, 0, err
	}
	if res.Remaining >= 1 {
		return false, 0, nil
	}
	wait := res.RetryAfter
	if wait <= 0 {
		wait = l.Period / time.Duration(max(1, l.Count))
	}
	return true, wait, nil
}

// RateCount counts one event from source against limit for name.
func (r *Redis) RateCount(ctx context.Context, name, source string, l RateLimit) error {
	_, err := redis_rate.NewLimiter(r.client).AllowAtMost(ctx, r.rateKey(name, source), l.limit(), 1)
	return err
}
