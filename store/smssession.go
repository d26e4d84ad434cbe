package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/haveyoursay/haveyoursay/survey"
)

// SMSSession is what Redis keeps for one member's text conversation: the
// conversation it belongs to and where the survey has got to.
type SMSSession struct {
	Conversation string         `json:"conv"`
	Survey       survey.Session `json:"s"`
	// Paused: the member told us something worrying and got the crisis
	// reply; the survey waits until they ask to carry on.
	Paused bool `json:"pa,omitempty"`
}

// SMSSessions owns the live state of members' text conversations: the
// session a reply continues, the survey that lapsed or was just finished,
// the fast copy of an opt-out, and the lock that makes one member's texts
// (and an invitation or reminder to them) go one at a time. Inbound texts,
// invitations and reminders all go through it, so they cannot disagree on
// where or how the state is kept. Members are named by the hex hash of
// their number (Phones.HashString).
type SMSSessions struct {
	r   *Redis
	ttl time.Duration
}

// NewSMSSessions makes the session store. ttl is how long a conversation
// waits for the member's next text (and how long a finished survey is
// remembered).
func NewSMSSessions(r *Redis, ttl time.Duration) *SMSSessions {
	return &SMSSessions{r: r, ttl: ttl}
}

const (
	// smsDedupeTTL is how long a text's MessageSid is remembered, so a
	// text Twilio delivers again is answered once.
	smsDedupeTTL = 7 * 24 * time.Hour
	// smsLapsedTTL is how long the survey of a conversation that ran out
	// of time is remembered, for "sorry, we lost our place".
	smsLapsedTTL = 90 * 24 * time.Hour
	// smsLockHold and smsLockWait bound the member's lock: held at most
	// this long, waited for at most that long.
	smsLockHold = 10 * time.Second
	smsLockWait = 3 * time.Second
)

func (s *SMSSessions) sessionKey(hash string) string  { return s.r.Key("sms", "session", hash) }
func (s *SMSSessions) lapsedKey(hash string) string   { return s.r.Key("sms", "lapsed", hash) }
func (s *SMSSessions) finishedKey(hash string) string { return s.r.Key("sms", "finished", hash) }
func (s *SMSSessions) lockKey(hash string) string     { return s.r.Key("sms", "lock", hash) }
func (s *SMSSessions) seenKey(sid string) string      { return s.r.Key("sms", "seen-sid", sid) }

// optOutKey marks a number as opted out: a fast copy of
// participants.opted_out_at.
func (s *SMSSessions) optOutKey(hash string) string { return s.r.Key("optout", hash) }

// SMSTurn is one inbound text's hold on a member's conversation, from
// Begin until Commit or Release: no other text from them, and no
// invitation to them, is handled meanwhile.
type SMSTurn struct {
	// Duplicate is true when this text was delivered before: nothing is
	// held, and it must not be answered again.
	Duplicate bool
	// OptedOut is true when the member texted STOP (and not START since).
	OptedOut bool
	// Lapsed is the survey of a conversation that ran out of time while
	// waiting for them ("" for none).
	Lapsed string
	// Finished is the survey they finished a short while ago ("" for none).
	Finished string

	s       *SMSSessions
	t       *Turn
	hash    string
	sid     string
	session *string
}

// Begin starts answering text sid from the member with phone hash hash.
// In one Redis round trip it spots a repeat delivery (Twilio may send a
// text twice, even to two servers at once), waits for any other text from
// them to be answered, and reads their state. It returns ErrBusy when
// another text holds them for too long.
func (s *SMSSessions) Begin(ctx context.Context, sid, hash string) (*SMSTurn, error) {
	t, err := s.r.BeginTurn(ctx, TurnKeys{
		Dedupe: s.seenKey(sid),
		Lock:   s.lockKey(hash),
		Read:   []string{s.optOutKey(hash), s.sessionKey(hash), s.lapsedKey(hash), s.finishedKey(hash)},
	}, smsDedupeTTL, smsLockHold, smsLockWait)
	if err != nil {
		return nil, err
	}
	turn := &SMSTurn{s: s, t: t, hash: hash, sid: sid, Duplicate: t.Duplicate}
	if t.Duplicate {
		return turn, nil
	}
	str := func(v *string) string {
		if v == nil {
			return ""
		}
		return *v
	}
	turn.OptedOut = t.Values[0] != nil
	turn.session = t.Values[1]
	turn.Lapsed = str(t.Values[2])
	turn.Finished = str(t.Values[3])
	return turn, nil
}

