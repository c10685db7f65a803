package storage

import (
	"bytes"
	"fmt"
	"math/rand"
	"sync"
	"sync/atomic"
	"testing"
)

// readAll reads [lo, hi) of r as key=value lines, forward or reverse.
func readAll(t *testing.T, r Reader, lo, hi []byte, reverse bool) string {
	t.Helper()
	var sb bytes.Buffer
	if err := r.Scan(lo, hi, reverse, func(k, v []byte) (bool, error) {
		fmt.Fprintf(&sb, "%x=%s\n", k, v)
		return true, nil
	}); err != nil {
		t.Fatal(err)
	}
	return sb.String()
}

func relKey(rel uint64, i int) []byte {
	return append(RelationPrefix(rel), byte(i>>16), byte(i>>8), byte(i), 'x')
}

// TestServedRelationMatchesStore checks a served relation's reads through
// the DB (from its in-memory index) against the same reads through a
// snapshot (pebble) after random sets, deletes and range deletes, in
// batches that commit, fail to commit (closed) or are merged with Apply;
// and that Unserve, a too small budget and a relation not asked for read
// pebble.
func TestServedRelationMatchesStore(t *testing.T) {
	// The prefix index's length: 11 groups keys by their first two id
	// bytes (prefix scans), 13 is the whole key (gets). Until it is built
	// (the check named "tree") the reads go to the B-tree.
	for _, l := range []int{11, 13} {
		t.Run(fmt.Sprintf("prefix=%d", l), func(t *testing.T) { testServedRelation(t, l) })
	}
}

func testServedRelation(t *testing.T, prefixLen int) {
	db, err := Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const rel = 42
	rng := rand.New(rand.NewSource(1))
	write := func(b *Batch, n int) {
		for range n {
			i := rng.Intn(3000)
			switch r := rng.Intn(20); {
			case r < 12:
				if err := b.Set(relKey(rel, i), fmt.Appendf(nil, "v%d", rng.Intn(1000))); err != nil {
					t.Fatal(err)
				}
			case r < 19:
				if err := b.Delete(relKey(rel, i)); err != nil {
					t.Fatal(err)
				}
			default:
				if err := b.DeleteRange(relKey(rel, i), relKey(rel, i+rng.Intn(50))); err != nil {
					t.Fatal(err)
				}
			}
		}
		// Neighbours, never served.
		if err := b.Set(relKey(rel-1, rng.Intn(10)), []byte("lo")); err != nil {
			t.Fatal(err)
		}
		if err := b.Set(relKey(rel+1, rng.Intn(10)), []byte("hi")); err != nil {
			t.Fatal(err)
		}
	}
	commit := func(n int) {
		b := db.NewBatch()
		write(b, n)
		if rng.Intn(4) == 0 {
			o := db.NewBatch()
			write(o, n/2)
			if err := b.Apply(o); err != nil {
				t.Fatal(err)
			}
			o.Close()
		}
		if err := b.Commit(false); err != nil {
			t.Fatal(err)
		}
		b.Close()
		// A batch that never commits changes nothing.
		b = db.NewBatch()
		write(b, 10)
		b.Close()
	}
	check := func(what string) {
		t.Helper()
		// The lookup that picks the prefix index's length goes first.
		switch prefixLen {
		case 11:
			p := relKey(rel, 256*rng.Intn(12))[:11]
			db.Scan(p, PrefixEnd(p), false, func(k, v []byte) (bool, error) { return true, nil })
		case 13:
			db.Get(relKey(rel, rng.Intn(3000)))
		}
		snap := db.NewSnapshot()
		defer snap.Close()
		lo, hi := RelationSpan(rel)
		spans := [][2][]byte{{lo, hi}, {relKey(rel, 100), relKey(rel, 900)}}
		for range 10 {
			p := relKey(rel, rng.Intn(3000))
			spans = append(spans, [2][]byte{p[:11], PrefixEnd(p[:11])}, [2][]byte{p, PrefixEnd(p)}, [2][]byte{p[:12], PrefixEnd(p[:12])})
		}
		for _, sp := range spans {
			for _, rev := range []bool{false, true} {
				if got, want := readAll(t, db, sp[0], sp[1], rev), readAll(t, snap, sp[0], sp[1], rev); got != want {
					t.Fatalf("%s: scan [%x, %x) reverse=%v:\nDB:\n%s\nstore:\n%s", what, sp[0], sp[1], rev, got, want)
				}
			}
		}
		for range 200 {
			k := relKey(rel, rng.Intn(3000))
			v1, ok1, err1 := db.Get(k)
			v2, ok2, err2 := snap.Get(k)
			if err1 != nil || err2 != nil || ok1 != ok2 || !bytes.Equal(v1, v2) {
				t.Fatalf("%s: get %x: DB %q %v %v, store %q %v %v", what, k, v1, ok1, err1, v2, ok2, err2)
			}
		}
	}
	commit(500)
	db.ServeCandidate(rel)
	check("before the index") // asks for it
	if n, _ := db.ServeStats(); n != 0 {
		t.Fatalf("an index before BuildServed: %d", n)
	}
	if err := db.BuildServed(); err != nil {
		t.Fatal(err)
	}
	if n, bytes := db.ServeStats(); n != 1 || bytes == 0 {
		t.Fatalf("after BuildServed: %d indexes of %d bytes", n, bytes)
	}
	c := (*db.serve.rels.Load())[rel]
	check("tree")
	if err := db.BuildServed(); err != nil {
		t.Fatal(err)
	}
	if px := c.px.Load(); px == nil || px.l != prefixLen {
		t.Fatalf("prefix index %+v, want length %d", px, prefixLen)
	}
	for i := range 50 {
		commit(rng.Intn(200))
		check(fmt.Sprintf("commit %d", i))
	}
	// The bytes counted are the entries' and the prefix index's groups'.
	_, used := db.ServeStats()
	lo, hi := RelationSpan(rel)
	var want int64
	groups := map[string]int{}
	db.Scan(lo, hi, false, func(k, v []byte) (bool, error) {
		want += int64(len(k)+len(v)) + serveEntryOverhead
		if prefixLen > 0 {
			groups[string(k[:prefixLen])]++
		}
		return true, nil
	})
	for _, n := range groups {
		want += pgroupOverhead + pentryOverhead*int64(n)
	}
	if used != want {
		t.Errorf("index counted at %d bytes, its entries take %d", used, want)
	}
	// Past the budget: dropped, read from pebble.
	db.SetServeBudget(used / 2)
	commit(20)
	check("past the budget")
	if n, used := db.ServeStats(); n != 0 || used != 0 {
		t.Fatalf("past the budget: %d indexes of %d bytes", n, used)
	}
	db.SetServeBudget(0)
	check("too big") // not built again
	if err := db.BuildServed(); err != nil {
		t.Fatal(err)
	}
	if n, _ := db.ServeStats(); n != 0 {
		t.Fatalf("an index too big was built again")
	}
	// Unserve, then a new candidacy builds it again.
	db.Unserve(rel)
	commit(50)
	check("unserved")
	db.ServeCandidate(rel)
	check("candidate again")
	if err := db.BuildServed(); err != nil {
		t.Fatal(err)
	}
	if n, _ := db.ServeStats(); n != 1 {
		t.Fatalf("not built again after Unserve and ServeCandidate")
	}
	commit(100)
	check("rebuilt")
	// A range deletion of the whole relation (DROP) empties it.
	b := db.NewBatch()
	if err := b.DeleteRange(lo, hi); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(false); err != nil {
		t.Fatal(err)
	}
	b.Close()
	check("deleted")
	if _, used := db.ServeStats(); used != 0 {
		t.Errorf("an empty index counted at %d bytes", used)
	}
}

