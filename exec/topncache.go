package exec

import (
	"bytes"
	"sort"

	"github.com/kappa-db/kappa/types"
)

// An append-only GroupTopN (groupTopNOp.appendOnly) keeps, per partition,
// only the rows before its boundary: the rows of its top and, with Lo > 1,
// the rows ranked before Lo. Those are all a later epoch can need (an
// insertion only pushes rows down), so a row that falls past the boundary
// is deleted, and the partition's top key holds the boundary alone (the
// top is ranked again from the rows). A partition's state is therefore
// O(Hi) rows, and an epoch that touches it reads it once: from memory when
// a recent epoch committed it (topCache), else with one scan.

// topPart is an append-only partition as committed: its stored rows before
// the boundary, in order, and the boundary (nil: the partition ends first).
type topPart struct {
	rows     []entry
	boundary []byte
	size     int64
}

func (tp *topPart) computeSize() {
	tp.size = 64 + int64(len(tp.boundary))
	for _, e := range tp.rows {
		tp.size += 48 + int64(len(e.key)) + rowBytes(e.row)
	}
}

// topCacheBytes bounds the memory of a GroupTopN's partition cache (the
// rows' estimated in-memory size): two generations of half of it each.
const topCacheBytes = 32 << 20

// topCache holds the committed state of the partitions recent epochs
// touched, so that the next epoch touching one reads nothing. What an
// epoch computes is pending until the runtime reports the commit
// (committed); a retried epoch starts again from the committed entries.
// It is two generations: lookups promote into hot, and when hot outgrows
// half the budget it becomes cold and the old cold goes.
type topCache struct {
	hot, cold   map[string]*topPart
	hotBytes    int64
	pending     map[string]*topPart
	pendingKeys []string
}

func (c *topCache) get(part string) *topPart {
	if tp, ok := c.hot[part]; ok {
		return tp
	}
	tp, ok := c.cold[part]
	if !ok {
		return nil
	}
	delete(c.cold, part)
	c.put(part, tp)
	return tp
}

func (c *topCache) put(part string, tp *topPart) {
	if c.hot == nil {
		c.hot = map[string]*topPart{}
	}
	if old, ok := c.hot[part]; ok {
		c.hotBytes -= old.size
	}
	c.hot[part] = tp
	c.hotBytes += tp.size
	if c.hotBytes > topCacheBytes/2 {
		c.cold, c.hot, c.hotBytes = c.hot, map[string]*topPart{}, 0
	}
}

// stage records an epoch's new state of a partition.
func (c *topCache) stage(part string, tp *topPart) {
	if c.pending == nil {
		c.pending = map[string]*topPart{}
	}
	if _, ok := c.pending[part]; !ok {
		c.pendingKeys = append(c.pendingKeys, part)
	}
	c.pending[part] = tp
}

// drop forgets a partition's committed state (its pending state is
// written in the same epoch and so goes or stays with it).
func (c *topCache) drop(part string) {
	if tp, ok := c.hot[part]; ok {
		c.hotBytes -= tp.size
		delete(c.hot, part)
	}
	delete(c.cold, part)
}

// abort forgets what the current epoch staged: it is being retried.
func (c *topCache) abort() {
	clear(c.pending)
	c.pendingKeys = c.pendingKeys[:0]
}

// commit makes the staged states the committed ones.
func (c *topCache) commit() {
	for _, part := range c.pendingKeys {
		if tp, ok := c.pending[part]; ok {
			c.drop(part)
			c.put(part, tp)
		}
	}
	c.abort()
}

// dropBelow forgets the partitions whose key sorts before bound (closed
// windows, deleted from the store).
func (c *topCache) dropBelow(bound []byte) {
	for part, tp := range c.hot {
		if part < string(bound) {
			c.hotBytes -= tp.size
			delete(c.hot, part)
		}
	}
	for _, m := range []map[string]*topPart{c.cold, c.pending} {
		for part := range m {
			if part < string(bound) {
				delete(m, part)
			}
		}
	}
}

