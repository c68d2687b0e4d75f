package spool_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/tweetwire/tweetwire/server/spool"
)

func open(t *testing.T, dir string, cfg spool.Config) *spool.Spool {
	t.Helper()
	s, err := spool.Open(dir, cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func rec(i int) []byte { return []byte(fmt.Sprintf("record-%04d", i)) }

func appendN(t *testing.T, s *spool.Spool, from, n int) {
	t.Helper()
	for i := from; i < from+n; i++ {
		if err := s.Append(rec(i)); err != nil {
			t.Fatalf("Append(%d): %v", i, err)
		}
	}
}

// drain reads everything, max records at a time, discarding as it goes.
func drain(t *testing.T, s *spool.Spool, max int) []string {
	t.Helper()
	var out []string
	for {
		recs, err := s.Front(max)
		if err != nil {
			t.Fatalf("Front: %v", err)
		}
		if len(recs) == 0 {
			return out
		}
		for _, r := range recs {
			out = append(out, string(r))
		}
		if err := s.Discard(len(recs)); err != nil {
			t.Fatalf("Discard: %v", err)
		}
	}
}

func want(from, n int) []string {
	var out []string
	for i := from; i < from+n; i++ {
		out = append(out, string(rec(i)))
	}
	return out
}

func segments(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*.seg"))
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(m)
	return m
}

func TestOrder(t *testing.T) {
	tests := []struct {
		name    string
		cfg     spool.Config
		n       int
		readMax int
	}{
		{name: "one segment, one at a time", n: 50, readMax: 1},
		{name: "one segment, in batches", n: 50, readMax: 7},
		{name: "many small segments", cfg: spool.Config{SegmentBytes: 64}, n: 50, readMax: 3},
		{name: "a segment per record", cfg: spool.Config{SegmentBytes: 1}, n: 20, readMax: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s := open(t, dir, tt.cfg)
			appendN(t, s, 0, tt.n)
			if s.Len() != tt.n {
				t.Fatalf("Len = %d, want %d", s.Len(), tt.n)
			}
			if got := drain(t, s, tt.readMax); !slices.Equal(got, want(0, tt.n)) {
				t.Fatalf("read %v", got)
			}
			if s.Len() != 0 || s.Bytes() != 0 {
				t.Errorf("after draining: Len %d, Bytes %d", s.Len(), s.Bytes())
			}
			if segs := segments(t, dir); len(segs) != 0 {
				t.Errorf("a drained spool keeps %v", segs)
			}
			// It goes on working after being emptied.
			appendN(t, s, 100, 3)
			if got := drain(t, s, 10); !slices.Equal(got, want(100, 3)) {
				t.Fatalf("after refilling: %v", got)
			}
		})
	}
}

func TestFrontDoesNotConsume(t *testing.T) {
	s := open(t, t.TempDir(), spool.Config{})
	appendN(t, s, 0, 3)
	a, _ := s.Front(2)
	b, _ := s.Front(2)
	if len(a) != 2 || string(a[0]) != string(b[0]) || string(a[1]) != string(b[1]) {
		t.Fatalf("two Fronts differ: %q %q", a, b)
	}
	if err := s.Discard(4); err == nil {
		t.Error("discarding more than is held succeeded")
	}
}

func TestReopen(t *testing.T) {
	tests := []struct {
		name     string
		cfg      spool.Config
		consumed int
	}{
		{name: "nothing consumed", consumed: 0},
		{name: "part of a segment consumed", consumed: 7},
		{name: "whole segments consumed", cfg: spool.Config{SegmentBytes: 100}, consumed: 13},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s, err := spool.Open(dir, tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			appendN(t, s, 0, 30)
			if tt.consumed > 0 {
				if err := s.Discard(tt.consumed); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			s = open(t, dir, tt.cfg)
			if s.Len() != 30-tt.consumed {
				t.Fatalf("reopened with %d records, want %d", s.Len(), 30-tt.consumed)
			}
			appendN(t, s, 30, 5)
			if got := drain(t, s, 4); !slices.Equal(got, want(tt.consumed, 35-tt.consumed)) {
				t.Fatalf("after reopening: %v", got)
			}
		})
	}
}

func TestBound(t *testing.T) {
	tests := []struct {
		name string
		cfg  spool.Config
		fits int
	}{
		// Each record is 11 bytes plus an 8-byte header.
		{name: "by records", cfg: spool.Config{MaxRecords: 5}, fits: 5},
		{name: "by bytes", cfg: spool.Config{MaxBytes: 19 * 4}, fits: 4},
		{name: "by bytes across segments", cfg: spool.Config{MaxBytes: 19 * 6, SegmentBytes: 40}, fits: 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s := open(t, dir, tt.cfg)
			appendN(t, s, 0, tt.fits)
			err := s.Append(rec(tt.fits))
			if !errors.Is(err, spool.ErrFull) {
				t.Fatalf("Append past the bound: %v, want ErrFull", err)
			}
			if !strings.Contains(err.Error(), "at most") {
				t.Errorf("the error does not say the bound: %v", err)
			}
			if s.Len() != tt.fits {
				t.Errorf("a refused record was counted: Len %d", s.Len())
			}
			// Consuming makes room again.
			if err := s.Discard(1); err != nil {
				t.Fatal(err)
			}
			if err := s.Append(rec(tt.fits)); err != nil {
				t.Fatalf("Append after making room: %v", err)
			}
			if got := drain(t, s, 100); !slices.Equal(got, want(1, tt.fits)) {
				t.Fatalf("read %v", got)
			}
		})
	}
}

