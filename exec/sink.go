package exec

import (
	"encoding/binary"
	"sort"

	"github.com/kappa-db/kappa/expr"
	"github.com/kappa-db/kappa/pgerr"
	"github.com/kappa-db/kappa/storage"
	"github.com/kappa-db/kappa/types"
)

// ViewSink writes a dataflow's output deltas into a materialized view's
// stored rows. Rows are keyed by KeyCols (then, unless Unique, by every other
// column, so duplicates share a key and a count). A point query on a prefix
// of KeyCols is a prefix scan.
type ViewSink struct {
	Rel     uint64
	KeyCols []int
	Unique  bool
	// AppendOnly views (the planner proves their input only ever inserts:
	// sources through filters, projections, windows and inner joins) key
	// each row by a row id the dataflow counts, and write it without
	// reading what is stored: no key of all columns, no read of a count.
	AppendOnly bool

	// distinct says the dataflow never outputs a row twice
	// (DistinctRowsKey): every stored row has multiplicity 1, so a
	// retraction deletes its key and an insertion sets it without reading
	// the stored count first. The runtime sets it from the plan; the stored
	// rows are the same either way.
	distinct bool

	pw pageWriter // appendRows' buffers
}

// appendRows writes an append-only view's new rows under row ids from
// *next. The ids commit with the epoch, and a rerun epoch replays the same
// rows in the same order, so a row keeps its id across crashes.
//
// The rows go into pages (pages.go), as a table's without a primary key
// do: one store entry per pageTarget bytes of consecutive rows, keyed by
// its first row id, instead of one per row. pebble's work per entry (the
// batch, the memtable's skiplist, flushes and compactions) was about half
// of q0's CPU. A row that arrives with a multiplicity above 1 is stored
// on its own under its id, with its count. Pages never span calls, so a
// page holds rows of one epoch only and a rerun rewrites the same keys.
func (s *ViewSink) appendRows(ec *epochCtx, in *Batch, next *uint64) error {
	if in == nil || in.Len() == 0 {
		return nil
	}
	prefix := storage.RelationPrefix(s.Rel)
	key := make([]byte, len(prefix), len(prefix)+8)
	copy(key, prefix)
	w := &s.pw
	w.page, w.first, w.rows = w.page[:0], 0, 0
	flush := func() error {
		if w.rows == 0 {
			return nil
		}
		key = binary.BigEndian.AppendUint64(key[:len(prefix)], w.first)
		w.rows = 0
		return ec.store.Set(key, w.page)
	}
	for i, row := range in.Rows {
		cnt := in.W[i]
		if cnt <= 0 {
			return pgerr.New(pgerr.InternalError, "view %d: append-only view received a retraction", s.Rel)
		}
		id := *next
		*next++
		if cnt != 1 {
			if err := flush(); err != nil {
				return err
			}
			key = binary.BigEndian.AppendUint64(key[:len(prefix)], id)
			w.enc = AppendStoredRow(w.enc[:0], cnt, row)
			if err := ec.store.Set(key, w.enc); err != nil {
				return err
			}
			continue
		}
		if w.rows == 0 {
			w.page = binary.AppendUvarint(append(w.page[:0], 0), id)
			w.first = id
		}
		w.enc = types.AppendRow(w.enc[:0], row)
		w.page = binary.AppendUvarint(w.page, id-w.first)
		w.page = binary.AppendUvarint(w.page, uint64(len(w.enc)))
		w.page = append(w.page, w.enc...)
		w.rows++
		if len(w.page) >= pageTarget {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// pageWriter is an append-only view's page being filled, and an encoding
// buffer; the sink keeps them across calls so that its buffers are reused
// (the store copies what it is given).
type pageWriter struct {
	page  []byte
	enc   []byte
	first uint64
	rows  int
}

// RowKey appends the storage key of row to prefix.
func (s *ViewSink) RowKey(prefix []byte, row types.Row) []byte {
	k := prefix
	for _, c := range s.KeyCols {
		k = types.AppendKey(k, row[c], false)
	}
	if !s.Unique {
		for i, v := range row {
			if !containsInt(s.KeyCols, i) {
				k = types.AppendKey(k, v, false)
			}
		}
	}
	return k
}

func containsInt(xs []int, x int) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}

// apply applies a delta. It is consolidated first: a batch may hold a row's
// insert and its later retraction (a backfill over a table's history), and
// applying the retraction on its own would drive the count below zero.
// Retractions then go first, so a unique key's -old +new in one batch never
// collides.
func (s *ViewSink) apply(ec *epochCtx, in *Batch) error {
	if s.AppendOnly {
		return pgerr.New(pgerr.InternalError, "view %d: an append-only view's rows need row ids", s.Rel)
	}
	if in == nil || in.Len() == 0 {
		return nil
	}
	in.Consolidate()
	idx := make([]int, in.Len())
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return in.W[idx[a]] < 0 && in.W[idx[b]] > 0 })
	prefix := storage.RelationPrefix(s.Rel)
	var key, val []byte
	for _, i := range idx {
		row, w := in.Rows[i], in.W[i]
		if w == 0 {
			continue
		}
		key = s.RowKey(append(key[:0], prefix...), row)
		if s.distinct {
			// Retractions come first: a retracted row and an inserted one
			// with one key (1.0 and 1.00) leave the inserted one.
			var err error
			switch w {
			case -1:
				err = ec.store.Delete(key)
			case 1:
				val = AppendStoredRow(val[:0], 1, row)
				err = ec.store.Set(key, val)
			default:
				err = pgerr.New(pgerr.InternalError, "view %d: a row of a distinct dataflow with weight %d", s.Rel, w)
			}
			if err != nil {
				return err
			}
			continue
		}
		old, ok, err := ec.store.Get(key)
		if err != nil {
			return err
		}
		var cnt int64
		if ok {
			if cnt, _, err = DecodeStoredRow(old, nil); err != nil {
				return err
			}
		}
		cnt += w
		switch {
		case cnt == 0:
			err = ec.store.Delete(key)
		case cnt < 0:
			return pgerr.New(pgerr.InternalError, "view %d: row multiplicity went negative", s.Rel)
		case s.Unique && cnt > 1:
			return pgerr.New(pgerr.InternalError, "view %d: two rows with one unique key", s.Rel)
		default:
			val = AppendStoredRow(val[:0], cnt, row)
			err = ec.store.Set(key, val)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// TableSink keeps a table's current rows from its change log: by primary key
// when it has one, otherwise by hidden row id.
type TableSink struct {
	Rel uint64
	PK  []int
	// Watermark is the table's declared watermark: late rows are dropped
	// from the table's rows as from every view over it.
	Watermark *ScanWatermark
}

// RowKey appends the key of a table row to prefix.
func (s *TableSink) RowKey(prefix []byte, rowID uint64, row types.Row) []byte {
	if len(s.PK) == 0 {
		return types.AppendKey(prefix, types.NewInt8(int64(rowID)), false)
	}
	for _, c := range s.PK {
		prefix = types.AppendKey(prefix, row[c], false)
	}
	return prefix
}

func (s *TableSink) applyChange(ec *epochCtx, key []byte, w int64, row types.Row, val []byte) ([]byte, error) {
	if w < 0 {
		return val, ec.store.Delete(key)
	}
	val = AppendStoredRow(val[:0], 1, row)
	return val, ec.store.Set(key, val)
}

// ApplyTableChanges applies a table's change records to b as the table's own
// dataflow would, the records taken to sit at log offsets first, first+1, ...
// (an insert record without a row id gets its offset+1, as in the log). A
// transaction uses it to read its own uncommitted writes over the committed
// rows: b is an indexed batch, so reads through it see both.
func ApplyTableChanges(b *storage.Batch, t *TableSink, first uint64, recs [][]byte) error {
	ec := &epochCtx{store: b}
	prefix := storage.RelationPrefix(t.Rel)
	if len(t.PK) == 0 {
		pg := newPager(b, t.Rel)
		for i, rec := range recs {
			w, rowID, enc, err := splitChange(rec)
			if err != nil {
				return err
			}
			if rowID == 0 {
				rowID = first + uint64(i) + 1
			}
			if w < 0 {
				err = pg.retract(rowID)
			} else {
				err = pg.insert(rowID, enc)
			}
			if err != nil {
				return err
			}
		}
		return pg.flush()
	}
	var key, val []byte
	for _, rec := range recs {
		w, _, row, err := DecodeChange(rec, nil)
		if err != nil {
			return err
		}
		key = t.RowKey(append(key[:0], prefix...), 0, row)
		if val, err = t.applyChange(ec, key, w, row, val); err != nil {
			return err
		}
	}
	return nil
}

// DistinctRowsKey returns columns of n's output that no two of its rows
// share (so no row ever appears twice), when the plan proves there are
// some: a row_number GroupTopN's partition columns and rank (the partition
// columns alone when it keeps one row per partition), through filters and
// projections that keep them.
func DistinctRowsKey(n Node) ([]int, bool) {
	switch x := n.(type) {
	case *GroupTopN:
		if x.Func != WinRowNumber {
			return nil, false
		}
		key := append([]int(nil), x.PartitionBy...)
		if x.Lo != x.Hi {
			key = append(key, len(x.Input.Columns()))
		}
		return key, true
	case *Filter:
		return DistinctRowsKey(x.Input)
	case *Project:
		in, ok := DistinctRowsKey(x.Input)
		if !ok {
			return nil, false
		}
		return ProjectedCols(x, in)
	}
	return nil, false
}

// ProjectedCols returns where projection p passes on each of its input's
// columns cols (the first output that is exactly that column); false when
// p drops one of them.
func ProjectedCols(p *Project, cols []int) ([]int, bool) {
	var out []int
	for _, c := range cols {
		found := -1
		for i, e := range p.Exprs {
			if r, ok := e.(*expr.ColRef); ok && r.Idx == c {
				found = i
				break
			}
		}
		if found < 0 {
			return nil, false
		}
		out = append(out, found)
	}
	return out, true
}
