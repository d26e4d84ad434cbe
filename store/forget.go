package store

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Erasure: a member texts FORGET, or staff act on a request made by phone,
// and everything kept about their number goes. A request is a row of its
// own (forget_requests) until the erasure that answers it commits: the row
// goes in the same transaction as the data, so a crash half-way leaves the
// request to be tried again, never a half-erased member with no request.
//
// One thing may be kept: the keyed hash of a number that texted STOP, with
// the date, and nothing else. Rule 4 says nobody who texted STOP is texted
// again until START; without the hash an invitation list could text them.

// AuditForget is the audit action written when an erasure is done. Its
// entry holds counts and how the request came, never who it was about.
const AuditForget = "forget"

// ForgetRequest is one request to erase everything about a number.
type ForgetRequest struct {
	ID          int64
	Person      Person // Hash and Enc (Masked is not kept)
	Source      string // sms, staff, cli
	RequestedBy string // a staff e-mail address, "cli", or "" for the member
	Confirm     bool   // text them a confirmation when done
	RequestedAt time.Time
	Attempts    int
}

// Erased counts what one erasure removed.
type Erased struct {
	People        int64 `json:"people"`
	Conversations int64 `json:"conversations"`
	Answers       int64 `json:"answers"`
	Messages      int64 `json:"messages"`
	CallInputs    int64 `json:"call_inputs"`
	Recordings    int64 `json:"recordings"`
	Transcripts   int64 `json:"transcripts"`
	Callbacks     int64 `json:"callbacks"`
	Notes         int64 `json:"notes"`
	Flags         int64 `json:"flags"`
	Outbound      int64 `json:"outbound"`
	Other         int64 `json:"other,omitempty"` // rows of other tables that name the conversations
	KeptOptOut    bool  `json:"kept_opt_out"`    // the hash of a number that texted STOP is kept
	// TwilioRecordings are the recordings whose Twilio copy is queued for
	// deletion (twilio_deletions); not in the audit entry.
	TwilioRecordings []string `json:"-"`
}

// RequestForget keeps a request to erase everything about p's number and
// returns its id. The same number asking twice has one request.
func (db *DB) RequestForget(ctx context.Context, p Person, source, by string, confirm bool) (int64, error) {
	var id int64
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `SELECT id FROM forget_requests WHERE phone_hash = $1 ORDER BY id LIMIT 1`, p.Hash).Scan(&id)
		if err == nil {
			_, err = tx.Exec(ctx, `UPDATE forget_requests SET confirm = confirm OR $2 WHERE id = $1`, id, confirm)
			return err
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		return tx.QueryRow(ctx, `INSERT INTO forget_requests (phone_hash, phone_enc, source, requested_by, confirm)
			VALUES ($1, $2, $3, $4, $5) RETURNING id`, p.Hash, p.Enc, source, by, confirm).Scan(&id)
	})
	return id, err
}

// RequestForgetMember is RequestForget for a member staff are looking at.
func (db *DB) RequestForgetMember(ctx context.Context, memberID int64, by string, confirm bool) (int64, error) {
	var p Person
	err := db.pool.QueryRow(ctx, `SELECT phone_hash, phone_enc FROM participants WHERE id = $1`, memberID).Scan(&p.Hash, &p.Enc)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, ErrNotFound
	}
	if err != nil {
		return 0, err
	}
	return db.RequestForget(ctx, p, "staff", by, confirm)
}

// PendingForgets returns requests not yet done, oldest first.
func (db *DB) PendingForgets(ctx context.Context, limit int) ([]ForgetRequest, error) {
	rows, err := db.pool.Query(ctx, `SELECT id, phone_hash, phone_enc, source, requested_by, confirm, requested_at, attempts
		FROM forget_requests ORDER BY id LIMIT $1`, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (ForgetRequest, error) {
		var f ForgetRequest
		err := r.Scan(&f.ID, &f.Person.Hash, &f.Person.Enc, &f.Source, &f.RequestedBy, &f.Confirm, &f.RequestedAt, &f.Attempts)
		return f, err
	})
}

