// Package spool keeps what could not be stored yet: a bounded, ordered,
// crash-safe queue of records on disk, and a Writer that puts it between
// ingestion and the database so that a database outage loses nothing and
// holds nothing up.
//
// On disk a spool is a directory of segment files, each a run of records
// (4-byte little-endian length, 4-byte CRC-32C of the payload, payload),
// plus a cursor file that says how far the oldest segment was consumed.
// Records are appended to the newest segment and fsync'd before Append
// returns; a crash mid-append leaves a torn record at the very end of the
// newest segment, which Open cuts off. Damage that a crash cannot cause (a
// bad record with good ones after it, in any segment) is never cut: Open
// moves the file aside as <name>.damaged-<time>, recovers every record it
// can read, finding the next one by its header and checksum, and reports
// what it could not read (Damaged). The cursor is written without fsync:
// after a crash the consumer may see a few records again, so consumers
// must be idempotent (the store's saves and deletes are).
package spool

import (
	"encoding/binary"
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
	"time"
)

// ErrFull is returned by Append when the spool holds as much as it may.
var ErrFull = errors.New("spool is full")

// Config bounds a Spool. Zero values mean "use the default".
type Config struct {
	// MaxBytes bounds the bytes of unconsumed records, headers included
	// (default 256 MiB).
	MaxBytes int64
	// MaxRecords bounds the number of unconsumed records (default
	// 1,000,000).
	MaxRecords int
	// SegmentBytes is the size past which a new segment file is started
	// (default 4 MiB). Consumed segments are deleted whole, so this is
	// also about how much disk a drained spool may still hold.
	SegmentBytes int64
	// MaxRecordBytes bounds one record (default 1 MiB); it also lets Open
	// tell a torn length from a real one.
	MaxRecordBytes int
}

const (
	headerSize = 8
	segSuffix  = ".seg"
	cursorName = "cursor"
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// segment is one file of records; size counts its valid bytes.
type segment struct {
	id   uint64
	size int64
}

// Spool is an on-disk FIFO of opaque records. It is safe for concurrent
// use; records come out in the order Append accepted them.
type Spool struct {
	dir string
	cfg Config

	mu   sync.Mutex
	segs []segment // oldest first; never empty while records > 0
	// off is the consumer's position in segs[0].
	off     int64
	records int
	bytes   int64
	// tail is segs[len-1] opened for appending, or nil.
	tail *os.File
	// head is segs[0] opened for reading, or nil.
	head   *os.File
	headID uint64
	nextID uint64
	// repaired counts bytes of torn records Open cut off.
	repaired int64
	// damage lists the damaged segments Open moved aside.
	damage []Damage
	closed bool
}

// Damage is a segment Open found damaged: it moved the file aside to
// MovedTo, kept Recovered records from it, and could not read Unreadable
// stretches (Bytes long in all), each of which held at least one record.
type Damage struct {
	MovedTo    string
	Recovered  int
	Unreadable int
	Bytes      int64
}

// Open opens (creating if needed) the spool in dir, repairing a record
// torn by a crash at the end of the newest segment.
func Open(dir string, cfg Config) (*Spool, error) {
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = 256 << 20
	}
	if cfg.MaxRecords <= 0 {
		cfg.MaxRecords = 1_000_000
	}
	if cfg.SegmentBytes <= 0 {
		cfg.SegmentBytes = 4 << 20
	}
	if cfg.MaxRecordBytes <= 0 {
		cfg.MaxRecordBytes = 1 << 20
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create spool directory: %w: check that the data directory is writable", err)
	}
	s := &Spool{dir: dir, cfg: cfg, nextID: 1}
	if err := s.load(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Spool) load() error {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("read spool directory: %w", err)
	}
	var ids []uint64
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), segSuffix)
		if !ok || e.IsDir() {
			continue
		}
		id, err := strconv.ParseUint(name, 16, 64)
		if err != nil {
			continue // not ours
		}
		ids = append(ids, id)
	}
	slices.Sort(ids)

	curID, curOff, haveCursor := s.readCursor()
	for i, id := range ids {
		last := i == len(ids)-1
		// A cursor past a whole segment means it was consumed but the
		// crash came before its file was removed.
		if haveCursor && id < curID {
			if err := os.Remove(s.segPath(id)); err != nil {
				return fmt.Errorf("remove consumed spool segment: %w", err)
			}
			continue
		}
		start := int64(0)
		if haveCursor && id == curID {
			start = curOff
		}
		size, start, n, nbytes, err := s.scan(id, start, last)
		if err != nil {
			return err
		}
		if len(s.segs) == 0 {
			s.off = start
		}
		s.segs = append(s.segs, segment{id: id, size: size})
		s.records += n
		s.bytes += nbytes
		s.nextID = id + 1
	}
	if len(s.segs) > 0 && s.records == 0 {
		// Everything there was consumed: start afresh.
		return s.dropAll()
	}
	if len(s.segs) == 0 {
		_ = os.Remove(filepath.Join(s.dir, cursorName))
	}
	return nil
}