// Session returns the member's conversation, if one is waiting for this
// text. An error means one is stored but cannot be read (found is false).
func (t *SMSTurn) Session() (sess SMSSession, found bool, err error) {
	if t.session == nil {
		return sess, false, nil
	}
	if err := json.Unmarshal([]byte(*t.session), &sess); err != nil {
		return SMSSession{}, false, fmt.Errorf("reading the stored SMS session: %w", err)
	}
	return sess, true, nil
}

// Commit records events durably (see Journal.Record), then makes the
// changes in u and lets the member's next text in, in one Redis
// transaction. A *NotKeptError means nothing could keep the events: the
// turn is released and the text's delivery forgotten, so a retry of it is
// answered afresh. Another error means Redis failed after the events were
// kept: the conversation did not move on.
func (t *SMSTurn) Commit(ctx context.Context, j *Journal, events []Event, u SMSUpdate) error {
	err := t.t.Commit(ctx, j, events, t.s.writes(t.hash, u)...)
	var nk *NotKeptError
	if errors.As(err, &nk) {
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		defer cancel()
		t.s.r.Forget(fctx, t.s.seenKey(t.sid))
	}
	return err
}

// Release gives up the turn without changing anything (after a failure)
// and forgets the text's delivery, so Twilio's retry of it is answered
// afresh.
func (t *SMSTurn) Release() {
	if t.Duplicate {
		return
	}
	t.t.Release()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	t.s.r.Forget(ctx, t.s.seenKey(t.sid))
}

// SMSUpdate is what answering one text changes in the member's live state.
// The zero value changes nothing; for each piece of state, the last change
// asked for wins.
type SMSUpdate struct {
	ops []smsOp
}

type smsPart int

const (
	partSession smsPart = iota // with the lapsed marker
	partFinished
	partOptOut
)

type smsOp struct {
	part    smsPart
	set     bool
	session []byte // partSession
	survey  string // partSession (lapsed) and partFinished
}

// Keep stores sess for the member's next text, and remembers its survey
// for a while after it runs out of time.
func (u *SMSUpdate) Keep(sess SMSSession) error {
	b, err := json.Marshal(sess)
	if err != nil {
		return err
	}
	u.ops = append(u.ops, smsOp{part: partSession, set: true, session: b, survey: sess.Survey.SurveyID})
	return nil
}

// End forgets the member's conversation: it is over.
func (u *SMSUpdate) End() { u.ops = append(u.ops, smsOp{part: partSession}) }

// Finished remembers for a while that the member has just finished
// surveyID, so a "thanks!" afterwards is thanked, not invited to start
// over.
func (u *SMSUpdate) Finished(surveyID string) {
	u.ops = append(u.ops, smsOp{part: partFinished, set: true, survey: surveyID})
}

// ForgetFinished forgets the survey the member finished (they are
// starting another conversation).
func (u *SMSUpdate) ForgetFinished() { u.ops = append(u.ops, smsOp{part: partFinished}) }

// OptOut marks the member as opted out (STOP).
func (u *SMSUpdate) OptOut() { u.ops = append(u.ops, smsOp{part: partOptOut, set: true}) }

// OptIn clears the member's opt-out (START).
func (u *SMSUpdate) OptIn() { u.ops = append(u.ops, smsOp{part: partOptOut}) }

