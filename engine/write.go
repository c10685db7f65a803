package engine

import (
	"context"
	"strconv"
	"strings"

	"github.com/kappa-db/kappa/catalog"
	"github.com/kappa-db/kappa/exec"
	"github.com/kappa-db/kappa/expr"
	"github.com/kappa-db/kappa/pgerr"
	"github.com/kappa-db/kappa/planner"
	"github.com/kappa-db/kappa/storage"
	"github.com/kappa-db/kappa/types"
)

func (st *statement) runDML(ctx context.Context, raw [][]byte, pf []int16) (string, error) {
	b, params, err := st.bindWithParams(raw, pf)
	if err != nil {
		return "", err
	}
	s := st.s
	ec := st.evalContext(params)
	if b.insert != nil {
		if err := s.waitForReads(ctx, b.insert.Reads); err != nil {
			return "", err
		}
		var rows []types.Row
		r, release, err := s.queryReader(ctx, b.insert.Reads, false)
		if err != nil {
			return "", err
		}
		defer release()
		err = exec.Query(ctx, b.insert.Plan, r, ec, func(r types.Row) error {
			rows = append(rows, r.Clone())
			return nil
		})
		if err != nil {
			return "", err
		}
		if err := s.insertRows(ctx, b.insert.Table, rows); err != nil {
			return "", err
		}
		return "INSERT 0 " + strconv.Itoa(len(rows)), nil
	}
	n, err := s.updateRows(ctx, b.update, ec, b.delete)
	if err != nil {
		return "", err
	}
	if b.delete {
		return "DELETE " + strconv.Itoa(n), nil
	}
	return "UPDATE " + strconv.Itoa(n), nil
}

// checkNotNull enforces NOT NULL on a row about to be written.
func checkNotNull(t *catalog.Object, row types.Row) error {
	for i, c := range t.Columns {
		if c.NotNull && row[i].IsNull() {
			return pgerr.New(pgerr.NotNullViolation, "null value in column %q of relation %q violates not-null constraint", c.Name, t.Name).
				WithDetail("Failing row contains %s.", rowString(row, t))
		}
	}
	return nil
}

