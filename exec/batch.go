package exec

import (
	"github.com/kappa-db/kappa/types"
)

// Batch is a Z-set delta: row i occurs with weight W[i] (+1 insert, -1
// retract; an update is -old +new). A batch may hold the same row more than
// once and zero weights until it is consolidated.
type Batch struct {
	Rows []types.Row
	W    []int64
}

// Add appends (row, w).
func (b *Batch) Add(row types.Row, w int64) {
	b.Rows = append(b.Rows, row)
	b.W = append(b.W, w)
}

// Len is the number of entries.
func (b *Batch) Len() int { return len(b.Rows) }

// Reset empties the batch, keeping its capacity.
func (b *Batch) Reset() {
	clear(b.Rows)
	b.Rows = b.Rows[:0]
	b.W = b.W[:0]
}

// Consolidate merges equal rows, summing their weights, and drops zero
// weights. Order of first occurrence is kept.
func (b *Batch) Consolidate() {
	if len(b.Rows) < 2 {
		if len(b.Rows) == 1 && b.W[0] == 0 {
			b.Reset()
		}
		return
	}
	idx := make(map[string]int, len(b.Rows))
	var key []byte
	n := 0
	for i, r := range b.Rows {
		// The exact encoding, not the memcomparable key: keys normalize
		// numerics, and -7.000 +7 (an update of the scale only) must not
		// cancel out.
		key = types.AppendRow(key[:0], r)
		if j, ok := idx[string(key)]; ok {
			b.W[j] += b.W[i]
			continue
		}
		idx[string(key)] = n
		b.Rows[n], b.W[n] = r, b.W[i]
		n++
	}
	m := 0
	for i := 0; i < n; i++ {
		if b.W[i] != 0 {
			b.Rows[m], b.W[m] = b.Rows[i], b.W[i]
			m++
		}
	}
	clear(b.Rows[m:])
	b.Rows, b.W = b.Rows[:m], b.W[:m]
}
