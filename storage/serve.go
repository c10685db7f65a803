package storage

import (
	"bytes"
	"encoding/binary"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/RaduBerinde/btreemap"
)

// Serving indexes: an in-memory copy of a materialized view's committed
// rows, from which the DB's own reads (Get, GetFunc, Scan on the DB, not on
// a Snapshot or a Batch) of that view's key range are answered without
// pebble. pebble's memtable and sstable seek was a third of a point query's
// server CPU; a B-tree probe of an immutable in-memory tree is a few hundred
// nanoseconds.
//
// Correctness rests on three rules:
//
//   - The index changes only when a Batch commits. A Batch that writes a
//     served relation's keys (Set, Delete, DeleteRange) records the change;
//     Commit applies the recorded changes to the index right after pebble
//     has committed the batch and before Commit returns, so before the
//     runtime announces the epoch (read-your-writes waits for that), and
//     under a mutex, so that indexes change in pebble's commit order.
//   - Readers see immutable trees: the writer applies a commit's changes to
//     its own copy-on-write tree and publishes a lazy clone of it with one
//     atomic store. A read loads the published tree once, so it sees one
//     commit's state whole, like a pebble iterator does.
//   - An index is built only when no batch that writes its relation is open
//     (the runtime builds wanted indexes between epochs, holding the epoch
//     lock; see BuildServed), so no write escapes it.
//
// Memory is counted (key, value and a per-entry overhead) against one
// budget for the DB (SetServeBudget); a view that does not fit is not
// indexed, or loses its index when it grows past the budget, and is read
// from pebble as before.
//
// Which relations may be served is the caller's choice (ServeCandidate):
// the runtime offers its materialized views. A candidate is indexed once
// the DB has been asked to read it (its first read through the DB).

// defaultServeBudget bounds the memory of all serving indexes of a DB.
const defaultServeBudget = 256 << 20

// serveEntryOverhead is what an index entry costs beside its key and value
// bytes: the B-tree item (two words, a string and a slice header: 56 bytes), its share
// of the node and the allocation's rounding.
const serveEntryOverhead = 80

// serveTreeDegree is the B-tree's degree: nodes of up to 63 items.
const serveTreeDegree = 32

type serveTree = btreemap.BTreeMap[skey, []byte]

// skey is an index key: the key's bytes, with the 16 after the relation
// prefix (zero-padded) inline, so that a search compares within the
// B-tree's nodes and reads a key's bytes only on a tie. A tree holds one
// relation's keys, which share the prefix. (An integer key column is a
// tag and 8 bytes: 16 bytes hold it whole.)
type skey struct {
	p, q uint64
	s    string
}

func mkey(s string) skey {
	var b [16]byte
	if len(s) > 9 {
		copy(b[:], s[9:])
	}
	return skey{p: binary.BigEndian.Uint64(b[:8]), q: binary.BigEndian.Uint64(b[8:]), s: s}
}

func cmpSkey(a, b skey) int {
	switch {
	case a.p < b.p:
		return -1
	case a.p > b.p:
		return 1
	case a.q < b.q:
		return -1
	case a.q > b.q:
		return 1
	}
	return strings.Compare(a.s, b.s)
}

// bkey is mkey of a key the caller keeps unchanged while it is used.
func bkey(k []byte) skey { return mkey(unsafe.String(unsafe.SliceData(k), len(k))) }

// served is one candidate relation and its index.
type served struct {
	rel uint64
	// snap is the published tree, the relation's rows as of the last
	// commit; nil while the relation is not indexed.
	snap atomic.Pointer[serveTree]
	// wanted: a read asked for the index (reads through the DB).
	wanted atomic.Bool

	// Under serving.mu:
	tree   *serveTree // the writer's copy; nil while not indexed
	bytes  int64      // counted against the budget while indexed
	tooBig bool       // did not fit: not built again
	gone   bool       // no longer a candidate

	// px is the prefix index (nil: none), wantL the lookup length asked
	// for; pxBytes and pxTooBig are under serving.mu.
	px       atomic.Pointer[prefixIndex]
	wantL    atomic.Int32
	pxBytes  int64
	pxTooBig bool
}

