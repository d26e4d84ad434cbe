package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/jackc/pgx/v5"
)

// Statuses of a prompt version.
const (
	PromptDraft    = "draft"    // heard back on the phone, not kept yet
	PromptRecorded = "recorded" // kept, waiting for a staff "use this"
	PromptActive   = "active"   // played to callers
	PromptRetired  = "retired"  // played once; still served to calls already playing it
)

// AudioPrompt is one version of a recorded prompt (its audio is fetched
// with AudioFile).
type AudioPrompt struct {
	Name        string // unguessable file name, served at /audio/{name}; new for every version
	SurveyID    string // "" for prompts of the whole service
	Language    string
	Key         string // the engine's prompt key or built-in phrase id, e.g. "question:happy"
	ContentType string
	DurationMS  int
	CreatedAt   time.Time
	Version     int    // 1, 2, ... per survey, language and key
	Status      string // PromptDraft, PromptRecorded, PromptActive or PromptRetired
	Words       string // the sentence voiced, as it read when recorded ("" when unknown)
	Source      string // "upload" or "phone"
	RecordedBy  string // a name or an e-mail address, never a phone number
	SessionID   int64  // the recording session it was made in (0: none)
	PeakDB      float64
	RMSDB       float64
	Clipped     float64 // share of samples at full scale
	ApprovedBy  string
	ApprovedAt  *time.Time
}

const promptColumns = `name, survey_id, language, prompt_key, content_type, duration_ms, created_at, version, status, words, source,
	recorded_by, coalesce(session_id, 0), peak_db, rms_db, clipped, approved_by, approved_at`

func scanPrompt(row pgx.Row) (AudioPrompt, error) {
	var p AudioPrompt
	var peak, rms, clipped float32
	err := row.Scan(&p.Name, &p.SurveyID, &p.Language, &p.Key, &p.ContentType, &p.DurationMS, &p.CreatedAt, &p.Version, &p.Status,
		&p.Words, &p.Source, &p.RecordedBy, &p.SessionID, &peak, &rms, &clipped, &p.ApprovedBy, &p.ApprovedAt)
	p.PeakDB, p.RMSDB, p.Clipped = float64(peak), float64(rms), float64(clipped)
	return p, err
}

func collectPrompts(rows pgx.Rows, err error) ([]AudioPrompt, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []AudioPrompt
	for rows.Next() {
		p, err := scanPrompt(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// SaveAudioPrompt stores a new version of a prompt, numbered after the
// last. Saved as PromptActive it replaces the one played (which is
// retired, and stays reachable by name). p.Version and p.CreatedAt are
// set on return.
func (db *DB) SaveAudioPrompt(ctx context.Context, p *AudioPrompt, data []byte) error {
	if p.Status == "" {
		p.Status = PromptActive
	}
	if p.Source == "" {
		p.Source = "upload"
	}
	return pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		// One writer per phrase at a time, so versions are numbered in order.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext($1 || '|' || $2 || '|' || $3))`, p.SurveyID, p.Language, p.Key); err != nil {
			return err
		}
		if p.Status == PromptActive {
			if err := retireActive(ctx, tx, p.SurveyID, p.Language, p.Key); err != nil {
				return err
			}
		}
		var session *int64
		if p.SessionID != 0 {
			session = &p.SessionID
		}
		var approvedAt *time.Time
		if p.Status == PromptActive && p.ApprovedBy != "" {
			now := time.Now()
			approvedAt = &now
		}
		return tx.QueryRow(ctx, `INSERT INTO audio_prompts (name, survey_id, language, prompt_key, content_type, duration_ms, data,
				version, status, words, source, recorded_by, session_id, peak_db, rms_db, clipped, approved_by, approved_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7,
				(SELECT coalesce(max(version), 0) + 1 FROM audio_prompts WHERE survey_id = $2 AND language = $3 AND prompt_key = $4),
				$8, $9, $10, $11, $12, $13, $14, $15, $16, $17)
			RETURNING version, created_at`,
			p.Name, p.SurveyID, p.Language, p.Key, p.ContentType, p.DurationMS, data,
			p.Status, p.Words, p.Source, p.RecordedBy, session, p.PeakDB, p.RMSDB, p.Clipped, p.ApprovedBy, approvedAt).Scan(&p.Version, &p.CreatedAt)
	})
}

func retireActive(ctx context.Context, tx pgx.Tx, surveyID, language, key string) error {
	_, err := tx.Exec(ctx, `UPDATE audio_prompts SET status = 'retired', replaced_at = now()
		WHERE survey_id = $1 AND language = $2 AND prompt_key = $3 AND status = 'active'`, surveyID, language, key)
	return err
}