// loadPart reads an append-only partition's committed state: from the
// cache, else its boundary from the top key (an older state's top rows
// there are not needed: the top is ranked again from the rows) and its
// rows before the boundary with one scan.
func (g *groupTopNOp) loadPart(ec *epochCtx, part string) (*topPart, error) {
	if tp := g.cache.get(part); tp != nil {
		return tp, nil
	}
	tp := &topPart{}
	val, ok, err := ec.store.Get(g.topKey(part))
	if err != nil {
		return nil, err
	}
	if ok {
		_, b, err := decodeTop(val)
		if err != nil {
			return nil, err
		}
		tp.boundary = append([]byte(nil), b...)
	}
	err = g.scan(ec, part, func(key []byte, cnt int64, row types.Row) (bool, error) {
		if tp.boundary != nil && bytes.Compare(key, tp.boundary) >= 0 {
			return false, nil
		}
		tp.rows = append(tp.rows, entry{key: append([]byte(nil), key...), cnt: cnt, row: row})
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	tp.computeSize()
	return tp, nil
}

// rankTop ranks a partition's rows in order and returns its top (weight
// sign) and the index of the first row past the boundary (len(es): none).
func (g *groupTopNOp) rankTop(es []entry, out *Batch, sign int64) int {
	r := &ranker{spec: g.spec, out: out, sign: sign}
	for i, e := range es {
		if !r.next(e.row, e.cnt) {
			return i
		}
	}
	return len(es)
}

// flushAppend is flush's path for an append-only input: it merges the
// epoch's rows that sort before the partition's boundary into the rows
// there, in memory, ranks them, writes the rows that entered, deletes the
// ones pushed past the new boundary, and adds the top's difference to all
// (the epoch's output, emitted at once).
func (g *groupTopNOp) flushAppend(ec *epochCtx, part string, delta *Batch, all *Batch) error {
	tp, err := g.loadPart(ec, part)
	if err != nil {
		return err
	}
	base := g.partPrefix(part)
	// The epoch's rows before the boundary, by key (a row may come twice).
	type added struct {
		key []byte
		cnt int64
		row types.Row
	}
	var in []added
	var idx map[string]int
	for i, row := range delta.Rows {
		k := g.orderKey(append(g.keyBuf[:0], base...), row)
		g.keyBuf = k
		if tp.boundary != nil && bytes.Compare(k, tp.boundary) >= 0 {
			continue
		}
		if idx == nil {
			idx = map[string]int{}
		}
		if j, ok := idx[string(k)]; ok {
			in[j].cnt += delta.W[i]
			continue
		}
		idx[string(k)] = len(in)
		in = append(in, added{key: append([]byte(nil), k...), cnt: delta.W[i], row: row})
	}
	if len(in) == 0 {
		return nil // every row sorts after the top: it stands
	}
	sort.Slice(in, func(a, b int) bool { return bytes.Compare(in[a].key, in[b].key) < 0 })
	// Merge: old rows keep dirty=false, new or changed ones dirty=true.
	es := make([]entry, 0, len(tp.rows)+len(in))
	i, j := 0, 0
	for i < len(tp.rows) || j < len(in) {
		switch {
		case j == len(in) || (i < len(tp.rows) && bytes.Compare(tp.rows[i].key, in[j].key) < 0):
			es = append(es, tp.rows[i])
			i++
		case i == len(tp.rows) || bytes.Compare(in[j].key, tp.rows[i].key) < 0:
			if in[j].cnt > 0 {
				es = append(es, entry{key: in[j].key, cnt: in[j].cnt, row: in[j].row, dirty: true})
			}
			j++
		default: // a stored row again
			e := tp.rows[i]
			e.cnt += in[j].cnt
			e.dirty = true
			es = append(es, e)
			i, j = i+1, j+1
		}
	}
	out := &Batch{}
	g.rankTop(tp.rows, out, -1)
	cut := g.rankTop(es, out, 1)
	for k, e := range es {
		var err error
		switch {
		case k < cut && e.dirty && e.cnt != 0:
			err = ec.store.Set(e.key, AppendStoredRow(g.valBuf[:0], e.cnt, e.row))
		case k >= cut || e.cnt == 0:
			// Pushed past the boundary: no insertion can bring it back. A
			// new row there was never stored.
			if !e.dirty || wasStored(tp.rows, e.key) {
				err = ec.store.Delete(e.key)
			}
		}
		if err != nil {
			return err
		}
	}
	next := &topPart{rows: es[:cut:cut], boundary: tp.boundary}
	for k := range next.rows {
		next.rows[k].dirty = false
	}
	if cut < len(es) {
		next.boundary = es[cut].key
	}
	if !bytes.Equal(next.boundary, tp.boundary) {
		if err := ec.store.Set(g.topKey(part), appendTop(nil, &Batch{}, next.boundary)); err != nil {
			return err
		}
	}
	next.computeSize()
	g.cache.stage(part, next)
	out.Consolidate()
	for i, row := range out.Rows {
		all.Add(row, out.W[i])
	}
	return nil
}

// wasStored says whether key is among a partition's stored rows (sorted).
func wasStored(rows []entry, key []byte) bool {
	i := sort.Search(len(rows), func(i int) bool { return bytes.Compare(rows[i].key, key) >= 0 })
	return i < len(rows) && bytes.Equal(rows[i].key, key)
}
