package log

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/kappa-db/kappa/vfs"
)

// TestTailingReaders has readers follow the log with Wait and Read while
// appenders write it across segment rolls.
func TestTailingReaders(t *testing.T) {
	l := mustOpen(t, Options{FS: vfs.NewMem(), Dir: "/p", SegmentBytes: 4 << 10})
	defer l.Close()
	const appenders, appends, per = 4, 50, 5
	const total = appenders * appends * per
	var wg sync.WaitGroup
	for a := 0; a < appenders; a++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < appends; i++ {
				rs := make([][]byte, per)
				for r := range rs {
					rs[r] = fmt.Appendf(nil, "%d/%d/%d", a, i, r)
				}
				if _, err := l.Append(rs); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	results := make(chan error, 2)
	for r := 0; r < 2; r++ {
		go func() {
			var from uint64
			seen := map[string]bool{}
			for from < total {
				if err := l.Wait(context.Background(), from); err != nil {
					results <- err
					return
				}
				next, err := l.Read(from, 7, func(off uint64, rec []byte) error {
					if seen[string(rec)] {
						return fmt.Errorf("record %q read twice", rec)
					}
					seen[string(rec)] = true
					return nil
				})
				if err != nil {
					results <- err
					return
				}
				from = next
			}
			results <- nil
		}()
	}
	wg.Wait()
	for r := 0; r < 2; r++ {
		if err := <-results; err != nil {
			t.Fatal(err)
		}
	}
}

// TestCloseDuringAppends closes the log under concurrent appenders: each
// Append either succeeds, and its records are there after reopening, or
// fails with ErrClosed.
func TestCloseDuringAppends(t *testing.T) {
	fs := vfs.NewMem()
	l := mustOpen(t, Options{FS: fs, Dir: "/p", SegmentBytes: 4 << 10})
	type ack struct {
		first uint64
		rec   []byte
	}
	acks := make(chan ack, 10000)
	var wg sync.WaitGroup
	for a := 0; a < 8; a++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				rec := fmt.Appendf(nil, "%d/%d", a, i)
				first, err := l.Append([][]byte{rec})
				if err == ErrClosed {
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
				acks <- ack{first, rec}
			}
		}()
	}
	for l.End() < 200 {
		if err := l.Wait(context.Background(), 200); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	close(acks)
	l = mustOpen(t, Options{FS: fs.CrashClone(), Dir: "/p"})
	defer l.Close()
	n := 0
	for a := range acks {
		n++
		var got []byte
		if _, err := l.Read(a.first, 1, func(_ uint64, rec []byte) error { got = bytes.Clone(rec); return nil }); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, a.rec) {
			t.Fatalf("offset %d holds %q, acknowledged %q", a.first, got, a.rec)
		}
	}
	if uint64(n) != l.End() {
		t.Fatalf("%d acknowledged appends, End %d", n, l.End())
	}
}