// TestServedReadsSeeWholeCommits runs readers against a writer whose every
// commit moves one unit between two keys of a served relation: a scan sees
// the sum unchanged (one commit's state, never half of one) and never fewer
// commits than had returned when it started.
func TestServedReadsSeeWholeCommits(t *testing.T) {
	db, err := Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	const rel = 9
	put := func(vals ...int) {
		b := db.NewBatch()
		for i, v := range vals {
			if err := b.Set(relKey(rel, i), fmt.Appendf(nil, "%d", v)); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.Commit(false); err != nil {
			t.Fatal(err)
		}
		b.Close()
	}
	put(1000, 0, 0)
	db.ServeCandidate(rel)
	db.Get(relKey(rel, 0))
	if err := db.BuildServed(); err != nil {
		t.Fatal(err)
	}
	lo, hi := RelationSpan(rel)
	var committed atomic.Int64
	done := make(chan struct{})
	var wg sync.WaitGroup
	for range 3 {
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
				var vals []int
				db.Scan(lo, hi, false, func(k, v []byte) (bool, error) {
					var n int
					fmt.Sscanf(string(v), "%d", &n)
					vals = append(vals, n)
					return true, nil
				})
				if len(vals) != 3 || vals[0]+vals[1] != 1000 || int64(vals[2]) < want {
					t.Errorf("a scan after commit %d saw %v", want, vals)
					return
				}
			}
		}()
	}
	for i := 1; i <= 500; i++ {
		put(1000-i%1000, i%1000, i)
		committed.Store(int64(i))
	}
	close(done)
	wg.Wait()
	if n, _ := db.ServeStats(); n != 1 {
		t.Fatal("the relation was not served")
	}
}