func TestRecordSize(t *testing.T) {
	s := open(t, t.TempDir(), spool.Config{MaxRecordBytes: 16})
	for _, r := range [][]byte{nil, {}, make([]byte, 17)} {
		if err := s.Append(r); err == nil {
			t.Errorf("Append of %d bytes succeeded", len(r))
		}
	}
	if err := s.Append(make([]byte, 16)); err != nil {
		t.Errorf("Append of the maximum size: %v", err)
	}
}

// TestTornTail simulates a crash in the middle of an append: the last
// segment ends with part of a record (or with garbage the filesystem left).
func TestTornTail(t *testing.T) {
	tests := []struct {
		name string
		tear func(data []byte) []byte
		// lost says whether the last whole record is lost too (a bad
		// checksum makes it indistinguishable from a torn one).
		lost bool
	}{
		{name: "half a header", tear: func(d []byte) []byte { return append(d, 11, 0, 0) }},
		{name: "header without payload", tear: func(d []byte) []byte { return append(d, 11, 0, 0, 0, 1, 2, 3, 4, 'r', 'e') }},
		{name: "zeros", tear: func(d []byte) []byte { return append(d, make([]byte, 4096)...) }},
		{name: "absurd length", tear: func(d []byte) []byte { return append(d, 0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0) }},
		{name: "last payload damaged", tear: func(d []byte) []byte { d[len(d)-1] ^= 0xff; return d }, lost: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s, err := spool.Open(dir, spool.Config{SegmentBytes: 100})
			if err != nil {
				t.Fatal(err)
			}
			appendN(t, s, 0, 10)
			_ = s.Close()
			segs := segments(t, dir)
			last := segs[len(segs)-1]
			data, err := os.ReadFile(last)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(last, tt.tear(data), 0o600); err != nil {
				t.Fatal(err)
			}

			s = open(t, dir, spool.Config{SegmentBytes: 100})
			n := 10
			if tt.lost {
				n = 9
			}
			if s.Repaired() == 0 {
				t.Error("Repaired() = 0 after a torn tail")
			}
			if s.Len() != n {
				t.Fatalf("Len = %d after repair, want %d", s.Len(), n)
			}
			// Appends continue after the last good record.
			appendN(t, s, 10, 2)
			got := drain(t, s, 3)
			w := slices.Concat(want(0, n), want(10, 2))
			if !slices.Equal(got, w) {
				t.Fatalf("read %v\nwant %v", got, w)
			}
		})
	}
}

