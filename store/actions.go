package store

// Actions ("you said, we did"): what staff will do or did about what
// members said, and telling the members who asked to be told.

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Action statuses.
const (
	ActionPlanned = "planned"
	ActionDoing   = "doing"
	ActionDone    = "done"
	ActionCannot  = "cannot"
)

// ActionStatuses lists the statuses in the order they are shown.
var ActionStatuses = []string{ActionPlanned, ActionDoing, ActionDone, ActionCannot}

// Action is one "you said, we did".
type Action struct {
	ID         int64
	ThemeID    string // "" none
	SurveyID   string // "" none
	Said       string // what people said, in a summary
	Doing      string // what we will do, or did
	Owner      string // who owns it
	Due        *time.Time
	Status     string
	Reason     string // why we cannot, in plain words
	MemberText string // the easy-read text sent to members when it is done
	CreatedBy  string
	CreatedAt  time.Time
	UpdatedAt  time.Time
	DoneAt     *time.Time
	Answers    []int64 // the answers it covers
}

const actionColumns = `id, theme_id, survey_id, said, doing, owner, due, status, reason, member_text, created_by,
	created_at, updated_at, done_at,
	coalesce((SELECT array_agg(answer_id ORDER BY answer_id) FROM action_answers WHERE action_id = actions.id), '{}')`

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// ActionSubject is how audit_log names an action.
func ActionSubject(id int64) string { return "action:" + itoa(id) }

// ActionBatch is the outbound batch that tells members about an action:
// one text per member per action.
func ActionBatch(id int64) string { return "action:" + itoa(id) }

// ActionFromBatch returns the action an outbound batch tells about.
func ActionFromBatch(batch string) (int64, bool) {
	s, ok := strings.CutPrefix(batch, "action:")
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil
}

