package store

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
)

// applyBatch writes events to Postgres in one transaction of a few
// statements, whatever their number: the people first (one upsert), then
// one multi-row INSERT per table, then the updates (ends, statuses,
// opt-outs) in the order they happened, all sent together. The rows are
// the ones applyEvent makes one event at a time.
func (j *Journal) applyBatch(ctx context.Context, events []Event) error {
	var b batchRows
	for _, e := range events {
		b.add(e)
	}
	return pgx.BeginFunc(ctx, j.db.pool, func(tx pgx.Tx) error {
		ids, err := b.people(ctx, tx)
		if err != nil {
			return err
		}
		batch := &pgx.Batch{}
		b.queue(batch, ids)
		if err := tx.SendBatch(ctx, batch).Close(); err != nil {
			return err
		}
		// Worries last, in the same transaction: the conversations they
		// name are in by now, and their alert jobs are queued with them.
		for _, w := range b.worries {
			if _, _, err := j.db.raiseWorry(ctx, tx, *w.Worry, w.At); err != nil {
				return err
			}
		}
		return nil
	})
}

// batchRows gathers a batch's events into columns, one set per table. A
// row whose key came earlier in the batch is dropped, as ON CONFLICT DO
// NOTHING would drop it one event at a time.
type batchRows struct {
	persons map[string]Person
	seen    map[string]bool
	worries []Event // raised after the rows (DB.raiseWorry)

	conv struct {
		id, survey, channel, lang, person []string
		callSid                           []*string
		version                           []int32
		at                                []time.Time
	}
	ans struct {
		conv, q, value, raw, via, themes, key []string
		noAnswer, skipped                     []bool
		at                                    []time.Time
	}
	msg struct {
		key, dir, body, status, media, person []string
		sid, conv                             []*string
		at                                    []time.Time
	}
	in struct {
		key, conv, callSid, stage, q, digits, speech []string
		conf                                         []*float64
		understood                                   []bool
		at                                           []time.Time
	}
	cb struct {
		key, person, channel, reason []string
		conv                         []*string
		at                           []time.Time
	}
	// Ends, as one UPDATE per kind for the batch: the last consent and
	// "tell me" for a conversation win, and only its first end counts
	// (one by one, a later end finds it no longer active).
	consent, tellMe, ended keyed
	updates                []Event // languages, statuses and opt-outs, in order
}

// keyed holds one value per conversation, in the order first seen.
type keyed struct {
	ids  []string
	vals []string
	at   []time.Time
	idx  map[string]int
}

// set records v for id: the last one wins, or the first when first is true.
func (k *keyed) set(id, v string, at time.Time, first bool) {
	if i, ok := k.idx[id]; ok {
		if !first {
			k.vals[i], k.at[i] = v, at
		}
		return
	}
	if k.idx == nil {
		k.idx = map[string]int{}
	}
	k.idx[id] = len(k.ids)
	k.ids, k.vals, k.at = append(k.ids, id), append(k.vals, v), append(k.at, at)
}

// first reports whether key (in table kind) is new to the batch.
func (b *batchRows) first(kind, key string) bool {
	if b.seen == nil {
		b.seen = map[string]bool{}
	}
	k := kind + "\x00" + key
	if b.seen[k] {
		return false
	}
	b.seen[k] = true
	return true
}

// person notes someone the batch needs the id of, by the hash as a key.
func (b *batchRows) person(p Person) string {
	if b.persons == nil {
		b.persons = map[string]Person{}
	}
	k := string(p.Hash)
	if _, ok := b.persons[k]; !ok {
		b.persons[k] = p
	}
	return k
}

func jsonList(list []string) string {
	if list == nil {
		list = []string{}
	}
	s, _ := json.Marshal(list)
	return string(s)
}

