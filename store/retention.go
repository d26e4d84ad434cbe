package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Retention: what members said is kept for as long as the charity needs
// it and no longer. Each survey keeps answers (with their messages, call
// inputs, transcripts, notes and flags) and recordings for its own time,
// or the service's defaults. A conversation with a worry flagged on it is
// kept for the worry's time instead, when that is longer. The audit log is
// never deleted (it holds no personal data). A number that texted STOP
// keeps its opt-out (rule 4).

// RetentionDefaults are the service-wide times (HYS_RETAIN_*).
type RetentionDefaults struct {
	Answers    time.Duration // default 2 years
	Recordings time.Duration // default 6 months
	Worries    time.Duration // a conversation with a worry: default 7 years
}

// SurveyRetention is one survey's own times; zero means the default.
type SurveyRetention struct {
	SurveyID   string
	Title      string
	Answers    time.Duration
	Recordings time.Duration
}

// RetentionCounts is what one run of retention deleted.
type RetentionCounts struct {
	Conversations int64
	Answers       int64
	Messages      int64
	CallInputs    int64
	Recordings    int64 // our copies of recordings
	Transcripts   int64
	Callbacks     int64
	Notes         int64
	Flags         int64
	Outbound      int64
	People        int64
	Other         int64
	// TwilioQueued counts Twilio copies of recordings queued for deletion.
	TwilioQueued int64
}

const day = 24 * time.Hour

// SurveyRetentions lists every survey with its own times (zero: default).
func (db *DB) SurveyRetentions(ctx context.Context) ([]SurveyRetention, error) {
	rows, err := db.pool.Query(ctx, `SELECT s.id, s.title, coalesce(r.answers_days, 0), coalesce(r.recordings_days, 0)
		FROM surveys s LEFT JOIN survey_retention r ON r.survey_id = s.id ORDER BY s.id`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (SurveyRetention, error) {
		var s SurveyRetention
		var a, rec int
		err := r.Scan(&s.SurveyID, &s.Title, &a, &rec)
		s.Answers, s.Recordings = time.Duration(a)*day, time.Duration(rec)*day
		return s, err
	})
}

// SetSurveyRetention sets a survey's own times, in whole days (zero: back
// to the default), and audits it.
func (db *DB) SetSurveyRetention(ctx context.Context, actor, surveyID string, answers, recordings time.Duration) error {
	days := func(d time.Duration) *int {
		if d <= 0 {
			return nil
		}
		n := int((d + day - 1) / day)
		return &n
	}
	return pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM surveys WHERE id = $1)`, surveyID).Scan(&exists); err != nil {
			return err
		}
		if !exists {
			return ErrNotFound
		}
		a, r := days(answers), days(recordings)
		if _, err := tx.Exec(ctx, `INSERT INTO survey_retention (survey_id, answers_days, recordings_days, updated_by)
			VALUES ($1, $2, $3, $4) ON CONFLICT (survey_id) DO UPDATE SET answers_days = $2, recordings_days = $3,
			updated_by = $4, updated_at = now()`, surveyID, a, r, actor); err != nil {
			return err
		}
		detail := map[string]any{"answers_days": a, "recordings_days": r}
		return writeAudit(ctx, tx, actor, "set-retention", "survey:"+surveyID, detail)
	})
}

// ApplyRetention deletes everything older than its survey keeps it, as of
// now, one survey at a time (each in its own transaction), and returns the
// counts. Twilio's copies of deleted recordings are queued in
// twilio_deletions.
func (db *DB) ApplyRetention(ctx context.Context, now time.Time, def RetentionDefaults) (RetentionCounts, error) {
	var total RetentionCounts
	if def.Answers <= 0 || def.Recordings <= 0 || def.Worries <= 0 {
		return total, errors.New("retention needs a time for answers, recordings and worries")
	}
	surveys, err := db.SurveyRetentions(ctx)
	if err != nil {
		return total, err
	}
	for _, s := range surveys {
		a, r := s.Answers, s.Recordings
		if a <= 0 {
			a = def.Answers
		}
		if r <= 0 {
			r = def.Recordings
		}
		err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
			return retainSurvey(ctx, tx, s.SurveyID, now.Add(-a), now.Add(-r), now.Add(-def.Worries), &total)
		})
		if err != nil {
			return total, fmt.Errorf("retention of survey %s: %w", s.SurveyID, err)
		}
	}
	err = pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		return retainLoose(ctx, tx, now.Add(-def.Answers), &total)
	})
	return total, err
}

// worriedSQL is true for a conversation c with a worry: a worry flag, or
// (once safeguarding keeps its own table) a row in worries.
func worriedSQL(ctx context.Context, tx pgx.Tx) (string, error) {
	cond := `EXISTS (SELECT 1 FROM flags f WHERE f.conversation_id = c.id AND f.kind = 'worry')`
	var has bool
	err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = 'worries' AND column_name = 'conversation_id')`).Scan(&has)
	if err != nil {
		return "", err
	}
	if has {
		cond += ` OR EXISTS (SELECT 1 FROM worries w WHERE w.conversation_id = c.id)`
	}
	return "(" + cond + ")", nil
}