func rowString(row types.Row, t *catalog.Object) string {
	parts := make([]string, len(row))
	for i, v := range row {
		if v.IsNull() {
			parts[i] = "null"
		} else {
			parts[i] = types.FormatText(v, t.Columns[i].Type, nil)
		}
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

func keyString(t *catalog.Object, row types.Row) string {
	names := make([]string, len(t.PrimaryKey))
	vals := make([]string, len(t.PrimaryKey))
	for i, c := range t.PrimaryKey {
		names[i] = t.Columns[c].Name
		vals[i] = types.FormatText(row[c], t.Columns[c].Type, nil)
	}
	return "Key (" + strings.Join(names, ", ") + ")=(" + strings.Join(vals, ", ") + ") already exists."
}

func duplicateKey(t *catalog.Object, row types.Row) error {
	return pgerr.New(pgerr.UniqueViolation, "duplicate key value violates unique constraint \"%s_pkey\"", t.Name).
		WithDetail("%s", keyString(t, row))
}

// splitRecords cuts records into log batches of at most maxAppendBytes.
func splitRecords(recs [][]byte) [][][]byte {
	var batches [][][]byte
	for start := 0; start < len(recs); {
		end, size := start, 0
		for end < len(recs) && (end == start || size+len(recs[end]) < maxAppendBytes) {
			size += len(recs[end])
			end++
		}
		batches = append(batches, recs[start:end])
		start = end
	}
	return batches
}

// insertRows validates rows and appends them to table t.
func (s *Session) insertRows(ctx context.Context, t *catalog.Object, rows []types.Row) error {
	var ins inserter
	for _, r := range rows {
		if err := ins.add(t, r); err != nil {
			return err
		}
	}
	return s.appendInserts(ctx, t, &ins)
}

// inserter accumulates encoded insert records (and, for a table with a
// primary key, their keys) so that a large COPY holds compact bytes, not
// rows.
type inserter struct {
	// batches hold the records, insertBatchRecords (or maxAppendBytes) to
	// a batch: a million-row COPY neither regrows one huge slice of
	// records nor makes one huge log batch.
	batches [][][]byte
	n       int      // records
	keys    [][]byte // storage keys, for tables with a primary key
	rows    []types.Row
	size    int // bytes in the last batch
	buf     []byte
}

// insertBatchRecords is how many records an inserter puts in one log batch.
const insertBatchRecords = 16 << 10

// addRecord adds one encoded record.
func (ins *inserter) addRecord(rec []byte) {
	last := len(ins.batches) - 1
	if last < 0 || len(ins.batches[last]) >= insertBatchRecords || ins.size+len(rec) >= maxAppendBytes {
		// The first batch grows as records come: a single-row INSERT
		// must not allocate (and the collector clear and scan) room for
		// insertBatchRecords of them, 384 KiB; a statement that fills
		// it gets full-sized ones after it.
		n := insertBatchRecords
		if len(ins.batches) == 0 {
			n = 8
		}
		ins.batches = append(ins.batches, make([][]byte, 0, n))
		ins.size = 0
		last++
	}
	ins.batches[last] = append(ins.batches[last], rec)
	ins.size += len(rec)
	ins.n++
}

func (ins *inserter) add(t *catalog.Object, r types.Row) error {
	if err := checkNotNull(t, r); err != nil {
		return err
	}
	// One backing buffer for many records: fewer, larger allocations.
	start := len(ins.buf)
	if cap(ins.buf)-start < 256 {
		// Each new buffer twice the last, from 512 B to 64 KiB: small
		// statements allocate little, large ones few times.
		ins.buf = make([]byte, 0, min(max(2*cap(ins.buf), 512), 64<<10))
		start = 0
	}
	ins.buf = exec.AppendChange(ins.buf, 1, 0, r)
	ins.addRecord(ins.buf[start:len(ins.buf):len(ins.buf)])
	if len(t.PrimaryKey) > 0 {
		sink := exec.TableSink{Rel: t.ID, PK: t.PrimaryKey}
		ins.keys = append(ins.keys, sink.RowKey(storage.RelationPrefix(t.ID), 0, r))
		ins.rows = append(ins.rows, r)
	}
	return nil
}

// appendInserts checks primary keys against the committed rows and the
// transaction's own writes, and adds the records to the transaction. Small
// inserts check through the table's overlay of pending keys (pkwrite.go).
func (s *Session) appendInserts(ctx context.Context, t *catalog.Object, ins *inserter) error {
	tt, err := s.txnTable(ctx, t, false)
	if err != nil {
		return err
	}
	if len(t.PrimaryKey) > 0 {
		if !tt.locked && tt.n+ins.n <= lightInsertKeys {
			if err := s.lockLight(ctx, tt); err != nil {
				return err
			}
		} else if err := s.lockTable(ctx, tt); err != nil {
			return err
		}
		if !tt.locked {
			if err := s.checkLight(tt, ins); err != nil {
				return err
			}
			tt.add(ins.batches)
			return nil
		}
		r, err := s.reader(tt)
		if err != nil {
			return err
		}
		seen := make(map[string]bool, len(ins.keys))
		for i, k := range ins.keys {
			if seen[string(k)] {
				return duplicateKey(t, ins.rows[i])
			}
			seen[string(k)] = true
			if _, ok, err := r.Get(k); err != nil {
				return err
			} else if ok {
				return duplicateKey(t, ins.rows[i])
			}
		}
	}
	tt.add(ins.batches)
	return nil
}

// maxAppendBytes bounds one log batch (the log caps a batch at 64 MiB).
const maxAppendBytes = 32 << 20

// updateRows runs UPDATE (u.Set) or DELETE (del) over u.Table: matching
// rows are retracted and, for UPDATE, their new versions inserted. All
// retractions precede all insertions in the log, so that an UPDATE that
// swaps two keys never deletes a row it just wrote.
func (s *Session) updateRows(ctx context.Context, u *planner.Update, ec *expr.EvalContext, del bool) (int, error) {
	t := u.Table
	tt, err := s.txnTable(ctx, t, true)
	if err != nil {
		return 0, err
	}
	snap, err := s.reader(tt)
	if err != nil {
		return 0, err
	}
	type match struct {
		rowID uint64
		row   types.Row
	}
	var matches []match
	var prefix []byte
	for _, e := range u.KeyPrefix {
		v, err := e.Eval(ec, nil)
		if err != nil {
			return 0, err
		}
		prefix = types.AppendKey(prefix, v, false)
	}
	err = exec.ScanRelation(snap, t.ID, prefix, func(key []byte, _ int64, row types.Row) error {
		if u.Where != nil {
			v, err := u.Where.Eval(ec, row)
			if err != nil {
				return err
			}
			if !v.Bool() {
				return nil
			}
		}
		var rowID uint64
		if len(t.PrimaryKey) == 0 {
			id, _, err := types.DecodeKey(key, types.Int8, false)
			if err != nil {
				return err
			}
			rowID = uint64(id.I)
		}
		matches = append(matches, match{rowID: rowID, row: row})
		return nil
	})
	if err != nil {
		return 0, err
	}
	recs := make([][]byte, 0, 2*len(matches))
	for _, m := range matches {
		recs = append(recs, exec.AppendChange(nil, -1, m.rowID, m.row))
	}
	if !del {
		sink := exec.TableSink{Rel: t.ID, PK: t.PrimaryKey}
		prefix := storage.RelationPrefix(t.ID)
		removed := make(map[string]bool, len(matches))
		if len(t.PrimaryKey) > 0 {
			for _, m := range matches {
				removed[string(sink.RowKey(append([]byte(nil), prefix...), 0, m.row))] = true
			}
		}
		added := make(map[string]bool, len(matches))
		for _, m := range matches {
			nr := m.row.Clone()
			for c, e := range u.Set {
				v, err := e.Eval(ec, m.row)
				if err != nil {
					return 0, err
				}
				nr[c] = v
			}
			if err := checkNotNull(t, nr); err != nil {
				return 0, err
			}
			if len(t.PrimaryKey) > 0 {
				k := string(sink.RowKey(append([]byte(nil), prefix...), 0, nr))
				if added[k] {
					return 0, duplicateKey(t, nr)
				}
				added[k] = true
				if !removed[k] {
					if _, ok, err := snap.Get([]byte(k)); err != nil {
						return 0, err
					} else if ok {
						return 0, duplicateKey(t, nr)
					}
				}
			}
			recs = append(recs, exec.AppendChange(nil, 1, 0, nr))
		}
	}
	tt.add([][][]byte{recs})
	return len(matches), nil
}
