package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/redis/go-redis/v9"
)

// TurnKeys names the Redis keys one webhook works with.
type TurnKeys struct {
	Dedupe string   // claimed once per delivery, so a repeat is spotted ("" for none)
	Lock   string   // held while the webhook runs: one webhook per member at a time
	Read   []string // values the webhook needs, e.g. the session and the opt-out flag
}

// Turn is one webhook's hold on a member's conversation: taking it and
// reading what it needs is one Redis round trip, and so is Commit.
type Turn struct {
	r     *Redis
	lock  string
	token string
	done  bool
	// Duplicate is true when Dedupe was already claimed: the webhook was
	// delivered before, and no lock is held.
	Duplicate bool
	// Values holds the Read keys' values in order (nil when absent).
	Values []*string
}

var beginTurnScript = redis.NewScript(`
if tonumber(ARGV[1]) > 0 then
  if not redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then return {0} end
end
if not redis.call('SET', KEYS[2], ARGV[2], 'NX', 'PX', ARGV[3]) then return {1} end
local out = {2}
for i = 3, #KEYS do
  local v = redis.call('GET', KEYS[i])
  if v then out[#out + 1] = v else out[#out + 1] = false end
end
return out`)

// BeginTurn claims the dedupe key, takes the lock (waiting up to wait when
// another webhook for the same member holds it) and reads the Read keys.
func (r *Redis) BeginTurn(ctx context.Context, k TurnKeys, dedupeTTL, hold, wait time.Duration) (*Turn, error) {
	b := make([]byte, 8)
	rand.Read(b)
	t := &Turn{r: r, lock: k.Lock, token: hex.EncodeToString(b)}
	dedupe := k.Dedupe
	ttl := dedupeTTL.Milliseconds()
	if dedupe == "" {
		dedupe, ttl = k.Lock, 0
	}
	keys := append([]string{dedupe, k.Lock}, k.Read...)
	res, err := beginTurnScript.Run(ctx, r.client, keys, ttl, t.token, hold.Milliseconds()).Slice()
	if err != nil {
		return nil, err
	}
	switch res[0].(int64) {
	case 0:
		t.Duplicate, t.done = true, true
		return t, nil
	case 1:
		// Another webhook for this member is running: wait for it.
		unlock, err := r.lockWithToken(ctx, k.Lock, t.token, hold, wait)
		if err != nil {
			if dedupe != k.Lock {
				r.Forget(context.WithoutCancel(ctx), dedupe)
			}
			return nil, err
		}
		_ = unlock
		if len(k.Read) > 0 {
			vals, err := r.client.MGet(ctx, k.Read...).Result()
			if err != nil {
				t.Release()
				return nil, err
			}
			res = append([]any{int64(2)}, vals...)
		}
	}
	t.Values = make([]*string, len(k.Read))
	for i := range k.Read {
		if i+1 < len(res) {
			if s, ok := res[i+1].(string); ok {
				t.Values[i] = &s
			}
		}
	}
	return t, nil
}

// Write is one key to set (with a TTL, 0 for none) or delete.
type Write struct {
	Key    string
	Value  any
	TTL    time.Duration
	Delete bool
}

// Commit records events durably (the journal's spool, or Postgres), then
// applies the writes and releases the lock in one atomic Redis script. An
// error from the journal means nothing kept the events: the lock is
// released and nothing changed. An error from Redis means the events are
// kept but the conversation did not move on.
func (t *Turn) Commit(ctx context.Context, j *Journal, events []Event, writes ...Write) error {
	if t.done {
		return nil
	}
	keys := make([]string, 0, len(writes)+1)
	args := make([]any, 0, 3*len(writes)+1)
	keys = append(keys, t.lock)
	args = append(args, t.token)
	for _, w := range writes {
		keys = append(keys, w.Key)
		if w.Delete {
			args = append(args, "d", "", 0)
		} else {
			args = append(args, "s", w.Value, w.TTL.Milliseconds())
		}
	}
	then := &Then{r: t.r, script: commitTurnScript, keys: keys, args: args}
	if err := j.recordThen(ctx, events, then); err != nil {
		t.Release()
		return &NotKeptError{Err: err}
	}
	if !then.ran {
		// The events went to Postgres directly: write to Redis here.
		then.err = commitTurnScript.Run(ctx, t.r.client, keys, args...).Err()
	}
	if then.err != nil {
		return then.err
	}
	t.done = true
	return nil
}

// Then is a Redis script to run once an append to the spool is on disk.
// The appends written together (a group commit) run theirs together in
// one Redis round trip: under load, many webhooks share one fsync and one
// round trip.
type Then struct {
	r      *Redis
	script *redis.Script
	keys   []string
	args   []any
	ran    bool  // run by the spool (false: the append failed first)
	err    error // what Redis answered
}

// runThens runs a group's scripts, pipelined: one round trip for each
// Redis client among them (in practice one).
func runThens(thens []*Then) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	byClient := map[*Redis][]*Then{}
	for _, t := range thens {
		byClient[t.r] = append(byClient[t.r], t)
	}
	for r, ts := range byClient {
		pipe := r.client.Pipeline()
		cmds := make([]*redis.Cmd, len(ts))
		for i, t := range ts {
			cmds[i] = t.script.EvalSha(ctx, pipe, t.keys, t.args...)
		}
		pipe.Exec(ctx) // each command's error is its own
		for i, t := range ts {
			err := cmds[i].Err()
			if err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
				// Redis has forgotten the script (restarted): send it.
				err = t.script.Run(ctx, r.client, t.keys, t.args...).Err()
			}
			t.ran, t.err = true, err
		}
	}
}

// commitTurnScript applies a turn's writes (KEYS 2…, with ARGV triples of
// set-or-delete, value and TTL in milliseconds) and then releases the lock
// (KEYS 1) if the turn still holds it (ARGV 1): atomically, in one
// command, as a MULTI would but cheaper for Redis to run.
var commitTurnScript = redis.NewScript(`
for i = 2, #KEYS do
  local a = 2 + (i - 2) * 3
  if ARGV[a] == 'd' then
    redis.call('DEL', KEYS[i])
  elseif tonumber(ARGV[a + 2]) > 0 then
    redis.call('SET', KEYS[i], ARGV[a + 1], 'PX', ARGV[a + 2])
  else
    redis.call('SET', KEYS[i], ARGV[a + 1])
  end
end
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1`)

// NotKeptError means what a webhook delivered could be kept neither in the
// spool nor in Postgres: the webhook must not answer 200.
type NotKeptError struct{ Err error }

func (e *NotKeptError) Error() string { return "not kept: " + e.Err.Error() }
func (e *NotKeptError) Unwrap() error { return e.Err }

// Release gives up the lock without writing anything (after a failure).
func (t *Turn) Release() {
	if t.done {
		return
	}
	t.done = true
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	unlockScript.Run(ctx, t.r.client, []string{t.lock}, t.token)
}

// Apply makes writes outside a Turn, in one Redis transaction.
func (r *Redis) Apply(ctx context.Context, writes ...Write) error {
	pipe := r.client.TxPipeline()
	for _, w := range writes {
		if w.Delete {
			pipe.Del(ctx, w.Key)
		} else {
			pipe.Set(ctx, w.Key, w.Value, w.TTL)
		}
	}
	_, err := pipe.Exec(ctx)
	return err
}
