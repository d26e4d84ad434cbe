package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/redis/go-redis/v9"
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
// events to a file spool on local disk (fsync'd before Twilio is answered;
// see Spool); a background writer moves them to Postgres in batches of
// multi-row INSERTs. When Postgres is down or stalled, events wait in the
// spool, which survives a crash of the process and a restart of Redis, and
// are written when it returns (and at the next start). When the spool
// cannot be written, events go to Postgres directly; when neither can take
// them, Record fails and the webhook answers 5xx so Twilio's fallback can.
//
// Each server has its own spool, so no writer can ever trim what another
// wrote. Writing an event twice stores it once (dedupe keys), so a replay
// after a crash between writing and marking is harmless.
type Journal struct {
	db    *DB
	redis *Redis
	log   *slog.Logger
	spool *Spool // nil: no spool (it could not be opened)
	temp  string // a temporary spool folder to remove on Close

	drain  sync.Mutex // one writer at a time moves the spool to Postgres
	wake   chan struct{}
	failed atomic.Int64 // spool writes that failed
}

// OpenJournal makes a journal spooling in dir (HYS_SPOOL_DIR); call Run to
// start writing to Postgres and Close at the end. What an earlier run left
// in dir is written first.
func OpenJournal(db *DB, r *Redis, dir string, log *slog.Logger) (*Journal, error) {
	sp, err := OpenSpool(dir)
	if err != nil {
		return nil, err
	}
	j := newJournal(db, r, log)
	j.spool = sp
	if n := sp.Len(); n > 0 {
		j.log.Info("the spool holds events from an earlier run; writing them to Postgres", "events", n, "dir", dir)
	}
	if n := sp.Corrupt(); n > 0 {
		j.log.Warn("the spool ended in a torn record (the process stopped while writing it, before answering Twilio); skipped", "segments", n)
	}
	return j, nil
}

// NewJournal makes a journal spooling in a new temporary folder, removed
// by Close: for tests and tools. A server uses OpenJournal with a folder
// that outlives the process.
func NewJournal(db *DB, r *Redis, log *slog.Logger) *Journal {
	j := newJournal(db, r, log)
	dir, err := os.MkdirTemp("", "hys-spool-")
	if err == nil {
		j.spool, err = OpenSpool(dir)
		j.temp = dir
	}
	if err != nil {
		j.log.Error("no spool: events go straight to Postgres", "err", err)
	}
	return j
}

func newJournal(db *DB, r *Redis, log *slog.Logger) *Journal {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Journal{db: db, redis: r, log: log, wake: make(chan struct{}, 1)}
}

// Close releases the spool folder; events still in it wait there for the
// next start. Call it after the last Record and Flush.
func (j *Journal) Close() error {
	if j.spool == nil {
		return nil
	}
	err := j.spool.Close()
	if j.temp != "" && j.spool.Len() == 0 {
		os.RemoveAll(j.temp)
	}
	return err
}

// SpoolDir is the folder of the journal's spool ("" for none).
func (j *Journal) SpoolDir() string {
	if j.spool == nil {
		return ""
	}
	return j.spool.Dir()
}

// legacyKey is the Redis list earlier versions spooled to; Run empties it.
func (j *Journal) legacyKey() string { return j.redis.Key("spool") }
func (j *Journal) failedKey() string { return j.redis.Key("spool", "failed") }

// Record keeps events durably: on disk in the spool, or else in Postgres.
// It returns an error only when neither took them; the caller must then
// not tell Twilio they were received.
func (j *Journal) Record(ctx context.Context, events ...Event) error {
	return j.recordThen(ctx, events, nil)
}

