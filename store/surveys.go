package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/haveyoursay/haveyoursay/survey"
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
//
// The survey's keywords and numbers are claimed in the same transaction,
// and the database refuses what another survey holds: a keyword starts one
// survey only, and at most nine surveys share a number (a caller picks one
// with keys 1 to 9). Then nothing is saved and the error is a *ClaimError.
// A file that does not load claims nothing: it can start nothing.
func (db *DB) SaveSurvey(ctx context.Context, id, title, source, fileName string) (version int, changed bool, err error) {
	saved, err := db.SaveSurveys(ctx, []SurveyFile{{ID: id, Title: title, Source: source, FileName: fileName}})
	if err != nil {
		return 0, false, err
	}
	return saved[0].Version, saved[0].Changed, nil
}

// SurveyFile is a survey file to save.
type SurveyFile struct {
	ID, Title, Source, FileName string
}

// SavedSurvey is what SaveSurveys did with one file.
type SavedSurvey struct {
	Version int
	Changed bool // false: the file was the current version already
}

// SaveSurveys saves several survey files as SaveSurvey does, all or none.
func (db *DB) SaveSurveys(ctx context.Context, files []SurveyFile) ([]SavedSurvey, error) {
	saved := make([]SavedSurvey, len(files))
	err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
		for i, f := range files {
			v, changed, err := saveSurvey(ctx, tx, f)
			if err != nil {
				return err
			}
			saved[i] = SavedSurvey{Version: v, Changed: changed}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return saved, nil
}

func saveSurvey(ctx context.Context, tx pgx.Tx, f SurveyFile) (version int, changed bool, err error) {
	id := f.ID
	sum := sha256.Sum256([]byte(f.Source))
	checksum := hex.EncodeToString(sum[:])
	// Serialise imports of the same survey.
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtext('survey:' || $1))", id); err != nil {
		return 0, false, err
	}
	var current int
	var currentSum string
	err = tx.QueryRow(ctx, `SELECT s.current_version, v.checksum FROM surveys s
		JOIN survey_versions v ON v.survey_id = s.id AND v.version = s.current_version WHERE s.id = $1`, id).Scan(&current, &currentSum)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return 0, false, err
	}
	if err == nil && currentSum == checksum {
		// Unchanged, but claimed again: a survey that lost a keyword when
		// older data was brought up to date hears why.
		return current, false, claim(ctx, tx, id, f.FileName, f.Source, true)
	}
	version = current + 1
	if current == 0 {
		if _, err = tx.Exec(ctx, `INSERT INTO surveys (id, title, current_version) VALUES ($1, $2, 0)`, id, f.Title); err != nil {
			return 0, false, err
		}
	}
	if _, err := tx.Exec(ctx, `INSERT INTO survey_versions (survey_id, version, source, checksum, file_name) VALUES ($1, $2, $3, $4, $5)`,
		id, version, f.Source, checksum, f.FileName); err != nil {
		return 0, false, err
	}
	if _, err = tx.Exec(ctx, `UPDATE surveys SET current_version = $2, title = $3, updated_at = now() WHERE id = $1`, id, version, f.Title); err != nil {
		return 0, false, err
	}
	return version, true, claim(ctx, tx, id, f.FileName, f.Source, true)
}

// ClaimError says what another survey already holds, in a sentence staff
// can act on.
type ClaimError struct {
	SurveyID string // the survey being saved
	Keyword  string // the keyword another survey starts with, or
	Number   string // the number nine other surveys already share
	Other    string // the survey that has the keyword
}

func (e *ClaimError) Error() string {
	if e.Keyword != "" {
		return fmt.Sprintf("the keyword %q already starts survey %q. A keyword can start only one survey: choose another.", e.Keyword, e.Other)
	}
	return fmt.Sprintf("the number %s is already shared by 9 surveys, as many as a keypad menu can offer (keys 1 to 9): take it out of one of them first, or use another number.", e.Number)
}

