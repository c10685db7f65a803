package exec

import (
	"encoding/binary"
	"slices"

	"github.com/kappa-db/kappa/expr"
	"github.com/kappa-db/kappa/pgerr"
	"github.com/kappa-db/kappa/storage"
	"github.com/kappa-db/kappa/types"
)

// joinOp is an incremental equi-join (inner, left, right or full).
//
// A join is bilinear: Δ(A⋈B) = ΔA⋈B + A'⋈ΔB where A' already includes ΔA. So
// a delta on one side is joined with the other side's current state and then
// added to its own side's state; applying the two sides' deltas one after
// the other is exact.
//
// State, under the operator's prefix, per side (0 left, 1 right):
//
//	side joinKey rowKey → multiplicity, matches, row
//
// matches is the number of rows of the other side the row joins with
// (weighted); it is kept for the preserved side(s) of an outer join, so that
// the NULL-extended row is retracted when a row gains its first match and
// restored when it loses its last. Rows whose join key has a NULL never match
// and are not stored.
//
// In an ad hoc query (ephemeral) the operator buffers both inputs and joins
// them at the barrier with a hash table: the query is one epoch, and this
// way it never emits retractions.
type joinOp struct {
	spec   *Join
	prefix []byte
	// filters holds per side (not append-only) every row key stored there
	// (and perhaps some more), as aggOp.filter: a +1 of a row the filter
	// does not hold skips the read of its multiplicity. A filter is built
	// or resized only in an epoch that has deleted nothing yet (deleted),
	// so a retried epoch cannot leave a stored row's key out of it.
	filters    [2]keyFilterSlot
	deleted    bool
	leftWidth  int
	rightWidth int
	preserve   [2]bool
	out        Batch
	buf        [2]Batch // ephemeral: buffered inputs
	// keyOrder is the order in which the key columns are encoded: a key
	// pair with a watermark on both sides comes first, so the rows of the
	// windows the watermarks closed are a prefix of each side's state
	// (closeWM bounds that pair; nil: no such pair).
	keyOrder  []int
	closeWM   *colWatermark
	closeKind types.Kind
	// interval, when the condition bounds the sides' times against each
	// other over columns with watermarks, is what lets the join forget
	// rows no partner to come can join (intervaljoin.go).
	interval *intervalState
	// appendOnly[side]: that input only ever inserts (AppendOnly). Its
	// rows are then stored without reading their key first, each under a
	// sequence number of its own (seq, kept at seqKey, loaded once per
	// epoch) instead of the row's key with a multiplicity: a duplicate row
	// is two entries, which joins the same as one of multiplicity two.
	appendOnly [2]bool
	seq        uint64
	seqLoaded  bool
	seqDirty   bool
	// known[side] is, within the running epoch, every join key side's
	// state holds, when it is small: a probe of a key it lacks reads
	// nothing (Nexmark q7 probes its few windows' maxima once per bid).
	known  [2]knownKeys
	epochs int
	// lookup is the side that is a lookup table for the other
	// (Join.Lookup), or -1. Its rows are stored under side | key alone
	// (one row a key, never retracted); the other side's rows are stored
	// only while the lookup side has no row of their key, and deleted
	// when it comes (applyLookup). found holds, within the epoch, the
	// lookup side's rows by join key as read or stored (ok false: none).
	lookup int
	found  map[string]lookupRow
	// memo[side] holds, within the epoch, side's stored rows by join key
	// as partners read them, for an inner join without a lookup side
	// whose side is not kept by time bucket (memoOK): a key probed by
	// many rows of the other side in one epoch (Nexmark q5's window
	// maxima, probed by every changed count of their window) is scanned
	// once. store drops the key's entry; memoRows bounds the total.
	memo     [2]map[string][]joinEntry
	memoRows int
	// Output rows are cut from chunks of joinRowChunk rows (free is
	// what is left of the current one). When reuse (the parent is a
	// projection, which copies what it keeps and keeps no row), a view's
	// apply starts again from the first of the chunks it kept (slabs,
	// next): no allocation per joined row.
	reuse bool
	free  []types.Value
	slabs [][]types.Value
	next  int
}

// joinRowChunk is the rows of one chunk of output rows; maxJoinSlabs the
// chunks a join reuses.
const joinRowChunk, maxJoinSlabs = 256, 16

