package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Person identifies a participant by phone number without holding the
// number in clear: see Phones.
type Person struct {
	Hash   []byte `json:"h"`
	Enc    []byte `json:"e"`
	Masked string `json:"m"`
}

// ConversationStarted opens a conversation.
type ConversationStarted struct {
	ID       string `json:"id"`
	Person   Person `json:"p"`
	SurveyID string `json:"s"`
	Version  int    `json:"v"`
	Channel  string `json:"c"`
	CallSid  string `json:"cs,omitempty"`
	Language string `json:"l,omitempty"`
}

// AnswerGiven is one answer to one question.
type AnswerGiven struct {
	ConversationID string   `json:"cid"`
	QuestionID     string   `json:"q"`
	Value          string   `json:"v"`
	Raw            string   `json:"r"`
	Via            string   `json:"via"`
	NoAnswer       bool     `json:"na,omitempty"`
	Skipped        bool     `json:"sk,omitempty"`
	Themes         []string `json:"t,omitempty"`
	DedupeKey      string   `json:"dk"`
}

// ConversationEnded closes a conversation with its status: completed,
// partial or refused. Without a status it only records what it carries:
// Consent, the words used to give consent; Language, the language the
// member chose (kept on the conversation and, for next time, on the
// participant).
type ConversationEnded struct {
	ID       string `json:"id"`
	Status   string `json:"st,omitempty"`
	Consent  string `json:"co,omitempty"`
	Language string `json:"l,omitempty"`
	// TellMe is the answer to "Can we text you to tell you what we did?":
	// "yes", "no", or "" (not asked at this turn).
	TellMe string `json:"tm,omitempty"`
}

// MessageLogged is a text received or sent.
type MessageLogged struct {
	DedupeKey      string   `json:"dk"`
	Direction      string   `json:"d"` // in, out
	MessageSid     string   `json:"sid,omitempty"`
	Person         Person   `json:"p"`
	ConversationID string   `json:"cid,omitempty"`
	Body           string   `json:"b"`
	Status         string   `json:"st"`
	Media          []string `json:"m,omitempty"` // picture or voice-note addresses (MMS)
}

// CallInput is one thing a caller pressed or said at a <Gather>, kept
// whether or not it matched the menu.
type CallInput struct {
	DedupeKey      string  `json:"dk"`
	ConversationID string  `json:"cid"`
	CallSid        string  `json:"cs"`
	Stage          string  `json:"st"`
	QuestionID     string  `json:"q,omitempty"`
	Digits         string  `json:"d,omitempty"`
	Speech         string  `json:"s,omitempty"`
	Confidence     float64 `json:"c,omitempty"`
	Understood     bool    `json:"u"`
}

// MessageStatus is a delivery status callback for a text we sent.
type MessageStatus struct {
	MessageSid string `json:"sid"`
	Status     string `json:"st"`
	ErrorCode  int    `json:"ec,omitempty"`
}

// OptOut records STOP (Out true) or START (Out false).
type OptOut struct {
	Person Person `json:"p"`
	Out    bool   `json:"o"`
}

// CallbackBooked is a member asking to talk to a person.
type CallbackBooked struct {
	DedupeKey      string `json:"dk"`
	Person         Person `json:"p"`
	ConversationID string `json:"cid,omitempty"`
	Channel        string `json:"c"`
	Reason         string `json:"r"`
}

// Event is one durable fact. Exactly one field besides At is set. Events
// are idempotent: writing one twice stores it once.
type Event struct {
	At           time.Time            `json:"at"`
	Conversation *ConversationStarted `json:"conv,omitempty"`
	Answer       *AnswerGiven         `json:"ans,omitempty"`
	End          *ConversationEnded   `json:"end,omitempty"`
	Message      *MessageLogged       `json:"msg,omitempty"`
	Status       *MessageStatus       `json:"stat,omitempty"`
	OptOut       *OptOut              `json:"opt,omitempty"`
	Callback     *CallbackBooked      `json:"cb,omitempty"`
	Input        *CallInput           `json:"in,omitempty"`
	Worry        *WorryRaised         `json:"wor,omitempty"`
}

