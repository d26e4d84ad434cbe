package store

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Data out: the rows the exports (CSV, JSON, Flow Results) and the API
// read. Every read walks a keyset (never OFFSET) in batches, holding one
// batch in memory at a time, so an export of a million answers uses as
// much memory as one of a hundred.

// ExportSurvey is what an export needs to know about a survey.
type ExportSurvey struct {
	ID        string
	Title     string
	Version   int    // the current version
	Source    string // its YAML, for the questions' words
	FileName  string
	PackageID string    // the Flow Results package id: a random version-4 UUID, made once
	CreatedAt time.Time // the survey was first imported
	UpdatedAt time.Time // its current version was imported
}

const exportSurveyColumns = `s.id, s.title, s.current_version, v.source, v.file_name, s.package_id::text, s.created_at, v.created_at`

// ExportSurveyByID returns a survey with its current version, or
// ErrNotFound.
func (db *DB) ExportSurveyByID(ctx context.Context, id string) (ExportSurvey, error) {
	return db.exportSurvey(ctx, `s.id = $1`, id)
}

// ExportSurveyByPackage returns the survey whose Flow Results package id is
// id, or ErrNotFound (also for a string that is not a UUID).
func (db *DB) ExportSurveyByPackage(ctx context.Context, id string) (ExportSurvey, error) {
	if !isUUID(id) {
		return ExportSurvey{}, ErrNotFound
	}
	return db.exportSurvey(ctx, `s.package_id = $1::uuid`, id)
}

func (db *DB) exportSurvey(ctx context.Context, where, arg string) (ExportSurvey, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+exportSurveyColumns+` FROM surveys s
		JOIN survey_versions v ON v.survey_id = s.id AND v.version = s.current_version WHERE `+where, arg)
	if err != nil {
		return ExportSurvey{}, err
	}
	s, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByPos[ExportSurvey])
	if errors.Is(err, pgx.ErrNoRows) {
		return s, ErrNotFound
	}
	return s, err
}

// ExportSurveys returns every survey with its current version, by id.
func (db *DB) ExportSurveys(ctx context.Context) ([]ExportSurvey, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+exportSurveyColumns+` FROM surveys s
		JOIN survey_versions v ON v.survey_id = s.id AND v.version = s.current_version ORDER BY s.id`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[ExportSurvey])
}

func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
				return false
			}
		}
	}
	return true
}

// ExportConversation is one conversation with every answer, for an export.
type ExportConversation struct {
	ID            string
	ParticipantID int64  // turned into a pseudonym by the export; never shown as it is
	PhoneEnc      []byte // the sealed number, only when numbers were asked for
	SurveyID      string
	SurveyVersion int
	Channel       string
	Status        string
	Consent       string
	Language      string
	StartedAt     time.Time
	EndedAt       *time.Time
	Answers       []ExportAnswer // in the order they were given
	key           exportKey
}

// ExportAnswer is one answer with what the member typed or said, and any
// recording and transcripts of it.
type ExportAnswer struct {
	ID                 int64
	QuestionID         string
	Value              string // what we understood
	Raw                string // what was typed, pressed or said
	Via                string // digits, text, speech, recording, emoji...
	NoAnswer           bool
	Skipped            bool
	Themes             []string
	Transcript         string // the current transcript of a recording (a staff correction if any)
	OriginalTranscript string // the first machine transcript, kept whatever staff change
	RecordingSID       string
	RecordingSeconds   int
	RecordingType      string
	CreatedAt          time.Time
}

// Words is the member's own words in the answer: the transcript of a
// recording, else what they typed or said.
func (a ExportAnswer) Words() string {
	if a.Via == "recording" {
		return a.Transcript
	}
	return a.Raw
}

// ExportFilter says which conversations an export holds.
type ExportFilter struct {
	SurveyID    string
	Since       time.Time // conversations started at or after (zero: from the first)
	Until       time.Time // conversations started before (zero: to the last)
	WithNumbers bool      // read the sealed numbers too (admins only)
	BatchSize   int       // conversations a query reads (default 2500)
}