// recordThen is Record; when the events go to the spool, then (if not nil)
// runs with the spool's group commit (then.ran tells whether it did).
func (j *Journal) recordThen(ctx context.Context, events []Event, then *Then) error {
	if len(events) == 0 {
		return nil
	}
	stamp(events)
	var serr error
	if j.spool != nil {
		if serr = j.spool.AppendThen(events, then); serr == nil {
			j.poke()
			return nil
		}
		j.failed.Add(1)
		j.log.Error("writing to the spool failed; writing to Postgres directly", "err", serr)
	} else {
		serr = errors.New("there is no spool")
	}
	dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	perr := j.apply(dctx, events)
	if perr == nil {
		return nil
	}
	j.log.Error("nothing could keep what Twilio sent: the webhook must fail", "spool_err", serr, "postgres_err", perr, "events", len(events))
	return fmt.Errorf("neither the spool nor Postgres took the events: %w", errors.Join(serr, perr))
}

// stamp sets the time of events that have none.
func stamp(events []Event) {
	now := time.Now().UTC()
	for i := range events {
		if events[i].At.IsZero() {
			events[i].At = now
		}
	}
}

func (j *Journal) poke() {
	select {
	case j.wake <- struct{}{}:
	default:
	}
}

// drainBatch is how many events go to Postgres in one transaction.
const drainBatch = 2000

// gatherFor is how long the writer lets events gather after catching up.
const gatherFor = 50 * time.Millisecond