// GetForget returns one request; ErrNotFound once it is done.
func (db *DB) GetForget(ctx context.Context, id int64) (ForgetRequest, error) {
	var f ForgetRequest
	err := db.pool.QueryRow(ctx, `SELECT id, phone_hash, phone_enc, source, requested_by, confirm, requested_at, attempts
		FROM forget_requests WHERE id = $1`, id).Scan(&f.ID, &f.Person.Hash, &f.Person.Enc, &f.Source, &f.RequestedBy, &f.Confirm, &f.RequestedAt, &f.Attempts)
	if errors.Is(err, pgx.ErrNoRows) {
		return f, ErrNotFound
	}
	return f, err
}

// ForgetFailed notes why a request could not be done yet (the reason
// must hold no personal data); it is tried again.
func (db *DB) ForgetFailed(ctx context.Context, id int64, reason string) error {
	_, err := db.pool.Exec(ctx, `UPDATE forget_requests SET attempts = attempts + 1, last_error = $2 WHERE id = $1`, id, reason)
	return err
}

// PersonTrail is where a number's conversations are, for the parts of an
// erasure outside Postgres (Redis keys, the spool).
type PersonTrail struct {
	Conversations []string
	CallSids      []string
}

// PersonTrail finds the conversations and calls of the number whose hash
// is hash.
func (db *DB) PersonTrail(ctx context.Context, hash []byte) (PersonTrail, error) {
	var t PersonTrail
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		var err error
		t.Conversations, err = personConversations(ctx, tx, hash)
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT call_sid FROM conversations WHERE id = ANY($1) AND call_sid IS NOT NULL
			UNION SELECT DISTINCT call_sid FROM call_inputs WHERE conversation_id = ANY($1)`, t.Conversations)
		if err != nil {
			return err
		}
		t.CallSids, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	})
	return t, err
}

func personConversations(ctx context.Context, tx pgx.Tx, hash []byte) ([]string, error) {
	rows, err := tx.Query(ctx, `
		WITH p AS (SELECT id FROM participants WHERE phone_hash = $1)
		SELECT id FROM conversations WHERE participant_id IN (SELECT id FROM p)
		UNION SELECT conversation_id FROM messages WHERE participant_id IN (SELECT id FROM p) AND conversation_id IS NOT NULL
		UNION SELECT conversation_id FROM callbacks WHERE participant_id IN (SELECT id FROM p) AND conversation_id IS NOT NULL
		UNION SELECT conversation_id FROM outbound WHERE phone_hash = $1 AND conversation_id IS NOT NULL`, hash)
	if err != nil {
		return nil, err
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if ids == nil {
		ids = []string{}
	}
	return ids, err
}

// keptByPolicy are tables an erasure leaves alone: a worry's record is
// kept as the charity's safeguarding policy says (HYS_RETAIN_WORRIES),
// whoever asks; its own retention removes it.
func keptByPolicy(table string) bool {
	return strings.HasPrefix(table, "worr") || strings.HasPrefix(table, "river_")
}

// ErasePerson deletes everything kept in Postgres about the number whose
// hash is hash, in one transaction, together with request requestID (0:
// none) and with an audit entry (actor, AuditForget) that holds only
// counts. Twilio's copies of the member's recordings are queued in
// twilio_deletions for DeleteAtTwilio.
func (db *DB) ErasePerson(ctx context.Context, hash []byte, requestID int64, actor, source string) (Erased, error) {
	var e Erased
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		e = Erased{}
		// One erasure of a number at a time (two requests, two servers).
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended(encode($1, 'hex'), 42))`, hash); err != nil {
			return err
		}
		convs, err := personConversations(ctx, tx, hash)
		if err != nil {
			return err
		}
		var pids []int64
		var optedOut bool
		rows, err := tx.Query(ctx, `SELECT id, opted_out_at IS NOT NULL FROM participants WHERE phone_hash = $1`, hash)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id int64
			var out bool
			if err := rows.Scan(&id, &out); err != nil {
				rows.Close()
				return err
			}
			pids = append(pids, id)
			optedOut = optedOut || out
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if pids == nil {
			pids = []int64{}
		}
		rows, err = tx.Query(ctx, `SELECT dedupe_key FROM answers WHERE conversation_id = ANY($1)`, convs)
		if err != nil {
			return err
		}
		keys, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		if keys == nil {
			keys = []string{}
		}
		rows, err = tx.Query(ctx, `SELECT sid, deleted_from_twilio_at IS NULL FROM recordings
			WHERE conversation_id = ANY($1) OR answer_key = ANY($2)`, convs, keys)
		if err != nil {
			return err
		}
		var sids []string
		for rows.Next() {
			var sid string
			var atTwilio bool
			if err := rows.Scan(&sid, &atTwilio); err != nil {
				rows.Close()
				return err
			}
			sids = append(sids, sid)
			if atTwilio {
				e.TwilioRecordings = append(e.TwilioRecordings, sid)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if sids == nil {
			sids = []string{}
		}
		if len(e.TwilioRecordings) > 0 {
			if _, err := tx.Exec(ctx, `INSERT INTO twilio_deletions (recording_sid, reason) SELECT unnest($1::text[]), 'forget'
				ON CONFLICT (recording_sid) DO NOTHING`, e.TwilioRecordings); err != nil {
				return err
			}
		}

		del := func(n *int64, sql string, args ...any) error {
			tag, err := tx.Exec(ctx, sql, args...)
			if err != nil {
				return err
			}
			*n += tag.RowsAffected()
			return nil
		}
		steps := []struct {
			n    *int64
			sql  string
			args []any
		}{
			{&e.Notes, `DELETE FROM notes WHERE conversation_id = ANY($1)`, []any{convs}},
			{&e.Flags, `DELETE FROM flags WHERE conversation_id = ANY($1)`, []any{convs}},
			{&e.Transcripts, `DELETE FROM transcripts WHERE recording_sid = ANY($1) OR (answer_key <> '' AND answer_key = ANY($2))`, []any{sids, keys}},
			{&e.Recordings, `DELETE FROM recordings WHERE sid = ANY($1)`, []any{sids}},
			{&e.Answers, `DELETE FROM answers WHERE conversation_id = ANY($1)`, []any{convs}},
			{&e.CallInputs, `DELETE FROM call_inputs WHERE conversation_id = ANY($1)`, []any{convs}},
			{&e.Messages, `DELETE FROM messages WHERE participant_id = ANY($1) OR conversation_id = ANY($2)`, []any{pids, convs}},
			{&e.Callbacks, `DELETE FROM callbacks WHERE participant_id = ANY($1) OR conversation_id = ANY($2)`, []any{pids, convs}},
			{&e.Outbound, `DELETE FROM outbound WHERE phone_hash = $1 OR conversation_id = ANY($2)`, []any{hash, convs}},
		}
		for _, s := range steps {
			if err := del(s.n, s.sql, s.args...); err != nil {
				return err
			}
		}
		other, err := deleteFromLaterTables(ctx, tx, convs)
		if err != nil {
			return err
		}
		e.Other += other
		if err := del(&e.Conversations, `DELETE FROM conversations WHERE id = ANY($1)`, convs); err != nil {
			return err
		}
		if optedOut {
			// Rule 4: the hash and the date of STOP stay, nothing else.
			e.KeptOptOut = true
			if _, err := tx.Exec(ctx, `UPDATE participants SET phone_enc = '', phone_masked = '', language = '', needs = '{}'
				WHERE id = ANY($1)`, pids); err != nil {
				return err
			}
			// Keep one row only: a second would be a duplicate hash anyway.
			e.People = int64(len(pids))
		} else if err := del(&e.People, `DELETE FROM participants WHERE id = ANY($1)`, pids); err != nil {
			return err
		}
		if requestID != 0 {
			if _, err := tx.Exec(ctx, `DELETE FROM forget_requests WHERE id = $1`, requestID); err != nil {
				return err
			}
		}
		// Any other request for the same number is answered by this one.
		if _, err := tx.Exec(ctx, `DELETE FROM forget_requests WHERE phone_hash = $1`, hash); err != nil {
			return err
		}
		detail, err := json.Marshal(e)
		if err != nil {
			return err
		}
		var d map[string]any
		if err := json.Unmarshal(detail, &d); err != nil {
			return err
		}
		d["source"] = source
		d["twilio_recordings"] = len(e.TwilioRecordings)
		return writeAudit(ctx, tx, actor, AuditForget, "", d)
	})
	return e, err
}