func (b *batchRows) add(e Event) {
	switch {
	case e.Conversation != nil:
		c := e.Conversation
		pk := b.person(c.Person)
		if !b.first("conv", c.ID) {
			return
		}
		b.conv.id = append(b.conv.id, c.ID)
		b.conv.person = append(b.conv.person, pk)
		b.conv.survey = append(b.conv.survey, c.SurveyID)
		b.conv.version = append(b.conv.version, int32(c.Version))
		b.conv.channel = append(b.conv.channel, c.Channel)
		b.conv.callSid = append(b.conv.callSid, nullable(c.CallSid))
		b.conv.lang = append(b.conv.lang, c.Language)
		b.conv.at = append(b.conv.at, e.At)
	case e.Answer != nil:
		a := e.Answer
		if !b.first("ans", a.DedupeKey) {
			return
		}
		b.ans.conv = append(b.ans.conv, a.ConversationID)
		b.ans.q = append(b.ans.q, a.QuestionID)
		b.ans.value = append(b.ans.value, a.Value)
		b.ans.raw = append(b.ans.raw, a.Raw)
		b.ans.via = append(b.ans.via, a.Via)
		b.ans.noAnswer = append(b.ans.noAnswer, a.NoAnswer)
		b.ans.skipped = append(b.ans.skipped, a.Skipped)
		b.ans.themes = append(b.ans.themes, jsonList(a.Themes))
		b.ans.key = append(b.ans.key, a.DedupeKey)
		b.ans.at = append(b.ans.at, e.At)
	case e.Message != nil:
		m := e.Message
		pk := b.person(m.Person)
		if !b.first("msg", m.DedupeKey) {
			return
		}
		b.msg.key = append(b.msg.key, m.DedupeKey)
		b.msg.dir = append(b.msg.dir, m.Direction)
		b.msg.sid = append(b.msg.sid, nullable(m.MessageSid))
		b.msg.person = append(b.msg.person, pk)
		b.msg.conv = append(b.msg.conv, nullable(m.ConversationID))
		b.msg.body = append(b.msg.body, m.Body)
		b.msg.status = append(b.msg.status, m.Status)
		b.msg.media = append(b.msg.media, jsonList(m.Media))
		b.msg.at = append(b.msg.at, e.At)
	case e.Input != nil:
		in := e.Input
		if !b.first("in", in.DedupeKey) {
			return
		}
		var conf *float64
		if in.Speech != "" && in.Confidence > 0 {
			c := in.Confidence
			conf = &c
		}
		b.in.key = append(b.in.key, in.DedupeKey)
		b.in.conv = append(b.in.conv, in.ConversationID)
		b.in.callSid = append(b.in.callSid, in.CallSid)
		b.in.stage = append(b.in.stage, in.Stage)
		b.in.q = append(b.in.q, in.QuestionID)
		b.in.digits = append(b.in.digits, in.Digits)
		b.in.speech = append(b.in.speech, in.Speech)
		b.in.conf = append(b.in.conf, conf)
		b.in.understood = append(b.in.understood, in.Understood)
		b.in.at = append(b.in.at, e.At)
	case e.Callback != nil:
		c := e.Callback
		pk := b.person(c.Person)
		if !b.first("cb", c.DedupeKey) {
			return
		}
		b.cb.key = append(b.cb.key, c.DedupeKey)
		b.cb.person = append(b.cb.person, pk)
		b.cb.conv = append(b.cb.conv, nullable(c.ConversationID))
		b.cb.channel = append(b.cb.channel, c.Channel)
		b.cb.reason = append(b.cb.reason, c.Reason)
		b.cb.at = append(b.cb.at, e.At)
	case e.OptOut != nil:
		b.person(e.OptOut.Person)
		b.updates = append(b.updates, e)
	case e.Worry != nil:
		b.worries = append(b.worries, e)
	case e.End != nil && e.End.ID != "" && (e.End.Consent != "" || e.End.Status != "" || e.End.TellMe != ""):
		end := e.End
		if end.Consent != "" {
			b.consent.set(end.ID, end.Consent, e.At, false)
		}
		if end.Status != "" {
			b.ended.set(end.ID, end.Status, e.At, true)
		}
		if end.TellMe != "" {
			b.tellMe.set(end.ID, end.TellMe, e.At, false)
		}
		if end.Language != "" {
			b.updates = append(b.updates, Event{At: e.At, End: &ConversationEnded{ID: end.ID, Language: end.Language}})
		}
	default:
		// Ends and statuses; an empty event fails here, as one by one.
		b.updates = append(b.updates, e)
	}
}

