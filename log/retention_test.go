package log

import (
	"bytes"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/kappa-db/kappa/pgerr"
	"github.com/kappa-db/kappa/vfs"
)

// fakeClock is a clock that tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// checkFrom checks that l holds exactly the deterministic records [start, end).
func checkFrom(t *testing.T, l *Log, start, end uint64) {
	t.Helper()
	if l.Start() != start || l.End() != end {
		t.Fatalf("Start %d End %d, want %d %d", l.Start(), l.End(), start, end)
	}
	got := readAll(t, l, start)
	for i, rec := range got {
		if !bytes.Equal(rec, record(start+uint64(i))) {
			t.Fatalf("record %d differs", start+uint64(i))
		}
	}
	if uint64(len(got)) != end-start {
		t.Fatalf("read %d records, want %d", len(got), end-start)
	}
}

// checkRemoved checks that reading offset off fails as removed, with a
// SQLSTATE.
func checkRemoved(t *testing.T, l *Log, off uint64) {
	t.Helper()
	_, err := l.Read(off, 1, func(uint64, []byte) error { return nil })
	if !errors.Is(err, ErrOffsetRemoved) {
		t.Fatalf("Read(%d) before Start %d: %v", off, l.Start(), err)
	}
	if pe := pgerr.As(err); pe.Code != pgerr.ObjectNotInPrerequisite {
		t.Fatalf("Read(%d) before Start: SQLSTATE %s", off, pe.Code)
	}
}

// TestRetainByAge appends ten records every ten minutes for ten hours into
// segments rolled hourly by age (SegmentBytes is far away), and keeps three
// hours: whole segments go, oldest first, reads before Start fail, and a
// reopened log starts where retention left it and goes on deleting by the
// times in the old segments' batch headers.
func TestRetainByAge(t *testing.T) {
	clock := newFakeClock()
	fs := vfs.NewMem()
	opts := Options{FS: fs, Dir: "/p", SegmentAge: time.Hour, Now: clock.Now}
	l := mustOpen(t, opts)
	var n uint64
	for i := 0; i < 60; i++ {
		mustAppend(t, l, records(n, 10))
		n += 10
		clock.Advance(10 * time.Minute)
	}
	names, _ := fs.List("/p")
	if segs := len(names) - 1; segs != 10 { // and LOCK
		t.Fatalf("%d segments after ten hours with SegmentAge 1h, want 10: %v", segs, names)
	}
	// Nobody has read anything: nothing may go.
	if start, err := l.Retain(Retention{Age: 3 * time.Hour}, 0); err != nil || start != 0 {
		t.Fatalf("Retain with keep 0 = %d, %v", start, err)
	}
	start, err := l.Retain(Retention{Age: 3 * time.Hour}, n)
	if err != nil {
		t.Fatal(err)
	}
	// Now is 10:00; the segment of hour 6 (records up to 6:50) is older
	// than 3 hours; the one of hour 7 (up to 7:50) is not.
	if want := uint64(7 * 60); start != want {
		t.Fatalf("Start after retaining 3h = %d, want %d", start, want)
	}
	checkFrom(t, l, start, n)
	checkRemoved(t, l, start-1)
	checkRemoved(t, l, 0)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}

	clock.Advance(time.Hour)
	l = mustOpen(t, opts)
	defer l.Close()
	checkFrom(t, l, start, n)
	start, err = l.Retain(Retention{Age: 3 * time.Hour}, n)
	if err != nil {
		t.Fatal(err)
	}
	if want := uint64(8 * 60); start != want {
		t.Fatalf("after reopening an hour later, Start = %d, want %d", start, want)
	}
	checkFrom(t, l, start, n)
}

// TestRetainKeepsUnread: a segment that a reader still needs stays, however
// old.
func TestRetainKeepsUnread(t *testing.T) {
	clock := newFakeClock()
	l := mustOpen(t, Options{FS: vfs.NewMem(), Dir: "/p", SegmentAge: time.Minute, Now: clock.Now})
	defer l.Close()
	var n uint64
	for i := 0; i < 10; i++ {
		mustAppend(t, l, records(n, 5))
		n += 5
		clock.Advance(time.Minute)
	}
	clock.Advance(time.Hour)
	// The reader is inside the fourth segment: three go.
	start, err := l.Retain(Retention{Age: time.Second}, 17)
	if err != nil {
		t.Fatal(err)
	}
	if start != 15 {
		t.Fatalf("Start = %d, want 15", start)
	}
	checkFrom(t, l, 15, n)
}