// damage flips one byte in the payload of record k of the file.
func damage(t *testing.T, path string, k int) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	off := 0
	for range k {
		off += 8 + int(binary.LittleEndian.Uint32(data[off:]))
	}
	data[off+8+3] ^= 0x20
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

// A damaged record with good ones after it is damage, not a torn append,
// wherever it is: Open moves the file aside, keeps every record it can
// read (in order, appends going on after them) and reports the rest.
func TestDamageLosesOnlyWhatCannotBeRead(t *testing.T) {
	for _, tt := range []struct {
		name    string
		segment int // which segment file to damage; -1 the newest
		cfg     spool.Config
		records int
	}{
		{"the newest segment", -1, spool.Config{}, 2200},
		{"an older segment", 0, spool.Config{SegmentBytes: 4096}, 2200},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s, err := spool.Open(dir, tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			appendN(t, s, 0, tt.records)
			_ = s.Close()
			segs := segments(t, dir)
			victim := segs[len(segs)-1]
			if tt.segment >= 0 {
				victim = segs[tt.segment]
			}
			before, _ := os.ReadFile(victim)
			damage(t, victim, 10)

			s = open(t, dir, tt.cfg)
			if s.Len() != tt.records-1 {
				t.Fatalf("Len = %d after the damage, want %d: only the damaged record is lost", s.Len(), tt.records-1)
			}
			dmg := s.Damaged()
			if len(dmg) != 1 || dmg[0].Unreadable != 1 || dmg[0].Bytes != int64(8+len(rec(0))) {
				t.Fatalf("Damaged() = %+v, want one unreadable record of %d bytes", dmg, 8+len(rec(0)))
			}
			if lost := spool.NewWriter(newFakeDB(), s, quick).Health().Lost; lost != 1 {
				t.Errorf("the writer counts %d lost, want the 1 unreadable record", lost)
			}
			moved, err := os.ReadFile(dmg[0].MovedTo)
			if err != nil || len(moved) != len(before) || !strings.HasPrefix(filepath.Base(dmg[0].MovedTo), filepath.Base(victim)+".damaged-") {
				t.Fatalf("the damaged file was not kept whole beside the spool: %v (%d bytes of %d) at %s", err, len(moved), len(before), dmg[0].MovedTo)
			}
			appendN(t, s, tt.records, 3)
			got := drain(t, s, 100)
			w := slices.Concat(want(0, 10), want(11, tt.records-11), want(tt.records, 3))
			if !slices.Equal(got, w) {
				t.Fatalf("read %d records, want %d in order (first difference at %d)", len(got), len(w), firstDiff(got, w))
			}
			_ = s.Close()
			// The damaged file stays where it was moved, and a new Open
			// finds nothing more to recover.
			if _, err := os.Stat(dmg[0].MovedTo); err != nil {
				t.Errorf("the damaged file is gone after draining: %v", err)
			}
			if again := open(t, dir, tt.cfg); len(again.Damaged()) != 0 || again.Len() != 0 {
				t.Errorf("after draining, Open finds %+v and %d records", again.Damaged(), again.Len())
			}
		})
	}
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func TestBadCursorReplays(t *testing.T) {
	tests := []struct {
		name   string
		cursor []byte
	}{
		{name: "garbage", cursor: []byte("not a cursor at all")},
		{name: "empty", cursor: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s, err := spool.Open(dir, spool.Config{})
			if err != nil {
				t.Fatal(err)
			}
			appendN(t, s, 0, 5)
			if err := s.Discard(2); err != nil {
				t.Fatal(err)
			}
			_ = s.Close()
			if err := os.WriteFile(filepath.Join(dir, "cursor"), tt.cursor, 0o600); err != nil {
				t.Fatal(err)
			}
			// Without a usable cursor the records come again from the
			// segment's start: seen twice, never lost.
			s = open(t, dir, spool.Config{})
			if got := drain(t, s, 10); !slices.Equal(got, want(0, 5)) {
				t.Fatalf("read %v", got)
			}
		})
	}
}
