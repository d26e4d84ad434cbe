package store

// Themes in the charity's own words, what answers tagged with them say,
// member reviewers' findings, quotes chosen for reports, and the numbers a
// survey's overview page draws.

import (
	"context"
	"errors"
	"regexp"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/haveyoursay/haveyoursay/survey"
)

// Audit actions of this file and actions.go.
const (
	AuditThemesImport = "themes-import"
	AuditQuoteChoose  = "quote-choose"
	AuditQuoteDrop    = "quote-drop"
	AuditFindingAdd   = "finding-add"
	AuditActionAdd    = "action-add"
	AuditActionChange = "action-change"
	AuditActionTell   = "action-tell"
)

// Theme is one of the charity's themes as stored.
type Theme struct {
	ID, Title, Description, Emoji string
}

// Label is the theme's title with its emoji, for pages.
func (t Theme) Label() string {
	if t.Emoji != "" {
		return t.Emoji + " " + t.Title
	}
	return t.Title
}

// ThemesImported says what ImportThemes changed.
type ThemesImported struct {
	Added, Changed, Same int
}

// ImportThemes adds the themes of a themes file, or updates their words
// (a theme's id never changes: answers are tagged with it). Themes not in
// the file are kept: answers may be tagged with them.
func (db *DB) ImportThemes(ctx context.Context, actor string, themes []survey.Theme) (ThemesImported, error) {
	var res ThemesImported
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		res = ThemesImported{}
		for i, t := range themes {
			var inserted, changed bool
			err := tx.QueryRow(ctx, `
				WITH old AS (SELECT title, description, emoji FROM themes WHERE id = $1)
				INSERT INTO themes (id, title, description, emoji, position) VALUES ($1, $2, $3, $4, $5)
				ON CONFLICT (id) DO UPDATE SET title = $2, description = $3, emoji = $4, position = $5,
					updated_at = CASE WHEN (themes.title, themes.description, themes.emoji) = ($2, $3, $4)
						THEN themes.updated_at ELSE now() END
				RETURNING (SELECT count(*) = 0 FROM old),
					coalesce((SELECT (title, description, emoji) <> ($2, $3, $4) FROM old), false)`,
				t.ID, t.Title, t.Description, t.Emoji, i).Scan(&inserted, &changed)
			if err != nil {
				return err
			}
			switch {
			case inserted:
				res.Added++
			case changed:
				res.Changed++
			default:
				res.Same++
			}
		}
		return writeAudit(ctx, tx, actor, AuditThemesImport, "themes",
			map[string]any{"added": res.Added, "changed": res.Changed, "same": res.Same})
	})
	return res, err
}

// Themes lists the charity's themes in the order of its file.
func (db *DB) Themes(ctx context.Context) ([]Theme, error) {
	rows, err := db.pool.Query(ctx, `SELECT id, title, description, emoji FROM themes ORDER BY position, id`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[Theme])
}

// ValueCount is how many answers to one question had one value.
type ValueCount struct {
	SurveyID, QuestionID, Value string
	N                           int
}

// ThemeCounts counts, for each theme, the answers tagged with it by survey,
// question and value (no-answers and skips left out). Words answers count
// under the value "".
func (db *DB) ThemeCounts(ctx context.Context) (map[string][]ValueCount, error) {
	rows, err := db.pool.Query(ctx, `
		SELECT t.theme, c.survey_id, a.question_id, CASE WHEN a.via IN ('text', 'speech', 'recording') AND a.value = a.raw THEN '' ELSE a.value END, count(*)
		FROM answers a JOIN conversations c ON c.id = a.conversation_id, unnest(a.themes) AS t (theme)
		WHERE NOT a.no_answer AND NOT a.skipped AND c.consent IS NOT NULL
		GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`)
	if err != nil {
		return nil, err
	}
	out := map[string][]ValueCount{}
	var theme string
	var v ValueCount
	_, err = pgx.ForEachRow(rows, []any{&theme, &v.SurveyID, &v.QuestionID, &v.Value, &v.N}, func() error {
		out[theme] = append(out[theme], v)
		return nil
	})
	return out, err
}

// Quote is a member's words chosen by staff for reports.
type Quote struct {
	AnswerID   int64
	SurveyID   string
	QuestionID string
	Themes     []string
	Body       string
	ChosenAt   time.Time
}

// numberInQuote finds a run of digits (spaces and dashes allowed) long enough to be a phone number.
var numberInQuote = regexp.MustCompile(`\+?\d[\d\s-]{5,}\d`)