// TwilioDeletion is a recording whose Twilio copy is still to be deleted.
type TwilioDeletion struct {
	SID      string
	Reason   string
	Attempts int
}

// PendingTwilioDeletions returns recordings whose Twilio copy is still to
// be deleted, those tried least first.
func (db *DB) PendingTwilioDeletions(ctx context.Context, limit int) ([]TwilioDeletion, error) {
	rows, err := db.pool.Query(ctx, `SELECT recording_sid, reason, attempts FROM twilio_deletions
		ORDER BY attempts, created_at LIMIT $1`, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (TwilioDeletion, error) {
		var d TwilioDeletion
		err := r.Scan(&d.SID, &d.Reason, &d.Attempts)
		return d, err
	})
}

// TwilioDeleted forgets a recording Twilio has deleted (or never had).
func (db *DB) TwilioDeleted(ctx context.Context, sid string) error {
	_, err := db.pool.Exec(ctx, `DELETE FROM twilio_deletions WHERE recording_sid = $1`, sid)
	return err
}

// TwilioDeleteFailed notes a failed deletion at Twilio; it is tried again.
func (db *DB) TwilioDeleteFailed(ctx context.Context, sid, reason string) error {
	_, err := db.pool.Exec(ctx, `UPDATE twilio_deletions SET attempts = attempts + 1, last_error = $2 WHERE recording_sid = $1`, sid, reason)
	return err
}

