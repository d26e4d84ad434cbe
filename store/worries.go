package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
)

// Worry sources: where the words that raised a worry came from.
const (
	WorryText          = "text"           // a text message
	WorrySpeech        = "speech"         // speech on a call that the menu understood
	WorryNotUnderstood = "not-understood" // speech on a call that the menu did not understand
	WorryTranscript    = "transcript"     // the transcript of a recorded answer
	WorryHand          = "hand"           // flagged by staff
)

// WorryRaised is a worry about a member: a risk phrase found in what they
// sent, or a staff member's flag. Its fields are the original record,
// which the database never lets anyone change.
type WorryRaised struct {
	// DedupeKey names what raised it (a MessageSid, CallSid and step, a
	// recording and transcript source, a flag): raised twice, kept once.
	DedupeKey      string `json:"dk"`
	ConversationID string `json:"cid,omitempty"`
	Person         Person `json:"p,omitzero"` // may be empty: found through the conversation
	Channel        string `json:"c"`          // sms or voice
	Source         string `json:"s"`          // WorryText, WorrySpeech, ...
	Phrase         string `json:"ph,omitempty"`
	Words          string `json:"w,omitempty"`
	RecordingSID   string `json:"rs,omitempty"`
	RaisedBy       string `json:"by,omitempty"` // "" for the phrase list
	Reason         string `json:"r,omitempty"`
}

// worryAlerter queues the alert texts for a new worry.
type worryAlerter struct {
	client *river.Client[pgx.Tx]
	jobs   func(worryID int64) []river.InsertManyParams
}

// AlertWorries makes every new worry queue jobs (made by jobs: one per
// number to text) in the same transaction that records it, so a worry is
// never kept without its alerts, nor alerted twice. The queue must have
// workers for the jobs.
func (q *Queue) AlertWorries(jobs func(worryID int64) []river.InsertManyParams) {
	q.db.worryAlerts.Store(&worryAlerter{client: q.client, jobs: jobs})
}

// RaiseWorry records a worry now (a transcript, a hand flag) and queues its
// alerts. created is false when the same thing had raised it already.
func (db *DB) RaiseWorry(ctx context.Context, w WorryRaised) (id int64, created bool, err error) {
	err = pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		id, created, err = db.raiseWorry(ctx, tx, w, time.Now())
		return err
	})
	return id, created, err
}

func (db *DB) raiseWorry(ctx context.Context, tx pgx.Tx, w WorryRaised, at time.Time) (int64, bool, error) {
	if w.DedupeKey == "" || w.Channel == "" || w.Source == "" {
		return 0, false, errors.New("a worry needs what raised it, its channel and its source")
	}
	var pid *int64
	if len(w.Person.Hash) > 0 {
		id, err := person(ctx, tx, w.Person)
		if err != nil {
			return 0, false, err
		}
		pid = &id
	} else if w.ConversationID != "" {
		if err := tx.QueryRow(ctx, `SELECT participant_id FROM conversations WHERE id = $1`, w.ConversationID).Scan(&pid); err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return 0, false, err
		}
	}
	var id int64
	err := tx.QueryRow(ctx, `INSERT INTO worries (dedupe_key, conversation_id, participant_id, channel, source, phrase, words,
		recording_sid, raised_by, reason, said_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
		ON CONFLICT (dedupe_key) DO NOTHING RETURNING id`,
		w.DedupeKey, nullable(w.ConversationID), pid, w.Channel, w.Source, w.Phrase, w.Words, nullable(w.RecordingSID),
		w.RaisedBy, w.Reason, at).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	if a := db.worryAlerts.Load(); a != nil {
		if params := a.jobs(id); len(params) > 0 {
			if _, err := a.client.InsertManyTx(ctx, tx, params); err != nil {
				return 0, false, err
			}
		}
	}
	return id, true, nil
}

// Audit actions of the safeguarding pages.
const (
	AuditViewWorry   = "view-worry"
	AuditWorryAction = "worry-action"
	AuditExportWorry = "export-worry"
)

// WorrySubject names a worry in the audit log.
func WorrySubject(id int64) string { return fmt.Sprintf("worry:%d", id) }