func retainSurvey(ctx context.Context, tx pgx.Tx, surveyID string, answersBefore, recordingsBefore, worriesBefore time.Time, n *RetentionCounts) error {
	worried, err := worriedSQL(ctx, tx)
	if err != nil {
		return err
	}
	// A conversation is due when it started before the survey's time, and,
	// with a worry, before the worries' time too.
	rows, err := tx.Query(ctx, `SELECT c.id FROM conversations c
		WHERE c.survey_id = $1 AND c.started_at < $2 AND (NOT `+worried+` OR c.started_at < $3)`,
		surveyID, answersBefore, worriesBefore)
	if err != nil {
		return err
	}
	convs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	// Recordings go sooner than answers: ours, and Twilio's copy.
	rows, err = tx.Query(ctx, `SELECT r.sid, r.deleted_from_twilio_at IS NULL FROM recordings r
		JOIN conversations c ON c.id = r.conversation_id
		WHERE c.survey_id = $1 AND (r.created_at < $2 AND (NOT `+worried+` OR r.created_at < $3) OR c.id = ANY($4))`,
		surveyID, recordingsBefore, worriesBefore, convs)
	if err != nil {
		return err
	}
	var sids, atTwilio []string
	for rows.Next() {
		var sid string
		var there bool
		if err := rows.Scan(&sid, &there); err != nil {
			rows.Close()
			return err
		}
		sids = append(sids, sid)
		if there {
			atTwilio = append(atTwilio, sid)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	if len(atTwilio) > 0 {
		tag, err := tx.Exec(ctx, `INSERT INTO twilio_deletions (recording_sid, reason) SELECT unnest($1::text[]), 'retention'
			ON CONFLICT (recording_sid) DO NOTHING`, atTwilio)
		if err != nil {
			return err
		}
		n.TwilioQueued += tag.RowsAffected()
	}
	if len(convs) > 0 {
		// Transcripts go with their answers (before the recordings that
		// find some of them).
		tag, err := tx.Exec(ctx, `DELETE FROM transcripts WHERE (answer_key <> '' AND answer_key IN
			(SELECT dedupe_key FROM answers WHERE conversation_id = ANY($1)))
			OR recording_sid IN (SELECT sid FROM recordings WHERE conversation_id = ANY($1))`, convs)
		if err != nil {
			return err
		}
		n.Transcripts += tag.RowsAffected()
	}
	if len(sids) > 0 {
		tag, err := tx.Exec(ctx, `DELETE FROM recordings WHERE sid = ANY($1)`, sids)
		if err != nil {
			return err
		}
		n.Recordings += tag.RowsAffected()
	}
	if len(convs) == 0 {
		return nil
	}
	del := func(c *int64, sql string, args ...any) error {
		tag, err := tx.Exec(ctx, sql, args...)
		if err != nil {
			return err
		}
		*c += tag.RowsAffected()
		return nil
	}
	steps := []struct {
		c   *int64
		sql string
	}{
		{&n.Notes, `DELETE FROM notes WHERE conversation_id = ANY($1)`},
		{&n.Flags, `DELETE FROM flags WHERE conversation_id = ANY($1)`},
		{&n.Answers, `DELETE FROM answers WHERE conversation_id = ANY($1)`},
		{&n.CallInputs, `DELETE FROM call_inputs WHERE conversation_id = ANY($1)`},
		{&n.Messages, `DELETE FROM messages WHERE conversation_id = ANY($1)`},
		{&n.Callbacks, `DELETE FROM callbacks WHERE conversation_id = ANY($1)`},
		{&n.Outbound, `DELETE FROM outbound WHERE conversation_id = ANY($1) AND status NOT IN ('pending', 'sending')`},
	}
	for _, s := range steps {
		if err := del(s.c, s.sql, convs); err != nil {
			return err
		}
	}
	other, err := deleteFromLaterTables(ctx, tx, convs)
	if err != nil {
		return err
	}
	n.Other += other
	return del(&n.Conversations, `DELETE FROM conversations WHERE id = ANY($1)
		AND NOT EXISTS (SELECT 1 FROM outbound o WHERE o.conversation_id = conversations.id)`, convs)
}

// retainLoose deletes what belongs to no survey once it is older than the
// default time for answers: texts outside a conversation (HELP, STOP,
// "hello?"), call-backs asked for outside one, finished invitations, and
// people with nothing left and no opt-out to keep.
func retainLoose(ctx context.Context, tx pgx.Tx, before time.Time, n *RetentionCounts) error {
	steps := []struct {
		c   *int64
		sql string
	}{
		{&n.Messages, `DELETE FROM messages WHERE conversation_id IS NULL AND created_at < $1`},
		{&n.Callbacks, `DELETE FROM callbacks WHERE conversation_id IS NULL AND created_at < $1 AND done_at IS NOT NULL`},
		{&n.Outbound, `DELETE FROM outbound WHERE created_at < $1 AND status NOT IN ('pending', 'sending')
			AND (conversation_id IS NULL OR NOT EXISTS (SELECT 1 FROM conversations c WHERE c.id = outbound.conversation_id))`},
		{&n.People, `DELETE FROM participants p WHERE p.created_at < $1 AND p.opted_out_at IS NULL
			AND NOT EXISTS (SELECT 1 FROM conversations c WHERE c.participant_id = p.id)
			AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.participant_id = p.id)
			AND NOT EXISTS (SELECT 1 FROM callbacks b WHERE b.participant_id = p.id)
			AND NOT EXISTS (SELECT 1 FROM outbound o WHERE o.phone_hash = p.phone_hash)`},
	}
	for _, s := range steps {
		tag, err := tx.Exec(ctx, s.sql, before)
		if err != nil {
			return err
		}
		*s.c += tag.RowsAffected()
	}
	return nil
}
