package store

import (
	"context"
	"time"
)

// HasConversations reports whether any conversation is stored: `dev`
// loads its demo conversations only into an empty database.
func (db *DB) HasConversations(ctx context.Context) (bool, error) {
	var has bool
	err := db.Pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM conversations)`).Scan(&has)
	return has, err
}

// Shift moves one participant's rows stamped between From and To back by
// By. The demo conversations run in a few seconds; shifting them spreads
// them over weeks, as a real charity's month would look.
type Shift struct {
	PhoneHash []byte
	From, To  time.Time
	By        time.Duration
}

// backdateRows are the statements of Backdate: $1 phone hash, $2..$3 the
// window, $4 microseconds to move back. Rows without a participant of
// their own are found through the participant's conversations.
var backdateRows = []string{
	`UPDATE conversations SET started_at = started_at - $4 * interval '1 microsecond', ended_at = ended_at - $4 * interval '1 microsecond'
		WHERE participant_id = (SELECT id FROM participants WHERE phone_hash = $1) AND started_at BETWEEN $2 AND $3`,
	`UPDATE answers SET created_at = created_at - $4 * interval '1 microsecond'
		WHERE conversation_id IN (SELECT c.id FROM conversations c JOIN participants p ON p.id = c.participant_id WHERE p.phone_hash = $1)
		AND created_at BETWEEN $2 AND $3`,
	`UPDATE call_inputs SET created_at = created_at - $4 * interval '1 microsecond'
		WHERE conversation_id IN (SELECT c.id FROM conversations c JOIN participants p ON p.id = c.participant_id WHERE p.phone_hash = $1)
		AND created_at BETWEEN $2 AND $3`,
	`UPDATE transcripts SET created_at = created_at - $4 * interval '1 microsecond'
		WHERE recording_sid IN (SELECT r.sid FROM recordings r JOIN conversations c ON c.id = r.conversation_id
			JOIN participants p ON p.id = c.participant_id WHERE p.phone_hash = $1)
		AND created_at BETWEEN $2 AND $3`,
	`UPDATE recordings SET created_at = created_at - $4 * interval '1 microsecond'
		WHERE conversation_id IN (SELECT c.id FROM conversations c JOIN participants p ON p.id = c.participant_id WHERE p.phone_hash = $1)
		AND created_at BETWEEN $2 AND $3`,
	`UPDATE messages SET created_at = created_at - $4 * interval '1 microsecond', updated_at = updated_at - $4 * interval '1 microsecond'
		WHERE participant_id = (SELECT id FROM participants WHERE phone_hash = $1) AND created_at BETWEEN $2 AND $3`,
	`UPDATE callbacks SET created_at = created_at - $4 * interval '1 microsecond'
		WHERE participant_id = (SELECT id FROM participants WHERE phone_hash = $1) AND created_at BETWEEN $2 AND $3`,
	`UPDATE participants SET opted_out_at = opted_out_at - $4 * interval '1 microsecond'
		WHERE phone_hash = $1 AND opted_out_at BETWEEN $2 AND $3`,
}

// Backdate applies the shifts in one transaction. It is for demo data
// only: real conversations keep the times they happened.
func (db *DB) Backdate(ctx context.Context, shifts []Shift) error {
	tx, err := db.Pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	for _, sh := range shifts {
		args := []any{sh.PhoneHash, sh.From, sh.To, sh.By.Microseconds()}
		for _, q := range backdateRows {
			if _, err := tx.Exec(ctx, q, args...); err != nil {
				return err
			}
		}
		// A member cannot have joined after their first conversation.
		if _, err := tx.Exec(ctx, `UPDATE participants p SET created_at = least(p.created_at,
			(SELECT min(started_at) FROM conversations WHERE participant_id = p.id)) WHERE phone_hash = $1`, sh.PhoneHash); err != nil {
			return err
		}
	}
	return tx.Commit(ctx)
}

// Settle waits until everything journalled so far is in Postgres: Flush
// alone returns early while another writer holds the spool.
func (j *Journal) Settle(ctx context.Context) error {
	for {
		if err := j.Flush(ctx); err != nil {
			return err
		}
		n, err := j.Pending(ctx)
		if err != nil || n == 0 {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}
