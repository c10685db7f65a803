package log

import (
	"bytes"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/kappa-db/kappa/vfs"
)

// kvRecord is a test record: key k set to value v, or deleted.
func kvRecord(k, v int, live bool) []byte {
	op := "set"
	if !live {
		op = "del"
	}
	return fmt.Appendf(nil, "%s k%03d %d", op, k, v)
}

// kvKey is the KeyFunc of kvRecord: a set adds the row "v" (the test's
// replay treats it as an upsert, so a set of a live key is a -old +new,
// which kvKey cannot see: writeHistory deletes before it sets again).
func kvKey(dst, rec []byte) ([]byte, []byte, int64, error) {
	f := strings.Fields(string(rec))
	if len(f) != 3 {
		return nil, nil, 0, fmt.Errorf("bad record %q", rec)
	}
	w := int64(1)
	if f[0] == "del" {
		w = -1
	}
	return append(dst, f[1]...), []byte(f[2]), w, nil
}

// replayKV replays records as a Z-set: key -> the value whose weights add
// up to one.
func replayKV(t *testing.T, l *Log, from uint64) map[string]string {
	t.Helper()
	weights := map[[2]string]int{}
	for from < l.End() {
		next, err := l.Read(from, 1000, func(off uint64, rec []byte) error {
			f := strings.Fields(string(rec))
			if f[0] == "set" {
				weights[[2]string{f[1], f[2]}]++
			} else {
				weights[[2]string{f[1], f[2]}]--
			}
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
	state := map[string]string{}
	for kv, w := range weights {
		switch w {
		case 0:
		case 1:
			if _, dup := state[kv[0]]; dup {
				t.Fatalf("key %s has two rows", kv[0])
			}
			state[kv[0]] = kv[1]
		default:
			t.Fatalf("row %v has weight %d", kv, w)
		}
	}
	return state
}

// writeHistory appends rounds [from, from+rounds) of changes to keys keys
// as Z-set records (an update is a del of the old value and a set of the
// new; every seventh round deletes some keys, the next sets them again),
// in shuffled order within each Append, as a statement's records may be;
// state is the table, kept up to date.
func writeHistory(t *testing.T, l *Log, state map[string]string, keys, from, rounds int) {
	t.Helper()
	for r := from; r < from+rounds; r++ {
		var recs [][]byte
		for k := 0; k < keys; k++ {
			key := fmt.Sprintf("k%03d", k)
			old, live := state[key]
			if live && (r%7 == 6 && k%3 == 0 || k%2 == r%2) {
				v, _ := strconv.Atoi(old)
				recs = append(recs, kvRecord(k, v, false))
				delete(state, key)
				live = false
			}
			if r%7 != 6 && !live {
				recs = append(recs, kvRecord(k, r, true))
				state[key] = fmt.Sprint(r)
			}
		}
		rand.Shuffle(len(recs), func(i, j int) { recs[i], recs[j] = recs[j], recs[i] })
		mustAppend(t, l, recs)
	}
}

// TestCompact writes a long history of a few keys over many segments and
// compacts it: the replayed table is the same, the log is much smaller, the
// kept records keep their offsets, reads from inside the compacted part
// (even from a gap) move on, and records at or after keep are untouched.
func TestCompact(t *testing.T) {
	fs := vfs.NewMem()
	opts := Options{FS: fs, Dir: "/p", SegmentBytes: 2 << 10}
	l := mustOpen(t, opts)
	want := map[string]string{}
	writeHistory(t, l, want, 40, 0, 300)
	end := l.End()
	keep := end - 100
	var before []string
	if _, err := l.Read(keep, int(end), func(off uint64, rec []byte) error {
		before = append(before, fmt.Sprintf("%d %s", off, rec))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	sizeBefore := l.Size()
	st, err := l.Compact(keep, kvKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v; log %d -> %d bytes", st, sizeBefore, l.Size())
	if st.Segments == 0 || st.RecordsAfter > 40 || l.Size() > sizeBefore/4 {
		t.Fatalf("compaction did little: %+v, %d -> %d bytes", st, sizeBefore, l.Size())
	}
	if l.End() != end {
		t.Fatalf("End moved: %d -> %d", end, l.End())
	}
	if got := replayKV(t, l, 0); !maps.Equal(got, want) {
		t.Fatalf("replay after compaction:\n%v\nwant\n%v", got, want)
	}
	var after []string
	if _, err := l.Read(keep, int(end), func(off uint64, rec []byte) error {
		after = append(after, fmt.Sprintf("%d %s", off, rec))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(before, after) {
		t.Fatal("records after keep changed")
	}
	// Every record left in the compacted part is at its old offset: record
	// k's newest set.
	var offs []uint64
	if _, err := l.ReadUnits(0, l.compactedTo, int(end), func(off uint64, rec []byte) error {
		offs = append(offs, off)
		if !bytes.HasPrefix(rec, []byte("set ")) {
			t.Errorf("compacted part keeps %q at %d", rec, off)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !slices.IsSorted(offs) {
		t.Fatalf("offsets out of order: %v", offs)
	}
	// A read that starts in a gap and ends before the next record still
	// moves on.
	for from := uint64(0); from < keep; from += 37 {
		next, err := l.ReadUnits(from, from+3, 1, func(uint64, []byte) error { return nil })
		if err != nil || next <= from {
			t.Fatalf("ReadUnits(%d, %d) = %d, %v", from, from+3, next, err)
		}
	}
	// Nothing new: a second Compact does nothing.
	if st, err := l.Compact(keep, kvKey, nil); err != nil || st.Segments != 0 {
		t.Fatalf("second Compact: %+v %v", st, err)
	}
	more := want
	writeHistory(t, l, more, 40, 300, 50)
	if st, err := l.Compact(l.End(), kvKey, nil); err != nil || st.Segments == 0 {
		t.Fatalf("third Compact: %+v %v", st, err)
	}
	if got := replayKV(t, l, 0); !maps.Equal(got, more) {
		t.Fatalf("replay after the second compaction differs")
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = mustOpen(t, opts)
	defer l.Close()
	if got := replayKV(t, l, 0); !maps.Equal(got, more) {
		t.Fatalf("replay after reopening differs")
	}
	if first := mustAppend(t, l, [][]byte{kvRecord(1, 1, true)}); first != l.End()-1 {
		t.Fatalf("append after compaction at %d", first)
	}
}

// TestCompactCrash takes a crash clone before every sync, rename and remove
// while a log is compacted: each opens, replays to the same table, keeps its
// offsets, and leaves no unfinished compacted file behind.
func TestCompactCrash(t *testing.T) {
	mem := vfs.NewMem()
	var clones []*vfs.MemFS
	armed := false
	fs := vfs.WithFaults(mem, func(op vfs.Op, path string) error {
		if armed && (op == vfs.OpSync || op == vfs.OpRename || op == vfs.OpRemove || op == vfs.OpCreate) {
			clones = append(clones, mem.CrashClone())
		}
		return nil
	})
	opts := Options{FS: fs, Dir: "/p", SegmentBytes: 2 << 10}
	l := mustOpen(t, opts)
	want := map[string]string{}
	writeHistory(t, l, want, 20, 0, 60)
	end := l.End()
	armed = true
	if _, err := l.Compact(end, kvKey, nil); err != nil {
		t.Fatal(err)
	}
	armed = false
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	clones = append(clones, mem.CrashClone())
	if len(clones) < 10 {
		t.Fatalf("only %d crash points", len(clones))
	}
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
		if _, err := l.Append([][]byte{kvRecord(1, 1, true)}); err != nil {
			t.Fatalf("crash point %d: %v", i, err)
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("checked %d crash points", len(clones))
}

// TestCompactStale: when the install callback finds a reader inside the
// compacted range, nothing changes and no file is left behind.
func TestCompactStale(t *testing.T) {
	fs := vfs.NewMem()
	l := mustOpen(t, Options{FS: fs, Dir: "/p", SegmentBytes: 2 << 10})
	defer l.Close()
	want := map[string]string{}
	writeHistory(t, l, want, 20, 0, 60)
	size := l.Size()
	st, err := l.Compact(l.End(), kvKey, func(end uint64, install func() error) error {
		if names, _ := fs.List("/p"); !slices.ContainsFunc(names, func(n string) bool { return strings.HasSuffix(n, compactSuffix) }) {
			t.Errorf("no compacted files written before install: %v", names)
		}
		return ErrCompactionStale
	})
	if err != nil || st.Segments != 0 || l.Size() != size {
		t.Fatalf("stale Compact = %+v, %v; size %d -> %d", st, err, size, l.Size())
	}
	names, _ := fs.List("/p")
	for _, n := range names {
		if strings.HasSuffix(n, compactSuffix) || n == compactMarker {
			t.Fatalf("%s left behind", n)
		}
	}
	if got := replayKV(t, l, 0); !maps.Equal(got, want) {
		t.Fatal("replay differs")
	}
	if st, err := l.Compact(l.End(), kvKey, nil); err != nil || st.Segments == 0 {
		t.Fatalf("Compact after a stale one: %+v %v", st, err)
	}
	if got := replayKV(t, l, 0); !maps.Equal(got, want) {
		t.Fatal("replay after compaction differs")
	}
}
