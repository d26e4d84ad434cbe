package localpg_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/haveyoursay/haveyoursay/store/localpg"
	"github.com/haveyoursay/haveyoursay/store/storetest"
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

	// running is stopped when the test ends, however it ends.
	var running *localpg.Server
	t.Cleanup(func() {
		if running != nil {
			running.Stop()
		}
	})
	pg, err := localpg.Start(ctx, dir)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	running = pg
	sql := storetest.SQLAt(t, pg.URL())
	var fsync string
	if err := sql.QueryRow(ctx, "SHOW fsync").Scan(&fsync); err != nil || fsync != "on" {
		t.Errorf("fsync is %q (%v): the private server must keep it on, or a crash can lose dev's data", fsync, err)
	}
	_, err = sql.Exec(ctx, "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('still here')")
	sql.Close()
	if err != nil {
		t.Fatal(err)
	}
	running = nil
	if err := pg.Stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}

	pg, err = localpg.Start(ctx, dir)
	if err != nil {
		t.Fatalf("restart: %v", err)
	}
	running = pg
	sql = storetest.SQLAt(t, pg.URL())
	var v string
	if err := sql.QueryRow(ctx, "SELECT v FROM kept").Scan(&v); err != nil || v != "still here" {
		t.Fatalf("after restart: %q, %v", v, err)
	}
}
