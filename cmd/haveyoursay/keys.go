package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"github.com/haveyoursay/haveyoursay/config"
	"github.com/haveyoursay/haveyoursay/store"
)

const keysUsage = `Usage:
  haveyoursay keys rotate [--old-key-file FILE] [--batch 500]

Moves every stored phone number to a new HYS_SECRET_KEY: each is opened
with the old key, then sealed and hashed again with the new one. The live
state Redis keeps for each member is renamed to match.

  1. Stop the server (haveyoursay serve) everywhere. Calls in progress
     carry state sealed with the old key and would be cut off.
  2. Set HYS_SECRET_KEY to the new key (openssl rand -base64 32), and give
     the old key once: in HYS_OLD_SECRET_KEY, or in a file (--old-key-file).
  3. Run haveyoursay keys rotate. It first writes anything still waiting in
     the Redis spool to Postgres, then works in batches, each in its own
     transaction. If it stops part way, run it again: numbers already
     moved are left alone.
  4. Start the server with the new key. Forget the old one.

An erased member who had texted STOP is kept only as a hash of their
number (so they are never texted again); that hash cannot be moved, and
the count says how many. Twilio's own opt-out list still blocks texts to
them. Needs DATABASE_URL, REDIS_URL, HYS_SECRET_KEY.
`

// cmdKeys rotates HYS_SECRET_KEY.
func cmdKeys(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, keysUsage)
		return usageError{}
	}
	if isHelp(args[0]) {
		fmt.Fprint(stdout, keysUsage)
		return nil
	}
	if args[0] != "rotate" {
		fmt.Fprint(stderr, keysUsage)
		return noSuchCommand("haveyoursay keys", args[0], []string{"rotate"})
	}
	fs := flag.NewFlagSet("keys rotate", flag.ContinueOnError)
	oldFile := fs.String("old-key-file", "", "a file holding the old HYS_SECRET_KEY (else HYS_OLD_SECRET_KEY)")
	batch := fs.Int("batch", 500, "numbers moved in each transaction")
	if help, err := parseFlags(fs, args[1:], keysUsage, stdout); help || err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("haveyoursay keys rotate: unexpected %q. Give settings as --old-key-file FILE.", fs.Arg(0))}
	}
	if *batch <= 0 || *batch > 100000 {
		return usageError{"haveyoursay keys rotate: --batch should be between 1 and 100000."}
	}
	oldKey := getenv("HYS_OLD_SECRET_KEY")
	if *oldFile != "" {
		b, err := os.ReadFile(*oldFile)
		if err != nil {
			return fmt.Errorf("reading the old key: %w", err)
		}
		oldKey = string(b)
	}
	oldKey = strings.TrimSpace(oldKey)
	newKey := strings.TrimSpace(getenv("HYS_SECRET_KEY"))
	switch {
	case oldKey == "":
		return usageError{"haveyoursay keys rotate: give the old key in HYS_OLD_SECRET_KEY or with --old-key-file FILE."}
	case newKey == "":
		return usageError{"haveyoursay keys rotate: set HYS_SECRET_KEY to the new key (openssl rand -base64 32)."}
	case oldKey == newKey:
		return usageError{"haveyoursay keys rotate: the old key and HYS_SECRET_KEY are the same. Set HYS_SECRET_KEY to the new key."}
	}
	old, err := store.NewPhones(oldKey)
	if err != nil {
		return fmt.Errorf("the old key: %w", err)
	}
	next, err := store.NewPhones(newKey)
	if err != nil {
		return err
	}
	redisURL := getenv("REDIS_URL")
	if msg := config.CheckRedisURL(redisURL); msg != "" {
		return errors.New(msg)
	}
	db, err := openDB(ctx, getenv)
	if err != nil {
		return err
	}
	defer db.Close()
	rdb, err := store.OpenRedis(ctx, redisURL, getenv("REDIS_PREFIX"))
	if err != nil {
		return err
	}
	defer rdb.Close()

	// What webhooks spooled was sealed with the old key: it reaches
	// Postgres first, and is moved with the rest.
	j := store.NewJournal(db, rdb, slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	if err := j.Flush(ctx); err != nil {
		return fmt.Errorf("writing the Redis spool to Postgres first: %w", err)
	}
	c, err := db.RotatePhones(ctx, rdb, old, next, *batch, func(table string, c store.RotateCounts) {
		fmt.Fprintf(stdout, "\r%s: %d moved so far", table, c.Rotated)
	})
	fmt.Fprintln(stdout)
	if err != nil {
		return fmt.Errorf("%w\nNothing is lost: run haveyoursay keys rotate again to carry on", err)
	}
	fmt.Fprintf(stdout, "Done. %d numbers moved to the new key, %d were already moved, %d live Redis keys renamed.\n", c.Rotated, c.Already, c.Renamed)
	if c.BareHash > 0 {
		fmt.Fprintf(stdout, "%d erased numbers that had texted STOP are kept only as an old hash, which cannot be moved.\n", c.BareHash)
	}
	if err := db.Audit(ctx, "cli", "keys-rotated", "", map[string]any{"moved": c.Rotated, "already": c.Already, "bare_hash": c.BareHash}); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "Start the server with the new HYS_SECRET_KEY now.")
	return nil
}