// ErrNotApprovable is returned for a version that cannot be played: a
// draft nobody kept.
var ErrNotApprovable = errors.New("this recording was never kept, so it cannot be used")

// ActivateAudioPrompt makes a kept (or earlier) version the one played
// for its phrase: staff's "use this". The version played before is
// retired.
func (db *DB) ActivateAudioPrompt(ctx context.Context, name, by string) (AudioPrompt, error) {
	var p AudioPrompt
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		var err error
		p, err = scanPrompt(tx.QueryRow(ctx, `SELECT `+promptColumns+` FROM audio_prompts WHERE name = $1 FOR UPDATE`, name))
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		switch p.Status {
		case PromptActive:
			return nil
		case PromptDraft:
			return ErrNotApprovable
		}
		if err := retireActive(ctx, tx, p.SurveyID, p.Language, p.Key); err != nil {
			return err
		}
		p, err = scanPrompt(tx.QueryRow(ctx, `UPDATE audio_prompts SET status = 'active', replaced_at = NULL, approved_by = $2, approved_at = now()
			WHERE name = $1 RETURNING `+promptColumns, name, by))
		return err
	})
	return p, err
}

// RemoveAudioPrompt stops a prompt being played (spoken text is used
// again). Its file stays reachable by name for calls already playing it.
func (db *DB) RemoveAudioPrompt(ctx context.Context, surveyID, language, key string) error {
	return pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error { return retireActive(ctx, tx, surveyID, language, key) })
}

// KeepAudioDraft keeps a recording heard back on the phone: it waits for
// staff to use it.
func (db *DB) KeepAudioDraft(ctx context.Context, name string) error {
	tag, err := db.pool.Exec(ctx, `UPDATE audio_prompts SET status = 'recorded' WHERE name = $1 AND status IN ('draft', 'recorded')`, name)
	if err == nil && tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return err
}

// DeleteAudioDrafts deletes a draft (name) or, with name "", every draft
// older than a day (recordings heard back and never kept).
func (db *DB) DeleteAudioDrafts(ctx context.Context, name string) error {
	_, err := db.pool.Exec(ctx, `DELETE FROM audio_prompts WHERE status = 'draft'
		AND (name = $1 OR ($1 = '' AND created_at < now() - interval '1 day'))`, name)
	return err
}

// AudioPrompts lists the prompts played now.
func (db *DB) AudioPrompts(ctx context.Context) ([]AudioPrompt, error) {
	return collectPrompts(db.pool.Query(ctx, `SELECT `+promptColumns+`
		FROM audio_prompts WHERE status = 'active' ORDER BY survey_id, language, prompt_key`))
}

// PromptVersions lists every kept version of a survey's prompts (drafts
// aside), in language ("" for all), newest version first for each phrase.
func (db *DB) PromptVersions(ctx context.Context, surveyID, language string) ([]AudioPrompt, error) {
	return collectPrompts(db.pool.Query(ctx, `SELECT `+promptColumns+`
		FROM audio_prompts WHERE survey_id = $1 AND ($2 = '' OR language = $2) AND status <> 'draft'
		ORDER BY language, prompt_key, version DESC`, surveyID, language))
}

// AudioPrompt returns one version by file name, whatever its status.
func (db *DB) AudioPrompt(ctx context.Context, name string) (AudioPrompt, error) {
	p, err := scanPrompt(db.pool.QueryRow(ctx, `SELECT `+promptColumns+` FROM audio_prompts WHERE name = $1`, name))
	if errors.Is(err, pgx.ErrNoRows) {
		return p, ErrNotFound
	}
	return p, err
}

// AudioFile returns a prompt file by name, in any status.
func (db *DB) AudioFile(ctx context.Context, name string) (AudioPrompt, []byte, error) {
	var p AudioPrompt
	var data []byte
	err := db.pool.QueryRow(ctx, `SELECT name, survey_id, language, prompt_key, content_type, duration_ms, created_at, status, data
		FROM audio_prompts WHERE name = $1`, name).Scan(&p.Name, &p.SurveyID, &p.Language, &p.Key, &p.ContentType, &p.DurationMS, &p.CreatedAt, &p.Status, &data)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, nil, ErrNotFound
	}
	return p, data, err
}

// ---- recording sessions ----

// RecordingSession lets whoever has its PIN record a survey's phrases by
// phone until it expires.
type RecordingSession struct {
	ID        int64
	SurveyID  string
	Language  string
	Voice     string // who records, shown as "recorded by"
	CreatedBy string
	CreatedAt time.Time
	ExpiresAt time.Time
	Done      []string // phrase keys kept or skipped, in order
}