// exportKey is a position in one of the keysets conversations are read in.
type exportKey struct {
	at   time.Time // started_at (exports)
	xact uint64    // written_xact (the API)
	id   string
}

// The conversation and answer columns every export reads; page is the
// batch of conversations. The answers are joined LATERAL (OFFSET 0 keeps it so) so that each
// conversation's are read from its index: a plain join lets the planner
// scan every answer of every survey for each batch.
func exportSelect(withNumbers bool) string {
	phone, people := `NULL::bytea`, ``
	if withNumbers {
		phone, people = `p.phone_enc`, ` JOIN participants p ON p.id = page.participant_id`
	}
	return `SELECT page.id, page.participant_id, ` + phone + `, page.survey_id, page.survey_version, page.channel, page.status,
		coalesce(page.consent, ''), page.language, page.started_at, page.ended_at, page.written_xact::text,
		a.id, a.question_id, a.value, a.raw, a.via, a.no_answer, a.skipped, a.themes, a.transcript,
		CASE WHEN a.via = 'recording' THEN coalesce((SELECT t.text FROM transcripts t WHERE t.answer_key = a.dedupe_key
			AND t.source <> 'staff' AND t.status = 'completed' ORDER BY t.id LIMIT 1), '') ELSE '' END,
		CASE WHEN a.via = 'recording' THEN (SELECT r.sid || ' ' || r.seconds || ' ' || r.content_type FROM recordings r
			WHERE r.answer_key = a.dedupe_key ORDER BY r.created_at LIMIT 1) END,
		a.created_at
		FROM page` + people + `
		LEFT JOIN LATERAL (SELECT * FROM answers a WHERE a.conversation_id = page.id OFFSET 0) a ON true`
}

const pageColumns = `c.id, c.participant_id, c.survey_id, c.survey_version, c.channel, c.status, c.consent, c.language, c.started_at, c.ended_at, c.written_xact`

// readConversations runs a query made by exportSelect and groups its rows
// (one per answer, in conversation order) into conversations.
func (db *DB) readConversations(ctx context.Context, sql string, args ...any) ([]ExportConversation, error) {
	rows, err := db.pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ExportConversation
	for rows.Next() {
		var c ExportConversation
		var xact string
		var aID *int64
		var a ExportAnswer
		var qID, value, raw, via, transcript, original *string
		var noAnswer, skipped *bool
		var recording *string
		var createdAt *time.Time
		if err := rows.Scan(&c.ID, &c.ParticipantID, &c.PhoneEnc, &c.SurveyID, &c.SurveyVersion, &c.Channel, &c.Status,
			&c.Consent, &c.Language, &c.StartedAt, &c.EndedAt, &xact,
			&aID, &qID, &value, &raw, &via, &noAnswer, &skipped, &a.Themes, &transcript, &original, &recording, &createdAt); err != nil {
			return nil, err
		}
		if n := len(out); n == 0 || out[n-1].ID != c.ID {
			c.key = exportKey{at: c.StartedAt, id: c.ID}
			c.key.xact, _ = strconv.ParseUint(xact, 10, 64)
			out = append(out, c)
		}
		if aID == nil {
			continue // a conversation with no answers yet
		}
		a.ID, a.QuestionID, a.Value, a.Raw, a.Via = *aID, *qID, *value, *raw, *via
		a.NoAnswer, a.Skipped, a.Transcript, a.OriginalTranscript, a.CreatedAt = *noAnswer, *skipped, *transcript, *original, *createdAt
		if a.Themes == nil {
			a.Themes = []string{}
		}
		if recording != nil {
			f := strings.SplitN(*recording, " ", 3)
			if len(f) == 3 {
				a.RecordingSID, a.RecordingType = f[0], f[2]
				a.RecordingSeconds, _ = strconv.Atoi(f[1])
			}
		}
		last := &out[len(out)-1]
		last.Answers = append(last.Answers, a)
	}
	return out, rows.Err()
}

