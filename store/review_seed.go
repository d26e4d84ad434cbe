package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Seed describes many made-up conversations, loaded fast with COPY, for
// benchmarks of the review pages (a million answers load in seconds, where
// running the engine would take hours). The server never calls it.
type Seed struct {
	SurveyID      string // must exist, at version 1
	Conversations int
	// AnswersEach is how many answers each conversation has (default 4:
	// a choice, the member's own words, a scale, a choice).
	AnswersEach int
	// People is how many members they come from (default a quarter of the
	// conversations).
	People int
	// End is when the newest conversation started; they go back one a
	// minute from there. Default now.
	End time.Time
	// Rand makes the words; default a fixed seed, so runs compare.
	Rand *rand.Rand
}

var seedWords = strings.Fields(`the staff are kind and I like the garden but the bus is often late
I want more trips out to the park and the shops my friend helps me with cooking on Monday
sometimes it is too noisy in the big room I would like a quiet place to sit lunch is nice
art group music dancing swimming computers college football walking the minibus driver
I feel safe here I do not feel listened to please can we have more choice about activities
my support worker changes a lot I miss my old keyworker the toilets are dirty the new room is good`)

// seedSentence makes a sentence of n made-up feedback words.
func seedSentence(r *rand.Rand, n int) string {
	w := make([]string, n)
	for i := range w {
		w[i] = seedWords[r.IntN(len(seedWords))]
	}
	return strings.Join(w, " ")
}

// SeedConversations loads s.Conversations conversations with their
// answers and participants using COPY.
func (db *DB) SeedConversations(ctx context.Context, s Seed) error {
	if s.AnswersEach <= 0 {
		s.AnswersEach = 4
	}
	if s.People <= 0 {
		s.People = max(1, s.Conversations/4)
	}
	if s.End.IsZero() {
		s.End = time.Now()
	}
	r := s.Rand
	if r == nil {
		r = rand.New(rand.NewPCG(1, 2))
	}
	conn, err := db.pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		var first int64
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(id), 0) + 1 FROM participants`).Scan(&first); err != nil {
			return err
		}
		i := 0
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"participants"}, []string{"id", "phone_hash", "phone_enc", "phone_masked"},
			pgx.CopyFromFunc(func() ([]any, error) {
				if i == s.People {
					return nil, nil
				}
				i++
				number := fmt.Sprintf("+447700%06d", i)
				return []any{first + int64(i) - 1, []byte(fmt.Sprintf("seed-%d-%09d", first, i)), []byte{0}, Mask(number)}, nil
			}))
		if err != nil {
			return fmt.Errorf("seeding people: %w", err)
		}
		if _, err := tx.Exec(ctx, `SELECT setval(pg_get_serial_sequence('participants', 'id'), $1)`, first+int64(s.People)-1); err != nil {
			return err
		}
		// Building indexes once afterwards is several times faster than
		// updating them row by row. Indexes that back a constraint stay
		// (the keys below are made in order, which they take cheaply).
		rows, err := tx.Query(ctx, `SELECT i.indexname, i.indexdef FROM pg_indexes i
			WHERE i.schemaname = current_schema() AND i.tablename IN ('conversations', 'answers')
			  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)`)
		if err != nil {
			return err
		}
		type index struct{ name, def string }
		indexes, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (index, error) {
			var i index
			return i, r.Scan(&i.name, &i.def)
		})
		if err != nil {
			return err
		}
		for _, i := range indexes {
			if _, err := tx.Exec(ctx, `DROP INDEX `+pgx.Identifier{i.name}.Sanitize()); err != nil {
				return err
			}
		}
		statuses := []string{"completed", "completed", "completed", "partial", "refused"}
		type conv struct {
			id      string
			channel string
			at      time.Time
		}
		convs := make([]conv, s.Conversations)
		i = 0
		_, err = tx.CopyFrom(ctx, pgx.Identifier{"conversations"},
			[]string{"id", "participant_id", "survey_id", "survey_version", "channel", "status", "started_at", "ended_at"},
			pgx.CopyFromFunc(func() ([]any, error) {
				if i == s.Conversations {
					return nil, nil
				}
				c := conv{id: fmt.Sprintf("seed-%d-%09d", first, i), channel: "sms", at: s.End.Add(-time.Duration(i) * time.Minute)}
				if r.IntN(3) == 0 {
					c.channel = "voice"
				}
				convs[i] = c
				i++
				return []any{c.id, first + int64(r.IntN(s.People)), s.SurveyID, 1, c.channel,
					statuses[r.IntN(len(statuses))], c.at, c.at.Add(4 * time.Minute)}, nil
			}))
		if err != nil {
			return fmt.Errorf("seeding conversations: %w", err)
		}
		questions := []string{"feel", "better", "staff", "days"}
		values := []string{"good", "ok", "not-good"}
		ci, qi := 0, 0
		_, err = tx.CopyFrom(ctx, pgx.Identifier{"answers"},
			[]string{"conversation_id", "question_id", "value", "raw", "via", "themes", "dedupe_key", "created_at"},
			pgx.CopyFromFunc(func() ([]any, error) {
				if qi == s.AnswersEach {
					ci, qi = ci+1, 0
				}
				if ci == s.Conversations {
					return nil, nil
				}
				c := convs[ci]
				q := questions[qi%len(questions)]
				row := []any{c.id, q, "", "", "", []string{}, fmt.Sprintf("%s:%d", c.id, qi), c.at.Add(time.Duration(qi) * time.Minute)}
				switch q {
				case "better":
					words := seedSentence(r, 4+r.IntN(12))
					row[2], row[3], row[5] = words, words, []string{"ideas"}
					row[4] = "text"
					if c.channel == "voice" {
						row[4] = "speech"
					}
				case "staff":
					v := fmt.Sprint(1 + r.IntN(5))
					row[2], row[3], row[4], row[5] = v, v, "digits", []string{"staff"}
				default:
					k := r.IntN(len(values))
					row[2], row[3], row[4], row[5] = values[k], fmt.Sprint(k+1), "digits", []string{"day-service"}
				}
				qi++
				return row, nil
			}))
		if err != nil {
			return fmt.Errorf("seeding answers: %w", err)
		}
		if _, err := tx.Exec(ctx, `SET LOCAL maintenance_work_mem = '256MB'`); err != nil {
			return err
		}
		for _, i := range indexes {
			if _, err := tx.Exec(ctx, i.def); err != nil {
				return fmt.Errorf("building %s again: %w", i.name, err)
			}
		}
		_, err = tx.Exec(ctx, `ANALYZE participants, conversations, answers`)
		return err
	})
}