// scan validates the records of segment id from start and returns its
// valid size, the start it used, and the count and bytes of records from
// there on. A bad record with no good one after it in the newest segment
// is a torn append: it is cut off. Any other bad record is damage: see
// recover.
func (s *Spool) scan(id uint64, start int64, last bool) (size, from int64, n int, nbytes int64, err error) {
	path := s.segPath(id)
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, 0, 0, 0, fmt.Errorf("read spool segment: %w", err)
	}
	if start > int64(len(data)) {
		start = 0 // a cursor from another life of this file: replay it all
	}
	// Validate from the file's start so that a cursor that is not on a
	// record boundary cannot make good records look bad.
	off := int64(0)
	for off < int64(len(data)) {
		l, ok := s.check(data[off:])
		if !ok {
			break
		}
		if off >= start {
			n++
			nbytes += headerSize + int64(l)
		}
		off += headerSize + int64(l)
	}
	if start > off || (start != 0 && !s.boundary(data, start)) {
		// The cursor points past the valid records or into one:
		// replay the segment from its start (consumers are idempotent).
		return s.scan(id, 0, last)
	}
	if off == int64(len(data)) {
		return off, start, n, nbytes, nil
	}
	if !last || s.resync(data, off+1) >= 0 {
		return s.recover(id, data, start)
	}
	// Torn tail: cut it off so appends continue after the last good record.
	if err := os.Truncate(path, off); err != nil {
		return 0, 0, 0, 0, fmt.Errorf("repair spool segment %s: %w", path, err)
	}
	s.repaired += int64(len(data)) - off
	return off, start, n, nbytes, nil
}

// resync returns the offset of the first intact record at or after from,
// or -1. A stretch of damage is followed by the next record whose length
// and CRC-32C both hold: by chance, about one position in 2^32.
func (s *Spool) resync(data []byte, from int64) int64 {
	for p := from; p+headerSize <= int64(len(data)); p++ {
		if _, ok := s.check(data[p:]); ok {
			return p
		}
	}
	return -1
}

// recover deals with a damaged segment without losing what can be read:
// the file is moved aside (never deleted), and a new file under its name
// holds every intact record from start on, in order; the records before
// start were consumed. It returns what scan does, for the new file.
func (s *Spool) recover(id uint64, data []byte, start int64) (size, from int64, n int, nbytes int64, err error) {
	path := s.segPath(id)
	d := Damage{MovedTo: fmt.Sprintf("%s.damaged-%s", path, time.Now().UTC().Format("20060102T150405.000000000Z"))}
	var kept []byte
	for off := int64(0); off < int64(len(data)); {
		l, ok := s.check(data[off:])
		if !ok {
			next := s.resync(data, off+1)
			if next < 0 {
				next = int64(len(data))
			}
			if next > start {
				d.Unreadable++
				d.Bytes += next - max(off, start)
			}
			off = next
			continue
		}
		end := off + headerSize + int64(l)
		if off >= start {
			kept = append(kept, data[off:end]...)
			d.Recovered++
		}
		off = end
	}
	if err := os.Rename(path, d.MovedTo); err != nil {
		return 0, 0, 0, 0, fmt.Errorf("move the damaged spool segment %s aside: %w: check that %s is writable", path, err, s.dir)
	}
	if err := writeSynced(path, kept); err != nil {
		return 0, 0, 0, 0, fmt.Errorf("write the records recovered from %s: %w", d.MovedTo, err)
	}
	if err := syncDir(s.dir); err != nil {
		return 0, 0, 0, 0, err
	}
	s.damage = append(s.damage, d)
	return int64(len(kept)), 0, d.Recovered, int64(len(kept)), nil
}

// writeSynced writes a new file whole and syncs it.
func writeSynced(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// boundary reports whether a record starts at off in data.
func (s *Spool) boundary(data []byte, off int64) bool {
	for p := int64(0); p < int64(len(data)); {
		if p == off {
			return true
		}
		l, ok := s.check(data[p:])
		if !ok {
			return false
		}
		p += headerSize + int64(l)
	}
	return off == int64(len(data))
}

// check returns the payload length of the record at the start of b and
// whether it is whole and intact.
func (s *Spool) check(b []byte) (int, bool) {
	if len(b) < headerSize {
		return 0, false
	}
	l := binary.LittleEndian.Uint32(b)
	// Empty records are refused by Append, so a zero length is the
	// zero-filled tail a crash can leave, not a record.
	if l == 0 || l > uint32(s.cfg.MaxRecordBytes) || int64(len(b)) < headerSize+int64(l) {
		return 0, false
	}
	payload := b[headerSize : headerSize+int(l)]
	return int(l), crc32.Checksum(payload, castagnoli) == binary.LittleEndian.Uint32(b[4:])
}

// Repaired returns how many bytes of a torn last record Open cut off; a
// non-zero value means the process died while appending.
func (s *Spool) Repaired() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.repaired
}

