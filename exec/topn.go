package exec

import (
	"encoding/binary"
	"sort"

	"github.com/kappa-db/kappa/storage"
	"github.com/kappa-db/kappa/types"
)

// topNOp keeps the first Offset+Limit rows of its input in sort order and
// outputs rows Offset.. of them (ORDER BY ... LIMIT/OFFSET inside a view or a
// subquery). A deleted row in the top brings the next one in.
//
// State, under the operator's prefix:
//
//	0x00 sortKey rowKey → multiplicity, row    every input row, in sort order
//	0x01                → the rows last output (with multiplicities)
//
// At the barrier, when the epoch changed the input, it reads the first
// Offset+Limit rows in key order and emits the difference with what it output
// before. That costs O(Offset+Limit) per epoch, whatever the input's size.
type topNOp struct {
	keys          []SortKey
	limit, offset int64 // limit < 0: none
	keep          int
	prefix        []byte
	dirty         bool
	buf           Batch // ephemeral: the whole input
}

func newTopNOp(keys []SortKey, limit, offset int64, keep int, opID uint64) *topNOp {
	return &topNOp{keys: keys, limit: limit, offset: offset, keep: keep, prefix: storage.StatePrefix(opID)}
}

func (t *topNOp) reset() {
	t.dirty = false
	t.buf.Reset()
}

// sortKey encodes row's ORDER BY key, NULLs placed as each key asks.
func (t *topNOp) sortKey(dst []byte, row types.Row) []byte {
	for _, k := range t.keys {
		v := row[k.Col]
		nullByte := byte(1) // NULLs after values
		if k.NullsFirst {
			nullByte = 0
		}
		if v.IsNull() {
			dst = append(dst, nullByte)
			continue
		}
		dst = append(dst, 1-nullByte)
		dst = types.AppendKey(dst, v, k.Desc)
	}
	return dst
}

func (t *topNOp) apply(ec *epochCtx, _ int, in *Batch) (*Batch, error) {
	if ec.ephemeral {
		if err := ec.holdBatch(in); err != nil {
			return nil, err
		}
		for i, r := range in.Rows {
			t.buf.Add(r, in.W[i])
		}
		return nil, nil
	}
	for i, row := range in.Rows {
		k := append(append([]byte(nil), t.prefix...), 0)
		k = t.sortKey(k, row)
		for _, v := range row {
			k = types.AppendKey(k, v, false)
		}
		if _, err := addStoredRow(ec, k, row, in.W[i], nil, "top-n"); err != nil {
			return nil, err
		}
		t.dirty = true
	}
	return nil, nil
}

func (t *topNOp) output(row types.Row) types.Row {
	if t.keep > 0 && t.keep < len(row) {
		return row[:t.keep]
	}
	return row
}

// window picks rows offset..offset+limit of a sorted multiset.
func (t *topNOp) window(rows []types.Row, counts []int64) *Batch {
	out := &Batch{}
	pos := int64(0)
	for i, r := range rows {
		for c := counts[i]; c > 0; c-- {
			if t.limit >= 0 && pos >= t.offset+t.limit {
				return out
			}
			if pos >= t.offset {
				out.Add(t.output(r), 1)
			}
			pos++
		}
	}
	return out
}

func (t *topNOp) flush(ec *epochCtx, emit func(*Batch) error) error {
	if ec.ephemeral {
		idx := make([]int, t.buf.Len())
		keys := make([]string, t.buf.Len())
		for i, r := range t.buf.Rows {
			idx[i] = i
			keys[i] = string(t.sortKey(nil, r))
		}
		sort.SliceStable(idx, func(a, b int) bool { return keys[idx[a]] < keys[idx[b]] })
		rows := make([]types.Row, len(idx))
		counts := make([]int64, len(idx))
		for i, j := range idx {
			rows[i], counts[i] = t.buf.Rows[j], t.buf.W[j]
		}
		t.reset()
		return emit(t.window(rows, counts))
	}
	if !t.dirty {
		return nil
	}
	t.dirty = false
	// The new top.
	p := append(append([]byte(nil), t.prefix...), 0)
	var rows []types.Row
	var counts []int64
	seen := int64(0)
	err := ec.store.Scan(p, storage.PrefixEnd(p), false, func(_, val []byte) (bool, error) {
		cnt, n := binary.Varint(val)
		row, _, err := types.DecodeRow(val[n:], nil)
		if err != nil {
			return false, err
		}
		rows, counts = append(rows, row), append(counts, cnt)
		seen += cnt
		return t.limit < 0 || seen < t.offset+t.limit, nil
	})
	if err != nil {
		return err
	}
	next := t.window(rows, counts)
	// The old top, replaced by the new one.
	topKey := append(append([]byte(nil), t.prefix...), 1)
	out := &Batch{}
	if val, ok, err := ec.store.Get(topKey); err != nil {
		return err
	} else if ok {
		for len(val) > 0 {
			row, rest, err := types.DecodeRow(val, nil)
			if err != nil {
				return err
			}
			out.Add(row, -1)
			val = rest
		}
	}
	var enc []byte
	for _, r := range next.Rows {
		out.Add(r, 1)
		enc = types.AppendRow(enc, r)
	}
	if len(enc) == 0 {
		err = ec.store.Delete(topKey)
	} else {
		err = ec.store.Set(topKey, enc)
	}
	if err != nil {
		return err
	}
	out.Consolidate()
	return emit(out)
}
