package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// The review side of the dashboard: finding conversations, reading one in
// full, and what staff and member reviewers add to it (themes, notes,
// flags, transcript corrections). Every change and every view of a
// conversation or a recording is written to audit_log, with who and when
// but never what was said.

// ConversationFilter narrows the list of conversations. The zero value
// lists every conversation, newest first.
type ConversationFilter struct {
	SurveyID     string
	QuestionID   string // conversations with an answer to this question
	Channel      string // sms, voice
	Status       string // active, completed, partial, refused
	Theme        string // conversations with an answer with this theme
	From, Until  time.Time
	Flagged      bool // only conversations with an open flag
	HasRecording bool
	Search       string // words, as typed in a search box (Postgres websearch syntax)
	After        PageKey
	Limit        int // default 50, at most 200
}

// PageKey is where a page of conversations starts: after the conversation
// that started at At with this ID, in newest-first order. The zero value
// is the first page.
type PageKey struct {
	At time.Time
	ID string
}

// IsZero reports whether the key is the first page's.
func (k PageKey) IsZero() bool { return k.ID == "" }

// ConversationRow is one line of the conversations list.
type ConversationRow struct {
	ID            string
	ParticipantID int64
	SurveyID      string
	SurveyTitle   string
	Channel       string
	Status        string
	StartedAt     time.Time
	PhoneMasked   string
	Excerpt       string // the member's first words (a matching one when searching)
	Themes        []string
	Flagged       bool
	HasRecording  bool
}

// wordsVia are the ways an answer holds a member's own words.
var wordsVia = []string{"text", "speech", "recording"}

// searchConfig is the text-search configuration of answers.words.
const searchConfig = "english"

