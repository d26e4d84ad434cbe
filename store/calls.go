package store

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"
)

// The live state of phone calls, kept in Redis for the voice webhooks. A
// call carries on without any of it (its state travels sealed in the URLs
// Twilio calls back), so every method here is a help, never a need: the
// caller bounds each with a short deadline.

func (r *Redis) callKey(callSid string) string         { return r.Key("voice", "call", callSid) }
func (r *Redis) callStepKey(stepKey string) string     { return r.Key("voice", "step", stepKey) }
func (r *Redis) callRestartsKey(callSid string) string { return r.Key("ivr", "restarts", callSid) }
func (r *Redis) callResumeKey(phoneHash string) string { return r.Key("voice", "resume", phoneHash) }

// RememberCall notes which conversation a call belongs to (an earlier
// call's, when it carries that one on), for the call's status callback.
func (r *Redis) RememberCall(ctx context.Context, callSid, conv string, ttl time.Duration) error {
	return r.Client.Set(ctx, r.callKey(callSid), conv, ttl).Err()
}

// CallConversation returns the conversation RememberCall noted for a call;
// found is false when none was noted (or it has expired).
func (r *Redis) CallConversation(ctx context.Context, callSid string) (conv string, found bool, err error) {
	conv, err = r.Client.Get(ctx, r.callKey(callSid)).Result()
	if errors.Is(err, redis.Nil) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return conv, conv != "", nil
}

// ClaimCallStep reports whether this is the first time a step of a call
// (stepKey: CallSid and step number) is handled within ttl: Twilio may
// send the same webhook twice.
func (r *Redis) ClaimCallStep(ctx context.Context, stepKey string, ttl time.Duration) (bool, error) {
	return r.First(ctx, r.callStepKey(stepKey), ttl)
}

// CountCallRestart counts the times a call has started afresh (1 the
// first time), so that each fresh start gets its own step numbers.
func (r *Redis) CountCallRestart(ctx context.Context, callSid string, ttl time.Duration) (int, error) {
	key := r.callRestartsKey(callSid)
	var incr *redis.IntCmd
	_, err := r.Client.TxPipelined(ctx, func(p redis.Pipeliner) error {
		incr = p.Incr(ctx, key)
		p.Expire(ctx, key, ttl)
		return nil
	})
	if err != nil {
		return 0, err
	}
	return int(incr.Val()), nil
}

// SaveCallResume keeps where a caller (by the hash of their number) is in
// a survey, so a call back within ttl can carry on.
func (r *Redis) SaveCallResume(ctx context.Context, phoneHash string, v any, ttl time.Duration) error {
	return r.PutJSON(ctx, r.callResumeKey(phoneHash), v, ttl)
}

// CallResume reads what SaveCallResume kept into v; found is false when
// nothing is kept (or it has expired).
func (r *Redis) CallResume(ctx context.Context, phoneHash string, v any) (found bool, err error) {
	return r.GetJSON(ctx, r.callResumeKey(phoneHash), v)
}

// ForgetCallResume forgets where a caller was: their survey is finished.
func (r *Redis) ForgetCallResume(ctx context.Context, phoneHash string) error {
	return r.Forget(ctx, r.callResumeKey(phoneHash))
}