// writes turns an update into Redis writes, in order, so the last change
// to a key wins.
func (s *SMSSessions) writes(hash string, u SMSUpdate) []Write {
	var ws []Write
	for _, op := range u.ops {
		switch op.part {
		case partSession:
			if op.set {
				ws = append(ws, Write{Key: s.sessionKey(hash), Value: op.session, TTL: s.ttl},
					Write{Key: s.lapsedKey(hash), Value: op.survey, TTL: smsLapsedTTL})
			} else {
				ws = append(ws, Write{Key: s.sessionKey(hash), Delete: true}, Write{Key: s.lapsedKey(hash), Delete: true})
			}
		case partFinished:
			ws = append(ws, Write{Key: s.finishedKey(hash), Value: op.survey, TTL: s.ttl, Delete: !op.set})
		case partOptOut:
			ws = append(ws, Write{Key: s.optOutKey(hash), Value: 1, Delete: !op.set})
		}
	}
	return ws
}

// Lock takes the member's lock, the one an inbound text holds while it is
// answered, so an invitation being sent cannot interleave with their
// reply. It returns ErrBusy when a text holds it for too long.
func (s *SMSSessions) Lock(ctx context.Context, hash string) (unlock func(), err error) {
	return s.r.Lock(ctx, s.lockKey(hash), smsLockHold, smsLockWait)
}

// Get returns the member's conversation, if one is waiting for their
// next text, and how long it has waited.
func (s *SMSSessions) Get(ctx context.Context, hash string) (sess SMSSession, idle time.Duration, found bool, err error) {
	pipe := s.r.client.Pipeline()
	get := pipe.Get(ctx, s.sessionKey(hash))
	ttl := pipe.PTTL(ctx, s.sessionKey(hash))
	_, err = pipe.Exec(ctx)
	if errors.Is(err, redis.Nil) {
		return sess, 0, false, nil
	}
	if err != nil {
		return sess, 0, false, err
	}
	if err := json.Unmarshal([]byte(get.Val()), &sess); err != nil {
		return SMSSession{}, 0, false, fmt.Errorf("reading the stored SMS session: %w", err)
	}
	if left := ttl.Val(); left > 0 {
		idle = max(s.ttl-left, 0)
	}
	return sess, idle, true, nil
}

// Save stores sess for the member's next text, as an inbound text's Keep
// does (for an invitation, sent outside a webhook).
func (s *SMSSessions) Save(ctx context.Context, hash string, sess SMSSession) error {
	var u SMSUpdate
	if err := u.Keep(sess); err != nil {
		return err
	}
	return s.r.Apply(ctx, s.writes(hash, u)...)
}

// Forget ends the member's session if it still belongs to conversation
// (an invitation that never reached them), and leaves any other alone.
func (s *SMSSessions) Forget(ctx context.Context, hash, conversation string) error {
	key := s.sessionKey(hash)
	err := s.r.client.Watch(ctx, func(tx *redis.Tx) error {
		b, err := tx.Get(ctx, key).Bytes()
		if errors.Is(err, redis.Nil) {
			return nil
		}
		if err != nil {
			return err
		}
		var cur SMSSession
		if json.Unmarshal(b, &cur) == nil && cur.Conversation != conversation {
			return nil
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.Del(ctx, key, s.lapsedKey(hash))
			return nil
		})
		return err
	}, key)
	if errors.Is(err, redis.TxFailedErr) {
		return nil // the member's state changed meanwhile: it is theirs now
	}
	return err
}

// OptedOut reports whether the member's opt-out is in Redis (set at once
// when they text STOP; Postgres keeps it for good).
func (s *SMSSessions) OptedOut(ctx context.Context, hash string) (bool, error) {
	n, err := s.r.client.Exists(ctx, s.optOutKey(hash)).Result()
	return n > 0, err
}

// SetOptedOut marks the member as opted out (Twilio told us they texted
// STOP), or clears the mark.
func (s *SMSSessions) SetOptedOut(ctx context.Context, hash string, out bool) error {
	var u SMSUpdate
	if out {
		u.OptOut()
	} else {
		u.OptIn()
	}
	return s.r.Apply(ctx, s.writes(hash, u)...)
}
