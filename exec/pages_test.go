package exec

import (
	"context"
	"fmt"
	"math/rand"
	"sort"
	"strings"
	"testing"

	"github.com/kappa-db/kappa/expr"
	"github.com/kappa-db/kappa/types"
)

// TestTablePages checks a table without a primary key, stored in pages,
// against a model through large inserts (several pages per epoch), random
// deletes across pages, whole pages deleted, and an insert and its delete
// in one epoch: after every epoch its stored rows, read by ScanRelation
// and by a Prepared scan, are the model's.
func TestTablePages(t *testing.T) {
	seed := rand.Int63()
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewSource(seed))
	h := newHarness(t, t.TempDir())
	h.rt.opts.MaxRecordsPerEpoch = 1 << 20
	if err := h.rt.Add(DataflowSpec{ID: tableID, Name: "t", TableID: tableID, Table: &TableSink{Rel: tableID}}); err != nil {
		t.Fatal(err)
	}
	live := map[uint64][2]int64{} // row id -> row
	row := func(r [2]int64) types.Row { return types.Row{types.NewInt4(r[0]), types.NewInt4(r[1])} }
	check := func(round int) {
		t.Helper()
		var want []string
		for id, r := range live {
			want = append(want, fmt.Sprintf("%d:%d|%d", id, r[0], r[1]))
		}
		sort.Strings(want)
		var got []string
		err := ScanRelation(h.db, tableID, nil, func(key []byte, cnt int64, row types.Row) error {
			id, _, err := types.DecodeKey(key, types.Int8, false)
			if err != nil {
				return err
			}
			if cnt != 1 {
				t.Fatalf("row %d has multiplicity %d", id.I, cnt)
			}
			got = append(got, fmt.Sprintf("%d:%s", id.I, rowText(row)))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		sort.Strings(got)
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Fatalf("round %d: stored rows differ:\n got %d rows %.400v\nwant %d rows %.400v", round, len(got), got, len(want), want)
		}
		p := Prepare(&Scan{Kind: ScanTable, Rel: tableID, Types: tableTypes})
		n := 0
		if err := p.Run(context.Background(), h.db, &expr.EvalContext{}, func(types.Row) error { n++; return nil }); err != nil {
			t.Fatal(err)
		}
		if n != len(live) {
			t.Fatalf("round %d: Prepared scan read %d rows, want %d", round, n, len(live))
		}
	}
	for round := range 12 {
		var recs [][]byte
		var added [][2]int64
		ins := rng.Intn(3000)
		if round%4 == 0 {
			ins = 0
		}
		for range ins {
			r := [2]int64{int64(rng.Intn(100)), int64(rng.Intn(1 << 20))}
			recs = append(recs, AppendChange(nil, 1, 0, row(r)))
			added = append(added, r)
		}
		// Deletes: random rows, or every row of a run of ids (whole pages).
		var ids []uint64
		for id := range live {
			ids = append(ids, id)
		}
		sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
		var del []uint64
		switch {
		case round%3 == 2 && len(ids) > 0:
			from := rng.Intn(len(ids))
			del = ids[from:min(len(ids), from+1500)]
		default:
			for _, id := range ids {
				if rng.Intn(5) == 0 {
					del = append(del, id)
				}
			}
		}
		for _, id := range del {
			recs = append(recs, AppendChange(nil, -1, id, row(live[id])))
			delete(live, id)
		}
		if len(recs) == 0 {
			continue
		}
		first, err := h.lg.Append(recs)
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range added {
			live[first+uint64(i)+1] = r
		}
		// An insert and its retraction in one epoch: the row's page is
		// still open.
		if round%2 == 1 && len(added) > 0 {
			j := rng.Intn(len(added))
			id := first + uint64(j) + 1
			if _, err := h.lg.Append([][]byte{AppendChange(nil, -1, id, row(live[id]))}); err != nil {
				t.Fatal(err)
			}
			delete(live, id)
		}
		for {
			more, err := h.rt.RunEpoch()
			if err != nil {
				t.Fatal(err)
			}
			if !more {
				break
			}
		}
		check(round)
	}
}
