package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/haveyoursay/haveyoursay/survey"
)

// Member is a participant as staff see them: never the number itself, only its
// masked form (the encrypted number is fetched on purpose, by
// MemberNumber).
type Member struct {
	ID         int64
	Masked     string
	Language   string
	Needs      survey.Needs
	OptedOutAt *time.Time
	CreatedAt  time.Time
}

// Member returns one member; ErrNotFound for an unknown id.
func (db *DB) Member(ctx context.Context, id int64) (Member, error) {
	var p Member
	var needs []byte
	err := db.pool.QueryRow(ctx, `SELECT id, phone_masked, language, needs, opted_out_at, created_at
		FROM participants WHERE id = $1`, id).Scan(&p.ID, &p.Masked, &p.Language, &needs, &p.OptedOutAt, &p.CreatedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, ErrNotFound
	}
	if err != nil {
		return p, err
	}
	if len(needs) > 0 {
		if err := json.Unmarshal(needs, &p.Needs); err != nil {
			return p, err
		}
	}
	return p, nil
}

// MemberNumber returns a member's encrypted number, for an admin who asks
// to see it (Phones.Decrypt opens it).
func (db *DB) MemberNumber(ctx context.Context, id int64) ([]byte, error) {
	var enc []byte
	err := db.pool.QueryRow(ctx, `SELECT phone_enc FROM participants WHERE id = $1`, id).Scan(&enc)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, ErrNotFound
	}
	return enc, err
}

// SetMemberNeeds keeps a member's communication needs; the next text or
// call to or from them uses them.
func (db *DB) SetMemberNeeds(ctx context.Context, id int64, needs survey.Needs) error {
	b, err := json.Marshal(needs)
	if err != nil {
		return err
	}
	var hash []byte
	err = db.pool.QueryRow(ctx, `UPDATE participants SET needs = $2 WHERE id = $1 RETURNING phone_hash`, id, b).Scan(&hash)
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	db.noteNeeds(hash, string(b) != "{}")
	return nil
}

// MemberConversation is one line of a member's conversations.
type MemberConversation struct {
	ID          string
	SurveyID    string
	SurveyTitle string
	Channel     string
	Status      string
	StartedAt   time.Time
	Answers     int
}

// MemberConversations lists a member's conversations, newest first.
func (db *DB) MemberConversations(ctx context.Context, id int64, limit int) ([]MemberConversation, error) {
	rows, err := db.pool.Query(ctx, `
		SELECT c.id, c.survey_id, coalesce(s.title, c.survey_id), c.channel, c.status, c.started_at,
			(SELECT count(*) FROM answers a WHERE a.conversation_id = c.id)::int
		FROM conversations c LEFT JOIN surveys s ON s.id = c.survey_id
		WHERE c.participant_id = $1 ORDER BY c.started_at DESC, c.id DESC LIMIT $2`, id, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[MemberConversation])
}

// Attention is what the dashboard's home page says needs a look.
type Attention struct {
	NewAnswers       int // answers since the time asked about
	CallbacksWaiting int // members who asked for a person and have not been called
	OldestCallback   *time.Time
	Flagged          int // open flags (worries, "this matters")
	NotUnderstood    int // things said on the phone the menu did not understand, since the time asked about
	Surveys          []SurveyAttention
}

// SurveyAttention is one survey's line on the home page.
type SurveyAttention struct {
	ID, Title                   string
	Conversations               int
	Completed, Partial, Refused int
	Active                      int
	NewAnswers                  int
	LastAnswerAt                *time.Time
}

// Attention counts what has come in since a time (a person's last visit)
// and what is waiting whatever the time.
func (db *DB) Attention(ctx context.Context, since time.Time) (Attention, error) {
	var at Attention
	err := db.pool.QueryRow(ctx, `SELECT
			(SELECT count(*) FROM answers WHERE created_at > $1)::int,
			(SELECT count(*) FROM callbacks WHERE done_at IS NULL)::int,
			(SELECT min(created_at) FROM callbacks WHERE done_at IS NULL),
			(SELECT count(*) FROM call_inputs WHERE NOT understood AND speech <> '' AND created_at > $1)::int`,
		since).Scan(&at.NewAnswers, &at.CallbacksWaiting, &at.OldestCallback, &at.NotUnderstood)
	if err != nil {
		return at, err
	}
	// Flags arrive with the review pages' migration; until then there are none.
	var hasFlags bool
	if err := db.pool.QueryRow(ctx, `SELECT to_regclass('flags') IS NOT NULL`).Scan(&hasFlags); err != nil {
		return at, err
	}
	if hasFlags {
		if err := db.pool.QueryRow(ctx, `SELECT count(*)::int FROM flags WHERE cleared_at IS NULL`).Scan(&at.Flagged); err != nil {
			return at, err
		}
	}
	rows, err := db.pool.Query(ctx, `
		SELECT s.id, s.title,
			count(c.id)::int,
			count(c.id) FILTER (WHERE c.status = 'completed')::int,
			count(c.id) FILTER (WHERE c.status = 'partial')::int,
			count(c.id) FILTER (WHERE c.status = 'refused')::int,
			count(c.id) FILTER (WHERE c.status = 'active')::int,
			coalesce((SELECT count(*) FROM answers a JOIN conversations c2 ON c2.id = a.conversation_id
				WHERE c2.survey_id = s.id AND a.created_at > $1), 0)::int,
			(SELECT max(a.created_at) FROM answers a JOIN conversations c3 ON c3.id = a.conversation_id WHERE c3.survey_id = s.id)
		FROM surveys s LEFT JOIN conversations c ON c.survey_id = s.id
		GROUP BY s.id, s.title ORDER BY s.title, s.id`, since)
	if err != nil {
		return at, err
	}
	at.Surveys, err = pgx.CollectRows(rows, pgx.RowToStructByPos[SurveyAttention])
	return at, err
}

// MemberIDByHash finds a member by the keyed hash of their number
// (Phones.Hash); ErrNotFound when we have never heard from them.
func (db *DB) MemberIDByHash(ctx context.Context, phoneHash []byte) (int64, error) {
	var id int64
	err := db.pool.QueryRow(ctx, `SELECT id FROM participants WHERE phone_hash = $1`, phoneHash).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, ErrNotFound
	}
	return id, err
}