// ErasePerson deletes the live state Redis keeps about a number (by the hex
// hash of it, Phones.HashString) and about its calls: text sessions, the
// place a caller can resume, which conversation a call belongs to. The
// opt-out mark stays when keepOptOut (see DB.ErasePerson). It returns how
// many keys went.
func (r *Redis) ErasePerson(ctx context.Context, hashHex string, callSids []string, keepOptOut bool) (int64, error) {
	s := &SMSSessions{r: r}
	keys := []string{s.sessionKey(hashHex), s.lapsedKey(hashHex), s.finishedKey(hashHex), r.callResumeKey(hashHex)}
	if !keepOptOut {
		keys = append(keys, s.optOutKey(hashHex))
	}
	for _, sid := range callSids {
		keys = append(keys, r.callKey(sid), r.callRestartsKey(sid))
		// Step keys (CallSid and step number) hold nothing but a mark;
		// they go too.
		iter := r.client.Scan(ctx, 0, r.callStepKey(sid)+"*", 200).Iterator()
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		if err := iter.Err(); err != nil {
			return 0, err
		}
	}
	return r.client.Del(ctx, keys...).Result()
}

// ErasePerson runs during (the erasure in Postgres) while no other writer
// moves the spool to Postgres, after first writing everything this
// journal's file spool holds to Postgres: what was spooled about the
// number is then in Postgres for during to erase, and the spool's segment
// files that held it are deleted once written. Events about them kept
// aside in Redis (events Postgres refused) are removed too. It returns how
// many set-aside events went. Another server's spool is reached only by
// that server: run the erasure again if several servers share the work
// and one was down (docs/privacy.md).
func (j *Journal) ErasePerson(ctx context.Context, hash []byte, convs []string, during func(context.Context) error) (int64, error) {
	j.drain.Lock()
	defer j.drain.Unlock()
	for {
		n, err := j.drainLocked(ctx, drainBatch)
		if err != nil {
			return 0, fmt.Errorf("writing the spool to Postgres first: %w", err)
		}
		if n == 0 {
			break
		}
	}
	var n int64
	raw, err := j.redis.client.LRange(ctx, j.failedKey(), 0, -1).Result()
	if err != nil {
		return 0, err
	}
	// Conversations only in the set-aside events are theirs too.
	for _, r := range raw {
		var e Event
		if json.Unmarshal([]byte(r), &e) == nil && e.Conversation != nil && string(e.Conversation.Person.Hash) == string(hash) {
			convs = append(convs, e.Conversation.ID)
		}
	}
	for _, r := range raw {
		if !eventAbout(r, hash, convs) {
			continue
		}
		m, err := j.redis.client.LRem(ctx, j.failedKey(), 0, r).Result()
		if err != nil {
			return n, err
		}
		n += m
	}
	if during != nil {
		return n, during(ctx)
	}
	return n, nil
}