// ExportConversations reads the conversations of f.SurveyID, oldest first,
// a batch at a time (keyset on when they started). The next batch is read
// while the caller writes this one, so Postgres and the writer work side
// by side; at most two batches are in memory. Stop ranging to stop
// reading.
func (db *DB) ExportConversations(ctx context.Context, f ExportFilter) iter.Seq2[ExportConversation, error] {
	size := f.BatchSize
	if size <= 0 {
		size = 2500
	}
	query := func(after exportKey) (string, []any) {
		where := []string{"c.survey_id = $1"}
		args := []any{f.SurveyID}
		arg := func(v any) string {
			args = append(args, v)
			return fmt.Sprintf("$%d", len(args))
		}
		if !f.Since.IsZero() {
			where = append(where, "c.started_at >= "+arg(f.Since))
		}
		if !f.Until.IsZero() {
			where = append(where, "c.started_at < "+arg(f.Until))
		}
		if after.id != "" {
			where = append(where, "(c.started_at, c.id) > ("+arg(after.at)+", "+arg(after.id)+")")
		}
		return `WITH page AS (SELECT ` + pageColumns + ` FROM conversations c WHERE ` + strings.Join(where, " AND ") +
			` ORDER BY c.started_at, c.id LIMIT ` + arg(size) + `) ` + exportSelect(f.WithNumbers) +
			` ORDER BY page.started_at, page.id, a.created_at, a.id`, args
	}
	return func(yield func(ExportConversation, error) bool) {
		ctx, cancel := context.WithCancel(ctx)
		type batch struct {
			convs []ExportConversation
			err   error
		}
		batches := make(chan batch, 1)
		go func() {
			defer close(batches)
			var after exportKey
			for {
				sql, args := query(after)
				convs, err := db.readConversations(ctx, sql, args...)
				if err != nil {
					err = fmt.Errorf("reading conversations to export: %w", err)
				}
				select {
				case batches <- batch{convs, err}:
				case <-ctx.Done():
					return
				}
				if err != nil || len(convs) < size {
					return
				}
				after = convs[len(convs)-1].key
			}
		}()
		defer func() {
			cancel()
			for range batches { // wait for the reader to stop
			}
		}()
		for b := range batches {
			if b.err != nil {
				yield(ExportConversation{}, b.err)
				return
			}
			for _, c := range b.convs {
				if !yield(c, nil) {
					return
				}
			}
		}
	}
}

// ExportConversation returns one conversation with every answer, or
// ErrNotFound.
func (db *DB) ExportConversation(ctx context.Context, id string) (ExportConversation, error) {
	sql := `WITH page AS (SELECT ` + pageColumns + ` FROM conversations c WHERE c.id = $1) ` + exportSelect(false) +
		` ORDER BY a.created_at, a.id`
	out, err := db.readConversations(ctx, sql, id)
	if err != nil {
		return ExportConversation{}, err
	}
	if len(out) == 0 {
		return ExportConversation{}, ErrNotFound
	}
	return out[0], nil
}

// Cursor is where a page of the API starts: after the row it names. The
// zero value is the first page. Cursors are opaque to API clients.
type Cursor struct {
	Xact uint64 // the transaction that wrote the row
	ID   string // the row's id
}

// IsZero reports whether the cursor is the first page's.
func (c Cursor) IsZero() bool { return c.ID == "" }

// String is the cursor as the API shows it.
func (c Cursor) String() string {
	if c.IsZero() {
		return ""
	}
	return strconv.FormatUint(c.Xact, 36) + "." + c.ID
}