// serving is a DB's serving indexes.
type serving struct {
	// rels maps relation ids to candidates; replaced, never changed, so
	// readers load it without a lock. nil while there are none.
	rels atomic.Pointer[map[uint64]*served]
	// anyWanted: some candidate waits for BuildServed.
	anyWanted atomic.Bool

	// mu serializes changes of the set and of the indexes, and the commits
	// of batches that change an index (with their application).
	mu     sync.Mutex
	used   int64 // bytes of all indexes
	budget int64
}

// relOf returns the relation id of a relation-space key.
func relOf(key []byte) (uint64, bool) {
	if len(key) < 9 || key[0] != spaceRelation {
		return 0, false
	}
	return binary.BigEndian.Uint64(key[1:9]), true
}

// candidate returns the candidate relation key belongs to, or nil.
func (sv *serving) candidate(key []byte) *served {
	m := sv.rels.Load()
	if m == nil {
		return nil
	}
	rel, ok := relOf(key)
	if !ok {
		return nil
	}
	return (*m)[rel]
}

// indexed returns the index tree key's relation is served from, or nil.
func (sv *serving) indexed(key []byte) (*served, *serveTree) {
	c := sv.candidate(key)
	if c == nil {
		return nil, nil
	}
	if t := c.snap.Load(); t != nil {
		return c, t
	}
	if !c.wanted.Load() {
		c.wanted.Store(true)
		sv.anyWanted.Store(true)
	}
	return nil, nil
}

// ServeCandidate lets relation rel be served from memory once reads ask
// for it. The caller guarantees that only batches opened after the next
// BuildServed write rel's rows (BuildServed's rule), and calls Unserve
// before anything else writes them.
func (db *DB) ServeCandidate(rel uint64) {
	sv := &db.serve
	sv.mu.Lock()
	defer sv.mu.Unlock()
	old := sv.rels.Load()
	if old != nil {
		if _, ok := (*old)[rel]; ok {
			return
		}
	}
	m := make(map[uint64]*served, 1)
	if old != nil {
		for k, v := range *old {
			m[k] = v
		}
	}
	m[rel] = &served{rel: rel}
	sv.rels.Store(&m)
}

// Unserve drops relation rel's index and candidacy: reads go to pebble.
func (db *DB) Unserve(rel uint64) {
	sv := &db.serve
	sv.mu.Lock()
	defer sv.mu.Unlock()
	old := sv.rels.Load()
	if old == nil {
		return
	}
	c, ok := (*old)[rel]
	if !ok {
		return
	}
	sv.dropLocked(c)
	c.gone = true
	m := make(map[uint64]*served, len(*old))
	for k, v := range *old {
		if k != rel {
			m[k] = v
		}
	}
	if len(m) == 0 {
		sv.rels.Store(nil)
	} else {
		sv.rels.Store(&m)
	}
}

// dropLocked removes c's index; reads of c go to pebble.
func (sv *serving) dropLocked(c *served) {
	sv.dropPrefixLocked(c)
	c.snap.Store(nil)
	c.tree = nil
	sv.used -= c.bytes
	c.bytes = 0
}

// SetServeBudget sets the bytes all serving indexes may take together
// (0: the default, 256 MiB; negative: no index at all). Indexes built
// already are dropped if they no longer fit at their next change.
func (db *DB) SetServeBudget(n int64) {
	db.serve.mu.Lock()
	db.serve.budget = n
	db.serve.mu.Unlock()
}

func (sv *serving) budgetLocked() int64 {
	switch {
	case sv.budget == 0:
		return defaultServeBudget
	case sv.budget < 0:
		return 0
	}
	return sv.budget
}

// ServeStats reports the relations served from memory and the bytes their
// indexes are counted at.
func (db *DB) ServeStats() (indexes int, bytes int64) {
	sv := &db.serve
	sv.mu.Lock()
	defer sv.mu.Unlock()
	if m := sv.rels.Load(); m != nil {
		for _, c := range *m {
			if c.tree != nil {
				indexes++
			}
		}
	}
	return indexes, sv.used
}