// eventAbout reports whether a spooled event names the hash or one of the
// conversations. An event that cannot be read is matched on its text.
func eventAbout(raw string, hash []byte, convs []string) bool {
	var e Event
	if err := json.Unmarshal([]byte(raw), &e); err != nil {
		return strings.Contains(raw, base64.StdEncoding.EncodeToString(hash)) || strings.Contains(raw, hex.EncodeToString(hash))
	}
	same := func(p Person) bool { return string(p.Hash) == string(hash) }
	in := func(id string) bool { return id != "" && slices.Contains(convs, id) }
	switch {
	case e.Conversation != nil:
		return same(e.Conversation.Person) || in(e.Conversation.ID)
	case e.Answer != nil:
		return in(e.Answer.ConversationID)
	case e.End != nil:
		return in(e.End.ID)
	case e.Message != nil:
		return same(e.Message.Person) || in(e.Message.ConversationID)
	case e.OptOut != nil:
		// An opt-out is kept: rule 4 (see DB.ErasePerson).
		return false
	case e.Callback != nil:
		return same(e.Callback.Person) || in(e.Callback.ConversationID)
	case e.Input != nil:
		return in(e.Input.ConversationID)
	}
	return false
}

// HashHex is Phones.HashString for a hash already made (Phones.Hash): the
// form Redis keys use.
func HashHex(hash []byte) string {
	return hex.EncodeToString(hash[:min(16, len(hash))])
}

// deleteFromLaterTables deletes the rows about convs from every table that
// names a conversation (a conversation_id column) beyond the ones erasure
// and retention delete from by name, except tables kept by policy
// (keptByPolicy: worries), and returns how many went. Tables added by later
// features are covered without changing erasure or retention.
func deleteFromLaterTables(ctx context.Context, tx pgx.Tx, convs []string) (int64, error) {
	rows, err := tx.Query(ctx, `SELECT table_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND column_name = 'conversation_id'
		AND table_name NOT IN ('notes', 'flags', 'answers', 'call_inputs', 'messages', 'callbacks', 'outbound', 'recordings', 'conversations')
		ORDER BY table_name`)
	if err != nil {
		return 0, err
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return 0, err
	}
	var n int64
	for _, t := range tables {
		if keptByPolicy(t) {
			continue
		}
		tag, err := tx.Exec(ctx, fmt.Sprintf(`DELETE FROM %s WHERE conversation_id = ANY($1)`, pgx.Identifier{t}.Sanitize()), convs)
		if err != nil {
			return n, err
		}
		n += tag.RowsAffected()
	}
	return n, nil
}