// ListConversations returns one page of conversations matching f, newest
// first, and the key of the next page (zero when this is the last).
func (db *DB) ListConversations(ctx context.Context, f ConversationFilter) ([]ConversationRow, PageKey, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 200)
	var where []string
	args := []any{wordsVia}
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	query := "NULL::tsquery"
	if s := strings.TrimSpace(f.Search); s != "" {
		query = "websearch_to_tsquery('" + searchConfig + "', " + arg(s) + ")"
		// Postgres cannot tell how many answers a word is in, so it may
		// walk every conversation looking for a rare one. Rare words are
		// looked up first instead, and common ones (that have matches on
		// every page) filter the newest-first walk.
		var words int
		if err := db.pool.QueryRow(ctx, `SELECT numnode(websearch_to_tsquery('`+searchConfig+`', $1))`, s).Scan(&words); err != nil {
			return nil, PageKey{}, err
		}
		if words == 0 {
			return nil, PageKey{}, ErrSearchTooCommon
		}
		found, err := db.searchAnswers(ctx, s, searchFirst+1)
		if err != nil {
			return nil, PageKey{}, err
		}
		if len(found) <= searchFirst {
			where = append(where, "c.id = ANY("+arg(found)+"::text[])")
		} else {
			where = append(where, "c.id IN (SELECT a.conversation_id FROM answers a WHERE a.words @@ "+query+")")
		}
	}
	if f.SurveyID != "" {
		where = append(where, "c.survey_id = "+arg(f.SurveyID))
	}
	if f.QuestionID != "" {
		where = append(where, "EXISTS (SELECT 1 FROM answers a WHERE a.conversation_id = c.id AND a.question_id = "+arg(f.QuestionID)+" AND NOT a.no_answer AND NOT a.skipped)")
	}
	if f.Channel != "" {
		where = append(where, "c.channel = "+arg(f.Channel))
	}
	if f.Status != "" {
		where = append(where, "c.status = "+arg(f.Status))
	}
	if f.Theme != "" {
		where = append(where, "EXISTS (SELECT 1 FROM answers a WHERE a.conversation_id = c.id AND a.themes @> ARRAY["+arg(f.Theme)+"]::text[])")
	}
	if !f.From.IsZero() {
		where = append(where, "c.started_at >= "+arg(f.From))
	}
	if !f.Until.IsZero() {
		where = append(where, "c.started_at < "+arg(f.Until))
	}
	if f.Flagged {
		where = append(where, "EXISTS (SELECT 1 FROM flags fl WHERE fl.conversation_id = c.id AND fl.cleared_at IS NULL)")
	}
	if f.HasRecording {
		where = append(where, "EXISTS (SELECT 1 FROM recordings r WHERE r.conversation_id = c.id)")
	}
	if !f.After.IsZero() {
		where = append(where, "(c.started_at, c.id) < ("+arg(f.After.At)+", "+arg(f.After.ID)+")")
	}
	sql := `SELECT c.id, c.participant_id, c.survey_id, coalesce(s.title, c.survey_id), c.channel, c.status, c.started_at, p.phone_masked,
		coalesce((SELECT left(CASE WHEN a.via = 'recording' THEN a.transcript ELSE a.raw END, 160) FROM answers a
			WHERE a.conversation_id = c.id AND a.via = ANY($1) AND CASE WHEN a.via = 'recording' THEN a.transcript ELSE a.raw END <> ''
			ORDER BY coalesce(a.words @@ ` + query + `, false) DESC, a.id LIMIT 1), ''),
		coalesce((SELECT array_agg(DISTINCT t ORDER BY t) FROM answers a, unnest(a.themes) t WHERE a.conversation_id = c.id), '{}'),
		EXISTS (SELECT 1 FROM flags fl WHERE fl.conversation_id = c.id AND fl.cleared_at IS NULL),
		EXISTS (SELECT 1 FROM recordings r WHERE r.conversation_id = c.id)
		FROM conversations c
		JOIN participants p ON p.id = c.participant_id
		LEFT JOIN surveys s ON s.id = c.survey_id`
	if len(where) > 0 {
		sql += " WHERE " + strings.Join(where, " AND ")
	}
	sql += " ORDER BY c.started_at DESC, c.id DESC LIMIT " + arg(limit+1)
	rows, err := db.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, PageKey{}, err
	}
	out, err := pgx.CollectRows(rows, pgx.RowToStructByPos[ConversationRow])
	if err != nil {
		return nil, PageKey{}, err
	}
	var next PageKey
	if len(out) > limit {
		out = out[:limit]
		last := out[limit-1]
		next = PageKey{At: last.StartedAt, ID: last.ID}
	}
	return out, next, nil
}

// ErrSearchTooCommon means a search had only words too common to look
// for ("the", "and").
var ErrSearchTooCommon = errors.New("those words are too common to search for")

// searchFirst is how many matching answers a search looks up before
// deciding the words are common.
const searchFirst = 5000

