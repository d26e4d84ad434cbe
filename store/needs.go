package store

import (
	"context"
	"sync"
	"time"
)

// needsIndex knows which members have communication needs set, so that a
// survey, call or invitation for anyone else (most people) starts without
// asking Postgres. Only the members it lists are looked up.
//
// It is read from Postgres when first needed and again every
// needsRefresh; a change made through this process (DB.SetMemberNeeds)
// counts at once, and one made by another server within needsRefresh.
// Saying "look it up" for someone with no needs costs only a query, so the
// index errs that way: it never drops a member until a reload says so, and
// once it is older than needsStale (Postgres not answering) every member is
// looked up.
type needsIndex struct {
	mu         sync.Mutex
	set        map[string]bool      // phone hashes of members with needs
	added      map[string]time.Time // set here since, by SetMemberNeeds
	loaded     time.Time            // when set was read (zero: never)
	refreshing bool
}

const (
	needsRefresh = 30 * time.Second
	needsStale   = 2 * time.Minute
)

// mayHaveNeeds reports whether the member with this phone hash may have needs
// set (false only when the index is fresh and does not list them). It
// starts a reload in the background when the index is due one.
func (db *DB) mayHaveNeeds(phoneHash []byte) bool {
	ix := &db.needs
	ix.mu.Lock()
	defer ix.mu.Unlock()
	age := time.Since(ix.loaded)
	if (ix.loaded.IsZero() || age > needsRefresh) && !ix.refreshing {
		ix.refreshing = true
		go db.reloadNeeds()
	}
	if ix.loaded.IsZero() || age > needsStale {
		return true
	}
	return ix.set[string(phoneHash)]
}

// reloadNeeds reads the members with needs from Postgres.
func (db *DB) reloadNeeds() {
	ix := &db.needs
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	started := time.Now()
	set := map[string]bool{}
	rows, err := db.pool.Query(ctx, `SELECT phone_hash FROM participants WHERE needs <> '{}'::jsonb`)
	if err == nil {
		for rows.Next() {
			var h []byte
			if err = rows.Scan(&h); err != nil {
				break
			}
			set[string(h)] = true
		}
		rows.Close()
		if err == nil {
			err = rows.Err()
		}
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.refreshing = false
	if err != nil {
		return // tried again at the next look-up; stale after needsStale
	}
	// A change made here while reading may be missing from what was
	// read: keep members added since (removals wait for the next reload).
	for h, at := range ix.added {
		if at.After(started) {
			set[h] = true
		} else {
			delete(ix.added, h)
		}
	}
	ix.set, ix.loaded = set, started
}

// noteNeeds records that the member with this phone hash now has needs
// (has is true) or none.
func (db *DB) noteNeeds(phoneHash []byte, has bool) {
	ix := &db.needs
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.set == nil {
		ix.set = map[string]bool{}
	}
	if ix.added == nil {
		ix.added = map[string]time.Time{}
	}
	h := string(phoneHash)
	if has {
		ix.set[h], ix.added[h] = true, time.Now()
	} else {
		delete(ix.set, h)
		delete(ix.added, h)
	}
}
