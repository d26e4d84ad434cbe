package store

import "context"

// ApplyOneByOne writes events to Postgres one at a time, as the journal
// did before it wrote batches (and still does to find an event Postgres
// refuses): tests compare the rows the two make.
func (j *Journal) ApplyOneByOne(ctx context.Context, events []Event) error {
	for _, e := range events {
		if err := j.applyTx(ctx, []Event{e}); err != nil {
			return err
		}
	}
	return nil
}

// ApplyEventByEvent writes events in one transaction, one statement (or
// two) per event: the journal's writer before it wrote multi-row batches.
func (j *Journal) ApplyEventByEvent(ctx context.Context, events []Event) error {
	return j.applyTx(ctx, events)
}

// ReloadNeeds reads the members with communication needs again, as the
// index does every needsRefresh, and waits for it.
func (db *DB) ReloadNeeds() { db.reloadNeeds() }

// MayHaveNeeds is what the needs index says of a member.
func (db *DB) MayHaveNeeds(phoneHash []byte) bool { return db.mayHaveNeeds(phoneHash) }