// searchAnswers returns the conversations of up to limit answers with
// these words.
func (db *DB) searchAnswers(ctx context.Context, words string, limit int) ([]string, error) {
	rows, err := db.pool.Query(ctx, `SELECT conversation_id FROM answers
		WHERE words @@ websearch_to_tsquery('`+searchConfig+`', $1) LIMIT $2`, words, limit)
	if err != nil {
		return nil, err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(ids) == limit {
		return ids, err
	}
	slices.Sort(ids)
	return slices.Compact(ids), nil
}

// SurveyChoice is a survey to filter by.
type SurveyChoice struct {
	ID      string
	Title   string
	Version int // the current version
}

// SurveyChoices lists every survey by title (cheap: no counting).
func (db *DB) SurveyChoices(ctx context.Context) ([]SurveyChoice, error) {
	rows, err := db.pool.Query(ctx, `SELECT id, title, current_version FROM surveys ORDER BY title, id`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[SurveyChoice])
}

// Conversation is one conversation in full, for a person to review.
type Conversation struct {
	ID            string
	ParticipantID int64
	PhoneMasked   string
	SurveyID      string
	SurveyTitle   string
	SurveyVersion int
	Channel       string
	Status        string
	Consent       string
	Language      string
	StartedAt     time.Time
	EndedAt       *time.Time
	Answers       []Answer   // in the order they were given
	Messages      []Message  // every text in and out
	Inputs        []KeyInput // everything pressed or said on a call
	Recordings    []RecordingInfo
	Notes         []Note
	Flags         []Flag
	Others        []ConversationRow // the member's other conversations, newest first
}

// Answer is one answer: what the member typed or said (Raw, and the
// transcript of a recording) beside what we understood (Value).
type Answer struct {
	ID           int64
	QuestionID   string
	Value        string
	Raw          string
	Via          string
	NoAnswer     bool
	Skipped      bool
	Themes       []string
	Transcript   string // current transcript, for a recording
	RecordingSID string // the recording of a spoken answer
	CreatedAt    time.Time
}

// Words is the member's own words in the answer, if it has any.
func (a Answer) Words() string {
	if a.Via == "recording" {
		return a.Transcript
	}
	return a.Raw
}

// Message is a text in a conversation.
type Message struct {
	Direction string // in, out
	Body      string
	Media     []string
	CreatedAt time.Time
}

// KeyInput is one thing a caller pressed or said.
type KeyInput struct {
	Stage      string
	QuestionID string
	Digits     string
	Speech     string
	Understood bool
	CreatedAt  time.Time
}

// RecordingInfo is a recording without its audio, with every transcript of
// it, oldest first: the original machine one and any staff corrections.
type RecordingInfo struct {
	SID         string
	QuestionID  string
	AnswerKey   string
	Seconds     int
	ContentType string
	CreatedAt   time.Time
	Transcripts []Transcript
}

// Current is the transcript to show: the latest staff correction, else the
// transcription service's, else Twilio's. ok is false when there is none.
func (r RecordingInfo) Current() (t Transcript, ok bool) {
	rank := func(s string) int {
		switch s {
		case "staff":
			return 3
		case "service":
			return 2
		}
		return 1
	}
	for _, c := range r.Transcripts {
		if c.Status != "completed" || c.Text == "" {
			continue
		}
		if !ok || rank(c.Source) > rank(t.Source) || (rank(c.Source) == rank(t.Source) && c.ID > t.ID) {
			t, ok = c, true
		}
	}
	return t, ok
}

// Original is the first machine transcript, kept whatever staff change.
func (r RecordingInfo) Original() (t Transcript, ok bool) {
	for _, c := range r.Transcripts {
		if c.Source != "staff" && c.Status == "completed" {
			return c, true
		}
	}
	return Transcript{}, false
}

// Corrections are the staff corrections, oldest first.
func (r RecordingInfo) Corrections() []Transcript {
	var out []Transcript
	for _, c := range r.Transcripts {
		if c.Source == "staff" {
			out = append(out, c)
		}
	}
	return out
}

// Note is something a person wrote about a conversation.
type Note struct {
	ID        int64
	AnswerID  *int64
	Body      string
	Author    string
	CreatedAt time.Time
}

// Flag kinds.
const (
	FlagWorry   = "worry"   // staff are worried about the member
	FlagMatters = "matters" // a member reviewer said "this matters"
)

// Flag marks a conversation (or one answer in it) for attention.
type Flag struct {
	ID        int64
	AnswerID  *int64
	Kind      string
	Reason    string
	RaisedBy  string
	RaisedAt  time.Time
	ClearedBy string
	ClearedAt *time.Time
}

// Open reports whether the flag has not been cleared.
func (f Flag) Open() bool { return f.ClearedAt == nil }

// GetConversation returns one conversation with everything in it, or
// ErrNotFound.
func (db *DB) GetConversation(ctx context.Context, id string) (Conversation, error) {
	var c Conversation
	err := db.pool.QueryRow(ctx, `SELECT c.id, c.participant_id, p.phone_masked, c.survey_id, coalesce(s.title, c.survey_id), c.survey_version,
		c.channel, c.status, coalesce(c.consent, ''), c.language, c.started_at, c.ended_at
		FROM conversations c JOIN participants p ON p.id = c.participant_id LEFT JOIN surveys s ON s.id = c.survey_id
		WHERE c.id = $1`, id).Scan(&c.ID, &c.ParticipantID, &c.PhoneMasked, &c.SurveyID, &c.SurveyTitle, &c.SurveyVersion,
		&c.Channel, &c.Status, &c.Consent, &c.Language, &c.StartedAt, &c.EndedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return c, ErrNotFound
	}
	if err != nil {
		return c, err
	}
	batch := &pgx.Batch{}
	batch.Queue(`SELECT a.id, a.question_id, a.value, a.raw, a.via, a.no_answer, a.skipped, a.themes, a.transcript,
		coalesce((SELECT r.sid FROM recordings r WHERE r.answer_key = a.dedupe_key ORDER BY r.created_at LIMIT 1), ''), a.created_at
		FROM answers a WHERE a.conversation_id = $1 ORDER BY a.created_at, a.id`, id).Query(func(rows pgx.Rows) error {
		var err error
		c.Answers, err = pgx.CollectRows(rows, pgx.RowToStructByPos[Answer])
		return err
	})
	batch.Queue(`SELECT direction, body, media, created_at FROM messages WHERE conversation_id = $1 ORDER BY created_at, id`, id).
		Query(func(rows pgx.Rows) error {
			var err error
			c.Messages, err = pgx.CollectRows(rows, pgx.RowToStructByPos[Message])
			return err
		})
	batch.Queue(`SELECT stage, question_id, digits, speech, understood, created_at FROM call_inputs
		WHERE conversation_id = $1 ORDER BY created_at, dedupe_key`, id).Query(func(rows pgx.Rows) error {
		var err error
		c.Inputs, err = pgx.CollectRows(rows, pgx.RowToStructByPos[KeyInput])
		return err
	})
	batch.Queue(`SELECT sid, question_id, answer_key, seconds, content_type, created_at FROM recordings
		WHERE conversation_id = $1 ORDER BY created_at, sid`, id).Query(func(rows pgx.Rows) error {
		var err error
		c.Recordings, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (RecordingInfo, error) {
			var ri RecordingInfo
			err := r.Scan(&ri.SID, &ri.QuestionID, &ri.AnswerKey, &ri.Seconds, &ri.ContentType, &ri.CreatedAt)
			return ri, err
		})
		return err
	})
	var transcripts []Transcript
	batch.Queue(`SELECT t.id, t.recording_sid, t.answer_key, t.source, t.status, t.text, coalesce(t.external_sid, ''),
		coalesce(t.created_by, ''), t.created_at FROM transcripts t
		WHERE t.recording_sid IN (SELECT sid FROM recordings WHERE conversation_id = $1) ORDER BY t.id`, id).Query(func(rows pgx.Rows) error {
		var err error
		transcripts, err = pgx.CollectRows(rows, pgx.RowToStructByPos[Transcript])
		return err
	})
	batch.Queue(`SELECT id, answer_id, body, author, created_at FROM notes WHERE conversation_id = $1 ORDER BY id`, id).
		Query(func(rows pgx.Rows) error {
			var err error
			c.Notes, err = pgx.CollectRows(rows, pgx.RowToStructByPos[Note])
			return err
		})
	batch.Queue(`SELECT id, answer_id, kind, reason, raised_by, raised_at, coalesce(cleared_by, ''), cleared_at
		FROM flags WHERE conversation_id = $1 ORDER BY id`, id).Query(func(rows pgx.Rows) error {
		var err error
		c.Flags, err = pgx.CollectRows(rows, pgx.RowToStructByPos[Flag])
		return err
	})
	batch.Queue(`SELECT c.id, c.participant_id, c.survey_id, coalesce(s.title, c.survey_id), c.channel, c.status, c.started_at, '',
		'', '{}'::text[], EXISTS (SELECT 1 FROM flags fl WHERE fl.conversation_id = c.id AND fl.cleared_at IS NULL),
		EXISTS (SELECT 1 FROM recordings r WHERE r.conversation_id = c.id)
		FROM conversations c LEFT JOIN surveys s ON s.id = c.survey_id
		WHERE c.participant_id = $1 AND c.id <> $2 ORDER BY c.started_at DESC, c.id DESC LIMIT 50`, c.ParticipantID, id).
		Query(func(rows pgx.Rows) error {
			var err error
			c.Others, err = pgx.CollectRows(rows, pgx.RowToStructByPos[ConversationRow])
			return err
		})
	if err := db.pool.SendBatch(ctx, batch).Close(); err != nil {
		return c, err
	}
	for i := range c.Recordings {
		for _, t := range transcripts {
			if t.RecordingSID == c.Recordings[i].SID {
				c.Recordings[i].Transcripts = append(c.Recordings[i].Transcripts, t)
			}
		}
	}
	return c, nil
}

