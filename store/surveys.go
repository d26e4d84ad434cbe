package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
)

// ErrNotFound means the thing asked for does not exist.
var ErrNotFound = errors.New("not found")

// SurveyVersion is one stored version of a survey file.
type SurveyVersion struct {
	SurveyID  string
	Version   int
	Title     string
	Source    string
	FileName  string
	CreatedAt time.Time
}

// SurveySummary is one line of `survey list`.
type SurveySummary struct {
	ID            string
	Title         string
	Version       int
	UpdatedAt     time.Time
	Conversations int
	Answers       int
}

// SaveSurvey stores a survey file. A file that differs from the current
// version becomes a new version; the same file again changes nothing.
func (db *DB) SaveSurvey(ctx context.Context, id, title, source, fileName string) (version int, changed bool, err error) {
	sum := sha256.Sum256([]byte(source))
	checksum := hex.EncodeToString(sum[:])
	err = pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		// Serialise imports of the same survey.
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtext('survey:' || $1))", id); err != nil {
			return err
		}
		var current int
		var currentSum string
		err := tx.QueryRow(ctx, `SELECT s.current_version, v.checksum FROM surveys s
			JOIN survey_versions v ON v.survey_id = s.id AND v.version = s.current_version WHERE s.id = $1`, id).Scan(&current, &currentSum)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if err == nil && currentSum == checksum {
			version = current
			return nil
		}
		version, changed = current+1, true
		if current == 0 {
			_, err = tx.Exec(ctx, `INSERT INTO surveys (id, title, current_version) VALUES ($1, $2, 0)`, id, title)
			if err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `INSERT INTO survey_versions (survey_id, version, source, checksum, file_name) VALUES ($1, $2, $3, $4, $5)`,
			id, version, source, checksum, fileName); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE surveys SET current_version = $2, title = $3, updated_at = now() WHERE id = $1`, id, version, title)
		return err
	})
	return version, changed, err
}

// CurrentSurveys returns the current version of every survey.
func (db *DB) CurrentSurveys(ctx context.Context) ([]SurveyVersion, error) {
	rows, err := db.Pool.Query(ctx, `SELECT v.survey_id, v.version, s.title, v.source, v.file_name, v.created_at
		FROM surveys s JOIN survey_versions v ON v.survey_id = s.id AND v.version = s.current_version ORDER BY s.id`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[SurveyVersion])
}

// Survey returns one version of a survey.
func (db *DB) Survey(ctx context.Context, id string, version int) (SurveyVersion, error) {
	rows, err := db.Pool.Query(ctx, `SELECT v.survey_id, v.version, s.title, v.source, v.file_name, v.created_at
		FROM survey_versions v JOIN surveys s ON s.id = v.survey_id WHERE v.survey_id = $1 AND v.version = $2`, id, version)
	if err != nil {
		return SurveyVersion{}, err
	}
	v, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByPos[SurveyVersion])
	if errors.Is(err, pgx.ErrNoRows) {
		return v, ErrNotFound
	}
	return v, err
}

// ListSurveys summarises every survey with its answer counts.
func (db *DB) ListSurveys(ctx context.Context) ([]SurveySummary, error) {
	rows, err := db.Pool.Query(ctx, `SELECT s.id, s.title, s.current_version, s.updated_at,
			(SELECT count(*) FROM conversations c WHERE c.survey_id = s.id)::int,
			(SELECT count(*) FROM answers a JOIN conversations c ON c.id = a.conversation_id WHERE c.survey_id = s.id)::int
		FROM surveys s ORDER BY s.id`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[SurveySummary])
}