// BuildServed builds the indexes that reads asked for since the last call.
// The caller guarantees that no batch writing a candidate's rows is open
// (the runtime calls it between epochs, holding its epoch lock), so the
// index built from pebble's committed rows misses no write: every batch
// opened after it records its changes.
func (db *DB) BuildServed() error {
	sv := &db.serve
	if !sv.anyWanted.Load() {
		return nil
	}
	sv.mu.Lock()
	defer sv.mu.Unlock()
	sv.anyWanted.Store(false)
	m := sv.rels.Load()
	if m == nil {
		return nil
	}
	for _, c := range *m {
		if c.tree == nil && !c.tooBig && c.wanted.Load() {
			if err := sv.buildLocked(db, c); err != nil {
				c.tooBig = true // not retried every epoch
				return err
			}
		}
		if c.tree != nil {
			sv.buildPrefixLocked(c)
		}
	}
	return nil
}

func (sv *serving) buildLocked(db *DB, c *served) error {
	room := sv.budgetLocked() - sv.used
	t := btreemap.New[skey, []byte](serveTreeDegree, cmpSkey)
	var n int64
	lo, hi := RelationSpan(c.rel)
	it, err := db.pdb.NewIter(nil)
	if err != nil {
		return err
	}
	it.SetBounds(lo, hi)
	for ok := it.First(); ok; ok = it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			_ = it.Close()
			return err
		}
		k, val := newEntry(it.Key(), v)
		n += entrySize(k, val)
		if n > room {
			c.tooBig = true
			break
		}
		t.ReplaceOrInsert(mkey(k), val)
	}
	err = it.Error()
	if cerr := it.Close(); err == nil {
		err = cerr
	}
	if err != nil || c.tooBig {
		return err
	}
	c.tree, c.bytes = t, n
	sv.used += n
	c.snap.Store(t.Clone())
	return nil
}

// newEntry copies key and val into one allocation; the key is a string
// over its first bytes.
func newEntry(key, val []byte) (string, []byte) {
	buf := make([]byte, len(key)+len(val))
	copy(buf, key)
	copy(buf[len(key):], val)
	return unsafe.String(&buf[0], len(key)), buf[len(key):len(buf):len(buf)]
}

func entrySize(k string, v []byte) int64 {
	return int64(len(k)+len(v)) + serveEntryOverhead
}

// serveOp is a change a Batch records for a served relation: a Set (key,
// val), a Delete (key, del) or a DeleteRange ([key, hi), del).
type serveOp struct {
	c   *served
	key string
	val []byte
	hi  []byte
	del bool
	rng bool
}

// noteSet records a Set of key when it belongs to an indexed relation.
func (b *Batch) noteSet(key, val []byte) {
	c := b.db.serve.candidate(key)
	if c == nil || c.snap.Load() == nil {
		return
	}
	k, v := newEntry(key, val)
	b.serve = append(b.serve, serveOp{c: c, key: k, val: v})
}

func (b *Batch) noteDelete(key []byte) {
	c := b.db.serve.candidate(key)
	if c == nil || c.snap.Load() == nil {
		return
	}
	b.serve = append(b.serve, serveOp{c: c, key: string(key), del: true})
}

// noteDeleteRange records the deletion of [lower, upper) for every indexed
// relation it overlaps (hi nil: to the relation's end).
func (b *Batch) noteDeleteRange(lower, upper []byte) {
	m := b.db.serve.rels.Load()
	if m == nil {
		return
	}
	for _, c := range *m {
		if c.snap.Load() == nil {
			continue
		}
		lo, hi := RelationSpan(c.rel)
		if bytes.Compare(upper, lo) <= 0 || bytes.Compare(lower, hi) >= 0 {
			continue
		}
		if bytes.Compare(lower, lo) > 0 {
			lo = lower
		}
		if bytes.Compare(upper, hi) < 0 {
			hi = bytes.Clone(upper)
		} else {
			hi = nil
		}
		b.serve = append(b.serve, serveOp{c: c, key: string(lo), hi: hi, del: true, rng: true})
	}
}

