package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Callback is a member's request to talk to a person.
type Callback struct {
	ID             int64
	ParticipantID  int64
	PhoneMasked    string
	ConversationID string // empty when asked before a survey began
	SurveyID       string
	Channel        string
	Reason         string
	CreatedAt      time.Time
	DoneAt         *time.Time
	DoneBy         string
	Outcome        string
	Note           string
}

const callbackColumns = `cb.id, cb.participant_id, p.phone_masked, coalesce(cb.conversation_id, ''), coalesce(c.survey_id, ''),
	cb.channel, cb.reason, cb.created_at, cb.done_at, coalesce(cb.done_by, ''), cb.outcome, cb.note
	FROM callbacks cb JOIN participants p ON p.id = cb.participant_id LEFT JOIN conversations c ON c.id = cb.conversation_id`

// WaitingCallbacks returns the call-backs nobody has made yet, oldest
// first: the person who has waited longest comes first.
func (db *DB) WaitingCallbacks(ctx context.Context) ([]Callback, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+callbackColumns+` WHERE cb.done_at IS NULL ORDER BY cb.created_at, cb.id LIMIT 500`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[Callback])
}

// RecentCallbacks returns the call-backs made most recently, newest first.
func (db *DB) RecentCallbacks(ctx context.Context, limit int) ([]Callback, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+callbackColumns+` WHERE cb.done_at IS NOT NULL ORDER BY cb.done_at DESC, cb.id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[Callback])
}

// ErrAlreadyDone means someone else marked the call-back done first.
var ErrAlreadyDone = errors.New("this call-back was already marked done")

// CompleteCallback records that actor called the member back, what came of
// it and a note. A call-back is completed once: ErrAlreadyDone after that,
// ErrNotFound for an unknown id.
func (db *DB) CompleteCallback(ctx context.Context, actor string, id int64, outcome, note string) error {
	return pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		var done *time.Time
		err := tx.QueryRow(ctx, `SELECT done_at FROM callbacks WHERE id = $1 FOR UPDATE`, id).Scan(&done)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if done != nil {
			return ErrAlreadyDone
		}
		if _, err := tx.Exec(ctx, `UPDATE callbacks SET done_at = now(), done_by = $2, outcome = $3, note = $4 WHERE id = $1`,
			id, actor, outcome, note); err != nil {
			return err
		}
		return writeAudit(ctx, tx, actor, AuditCallbackDone, fmt.Sprintf("callback:%d", id), map[string]any{"outcome": outcome})
	})
}

// ClaimCallbacksToText marks the call-backs staff have not yet been
// texted about as texted, and returns how many there were, and how many
// are waiting in all. It claims nothing (0) when staff were texted less
// than every ago, so that a busy day brings a few texts, not one per
// call-back. Two servers calling it at once claim each call-back once.
func (db *DB) ClaimCallbacksToText(ctx context.Context, now time.Time, every time.Duration) (ids []int64, waiting int, err error) {
	err = pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		// One claimer at a time: the "last texted" check and the claim
		// must see the same state.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('hys callbacks staff text'))`); err != nil {
			return err
		}
		var last *time.Time
		if err := tx.QueryRow(ctx, `SELECT max(staff_texted_at) FROM callbacks`).Scan(&last); err != nil {
			return err
		}
		if last != nil && now.Sub(*last) < every {
			return nil
		}
		rows, err := tx.Query(ctx, `UPDATE callbacks SET staff_texted_at = $1
			WHERE staff_texted_at IS NULL AND done_at IS NULL RETURNING id`, now)
		if err != nil {
			return err
		}
		if ids, err = pgx.CollectRows(rows, pgx.RowTo[int64]); err != nil {
			return err
		}
		if len(ids) == 0 {
			return nil
		}
		return tx.QueryRow(ctx, `SELECT count(*) FROM callbacks WHERE done_at IS NULL`).Scan(&waiting)
	})
	return ids, waiting, err
}

// UnclaimCallbacks undoes ClaimCallbacksToText when the text to staff
// could not be sent, so the next try includes them.
func (db *DB) UnclaimCallbacks(ctx context.Context, ids []int64) error {
	_, err := db.pool.Exec(ctx, `UPDATE callbacks SET staff_texted_at = NULL WHERE id = ANY($1)`, ids)
	return err
}
