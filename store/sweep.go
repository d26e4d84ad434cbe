package store

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"time"
)

// CloseLost closes as partial the text conversations that are still
// active in Postgres but whose session Redis no longer has (Redis lost its
// data, or the session ran out of time), once nothing has been heard from
// the member for idle. When the session is gone it also remembers the
// survey as lapsed, so the member's next text is answered "sorry, we lost
// our place" with the keyword to start again, not a blank menu. It closes
// at most limit conversations and returns how many.
func (s *SMSSessions) CloseLost(ctx context.Context, db *DB, idle time.Duration, limit int) (int, error) {
	rows, err := db.pool.Query(ctx, `SELECT c.id, c.survey_id, p.phone_hash FROM conversations c JOIN participants p ON p.id = c.participant_id
		WHERE c.channel = 'sms' AND c.status = 'active' AND c.started_at < now() - $1::interval
		  AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.participant_id = c.participant_id AND m.created_at > now() - $1::interval)
		ORDER BY c.started_at LIMIT $2`, idle, limit)
	if err != nil {
		return 0, err
	}
	type lost struct{ id, survey, hash string }
	var found []lost
	for rows.Next() {
		var l lost
		var h []byte
		if err := rows.Scan(&l.id, &l.survey, &h); err != nil {
			rows.Close()
			return 0, err
		}
		if len(h) >= 16 {
			h = h[:16]
		}
		l.hash = hex.EncodeToString(h)
		found = append(found, l)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(found) == 0 {
		return 0, err
	}
	keys := make([]string, len(found))
	for i, l := range found {
		keys[i] = s.sessionKey(l.hash)
	}
	vals, err := s.r.client.MGet(ctx, keys...).Result()
	if err != nil {
		return 0, err
	}
	closed := 0
	for i, l := range found {
		gone := vals[i] == nil
		if !gone {
			var cur SMSSession
			if str, ok := vals[i].(string); !ok || json.Unmarshal([]byte(str), &cur) != nil || cur.Conversation == l.id {
				continue // still waiting for the member's next text
			}
		}
		tag, err := db.pool.Exec(ctx, `UPDATE conversations SET status = 'partial', ended_at = now() WHERE id = $1 AND status = 'active'`, l.id)
		if err != nil {
			return closed, err
		}
		if tag.RowsAffected() == 0 {
			continue
		}
		closed++
		if gone {
			if err := s.r.client.SetNX(ctx, s.lapsedKey(l.hash), l.survey, smsLapsedTTL).Err(); err != nil {
				return closed, err
			}
		}
	}
	return closed, nil
}
