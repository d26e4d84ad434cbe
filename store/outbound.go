package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
)

// MigrateRiver creates or updates River's tables (the durable job queue
// that sends texts). It is safe to run again: applied versions are skipped.
func (db *DB) MigrateRiver(ctx context.Context) error {
	m, err := rivermigrate.New(riverpgxv5.New(db.Pool), &rivermigrate.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return err
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("migrating the job queue's tables: %w", err)
	}
	return nil
}

// CheckRiver returns ErrSchemaOutOfDate when River's tables are missing or
// behind this version of River.
func (db *DB) CheckRiver(ctx context.Context) error {
	m, err := rivermigrate.New(riverpgxv5.New(db.Pool), &rivermigrate.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return err
	}
	res, err := m.Validate(ctx, nil)
	if err != nil {
		return fmt.Errorf("reading the job queue's schema version: %w", err)
	}
	if !res.OK {
		return ErrSchemaOutOfDate
	}
	return nil
}

// Outbound statuses. A row starts pending; only the job that moves it to
// sending calls Twilio; it then ends in one of the other states.
const (
	OutPending  = "pending"
	OutSending  = "sending"
	OutSent     = "sent"
	OutOptedOut = "opted_out"
	OutSkipped  = "skipped"
	OutFailed   = "failed"
	OutUnknown  = "unknown" // Twilio may or may not have taken it: never retried
)

// Outbound is one text we send ourselves: an invitation or a reminder.
type Outbound struct {
	ID             int64
	BatchID        string
	Kind           string // invite, reminder
	SurveyID       string
	SurveyVersion  int
	PhoneHash      []byte
	PhoneEnc       []byte
	PhoneMasked    string
	Line           int
	Sender         string
	AnyTime        bool
	ConversationID string
	Status         string
	Reason         string
	MessageSid     string
	ErrorCode      int
	Attempts       int
	NotBefore      time.Time // zero unless waiting for quiet hours to end
	ClaimedAt      time.Time
}

// NewOutbound is one person to text in a batch.
type NewOutbound struct {
	Person         Person
	Line           int
	ConversationID string // reminders: the conversation to continue
}

// OutboundBatch says what a batch sends and from where.
type OutboundBatch struct {
	ID            string
	Kind          string
	SurveyID      string
	SurveyVersion int
	Sender        string
	AnyTime       bool
	NotBefore     time.Time
}