// handWorry raises the worry of a flag staff raised, in its transaction:
// the words kept are the flagged answer's (its transcript, for a
// recording), if any.
func (db *DB) handWorry(ctx context.Context, tx pgx.Tx, actor, conversationID string, flagID int64, answerID *int64, reason string) error {
	var channel, words, recording string
	if err := tx.QueryRow(ctx, `SELECT channel FROM conversations WHERE id = $1`, conversationID).Scan(&channel); err != nil {
		return err
	}
	if answerID != nil {
		if err := tx.QueryRow(ctx, `SELECT CASE WHEN via = 'recording' THEN transcript ELSE raw END,
			CASE WHEN via = 'recording' THEN raw ELSE '' END FROM answers WHERE id = $1`, *answerID).Scan(&words, &recording); err != nil {
			return err
		}
	}
	_, _, err := db.raiseWorry(ctx, tx, WorryRaised{DedupeKey: fmt.Sprintf("flag:%d", flagID), ConversationID: conversationID,
		Channel: channel, Source: WorryHand, Words: words, RecordingSID: recording, RaisedBy: actor, Reason: reason}, time.Now())
	return err
}

// Worry is one worry as staff see it: its original record and where it
// stands.
type Worry struct {
	ID             int64
	ConversationID string
	ParticipantID  int64
	PhoneMasked    string
	Channel        string
	Source         string
	Phrase         string
	Words          string
	RecordingSID   string
	RaisedBy       string
	Reason         string
	SaidAt         time.Time
	CreatedAt      time.Time
	// Closed: the latest "closed" or "reopened" entry was "closed".
	Closed bool
	// FirstLook is when someone first looked at it (zero: nobody yet).
	FirstLook time.Time
	// Actions counts the log's entries.
	Actions int
}

// WorryAction is one entry of a worry's log.
type WorryAction struct {
	ID    int64
	Actor string
	Kind  string // looked, acted, closed, reopened
	Did   string
	Told  string
	At    time.Time
}

// WorryAlert is the state of one alert text about a worry.
type WorryAlert struct {
	SentTo     string // masked
	Status     string // pending, sent
	MessageSID string
	Attempts   int
	LastError  string
	UpdatedAt  time.Time
}

const worrySelect = `SELECT w.id, coalesce(w.conversation_id, ''), coalesce(w.participant_id, 0), coalesce(p.phone_masked, ''),
	w.channel, w.source, w.phrase, w.words, coalesce(w.recording_sid, ''), w.raised_by, w.reason, w.said_at, w.created_at,
	coalesce((SELECT a.kind = 'closed' FROM worry_actions a WHERE a.worry_id = w.id AND a.kind IN ('closed', 'reopened')
		ORDER BY a.id DESC LIMIT 1), false),
	coalesce((SELECT min(a.at) FROM worry_actions a WHERE a.worry_id = w.id), 'epoch'::timestamptz),
	(SELECT count(*) FROM worry_actions a WHERE a.worry_id = w.id)
	FROM worries w LEFT JOIN participants p ON p.id = w.participant_id`

func scanWorry(r pgx.CollectableRow) (Worry, error) {
	var w Worry
	err := r.Scan(&w.ID, &w.ConversationID, &w.ParticipantID, &w.PhoneMasked, &w.Channel, &w.Source, &w.Phrase, &w.Words,
		&w.RecordingSID, &w.RaisedBy, &w.Reason, &w.SaidAt, &w.CreatedAt, &w.Closed, &w.FirstLook, &w.Actions)
	if w.FirstLook.Unix() == 0 {
		w.FirstLook = time.Time{}
	}
	return w, err
}