// Damaged lists the damaged segments Open moved aside, and what it could
// and could not read from them.
func (s *Spool) Damaged() []Damage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.damage)
}

// Len returns the number of records not yet consumed.
func (s *Spool) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.records
}

// Bytes returns the size of the records not yet consumed, headers
// included.
func (s *Spool) Bytes() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bytes
}

// Append adds rec at the end and returns once it is on disk. It returns an
// error wrapping ErrFull when the spool is at its bounds.
func (s *Spool) Append(rec []byte) error {
	if len(rec) == 0 || len(rec) > s.cfg.MaxRecordBytes {
		return fmt.Errorf("spool record of %d bytes: records must hold 1 to %d bytes", len(rec), s.cfg.MaxRecordBytes)
	}
	size := int64(headerSize + len(rec))
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("spool is closed")
	}
	if s.records+1 > s.cfg.MaxRecords || s.bytes+size > s.cfg.MaxBytes {
		return fmt.Errorf("%w: it holds %d records (%d bytes) of at most %d records (%d bytes)",
			ErrFull, s.records, s.bytes, s.cfg.MaxRecords, s.cfg.MaxBytes)
	}
	if len(s.segs) == 0 || s.segs[len(s.segs)-1].size+size > s.cfg.SegmentBytes && s.segs[len(s.segs)-1].size > 0 {
		if err := s.roll(); err != nil {
			return err
		}
	} else if s.tail == nil {
		f, err := os.OpenFile(s.segPath(s.segs[len(s.segs)-1].id), os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			return fmt.Errorf("open spool segment: %w", err)
		}
		s.tail = f
	}
	buf := make([]byte, size)
	binary.LittleEndian.PutUint32(buf, uint32(len(rec)))
	binary.LittleEndian.PutUint32(buf[4:], crc32.Checksum(rec, castagnoli))
	copy(buf[headerSize:], rec)
	last := &s.segs[len(s.segs)-1]
	if _, err := s.tail.Write(buf); err != nil {
		// Take back a partial write so that the next record does not
		// follow garbage; Open would cut it off anyway.
		_ = s.tail.Truncate(last.size)
		return fmt.Errorf("write spool: %w: check free space in %s", err, s.dir)
	}
	if err := s.tail.Sync(); err != nil {
		_ = s.tail.Truncate(last.size)
		return fmt.Errorf("sync spool: %w: check the disk under %s", err, s.dir)
	}
	last.size += size
	s.records++
	s.bytes += size
	return nil
}

// roll starts a new segment; the previous one is already synced record by
// record.
func (s *Spool) roll() error {
	if s.tail != nil {
		_ = s.tail.Close()
		s.tail = nil
	}
	id := s.nextID
	f, err := os.OpenFile(s.segPath(id), os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("create spool segment: %w: check that %s is writable", err, s.dir)
	}
	// The new name must survive a crash before the records in it do.
	if err := syncDir(s.dir); err != nil {
		_ = f.Close()
		return err
	}
	s.tail = f
	s.nextID++
	if len(s.segs) == 0 {
		s.off = 0
	}
	s.segs = append(s.segs, segment{id: id})
	return nil
}

// Front returns up to max of the oldest records, oldest first, without
// consuming them: call Discard once they are dealt with.
func (s *Spool) Front(max int) ([][]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out [][]byte
	err := s.walk(max, func(rec []byte) { out = append(out, rec) })
	return out, err
}

// Discard consumes the n oldest records. Segments it empties are deleted;
// when the spool becomes empty that is on disk before Discard returns, so
// a crash afterwards cannot bring the records back.
func (s *Spool) Discard(n int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n > s.records {
		return fmt.Errorf("discard %d spool records: only %d are held", n, s.records)
	}
	if err := s.walk(n, nil); err != nil {
		return err
	}
	if s.records == 0 {
		return s.dropAll()
	}
	s.writeCursor()
	return nil
}