// people upserts everyone the batch names, in hash order (so two writers
// never wait on each other in a cycle), and returns their ids by hash.
func (b *batchRows) people(ctx context.Context, tx pgx.Tx) (map[string]int64, error) {
	ids := make(map[string]int64, len(b.persons))
	if len(b.persons) == 0 {
		return ids, nil
	}
	keys := make([]string, 0, len(b.persons))
	for k := range b.persons {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	hash, enc, masked := make([][]byte, len(keys)), make([][]byte, len(keys)), make([]string, len(keys))
	for i, k := range keys {
		p := b.persons[k]
		hash[i], enc[i], masked[i] = p.Hash, p.Enc, p.Masked
	}
	// New people are inserted; everyone's id is then read. (One at a
	// time, the writer upserts with a no-op update; the rows are the same.)
	if _, err := tx.Exec(ctx, `INSERT INTO participants (phone_hash, phone_enc, phone_masked)
		SELECT * FROM unnest($1::bytea[], $2::bytea[], $3::text[]) ON CONFLICT (phone_hash) DO NOTHING`, hash, enc, masked); err != nil {
		return nil, err
	}
	rows, err := tx.Query(ctx, `SELECT id, phone_hash FROM participants WHERE phone_hash = ANY($1::bytea[])`, hash)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var h []byte
		if err := rows.Scan(&id, &h); err != nil {
			return nil, err
		}
		ids[string(h)] = id
	}
	return ids, rows.Err()
}

func personIDs(keys []string, ids map[string]int64) []int64 {
	out := make([]int64, len(keys))
	for i, k := range keys {
		out[i] = ids[k]
	}
	return out
}

// queue adds the batch's statements: one INSERT per table with rows, then
// each update.
func (b *batchRows) queue(batch *pgx.Batch, ids map[string]int64) {
	if c := b.conv; len(c.id) > 0 {
		batch.Queue(`INSERT INTO conversations (id, participant_id, survey_id, survey_version, channel, call_sid, language, started_at)
			SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::int[], $5::text[], $6::text[], $7::text[], $8::timestamptz[])
			ON CONFLICT (id) DO NOTHING`,
			c.id, personIDs(c.person, ids), c.survey, c.version, c.channel, c.callSid, c.lang, c.at)
	}
	if a := b.ans; len(a.key) > 0 {
		batch.Queue(`INSERT INTO answers (conversation_id, question_id, value, raw, via, no_answer, skipped, themes, dedupe_key, created_at)
			SELECT c, q, v, r, via, na, sk, CASE WHEN t = '[]' THEN '{}'::text[] ELSE ARRAY(SELECT jsonb_array_elements_text(t::jsonb)) END, k, at
			FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bool[], $7::bool[], $8::text[], $9::text[], $10::timestamptz[])
			  WITH ORDINALITY AS x(c, q, v, r, via, na, sk, t, k, at, n)
			ORDER BY n
			ON CONFLICT (dedupe_key) DO NOTHING`,
			a.conv, a.q, a.value, a.raw, a.via, a.noAnswer, a.skipped, a.themes, a.key, a.at)
	}
	if m := b.msg; len(m.key) > 0 {
		batch.Queue(`INSERT INTO messages (dedupe_key, direction, message_sid, participant_id, conversation_id, body, status, media, created_at, updated_at)
			SELECT k, d, sid, p, c, body, st, CASE WHEN media = '[]' THEN '{}'::text[] ELSE ARRAY(SELECT jsonb_array_elements_text(media::jsonb)) END, at, at
			FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::text[], $9::timestamptz[])
			  WITH ORDINALITY AS x(k, d, sid, p, c, body, st, media, at, n)
			ORDER BY n
			ON CONFLICT (dedupe_key) DO NOTHING`,
			m.key, m.dir, m.sid, personIDs(m.person, ids), m.conv, m.body, m.status, m.media, m.at)
	}
	if in := b.in; len(in.key) > 0 {
		batch.Queue(`INSERT INTO call_inputs (dedupe_key, conversation_id, call_sid, stage, question_id, digits, speech, confidence, understood, created_at)
			SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::float8[], $9::bool[], $10::timestamptz[])
			ON CONFLICT (dedupe_key) DO NOTHING`,
			in.key, in.conv, in.callSid, in.stage, in.q, in.digits, in.speech, in.conf, in.understood, in.at)
	}
	if c := b.cb; len(c.key) > 0 {
		batch.Queue(`INSERT INTO callbacks (dedupe_key, participant_id, conversation_id, channel, reason, created_at)
			SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::timestamptz[])
			ON CONFLICT (dedupe_key) DO NOTHING`,
			c.key, personIDs(c.person, ids), c.conv, c.channel, c.reason, c.at)
	}
	if c := b.consent; len(c.ids) > 0 {
		batch.Queue(`UPDATE conversations c SET consent = u.v FROM unnest($1::text[], $2::text[]) AS u(id, v) WHERE c.id = u.id`,
			c.ids, c.vals)
	}
	if e := b.ended; len(e.ids) > 0 {
		batch.Queue(`UPDATE conversations c SET status = u.v, ended_at = u.at
			FROM unnest($1::text[], $2::text[], $3::timestamptz[]) AS u(id, v, at) WHERE c.id = u.id AND c.status = 'active'`,
			e.ids, e.vals, e.at)
	}
	if t := b.tellMe; len(t.ids) > 0 {
		batch.Queue(`UPDATE conversations c SET tell_me = (u.v = 'yes') FROM unnest($1::text[], $2::text[]) AS u(id, v) WHERE c.id = u.id`,
			t.ids, t.vals)
	}
	for _, e := range b.updates {
		queueUpdate(batch, e, ids)
	}
}