// ErrQuoteHasNumber means a quote holds something like a phone number.
var ErrQuoteHasNumber = errors.New("the quote has a phone number in it")

// ChooseQuote keeps an answer's words (body, which staff may shorten or
// clean of names) as a quote for reports. Choosing again changes the words.
func (db *DB) ChooseQuote(ctx context.Context, actor string, answerID int64, body string) error {
	if numberInQuote.MatchString(body) {
		return ErrQuoteHasNumber
	}
	return pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		var conv string
		if err := tx.QueryRow(ctx, `SELECT conversation_id FROM answers WHERE id = $1`, answerID).Scan(&conv); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return ErrNotFound
			}
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO quotes (answer_id, body, chosen_by) VALUES ($1, $2, $3)
			ON CONFLICT (answer_id) DO UPDATE SET body = $2, chosen_by = $3, chosen_at = now()`, answerID, body, actor); err != nil {
			return err
		}
		return writeAudit(ctx, tx, actor, AuditQuoteChoose, ConversationSubject(conv), map[string]any{"answer": answerID})
	})
}

// DropQuote stops using an answer as a quote.
func (db *DB) DropQuote(ctx context.Context, actor string, answerID int64) error {
	return pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		var conv string
		err := tx.QueryRow(ctx, `DELETE FROM quotes q USING answers a WHERE q.answer_id = $1 AND a.id = q.answer_id
			RETURNING a.conversation_id`, answerID).Scan(&conv)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		return writeAudit(ctx, tx, actor, AuditQuoteDrop, ConversationSubject(conv), map[string]any{"answer": answerID})
	})
}

// Quotes lists chosen quotes, newest first: of one survey, or with one
// theme, or all ("" for either means any).
func (db *DB) Quotes(ctx context.Context, surveyID, theme string, limit int) ([]Quote, error) {
	rows, err := db.pool.Query(ctx, `
		SELECT q.answer_id, c.survey_id, a.question_id, a.themes, q.body, q.chosen_at
		FROM quotes q JOIN answers a ON a.id = q.answer_id JOIN conversations c ON c.id = a.conversation_id
		WHERE ($1 = '' OR c.survey_id = $1) AND ($2 = '' OR a.themes @> ARRAY[$2]::text[])
		ORDER BY q.chosen_at DESC, q.answer_id DESC LIMIT $3`, surveyID, theme, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[Quote])
}

// Finding is a member reviewer's finding on a theme or a survey.
type Finding struct {
	ID        int64
	ThemeID   string
	SurveyID  string
	Body      string
	CreatedAt time.Time
}

// AddFinding keeps a member reviewer's finding (themeID and/or surveyID).
func (db *DB) AddFinding(ctx context.Context, actor, themeID, surveyID, body string) (int64, error) {
	var id int64
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `INSERT INTO findings (theme_id, survey_id, body, author) VALUES ($1, $2, $3, $4) RETURNING id`,
			themeID, surveyID, body, actor).Scan(&id); err != nil {
			return err
		}
		return writeAudit(ctx, tx, actor, AuditFindingAdd, "finding:"+itoa(id), map[string]any{"theme": themeID, "survey": surveyID})
	})
	return id, err
}

// Findings lists findings, newest first, of one survey and/or one theme
// ("" for any).
func (db *DB) Findings(ctx context.Context, surveyID, themeID string) ([]Finding, error) {
	rows, err := db.pool.Query(ctx, `SELECT id, theme_id, survey_id, body, created_at FROM findings
		WHERE ($1 = '' OR survey_id = $1) AND ($2 = '' OR theme_id = $2) ORDER BY created_at DESC, id DESC`, surveyID, themeID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[Finding])
}

// SurveyStats are the numbers of a survey's overview page. Only
// conversations where the member gave consent count.
type SurveyStats struct {
	Started   int            // conversations with consent
	Completed int            // of those, finished
	Channels  map[string]int // sms, voice
	Languages map[string]int // en, cy, ... ("" unknown)
	ByDay     []DayCount     // conversations started each day, oldest first
	Answers   []ValueCount   // per question and value; words answers under ""
	Skipped   map[string]int // per question: skipped or no answer
	Themes    map[string]int // answers tagged with each theme
	TellMe    int            // said yes to being told what we did
}

// DayCount is how many conversations started on a day.
type DayCount struct {
	Day time.Time
	N   int
}

// SurveyStats counts a survey's conversations and answers.
func (db *DB) SurveyStats(ctx context.Context, surveyID string) (SurveyStats, error) {
	st := SurveyStats{Channels: map[string]int{}, Languages: map[string]int{}, Skipped: map[string]int{}, Themes: map[string]int{}}
	const consented = `c.survey_id = $1 AND c.consent IS NOT NULL`
	err := db.pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE status = 'completed'), count(*) FILTER (WHERE tell_me)
		FROM conversations c WHERE `+consented, surveyID).Scan(&st.Started, &st.Completed, &st.TellMe)
	if err != nil {
		return st, err
	}
	var k string
	var n int
	rows, _ := db.pool.Query(ctx, `SELECT channel, count(*) FROM conversations c WHERE `+consented+` GROUP BY 1`, surveyID)
	if _, err := pgx.ForEachRow(rows, []any{&k, &n}, func() error { st.Channels[k] = n; return nil }); err != nil {
		return st, err
	}
	rows, _ = db.pool.Query(ctx, `SELECT language, count(*) FROM conversations c WHERE `+consented+` GROUP BY 1`, surveyID)
	if _, err := pgx.ForEachRow(rows, []any{&k, &n}, func() error { st.Languages[k] = n; return nil }); err != nil {
		return st, err
	}
	rows, _ = db.pool.Query(ctx, `SELECT date_trunc('day', started_at AT TIME ZONE 'UTC'), count(*) FROM conversations c
		WHERE `+consented+` GROUP BY 1 ORDER BY 1`, surveyID)
	var d DayCount
	if _, err := pgx.ForEachRow(rows, []any{&d.Day, &d.N}, func() error { st.ByDay = append(st.ByDay, d); return nil }); err != nil {
		return st, err
	}
	rows, _ = db.pool.Query(ctx, `SELECT a.question_id, a.value, count(*) FILTER (WHERE NOT a.no_answer AND NOT a.skipped),
			count(*) FILTER (WHERE a.no_answer OR a.skipped), a.via IN ('text', 'speech', 'recording') AND a.value = a.raw
		FROM answers a JOIN conversations c ON c.id = a.conversation_id WHERE `+consented+`
		GROUP BY 1, 2, 5 ORDER BY 1, 2`, surveyID)
	var v ValueCount
	var skipped int
	var words bool
	if _, err := pgx.ForEachRow(rows, []any{&v.QuestionID, &v.Value, &v.N, &skipped, &words}, func() error {
		st.Skipped[v.QuestionID] += skipped
		if v.N > 0 {
			vc := v
			vc.SurveyID = surveyID
			if words {
				vc.Value = ""
			}
			st.Answers = append(st.Answers, vc)
		}
		return nil
	}); err != nil {
		return st, err
	}
	rows, _ = db.pool.Query(ctx, `SELECT t, count(*) FROM answers a JOIN conversations c ON c.id = a.conversation_id,
		unnest(a.themes) AS t WHERE `+consented+` AND NOT a.no_answer AND NOT a.skipped GROUP BY 1`, surveyID)
	_, err = pgx.ForEachRow(rows, []any{&k, &n}, func() error { st.Themes[k] = n; return nil })
	return st, err
}

