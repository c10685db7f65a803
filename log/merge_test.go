package log

import (
	"maps"
	"strings"
	"testing"

	"github.com/kappa-db/kappa/vfs"
)

func segmentFiles(t *testing.T, fs vfs.FS, dir string) int {
	t.Helper()
	names, err := fs.List(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, name := range names {
		if _, ok := parseSegmentName(name); ok {
			n++
		}
	}
	return n
}

// TestCompactMerge: compacted segments that fit in one segment together
// are merged into one file; the replay, reads from any offset, retention
// and later compactions (which merge a merged segment again) still work,
// also after reopening.
func TestCompactMerge(t *testing.T) {
	fs := vfs.NewMem()
	opts := Options{FS: fs, Dir: "/p", SegmentBytes: 2 << 10}
	l := mustOpen(t, opts)
	want := map[string]string{}
	writeHistory(t, l, want, 20, 0, 200)
	end := l.End()
	before := segmentFiles(t, fs, "/p")
	st, err := l.Compact(end, kvKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	after := segmentFiles(t, fs, "/p")
	t.Logf("%+v; %d -> %d segment files", st, before, after)
	if after > 3 || after >= before {
		t.Fatalf("segments not merged: %d -> %d files", before, after)
	}
	l.mu.RLock()
	inMem := len(l.mu.segments)
	l.mu.RUnlock()
	if inMem != after {
		t.Fatalf("%d segments in memory, %d files", inMem, after)
	}
	if got := replayKV(t, l, 0); !maps.Equal(got, want) {
		t.Fatalf("replay after merging differs")
	}
	// Reads from every offset move on and see the same records as a full
	// replay from there would.
	for from := uint64(0); from < end; from += 13 {
		next, err := l.ReadUnits(from, end, 1, func(uint64, []byte) error { return nil })
		if err != nil || next <= from {
			t.Fatalf("ReadUnits(%d) = %d, %v", from, next, err)
		}
	}
	// More history, compacted again: the merged segment merges with the
	// new ones.
	writeHistory(t, l, want, 20, 200, 100)
	mid := segmentFiles(t, fs, "/p")
	if _, err := l.Compact(l.End(), kvKey, nil); err != nil {
		t.Fatal(err)
	}
	if n := segmentFiles(t, fs, "/p"); n > 3 || n >= mid {
		t.Fatalf("second compaction: %d -> %d segment files", mid, n)
	}
	if got := replayKV(t, l, 0); !maps.Equal(got, want) {
		t.Fatalf("replay after the second merge differs")
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = mustOpen(t, opts)
	defer l.Close()
	if got := replayKV(t, l, 0); !maps.Equal(got, want) {
		t.Fatalf("replay after reopening differs")
	}
	writeHistory(t, l, want, 20, 300, 20)
	if got := replayKV(t, l, 0); !maps.Equal(got, want) {
		t.Fatalf("replay after appending differs")
	}
	// Retention removes the merged segment whole.
	if _, err := l.RemoveBefore(l.End()); err != nil {
		t.Fatal(err)
	}
	names, _ := fs.List("/p")
	for _, n := range names {
		if strings.HasSuffix(n, compactSuffix) || n == compactMarker {
			t.Fatalf("%s left behind", n)
		}
	}
}

// TestCompactMergeCrash takes a crash clone before every create, sync,
// rename and remove while a compaction merges segments: each clone opens
// with the same records (no segment lost, none left overlapping its
// merged successor) and takes appends.
func TestCompactMergeCrash(t *testing.T) {
	mem := vfs.NewMem()
	var clones []*vfs.MemFS
	armed := false
	fs := vfs.WithFaults(mem, func(op vfs.Op, path string) error {
		if armed && (op == vfs.OpSync || op == vfs.OpRename || op == vfs.OpRemove || op == vfs.OpCreate || op == vfs.OpWrite) {
			clones = append(clones, mem.CrashClone())
		}
		return nil
	})
	opts := Options{FS: fs, Dir: "/p", SegmentBytes: 2 << 10}
	l := mustOpen(t, opts)
	want := map[string]string{}
	writeHistory(t, l, want, 20, 0, 120)
	end := l.End()
	before := segmentFiles(t, mem, "/p")
	armed = true
	if _, err := l.Compact(end, kvKey, nil); err != nil {
		t.Fatal(err)
	}
	armed = false
	if n := segmentFiles(t, mem, "/p"); n >= before-2 {
		t.Fatalf("no merge to crash in: %d -> %d segment files", before, n)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	clones = append(clones, mem.CrashClone())
	for i, c := range clones {
		l, err := Open(Options{FS: c, Dir: "/p", SegmentBytes: 2 << 10})
		if err != nil {
			t.Fatalf("crash point %d: %v", i, err)
		}
		if l.End() != end {
			t.Fatalf("crash point %d: End %d, want %d", i, l.End(), end)
		}
		if got := replayKV(t, l, 0); !maps.Equal(got, want) {
			t.Fatalf("crash point %d: replay differs", i)
		}
		names, _ := c.List("/p")
		for _, n := range names {
			if strings.HasSuffix(n, compactSuffix) || n == compactMarker {
				t.Fatalf("crash point %d: %s left behind", i, n)
			}
		}
		// Compacting the recovered log again works and keeps the rows.
		if _, err := l.Compact(l.End(), kvKey, nil); err != nil {
			t.Fatalf("crash point %d: compacting again: %v", i, err)
		}
		if got := replayKV(t, l, 0); !maps.Equal(got, want) {
			t.Fatalf("crash point %d: replay after compacting again differs", i)
		}
		if _, err := l.Append([][]byte{kvRecord(1, 1, true)}); err != nil {
			t.Fatalf("crash point %d: %v", i, err)
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("checked %d crash points", len(clones))
}