// SaveAction adds an action (a.ID 0) or changes one, with the answers it
// covers (answers of other actions are not touched), and audit-logs it.
// Answers that do not exist are an ErrNotFound.
func (db *DB) SaveAction(ctx context.Context, actor string, a Action) (int64, error) {
	id := a.ID
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		var err error
		if a.ID == 0 {
			err = tx.QueryRow(ctx, `INSERT INTO actions (theme_id, survey_id, said, doing, owner, due, status, reason, member_text, created_by, done_at)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, CASE WHEN $7 = 'done' THEN now() END) RETURNING id`,
				a.ThemeID, a.SurveyID, a.Said, a.Doing, a.Owner, a.Due, a.Status, a.Reason, a.MemberText, actor).Scan(&id)
		} else {
			var tag interface{ RowsAffected() int64 }
			tag, err = tx.Exec(ctx, `UPDATE actions SET theme_id = $2, survey_id = $3, said = $4, doing = $5, owner = $6, due = $7,
				status = $8, reason = $9, member_text = $10, updated_at = now(),
				done_at = CASE WHEN $8 = 'done' THEN coalesce(done_at, now()) END
				WHERE id = $1`, a.ID, a.ThemeID, a.SurveyID, a.Said, a.Doing, a.Owner, a.Due, a.Status, a.Reason, a.MemberText)
			if err == nil && tag.RowsAffected() == 0 {
				err = ErrNotFound
			}
		}
		if err != nil {
			return err
		}
		if len(a.Answers) > 0 {
			if _, err := tx.Exec(ctx, `INSERT INTO action_answers (action_id, answer_id)
				SELECT $1, a.id FROM answers a WHERE a.id = ANY($2) ON CONFLICT DO NOTHING`, id, a.Answers); err != nil {
				return err
			}
			var known int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM answers WHERE id = ANY($1)`, a.Answers).Scan(&known); err != nil {
				return err
			}
			if known < len(a.Answers) {
				return ErrNotFound
			}
		}
		action := AuditActionChange
		if a.ID == 0 {
			action = AuditActionAdd
		}
		return writeAudit(ctx, tx, actor, action, ActionSubject(id), map[string]any{"status": a.Status,
			"theme": a.ThemeID, "survey": a.SurveyID, "answers": len(a.Answers)})
	})
	return id, err
}

// GetAction returns one action.
func (db *DB) GetAction(ctx context.Context, id int64) (Action, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+actionColumns+` FROM actions WHERE id = $1`, id)
	if err != nil {
		return Action{}, err
	}
	a, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByPos[Action])
	if errors.Is(err, pgx.ErrNoRows) {
		return a, ErrNotFound
	}
	return a, err
}

// ActionFilter picks actions: by survey, by theme ("" any), or those of a
// survey's themes too (SurveyThemes: an action on a theme the survey asks
// about belongs to the survey's report).
type ActionFilter struct {
	SurveyID     string
	ThemeID      string
	SurveyThemes []string
	Status       string
}

// Actions lists actions, newest first.
func (db *DB) Actions(ctx context.Context, f ActionFilter) ([]Action, error) {
	themes := f.SurveyThemes
	if themes == nil {
		themes = []string{}
	}
	rows, err := db.pool.Query(ctx, `SELECT `+actionColumns+` FROM actions
		WHERE ($1 = '' OR survey_id = $1 OR (survey_id = '' AND theme_id = ANY($2)))
			AND ($3 = '' OR theme_id = $3) AND ($4 = '' OR status = $4)
		ORDER BY CASE status WHEN 'done' THEN 0 ELSE 1 END, updated_at DESC, id DESC`, f.SurveyID, themes, f.ThemeID, f.Status)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[Action])
}

// DoneActions lists a survey's latest done actions (its own, and those of
// its themes with no survey), newest first: what callers hear changed.
func (db *DB) DoneActions(ctx context.Context, surveyID string, themes []string, limit int) ([]Action, error) {
	if themes == nil {
		themes = []string{}
	}
	rows, err := db.pool.Query(ctx, `SELECT `+actionColumns+` FROM actions
		WHERE status = 'done' AND (survey_id = $1 OR (survey_id = '' AND theme_id = ANY($2)))
		ORDER BY done_at DESC, id DESC LIMIT $3`, surveyID, themes, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[Action])
}

// Audience is one member to tell about an action, in one survey.
type Audience struct {
	Person         Person
	ConversationID string // the latest conversation where they said yes
	SurveyID       string
	SurveyVersion  int
}

// ActionAudience lists the members an action covers who said yes to
// "Can we text you to tell you what we did?", once each, leaving out
// anyone who texted STOP. An action covers its chosen answers; an action
// on a theme covers every answer tagged with it (in its survey, if it has
// one).
func (db *DB) ActionAudience(ctx context.Context, id int64) ([]Audience, error) {
	rows, err := db.pool.Query(ctx, `
		WITH act AS (SELECT * FROM actions WHERE id = $1),
		covered AS (
			SELECT a.conversation_id FROM action_answers aa JOIN answers a ON a.id = aa.answer_id WHERE aa.action_id = $1
			UNION
			SELECT a.conversation_id FROM answers a JOIN conversations c ON c.id = a.conversation_id, act
			WHERE act.theme_id <> '' AND a.themes @> ARRAY[act.theme_id]
				AND (act.survey_id = '' OR c.survey_id = act.survey_id)
		)
		SELECT DISTINCT ON (p.id) p.phone_hash, p.phone_enc, p.phone_masked, c.id, c.survey_id, c.survey_version
		FROM covered JOIN conversations c ON c.id = covered.conversation_id JOIN participants p ON p.id = c.participant_id
		WHERE c.tell_me AND p.opted_out_at IS NULL
		ORDER BY p.id, c.started_at DESC`, id)
	if err != nil {
		return nil, err
	}
	var out []Audience
	var a Audience
	_, err = pgx.ForEachRow(rows, []any{&a.Person.Hash, &a.Person.Enc, &a.Person.Masked, &a.ConversationID, &a.SurveyID, &a.SurveyVersion},
		func() error { out = append(out, a); return nil })
	return out, err
}

// QueueActionTexts queues a text to each member of the audience about a
// done action, through the outbound sender's rows and jobs: one row per
// member per action, so telling again tells nobody twice. It returns how
// many were newly queued, and audit-logs it.
func (q *Queue) QueueActionTexts(ctx context.Context, actor string, actionID int64, audience []Audience,
	sender func(surveyID string, version int) string, notBefore time.Time, job OutboundJob) (int, error) {
	bySurvey := map[string][]Audience{}
	var order []string
	for _, a := range audience {
		k := a.SurveyID + "\x00" + itoa(int64(a.SurveyVersion))
		if bySurvey[k] == nil {
			order = append(order, k)
		}
		bySurvey[k] = append(bySurvey[k], a)
	}
	added := 0
	for _, k := range order {
		group := bySurvey[k]
		people := make([]NewOutbound, len(group))
		for i, a := range group {
			people[i] = NewOutbound{Person: a.Person, ConversationID: a.ConversationID}
		}
		b := OutboundBatch{ID: ActionBatch(actionID), Kind: "action", SurveyID: group[0].SurveyID,
			SurveyVersion: group[0].SurveyVersion, Sender: sender(group[0].SurveyID, group[0].SurveyVersion), NotBefore: notBefore}
		n, err := q.QueueOutbound(ctx, b, people, job)
		added += n
		if err != nil {
			return added, err
		}
	}
	return added, q.db.Audit(ctx, actor, AuditActionTell, ActionSubject(actionID), map[string]any{"queued": added, "audience": len(audience)})
}

// ActionMemberText returns the text members are sent about an action.
func (db *DB) ActionMemberText(ctx context.Context, id int64) (text, status string, err error) {
	err = db.pool.QueryRow(ctx, `SELECT member_text, status FROM actions WHERE id = $1`, id).Scan(&text, &status)
	if errors.Is(err, pgx.ErrNoRows) {
		err = ErrNotFound
	}
	return text, status, err
}

// SetTellMe keeps a member's answer to "Can we text you to tell you what
// we did?" on a conversation (the journal does this for the engine's
// FollowUpConsent; the demo and tests use it directly).
func (db *DB) SetTellMe(ctx context.Context, conversationID string, yes bool) error {
	tag, err := db.pool.Exec(ctx, `UPDATE conversations SET tell_me = $2 WHERE id = $1`, conversationID, yes)
	if err == nil && tag.RowsAffected() == 0 {
		err = ErrNotFound
	}
	return err
}
