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

// TestEnqueueOrder: appends queued one after the other get offsets in that
// order, and several share a group commit.
func TestEnqueueOrder(t *testing.T) {
	l := mustOpen(t, Options{FS: vfs.NewMem(), Dir: "/p"})
	defer l.Close()
	var ps []*Pending
	var n uint64
	for i := range 200 {
		batches := [][][]byte{records(n, 1+i%3)}
		if i%5 == 0 {
			batches = append(batches, records(n+uint64(1+i%3), 2))
		}
		p, err := l.Enqueue(batches, i%2 == 0)
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
		for _, b := range batches {
			n += uint64(len(b))
		}
	}
	var want uint64
	for i, p := range ps {
		first, err := p.Wait()
		if err != nil {
			t.Fatal(err)
		}
		if first != want {
			t.Fatalf("append %d: first offset %d, want %d", i, first, want)
		}
		want += uint64(1 + i%3)
		if i%5 == 0 {
			want += 2
		}
	}
	checkRecords(t, l, n)
}

// TestEnqueueChain: once a chained append fails (a full disk), later
// chained appends fail with its error, without being written, until
// ResetChain; unchained appends go on as soon as there is space.
func TestEnqueueChain(t *testing.T) {
	var full atomic.Bool
	fs := vfs.WithFaults(vfs.NewMem(), func(op vfs.Op, path string) error {
		if filepath.Ext(path) == ".log" && op == vfs.OpWrite && full.Load() {
			return syscall.ENOSPC
		}
		return nil
	})
	l := mustOpen(t, Options{FS: fs, Dir: "/p"})
	defer l.Close()
	enq := func(first uint64, chained bool) (uint64, error) {
		p, err := l.Enqueue([][][]byte{records(first, 2)}, chained)
		if err != nil {
			t.Fatal(err)
		}
		return p.Wait()
	}
	if _, err := enq(0, true); err != nil {
		t.Fatal(err)
	}
	full.Store(true)
	_, err := enq(2, true)
	var pe *pgerr.Error
	if !errors.As(err, &pe) || pe.Code != pgerr.DiskFull {
		t.Fatalf("chained append on a full disk: %v, want 53100", err)
	}
	full.Store(false)
	if _, err := enq(2, true); !errors.As(err, &pe) || pe.Code != pgerr.DiskFull {
		t.Fatalf("chained append after a failed one: %v, want its 53100", err)
	}
	if first, err := enq(2, false); err != nil || first != 2 {
		t.Fatalf("unchained append: %d, %v", first, err)
	}
	l.ResetChain()
	if first, err := enq(4, true); err != nil || first != 4 {
		t.Fatalf("chained append after ResetChain: %d, %v", first, err)
	}
	checkRecords(t, l, 6)
}

// TestEnqueueClose: appends still queued when the log closes are answered.
func TestEnqueueClose(t *testing.T) {
	l := mustOpen(t, Options{FS: vfs.NewMem(), Dir: "/p"})
	var ps []*Pending
	for i := range 100 {
		p, err := l.Enqueue([][][]byte{records(uint64(i), 1)}, false)
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if _, err := p.Wait(); err != nil && !errors.Is(err, ErrClosed) {
			t.Fatal(err)
		}
	}
	if _, err := l.Enqueue([][][]byte{records(0, 1)}, false); !errors.Is(err, ErrClosed) {
		t.Fatalf("Enqueue after Close: %v", err)
	}
}