// applyServeLocked applies a committed batch's recorded changes to the
// indexes and publishes them (serving.mu held).
func (sv *serving) applyServeLocked(ops []serveOp) {
	var touched []*served
	var changed map[*served][]string // keys changed, of indexes with a prefix index
	note := func(c *served, k string) {
		if c.px.Load() == nil {
			return
		}
		if changed == nil {
			changed = map[*served][]string{}
		}
		changed[c] = append(changed[c], k)
	}
	for _, op := range ops {
		c := op.c
		if c.tree == nil {
			continue // dropped meanwhile
		}
		if len(touched) == 0 || touched[len(touched)-1] != c {
			if !containsServed(touched, c) {
				touched = append(touched, c)
			}
		}
		switch {
		case op.rng:
			stop := btreemap.Max[skey]()
			if op.hi != nil {
				stop = btreemap.LT(bkey(op.hi))
			}
			var keys []skey
			c.tree.AscendFunc(btreemap.GE(mkey(op.key)), stop, func(k skey, _ []byte) bool {
				keys = append(keys, k)
				return true
			})
			for _, k := range keys {
				if _, v, ok := c.tree.Delete(k); ok {
					c.bytes -= entrySize(k.s, v)
					sv.used -= entrySize(k.s, v)
					note(c, k.s)
				}
			}
		case op.del:
			if k, v, ok := c.tree.Delete(mkey(op.key)); ok {
				c.bytes -= entrySize(k.s, v)
				sv.used -= entrySize(k.s, v)
				note(c, k.s)
			}
		default:
			note(c, op.key)
			n := entrySize(op.key, op.val)
			if k, v, ok := c.tree.ReplaceOrInsert(mkey(op.key), op.val); ok {
				n -= entrySize(k.s, v)
			}
			c.bytes += n
			sv.used += n
		}
	}
	for c, keys := range changed {
		sv.applyPrefixLocked(c, keys)
	}
	budget := sv.budgetLocked()
	for _, c := range touched {
		if c.tree == nil {
			continue
		}
		if sv.used > budget {
			// Grown past the budget: read from pebble from now on.
			sv.dropLocked(c)
			c.tooBig = true
			continue
		}
		c.snap.Store(c.tree.Clone())
	}
}

// dropServeLocked drops the indexes ops touch: after a failed commit, which
// may or may not have applied.
func (sv *serving) dropServeLocked(ops []serveOp) {
	for _, op := range ops {
		if op.c.tree != nil {
			sv.dropLocked(op.c)
		}
	}
}

func containsServed(cs []*served, c *served) bool {
	for _, x := range cs {
		if x == c {
			return true
		}
	}
	return false
}

// servedScan is Scan over an index tree: [lower, upper) must lie within
// the tree's relation.
func servedScan(c *served, t *serveTree, lower, upper []byte, reverse bool, fn func(key, val []byte) (bool, error)) error {
	var err error
	yield := func(k skey, v []byte) bool {
		more, ferr := fn(unsafe.Slice(unsafe.StringData(k.s), len(k.s)), v)
		if ferr != nil {
			err = ferr
			return false
		}
		return more
	}
	lo := bkey(lower)
	if rel, _ := relOf(upper); rel != c.rel {
		// The relation's end (servedSpan): the tree holds nothing after.
		if reverse {
			t.DescendFunc(btreemap.Max[skey](), btreemap.GE(lo), yield)
		} else {
			t.AscendFunc(btreemap.GE(lo), btreemap.Max[skey](), yield)
		}
		return err
	}
	hi := bkey(upper)
	if reverse {
		t.DescendFunc(btreemap.LT(hi), btreemap.GE(lo), yield)
	} else {
		t.AscendFunc(btreemap.GE(lo), btreemap.LT(hi), yield)
	}
	return err
}

// servedSpan reports whether [lower, upper) lies within c's relation
// (lower does: c is its candidate), upper being at most the relation's end.
func servedSpan(c *served, lower, upper []byte) bool {
	rel, ok := relOf(upper)
	if !ok {
		return false
	}
	return rel == c.rel || (rel == c.rel+1 && len(upper) == 9)
}