// Run writes spooled events to Postgres until ctx ends.
func (j *Journal) Run(ctx context.Context) {
	backoff := 100 * time.Millisecond
	legacy := time.Now()
	j.moveLegacy(ctx)
	for {
		n, err := j.drainOnce(ctx, drainBatch)
		if err != nil && ctx.Err() == nil {
			j.log.Warn("writing the spool to Postgres failed; will retry", "err", err, "retry_in", backoff, "waiting", j.spoolLen())
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			if backoff < 2*time.Second {
				backoff *= 2
			}
			continue
		}
		backoff = 100 * time.Millisecond
		if time.Since(legacy) > 30*time.Second {
			legacy = time.Now()
			j.moveLegacy(ctx)
		}
		if n >= drainBatch {
			continue
		}
		if n > 0 {
			// Caught up: let the next batch gather for a moment, so that
			// Postgres takes a few large transactions rather than many
			// small ones (each commit is a disk write).
			select {
			case <-ctx.Done():
				return
			case <-time.After(gatherFor):
			}
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
		n, err := j.drainOnce(ctx, drainBatch)
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
	return int64(j.spoolLen()), nil
}

func (j *Journal) spoolLen() int {
	if j.spool == nil {
		return 0
	}
	return j.spool.Len()
}

// SpoolStats is what the metrics show of the spool.
type SpoolStats struct {
	Depth         int           // events waiting for Postgres
	OldestAge     time.Duration // how long the oldest has waited (0: none)
	WriteFailures int64         // spool writes that failed since start
}

// Stats reports the spool's depth, its oldest event's age and its failures.
func (j *Journal) Stats() SpoolStats {
	st := SpoolStats{WriteFailures: j.failed.Load()}
	if j.spool != nil {
		st.Depth = j.spool.Len()
		if at := j.spool.Oldest(); !at.IsZero() && st.Depth > 0 {
			st.OldestAge = max(time.Since(at), 0)
		}
	}
	return st
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

// drainOnce moves up to max of the oldest spooled events to Postgres and
// returns how many.
func (j *Journal) drainOnce(ctx context.Context, max int) (int, error) {
	if j.spool == nil {
		return 0, nil
	}
	j.drain.Lock()
	defer j.drain.Unlock()
	return j.drainLocked(ctx, max)
}

// drainLocked is drainOnce for a caller that holds j.drain.
func (j *Journal) drainLocked(ctx context.Context, max int) (int, error) {
	if j.spool == nil {
		return 0, nil
	}
	batch := j.spool.Peek(max)
	if len(batch) == 0 {
		return 0, nil
	}
	events := make([]Event, 0, len(batch))
	for _, sp := range batch {
		if sp.raw != nil {
			j.log.Error("a spooled event cannot be read; keeping it aside")
			if err := j.redis.client.RPush(ctx, j.failedKey(), sp.raw).Err(); err != nil {
				return 0, err
			}
			continue
		}
		events = append(events, sp.event)
	}
	if err := j.apply(ctx, events); err != nil {
		return 0, err
	}
	j.spool.Done(len(batch))
	return len(batch), nil
}

// trimIfHead trims the first ARGV count items of a list only when they
// are still the ones read (ARGV 2…): a writer never trims what it did not
// copy.
var trimIfHead = redis.NewScript(`
local n = tonumber(ARGV[1])
local head = redis.call('LRANGE', KEYS[1], 0, n - 1)
if #head ~= n then return 0 end
for i = 1, n do
  if head[i] ~= ARGV[i + 1] then return 0 end
end
redis.call('LTRIM', KEYS[1], n, -1)
return 1`)

// moveLegacy copies what earlier versions left in the Redis spool list
// into our file spool (on disk first), then trims it from Redis only if
// no other server has meanwhile: once, at an upgrade.
func (j *Journal) moveLegacy(ctx context.Context) {
	if j.spool == nil {
		return
	}
	for ctx.Err() == nil {
		raw, err := j.redis.client.LRange(ctx, j.legacyKey(), 0, 499).Result()
		if err != nil || len(raw) == 0 {
			return
		}
		events := make([]Event, 0, len(raw))
		for _, r := range raw {
			var e Event
			if json.Unmarshal([]byte(r), &e) != nil {
				j.redis.client.RPush(ctx, j.failedKey(), r)
				continue
			}
			events = append(events, e)
		}
		if err := j.spool.Append(events); err != nil {
			j.log.Error("moving the old Redis spool to the file spool", "err", err)
			return
		}
		args := make([]any, 0, len(raw)+1)
		args = append(args, len(raw))
		for _, r := range raw {
			args = append(args, r)
		}
		if ok, err := trimIfHead.Run(ctx, j.redis.client, []string{j.legacyKey()}, args...).Int(); err != nil || ok == 0 {
			return // another server moved them first: ours are duplicates, stored once
		}
		j.log.Info("moved events from the old Redis spool to the file spool", "events", len(events))
		j.poke()
	}
}

// apply writes events to Postgres: in one transaction of multi-row
// INSERTs, or, if that fails for a reason other than the connection, one
// by one, keeping aside in Redis any that still fail for an engineer to
// see.
func (j *Journal) apply(ctx context.Context, events []Event) error {
	if len(events) == 0 {
		return nil
	}
	err := j.applyBatch(ctx, events)
	if err == nil || isConnectionError(err) {
		return err
	}
	j.log.Warn("Postgres refused a batch of events; writing them one by one to find the one it refuses", "err", err, "events", len(events))
	for _, e := range events {
		if err := j.applyTx(ctx, []Event{e}); err != nil {
			if isConnectionError(err) {
				return err
			}
			if err := j.setAside(ctx, e, err); err != nil {
				return err
			}
		}
	}
	return nil
}

// setAside keeps an event Postgres refused in Redis; if Redis fails too,
// the event stays in the spool and is tried again.
func (j *Journal) setAside(ctx context.Context, e Event, err error) error {
	j.log.Error("an event could not be stored; kept aside in the failed spool", "err", err)
	b, _ := json.Marshal(e)
	return j.redis.client.RPush(ctx, j.failedKey(), b).Err()
}

// isConnectionError tells a failure worth retrying (Postgres not there, or
// going away) from one that will never succeed (a constraint the event
// breaks). Only Postgres's own errors can be the second kind: anything
// else (a refused or closed connection, a timeout) is retried.
func isConnectionError(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// Class 08 is connection trouble, 57P0x the server shutting down,
		// 57014 a cancelled statement (a timeout), 55P03 a lock not
		// available, 40001/40P01 serialisation failures and deadlocks.
		return pgErr.Code[:2] == "08" || pgErr.Code[:3] == "57P" || pgErr.Code == "57014" || pgErr.Code == "55P03" ||
			pgErr.Code == "40001" || pgErr.Code == "40P01"
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