// Worries lists worries: open ones first, the longest waiting first; then
// up to limit closed ones, newest first.
func (db *DB) Worries(ctx context.Context, limit int) ([]Worry, error) {
	open, err := db.worries(ctx, `WHERE NOT `+closedSQL+` ORDER BY w.created_at, w.id`)
	if err != nil {
		return nil, err
	}
	closed, err := db.worries(ctx, `WHERE `+closedSQL+` ORDER BY w.created_at DESC, w.id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, err
	}
	return append(open, closed...), nil
}

const closedSQL = `coalesce((SELECT a.kind = 'closed' FROM worry_actions a WHERE a.worry_id = w.id AND a.kind IN ('closed', 'reopened')
	ORDER BY a.id DESC LIMIT 1), false)`

func (db *DB) worries(ctx context.Context, where string, args ...any) ([]Worry, error) {
	rows, err := db.pool.Query(ctx, worrySelect+" "+where, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, scanWorry)
}

// OpenWorries counts the worries nobody has closed.
func (db *DB) OpenWorries(ctx context.Context) (int, error) {
	var n int
	err := db.pool.QueryRow(ctx, `SELECT count(*) FROM worries w WHERE NOT `+closedSQL).Scan(&n)
	return n, err
}

// ConversationWorries lists the worries about one conversation, oldest first.
func (db *DB) ConversationWorries(ctx context.Context, conversationID string) ([]Worry, error) {
	return db.worries(ctx, `WHERE w.conversation_id = $1 ORDER BY w.id`, conversationID)
}

// GetWorry returns one worry with its log and its alert texts, oldest
// first; ErrNotFound when there is none.
func (db *DB) GetWorry(ctx context.Context, id int64) (Worry, []WorryAction, []WorryAlert, error) {
	ws, err := db.worries(ctx, `WHERE w.id = $1`, id)
	if err != nil {
		return Worry{}, nil, nil, err
	}
	if len(ws) == 0 {
		return Worry{}, nil, nil, ErrNotFound
	}
	rows, err := db.pool.Query(ctx, `SELECT id, actor, kind, did, told, at FROM worry_actions WHERE worry_id = $1 ORDER BY id`, id)
	if err != nil {
		return Worry{}, nil, nil, err
	}
	actions, err := pgx.CollectRows(rows, pgx.RowToStructByPos[WorryAction])
	if err != nil {
		return Worry{}, nil, nil, err
	}
	rows, err = db.pool.Query(ctx, `SELECT sent_to, status, coalesce(message_sid, ''), attempts, last_error, updated_at
		FROM worry_alerts WHERE worry_id = $1 ORDER BY sent_to`, id)
	if err != nil {
		return Worry{}, nil, nil, err
	}
	alerts, err := pgx.CollectRows(rows, pgx.RowToStructByPos[WorryAlert])
	return ws[0], actions, alerts, err
}

// AddWorryAction appends an entry to a worry's log.
func (db *DB) AddWorryAction(ctx context.Context, worryID int64, actor, kind, did, told string) error {
	tag, err := db.pool.Exec(ctx, `INSERT INTO worry_actions (worry_id, actor, kind, did, told)
		SELECT id, $2, $3, $4, $5 FROM worries WHERE id = $1`, worryID, actor, kind, did, told)
	if err == nil && tag.RowsAffected() == 0 {
		return ErrNotFound
	}
	return err
}

// WorryAlertSent reports whether the alert about a worry to a (masked)
// number has gone already.
func (db *DB) WorryAlertSent(ctx context.Context, worryID int64, sentTo string) (bool, error) {
	var sent bool
	err := db.pool.QueryRow(ctx, `SELECT status = 'sent' FROM worry_alerts WHERE worry_id = $1 AND sent_to = $2`, worryID, sentTo).Scan(&sent)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	return sent, err
}

// WorryAlertTried records one try at an alert text: sid when Twilio took
// it, else why not.
func (db *DB) WorryAlertTried(ctx context.Context, worryID int64, sentTo, sid, problem string) error {
	status := "pending"
	if sid != "" {
		status = "sent"
	}
	_, err := db.pool.Exec(ctx, `INSERT INTO worry_alerts (worry_id, sent_to, status, message_sid, attempts, last_error)
		VALUES ($1, $2, $3, nullif($4, ''), 1, $5)
		ON CONFLICT (worry_id, sent_to) DO UPDATE SET status = EXCLUDED.status,
			message_sid = coalesce(EXCLUDED.message_sid, worry_alerts.message_sid),
			attempts = worry_alerts.attempts + 1, last_error = EXCLUDED.last_error, updated_at = now()`,
		worryID, sentTo, status, sid, problem)
	return err
}
