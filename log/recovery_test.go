package log

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/kappa-db/kappa/vfs"
)

// memWith returns a MemFS holding data, synced, as the only segment of /p.
func memWith(t *testing.T, data []byte) *vfs.MemFS {
	t.Helper()
	fs := vfs.NewMem()
	if err := vfs.MkdirAllSynced(fs, "/p"); err != nil {
		t.Fatal(err)
	}
	f, err := fs.Create(segmentPath("/p", 0))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := vfs.SyncDir(fs, "/p"); err != nil {
		t.Fatal(err)
	}
	return fs
}

func fileBytes(t *testing.T, fs vfs.FS, name string) []byte {
	t.Helper()
	fi, err := fs.Stat(name)
	if err != nil {
		t.Fatal(err)
	}
	f, err := fs.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b := make([]byte, fi.Size())
	if _, err := f.ReadAt(b, 0); err != nil {
		t.Fatal(err)
	}
	return b
}

// TestTornTail cuts, scribbles on and extends the last batch of a segment in
// every way, and checks that Open keeps exactly the whole batches before it.
func TestTornTail(t *testing.T) {
	fs := vfs.NewMem()
	l := mustOpen(t, Options{FS: fs, Dir: "/p"})
	var n uint64
	for _, size := range []int{3, 1, 20, 7} {
		mustAppend(t, l, records(n, size))
		n += uint64(size)
	}
	lastBase := n - 7
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	data := fileBytes(t, fs, segmentPath("/p", 0))
	var lastStart int64
	for pos := int64(0); pos < int64(len(data)); {
		h, err := decodeHeader(data[pos:])
		if err != nil {
			t.Fatal(err)
		}
		lastStart = pos
		pos += h.size()
	}

	// reopen opens a log over data and checks that it holds the records
	// [0, want) and that the file was cut to match; then that it appends.
	reopen := func(t *testing.T, data []byte, want uint64, wantSize int64) {
		t.Helper()
		fs := memWith(t, data)
		l := mustOpen(t, Options{FS: fs, Dir: "/p"})
		checkRecords(t, l, want)
		if l.Size() != wantSize {
			t.Fatalf("Size = %d, want %d", l.Size(), wantSize)
		}
		mustAppend(t, l, records(want, 2))
		l.Close()
		// What recovery cut is durable: a crash right away loses nothing.
		l = mustOpen(t, Options{FS: fs.CrashClone(), Dir: "/p"})
		checkRecords(t, l, want+2)
		l.Close()
	}

	t.Run("cut", func(t *testing.T) {
		for cut := lastStart; cut < int64(len(data)); cut++ {
			reopen(t, data[:cut], lastBase, lastStart)
		}
	})
	t.Run("flip", func(t *testing.T) {
		for pos := lastStart; pos < int64(len(data)); pos++ {
			bad := bytes.Clone(data)
			bad[pos] ^= 0x40
			reopen(t, bad, lastBase, lastStart)
		}
	})
	t.Run("garbage", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(1, 2))
		for i := 0; i < 50; i++ {
			junk := make([]byte, rng.IntN(200)+1)
			for j := range junk {
				junk[j] = byte(rng.Uint32())
			}
			if i%5 == 0 {
				// A plausible header: right magic and base, bad checksum.
				junk = appendBatch(nil, n, 0, records(n, 3))
				junk[len(junk)-1] ^= 1
			}
			reopen(t, append(bytes.Clone(data), junk...), n, int64(len(data)))
		}
	})
	t.Run("zeroes", func(t *testing.T) {
		// Unsynced space can read back as zeroes after a crash.
		reopen(t, append(bytes.Clone(data), make([]byte, 4096)...), n, int64(len(data)))
	})
	t.Run("wrong base", func(t *testing.T) {
		extra := appendBatch(nil, n+1, 0, records(n, 3)) // skips offset n
		reopen(t, append(bytes.Clone(data), extra...), n, int64(len(data)))
	})
}

