package storetest_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/haveyoursay/haveyoursay/store/storetest"
)

// Two tests in parallel each get an empty, migrated database and their own
// Redis key space: what one writes, the other never sees.
func TestIsolation(t *testing.T) {
	for i := range 2 {
		t.Run(fmt.Sprint("member", i), func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			db := storetest.DB(t)
			var n int
			if err := storetest.SQL(t, db).QueryRow(ctx, "SELECT count(*) FROM surveys").Scan(&n); err != nil {
				t.Fatalf("the schema is not migrated: %v", err)
			}
			if n != 0 {
				t.Fatalf("a fresh database has %d surveys, want 0", n)
			}
			if _, err := storetest.SQL(t, db).Exec(ctx, "INSERT INTO surveys (id, title, current_version) VALUES ('only-mine', 'x', 1)"); err != nil {
				t.Fatal(err)
			}

			r := storetest.Redis(t)
			key := r.Key("owner")
			if got, _ := storetest.RedisClient(t, r).Exists(ctx, key).Result(); got != 0 {
				t.Fatalf("a fresh Redis space already has %s", key)
			}
			if err := storetest.RedisClient(t, r).Set(ctx, key, i, 0).Err(); err != nil {
				t.Fatal(err)
			}
			// Give the other test time to write too, then check nothing leaked.
			for range 20 {
				if err := storetest.SQL(t, db).QueryRow(ctx, "SELECT count(*) FROM surveys").Scan(&n); err != nil {
					t.Fatal(err)
				}
				if n != 1 {
					t.Fatalf("saw %d surveys, want only my own", n)
				}
				if v, err := storetest.RedisClient(t, r).Get(ctx, key).Int(); err != nil || v != i {
					t.Fatalf("my Redis key holds %v (%v), want %d", v, err, i)
				}
			}
		})
	}
}

// Keys left by a test are gone afterwards.
func TestRedisCleanup(t *testing.T) {
	var prefix string
	t.Run("writer", func(t *testing.T) {
		r := storetest.Redis(t)
		prefix = r.Prefix
		storetest.RedisClient(t, r).Set(context.Background(), r.Key("a"), 1, 0)
	})
	r := storetest.Redis(t)
	n, err := storetest.RedisClient(t, r).Keys(context.Background(), prefix+"*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(n) != 0 {
		t.Fatalf("keys left behind: %v", n)
	}
}

// SQL sees what the store wrote, on a database opened by address too, and
// its pool closes when the test that opened the database ends.
func TestSQLFollowsTheDatabase(t *testing.T) {
	ctx := context.Background()
	var sql *pgxpool.Pool
	t.Run("open", func(t *testing.T) {
		db := storetest.Open(t, storetest.DatabaseURL(t))
		if _, _, err := db.SaveSurvey(ctx, "s", "S", "id: s", ""); err != nil {
			t.Fatal(err)
		}
		sql = storetest.SQL(t, db)
		var title string
		if err := sql.QueryRow(ctx, "SELECT title FROM surveys WHERE id = 's'").Scan(&title); err != nil || title != "S" {
			t.Fatalf("title %q (%v), want S", title, err)
		}
		if storetest.SQL(t, db) != sql {
			t.Fatal("SQL opened a second pool for the same database")
		}
	})
	if err := sql.Ping(ctx); err == nil {
		t.Fatal("the pool is still open after its test ended")
	}
}
