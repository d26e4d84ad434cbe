package store

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
)

// AudioPrompt describes one recorded prompt (its audio is fetched with
// AudioFile).
type AudioPrompt struct {
	Name        string // unguessable file name, served at /audio/{name}
	SurveyID    string // "" for prompts of the whole service
	Language    string
	Key         string // the engine's prompt key, e.g. "question:happy"
	ContentType string
	DurationMS  int
	CreatedAt   time.Time
}

// SaveAudioPrompt stores a prompt, replacing the current one for the same
// survey, language and key (the old file stays reachable by its name).
func (db *DB) SaveAudioPrompt(ctx context.Context, p AudioPrompt, data []byte) error {
	return pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE audio_prompts SET replaced_at = now()
			WHERE survey_id = $1 AND language = $2 AND prompt_key = $3 AND replaced_at IS NULL`, p.SurveyID, p.Language, p.Key); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO audio_prompts (name, survey_id, language, prompt_key, content_type, duration_ms, data)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, p.Name, p.SurveyID, p.Language, p.Key, p.ContentType, p.DurationMS, data)
		return err
	})
}

// RemoveAudioPrompt stops a prompt being played (spoken text is used
// again). Its file stays reachable by name for calls already playing it.
func (db *DB) RemoveAudioPrompt(ctx context.Context, surveyID, language, key string) error {
	_, err := db.pool.Exec(ctx, `UPDATE audio_prompts SET replaced_at = now()
		WHERE survey_id = $1 AND language = $2 AND prompt_key = $3 AND replaced_at IS NULL`, surveyID, language, key)
	return err
}

// AudioPrompts lists the current prompts.
func (db *DB) AudioPrompts(ctx context.Context) ([]AudioPrompt, error) {
	rows, err := db.pool.Query(ctx, `SELECT name, survey_id, language, prompt_key, content_type, duration_ms, created_at
		FROM audio_prompts WHERE replaced_at IS NULL ORDER BY survey_id, language, prompt_key`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[AudioPrompt])
}

// AudioFile returns a prompt file by name, current or replaced.
func (db *DB) AudioFile(ctx context.Context, name string) (AudioPrompt, []byte, error) {
	var p AudioPrompt
	var data []byte
	err := db.pool.QueryRow(ctx, `SELECT name, survey_id, language, prompt_key, content_type, duration_ms, created_at, data
		FROM audio_prompts WHERE name = $1`, name).Scan(&p.Name, &p.SurveyID, &p.Language, &p.Key, &p.ContentType, &p.DurationMS, &p.CreatedAt, &data)
	if errors.Is(err, pgx.ErrNoRows) {
		return p, nil, ErrNotFound
	}
	return p, data, err
}