// TestRetainByBytes deletes the oldest segments while the log is bigger
// than the limit.
func TestRetainByBytes(t *testing.T) {
	l := mustOpen(t, Options{FS: vfs.NewMem(), Dir: "/p", SegmentBytes: 1 << 10})
	defer l.Close()
	var n uint64
	for i := 0; i < 200; i++ {
		mustAppend(t, l, records(n, 5))
		n += 5
	}
	if l.Size() < 10<<10 {
		t.Fatalf("log is only %d bytes", l.Size())
	}
	start, err := l.Retain(Retention{Bytes: 4 << 10}, n)
	if err != nil {
		t.Fatal(err)
	}
	if l.Size() > 4<<10 || l.Size() < 3<<10 {
		t.Fatalf("after retaining 4 KiB the log is %d bytes", l.Size())
	}
	checkFrom(t, l, start, n)
	checkRemoved(t, l, start-1)
}

// TestRollIdleLog: a log that gets no more appends is rolled by Roll, so
// retention can delete its records; it then goes on at the same offsets.
func TestRollIdleLog(t *testing.T) {
	clock := newFakeClock()
	fs := vfs.NewMem()
	opts := Options{FS: fs, Dir: "/p", SegmentAge: time.Hour, Now: clock.Now}
	l := mustOpen(t, opts)
	mustAppend(t, l, records(0, 10))
	clock.Advance(30 * time.Minute)
	if err := l.Roll(time.Hour); err != nil {
		t.Fatal(err)
	}
	if start, _ := l.Retain(Retention{Age: time.Minute}, 10); start != 0 {
		t.Fatalf("a segment younger than SegmentAge was rolled: Start %d", start)
	}
	clock.Advance(time.Hour)
	if err := l.Roll(time.Hour); err != nil {
		t.Fatal(err)
	}
	start, err := l.Retain(Retention{Age: time.Minute}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if start != 10 || l.End() != 10 {
		t.Fatalf("Start %d End %d, want 10 10", start, l.End())
	}
	checkRemoved(t, l, 9)
	if err := l.Roll(0); err != nil { // an empty segment does not roll
		t.Fatal(err)
	}
	if names, _ := fs.List("/p"); len(names) != 2 {
		t.Fatalf("files %v", names)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = mustOpen(t, opts)
	defer l.Close()
	if l.Start() != 10 || l.End() != 10 {
		t.Fatalf("reopened: Start %d End %d", l.Start(), l.End())
	}
	if first := mustAppend(t, l, records(10, 5)); first != 10 {
		t.Fatalf("append after retention got offset %d", first)
	}
	checkFrom(t, l, 10, 15)
}

// TestRetainCrash takes a crash clone of the filesystem before every sync
// and remove while retention deletes segments (and while an idle log is
// rolled by age): every clone opens to the same records from some segment
// base on, never to a gap, and takes appends.
func TestRetainCrash(t *testing.T) {
	mem := vfs.NewMem()
	var clones []*vfs.MemFS
	armed := false
	fs := vfs.WithFaults(mem, func(op vfs.Op, path string) error {
		if armed && (op == vfs.OpSync || op == vfs.OpRemove) {
			clones = append(clones, mem.CrashClone())
		}
		return nil
	})
	clock := newFakeClock()
	opts := Options{FS: fs, Dir: "/p", SegmentBytes: 1 << 10, SegmentAge: time.Hour, Now: clock.Now}
	l := mustOpen(t, opts)
	var n uint64
	for i := 0; i < 100; i++ {
		mustAppend(t, l, records(n, 5))
		n += 5
	}
	clock.Advance(2 * time.Hour)
	armed = true
	if err := l.Roll(time.Hour); err != nil {
		t.Fatal(err)
	}
	start, err := l.Retain(Retention{Age: time.Hour}, n)
	if err != nil {
		t.Fatal(err)
	}
	armed = false
	if start != n {
		t.Fatalf("Start = %d, want %d", start, n)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	clones = append(clones, mem.CrashClone())
	if len(clones) < 10 {
		t.Fatalf("only %d crash points", len(clones))
	}
	for i, c := range clones {
		l, err := Open(Options{FS: c, Dir: "/p", SegmentBytes: 1 << 10})
		if err != nil {
			t.Fatalf("crash point %d: %v", i, err)
		}
		if l.End() != n {
			t.Fatalf("crash point %d: End %d, want %d", i, l.End(), n)
		}
		checkFrom(t, l, l.Start(), n)
		if first, err := l.Append(records(n, 1)); err != nil || first != n {
			t.Fatalf("crash point %d: Append = %d, %v", i, first, err)
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
}
