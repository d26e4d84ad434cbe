package server

import "runtime/debug"

// GCPercent is the garbage collector's target a server runs with unless
// the environment sets GOGC. Go's default (100) lets the heap grow only to
// twice what is live; a server's live heap is small (tens of megabytes), so
// it collected many times a second under load and spent a fifth of its CPU
// doing so. At 400 the heap may grow to five times what is live, still a
// small amount of memory, and the collector runs a quarter as often. Set
// GOGC (and GOMEMLIMIT, to cap memory) to choose otherwise.
const GCPercent = 400

// TuneGC sets the collector's target to GCPercent unless getenv("GOGC") is
// set. serve and dev call it; so do the benchmarks, to measure what runs.
func TuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(GCPercent)
	}
}