// serveGet looks key up in an index; ok=false means the DB must read
// pebble (the relation is not indexed).
func (db *DB) serveGet(key []byte) (val []byte, found, ok bool) {
	c, t := db.serve.indexed(key)
	if t == nil {
		return nil, false, false
	}
	if val, found, ok := c.prefixGet(&db.serve, key); ok {
		return val, found, true
	}
	_, v, found := t.Get(bkey(key))
	return v, found, true
}

// A prefix index is a hash index over an indexed relation's keys, grouped
// by their first l bytes: the lookups that point queries make (a Get of a
// key of l bytes, a Scan of [p, PrefixEnd(p)) for a p of l bytes) become
// one hash probe instead of a B-tree search, which misses the CPU caches
// at every level. l is learned from the lookups (the first length asked
// for); the index is built between epochs like the tree (BuildServed) and
// changed at commit with it.
//
// Its groups are immutable, replaced when they change; the map is read
// under mu's read lock (a probe) and changed under its write lock, all of
// one commit's groups at once, so a reader sees each commit whole.
type prefixIndex struct {
	l  int
	mu sync.RWMutex
	m  map[pkey]pslot
}

// pkey is a prefix, zero-padded: inline in the map's slots, so that a
// probe compares without reading another cache line. Lookups of longer
// prefixes use the tree.
type pkey [maxPrefix]byte

const maxPrefix = 32

func mkp[B []byte | string](p B) (k pkey) {
	copy(k[:], p)
	return k
}

// pslot is the entries whose keys start with one prefix, in key order:
// the first inline in the map's slot (most groups have one entry: a probe
// then reads no other memory than the slot and the entry's bytes), the
// others in rest.
type pslot struct {
	key  string
	val  []byte
	rest *pgroup
}

// pgroup is a group's entries after its first.
type pgroup struct {
	keys []string
	vals [][]byte
}

func mkslot(keys []string, vals [][]byte) pslot {
	sl := pslot{key: keys[0], val: vals[0]}
	if len(keys) > 1 {
		sl.rest = &pgroup{keys: keys[1:], vals: vals[1:]}
	}
	return sl
}

func (sl *pslot) n() int {
	if sl.rest == nil {
		return 1
	}
	return 1 + len(sl.rest.keys)
}

func (sl *pslot) entry(i int) (string, []byte) {
	if i == 0 {
		return sl.key, sl.val
	}
	return sl.rest.keys[i-1], sl.rest.vals[i-1]
}

// pgroupOverhead is what a group costs beside its entries: the map's
// slot (pkey and pslot, 80 bytes, and the table's spare room), and rest's
// header.
const pgroupOverhead = 128

// pentryOverhead is what an entry costs in a group (its key and value
// headers; the bytes are the tree's).
const pentryOverhead = 40

func (sl *pslot) size() int64 {
	return pgroupOverhead + pentryOverhead*int64(sl.n())
}

// wantPrefix notes a lookup by a prefix of n bytes.
func (c *served) wantPrefix(sv *serving, n int) {
	// A lookup of the whole relation (9 bytes) is a scan, not a probe.
	if n > 9 && c.wantL.Load() == 0 {
		c.wantL.Store(int32(n))
		sv.anyWanted.Store(true)
	}
}

// buildPrefixLocked builds c's prefix index for the lookup length asked
// for (serving.mu held, c indexed).
func (sv *serving) buildPrefixLocked(c *served) {
	l := int(c.wantL.Load())
	if l <= 9 || l > maxPrefix || c.px.Load() != nil || c.pxTooBig {
		return
	}
	room := sv.budgetLocked() - sv.used
	px := &prefixIndex{l: l, m: map[pkey]pslot{}}
	var n int64
	var keys []string
	var vals [][]byte
	var curPrefix string
	end := func() {
		if len(keys) > 0 {
			sl := mkslot(keys, vals)
			px.m[mkp(curPrefix)] = sl
			n += sl.size()
		}
		keys, vals = nil, nil
	}
	c.tree.AscendFunc(btreemap.Min[skey](), btreemap.Max[skey](), func(k skey, v []byte) bool {
		if len(k.s) < l {
			return true
		}
		if len(keys) == 0 || k.s[:l] != curPrefix {
			end()
			curPrefix = k.s[:l]
		}
		keys = append(keys, k.s)
		vals = append(vals, v)
		return n <= room
	})
	end()
	if n > room {
		c.pxTooBig = true
		return
	}
	c.pxBytes = n
	sv.used += n
	c.px.Store(px)
}

