package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/haveyoursay/haveyoursay/survey"
)

// Recordings and transcripts arrive in callbacks after a call, so they are
// written here directly rather than through the Journal: a callback that
// cannot be stored is answered with an error and Twilio sends it again.

// Recording is a member's spoken answer, kept in our own storage.
type Recording struct {
	SID            string // Twilio's RecordingSid
	CallSID        string
	ConversationID string
	QuestionID     string
	AnswerKey      string // answers.dedupe_key of the answer it belongs to
	Language       string // the survey language it was spoken in
	Seconds        int
	ContentType    string
	Audio          []byte
	CreatedAt      time.Time
	// DeletedFromTwilio is set once Twilio's copy has been deleted.
	DeletedFromTwilio bool
}

// SaveRecording stores a recording. Storing the same recording again (a
// callback Twilio sent twice) changes nothing; inserted says whether this
// call stored it.
func (db *DB) SaveRecording(ctx context.Context, r Recording) (inserted bool, err error) {
	tag, err := db.pool.Exec(ctx, `INSERT INTO recordings (sid, call_sid, conversation_id, question_id, answer_key, language, seconds, content_type, audio)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (sid) DO NOTHING`,
		r.SID, r.CallSID, r.ConversationID, r.QuestionID, r.AnswerKey, r.Language, r.Seconds, r.ContentType, r.Audio)
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() == 1, nil
}

// HasRecording reports whether a recording is already stored.
func (db *DB) HasRecording(ctx context.Context, sid string) (stored, deletedFromTwilio bool, err error) {
	var deleted *time.Time
	err = db.pool.QueryRow(ctx, `SELECT deleted_from_twilio_at FROM recordings WHERE sid = $1`, sid).Scan(&deleted)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, false, nil
	}
	return err == nil, deleted != nil, err
}

// MarkRecordingDeletedFromTwilio notes that Twilio no longer has a copy.
func (db *DB) MarkRecordingDeletedFromTwilio(ctx context.Context, sid string) error {
	_, err := db.pool.Exec(ctx, `UPDATE recordings SET deleted_from_twilio_at = now() WHERE sid = $1 AND deleted_from_twilio_at IS NULL`, sid)
	return err
}

const recordingColumns = `sid, call_sid, conversation_id, question_id, answer_key, language, seconds, content_type, audio, created_at, deleted_from_twilio_at IS NOT NULL`

func scanRecording(row pgx.Row) (Recording, error) {
	var r Recording
	err := row.Scan(&r.SID, &r.CallSID, &r.ConversationID, &r.QuestionID, &r.AnswerKey, &r.Language, &r.Seconds, &r.ContentType, &r.Audio, &r.CreatedAt, &r.DeletedFromTwilio)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, ErrNotFound
	}
	return r, err
}

// GetRecording returns one recording with its audio.
func (db *DB) GetRecording(ctx context.Context, sid string) (Recording, error) {
	return scanRecording(db.pool.QueryRow(ctx, `SELECT `+recordingColumns+` FROM recordings WHERE sid = $1`, sid))
}

// ConversationRecordings returns a conversation's recordings, oldest first.
func (db *DB) ConversationRecordings(ctx context.Context, conversationID string) ([]Recording, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+recordingColumns+` FROM recordings WHERE conversation_id = $1 ORDER BY created_at, sid`, conversationID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Recording
	for rows.Next() {
		r, err := scanRecording(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// RecordingsWithoutTranscript returns up to limit recordings that have no
// transcript from source yet, oldest first (to retry transcriptions that
// failed or were cut short by a restart).
func (db *DB) RecordingsWithoutTranscript(ctx context.Context, source string, olderThan time.Duration, limit int) ([]Recording, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+recordingColumns+` FROM recordings r
		WHERE r.created_at < now() - make_interval(secs => $2)
		  AND NOT EXISTS (SELECT 1 FROM transcripts t WHERE t.recording_sid = r.sid AND t.source = $1)
		ORDER BY r.created_at LIMIT $3`, source, olderThan.Seconds(), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Recording
	for rows.Next() {
		r, err := scanRecording(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Transcript is the text of a recording: from Twilio, from a transcription
// service, or a staff member's correction.
type Transcript struct {
	ID           int64
	RecordingSID string
	AnswerKey    string
	Source       string // twilio, service, staff
	Status       string // completed, failed
	Text         string
	ExternalSID  string // Twilio's TranscriptionSid
	CreatedBy    string // the staff member, for corrections
	CreatedAt    time.Time
}

// SaveTranscript stores a machine transcript; one from the same source for
// the same recording is stored once.
func (db *DB) SaveTranscript(ctx context.Context, t Transcript) error {
	if t.Source == "staff" {
		return errors.New("a staff correction is saved with CorrectTranscript")
	}
	_, err := db.pool.Exec(ctx, `INSERT INTO transcripts (recording_sid, answer_key, source, status, text, external_sid)
		VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (recording_sid, source) WHERE source <> 'staff' DO NOTHING`,
		t.RecordingSID, t.AnswerKey, t.Source, t.Status, t.Text, nullable(t.ExternalSID))
	return err
}

// CorrectTranscript stores a staff member's corrected text. Earlier
// transcripts, the machine's original included, are kept.
func (db *DB) CorrectTranscript(ctx context.Context, recordingSID, text, by string) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO transcripts (recording_sid, answer_key, source, status, text, created_by)
		VALUES ($1, coalesce((SELECT answer_key FROM recordings WHERE sid = $1),
		                     (SELECT answer_key FROM transcripts WHERE recording_sid = $1 ORDER BY id LIMIT 1), ''),
		        'staff', 'completed', $2, $3)`, recordingSID, text, by)
	return err
}

// Transcripts returns every transcript of a recording, oldest first: the
// last one is the one to show.
func (db *DB) Transcripts(ctx context.Context, recordingSID string) ([]Transcript, error) {
	rows, err := db.pool.Query(ctx, `SELECT id, recording_sid, answer_key, source, status, text, coalesce(external_sid, ''),
		coalesce(created_by, ''), created_at FROM transcripts WHERE recording_sid = $1 ORDER BY id`, recordingSID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[Transcript])
}

// ReopenConversation makes a partial conversation active again, for a
// member who called back to carry on where they stopped.
func (db *DB) ReopenConversation(ctx context.Context, id string) error {
	_, err := db.pool.Exec(ctx, `UPDATE conversations SET status = 'active', ended_at = NULL WHERE id = $1 AND status = 'partial'`, id)
	return err
}

// ParticipantNeeds returns the communication needs kept for a phone number
// (by its hash); none for a number we do not know.
func (db *DB) ParticipantNeeds(ctx context.Context, phoneHash []byte) (survey.Needs, error) {
	if !db.mayHaveNeeds(phoneHash) {
		return survey.Needs{}, nil
	}
	var raw []byte
	err := db.pool.QueryRow(ctx, `SELECT needs FROM participants WHERE phone_hash = $1`, phoneHash).Scan(&raw)
	if errors.Is(err, pgx.ErrNoRows) {
		return survey.Needs{}, nil
	}
	if err != nil {
		return survey.Needs{}, err
	}
	var n survey.Needs
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &n); err != nil {
			return survey.Needs{}, err
		}
	}
	return n, nil
}