// lookupRow is what the lookup side has for a key: ok, a row; out, the
// row fails Join.LookupFilter (its entry's matches field is 1).
type lookupRow struct {
	row     types.Row
	ok, out bool
}

// maxLookupRows bounds joinOp.found (it is emptied when full).
const maxLookupRows = 1 << 16

// maxMemoRows bounds the rows joinOp.memo holds (it is emptied when full).
const maxMemoRows = 1 << 16

// knownKeys is a side's join keys, read from its state once an epoch has
// probed it often enough to pay for the read (probes, size), and added to
// as rows are stored (a key whose rows are gone may stay: a superset only
// costs a read). Per epoch, so that a rerun epoch starts from the
// committed state again.
type knownKeys struct {
	keys   map[string]struct{}
	loaded bool
	probes int // this epoch's probes of the side
	// size is the side's rows at the last read (0: not read yet); a read
	// costs about a probe per few rows, so the side is read only once
	// the epoch's probes reach a quarter of it.
	size int
	// retryAt: a side found larger than maxKnownKeys is not read again
	// before this many epochs.
	retryAt int
}

// minKnownProbes is the probes an epoch makes of a side before it reads
// the side's keys (a variable for tests).
var minKnownProbes = 32

// maxKnownKeys bounds the rows a side may have for knownKeys (a variable
// for tests).
var maxKnownKeys = 4096

func newJoinOp(spec *Join, opID uint64) *joinOp {
	j := &joinOp{spec: spec, prefix: storage.StatePrefix(opID),
		leftWidth: len(spec.Left.Columns()), rightWidth: len(spec.Right.Columns())}
	j.preserve[0] = spec.Kind == JoinLeft || spec.Kind == JoinFull
	j.preserve[1] = spec.Kind == JoinRight || spec.Kind == JoinFull
	for i := range spec.LeftKeys {
		j.keyOrder = append(j.keyOrder, i)
	}
	l, r := columnWatermarks(spec.Left), columnWatermarks(spec.Right)
	for i := range spec.LeftKeys {
		a, b := l[spec.LeftKeys[i]], r[spec.RightKeys[i]]
		if a != nil && b != nil {
			j.closeWM = &colWatermark{in: a, other: b}
			j.closeKind = spec.Left.Columns()[spec.LeftKeys[i]].Kind
			j.keyOrder[0], j.keyOrder[i] = i, 0
			break
		}
	}
	j.interval = newIntervalState(spec)
	if j.interval != nil && (j.closeWM != nil || !spec.TimeBuckets) {
		// A window join already forgets closed windows, by its key; a
		// view of an older state layout keeps every row.
		j.interval.bucketed = [2]bool{}
	}
	j.appendOnly = [2]bool{AppendOnly(spec.Left), AppendOnly(spec.Right)}
	j.lookup = -1
	if spec.Kind == JoinInner && !spec.NullSafe {
		switch spec.Lookup {
		case LookupLeft:
			j.lookup = 0
		case LookupRight:
			j.lookup = 1
		}
	}
	return j
}

func (j *joinOp) reset() {
	j.out.Reset()
	j.buf[0].Reset()
	j.buf[1].Reset()
	j.seqLoaded, j.seqDirty = false, false
	j.deleted = false
	for i := range j.known {
		j.known[i].keys, j.known[i].loaded, j.known[i].probes = nil, false, 0
	}
	clear(j.found)
	j.clearMemo()
	j.epochs++
}

// clearMemo empties both sides' memo of partners.
func (j *joinOp) clearMemo() {
	clear(j.memo[0])
	clear(j.memo[1])
	j.memoRows = 0
}

// memoOK: side's partners may be memoized within the epoch. Only an inner
// join's probe reads its partners without changing them (an outer join
// updates their match counts, a lookup join deletes the waiting rows), and
// a side kept by time bucket is read per row, not per key.
func (j *joinOp) memoOK(side int) bool {
	return j.lookup < 0 && !j.preserve[0] && !j.preserve[1] && !j.bucketed(side)
}