// dropPrefixLocked removes c's prefix index.
func (sv *serving) dropPrefixLocked(c *served) {
	c.px.Store(nil)
	sv.used -= c.pxBytes
	c.pxBytes = 0
}

// applyPrefixLocked brings c's prefix index up to date with its tree for
// the keys a commit changed (serving.mu held).
func (sv *serving) applyPrefixLocked(c *served, changed []string) {
	px := c.px.Load()
	if px == nil {
		return
	}
	type upd struct {
		prefix pkey
		sl     pslot
		gone   bool
	}
	var upds []upd
	seen := map[string]bool{}
	for _, k := range changed {
		if len(k) < px.l || seen[k[:px.l]] {
			continue
		}
		p := k[:px.l]
		seen[p] = true
		var keys []string
		var vals [][]byte
		stop := btreemap.Max[skey]()
		if end := PrefixEnd([]byte(p)); end != nil {
			stop = btreemap.LT(mkey(string(end)))
		}
		c.tree.AscendFunc(btreemap.GE(mkey(p)), stop, func(k skey, v []byte) bool {
			keys = append(keys, k.s)
			vals = append(vals, v)
			return true
		})
		if len(keys) == 0 {
			upds = append(upds, upd{prefix: mkp(p), gone: true})
			continue
		}
		upds = append(upds, upd{prefix: mkp(p), sl: mkslot(keys, vals)})
	}
	px.mu.Lock()
	for _, u := range upds {
		if old, ok := px.m[u.prefix]; ok {
			c.pxBytes -= old.size()
			sv.used -= old.size()
		}
		if u.gone {
			delete(px.m, u.prefix)
			continue
		}
		px.m[u.prefix] = u.sl
		c.pxBytes += u.sl.size()
		sv.used += u.sl.size()
	}
	px.mu.Unlock()
}

// group returns the group of prefix p (len(p) == px.l).
func (px *prefixIndex) group(p []byte) (pslot, bool) {
	px.mu.RLock()
	sl, ok := px.m[mkp(p)]
	px.mu.RUnlock()
	return sl, ok
}

// isPrefixEnd reports whether upper is PrefixEnd(p).
func isPrefixEnd(upper, p []byte) bool {
	i := len(p) - 1
	for i >= 0 && p[i] == 0xff {
		i--
	}
	if i < 0 || len(upper) != i+1 || upper[i] != p[i]+1 {
		return false
	}
	return bytes.Equal(upper[:i], p[:i])
}

// prefixScan answers a Scan of [p, PrefixEnd(p)) from a prefix index;
// ok=false when it cannot.
func (c *served) prefixScan(sv *serving, lower, upper []byte, reverse bool, fn func(key, val []byte) (bool, error)) (ok bool, err error) {
	if !isPrefixEnd(upper, lower) {
		return false, nil
	}
	px := c.px.Load()
	if px == nil || px.l != len(lower) {
		c.wantPrefix(sv, len(lower))
		return false, nil
	}
	sl, found := px.group(lower)
	if !found {
		return true, nil
	}
	n := sl.n()
	for i := range n {
		j := i
		if reverse {
			j = n - 1 - i
		}
		k, v := sl.entry(j)
		more, err := fn(unsafe.Slice(unsafe.StringData(k), len(k)), v)
		if err != nil || !more {
			return true, err
		}
	}
	return true, nil
}

// prefixGet answers a Get of key from a prefix index; ok=false when it
// cannot.
func (c *served) prefixGet(sv *serving, key []byte) (val []byte, found, ok bool) {
	px := c.px.Load()
	if px == nil || px.l != len(key) {
		c.wantPrefix(sv, len(key))
		return nil, false, false
	}
	sl, ok := px.group(key)
	// A key of the prefix's length sorts first in its group.
	if !ok || sl.key != string(key) {
		return nil, false, true
	}
	return sl.val, true, true
}