// ConversationRecording returns a recording with its audio, if it belongs
// to the conversation; otherwise ErrNotFound.
func (db *DB) ConversationRecording(ctx context.Context, conversationID, sid string) (Recording, error) {
	return scanRecording(db.pool.QueryRow(ctx, `SELECT `+recordingColumns+` FROM recordings WHERE sid = $1 AND conversation_id = $2`,
		sid, conversationID))
}

// Audit actions written by the review pages.
const (
	AuditViewConversation = "view-conversation"
	AuditPlayRecording    = "play-recording"
	AuditCorrect          = "correct-transcript"
	AuditThemeAdd         = "add-theme"
	AuditThemeRemove      = "remove-theme"
	AuditNote             = "add-note"
	AuditFlag             = "raise-flag"
	AuditFlagClear        = "clear-flag"
	AuditCallbackDone     = "callback-done"
)

// writeAudit adds a line to audit_log, in the same
// transaction as the change. detail must never hold what a member said,
// nor a phone number.
func writeAudit(ctx context.Context, tx pgx.Tx, actor, action, subject string, detail map[string]any) error {
	if detail == nil {
		detail = map[string]any{}
	}
	b, err := json.Marshal(detail)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO audit_log (actor, action, subject, detail) VALUES ($1, $2, $3, $4)`, actor, action, subject, b)
	return err
}

// ConversationSubject is how audit_log names a conversation.
func ConversationSubject(id string) string { return "conversation:" + id }

// answerIn checks that an answer belongs to a conversation.
func answerIn(ctx context.Context, tx pgx.Tx, conversationID string, answerID int64) error {
	var ok bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM answers WHERE id = $1 AND conversation_id = $2)`,
		answerID, conversationID).Scan(&ok); err != nil {
		return err
	}
	if !ok {
		return ErrNotFound
	}
	return nil
}