// Journal makes sure what Twilio delivered is never lost. Webhooks append
// events to a spool list in Redis (one fast round trip); a background
// writer moves them to Postgres in batches. When Postgres is down events
// wait in the spool until it returns; when Redis is down they are written
// to Postgres directly; when both are down they wait in memory.
type Journal struct {
	db    *DB
	redis *Redis
	log   *slog.Logger

	mu     sync.Mutex
	memory []Event
	wake   chan struct{}
}

// NewJournal makes a journal; call Run to start writing to Postgres.
func NewJournal(db *DB, r *Redis, log *slog.Logger) *Journal {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Journal{db: db, redis: r, log: log, wake: make(chan struct{}, 1)}
}

func (j *Journal) spoolKey() string  { return j.redis.Key("spool") }
func (j *Journal) failedKey() string { return j.redis.Key("spool", "failed") }
func (j *Journal) lockKey() string   { return j.redis.Key("spool", "lock") }

// Record keeps events durably. It returns an error only when neither Redis
// nor Postgres took them (they are then held in memory and retried).
func (j *Journal) Record(ctx context.Context, events ...Event) error {
	if len(events) == 0 {
		return nil
	}
	vals, err := j.encode(events)
	if err != nil {
		return err
	}
	err = j.redis.client.RPush(ctx, j.spoolKey(), vals...).Err()
	if err == nil {
		j.poke()
		return nil
	}
	j.log.Error("spooling to Redis failed; writing to Postgres directly", "err", err)
	if perr := j.apply(ctx, events); perr == nil {
		return nil
	} else {
		j.log.Error("writing to Postgres failed too; holding events in memory", "err", perr, "events", len(events))
	}
	j.mu.Lock()
	j.memory = append(j.memory, events...)
	j.mu.Unlock()
	j.poke()
	return fmt.Errorf("neither Redis nor Postgres answered: %w", err)
}

// encode stamps events with the time and encodes them for the spool.
func (j *Journal) encode(events []Event) ([]any, error) {
	now := time.Now().UTC()
	vals := make([]any, len(events))
	for i := range events {
		if events[i].At.IsZero() {
			events[i].At = now
		}
		b, err := json.Marshal(events[i])
		if err != nil {
			return nil, err
		}
		vals[i] = b
	}
	return vals, nil
}

func (j *Journal) poke() {
	select {
	case j.wake <- struct{}{}:
	default:
	}
}