// knownKeysOf returns side's join keys, or nil when they are not known
// (the side is large).
func (j *joinOp) knownKeysOf(ec *epochCtx, side int) (map[string]struct{}, error) {
	kk := &j.known[side]
	if kk.loaded || j.epochs < kk.retryAt {
		return kk.keys, nil
	}
	if kk.probes++; kk.probes < minKnownProbes || kk.probes*4 < kk.size {
		return nil, nil
	}
	kk.loaded = true
	p := append(append([]byte(nil), j.prefix...), byte(side))
	keys := map[string]struct{}{}
	n := 0
	var keyBuf []byte
	err := ec.store.Scan(p, storage.PrefixEnd(p), false, func(_, val []byte) (bool, error) {
		if n++; n > maxKnownKeys {
			keys = nil
			return false, nil
		}
		e, err := decodeJoinEntry(val)
		if err != nil {
			return false, err
		}
		if k, ok := j.joinKey(keyBuf[:0], side, e.row); ok {
			keys[string(k)] = struct{}{}
			keyBuf = k
		}
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	if keys == nil {
		kk.retryAt = j.epochs + 64
	}
	kk.keys, kk.size = keys, n
	return keys, nil
}

// UniqueOn reports whether no two rows n ever makes share their values of
// cols: a source whose connector guarantees a key within cols (Scan.Unique,
// never NULL) through filters and projections that pass the key's columns
// on. Such an input is append-only.
func UniqueOn(n Node, cols []int) bool {
	switch x := n.(type) {
	case *Scan:
		if x.Kind != ScanSource || len(x.Unique) == 0 {
			return false
		}
		for _, c := range x.Unique {
			if !slices.Contains(cols, c) {
				return false
			}
		}
		return true
	case *Filter:
		return UniqueOn(x.Input, cols)
	case *Project:
		var in []int
		for _, c := range cols {
			if c < 0 || c >= len(x.Exprs) {
				return false
			}
			if r, ok := x.Exprs[c].(*expr.ColRef); ok {
				in = append(in, r.Idx)
			}
		}
		return UniqueOn(x.Input, in)
	}
	return false
}

// AppendOnly reports whether n only ever inserts: it reads sources
// (append-only by definition) through operators that turn insertions into
// insertions. Tables can be updated, and aggregates and outer joins
// retract, so anything else is not.
func AppendOnly(n Node) bool {
	switch x := n.(type) {
	case *Scan:
		return x.Kind == ScanSource
	case *Filter:
		return AppendOnly(x.Input)
	case *Project:
		return AppendOnly(x.Input)
	case *TimeWindow:
		return AppendOnly(x.Input)
	case *Union:
		return AppendOnly(x.Left) && AppendOnly(x.Right)
	case *Join:
		return x.Kind == JoinInner && AppendOnly(x.Left) && AppendOnly(x.Right)
	}
	return false
}

func (j *joinOp) keys(side int) []int {
	if side == 0 {
		return j.spec.LeftKeys
	}
	return j.spec.RightKeys
}

// joinKey encodes row's join key, or reports that it has a NULL.
func (j *joinOp) joinKey(dst []byte, side int, row types.Row) ([]byte, bool) {
	keys := j.keys(side)
	for _, i := range j.keyOrder {
		c := keys[i]
		if row[c].IsNull() && !j.spec.NullSafe {
			return dst, false
		}
		dst = types.AppendKey(dst, row[c], false)
	}
	return dst, true
}

// concat builds the output row of a left and a right row (either may be nil
// for NULL extension).
func (j *joinOp) concat(l, r types.Row) types.Row {
	n := j.leftWidth + j.rightWidth
	if len(j.free) < n {
		switch {
		case j.reuse && j.next < len(j.slabs):
			j.free = j.slabs[j.next]
			j.next++
		default:
			j.free = make([]types.Value, n*joinRowChunk)
			if j.reuse && len(j.slabs) < maxJoinSlabs {
				j.slabs = append(j.slabs, j.free)
				j.next++
			}
		}
	}
	row := types.Row(j.free[:n:n])
	j.free = j.free[n:]
	if l == nil || r == nil {
		clear(row)
	}
	copy(row, l)
	copy(row[j.leftWidth:], r)
	return row
}

// reuseRows lets an apply's output rows take the place of the last
// apply's (the parent is done with them).
func (j *joinOp) reuseRows() {
	if j.reuse {
		j.free, j.next = nil, 0
	}
}

func (j *joinOp) pair(side int, x, y types.Row) types.Row {
	if side == 0 {
		return j.concat(x, y)
	}
	return j.concat(y, x)
}

func (j *joinOp) nullExtended(side int, x types.Row) types.Row {
	if side == 0 {
		return j.concat(x, nil)
	}
	return j.concat(nil, x)
}

// residual evaluates the ON condition's non-equality part on a joined row.
func (j *joinOp) residual(ec *epochCtx, row types.Row, w int64) (bool, error) {
	if j.spec.On == nil {
		return true, nil
	}
	v, err := j.spec.On.Eval(ec.eval, row)
	if err != nil {
		return false, ec.rowError(err, w)
	}
	return v.Bool(), nil
}

func (j *joinOp) apply(ec *epochCtx, side int, in *Batch) (*Batch, error) {
	if ec.ephemeral {
		if err := ec.holdBatch(in); err != nil {
			return nil, err
		}
		for i, r := range in.Rows {
			j.buf[side].Add(r, in.W[i])
		}
		return nil, nil
	}
	j.out.Reset()
	j.reuseRows()
	var keyBuf []byte
	for i, x := range in.Rows {
		w := in.W[i]
		var ok bool
		keyBuf, ok = j.joinKey(keyBuf[:0], side, x)
		if !ok {
			if j.preserve[side] {
				j.out.Add(j.nullExtended(side, x), w)
			}
			continue
		}
		if j.lookup >= 0 {
			if err := j.applyLookup(ec, side, keyBuf, x, w); err != nil {
				return nil, err
			}
			continue
		}
		matches, err := j.probe(ec, side, keyBuf, x, w)
		if err != nil {
			return nil, err
		}
		if j.preserve[side] && matches == 0 {
			j.out.Add(j.nullExtended(side, x), w)
		}
		if err := j.store(ec, side, keyBuf, x, w, matches); err != nil {
			return nil, err
		}
	}
	return &j.out, nil
}

type joinEntry struct {
	key     []byte
	mult    int64
	matches int64
	row     types.Row
}

// rowPrefix is where side's rows of join key key are, for a row x of
// that side: side | key, or side | bucket | key on a side kept by time
// bucket.
func (j *joinOp) rowPrefix(side int, key []byte, x types.Row) []byte {
	p := make([]byte, 0, len(j.prefix)+1+8+len(key)+32)
	p = append(p, j.prefix...)
	p = append(p, byte(side))
	if j.bucketed(side) {
		p = timeKey(p, j.interval.rowBucket(side, x))
	}
	return append(p, key...)
}

// probe joins (x, w) from side with the other side's stored rows of the same
// key, emits the pairs, updates the other side's match counts (and their
// NULL extensions), and returns how many rows x matches.
func (j *joinOp) probe(ec *epochCtx, side int, key []byte, x types.Row, w int64) (int64, error) {
	other := 1 - side
	entries, err := j.partners(ec, other, key, x)
	if err != nil {
		return 0, err
	}
	var matches int64
	for _, e := range entries {
		if side == j.lookup {
			// x is these rows' partner, the only one they will have:
			// joined now, they wait no more.
			j.deleted = true
			if err := ec.store.Delete(e.key); err != nil {
				return 0, err
			}
		}
		row := j.pair(side, x, e.row)
		ok, err := j.residual(ec, row, w*e.mult)
		if err != nil {
			return 0, err
		}
		if !ok {
			continue
		}
		j.out.Add(row, w*e.mult)
		matches += e.mult
		if j.preserve[other] {
			old := e.matches
			e.matches += w
			switch {
			case old == 0 && e.matches != 0:
				j.out.Add(j.nullExtended(other, e.row), -e.mult)
			case old != 0 && e.matches == 0:
				j.out.Add(j.nullExtended(other, e.row), e.mult)
			}
			if err := ec.store.Set(e.key, encodeJoinEntry(e)); err != nil {
				return 0, err
			}
		}
	}
	return matches, nil
}

// applyLookup applies (x, w) of side to a join with a lookup side. A row
// of the lookup side joins the other side's rows that came before it and
// deletes them (no other partner of theirs is to come), then is stored. A
// row of the other side joins its partner if the lookup side has it, and
// is then not stored (no partner is to come; a retraction of it finds the
// partner too); else it waits in the state for its partner.
func (j *joinOp) applyLookup(ec *epochCtx, side int, key []byte, x types.Row, w int64) error {
	if side == j.lookup {
		if w != 1 {
			return pgerr.New(pgerr.InternalError, "join state: a row of weight %d on a unique lookup side", w)
		}
		r := lookupRow{row: x, ok: true}
		if f := j.spec.LookupFilter; f != nil {
			v, err := f.Eval(ec.eval, x)
			if err != nil {
				if err := ec.rowError(err, w); err != nil {
					return err
				}
			}
			r.out = err != nil || !v.Bool()
		}
		if r.out {
			// The rows waiting for this key will join nothing.
			if err := j.forgetWaiting(ec, key, x); err != nil {
				return err
			}
		} else if _, err := j.probe(ec, side, key, x, w); err != nil {
			return err
		}
		if kk := &j.known[side]; kk.keys != nil {
			kk.keys[string(key)] = struct{}{}
		}
		j.remember(key, r)
		e := joinEntry{mult: 1, row: x}
		if r.out {
			e.matches = 1
		}
		return ec.store.Set(j.rowPrefix(side, key, x), encodeJoinEntry(e))
	}
	p, err := j.lookupPartner(ec, key, x)
	if err != nil {
		return err
	}
	if !p.ok {
		return j.store(ec, side, key, x, w, 0)
	}
	if p.out {
		return nil
	}
	row := j.pair(side, x, p.row)
	ok, err := j.residual(ec, row, w)
	if err != nil || !ok {
		return err
	}
	j.out.Add(row, w)
	return nil
}

// lookupPartner reads the lookup side's row of join key key, for x of
// the other side (which, when the lookup side is kept by time bucket,
// says which buckets to read).
func (j *joinOp) lookupPartner(ec *epochCtx, key []byte, x types.Row) (lookupRow, error) {
	if r, ok := j.found[string(key)]; ok {
		return r, nil
	}
	var r lookupRow
	if j.bucketed(j.lookup) {
		// A row outside x's partner buckets is not looked for, so that
		// none is no answer for the key's other rows: not remembered.
		err := j.scanBuckets(ec, j.lookup, key, x, func(_, val []byte) (bool, error) {
			e, err := decodeJoinEntry(val)
			r = lookupRow{row: e.row, ok: err == nil, out: e.matches != 0}
			return false, err
		})
		if err == nil && r.ok {
			j.remember(key, r)
		}
		return r, err
	}
	val, ok, err := ec.store.Get(j.rowPrefix(j.lookup, key, nil))
	if err != nil {
		return r, err
	}
	if ok {
		e, err := decodeJoinEntry(val)
		if err != nil {
			return r, err
		}
		r = lookupRow{row: e.row, ok: true, out: e.matches != 0}
	}
	j.remember(key, r)
	return r, nil
}

// forgetWaiting deletes the other side's rows of key that wait for the
// lookup side's row x, which fails the lookup filter.
func (j *joinOp) forgetWaiting(ec *epochCtx, key []byte, x types.Row) error {
	entries, err := j.partners(ec, 1-j.lookup, key, x)
	if err != nil {
		return err
	}
	for _, e := range entries {
		j.deleted = true
		if err := ec.store.Delete(e.key); err != nil {
			return err
		}
	}
	return nil
}

func (j *joinOp) remember(key []byte, r lookupRow) {
	if j.found == nil {
		j.found = make(map[string]lookupRow)
	} else if len(j.found) >= maxLookupRows {
		clear(j.found)
	}
	j.found[string(key)] = r
}

// partners reads the rows of side other with join key key that can join
// x (a row of the other side).
func (j *joinOp) partners(ec *epochCtx, other int, key []byte, x types.Row) ([]joinEntry, error) {
	known, err := j.knownKeysOf(ec, other)
	if err != nil {
		return nil, err
	}
	if known != nil {
		if _, ok := known[string(key)]; !ok {
			return nil, nil
		}
	}
	memo := j.memoOK(other)
	if memo {
		if m, ok := j.memo[other][string(key)]; ok {
			return m, nil
		}
	}
	var entries []joinEntry
	collect := func(k, val []byte) (bool, error) {
		e, err := decodeJoinEntry(val)
		if err != nil {
			return false, err
		}
		e.key = append([]byte(nil), k...)
		entries = append(entries, e)
		return true, nil
	}
	if !j.bucketed(other) {
		p := j.rowPrefix(other, key, nil)
		if err := ec.store.Scan(p, storage.PrefixEnd(p), false, collect); err != nil {
			return nil, err
		}
	} else if err := j.scanBuckets(ec, other, key, x, collect); err != nil {
		return nil, err
	}
	if memo {
		if j.memoRows+len(entries)+1 > maxMemoRows {
			j.clearMemo()
		}
		if j.memo[other] == nil {
			j.memo[other] = make(map[string][]joinEntry)
		}
		j.memo[other][string(key)] = entries
		j.memoRows += len(entries) + 1
	}
	return entries, nil
}

// store adds (x, w) to side's state.
func (j *joinOp) store(ec *epochCtx, side int, key []byte, x types.Row, w, matches int64) error {
	if j.memo[side] != nil {
		delete(j.memo[side], string(key))
	}
	k := j.rowPrefix(side, key, x)
	e := joinEntry{matches: matches, row: x}
	if kk := &j.known[side]; kk.keys != nil && w > 0 {
		kk.keys[string(key)] = struct{}{}
	}
	if j.appendOnly[side] {
		if w < 0 {
			return pgerr.New(pgerr.InternalError, "join state: a retraction on an append-only input")
		}
		seq, err := j.nextSeq(ec)
		if err != nil {
			return err
		}
		k = binary.BigEndian.AppendUint64(k, seq)
		e.mult = w
		return ec.store.Set(k, encodeJoinEntry(e))
	}
	for _, v := range x {
		k = types.AppendKey(k, v, false)
	}
	f, err := j.rowFilter(ec, side)
	if err != nil {
		return err
	}
	var old []byte
	ok := false
	if f == nil || w < 0 || f.has(k[len(j.prefix)+1:]) {
		if old, ok, err = ec.store.Get(k); err != nil {
			return err
		}
	}
	if ok {
		prev, err := decodeJoinEntry(old)
		if err != nil {
			return err
		}
		e.mult = prev.mult
	}
	e.mult += w
	switch {
	case e.mult == 0:
		j.deleted = true
		return ec.store.Delete(k)
	case e.mult < 0:
		return pgerr.New(pgerr.InternalError, "join state: row multiplicity went negative")
	}
	if f != nil && !ok {
		f.add(string(k[len(j.prefix)+1:]))
	}
	return ec.store.Set(k, encodeJoinEntry(e))
}

// rowFilter returns side's key filter (nil: none, read every row's
// multiplicity), building or resizing it when the epoch has deleted nothing.
func (j *joinOp) rowFilter(ec *epochCtx, side int) (*keyFilter, error) {
	if j.appendOnly[side] {
		return nil, nil
	}
	return j.filters[side].get(ec.store, j.prefix, byte(side), !j.deleted)
}

// seqKey holds the next sequence number of an append-only side's rows.
func (j *joinOp) seqKey() []byte {
	return append(append([]byte(nil), j.prefix...), 4)
}

// nextSeq numbers a row of an append-only side. The counter is read once
// per epoch and written back at the barrier (saveSeq).
func (j *joinOp) nextSeq(ec *epochCtx) (uint64, error) {
	if !j.seqLoaded {
		val, ok, err := ec.store.Get(j.seqKey())
		if err != nil {
			return 0, err
		}
		j.seq = 0
		if ok {
			j.seq, _ = binary.Uvarint(val)
		}
		j.seqLoaded = true
	}
	j.seqDirty = true
	j.seq++
	return j.seq - 1, nil
}

func (j *joinOp) saveSeq(ec *epochCtx) error {
	if !j.seqDirty {
		return nil
	}
	j.seqDirty = false
	return ec.store.Set(j.seqKey(), binary.AppendUvarint(nil, j.seq))
}

func encodeJoinEntry(e joinEntry) []byte {
	b := binary.AppendVarint(nil, e.mult)
	b = binary.AppendVarint(b, e.matches)
	return types.AppendRow(b, e.row)
}

func decodeJoinEntry(val []byte) (joinEntry, error) {
	var e joinEntry
	var n int
	if e.mult, n = binary.Varint(val); n <= 0 {
		return e, pgerr.New(pgerr.DataCorrupted, "corrupt join state")
	}
	val = val[n:]
	if e.matches, n = binary.Varint(val); n <= 0 {
		return e, pgerr.New(pgerr.DataCorrupted, "corrupt join state")
	}
	row, _, err := types.DecodeRow(val[n:], nil)
	e.row = row
	return e, err
}

// flush, in an ad hoc query, joins the buffered inputs: a hash join on the
// right side's keys, emitted in chunks so that a large result streams.
func (j *joinOp) flush(ec *epochCtx, emit func(*Batch) error) error {
	if !ec.ephemeral {
		if err := j.saveSeq(ec); err != nil {
			return err
		}
		if err := j.closeWindows(ec); err != nil {
			return err
		}
		return j.closeInterval(ec)
	}
	const chunk = 1024
	// The rows of one chunk may be kept above (an ad hoc query's root
	// keeps its rows): none is reused.
	j.reuse, j.free, j.slabs = false, nil, nil
	if err := j.filterLookupRows(ec); err != nil {
		return err
	}
	out := &Batch{}
	send := func() error {
		if out.Len() == 0 {
			return nil
		}
		err := emit(out)
		out = &Batch{}
		return err
	}
	right := &j.buf[1]
	table := make(map[string][]int, right.Len())
	var key []byte
	for i, r := range right.Rows {
		var ok bool
		if key, ok = j.joinKey(key[:0], 1, r); ok {
			table[string(key)] = append(table[string(key)], i)
		}
	}
	matchedRight := make([]bool, right.Len())
	for i, l := range j.buf[0].Rows {
		w := j.buf[0].W[i]
		matched := false
		if k, ok := j.joinKey(key[:0], 0, l); ok {
			key = k
			for _, ri := range table[string(k)] {
				row := j.concat(l, right.Rows[ri])
				ok, err := j.residual(ec, row, w*right.W[ri])
				if err != nil {
					return err
				}
				if ok {
					out.Add(row, w*right.W[ri])
					matched = true
					matchedRight[ri] = true
					if out.Len() >= chunk {
						if err := send(); err != nil {
							return err
						}
					}
				}
			}
		}
		if !matched && j.preserve[0] {
			out.Add(j.concat(l, nil), w)
		}
	}
	if j.preserve[1] {
		for i, r := range right.Rows {
			if !matchedRight[i] {
				out.Add(j.concat(nil, r), right.W[i])
			}
		}
	}
	j.reset()
	return send()
}

// filterLookupRows drops, in an ad hoc query, the lookup side's buffered
// rows that fail the lookup filter (the filter the planner moved into the
// join).
func (j *joinOp) filterLookupRows(ec *epochCtx) error {
	f := j.spec.LookupFilter
	if j.lookup < 0 || f == nil {
		return nil
	}
	in := &j.buf[j.lookup]
	var kept Batch
	for i, r := range in.Rows {
		v, err := f.Eval(ec.eval, r)
		if err != nil {
			if err := ec.rowError(err, in.W[i]); err != nil {
				return err
			}
			continue
		}
		if v.Bool() {
			kept.Add(r, in.W[i])
		}
	}
	*in = kept
	return nil
}

// closeWindows deletes, on both sides, the rows whose key is below the
// watermark of the key pair that has one: no change to come on either
// side can have such a key, so they will never join or change again (a
// window join's closed windows). It runs when the watermark advanced.
func (j *joinOp) closeWindows(ec *epochCtx) error {
	if j.closeWM == nil || ec.wms == nil {
		return nil
	}
	j.clearMemo()
	wm, ok := j.closeWM.value(ec.wms)
	if !ok {
		return nil
	}
	if before, ok := j.closeWM.value(ec.wmsBefore); ok && before >= wm {
		return nil
	}
	bound := types.AppendKey(nil, types.Value{K: j.closeKind, I: wm}, false)
	for side := 0; side < 2; side++ {
		lo := append(append([]byte(nil), j.prefix...), byte(side))
		hi := append(append([]byte(nil), lo...), bound...)
		j.deleted = true
		if err := ec.store.DeleteRange(lo, hi); err != nil {
			return err
		}
	}
	return nil
}