// claim makes the keywords and numbers of survey id's current version
// (source) the ones the database holds for it. strict: refuse with a
// *ClaimError what another survey holds; otherwise leave it to the other
// (bringing older data up to date, where the first survey by id keeps a
// keyword, as the catalog has always done).
func claim(ctx context.Context, tx pgx.Tx, id, fileName, source string, strict bool) error {
	keywords, numbers := []string{}, []string{} // not nil: nil is NULL, and "<> ALL(NULL)" keeps every row
	if s, err := survey.Parse(fileName, []byte(source)); err == nil {
		for _, k := range s.Keywords {
			if k = strings.ToUpper(strings.TrimSpace(k)); k != "" && !slices.Contains(keywords, k) {
				keywords = append(keywords, k)
			}
		}
		for _, n := range s.Numbers {
			if !slices.Contains(numbers, n) {
				numbers = append(numbers, n)
			}
		}
	}
	if _, err := tx.Exec(ctx, `DELETE FROM survey_keywords WHERE survey_id = $1 AND keyword <> ALL($2::text[])`, id, keywords); err != nil {
		return err
	}
	for _, k := range keywords {
		tag, err := tx.Exec(ctx, `INSERT INTO survey_keywords (keyword, survey_id) VALUES ($1, $2) ON CONFLICT (keyword) DO NOTHING`, k, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 1 {
			continue
		}
		var other string
		if err := tx.QueryRow(ctx, `SELECT survey_id FROM survey_keywords WHERE keyword = $1`, k).Scan(&other); err != nil {
			return err
		}
		if other != id && strict {
			return &ClaimError{SurveyID: id, Keyword: k, Other: other}
		}
	}
	// A survey keeps its key on a number's menu while it keeps the number.
	if _, err := tx.Exec(ctx, `DELETE FROM survey_numbers WHERE survey_id = $1 AND number <> ALL($2::text[])`, id, numbers); err != nil {
		return err
	}
	for _, n := range numbers {
		// Two imports must not pick the same free key at once.
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtext('number:' || $1))", n); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `INSERT INTO survey_numbers (number, survey_id, menu_key)
			SELECT $1, $2, min(k) FROM generate_series(1, 9) k
			WHERE k NOT IN (SELECT menu_key FROM survey_numbers WHERE number = $1)
			HAVING min(k) IS NOT NULL
			ON CONFLICT (number, survey_id) DO NOTHING`, n, id)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 1 {
			continue
		}
		var held bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM survey_numbers WHERE number = $1 AND survey_id = $2)`, n, id).Scan(&held); err != nil {
			return err
		}
		if !held && strict {
			return &ClaimError{SurveyID: id, Number: n}
		}
	}
	return nil
}

// claimStored fills survey_keywords and survey_numbers from the surveys
// already stored, for a database made before they existed. Where older
// data has two surveys with one keyword, the first by id keeps it.
func (db *DB) claimStored(ctx context.Context) error {
	current, err := db.CurrentSurveys(ctx)
	if err != nil {
		return err
	}
	for _, r := range current {
		err := pgx.BeginFunc(ctx, db.Pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtext('survey:' || $1))", r.SurveyID); err != nil {
				return err
			}
			return claim(ctx, tx, r.SurveyID, r.FileName, r.Source, false)
		})
		if err != nil {
			return fmt.Errorf("recording the keywords and numbers of survey %q: %w", r.SurveyID, err)
		}
	}
	return nil
}

// KeywordOwner returns the survey a keyword starts, as the database holds it.
func (db *DB) KeywordOwner(ctx context.Context, keyword string) (string, error) {
	var id string
	err := db.Pool.QueryRow(ctx, `SELECT survey_id FROM survey_keywords WHERE keyword = $1`, strings.ToUpper(strings.TrimSpace(keyword))).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", ErrNotFound
	}
	return id, err
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
