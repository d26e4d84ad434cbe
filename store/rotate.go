package store

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
)

// Key rotation: every stored number is sealed with, and found by a hash
// keyed with, HYS_SECRET_KEY. RotatePhones moves them to a new key: each
// number is opened with the old key, sealed again and hashed again with
// the new one, and the member's live state in Redis (kept under the hash)
// is renamed to match. Run it with the server stopped (see `haveyoursay
// keys rotate`).

// RotateCounts is what a rotation did.
type RotateCounts struct {
	Rotated  int64 // numbers moved to the new key
	Already  int64 // numbers already under the new key (an earlier, interrupted run)
	BareHash int64 // erased numbers that texted STOP: only a hash, which cannot be moved
	Renamed  int64 // Redis keys renamed
}

// rotateTables are the tables that keep numbers: each has id, phone_hash
// and phone_enc. Tables added later with the same columns are found too.
func rotateTables(ctx context.Context, db *DB) ([]string, error) {
	rows, err := db.pool.Query(ctx, `SELECT table_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND column_name IN ('id', 'phone_hash', 'phone_enc')
		GROUP BY table_name HAVING count(*) = 3 ORDER BY table_name`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// RotatePhones re-seals and re-hashes every stored number from old to
// new, batch rows at a time, each batch in its own transaction, so an
// interrupted run can be started again: rows already under the new key are
// left alone. progress, if set, is told after each batch. Redis state
// under a participant's old hash is renamed to the new hash before the
// batch commits (renaming twice is harmless).
func (db *DB) RotatePhones(ctx context.Context, r *Redis, old, new *Phones, batch int, progress func(table string, c RotateCounts)) (RotateCounts, error) {
	var c RotateCounts
	if batch <= 0 {
		batch = 500
	}
	tables, err := rotateTables(ctx, db)
	if err != nil {
		return c, err
	}
	for _, t := range tables {
		var last int64
		for {
			n, next, err := db.rotateBatch(ctx, r, t, last, batch, old, new, &c)
			if err != nil {
				return c, fmt.Errorf("rotating the numbers in %s after row %d: %w", t, last, err)
			}
			if progress != nil {
				progress(t, c)
			}
			if n < batch {
				break
			}
			last = next
		}
	}
	return c, nil
}

func (db *DB) rotateBatch(ctx context.Context, r *Redis, table string, after int64, batch int, old, new *Phones, c *RotateCounts) (int, int64, error) {
	type row struct {
		id        int64
		hash, enc []byte
	}
	var got []row
	var renamed int64
	add := RotateCounts{}
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		got, renamed, add = nil, 0, RotateCounts{}
		id := pgx.Identifier{table}.Sanitize()
		rows, err := tx.Query(ctx, fmt.Sprintf(`SELECT id, phone_hash, phone_enc FROM %s WHERE id > $1 ORDER BY id LIMIT $2 FOR UPDATE`, id), after, batch)
		if err != nil {
			return err
		}
		got, err = pgx.CollectRows(rows, func(cr pgx.CollectableRow) (row, error) {
			var x row
			err := cr.Scan(&x.id, &x.hash, &x.enc)
			return x, err
		})
		if err != nil {
			return err
		}
		var ids []int64
		var hashes, encs [][]byte
		for _, x := range got {
			if len(x.enc) == 0 {
				add.BareHash++
				continue
			}
			if _, err := new.Decrypt(x.enc); err == nil {
				add.Already++
				continue
			}
			number, err := old.Decrypt(x.enc)
			if err != nil {
				return fmt.Errorf("row %d cannot be opened with the old key or the new one", x.id)
			}
			newHash := new.Hash(number)
			if table == "participants" && r != nil {
				n, err := r.renamePerson(ctx, HashHex(x.hash), HashHex(newHash))
				if err != nil {
					return fmt.Errorf("renaming live state in Redis: %w", err)
				}
				renamed += n
			}
			ids, hashes, encs = append(ids, x.id), append(hashes, newHash), append(encs, new.Encrypt(number))
			add.Rotated++
		}
		if len(ids) == 0 {
			return nil
		}
		_, err = tx.Exec(ctx, fmt.Sprintf(`UPDATE %s t SET phone_hash = u.hash, phone_enc = u.enc
			FROM unnest($1::bigint[], $2::bytea[], $3::bytea[]) AS u (id, hash, enc) WHERE t.id = u.id`, id), ids, hashes, encs)
		return err
	})
	if err != nil {
		return 0, 0, err
	}
	c.Rotated += add.Rotated
	c.Already += add.Already
	c.BareHash += add.BareHash
	c.Renamed += renamed
	var next int64
	if len(got) > 0 {
		next = got[len(got)-1].id
	}
	return len(got), next, nil
}

// renamePerson moves the live state kept under a member's old hash to the
// new one, and returns how many keys moved.
func (r *Redis) renamePerson(ctx context.Context, oldHex, newHex string) (int64, error) {
	s := &SMSSessions{r: r}
	pairs := [][2]string{
		{s.sessionKey(oldHex), s.sessionKey(newHex)},
		{s.lapsedKey(oldHex), s.lapsedKey(newHex)},
		{s.finishedKey(oldHex), s.finishedKey(newHex)},
		{s.optOutKey(oldHex), s.optOutKey(newHex)},
		{r.callResumeKey(oldHex), r.callResumeKey(newHex)},
	}
	var n int64
	for _, p := range pairs {
		err := r.client.Rename(ctx, p[0], p[1]).Err()
		if err != nil && (errors.Is(err, redis.Nil) || slices.Contains([]string{"ERR no such key"}, err.Error())) {
			continue
		}
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}