// ParseCursor reads a cursor made by String.
func ParseCursor(s string) (Cursor, error) {
	x, id, ok := strings.Cut(s, ".")
	n, err := strconv.ParseUint(x, 36, 64)
	if !ok || err != nil || id == "" {
		return Cursor{}, errors.New("not a cursor this server made")
	}
	return Cursor{Xact: n, ID: id}, nil
}

// settled is the condition that a row was written by a transaction older
// than every one still running: no row can ever appear before it in
// (written_xact, id) order, so pages in that order miss nothing.
const settled = `written_xact < pg_snapshot_xmin(pg_current_snapshot())`

// ConversationsPage returns up to limit conversations of a survey in the
// order they were written, after the cursor, and the cursor of the next
// page (zero when there are no more yet). A client that keeps the last
// cursor and asks again later gets every conversation exactly once, even
// while new ones are written.
func (db *DB) ConversationsPage(ctx context.Context, surveyID string, after Cursor, limit int) ([]ExportConversation, Cursor, error) {
	args := []any{surveyID, limit + 1}
	where := "c.survey_id = $1 AND c." + settled
	if !after.IsZero() {
		args = append(args, strconv.FormatUint(after.Xact, 10), after.ID)
		where += " AND (c.written_xact, c.id) > ($3::text::xid8, $4)"
	}
	sql := `WITH page AS (SELECT ` + pageColumns + ` FROM conversations c WHERE ` + where +
		` ORDER BY c.written_xact, c.id LIMIT $2) ` + exportSelect(false) + ` ORDER BY page.written_xact, page.id, a.created_at, a.id`
	out, err := db.readConversations(ctx, sql, args...)
	if err != nil {
		return nil, Cursor{}, err
	}
	var next Cursor
	if len(out) > limit {
		out = out[:limit]
	}
	if n := len(out); n > 0 {
		next = Cursor{Xact: out[n-1].key.xact, ID: out[n-1].ID}
	}
	return out, next, nil
}

// FlowResponse is one answer as a row of a Flow Results package.
type FlowResponse struct {
	ID             int64 // the row id
	CreatedAt      time.Time
	ParticipantID  int64
	ConversationID string
	Language       string
	ExportAnswer
}

// FlowPage asks for a page of a survey's Flow Results responses.
type FlowPage struct {
	After  int64     // responses after this row id (0: from the first)
	Before int64     // responses before this row id, the page nearest it (0: not paging back)
	Start  time.Time // recorded after (exclusive; zero: any)
	End    time.Time // recorded at or before (inclusive; zero: any)
	// MinVersion and MaxVersion keep responses given on survey versions
	// imported at or after / at or before these times (the "modified" of
	// a descriptor); zero: any.
	MinVersion, MaxVersion time.Time
	Size                   int
}

