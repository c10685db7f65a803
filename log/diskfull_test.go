package log

import (
	"errors"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/kappa-db/kappa/pgerr"
	"github.com/kappa-db/kappa/vfs"
)

// TestDiskFull fills the disk during appends (writes fail with ENOSPC): the
// appenders get 53100, what was acknowledged stays, and appends succeed
// again once space is back, without reopening. A sync that fails for lack
// of space still stops the log.
func TestDiskFull(t *testing.T) {
	mem := vfs.NewMem()
	var full, syncFull atomic.Bool
	fs := vfs.WithFaults(mem, func(op vfs.Op, path string) error {
		if filepath.Ext(path) != ".log" {
			return nil
		}
		if op == vfs.OpWrite && full.Load() || op == vfs.OpSync && syncFull.Load() {
			return syscall.ENOSPC
		}
		return nil
	})
	l := mustOpen(t, Options{FS: fs, Dir: "/p", SegmentBytes: 4 << 10})
	var n uint64
	appendSome := func() {
		t.Helper()
		mustAppend(t, l, records(n, 7))
		n += 7
		if _, err := l.AppendGroup([][][]byte{records(n, 3), records(n+3, 4)}); err != nil {
			t.Fatal(err)
		}
		n += 7
	}
	for range 20 { // over several segments
		appendSome()
	}
	full.Store(true)
	for range 3 {
		_, err := l.Append(records(n, 5))
		var pe *pgerr.Error
		if !errors.As(err, &pe) || pe.Code != pgerr.DiskFull {
			t.Fatalf("Append on a full disk: %v, want 53100", err)
		}
		if _, err := l.AppendGroup([][][]byte{records(n, 2), records(n+2, 2)}); err == nil {
			t.Fatal("AppendGroup on a full disk succeeded")
		}
	}
	checkRecords(t, l, n)
	full.Store(false)
	for range 5 {
		appendSome()
	}
	checkRecords(t, l, n)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = mustOpen(t, Options{FS: fs, Dir: "/p", SegmentBytes: 4 << 10})
	checkRecords(t, l, n)

	syncFull.Store(true)
	if _, err := l.Append(records(n, 1)); err == nil {
		t.Fatal("Append whose sync failed succeeded")
	}
	syncFull.Store(false)
	if _, err := l.Append(records(n, 1)); err == nil {
		t.Fatal("Append after a failed sync succeeded: the log must stop")
	}
	l.Close()
	l = mustOpen(t, Options{FS: fs, Dir: "/p", SegmentBytes: 4 << 10})
	defer l.Close()
	checkRecords(t, l, n)
}
