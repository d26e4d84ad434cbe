package store

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Spool is an append-only file spool on local disk: what Twilio delivered
// is written here, and fsync'd, before Twilio is answered 200. It survives
// a crash of our process and a restart of Redis; the journal replays it
// into Postgres at start and in the background. Writes from many webhooks
// at once share one fsync (group commit).
//
// The folder holds segment files (000…001.spool, …). Each record is a
// 4-byte length, a 4-byte CRC-32 (Castagnoli) of the data and the data (one
// event as JSON). A segment is deleted once every record in it is in
// Postgres. A torn record at the end of a segment (the process died while
// writing it, before it was acknowledged) fails its checksum and is
// skipped. One process at a time may use a folder (an flock on its LOCK
// file).
type Spool struct {
	dir  string
	lock *os.File

	mu      sync.Mutex
	cond    *sync.Cond
	f       *os.File // the segment being appended to (nil: none open yet)
	seg     uint64   // its number
	size    int64
	syncing bool           // a group is being written (only its leader touches f)
	cur     *group         // the group gathering, written by the next leader
	buf     []byte         // its records
	queue   []Event        // its events
	thens   []*Then        // its Redis work, run once it is on disk
	pending []spooled      // records not yet in Postgres, oldest first
	counts  map[uint64]int // records not yet in Postgres, by segment
	corrupt int            // records skipped at start because they failed their checksum
}

// spooled is one event waiting in the spool.
type spooled struct {
	seg   uint64
	event Event
	raw   []byte // the record's data, when it could not be read as an Event
}

// maxSegment is the size at which appends move on to a new segment file.
const maxSegment = 4 << 20

var crcTable = crc32.MakeTable(crc32.Castagnoli)

// ErrSpoolInUse means another process (or journal) already uses the folder.
var ErrSpoolInUse = errors.New("another Have Your Say process is using this spool folder (HYS_SPOOL_DIR): give each server its own")

// OpenSpool opens (making it if needed) the spool in dir and reads back
// every record not yet known to be in Postgres.
func OpenSpool(dir string) (*Spool, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("making the spool folder %s: %w", dir, err)
	}
	lock, err := os.OpenFile(filepath.Join(dir, "LOCK"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening the spool folder %s: %w", dir, err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lock.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%s: %w", dir, ErrSpoolInUse)
		}
		return nil, fmt.Errorf("locking the spool folder %s: %w", dir, err)
	}
	s := &Spool{dir: dir, lock: lock, counts: map[uint64]int{}}
	s.cond = sync.NewCond(&s.mu)
	segs, err := s.segments()
	if err != nil {
		s.Close()
		return nil, err
	}
	for _, n := range segs {
		if err := s.replay(n); err != nil {
			s.Close()
			return nil, err
		}
		if s.counts[n] == 0 {
			os.Remove(s.path(n))
		}
		s.seg = n
	}
	return s, nil
}

func (s *Spool) path(n uint64) string {
	return filepath.Join(s.dir, fmt.Sprintf("%020d.spool", n))
}

// segments lists the segment numbers in the folder, oldest first.
func (s *Spool) segments() ([]uint64, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, fmt.Errorf("reading the spool folder %s: %w", s.dir, err)
	}
	var out []uint64
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".spool")
		if !ok {
			continue
		}
		if n, err := strconv.ParseUint(name, 10, 64); err == nil {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out, nil
}

// replay reads segment n's records into pending, up to the first one that
// is torn or fails its checksum.
func (s *Spool) replay(n uint64) error {
	b, err := os.ReadFile(s.path(n))
	if err != nil {
		return fmt.Errorf("reading the spool: %w", err)
	}
	for len(b) > 0 {
		data, rest, ok := decodeRecord(b)
		if !ok {
			s.corrupt++
			break
		}
		b = rest
		sp := spooled{seg: n}
		if err := json.Unmarshal(data, &sp.event); err != nil {
			sp.raw = slices.Clone(data)
		}
		s.pending = append(s.pending, sp)
		s.counts[n]++
	}
	return nil
}

// decodeRecord splits the first record off b; ok is false when it is torn
// or its checksum does not match.
func decodeRecord(b []byte) (data, rest []byte, ok bool) {
	if len(b) < 8 {
		return nil, nil, false
	}
	n := binary.LittleEndian.Uint32(b)
	sum := binary.LittleEndian.Uint32(b[4:])
	if uint64(len(b)-8) < uint64(n) {
		return nil, nil, false
	}
	data = b[8 : 8+n]
	if crc32.Checksum(data, crcTable) != sum {
		return nil, nil, false
	}
	return data, b[8+n:], true
}

// appendRecord adds one record holding data to buf.
func appendRecord(buf, data []byte) []byte {
	buf = binary.LittleEndian.AppendUint32(buf, uint32(len(data)))
	buf = binary.LittleEndian.AppendUint32(buf, crc32.Checksum(data, crcTable))
	return append(buf, data...)
}

// groupWait is how long the leader of a group commit waits for other
// webhooks to join before writing and syncing. One fsync costs a few
// hundred microseconds of disk and CPU: under load, a wait of two milliseconds
// lets many texts share it, and an idle server pays only those.
const groupWait = 2 * time.Millisecond

// group is the appends that are written and synced together.
type group struct {
	taken bool // its leader is writing it
	done  bool
	err   error
}

// Append writes events to the spool and returns once they are on disk.
// Appends that arrive close together share one write and one fsync (group
// commit): the first leads, waits groupWait for others, then writes them
// all; a failure fails every append in the group, and no other.
func (s *Spool) Append(events []Event) error { return s.AppendThen(events, nil) }