// insertOutbound adds people to a batch inside tx and returns the ids of
// the rows it made. People already in the batch are left alone (so running
// the same list again texts nobody twice); reminders already made for a
// conversation likewise.
func insertOutbound(ctx context.Context, tx pgx.Tx, b OutboundBatch, people []NewOutbound) ([]int64, error) {
	if len(people) == 0 {
		return nil, nil
	}
	hashes := make([][]byte, len(people))
	encs := make([][]byte, len(people))
	masked := make([]string, len(people))
	lines := make([]int32, len(people))
	convs := make([]*string, len(people))
	for i, p := range people {
		hashes[i], encs[i], masked[i], lines[i] = p.Person.Hash, p.Person.Enc, p.Person.Masked, int32(p.Line)
		convs[i] = nullable(p.ConversationID)
	}
	var notBefore *time.Time
	if !b.NotBefore.IsZero() {
		notBefore = &b.NotBefore
	}
	rows, err := tx.Query(ctx, `INSERT INTO outbound (batch_id, kind, survey_id, survey_version, sender, any_time, not_before,
			phone_hash, phone_enc, phone_masked, line, conversation_id)
		SELECT $1, $2, $3, $4, $5, $6, $7, h, e, m, l, c
		FROM unnest($8::bytea[], $9::bytea[], $10::text[], $11::int[], $12::text[]) AS u (h, e, m, l, c)
		ON CONFLICT DO NOTHING RETURNING id`,
		b.ID, b.Kind, b.SurveyID, b.SurveyVersion, b.Sender, b.AnyTime, notBefore, hashes, encs, masked, lines, convs)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

const outboundColumns = `id, batch_id, kind, survey_id, survey_version, phone_hash, phone_enc, phone_masked, line, sender,
	any_time, coalesce(conversation_id, ''), status, reason, coalesce(message_sid, ''), coalesce(error_code, 0), attempts,
	coalesce(not_before, 'epoch'), coalesce(claimed_at, 'epoch')`

func scanOutbound(row pgx.Row) (Outbound, error) {
	var o Outbound
	err := row.Scan(&o.ID, &o.BatchID, &o.Kind, &o.SurveyID, &o.SurveyVersion, &o.PhoneHash, &o.PhoneEnc, &o.PhoneMasked,
		&o.Line, &o.Sender, &o.AnyTime, &o.ConversationID, &o.Status, &o.Reason, &o.MessageSid, &o.ErrorCode, &o.Attempts,
		&o.NotBefore, &o.ClaimedAt)
	if o.NotBefore.Equal(time.Unix(0, 0)) {
		o.NotBefore = time.Time{}
	}
	if o.ClaimedAt.Equal(time.Unix(0, 0)) {
		o.ClaimedAt = time.Time{}
	}
	return o, err
}

// GetOutbound returns one outbound text.
func (db *DB) GetOutbound(ctx context.Context, id int64) (Outbound, error) {
	o, err := scanOutbound(db.Pool.QueryRow(ctx, `SELECT `+outboundColumns+` FROM outbound WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return o, ErrNotFound
	}
	return o, err
}

// OutboundWaiting notes that a pending text waits for quiet hours to end.
func (db *DB) OutboundWaiting(ctx context.Context, id int64, until time.Time) error {
	_, err := db.Pool.Exec(ctx, `UPDATE outbound SET not_before = $2, updated_at = now() WHERE id = $1 AND status = 'pending'`, id, until)
	return err
}

// ClaimOutbound moves a pending text to sending, the one step that allows a
// call to Twilio. For an invitation, conv is the conversation the text
// starts: it is stored (once, even over retries) in the same transaction.
// It returns false when the row was not pending: another run got there
// first, and nothing must be sent.
func (db *DB) ClaimOutbound(ctx context.Context, id int64, conv *ConversationStarted, at time.Time) (bool, error) {
	var claimed bool
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		var convID *string
		if conv != nil {
			convID = &conv.ID
		}
		tag, err := tx.Exec(ctx, `UPDATE outbound SET status = 'sending', attempts = attempts + 1, claimed_at = now(),
			updated_at = now(), not_before = NULL, conversation_id = coalesce(conversation_id, $2)
			WHERE id = $1 AND status = 'pending'`, id, convID)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		claimed = true
		if conv != nil {
			return applyEvent(ctx, tx, Event{At: at, Conversation: conv})
		}
		return nil
	})
	return claimed, err
}

// OutboundSent records that Twilio took the text: the row and the message
// log, in one transaction.
func (db *DB) OutboundSent(ctx context.Context, id int64, msg MessageLogged, at time.Time) error {
	return pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE outbound SET status = 'sent', message_sid = $2, reason = '', updated_at = now()
			WHERE id = $1`, id, msg.MessageSid); err != nil {
			return err
		}
		return applyEvent(ctx, tx, Event{At: at, Message: &msg})
	})
}

// OutboundRetry puts a text Twilio did not take (busy, or down) back to
// pending for the next try.
func (db *DB) OutboundRetry(ctx context.Context, id int64, reason string, code int) error {
	_, err := db.Pool.Exec(ctx, `UPDATE outbound SET status = 'pending', reason = $2, error_code = nullif($3, 0), updated_at = now()
		WHERE id = $1 AND status = 'sending'`, id, reason, code)
	return err
}