// walk visits up to max records from the consumer's position. With fn nil
// it consumes them; with fn set it only reads. Must hold mu.
func (s *Spool) walk(max int, fn func([]byte)) error {
	seg, off := 0, s.off
	var hdr [headerSize]byte
	for done, limit := 0, min(max, s.records); done < limit; {
		for seg < len(s.segs) && off >= s.segs[seg].size {
			seg, off = seg+1, 0
		}
		if seg == len(s.segs) {
			return fmt.Errorf("spool bookkeeping: %d records counted but none left to read", s.records)
		}
		f, err := s.open(s.segs[seg].id)
		if err != nil {
			return err
		}
		if _, err := f.ReadAt(hdr[:], off); err != nil {
			return fmt.Errorf("read spool: %w", err)
		}
		l := int64(binary.LittleEndian.Uint32(hdr[:]))
		if fn != nil {
			rec := make([]byte, l)
			if _, err := f.ReadAt(rec, off+headerSize); err != nil {
				return fmt.Errorf("read spool: %w", err)
			}
			if crc32.Checksum(rec, castagnoli) != binary.LittleEndian.Uint32(hdr[4:]) {
				return fmt.Errorf("spool segment %s changed on disk at byte %d: stop the server and move the spool directory aside", s.segPath(s.segs[seg].id), off)
			}
			fn(rec)
		} else {
			s.records--
			s.bytes -= headerSize + l
		}
		off += headerSize + l
		done++
	}
	if fn != nil {
		return nil
	}
	// Drop the segments the consumer has gone past, but never the one
	// being appended to: its file stays until the spool is empty.
	for seg < len(s.segs)-1 && off >= s.segs[seg].size {
		seg, off = seg+1, 0
	}
	for ; seg > 0; seg-- {
		if err := s.removeSeg(s.segs[0].id); err != nil {
			return err
		}
		s.segs = s.segs[1:]
	}
	s.off = off
	return nil
}

// open returns segment id opened for reading, caching the head's file.
func (s *Spool) open(id uint64) (*os.File, error) {
	if s.head != nil && s.headID == id {
		return s.head, nil
	}
	if s.head != nil {
		_ = s.head.Close()
		s.head = nil
	}
	f, err := os.Open(s.segPath(id))
	if err != nil {
		return nil, fmt.Errorf("open spool segment: %w", err)
	}
	s.head, s.headID = f, id
	return f, nil
}

func (s *Spool) removeSeg(id uint64) error {
	if s.head != nil && s.headID == id {
		_ = s.head.Close()
		s.head = nil
	}
	if s.tail != nil && id == s.segs[len(s.segs)-1].id {
		_ = s.tail.Close()
		s.tail = nil
	}
	if err := os.Remove(s.segPath(id)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove consumed spool segment: %w", err)
	}
	return nil
}

// dropAll deletes every segment and the cursor, durably. Must hold mu.
func (s *Spool) dropAll() error {
	for len(s.segs) > 0 {
		if err := s.removeSeg(s.segs[0].id); err != nil {
			return err
		}
		s.segs = s.segs[1:]
	}
	s.off, s.records, s.bytes = 0, 0, 0
	if err := os.Remove(filepath.Join(s.dir, cursorName)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove spool cursor: %w", err)
	}
	return syncDir(s.dir)
}

// writeCursor records the consumer's position. It is not synced: a stale
// cursor only makes the consumer see records again after a crash.
func (s *Spool) writeCursor() {
	var b [20]byte
	binary.LittleEndian.PutUint64(b[0:], s.segs[0].id)
	binary.LittleEndian.PutUint64(b[8:], uint64(s.off))
	binary.LittleEndian.PutUint32(b[16:], crc32.Checksum(b[:16], castagnoli))
	_ = os.WriteFile(filepath.Join(s.dir, cursorName), b[:], 0o600)
}

func (s *Spool) readCursor() (id uint64, off int64, ok bool) {
	b, err := os.ReadFile(filepath.Join(s.dir, cursorName))
	if err != nil || len(b) != 20 || crc32.Checksum(b[:16], castagnoli) != binary.LittleEndian.Uint32(b[16:]) {
		return 0, 0, false
	}
	return binary.LittleEndian.Uint64(b[0:]), int64(binary.LittleEndian.Uint64(b[8:])), true
}

func (s *Spool) segPath(id uint64) string {
	return filepath.Join(s.dir, fmt.Sprintf("%016x%s", id, segSuffix))
}

// Close closes the spool's files; records not consumed stay on disk for
// the next Open.
func (s *Spool) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	var errs []error
	if s.tail != nil {
		errs = append(errs, s.tail.Close())
		s.tail = nil
	}
	if s.head != nil {
		errs = append(errs, s.head.Close())
		s.head = nil
	}
	if len(s.segs) > 0 {
		s.writeCursor()
	}
	return errors.Join(errs...)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync spool directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("sync spool directory: %w", err)
	}
	return nil
}