// AppendThen is Append, and once the events are on disk, before it
// returns, then runs as part of the group's one Redis round trip (see
// Then). then may be nil.
func (s *Spool) AppendThen(events []Event, then *Then) error {
	var buf []byte
	for _, e := range events {
		b, err := json.Marshal(e)
		if err != nil {
			return err
		}
		buf = appendRecord(buf, b)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lock == nil {
		return errors.New("the spool is closed")
	}
	if s.cur == nil {
		s.cur = &group{}
	}
	g := s.cur
	s.buf = append(s.buf, buf...)
	s.queue = append(s.queue, events...)
	if then != nil {
		s.thens = append(s.thens, then)
	}
	for !g.done {
		if s.syncing || g.taken {
			s.cond.Wait()
			continue
		}
		// Lead: g is s.cur, the group being gathered (a group is taken
		// whole, and g is not yet).
		s.syncing = true
		s.mu.Unlock()
		time.Sleep(groupWait)
		s.mu.Lock()
		thens := s.commitGroup()
		s.syncing = false
		s.cond.Broadcast() // the next group may be written meanwhile
		if g.err == nil && len(thens) > 0 {
			s.mu.Unlock()
			runThens(thens)
			s.mu.Lock()
		}
		g.done = true
		s.cond.Broadcast()
	}
	return g.err
}

// commitGroup writes the gathered group to the segment and syncs it, and
// returns the group's Thens, to be run once it is on disk. Call with mu
// held and syncing set; the disk work happens without mu, so new appends
// gather into the next group meanwhile.
func (s *Spool) commitGroup() (thens []*Then) {
	g, buf, events, thens := s.cur, s.buf, s.queue, s.thens
	s.cur, s.buf, s.queue, s.thens = nil, nil, nil, nil
	g.taken = true
	if s.lock == nil {
		g.err = errors.New("the spool is closed")
		return nil
	}
	if s.f != nil && s.size >= maxSegment {
		if g.err = s.finishSegment(); g.err != nil {
			return nil
		}
	}
	if s.f == nil {
		if g.err = s.openSegment(); g.err != nil {
			return nil
		}
	}
	f, size := s.f, s.size
	s.mu.Unlock()
	n, err := f.Write(buf)
	if err != nil {
		err = fmt.Errorf("writing to the spool: %w", err)
	} else if err = f.Sync(); err != nil {
		err = fmt.Errorf("writing the spool to disk: %w", err)
	}
	s.mu.Lock()
	if err != nil {
		// Cut off what was written, so the next record starts clean and
		// nothing unacknowledged is replayed.
		if n > 0 {
			f.Truncate(size)
			f.Seek(size, io.SeekStart)
		}
		g.err = err
		return nil
	}
	s.size += int64(len(buf))
	for _, e := range events {
		s.pending = append(s.pending, spooled{seg: s.seg, event: e})
	}
	s.counts[s.seg] += len(events)
	return thens
}

// openSegment starts a new segment file and makes its name durable.
func (s *Spool) openSegment() error {
	s.seg++
	f, err := os.OpenFile(s.path(s.seg), os.O_CREATE|os.O_EXCL|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("making a spool file: %w", err)
	}
	if err := syncDir(s.dir); err != nil {
		f.Close()
		os.Remove(s.path(s.seg))
		return err
	}
	s.f, s.size = f, 0
	return nil
}

// closeSegment finishes the segment being appended to, once no group is
// being written. Call with mu held.
func (s *Spool) closeSegment() error {
	for s.syncing {
		s.cond.Wait()
	}
	return s.finishSegment()
}

// finishSegment closes the segment being appended to (every group in it is
// already on disk), deleting it when nothing in it still waits for
// Postgres. Call with mu held, by a group's leader or when none writes.
func (s *Spool) finishSegment() error {
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	if s.counts[s.seg] == 0 {
		delete(s.counts, s.seg)
		os.Remove(s.path(s.seg))
	}
	if err != nil {
		return fmt.Errorf("closing a spool file: %w", err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("writing the spool folder to disk: %w", err)
	}
	return nil
}

// Peek returns up to max of the oldest records waiting for Postgres.
func (s *Spool) Peek(max int) []spooled {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := min(max, len(s.pending))
	return slices.Clone(s.pending[:n])
}

// Done marks the n oldest records as in Postgres, and deletes the segment
// files nothing waits in any more. Only the one writer that Peeked calls
// it (the journal's drain lock).
func (s *Spool) Done(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, sp := range s.pending[:n] {
		s.counts[sp.seg]--
	}
	s.pending = slices.Delete(s.pending, 0, n)
	for seg, c := range s.counts {
		if c == 0 && (seg != s.seg || s.f == nil) {
			delete(s.counts, seg)
			os.Remove(s.path(seg))
		}
	}
	// All caught up: start the next append in a fresh file, so this one
	// (already all in Postgres) goes now rather than at the next start.
	if len(s.pending) == 0 && s.f != nil && s.size > 0 {
		s.closeSegment()
	}
}

// Len counts the records waiting for Postgres.
func (s *Spool) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.pending)
}

// Oldest is when the oldest record waiting for Postgres happened (zero
// when none waits).
func (s *Spool) Oldest() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.pending) == 0 {
		return time.Time{}
	}
	return s.pending[0].event.At
}

// Corrupt counts records found torn or failing their checksum at start.
func (s *Spool) Corrupt() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.corrupt
}

// Dir is the spool's folder.
func (s *Spool) Dir() string { return s.dir }

// Close writes the current segment to disk and lets another process use
// the folder. Records still waiting stay in their files for the next start.
func (s *Spool) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lock == nil {
		return nil
	}
	err := s.closeSegment()
	s.lock.Close() // releases the flock
	s.lock = nil
	return err
}
