package exec

import (
	"testing"

	"github.com/kappa-db/kappa/types"
)

// TestRoutePartition: every version of a primary key (an insert, its
// retraction, a new version with other values) goes to one partition, and
// the keys spread over all of them; without a primary key an insert goes to
// the transaction's home partition and a retraction to the partition that
// numbered its row.
func TestRoutePartition(t *testing.T) {
	const n = 4
	pk := &TableSink{Rel: 1, PK: []int{0}}
	seen := map[int]int{}
	for k := int64(0); k < 1000; k++ {
		var got []int
		for _, rec := range [][]byte{
			AppendChange(nil, 1, 0, types.Row{types.NewInt8(k), types.NewText("a")}),
			AppendChange(nil, -1, 0, types.Row{types.NewInt8(k), types.NewText("a")}),
			AppendChange(nil, 1, 0, types.Row{types.NewInt8(k), types.NewText("something else")}),
		} {
			p, err := RoutePartition(rec, pk, n, 3)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, p)
		}
		if got[0] != got[1] || got[1] != got[2] || got[0] < 0 || got[0] >= n {
			t.Fatalf("key %d went to partitions %v", k, got)
		}
		seen[got[0]]++
	}
	for p := range n {
		if seen[p] < 150 {
			t.Errorf("partition %d got %d of 1000 keys: %v", p, seen[p], seen)
		}
	}
	nopk := &TableSink{Rel: 2}
	ins := AppendChange(nil, 1, 0, types.Row{types.NewInt8(1)})
	if p, err := RoutePartition(ins, nopk, n, 2); err != nil || p != 2 {
		t.Fatalf("an insert without a primary key went to %d (%v), want its home 2", p, err)
	}
	for p := range n {
		rowID := PartitionRowID(PartitionSource(2, p), 41)
		if RowIDPartition(rowID) != p {
			t.Fatalf("row id %d of partition %d names partition %d", rowID, p, RowIDPartition(rowID))
		}
		del := AppendChange(nil, -1, rowID, types.Row{types.NewInt8(1)})
		if got, err := RoutePartition(del, nopk, n, 0); err != nil || got != p {
			t.Fatalf("a retraction of row %d went to %d (%v), want %d", rowID, got, err, p)
		}
	}
	if PartitionRowID(PartitionSource(2, 0), 41) != 42 {
		t.Fatal("partition 0 must number rows as an unpartitioned log does (offset + 1)")
	}
}