func conversationExists(ctx context.Context, tx pgx.Tx, id string) error {
	var ok bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM conversations WHERE id = $1)`, id).Scan(&ok); err != nil {
		return err
	}
	if !ok {
		return ErrNotFound
	}
	return nil
}

// AddTheme tags an answer with a theme (a survey theme or a free tag).
// Adding one it already has changes nothing.
func (db *DB) AddTheme(ctx context.Context, actor, conversationID string, answerID int64, theme string) error {
	return pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if err := answerIn(ctx, tx, conversationID, answerID); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE answers SET themes = array_append(themes, $2) WHERE id = $1 AND NOT themes @> ARRAY[$2]::text[]`,
			answerID, theme)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		return writeAudit(ctx, tx, actor, AuditThemeAdd, ConversationSubject(conversationID), map[string]any{"answer": answerID, "theme": theme})
	})
}

// RemoveTheme takes a theme off an answer.
func (db *DB) RemoveTheme(ctx context.Context, actor, conversationID string, answerID int64, theme string) error {
	return pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if err := answerIn(ctx, tx, conversationID, answerID); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE answers SET themes = array_remove(themes, $2) WHERE id = $1 AND themes @> ARRAY[$2]::text[]`,
			answerID, theme)
		if err != nil || tag.RowsAffected() == 0 {
			return err
		}
		return writeAudit(ctx, tx, actor, AuditThemeRemove, ConversationSubject(conversationID), map[string]any{"answer": answerID, "theme": theme})
	})
}

// AddNote keeps a note about a conversation, or about one answer in it
// (answerID 0: the whole conversation).
func (db *DB) AddNote(ctx context.Context, actor, conversationID string, answerID int64, body string) error {
	return pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if err := conversationExists(ctx, tx, conversationID); err != nil {
			return err
		}
		var aid *int64
		if answerID != 0 {
			if err := answerIn(ctx, tx, conversationID, answerID); err != nil {
				return err
			}
			aid = &answerID
		}
		var id int64
		if err := tx.QueryRow(ctx, `INSERT INTO notes (conversation_id, answer_id, body, author) VALUES ($1, $2, $3, $4) RETURNING id`,
			conversationID, aid, body, actor).Scan(&id); err != nil {
			return err
		}
		return writeAudit(ctx, tx, actor, AuditNote, ConversationSubject(conversationID), map[string]any{"note": id})
	})
}

// RaiseFlag flags a conversation (or one answer in it) as a worry or as
// mattering. It returns the flag's id.
func (db *DB) RaiseFlag(ctx context.Context, actor, conversationID string, answerID int64, kind, reason string) (int64, error) {
	if kind != FlagWorry && kind != FlagMatters {
		return 0, fmt.Errorf("a flag is a %q or a %q, not %q", FlagWorry, FlagMatters, kind)
	}
	var id int64
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if err := conversationExists(ctx, tx, conversationID); err != nil {
			return err
		}
		var aid *int64
		if answerID != 0 {
			if err := answerIn(ctx, tx, conversationID, answerID); err != nil {
				return err
			}
			aid = &answerID
		}
		if err := tx.QueryRow(ctx, `INSERT INTO flags (conversation_id, answer_id, kind, reason, raised_by) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
			conversationID, aid, kind, reason, actor).Scan(&id); err != nil {
			return err
		}
		if kind == FlagWorry {
			// A worry flagged by hand joins the safeguarding queue, and
			// alerts the lead, like one the phrase list finds.
			if err := db.handWorry(ctx, tx, actor, conversationID, id, aid, reason); err != nil {
				return err
			}
		}
		return writeAudit(ctx, tx, actor, AuditFlag, ConversationSubject(conversationID), map[string]any{"flag": id, "kind": kind})
	})
	return id, err
}

