package engine_test

import (
	"encoding/binary"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/kappa-db/kappa/engine"
	"github.com/kappa-db/kappa/exec"
	"github.com/kappa-db/kappa/log"
	"github.com/kappa-db/kappa/pgwire"
	"github.com/kappa-db/kappa/types"
	"github.com/kappa-db/kappa/vfs"
)

// TestPartitionRedo: a commit over two partitions of a table's log crashed
// after its redo record and its append to partition 0, before its append to
// partition 1. The next start appends the missing part from the redo record
// (and only that part), so the transaction is there whole, once.
func TestPartitionRedo(t *testing.T) {
	dir := t.TempDir()
	open := func() (*engine.Engine, pgwire.Session) { return openSession(t, dir) }
	e, s := open()
	w := &rowCounter{}
	run(t, s, w, "CREATE TABLE t (k bigint PRIMARY KEY, v bigint) WITH (partitions = 2)")
	run(t, s, w, "INSERT INTO t SELECT i, 0 FROM generate_series(1, 100) i")
	o, ok := e.Catalog().Lookup("t")
	if !ok {
		t.Fatal("no table t")
	}
	sink := &exec.TableSink{Rel: o.ID, PK: o.PrimaryKey}
	s.Close()
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}

	// The transaction: keys 1001.. with v = 7, split by partition.
	recs := [2][][]byte{}
	for k := int64(1001); len(recs[0]) < 20 || len(recs[1]) < 20; k++ {
		rec := exec.AppendChange(nil, 1, 0, types.Row{types.NewInt8(k), types.NewInt8(7)})
		p, err := exec.RoutePartition(rec, sink, 2, 0)
		if err != nil {
			t.Fatal(err)
		}
		recs[p] = append(recs[p], rec)
	}
	logOf := func(p int) *log.Log {
		name := strconv.FormatUint(o.ID, 10)
		if p > 0 {
			name += "." + strconv.Itoa(p)
		}
		lg, err := log.Open(log.Options{FS: vfs.Default, Dir: filepath.Join(dir, "log", name)})
		if err != nil {
			t.Fatal(err)
		}
		return lg
	}
	var bases [2]uint64
	for p := range 2 {
		lg := logOf(p)
		bases[p] = lg.End()
		lg.Close()
	}
	h := []byte{'T'}
	h = binary.AppendUvarint(h, 2)
	for p := range 2 {
		h = binary.AppendUvarint(h, exec.PartitionSource(o.ID, p))
		h = binary.AppendUvarint(h, bases[p])
		h = binary.AppendUvarint(h, uint64(len(recs[p])))
	}
	txl, err := log.Open(log.Options{FS: vfs.Default, Dir: filepath.Join(dir, "txnlog")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := txl.AppendGroup([][][]byte{{h}, recs[0], recs[1]}); err != nil {
		t.Fatal(err)
	}
	txl.Close()
	lg := logOf(0)
	if _, err := lg.AppendGroup([][][]byte{recs[0]}); err != nil {
		t.Fatal(err)
	}
	lg.Close()

	e, s = open()
	for _, q := range []string{"SELECT k FROM t WHERE v = 7", "SELECT k FROM t"} {
		w.rows = 0
		run(t, s, w, q)
		want := len(recs[0]) + len(recs[1])
		if q == "SELECT k FROM t" {
			want += 100
		}
		if w.rows != want {
			t.Fatalf("%s: %d rows, want %d", q, w.rows, want)
		}
	}
	run(t, s, w, "CREATE MATERIALIZED VIEW tv AS SELECT v, count(*) AS n FROM t GROUP BY v")
	w.rows = 0
	run(t, s, w, "SELECT v, n FROM tv")
	if w.rows != 2 {
		t.Fatalf("tv has %d rows, want 2", w.rows)
	}
	if string(w.lastRow[1]) != "100" && string(w.lastRow[1]) != strconv.Itoa(len(recs[0])+len(recs[1])) {
		t.Fatalf("tv's last row: %q", w.lastRow)
	}
	s.Close()
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	// The missing part went to partition 1's log, and partition 0's part
	// was not appended again.
	for p := range 2 {
		lg := logOf(p)
		if got, want := lg.End(), bases[p]+uint64(len(recs[p])); got != want {
			t.Errorf("partition %d's log ends at %d, want %d", p, got, want)
		}
		lg.Close()
	}
}