// TestCrashAtEverySyncPoint runs concurrent appends over segment rolls and
// takes a crash clone of the filesystem at every sync; each clone must open
// to a prefix of the final log that holds every Append acknowledged before
// the clone was taken, cut at an Append (or AppendGroup) boundary. Torn clones also keep a
// random part of the unsynced writes, with holes.
func TestCrashAtEverySyncPoint(t *testing.T) {
	for _, mode := range []SyncMode{SyncGroup, SyncAlways} {
		t.Run(mode.String(), func(t *testing.T) { testCrashAtEverySyncPoint(t, mode) })
	}
}

type ackedAppend struct {
	first uint64
	n     int
}

func testCrashAtEverySyncPoint(t *testing.T, mode SyncMode) {
	mem := vfs.NewMem()
	type crashPoint struct {
		fs    *vfs.MemFS
		acked []ackedAppend
		what  string
	}
	var (
		mu     sync.Mutex // guards all three
		acked  []ackedAppend
		points []crashPoint
		rng    = rand.New(rand.NewPCG(uint64(mode), 3))
	)
	fs := vfs.WithFaults(mem, func(op vfs.Op, path string) error {
		if op == vfs.OpSync {
			mu.Lock()
			a := slices.Clone(acked)
			points = append(points,
				crashPoint{mem.CrashClone(), a, "before sync of " + path},
				crashPoint{mem.CrashCloneTorn(rng), a, "torn, before sync of " + path})
			mu.Unlock()
		}
		return nil
	})
	opts := Options{FS: fs, Dir: "/data/p", SegmentBytes: 2 << 10, Sync: mode}
	l := mustOpen(t, opts)
	const writers, appends = 4, 25
	var wg sync.WaitGroup
	for g := 0; g < writers; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 7))
			for a := 0; a < appends; a++ {
				// Every fifth is an AppendGroup of several batches, some
				// bigger than a segment: a crash keeps it whole or not at all.
				batches := make([][][]byte, 1)
				if a%5 == 4 {
					batches = make([][][]byte, 2+rng.IntN(3))
				}
				n := 0
				for b := range batches {
					rs := make([][]byte, rng.IntN(20)+1)
					for r := range rs {
						rs[r] = fmt.Appendf(nil, "g%d-a%d-b%d-r%d-%s", g, a, b, r, bytes.Repeat([]byte{'x'}, rng.IntN(30)))
					}
					batches[b] = rs
					n += len(rs)
				}
				var first uint64
				var err error
				if len(batches) == 1 {
					first, err = l.Append(batches[0])
				} else {
					first, err = l.AppendGroup(batches)
				}
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				acked = append(acked, ackedAppend{first, n})
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	points = append(points, crashPoint{mem.CrashClone(), acked, "after Close"})

	l = mustOpen(t, Options{FS: mem, Dir: opts.Dir})
	full := readAll(t, l, 0)
	l.Close()
	boundaries := map[uint64]bool{uint64(len(full)): true}
	var total int
	for _, a := range acked {
		boundaries[a.first] = true
		total += a.n
	}
	if len(full) != total {
		t.Fatalf("final log holds %d records, %d were appended", len(full), total)
	}
	if len(points) < 20 {
		t.Fatalf("only %d sync points", len(points))
	}
	for i, p := range points {
		l, err := Open(Options{FS: p.fs, Dir: opts.Dir, SegmentBytes: opts.SegmentBytes})
		if err != nil {
			t.Fatalf("crash point %d (%s): Open: %v", i, p.what, err)
		}
		got := readAll(t, l, 0)
		if len(got) > len(full) || !slices.EqualFunc(got, full[:len(got)], bytes.Equal) {
			t.Fatalf("crash point %d (%s): recovered log is not a prefix of the final one", i, p.what)
		}
		if !boundaries[uint64(len(got))] {
			t.Fatalf("crash point %d (%s): recovered log ends at %d, inside an Append", i, p.what, len(got))
		}
		for _, a := range p.acked {
			if a.first+uint64(a.n) > uint64(len(got)) {
				t.Fatalf("crash point %d (%s): acknowledged Append at %d (+%d) lost; recovered %d records",
					i, p.what, a.first, a.n, len(got))
			}
		}
		// The recovered log takes appends again.
		if _, err := l.Append([][]byte{[]byte("after crash")}); err != nil {
			t.Fatalf("crash point %d: Append after recovery: %v", i, err)
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("checked %d crash points", len(points))
}
