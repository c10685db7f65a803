package storage

import (
	"bytes"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestBatchSeesOwnWritesAndCommitsAtomically(t *testing.T) {
	db, err := Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	b := db.NewBatch()
	k := append(RelationPrefix(7), 'a')
	if err := b.Set(k, []byte("1")); err != nil {
		t.Fatal(err)
	}
	if v, ok, _ := b.Get(k); !ok || string(v) != "1" {
		t.Fatalf("batch does not see its write: %q %v", v, ok)
	}
	if _, ok, _ := db.Get(k); ok {
		t.Fatal("uncommitted write visible in db")
	}
	snap := db.NewSnapshot()
	defer snap.Close()
	if err := b.Commit(false); err != nil {
		t.Fatal(err)
	}
	b.Close()
	if _, ok, _ := snap.Get(k); ok {
		t.Fatal("snapshot sees a later commit")
	}
	lo, hi := RelationSpan(7)
	var keys [][]byte
	db.Scan(lo, hi, false, func(key, val []byte) (bool, error) {
		keys = append(keys, bytes.Clone(key))
		return true, nil
	})
	if len(keys) != 1 {
		t.Fatalf("scan found %d keys", len(keys))
	}
}

func TestPrefixEnd(t *testing.T) {
	if got := PrefixEnd([]byte{1, 0xff}); !bytes.Equal(got, []byte{2}) {
		t.Fatalf("got %v", got)
	}
	if got := PrefixEnd([]byte{0xff}); got != nil {
		t.Fatalf("got %v", got)
	}
}

// TestScanReusesIteratorsUntilCommit checks the DB's kept iterators: a scan
// after a commit sees the commit (the iterators of before are not reused),
// scans in between reuse one iterator without allocating it again, and
// concurrent scans and commits neither miss a commit nor leave an iterator
// open after Close, and a flush closes the kept iterators.
func TestScanReusesIteratorsUntilCommit(t *testing.T) {
	db, err := Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	lo, hi := RelationSpan(7)
	count := func() int {
		n := 0
		if err := db.Scan(lo, hi, false, func(key, val []byte) (bool, error) {
			n++
			return true, nil
		}); err != nil {
			t.Fatal(err)
		}
		return n
	}
	put := func(i int) {
		b := db.NewBatch()
		if err := b.Set(append(RelationPrefix(7), byte(i>>8), byte(i)), []byte("v")); err != nil {
			t.Error(err)
		}
		if err := b.Commit(false); err != nil {
			t.Error(err)
		}
		b.Close()
	}
	for i := range 5 {
		put(i)
		if n := count(); n != i+1 {
			t.Fatalf("after %d commits a scan sees %d keys", i+1, n)
		}
	}
	if allocs := testing.AllocsPerRun(100, func() { count() }); allocs > 0 {
		t.Errorf("a scan with a kept iterator allocates %.1f times", allocs)
	}

	// Writers and readers at once: a reader that starts after a commit
	// returned sees at least that many keys.
	var committed atomic.Int64
	committed.Store(5)
	done := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				want := committed.Load()
				n := 0
				if err := db.Scan(lo, hi, false, func(key, val []byte) (bool, error) {
					n++
					return true, nil
				}); err != nil {
					t.Error(err)
					return
				}
				if int64(n) < want {
					t.Errorf("a scan after %d commits sees %d keys", want, n)
					return
				}
			}
		}()
	}
	for i := 5; i < 300; i++ {
		put(i)
		committed.Store(int64(i + 1))
	}
	close(done)
	wg.Wait()
	put(1000)
	for i := range db.iters {
		if p := db.iters[i].Load(); p != nil && p.gen != db.gen.Load() {
			t.Errorf("slot %d keeps an iterator of generation %d after a commit made it %d", i, p.gen, db.gen.Load())
		}
	}
	// A flush lets the kept iterators go (they pin the flushed memtable).
	count()
	if err := db.pdb.Flush(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); ; {
		kept := 0
		for i := range db.iters {
			if db.iters[i].Load() != nil {
				kept++
			}
		}
		if kept == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d iterators kept 5 s after a flush", kept)
		}
		time.Sleep(time.Millisecond)
	}
	count()
	if err := db.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	for i := range db.iters {
		if db.iters[i].Load() != nil {
			t.Errorf("slot %d keeps an iterator after Close", i)
		}
	}
}

// TestCompactGivesDeletedSpaceBack: after a relation's span is deleted,
// Compact of the span leaves (almost) nothing of it on disk, and a span
// under minCompactBytes is left alone.
func TestCompactGivesDeletedSpaceBack(t *testing.T) {
	db, err := Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	lo, hi := RelationSpan(7)
	rng := rand.New(rand.NewPCG(1, 2))
	val := make([]byte, 1024)
	for chunk := range 48 {
		b := db.NewBatch()
		for i := range 1024 {
			k := append(append([]byte(nil), lo...), byte(chunk), byte(i>>8), byte(i))
			for j := range val {
				val[j] = byte(rng.Uint32()) // incompressible
			}
			if err := b.Set(k, val); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.Commit(false); err != nil {
			t.Fatal(err)
		}
		b.Close()
	}
	if err := db.pdb.Flush(); err != nil {
		t.Fatal(err)
	}
	before, err := db.pdb.EstimateDiskUsage(lo, hi)
	if err != nil || before < minCompactBytes {
		t.Fatalf("before: %d bytes on disk (%v), want at least %d", before, err, minCompactBytes)
	}
	b := db.NewBatch()
	if err := b.DeleteRange(lo, hi); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(true); err != nil {
		t.Fatal(err)
	}
	b.Close()
	if err := db.Compact(lo, hi); err != nil {
		t.Fatal(err)
	}
	after, err := db.pdb.EstimateDiskUsage(lo, hi)
	if err != nil || after > before/100 {
		t.Fatalf("after Compact: %d bytes on disk of %d (%v)", after, before, err)
	}
	// Too small to be worth a compaction: Compact does nothing, and says
	// nothing.
	slo, shi := RelationSpan(8)
	if err := db.Compact(slo, shi); err != nil {
		t.Fatal(err)
	}
}
