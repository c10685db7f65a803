package log

import (
	"testing"

	"github.com/kappa-db/kappa/vfs"
)

// TestAppendGroup appends a group of batches between plain Appends and checks
// that readers see it whole, that it survives reopening, and that a crash
// that tears it anywhere (a cut at any byte of its batches) loses all of it
// and nothing before it.
func TestAppendGroup(t *testing.T) {
	fs := vfs.NewMem()
	l := mustOpen(t, Options{FS: fs, Dir: "/p"})
	mustAppend(t, l, records(0, 5))
	first, err := l.AppendGroup([][][]byte{records(5, 3), nil, records(8, 10), records(18, 2)})
	if err != nil {
		t.Fatal(err)
	}
	if first != 5 || l.End() != 20 {
		t.Fatalf("AppendGroup: first %d, End %d; want 5, 20", first, l.End())
	}
	mustAppend(t, l, records(20, 4))
	checkRecords(t, l, 24)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = mustOpen(t, Options{FS: fs, Dir: "/p"})
	checkRecords(t, l, 24)
	l.Close()

	data := fileBytes(t, fs, segmentPath("/p", 0))
	var starts []int64 // batch starts
	var flags []byte
	for pos := int64(0); pos < int64(len(data)); {
		h, err := decodeHeader(data[pos:])
		if err != nil {
			t.Fatal(err)
		}
		starts = append(starts, pos)
		flags = append(flags, h.flags)
		pos += h.size()
	}
	// Batches: the first Append, the group's three (two continued), the last Append.
	if len(starts) != 5 || flags[1] != flagContinued || flags[2] != flagContinued || flags[3] != 0 {
		t.Fatalf("batches at %v with flags %v", starts, flags)
	}
	for cut := starts[1] + 1; cut < starts[4]; cut++ {
		fs := memWith(t, data[:cut])
		l := mustOpen(t, Options{FS: fs, Dir: "/p"})
		checkRecords(t, l, 5)
		if l.Size() != starts[1] {
			t.Fatalf("cut at %d: Size = %d, want %d", cut, l.Size(), starts[1])
		}
		// The log goes on from where the group would have started.
		if first, err := l.AppendGroup([][][]byte{records(5, 3), records(8, 12)}); err != nil || first != 5 {
			t.Fatalf("cut at %d: AppendGroup after recovery: %d, %v", cut, first, err)
		}
		checkRecords(t, l, 20)
		l.Close()
	}
}

// TestAppendGroupOwnSegment checks that a group does not straddle segments:
// it starts a segment when it does not fit in the current one, even when it
// is bigger than a segment, and the log rolls after it.
func TestAppendGroupOwnSegment(t *testing.T) {
	fs := vfs.NewMem()
	opts := Options{FS: fs, Dir: "/p", SegmentBytes: 512}
	l := mustOpen(t, opts)
	mustAppend(t, l, records(0, 3))
	big := [][][]byte{records(3, 20), records(23, 20), records(43, 20)}
	if first, err := l.AppendGroup(big); err != nil || first != 3 {
		t.Fatalf("AppendGroup: %d, %v", first, err)
	}
	mustAppend(t, l, records(63, 2))
	checkRecords(t, l, 65)
	l.Close()
	for _, base := range []uint64{0, 3, 63} {
		if _, err := fs.Stat(segmentPath("/p", base)); err != nil {
			t.Errorf("segment %d: %v", base, err)
		}
	}
	l = mustOpen(t, opts)
	checkRecords(t, l, 65)
	l.Close()
}

// TestAppendGroupTooLarge refuses a group with a batch over MaxBatchBytes
// without stopping the log.
func TestAppendGroupTooLarge(t *testing.T) {
	l := mustOpen(t, Options{FS: vfs.NewMem(), Dir: "/p"})
	defer l.Close()
	huge := make([]byte, MaxBatchBytes)
	if _, err := l.AppendGroup([][][]byte{records(0, 1), {huge}}); err == nil {
		t.Fatal("AppendGroup of a batch over the limit succeeded")
	}
	mustAppend(t, l, records(0, 2))
	checkRecords(t, l, 2)
}

// TestReadUnits checks that ReadUnits stops only between appends: never
// inside a batch or an AppendGroup, whatever maxRecords says, and never past
// until.
func TestReadUnits(t *testing.T) {
	l := mustOpen(t, Options{FS: vfs.NewMem(), Dir: "/p"})
	defer l.Close()
	mustAppend(t, l, records(0, 10))                                                                     // [0, 10)
	if _, err := l.AppendGroup([][][]byte{records(10, 5), records(15, 5), records(20, 5)}); err != nil { // [10, 25)
		t.Fatal(err)
	}
	mustAppend(t, l, records(25, 3)) // [25, 28)
	for _, c := range []struct {
		from, until uint64
		max         int
		want        uint64
	}{
		{0, 28, 1, 10},   // the first batch whole
		{0, 28, 11, 25},  // into the group: the group whole
		{10, 28, 1, 25},  // the group whole from its start
		{12, 28, 1, 25},  // from inside the group (a reader that stopped there before)
		{0, 28, 100, 28}, // everything
		{0, 25, 100, 25}, // until stops it
		{25, 28, 1, 28},
		{28, 28, 1, 28},
	} {
		var got []uint64
		next, err := l.ReadUnits(c.from, c.until, c.max, func(off uint64, rec []byte) error {
			got = append(got, off)
			return nil
		})
		if err != nil || next != c.want || uint64(len(got)) != c.want-c.from {
			t.Errorf("ReadUnits(%d, %d, %d) = %d, %v after %d records; want %d", c.from, c.until, c.max, next, err, len(got), c.want)
		}
	}
}