// ErrPINTaken is returned when no free PIN could be found.
var ErrPINTaken = errors.New("could not find a free PIN; please try again")

func pinHash(salt []byte, pin string) []byte {
	h := sha256.New()
	h.Write(salt)
	h.Write([]byte(pin))
	return h.Sum(nil)
}

// CreateRecordingSession starts a session valid for ttl and returns it
// with its 6-digit PIN, which is stored only as a salted hash. No two open
// sessions share a PIN.
func (db *DB) CreateRecordingSession(ctx context.Context, s RecordingSession, ttl time.Duration) (RecordingSession, string, error) {
	var pin string
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `LOCK TABLE recording_sessions IN SHARE ROW EXCLUSIVE MODE`); err != nil {
			return err
		}
		open, err := openSessions(ctx, tx)
		if err != nil {
			return err
		}
		for range 20 {
			n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
			if err != nil {
				return err
			}
			candidate := fmt.Sprintf("%06d", n.Int64())
			if _, taken := matchPIN(open, candidate); !taken {
				pin = candidate
				break
			}
		}
		if pin == "" {
			return ErrPINTaken
		}
		salt := make([]byte, 16)
		rand.Read(salt)
		return tx.QueryRow(ctx, `INSERT INTO recording_sessions (survey_id, language, pin_salt, pin_hash, voice, created_by, expires_at)
			VALUES ($1, $2, $3, $4, $5, $6, now() + $7::interval) RETURNING id, created_at, expires_at`,
			s.SurveyID, s.Language, salt, pinHash(salt, pin), s.Voice, s.CreatedBy, fmt.Sprintf("%d seconds", int(ttl.Seconds()))).
			Scan(&s.ID, &s.CreatedAt, &s.ExpiresAt)
	})
	return s, pin, err
}

type sessionPIN struct {
	id         int64
	salt, hash []byte
}

func openSessions(ctx context.Context, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}) ([]sessionPIN, error) {
	rows, err := q.Query(ctx, `SELECT id, pin_salt, pin_hash FROM recording_sessions WHERE expires_at > now()`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (sessionPIN, error) {
		var s sessionPIN
		return s, r.Scan(&s.id, &s.salt, &s.hash)
	})
}

func matchPIN(open []sessionPIN, pin string) (int64, bool) {
	for _, s := range open {
		if subtle.ConstantTimeCompare(pinHash(s.salt, pin), s.hash) == 1 {
			return s.id, true
		}
	}
	return 0, false
}

const sessionColumns = `id, survey_id, language, voice, created_by, created_at, expires_at, done`

func scanSession(row pgx.Row) (RecordingSession, error) {
	var s RecordingSession
	err := row.Scan(&s.ID, &s.SurveyID, &s.Language, &s.Voice, &s.CreatedBy, &s.CreatedAt, &s.ExpiresAt, &s.Done)
	if errors.Is(err, pgx.ErrNoRows) {
		return s, ErrNotFound
	}
	return s, err
}

// RecordingSessionByPIN finds the open session a PIN belongs to
// (ErrNotFound when none, or it has expired).
func (db *DB) RecordingSessionByPIN(ctx context.Context, pin string) (RecordingSession, error) {
	open, err := openSessions(ctx, db.pool)
	if err != nil {
		return RecordingSession{}, err
	}
	id, ok := matchPIN(open, pin)
	if !ok {
		return RecordingSession{}, ErrNotFound
	}
	return db.RecordingSession(ctx, id)
}

// RecordingSession returns a session by id, open or not.
func (db *DB) RecordingSession(ctx context.Context, id int64) (RecordingSession, error) {
	return scanSession(db.pool.QueryRow(ctx, `SELECT `+sessionColumns+` FROM recording_sessions WHERE id = $1`, id))
}

// RecordingSessions lists a survey's sessions still open, newest first.
func (db *DB) RecordingSessions(ctx context.Context, surveyID string) ([]RecordingSession, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+sessionColumns+` FROM recording_sessions
		WHERE survey_id = $1 AND expires_at > now() ORDER BY id DESC`, surveyID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (RecordingSession, error) { return scanSession(r) })
}

// MarkRecordingDone notes a phrase as kept or skipped in a session (once).
func (db *DB) MarkRecordingDone(ctx context.Context, id int64, key string) error {
	_, err := db.pool.Exec(ctx, `UPDATE recording_sessions SET done = array_append(done, $2)
		WHERE id = $1 AND NOT ($2 = ANY(done))`, id, key)
	return err
}