// ClearFlag marks an open flag of a conversation as dealt with.
func (db *DB) ClearFlag(ctx context.Context, actor, conversationID string, flagID int64) error {
	return pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE flags SET cleared_by = $3, cleared_at = now()
			WHERE id = $1 AND conversation_id = $2 AND cleared_at IS NULL`, flagID, conversationID, actor)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return ErrNotFound
		}
		return writeAudit(ctx, tx, actor, AuditFlagClear, ConversationSubject(conversationID), map[string]any{"flag": flagID})
	})
}

// CorrectRecordingTranscript keeps a person's correction of a recording's
// transcript, if the recording belongs to the conversation. The machine's
// original and earlier corrections are kept.
func (db *DB) CorrectRecordingTranscript(ctx context.Context, actor, conversationID, sid, text string) error {
	return pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		var key string
		err := tx.QueryRow(ctx, `SELECT answer_key FROM recordings WHERE sid = $1 AND conversation_id = $2`, sid, conversationID).Scan(&key)
		if errors.Is(err, pgx.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO transcripts (recording_sid, answer_key, source, status, text, created_by)
			VALUES ($1, $2, 'staff', 'completed', $3, $4)`, sid, key, text, actor); err != nil {
			return err
		}
		return writeAudit(ctx, tx, actor, AuditCorrect, ConversationSubject(conversationID), map[string]any{"recording": sid})
	})
}