// FinishOutbound ends a text that was not (or may not have been) sent:
// status is opted_out, skipped, failed or unknown. When dropConversation
// is set, the conversation the invitation would have started is removed
// (it has no answers: nobody got the question).
func (db *DB) FinishOutbound(ctx context.Context, id int64, status, reason string, code int, dropConversation bool) error {
	return pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		var conv *string
		err := tx.QueryRow(ctx, `UPDATE outbound SET status = $2, reason = $3, error_code = nullif($4, 0), updated_at = now()
			WHERE id = $1 AND status IN ('pending', 'sending') RETURNING conversation_id`, id, status, reason, code).Scan(&conv)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil || !dropConversation || conv == nil {
			return err
		}
		_, err = tx.Exec(ctx, `DELETE FROM conversations c WHERE c.id = $1 AND c.status = 'active'
			AND NOT EXISTS (SELECT 1 FROM answers a WHERE a.conversation_id = c.id)
			AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id)
			AND NOT EXISTS (SELECT 1 FROM outbound o WHERE o.conversation_id = c.id AND o.id <> $2)`, *conv, id)
		return err
	})
}

// OptedOut reports whether the person with this phone hash texted STOP
// (and not START since).
func (db *DB) OptedOut(ctx context.Context, phoneHash []byte) (bool, error) {
	var out bool
	err := db.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM participants WHERE phone_hash = $1 AND opted_out_at IS NOT NULL)`,
		phoneHash).Scan(&out)
	return out, err
}

// RecordOptOut marks a person as opted out now (Twilio refused a text with
// error 21610: they opted out with Twilio directly).
func (db *DB) RecordOptOut(ctx context.Context, p Person, at time.Time) error {
	return pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		return applyEvent(ctx, tx, Event{At: at, OptOut: &OptOut{Person: p, Out: true}})
	})
}

// EndConversation closes a conversation with a status (completed, partial,
// refused) if it is still active.
func (db *DB) EndConversation(ctx context.Context, id, status string, at time.Time) error {
	return pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		return applyEvent(ctx, tx, Event{At: at, End: &ConversationEnded{ID: id, Status: status}})
	})
}

// BatchProgress counts a batch's texts by status.
type BatchProgress struct {
	Total, Pending, Waiting, Sending, Sent, OptedOut, Skipped, Failed, Unknown int
	// Stale counts texts stuck in sending for longer than the stale age
	// given: their process stopped mid-send.
	Stale int
	// NextAt is when the first text waiting for quiet hours to end is due.
	NextAt time.Time
}

// Done is the number of texts that reached a final state.
func (p BatchProgress) Done() int { return p.Sent + p.OptedOut + p.Skipped + p.Failed + p.Unknown }

// OutboundProgress counts the batch's texts by status. Texts in sending
// since before staleBefore are counted as Stale too.
func (db *DB) OutboundProgress(ctx context.Context, batch string, staleBefore time.Time) (BatchProgress, error) {
	var p BatchProgress
	var next *time.Time
	err := db.Pool.QueryRow(ctx, `SELECT count(*),
			count(*) FILTER (WHERE status = 'pending' AND not_before IS NULL),
			count(*) FILTER (WHERE status = 'pending' AND not_before IS NOT NULL),
			count(*) FILTER (WHERE status = 'sending'),
			count(*) FILTER (WHERE status = 'sent'),
			count(*) FILTER (WHERE status = 'opted_out'),
			count(*) FILTER (WHERE status = 'skipped'),
			count(*) FILTER (WHERE status = 'failed'),
			count(*) FILTER (WHERE status = 'unknown'),
			count(*) FILTER (WHERE status = 'sending' AND claimed_at < $2),
			min(not_before) FILTER (WHERE status = 'pending')
		FROM outbound WHERE batch_id = $1`, batch, staleBefore).Scan(&p.Total, &p.Pending, &p.Waiting, &p.Sending, &p.Sent,
		&p.OptedOut, &p.Skipped, &p.Failed, &p.Unknown, &p.Stale, &next)
	if next != nil {
		p.NextAt = *next
	}
	return p, err
}

// HeldOutbound lists a batch's texts kept pending because Twilio refused
// them with one of codes (reasons of our own setup), by line. NotBefore is
// set when they also wait for quiet hours to end.
func (db *DB) HeldOutbound(ctx context.Context, batch string, codes []int) ([]Outbound, error) {
	rows, err := db.Pool.Query(ctx, `SELECT id, line, phone_masked, reason, coalesce(error_code, 0), not_before
		FROM outbound WHERE batch_id = $1 AND status = 'pending' AND error_code = ANY($2)
		ORDER BY line, id`, batch, codes)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Outbound, error) {
		o := Outbound{BatchID: batch, Status: OutPending}
		var notBefore *time.Time
		err := r.Scan(&o.ID, &o.Line, &o.PhoneMasked, &o.Reason, &o.ErrorCode, &notBefore)
		if notBefore != nil {
			o.NotBefore = *notBefore
		}
		return o, err
	})
}

// OutboundProblems lists a batch's texts that were not sent, by line.
func (db *DB) OutboundProblems(ctx context.Context, batch string) ([]Outbound, error) {
	rows, err := db.Pool.Query(ctx, `SELECT `+outboundColumns+` FROM outbound
		WHERE batch_id = $1 AND status IN ('failed', 'unknown', 'skipped', 'opted_out') ORDER BY line, id`, batch)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Outbound
	for rows.Next() {
		o, err := scanOutbound(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// ReminderCandidate is a text conversation someone started and stopped.
type ReminderCandidate struct {
	ConversationID string
	SurveyID       string
	SurveyVersion  int
	Person         Person
}

// ReminderCandidates finds active text conversations where the member
// texted at least once, last between activeAfter (older ones have lost
// their session) and idleSince, and that were never reminded.
func (db *DB) ReminderCandidates(ctx context.Context, idleSince, activeAfter time.Time, limit int) ([]ReminderCandidate, error) {
	rows, err := db.Pool.Query(ctx, `SELECT c.id, c.survey_id, c.survey_version, p.phone_hash, p.phone_enc, p.phone_masked
		FROM conversations c
		JOIN participants p ON p.id = c.participant_id
		JOIN LATERAL (SELECT max(m.created_at) AS last_in FROM messages m
			WHERE m.conversation_id = c.id AND m.direction = 'in') l ON true
		WHERE c.channel = 'sms' AND c.status = 'active' AND l.last_in > $2
			AND p.opted_out_at IS NULL AND l.last_in IS NOT NULL AND l.last_in < $1
			AND NOT EXISTS (SELECT 1 FROM outbound o WHERE o.kind = 'reminder' AND o.conversation_id = c.id)
		ORDER BY l.last_in LIMIT $3`, idleSince, activeAfter, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ReminderCandidate
	for rows.Next() {
		var r ReminderCandidate
		if err := rows.Scan(&r.ConversationID, &r.SurveyID, &r.SurveyVersion, &r.Person.Hash, &r.Person.Enc, &r.Person.Masked); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// reserveScript hands out send times spaced interval apart (microseconds),
// shared by every process: the value is the next free slot.
var reserveScript = redis.NewScript(`
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local slot = tonumber(redis.call("GET", KEYS[1]) or "0")
if slot < now then slot = now end
redis.call("SET", KEYS[1], tostring(slot + interval), "PX", math.floor((slot + interval - now) / 1000) + 1000)
return slot - now`)

// ReserveSlot reserves the next send time for sender (a number or a
// Messaging Service SID) allowed one message every interval, across all
// servers, and returns how long to wait before sending.
func (r *Redis) ReserveSlot(ctx context.Context, sender string, interval time.Duration) (time.Duration, error) {
	if interval <= 0 {
		return 0, nil
	}
	us, err := reserveScript.Run(ctx, r.Client, []string{r.Key("sms", "rate", sender)}, time.Now().UnixMicro(), interval.Microseconds()).Int64()
	if err != nil {
		return 0, err
	}
	return time.Duration(us) * time.Microsecond, nil
}
