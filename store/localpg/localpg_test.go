package localpg_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/haveyoursay/haveyoursay/store"
	"github.com/haveyoursay/haveyoursay/store/localpg"
)

// A private server starts, keeps its data across a restart, and stops.
func TestStartStopKeepsData(t *testing.T) {
	ctx := context.Background()
	parent, err := os.MkdirTemp("", "localpg")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(parent, 0o755) // the postgres user must reach the folder when we run as root
	t.Cleanup(func() { os.RemoveAll(parent) })
	dir := filepath.Join(parent, "pgdata")

	pg, err := localpg.Start(ctx, dir)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	db, err := store.OpenDB(ctx, pg.URL())
	if err != nil {
		pg.Stop()
		t.Fatal(err)
	}
	_, err = db.Pool.Exec(ctx, "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('still here')")
	db.Close()
	if err != nil {
		pg.Stop()
		t.Fatal(err)
	}
	if err := pg.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}

	pg, err = localpg.Start(ctx, dir)
	if err != nil {
		t.Fatalf("restart: %v", err)
	}
	defer pg.Stop()
	db, err = store.OpenDB(ctx, pg.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var v string
	if err := db.Pool.QueryRow(ctx, "SELECT v FROM kept").Scan(&v); err != nil || v != "still here" {
		t.Fatalf("after restart: %q, %v", v, err)
	}
}