// WordsAnswer is an answer in a member's own words, for choosing quotes
// and for actions.
type WordsAnswer struct {
	ID             int64
	ConversationID string
	QuestionID     string
	Themes         []string
	Words          string
	CreatedAt      time.Time
	Quoted         bool    // chosen as a quote
	Actions        []int64 // actions that cover it
}

// RecentWords lists a survey's latest answers in members' own words (typed,
// or the transcript of a recording), newest first.
func (db *DB) RecentWords(ctx context.Context, surveyID string, limit int) ([]WordsAnswer, error) {
	rows, err := db.pool.Query(ctx, `
		SELECT a.id, a.conversation_id, a.question_id, a.themes,
			CASE WHEN a.via = 'recording' THEN a.transcript ELSE a.raw END, a.created_at,
			EXISTS (SELECT 1 FROM quotes q WHERE q.answer_id = a.id),
			coalesce((SELECT array_agg(aa.action_id ORDER BY aa.action_id) FROM action_answers aa WHERE aa.answer_id = a.id), '{}')
		FROM answers a JOIN conversations c ON c.id = a.conversation_id
		WHERE c.survey_id = $1 AND c.consent IS NOT NULL AND NOT a.no_answer AND NOT a.skipped
			AND (a.via = 'recording' AND a.transcript <> '' OR a.via IN ('text', 'speech') AND a.value = a.raw AND a.raw <> '')
		ORDER BY a.created_at DESC, a.id DESC LIMIT $2`, surveyID, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowToStructByPos[WordsAnswer])
}