// queueUpdate adds an end, a delivery status or an opt-out, as applyEvent
// writes it.
func queueUpdate(batch *pgx.Batch, e Event, ids map[string]int64) {
	switch {
	case e.End != nil:
		if e.End.Consent != "" {
			batch.Queue(`UPDATE conversations SET consent = $2 WHERE id = $1`, e.End.ID, e.End.Consent)
		}
		if e.End.Language != "" {
			batch.Queue(`WITH c AS (UPDATE conversations SET language = $2 WHERE id = $1 RETURNING participant_id)
				UPDATE participants SET language = $2 WHERE id IN (SELECT participant_id FROM c)`, e.End.ID, e.End.Language)
		}
		if e.End.Status != "" {
			batch.Queue(`UPDATE conversations SET status = $2, ended_at = $3 WHERE id = $1 AND status = 'active'`,
				e.End.ID, e.End.Status, e.At)
		}
		if e.End.TellMe != "" {
			batch.Queue(`UPDATE conversations SET tell_me = $2 WHERE id = $1`, e.End.ID, e.End.TellMe == "yes")
		}
	case e.Status != nil:
		s := e.Status
		var code *int
		if s.ErrorCode != 0 {
			code = &s.ErrorCode
		}
		batch.Queue(`UPDATE messages SET status = $2, error_code = coalesce($3, error_code), updated_at = greatest(updated_at, $4)
			WHERE message_sid = $1 AND (`+statusRankSQL+` < $5 OR (`+statusRankSQL+` = $5 AND updated_at <= $4))`,
			s.MessageSid, s.Status, code, e.At, messageStatusRank(s.Status))
	case e.OptOut != nil:
		pid := ids[string(e.OptOut.Person.Hash)]
		if e.OptOut.Out {
			batch.Queue(`UPDATE participants SET opted_out_at = $2 WHERE id = $1`, pid, e.At)
		} else {
			batch.Queue(`UPDATE participants SET opted_out_at = NULL WHERE id = $1 AND opted_out_at <= $2`, pid, e.At)
		}
	default:
		// Nothing in it: fail the batch, so that one by one it is set aside.
		batch.Queue(`SELECT 1/0`)
	}
}
