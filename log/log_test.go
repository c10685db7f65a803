package log

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/kappa-db/kappa/pgerr"
	"github.com/kappa-db/kappa/vfs"
)

// record returns the deterministic content of the record at offset i.
func record(i uint64) []byte {
	n := int(i*7919%97) + 1
	if i%13 == 0 {
		n = 0 // empty records are records too
	}
	b := make([]byte, n)
	for j := range b {
		b[j] = byte(i>>uint(j%8*8)) ^ byte(j)
	}
	return b
}

func records(first uint64, n int) [][]byte {
	rs := make([][]byte, n)
	for i := range rs {
		rs[i] = record(first + uint64(i))
	}
	return rs
}

func mustOpen(t testing.TB, opts Options) *Log {
	t.Helper()
	l, err := Open(opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return l
}

func mustAppend(t testing.TB, l *Log, rs [][]byte) uint64 {
	t.Helper()
	first, err := l.Append(rs)
	if err != nil {
		t.Fatalf("Append: %v", err)
	}
	return first
}

// readAll returns copies of every record from from to End().
func readAll(t testing.TB, l *Log, from uint64) [][]byte {
	t.Helper()
	var out [][]byte
	want := from
	for from < l.End() {
		next, err := l.Read(from, 100, func(off uint64, rec []byte) error {
			if off != want {
				return fmt.Errorf("read offset %d, want %d", off, want)
			}
			want++
			out = append(out, bytes.Clone(rec))
			return nil
		})
		if err != nil {
			t.Fatalf("Read(%d): %v", from, err)
		}
		if next == from {
			t.Fatalf("Read(%d) made no progress before End %d", from, l.End())
		}
		from = next
	}
	return out
}

// checkRecords checks that l holds exactly the deterministic records [0, n).
func checkRecords(t testing.TB, l *Log, n uint64) {
	t.Helper()
	if l.End() != n {
		t.Fatalf("End = %d, want %d", l.End(), n)
	}
	got := readAll(t, l, 0)
	if uint64(len(got)) != n {
		t.Fatalf("read %d records, want %d", len(got), n)
	}
	for i, rec := range got {
		if !bytes.Equal(rec, record(uint64(i))) {
			t.Fatalf("record %d = %x, want %x", i, rec, record(uint64(i)))
		}
	}
}

func TestAppendReadReopen(t *testing.T) {
	for _, mode := range []SyncMode{SyncGroup, SyncAlways, SyncOff} {
		t.Run(mode.String(), func(t *testing.T) {
			fs := vfs.NewMem()
			opts := Options{FS: fs, Dir: "/data/p0", Sync: mode}
			l := mustOpen(t, opts)
			var n uint64
			for _, size := range []int{1, 5, 100, 1, 1000, 3} {
				if first := mustAppend(t, l, records(n, size)); first != n {
					t.Fatalf("first = %d, want %d", first, n)
				}
				n += uint64(size)
			}
			if first, err := l.Append(nil); err != nil || first != n {
				t.Fatalf("empty Append = %d, %v", first, err)
			}
			checkRecords(t, l, n)
			// Reads from every offset, with small limits, see the right records.
			for from := uint64(0); from < n; from += 37 {
				var got []uint64
				next, err := l.Read(from, 5, func(off uint64, rec []byte) error {
					if !bytes.Equal(rec, record(off)) {
						t.Fatalf("record %d differs", off)
					}
					got = append(got, off)
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				want := min(from+5, n)
				if next != want || uint64(len(got)) != want-from {
					t.Fatalf("Read(%d, 5) returned next %d after %d records", from, next, len(got))
				}
			}
			if next, err := l.Read(n+10, 5, func(uint64, []byte) error { t.Fatal("called"); return nil }); err != nil || next != n+10 {
				t.Fatalf("Read past End = %d, %v", next, err)
			}
			size := l.Size()
			if size <= int64(n) {
				t.Fatalf("Size = %d for %d records", size, n)
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			if _, err := l.Append(records(0, 1)); err != ErrClosed {
				t.Fatalf("Append after Close: %v", err)
			}
			if _, err := l.Read(0, 1, func(uint64, []byte) error { return nil }); err != ErrClosed {
				t.Fatalf("Read after Close: %v", err)
			}
			l = mustOpen(t, opts)
			defer l.Close()
			checkRecords(t, l, n)
			if l.Size() != size {
				t.Fatalf("Size after reopen = %d, want %d", l.Size(), size)
			}
			mustAppend(t, l, records(n, 10))
			checkRecords(t, l, n+10)
		})
	}
}

func TestReadCallbackError(t *testing.T) {
	l := mustOpen(t, Options{FS: vfs.NewMem(), Dir: "/p"})
	defer l.Close()
	mustAppend(t, l, records(0, 10))
	stop := errors.New("stop")
	next, err := l.Read(0, 100, func(off uint64, _ []byte) error {
		if off == 4 {
			return stop
		}
		return nil
	})
	if err != stop || next != 4 {
		t.Fatalf("Read = %d, %v; want 4, stop", next, err)
	}
}

func TestReadWithTime(t *testing.T) {
	l := mustOpen(t, Options{FS: vfs.NewMem(), Dir: "/p"})
	defer l.Close()
	before := time.Now().UnixNano()
	mustAppend(t, l, records(0, 3))
	after := time.Now().UnixNano()
	_, err := l.ReadWithTime(0, 10, func(off uint64, at int64, rec []byte) error {
		if at < before || at > after {
			return fmt.Errorf("append time %d not in [%d, %d]", at, before, after)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestSegmentsRollAndReadAcross(t *testing.T) {
	fs := vfs.NewMem()
	opts := Options{FS: fs, Dir: "/p", SegmentBytes: 2 << 10}
	l := mustOpen(t, opts)
	var n uint64
	for i := 0; i < 200; i++ {
		size := 1 + i%17
		mustAppend(t, l, records(n, size))
		n += uint64(size)
	}
	names, err := fs.List("/p")
	if err != nil {
		t.Fatal(err)
	}
	var segs []uint64
	for _, name := range names {
		if base, ok := parseSegmentName(name); ok {
			segs = append(segs, base)
		}
	}
	if len(segs) < 10 {
		t.Fatalf("only %d segments: %v", len(segs), names)
	}
	checkRecords(t, l, n)
	check := func(l *Log) {
		for from := uint64(0); from < n; from += 11 {
			next, err := l.Read(from, 50, func(off uint64, rec []byte) error {
				if !bytes.Equal(rec, record(off)) {
					return fmt.Errorf("record %d differs", off)
				}
				return nil
			})
			if err != nil || next != min(from+50, n) {
				t.Fatalf("Read(%d, 50) = %d, %v", from, next, err)
			}
		}
	}
	check(l)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	// Reopened, older segments are indexed lazily on first read.
	l = mustOpen(t, opts)
	defer l.Close()
	check(l)
	checkRecords(t, l, n)
	if l.Start() != 0 {
		t.Fatalf("Start = %d", l.Start())
	}
}

func TestRemoveBefore(t *testing.T) {
	fs := vfs.NewMem()
	opts := Options{FS: fs, Dir: "/p", SegmentBytes: 1 << 10}
	l := mustOpen(t, opts)
	for i := uint64(0); i < 100; i++ {
		mustAppend(t, l, records(i*5, 5))
	}
	sizeBefore := l.Size()
	start, err := l.RemoveBefore(250)
	if err != nil {
		t.Fatal(err)
	}
	if start == 0 || start > 250 || start != l.Start() {
		t.Fatalf("RemoveBefore(250) = %d, Start %d", start, l.Start())
	}
	if l.Size() >= sizeBefore {
		t.Fatalf("Size did not shrink: %d -> %d", sizeBefore, l.Size())
	}
	if _, err := l.Read(start-1, 1, func(uint64, []byte) error { return nil }); !errors.Is(err, ErrOffsetRemoved) {
		t.Fatalf("Read before Start: %v", err)
	}
	got := readAll(t, l, start)
	if uint64(len(got)) != 500-start {
		t.Fatalf("read %d records after Start", len(got))
	}
	for i, rec := range got {
		if !bytes.Equal(rec, record(start+uint64(i))) {
			t.Fatalf("record %d differs", start+uint64(i))
		}
	}
	l.Close()
	l = mustOpen(t, opts)
	defer l.Close()
	if l.Start() != start || l.End() != 500 {
		t.Fatalf("reopened: Start %d End %d", l.Start(), l.End())
	}
}

func TestSparseIndex(t *testing.T) {
	l := mustOpen(t, Options{FS: vfs.NewMem(), Dir: "/p"})
	defer l.Close()
	const batches = 4000 // ~1000 bytes each: several index entries
	for i := uint64(0); i < batches; i++ {
		mustAppend(t, l, [][]byte{bytes.Repeat([]byte{byte(i)}, 1000)})
	}
	l.mu.RLock()
	s := l.mu.segments[0]
	entries := len(s.index)
	l.mu.RUnlock()
	if entries < batches*1000/indexIntervalBytes {
		t.Fatalf("%d index entries for %d bytes", entries, s.size)
	}
	for _, off := range []uint64{0, 1, 1234, 3999} {
		l.mu.RLock()
		pos := s.lookupLocked(off)
		l.mu.RUnlock()
		batchPos := int64(off) * (batchHeaderLen + 1002)
		if pos > batchPos || batchPos-pos > indexIntervalBytes+batchHeaderLen+1002 {
			t.Fatalf("lookup(%d) = %d, batch at %d", off, pos, batchPos)
		}
		var got []byte
		if _, err := l.Read(off, 1, func(_ uint64, rec []byte) error { got = bytes.Clone(rec); return nil }); err != nil {
			t.Fatal(err)
		}
		if len(got) != 1000 || got[0] != byte(off) {
			t.Fatalf("Read(%d) got %d bytes starting %d", off, len(got), got[0])
		}
	}
}

func TestReadDoesNotAllocatePerRecord(t *testing.T) {
	l := mustOpen(t, Options{FS: vfs.NewMem(), Dir: "/p"})
	defer l.Close()
	for i := uint64(0); i < 10; i++ {
		mustAppend(t, l, records(i*1000, 1000))
	}
	var sum int
	fn := func(_ uint64, rec []byte) error { sum += len(rec); return nil }
	allocs := testing.AllocsPerRun(20, func() {
		if _, err := l.Read(0, 10000, fn); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 5 {
		t.Fatalf("Read of 10000 records made %.0f allocations", allocs)
	}
}

func TestLockedDirectory(t *testing.T) {
	for name, fs := range map[string]vfs.FS{"mem": vfs.NewMem(), "os": vfs.Default} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "p")
			l := mustOpen(t, Options{FS: fs, Dir: dir})
			_, err := Open(Options{FS: fs, Dir: dir})
			if !errors.Is(err, ErrLocked) || pgerr.Code(err) != objectInUse {
				t.Fatalf("second Open: %v (code %s)", err, pgerr.Code(err))
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			if err := l.Close(); err != nil {
				t.Fatalf("second Close: %v", err)
			}
			l = mustOpen(t, Options{FS: fs, Dir: dir})
			l.Close()
		})
	}
}

func TestWaitAndNotify(t *testing.T) {
	l := mustOpen(t, Options{FS: vfs.NewMem(), Dir: "/p"})
	ch := l.Notify()
	done := make(chan error)
	go func() { done <- l.Wait(context.Background(), 2) }()
	mustAppend(t, l, records(0, 2)) // End = 2: not yet > 2
	<-ch                            // but End moved
	select {
	case err := <-done:
		t.Fatalf("Wait(2) returned %v at End 2", err)
	case <-time.After(10 * time.Millisecond):
	}
	mustAppend(t, l, records(2, 1))
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { done <- l.Wait(ctx, 100) }()
	cancel()
	if err := <-done; err != context.Canceled {
		t.Fatalf("Wait after cancel: %v", err)
	}
	go func() { done <- l.Wait(context.Background(), 100) }()
	time.Sleep(time.Millisecond)
	l.Close()
	if err := <-done; err != ErrClosed {
		t.Fatalf("Wait across Close: %v", err)
	}
	select {
	case <-l.Notify():
	default:
		t.Fatal("Notify of a closed log is not closed")
	}
}

func TestAppendTooLarge(t *testing.T) {
	l := mustOpen(t, Options{FS: vfs.NewMem(), Dir: "/p"})
	defer l.Close()
	_, err := l.Append([][]byte{make([]byte, MaxBatchBytes)})
	if pgerr.Code(err) != pgerr.ProgramLimitExceeded {
		t.Fatalf("oversized Append: %v", err)
	}
	mustAppend(t, l, records(0, 3)) // the log goes on
	checkRecords(t, l, 3)
}

// TestGroupCommit checks that concurrent appenders share fsyncs.
func TestGroupCommit(t *testing.T) {
	var syncs atomic.Int64
	fs := vfs.WithFaults(vfs.NewMem(), func(op vfs.Op, path string) error {
		if op == vfs.OpSync && filepath.Ext(path) == ".log" {
			syncs.Add(1)
			time.Sleep(200 * time.Microsecond) // a disk takes time to sync
		}
		return nil
	})
	l := mustOpen(t, Options{FS: fs, Dir: "/p"})
	defer l.Close()
	base := syncs.Load()
	const writers, each = 16, 50
	var wg sync.WaitGroup
	firsts := make(chan uint64, writers*each)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				first, err := l.Append([][]byte{[]byte("row")})
				if err != nil {
					t.Error(err)
					return
				}
				firsts <- first
			}
		}()
	}
	wg.Wait()
	close(firsts)
	seen := map[uint64]bool{}
	for f := range firsts {
		if seen[f] {
			t.Fatalf("offset %d assigned twice", f)
		}
		seen[f] = true
	}
	n := syncs.Load() - base
	t.Logf("%d appends took %d fsyncs", writers*each, n)
	if n*4 > writers*each {
		t.Fatalf("%d appends took %d fsyncs; group commit should need far fewer", writers*each, n)
	}
	if l.End() != writers*each {
		t.Fatalf("End = %d", l.End())
	}
}

func TestGroupCommitDelay(t *testing.T) {
	var syncs atomic.Int64
	fs := vfs.WithFaults(vfs.NewMem(), func(op vfs.Op, path string) error {
		if op == vfs.OpSync {
			syncs.Add(1)
		}
		return nil
	})
	l := mustOpen(t, Options{FS: fs, Dir: "/p", GroupCommitDelay: 5 * time.Millisecond})
	defer l.Close()
	base := syncs.Load()
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := l.Append([][]byte{[]byte("x")}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := syncs.Load() - base; n > 3 {
		t.Fatalf("8 appends within the delay took %d fsyncs", n)
	}
}

func TestFailStop(t *testing.T) {
	for _, tc := range []struct {
		op   vfs.Op
		err  error
		code string
	}{
		{vfs.OpWrite, syscall.EIO, pgerr.IOError}, // ENOSPC on a write is not fatal: TestDiskFull
		{vfs.OpSync, syscall.EIO, pgerr.IOError},
		{vfs.OpCreate, syscall.ENOSPC, pgerr.DiskFull}, // rolling a segment
	} {
		t.Run(tc.op.String(), func(t *testing.T) {
			mem := vfs.NewMem()
			var armed atomic.Bool
			fs := vfs.WithFaults(mem, func(op vfs.Op, path string) error {
				if armed.Load() && op == tc.op {
					return tc.err
				}
				return nil
			})
			opts := Options{FS: fs, Dir: "/p", SegmentBytes: 1 << 10}
			l := mustOpen(t, opts)
			mustAppend(t, l, records(0, 10))
			armed.Store(true)
			var err error
			n := uint64(10)
			for i := 0; err == nil && i < 100; i++ { // OpCreate fails only at a roll
				if _, err = l.Append(records(n, 10)); err == nil {
					if tc.op != vfs.OpCreate {
						t.Fatalf("Append succeeded with %s failing", tc.op)
					}
					n += 10
				}
			}
			if pgerr.Code(err) != tc.code || !errors.Is(err, tc.err) {
				t.Fatalf("Append with failing %s: %v (code %s)", tc.op, err, pgerr.Code(err))
			}
			armed.Store(false)
			// Fail-stop: no more appends, even with the fault gone.
			if _, err := l.Append(records(n, 1)); pgerr.Code(err) != tc.code {
				t.Fatalf("Append after failure: %v", err)
			}
			if l.Err() == nil {
				t.Fatal("Err() is nil after a failure")
			}
			if err := l.Wait(context.Background(), 100); err == nil {
				t.Fatal("Wait on a failed log returned nil")
			}
			checkRecords(t, l, n) // reads still work
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			l = mustOpen(t, opts)
			defer l.Close()
			// The failed Append is not there: its write failed, or fail cut it.
			checkRecords(t, l, n)
			mustAppend(t, l, records(n, 5))
			checkRecords(t, l, n+5)
		})
	}
}

// TestApproxBytes checks the size hint: the whole log is its size, an empty
// range nothing, and a range at least the bytes of its records and at most
// an index interval and a batch more at each end, across segments.
func TestApproxBytes(t *testing.T) {
	l := mustOpen(t, Options{FS: vfs.NewMem(), Dir: "/p", SegmentBytes: 256 << 10})
	defer l.Close()
	var n uint64
	var ends []uint64
	for i := 0; i < 400; i++ {
		size := 1 + i%37
		mustAppend(t, l, records(n, size))
		n += uint64(size)
		ends = append(ends, n)
	}
	if got := l.ApproxBytes(0, n); got != l.Size() {
		t.Fatalf("ApproxBytes(0, end) = %d, want the log's size %d", got, l.Size())
	}
	if got := l.ApproxBytes(n, n); got != 0 {
		t.Fatalf("ApproxBytes(end, end) = %d", got)
	}
	for i := 0; i+50 < len(ends); i += 7 {
		from, to := ends[i], ends[i+50]
		exact := encodedLen(records(from, int(to-from)))
		got := l.ApproxBytes(from, to)
		if got < exact || got > exact+4*indexIntervalBytes {
			t.Fatalf("ApproxBytes(%d, %d) = %d, records take %d", from, to, got, exact)
		}
	}
}