// FlowResponses returns a page of a survey's answers as Flow Results rows,
// in the order they were written (as ConversationsPage does), and whether
// there are more after the page (or, paging back, before it). A row id
// that is not the survey's is ErrNotFound.
func (db *DB) FlowResponses(ctx context.Context, surveyID string, p FlowPage) ([]FlowResponse, bool, error) {
	args := []any{surveyID, p.Size + 1}
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	where := []string{"c.survey_id = $1", "a." + settled}
	if !p.Start.IsZero() {
		where = append(where, "a.created_at > "+arg(p.Start))
	}
	if !p.End.IsZero() {
		where = append(where, "a.created_at <= "+arg(p.End))
	}
	if !p.MinVersion.IsZero() {
		where = append(where, "c.survey_version IN (SELECT version FROM survey_versions WHERE survey_id = $1 AND created_at >= "+arg(p.MinVersion)+")")
	}
	if !p.MaxVersion.IsZero() {
		where = append(where, "c.survey_version IN (SELECT version FROM survey_versions WHERE survey_id = $1 AND created_at <= "+arg(p.MaxVersion)+")")
	}
	where = append(where, "NOT a.skipped", "NOT a.no_answer")
	order := "a.written_xact, a.id"
	for _, cur := range []struct {
		id int64
		op string
	}{{p.After, ">"}, {p.Before, "<"}} {
		if cur.id == 0 {
			continue
		}
		var ok bool
		if err := db.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM answers a JOIN conversations c ON c.id = a.conversation_id
			WHERE a.id = $1 AND c.survey_id = $2)`, cur.id, surveyID).Scan(&ok); err != nil {
			return nil, false, err
		}
		if !ok {
			return nil, false, ErrNotFound
		}
		where = append(where, "(a.written_xact, a.id) "+cur.op+" (SELECT written_xact, id FROM answers WHERE id = "+arg(cur.id)+")")
	}
	if p.Before != 0 && p.After == 0 {
		order = "a.written_xact DESC, a.id DESC"
	}
	rows, err := db.pool.Query(ctx, `SELECT a.id, a.created_at, c.participant_id, c.id, c.language,
		a.id, a.question_id, a.value, a.raw, a.via, a.no_answer, a.skipped, a.themes, a.transcript, '',
		CASE WHEN a.via = 'recording' THEN coalesce((SELECT r.sid FROM recordings r WHERE r.answer_key = a.dedupe_key ORDER BY r.created_at LIMIT 1), '') ELSE '' END,
		0, CASE WHEN a.via = 'recording' THEN coalesce((SELECT r.content_type FROM recordings r WHERE r.answer_key = a.dedupe_key ORDER BY r.created_at LIMIT 1), '') ELSE '' END,
		a.created_at
		FROM answers a JOIN conversations c ON c.id = a.conversation_id
		WHERE `+strings.Join(where, " AND ")+` ORDER BY `+order+` LIMIT $2`, args...)
	if err != nil {
		return nil, false, err
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (FlowResponse, error) {
		var f FlowResponse
		a := &f.ExportAnswer
		err := r.Scan(&f.ID, &f.CreatedAt, &f.ParticipantID, &f.ConversationID, &f.Language,
			&a.ID, &a.QuestionID, &a.Value, &a.Raw, &a.Via, &a.NoAnswer, &a.Skipped, &a.Themes, &a.Transcript, &a.OriginalTranscript,
			&a.RecordingSID, &a.RecordingSeconds, &a.RecordingType, &a.CreatedAt)
		return f, err
	})
	if err != nil {
		return nil, false, err
	}
	more := len(out) > p.Size
	if more {
		out = out[:p.Size]
	}
	if p.Before != 0 && p.After == 0 {
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	}
	return out, more, nil
}

// Audit actions written by exports.
const (
	AuditExport = "export" // detail: format, rows, with_numbers, via (cli, dashboard, api)
)

// SurveySubject is how audit_log names a survey.
func SurveySubject(id string) string { return "survey:" + id }

// OlderSurveySources returns the files of a survey's versions before the
// current one, oldest first: answers may name questions only they had.
func (db *DB) OlderSurveySources(ctx context.Context, s ExportSurvey) ([]SurveyVersion, error) {
	rows, err := db.pool.Query(ctx, `SELECT v.survey_id, v.version, s.title, v.source, v.file_name, v.created_at
		FROM survey_versions v JOIN surveys s ON s.id = v.survey_id WHERE v.survey_id = $1 AND v.version < $2 ORDER BY v.version`, s.ID, s.Version)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[SurveyVersion])
}

// CountExport counts the conversations an export with f would hold (for a
// progress bar).
func (db *DB) CountExport(ctx context.Context, f ExportFilter) (int, error) {
	var n int
	err := db.pool.QueryRow(ctx, `SELECT count(*) FROM conversations WHERE survey_id = $1
		AND ($2::timestamptz IS NULL OR started_at >= $2) AND ($3::timestamptz IS NULL OR started_at < $3)`,
		f.SurveyID, nullTime(f.Since), nullTime(f.Until)).Scan(&n)
	return n, err
}

func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