// Run writes spooled events to Postgres until ctx ends.
func (j *Journal) Run(ctx context.Context) {
	backoff := 100 * time.Millisecond
	for {
		n, err := j.drainOnce(ctx, 500)
		if err != nil && ctx.Err() == nil {
			j.log.Warn("writing the spool to Postgres failed; will retry", "err", err, "retry_in", backoff)
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			if backoff < 5*time.Second {
				backoff *= 2
			}
			continue
		}
		backoff = 100 * time.Millisecond
		if n > 0 {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-j.wake:
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// Flush writes everything spooled so far to Postgres, or returns why not.
func (j *Journal) Flush(ctx context.Context) error {
	for {
		n, err := j.drainOnce(ctx, 500)
		if err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
	}
}

// Pending counts events not yet in Postgres.
func (j *Journal) Pending(ctx context.Context) (int64, error) {
	j.mu.Lock()
	mem := int64(len(j.memory))
	j.mu.Unlock()
	n, err := j.redis.client.LLen(ctx, j.spoolKey()).Result()
	return n + mem, err
}

// SetAsideCount counts the events that could never be stored (Postgres
// refused them) and wait in the failed spool for a person to look at.
func (j *Journal) SetAsideCount(ctx context.Context) (int64, error) {
	return j.redis.client.LLen(ctx, j.failedKey()).Result()
}

// SetAsideEvents returns the events waiting in the failed spool, oldest
// first, so that a person can see what was not stored and why.
func (j *Journal) SetAsideEvents(ctx context.Context) ([]Event, error) {
	raw, err := j.redis.client.LRange(ctx, j.failedKey(), 0, -1).Result()
	if err != nil {
		return nil, err
	}
	events := make([]Event, 0, len(raw))
	for i, r := range raw {
		var e Event
		if err := json.Unmarshal([]byte(r), &e); err != nil {
			return events, fmt.Errorf("reading set-aside event %d of %d: %w", i+1, len(raw), err)
		}
		events = append(events, e)
	}
	return events, nil
}

// drainOnce moves up to max events to Postgres and returns how many.
// The Redis spool goes first: it holds what happened before any events
// were held in memory (those are only held while Redis and Postgres were
// both down).
func (j *Journal) drainOnce(ctx context.Context, max int) (int, error) {
	n, spoolErr := j.drainSpool(ctx, max)
	j.mu.Lock()
	mem := j.memory
	j.memory = nil
	j.mu.Unlock()
	if len(mem) == 0 {
		return n, spoolErr
	}
	if err := j.apply(ctx, mem); err != nil {
		// Back to the front of the spool, in order; or, with Redis still
		// away, back to memory.
		vals := encodeAll(mem)
		slices.Reverse(vals)
		if rerr := j.redis.client.LPush(ctx, j.spoolKey(), vals...).Err(); rerr != nil {
			j.mu.Lock()
			j.memory = append(mem, j.memory...)
			j.mu.Unlock()
		}
		return n, err
	}
	return n + len(mem), spoolErr
}

// drainSpool moves up to max events from the Redis spool to Postgres.
func (j *Journal) drainSpool(ctx context.Context, max int) (int, error) {
	// One writer at a time across all servers, so a batch is trimmed from
	// the spool only by the writer that stored it. The lock is short, so a
	// writer that lost Redis mid-batch holds up the others only briefly.
	unlock, err := j.redis.Lock(ctx, j.lockKey(), 10*time.Second, 0)
	if errors.Is(err, ErrBusy) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer unlock()
	raw, err := j.redis.client.LRange(ctx, j.spoolKey(), 0, int64(max-1)).Result()
	if err != nil || len(raw) == 0 {
		return 0, err
	}
	events := make([]Event, 0, len(raw))
	for _, r := range raw {
		var e Event
		if err := json.Unmarshal([]byte(r), &e); err != nil {
			j.log.Error("a spooled event cannot be read; keeping it aside", "err", err)
			j.redis.client.RPush(ctx, j.failedKey(), r)
			continue
		}
		events = append(events, e)
	}
	if err := j.apply(ctx, events); err != nil {
		return 0, err
	}
	if err := j.redis.client.LTrim(ctx, j.spoolKey(), int64(len(raw)), -1).Err(); err != nil {
		return 0, err
	}
	return len(raw), nil
}

func encodeAll(events []Event) []any {
	out := make([]any, 0, len(events))
	for _, e := range events {
		b, _ := json.Marshal(e)
		out = append(out, b)
	}
	return out
}

// apply writes events to Postgres in one transaction. If the batch fails
// for a reason other than the connection, events are written one by one
// and any that still fail are kept aside in Redis for an engineer to see.
func (j *Journal) apply(ctx context.Context, events []Event) error {
	err := j.applyTx(ctx, events)
	if err == nil || isConnectionError(err) || len(events) == 1 {
		if err != nil && len(events) == 1 && !isConnectionError(err) {
			j.setAside(ctx, events[0], err)
			return nil
		}
		return err
	}
	for _, e := range events {
		if err := j.applyTx(ctx, []Event{e}); err != nil {
			if isConnectionError(err) {
				return err
			}
			j.setAside(ctx, e, err)
		}
	}
	return nil
}

func (j *Journal) setAside(ctx context.Context, e Event, err error) {
	j.log.Error("an event could not be stored; kept aside in the failed spool", "err", err)
	b, _ := json.Marshal(e)
	j.redis.client.RPush(ctx, j.failedKey(), b)
}

// isConnectionError tells a failure worth retrying (Postgres not there, or
// going away) from one that will never succeed (a constraint the event
// breaks). Only Postgres's own errors can be the second kind: anything
// else (a refused or closed connection, a timeout) is retried.
func isConnectionError(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// Class 08 is connection trouble, 57P0x the server shutting down,
		// 40001/40P01 serialisation failures and deadlocks.
		return pgErr.Code[:2] == "08" || pgErr.Code[:3] == "57P" || pgErr.Code == "40001" || pgErr.Code == "40P01"
	}
	return true
}

// upsertPerson finds or adds a participant. A number erased after it
// texted STOP keeps only its hash (see DB.ErasePerson): when it comes back,
// the number is kept again.
const upsertPerson = `INSERT INTO participants (phone_hash, phone_enc, phone_masked) VALUES ($1, $2, $3)
ON CONFLICT (phone_hash) DO UPDATE SET phone_hash = EXCLUDED.phone_hash,
	phone_enc = CASE WHEN participants.phone_enc = '' THEN EXCLUDED.phone_enc ELSE participants.phone_enc END,
	phone_masked = CASE WHEN participants.phone_enc = '' THEN EXCLUDED.phone_masked ELSE participants.phone_masked END
RETURNING id`

func (j *Journal) applyTx(ctx context.Context, events []Event) error {
	return pgx.BeginFunc(ctx, j.db.pool, func(tx pgx.Tx) error {
		for _, e := range events {
			if e.Worry != nil {
				if _, _, err := j.db.raiseWorry(ctx, tx, *e.Worry, e.At); err != nil {
					return err
				}
				continue
			}
			if err := applyEvent(ctx, tx, e); err != nil {
				return err
			}
		}
		return nil
	})
}

func person(ctx context.Context, tx pgx.Tx, p Person) (int64, error) {
	var id int64
	err := tx.QueryRow(ctx, upsertPerson, p.Hash, p.Enc, p.Masked).Scan(&id)
	return id, err
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func applyEvent(ctx context.Context, tx pgx.Tx, e Event) error {
	switch {
	case e.Conversation != nil:
		c := e.Conversation
		pid, err := person(ctx, tx, c.Person)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO conversations (id, participant_id, survey_id, survey_version, channel, call_sid, language, started_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING`,
			c.ID, pid, c.SurveyID, c.Version, c.Channel, nullable(c.CallSid), c.Language, e.At)
		return err
	case e.Answer != nil:
		a := e.Answer
		themes := a.Themes
		if themes == nil {
			themes = []string{}
		}
		_, err := tx.Exec(ctx, `INSERT INTO answers (conversation_id, question_id, value, raw, via, no_answer, skipped, themes, dedupe_key, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (dedupe_key) DO NOTHING`,
			a.ConversationID, a.QuestionID, a.Value, a.Raw, a.Via, a.NoAnswer, a.Skipped, themes, a.DedupeKey, e.At)
		return err
	case e.End != nil:
		if e.End.Consent != "" {
			if _, err := tx.Exec(ctx, `UPDATE conversations SET consent = $2 WHERE id = $1`, e.End.ID, e.End.Consent); err != nil {
				return err
			}
		}
		if e.End.Language != "" {
			if _, err := tx.Exec(ctx, `WITH c AS (UPDATE conversations SET language = $2 WHERE id = $1 RETURNING participant_id)
				UPDATE participants SET language = $2 WHERE id IN (SELECT participant_id FROM c)`, e.End.ID, e.End.Language); err != nil {
				return err
			}
		}
		if e.End.TellMe != "" {
			if _, err := tx.Exec(ctx, `UPDATE conversations SET tell_me = $2 WHERE id = $1`, e.End.ID, e.End.TellMe == "yes"); err != nil {
				return err
			}
		}
		if e.End.Status == "" {
			return nil
		}
		_, err := tx.Exec(ctx, `UPDATE conversations SET status = $2, ended_at = $3 WHERE id = $1 AND status = 'active'`,
			e.End.ID, e.End.Status, e.At)
		return err
	case e.Message != nil:
		m := e.Message
		pid, err := person(ctx, tx, m.Person)
		if err != nil {
			return err
		}
		media := m.Media
		if media == nil {
			media = []string{}
		}
		_, err = tx.Exec(ctx, `INSERT INTO messages (dedupe_key, direction, message_sid, participant_id, conversation_id, body, status, media, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9) ON CONFLICT (dedupe_key) DO NOTHING`,
			m.DedupeKey, m.Direction, nullable(m.MessageSid), pid, nullable(m.ConversationID), m.Body, m.Status, media, e.At)
		return err
	case e.Input != nil:
		in := e.Input
		var conf *float64
		if in.Speech != "" && in.Confidence > 0 {
			conf = &in.Confidence
		}
		_, err := tx.Exec(ctx, `INSERT INTO call_inputs (dedupe_key, conversation_id, call_sid, stage, question_id, digits, speech, confidence, understood, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (dedupe_key) DO NOTHING`,
			in.DedupeKey, in.ConversationID, in.CallSid, in.Stage, in.QuestionID, in.Digits, in.Speech, conf, in.Understood, e.At)
		return err
	case e.Status != nil:
		s := e.Status
		var code *int
		if s.ErrorCode != 0 {
			code = &s.ErrorCode
		}
		// Twilio's callbacks can arrive out of order ("delivered" before
		// "sent"): a status never moves back to an earlier one.
		_, err := tx.Exec(ctx, `UPDATE messages SET status = $2, error_code = coalesce($3, error_code), updated_at = greatest(updated_at, $4)
			WHERE message_sid = $1 AND (`+statusRankSQL+` < $5 OR (`+statusRankSQL+` = $5 AND updated_at <= $4))`,
			s.MessageSid, s.Status, code, e.At, messageStatusRank(s.Status))
		return err
	case e.OptOut != nil:
		pid, err := person(ctx, tx, e.OptOut.Person)
		if err != nil {
			return err
		}
		if e.OptOut.Out {
			_, err = tx.Exec(ctx, `UPDATE participants SET opted_out_at = $2 WHERE id = $1`, pid, e.At)
		} else {
			_, err = tx.Exec(ctx, `UPDATE participants SET opted_out_at = NULL WHERE id = $1 AND opted_out_at <= $2`, pid, e.At)
		}
		return err
	case e.Callback != nil:
		c := e.Callback
		pid, err := person(ctx, tx, c.Person)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO callbacks (dedupe_key, participant_id, conversation_id, channel, reason, created_at)
			VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (dedupe_key) DO NOTHING`,
			c.DedupeKey, pid, nullable(c.ConversationID), c.Channel, c.Reason, e.At)
		return err
	}
	return errors.New("an event with nothing in it")
}

// messageRanks orders Twilio's message statuses: a later callback never
// moves a message back to an earlier state. Final states share a rank;
// "read" (WhatsApp, RCS) comes after "delivered".
var messageRanks = []struct {
	status string
	rank   int
}{
	{"accepted", 1}, {"scheduled", 1}, {"queued", 2}, {"sending", 3}, {"sent", 4},
	{"delivered", 5}, {"undelivered", 5}, {"failed", 5}, {"canceled", 5}, {"partially_delivered", 5}, {"read", 6},
}

func messageStatusRank(status string) int {
	for _, r := range messageRanks {
		if r.status == status {
			return r.rank
		}
	}
	return 0
}

// statusRankSQL is messageStatusRank in SQL, for the column status.
var statusRankSQL = func() string {
	var b strings.Builder
	b.WriteString("CASE status")
	for _, r := range messageRanks {
		fmt.Fprintf(&b, " WHEN '%s' THEN %d", r.status, r.rank)
	}
	b.WriteString(" ELSE 0 END")
	return b.String()
}()
