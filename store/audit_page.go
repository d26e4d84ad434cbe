package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/jackc/pgx/v5"
)

// AuditFilter chooses lines of the audit log for the audit page. Empty
// fields choose everything.
type AuditFilter struct {
	Actor  string    // exactly this actor (an e-mail address, "cli", "system")
	Action string    // exactly this action
	From   time.Time // at or after
	Until  time.Time // before
	Before int64     // the page after: lines with a smaller id (0: the newest)
	Limit  int       // default 50
}

// AuditPage returns lines newest first, and the Before of the next page (0
// when there is none).
func (db *DB) AuditPage(ctx context.Context, f AuditFilter) ([]AuditEntry, int64, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	var from, until *time.Time
	if !f.From.IsZero() {
		from = &f.From
	}
	if !f.Until.IsZero() {
		until = &f.Until
	}
	rows, err := db.pool.Query(ctx, `
		SELECT id, at, actor, action, subject, detail FROM audit_log
		WHERE ($1 = '' OR lower(actor) = lower($1)) AND ($2 = '' OR action = $2)
			AND ($3::timestamptz IS NULL OR at >= $3) AND ($4::timestamptz IS NULL OR at < $4)
			AND ($5 = 0 OR id < $5)
		ORDER BY id DESC LIMIT $6`, f.Actor, f.Action, from, until, f.Before, f.Limit+1)
	if err != nil {
		return nil, 0, err
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (AuditEntry, error) {
		var e AuditEntry
		var raw []byte
		if err := r.Scan(&e.ID, &e.At, &e.Actor, &e.Action, &e.Subject, &raw); err != nil {
			return e, err
		}
		return e, json.Unmarshal(raw, &e.Detail)
	})
	if err != nil {
		return nil, 0, err
	}
	var next int64
	if len(out) > f.Limit {
		out = out[:f.Limit]
		next = out[len(out)-1].ID
	}
	return out, next, nil
}

// AuditChoices are the actors and actions the audit log holds, for the
// audit page's filters.
func (db *DB) AuditChoices(ctx context.Context) (actors, actions []string, err error) {
	rows, err := db.pool.Query(ctx, `SELECT DISTINCT actor FROM audit_log ORDER BY actor`)
	if err != nil {
		return nil, nil, err
	}
	if actors, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
		return nil, nil, err
	}
	rows, err = db.pool.Query(ctx, `SELECT DISTINCT action FROM audit_log ORDER BY action`)
	if err != nil {
		return nil, nil, err
	}
	actions, err = pgx.CollectRows(rows, pgx.RowTo[string])
	return actors, actions, err
}
