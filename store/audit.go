package store

import (
	"context"
	"encoding/json"
	"time"
)

// AuditEntry is one line of the audit log: who did what to whom, when.
// Details never hold a password, a phone number or an answer.
type AuditEntry struct {
	ID      int64
	At      time.Time
	Actor   string         // a staff e-mail address, or "cli" / "system"
	Action  string         // e.g. "sign-in", "view-person", "reveal-number"
	Subject string         // what it was done to, e.g. "person:42"
	Detail  map[string]any // small facts, never personal data
}

// Audit writes one line to the audit log.
func (db *DB) Audit(ctx context.Context, actor, action, subject string, detail map[string]any) error {
	if detail == nil {
		detail = map[string]any{}
	}
	b, err := json.Marshal(detail)
	if err != nil {
		return err
	}
	_, err = db.pool.Exec(ctx, `INSERT INTO audit_log (actor, action, subject, detail) VALUES ($1, $2, $3, $4)`,
		actor, action, subject, b)
	return err
}

// AuditLog returns the latest lines, newest first; subject "" means all.
func (db *DB) AuditLog(ctx context.Context, subject string, limit int) ([]AuditEntry, error) {
	rows, err := db.pool.Query(ctx, `
		SELECT id, at, actor, action, subject, detail FROM audit_log
		WHERE $1 = '' OR subject = $1 ORDER BY at DESC, id DESC LIMIT $2`, subject, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var raw []byte
		if err := rows.Scan(&e.ID, &e.At, &e.Actor, &e.Action, &e.Subject, &raw); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(raw, &e.Detail); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
