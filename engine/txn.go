package engine

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"slices"

	"github.com/kappa-db/kappa/catalog"
	"github.com/kappa-db/kappa/exec"
	"github.com/kappa-db/kappa/log"
	"github.com/kappa-db/kappa/pgerr"
	"github.com/kappa-db/kappa/storage"
)

// txn holds a session's uncommitted writes: those of an explicit block
// (BEGIN ... COMMIT), or of the implicit transaction that the statements of
// one simple Query message, or of the extended protocol up to Sync, form.
// Nothing reaches a log before COMMIT (or the end of the implicit
// transaction); the session reads its own writes through an overlay (an
// indexed pebble batch over the committed rows to which the buffered change
// records are applied as the table's dataflow would).
type txn struct {
	tables map[uint64]*txnTable
	order  []*txnTable // in the order of first write
	// overlay, when not nil, holds the records [0, applied) of every
	// locked table applied over the committed rows.
	overlay    *storage.Batch
	savepoints []savepoint
}

// txnTable is one table's part of a transaction.
type txnTable struct {
	t    *catalog.Object
	sink exec.TableSink
	lock *writeLock
	// held: the session holds the table's write lock exclusively.
	// locked: it holds it and synced the table (it read or checked the
	// table): bases are then the ends of the table's log partitions when
	// it did: nothing else is appended until the transaction ends, so the
	// records get offsets base, base+1, ... of their partitions (the row
	// ids of a table without a primary key derive from them). A part held
	// but not locked only took small inserts into a table with a primary
	// key (pkwrite.go); own holds their keys.
	held   bool
	locked bool
	bases  []uint64
	own    map[string]struct{}
	// parts is the number of partitions of the table's log; home is the
	// one this transaction's inserts into a table without a primary key
	// go to (exec.RoutePartition). routed counts, per partition, the
	// records of [0, applied) routed to it (partitioned tables only).
	parts, home int
	routed      []uint64
	// batches of change records, each added whole and never changed (a
	// savepoint is a count of batches).
	batches [][][]byte
	n       int // records in batches
	applied int // records applied to the overlay
}

// savepoint is a SAVEPOINT's mark: how many batches each table had.
type savepoint struct {
	name    string
	batches map[uint64][2]int // table -> batches, records
}

// records returns the records from the i-th on.
func (tt *txnTable) records(from int) [][]byte {
	var out [][]byte
	i := 0
	for _, b := range tt.batches {
		if i+len(b) <= from {
			i += len(b)
			continue
		}
		if from > i {
			b = b[from-i:]
			i = from
		}
		out = append(out, b...)
		i += len(b)
	}
	return out
}

// logBatches returns the records as log batches: small batches (one per
// statement) merged, large ones (a COPY's) kept.
func (tt *txnTable) logBatches() [][][]byte { return mergeBatches(tt.batches) }

// mergeBatches merges small batches (one per statement) into log batches
// of up to insertBatchRecords records and maxAppendBytes, keeping large
// ones (a COPY's) as they are.
func mergeBatches(batches [][][]byte) [][][]byte {
	var out [][][]byte
	var cur [][]byte
	size := 0
	flush := func() {
		if len(cur) > 0 {
			out = append(out, cur)
			cur, size = nil, 0
		}
	}
	for _, b := range batches {
		if len(b) >= insertBatchRecords/2 {
			// A COPY's full batch: kept, without summing its records.
			flush()
			out = append(out, b)
			continue
		}
		bs := 0
		for _, r := range b {
			bs += len(r)
		}
		if bs >= maxAppendBytes/2 {
			flush()
			out = append(out, b)
			continue
		}
		if len(cur)+len(b) > insertBatchRecords || size+bs > maxAppendBytes {
			flush()
		}
		cur = append(cur, b...)
		size += bs
	}
	flush()
	return out
}

func (tt *txnTable) add(batches [][][]byte) {
	for _, b := range batches {
		if len(b) > 0 {
			tt.batches = append(tt.batches, b)
			tt.n += len(b)
		}
	}
}

// txnTable returns table t's part of the session's transaction, starting
// one if needed. A part that must read the table takes the table's write
// lock (appendInserts locks for a primary key check itself).
func (s *Session) txnTable(ctx context.Context, t *catalog.Object, read bool) (*txnTable, error) {
	if s.txn == nil {
		s.txn = &txn{tables: map[uint64]*txnTable{}}
	}
	tt := s.txn.tables[t.ID]
	if tt == nil {
		tt = &txnTable{t: t, sink: exec.TableSink{Rel: t.ID, PK: t.PrimaryKey}, lock: s.e.writeLock(t.ID), parts: partitionsOf(t)}
		if tt.parts > 1 {
			tt.home = int(s.e.homeCounter.Add(1) % uint64(tt.parts))
			tt.routed = make([]uint64, tt.parts)
		}
		s.txn.tables[t.ID] = tt
		s.txn.order = append(s.txn.order, tt)
	}
	if read {
		if err := s.lockTable(ctx, tt); err != nil {
			return nil, err
		}
	}
	return tt, nil
}

// lockTable takes tt's write lock and waits until the table's stored rows
// hold everything in its log (after the small inserts in flight).
func (s *Session) lockTable(ctx context.Context, tt *txnTable) error {
	if tt.locked {
		return nil
	}
	if !tt.held {
		if err := s.e.lockExclusive(ctx, s, tt.lock, tt.t.Name); err != nil {
			return err
		}
		tt.held = true
	}
	pk := tt.lock.keys
	if err := pk.waitIdle(ctx); err != nil {
		return err
	}
	tt.locked = true
	tt.bases = make([]uint64, tt.parts)
	for p := range tt.parts {
		src := exec.PartitionSource(tt.t.ID, p)
		lg, err := s.e.tableLog(src)
		if err != nil {
			return err
		}
		tt.bases[p] = lg.End()
		if err := s.e.rt.WaitFor(ctx, tt.t.ID, src, tt.bases[p]); err != nil {
			return err
		}
	}
	pk.mu.Lock()
	defer pk.mu.Unlock()
	pk.synced = true
	return pk.checkFailed(s.e, tt)
}

// route is the partition of tt's table's log that change record rec goes to.
func (tt *txnTable) route(rec []byte) (int, error) {
	if tt.parts == 1 {
		return 0, nil
	}
	return exec.RoutePartition(rec, &tt.sink, tt.parts, tt.home)
}

// txnReader returns a reader that sees the committed rows with the
// transaction's writes to the relations in reads applied, or nil when the
// transaction wrote none of them.
func (s *Session) txnReader(ctx context.Context, reads []uint64) (storage.Reader, error) {
	x := s.txn
	if x == nil {
		return nil, nil
	}
	need := false
	for _, id := range reads {
		if tt := x.tables[id]; tt != nil {
			if err := s.lockTable(ctx, tt); err != nil {
				return nil, err
			}
			need = true
		}
	}
	if !need {
		return nil, nil
	}
	return s.overlay()
}

// queryReader returns what a statement reading the relations reads sees:
// the transaction's overlay when the transaction wrote one of them, else a
// snapshot, so that several scans read one point in time, or, for a single
// scan (consistent by itself), the store. release closes what it opened.
func (s *Session) queryReader(ctx context.Context, reads []uint64, singleScan bool) (r storage.Reader, release func(), err error) {
	ov, err := s.txnReader(ctx, reads)
	switch {
	case err != nil:
		return nil, nil, err
	case ov != nil:
		return ov, func() {}, nil
	case singleScan:
		return s.e.db, func() {}, nil
	}
	snap := s.e.db.NewSnapshot()
	return snap, func() { snap.Close() }, nil
}

// overlay brings the transaction's overlay up to date and returns it.
func (s *Session) overlay() (*storage.Batch, error) {
	x := s.txn
	if x.overlay == nil {
		x.overlay = s.e.db.NewBatch()
	}
	for _, tt := range x.order {
		if !tt.locked || tt.applied == tt.n {
			continue
		}
		if err := tt.applyOverlay(x.overlay); err != nil {
			return nil, err
		}
		tt.applied = tt.n
	}
	return x.overlay, nil
}

// applyOverlay applies tt's records from applied on to the overlay, with
// the row ids the table's dataflow will give them: from their offsets in
// the partitions they go to.
func (tt *txnTable) applyOverlay(ov *storage.Batch) error {
	recs := tt.records(tt.applied)
	if tt.parts == 1 {
		return exec.ApplyTableChanges(ov, &tt.sink, tt.bases[0]+uint64(tt.applied), recs)
	}
	// Runs of records that go to one partition, one call each.
	for len(recs) > 0 {
		p, err := tt.route(recs[0])
		if err != nil {
			return err
		}
		n := 1
		for n < len(recs) {
			q, err := tt.route(recs[n])
			if err != nil {
				return err
			}
			if q != p {
				break
			}
			n++
		}
		first := exec.PartitionRowID(exec.PartitionSource(tt.t.ID, p), tt.bases[p]+tt.routed[p]) - 1
		if err := exec.ApplyTableChanges(ov, &tt.sink, first, recs[:n]); err != nil {
			return err
		}
		tt.routed[p] += uint64(n)
		recs = recs[n:]
	}
	return nil
}

// reader returns what a statement of the session reads table t through:
// the overlay when the transaction wrote t, else the store.
func (s *Session) reader(tt *txnTable) (storage.Reader, error) {
	if tt.n == 0 {
		return s.e.db, nil
	}
	return s.overlay()
}

// endTxn releases the transaction's locks and overlay.
func (s *Session) endTxn() {
	x := s.txn
	s.txn = nil
	if x == nil {
		return
	}
	if x.overlay != nil {
		_ = x.overlay.Close()
	}
	for _, tt := range x.order {
		if tt.held {
			s.e.unlock(s, tt.lock)
		}
	}
}

// setSavepoint marks the transaction's buffer.
func (s *Session) setSavepoint(name string) {
	if s.txn == nil {
		s.txn = &txn{tables: map[uint64]*txnTable{}}
	}
	sp := savepoint{name: name, batches: map[uint64][2]int{}}
	for _, tt := range s.txn.order {
		sp.batches[tt.t.ID] = [2]int{len(tt.batches), tt.n}
	}
	s.txn.savepoints = append(s.txn.savepoints, sp)
}

// findSavepoint returns the index of the newest savepoint named name.
func (s *Session) findSavepoint(name string) int {
	if s.txn == nil {
		return -1
	}
	for i := len(s.txn.savepoints) - 1; i >= 0; i-- {
		if s.txn.savepoints[i].name == name {
			return i
		}
	}
	return -1
}

// rollbackTo discards what was buffered after savepoint i (which stays).
func (s *Session) rollbackTo(i int) {
	x := s.txn
	sp := x.savepoints[i]
	x.savepoints = x.savepoints[:i+1]
	stale := false
	for _, tt := range x.order {
		m := sp.batches[tt.t.ID]
		tt.batches = tt.batches[:m[0]]
		tt.n = m[1]
		if tt.applied > tt.n {
			stale = true
		}
		if tt.own != nil && !tt.locked {
			if err := tt.rebuildOwn(); err != nil {
				// Records this session encoded itself: not reached.
				panic(err)
			}
		}
	}
	if stale {
		_ = x.overlay.Close()
		x.overlay = nil
		for _, tt := range x.order {
			tt.applied = 0
			clear(tt.routed)
		}
	}
}

// txnWrote reports whether the transaction buffered any change.
func (s *Session) txnWrote() bool {
	if s.txn == nil {
		return false
	}
	for _, tt := range s.txn.order {
		if tt.n > 0 {
			return true
		}
	}
	return false
}

// logPart is what a commit appends to one log: a table's records, or
// those of one partition of its log.
type logPart struct {
	tt      *txnTable
	src     uint64 // the partition's source id (exec.PartitionSource)
	base    uint64 // the partition's end when tt's lock was taken
	batches [][][]byte
	n       int
}

// logParts splits tt's records by the partition of the table's log they go
// to, keeping their order within each.
func (tt *txnTable) logParts() ([]*logPart, error) {
	if tt.parts == 1 {
		return []*logPart{{tt: tt, src: tt.t.ID, batches: tt.logBatches(), n: tt.n}}, nil
	}
	per := make([][][]byte, tt.parts)
	for _, b := range tt.batches {
		for _, r := range b {
			p, err := tt.route(r)
			if err != nil {
				return nil, err
			}
			per[p] = append(per[p], r)
		}
	}
	var out []*logPart
	for p, recs := range per {
		if len(recs) == 0 {
			continue
		}
		var batches [][][]byte
		for len(recs) > 0 {
			n := min(len(recs), insertBatchRecords)
			batches = append(batches, splitRecords(recs[:n])...)
			recs = recs[n:]
		}
		out = append(out, &logPart{tt: tt, src: exec.PartitionSource(tt.t.ID, p), batches: batches, n: len(per[p])})
	}
	return out, nil
}

// commitTxn appends the transaction's writes and ends it. What goes to one
// log (a table's, or one partition of a partitioned table's) is one log
// unit (an AppendGroup), which readers and a crash see whole. Changes to
// several logs are first written, whole, as one redo record to the
// transaction log; then each log's part is appended while the runtime's
// barrier is held shared, so that no epoch captures part of them; recovery
// re-appends a part its log lacks (redoTransactions). Acknowledged means
// commitTxn returned nil.
func (s *Session) commitTxn(ctx context.Context) error {
	defer s.endTxn()
	if s.txn == nil {
		return nil
	}
	var tables []*txnTable
	var parts []*logPart
	for _, tt := range s.txn.order {
		if tt.n == 0 {
			continue
		}
		if o, ok := s.e.cat.Get(tt.t.ID); !ok || o.Kind != catalog.KindTable {
			return pgerr.New(pgerr.UndefinedTable, "table %q was dropped while this transaction wrote it; the transaction is rolled back", tt.t.Name)
		}
		tables = append(tables, tt)
		ps, err := tt.logParts()
		if err != nil {
			return err
		}
		parts = append(parts, ps...)
	}
	switch len(parts) {
	case 0:
		return nil
	case 1:
		if parts[0].tt.locked {
			parts[0].base = parts[0].tt.bases[exec.SourcePartition(parts[0].src)]
		}
		return s.appendPart(ctx, parts[0])
	}
	// Every part's log must stand still from its base to its append: lock
	// the tables that only took inserts, in id order.
	slices.SortFunc(tables, func(a, b *txnTable) int { return cmp.Compare(a.t.ID, b.t.ID) })
	for _, tt := range tables {
		if !tt.locked {
			if err := s.lockTable(ctx, tt); err != nil {
				return err
			}
		}
	}
	for _, p := range parts {
		p.base = p.tt.bases[exec.SourcePartition(p.src)]
	}
	group := [][][]byte{{encodeRedoHeader(parts)}}
	for _, p := range parts {
		group = append(group, p.batches...)
	}
	release := s.e.holdTxnLog()
	if _, err := s.e.txnLog.AppendGroup(group); err != nil {
		release()
		return err
	}
	// From here the transaction is committed: the redo record is durable.
	s.e.commitMu.RLock()
	defer s.e.commitMu.RUnlock()
	for _, p := range parts {
		if err := s.appendPart(ctx, p); err != nil {
			// The log failed after the redo record was written: nothing
			// more may be appended to the table until a restart applies
			// the rest of this transaction from the redo record.
			// Its redo record stays held (release is not called), so
			// trimTxnLog keeps it for that restart.
			s.e.breakLock(p.tt.lock, err)
			return pgerr.Wrap(err, pgerr.IOError, "appending a committed transaction to table "+p.tt.t.Name+
				" (its redo record is durable: the rest is applied when kappa restarts)")
		}
	}
	release()
	return nil
}

// holdTxnLog registers a multi-table commit about to write its redo record
// (at or after the transaction log's current end); release unregisters it
// once every part is in its table's log.
func (e *Engine) holdTxnLog() (release func()) {
	e.txnHeldMu.Lock()
	defer e.txnHeldMu.Unlock()
	if e.txnHeld == nil {
		e.txnHeld = map[uint64]uint64{}
	}
	id := e.txnHeldN
	e.txnHeldN++
	e.txnHeld[id] = e.txnLog.End()
	return func() {
		e.txnHeldMu.Lock()
		delete(e.txnHeld, id)
		e.txnHeldMu.Unlock()
	}
}

// trimTxnLog deletes the transaction log's segments whose redo records are
// all applied: every part of a finished commit is in its table's log, so
// only commits still in progress (or broken, awaiting a restart) need
// theirs. The retention pass runs it; without it the transaction log would
// grow until a restart.
func (e *Engine) trimTxnLog() error {
	lg := e.txnLog
	if lg == nil || lg.Start() == lg.End() {
		return nil
	}
	e.txnHeldMu.Lock()
	keep := lg.End()
	for _, off := range e.txnHeld {
		keep = min(keep, off)
	}
	e.txnHeldMu.Unlock()
	// Seal the active segment so that what it holds can go next time.
	if err := lg.Roll(0); err != nil {
		return err
	}
	_, err := lg.RemoveBefore(keep)
	return err
}

// appendPart appends one log's part as one log group and notes the offset
// for read-your-writes.
func (s *Session) appendPart(ctx context.Context, part *logPart) error {
	tt := part.tt
	lg, err := s.e.tableLog(part.src)
	if err != nil {
		return err
	}
	if tt.held && !tt.locked {
		return s.appendLight(part, lg)
	}
	if !tt.held {
		if err := s.e.rlock(ctx, s, tt.lock, tt.t.Name); err != nil {
			return err
		}
		defer s.e.runlock(s, tt.lock)
	}
	first, err := lg.AppendGroup(part.batches)
	if err != nil {
		return err
	}
	if tt.locked && first != part.base {
		panic("engine: a table's log moved while a transaction held its write lock")
	}
	if len(tt.t.PrimaryKey) > 0 {
		tt.lock.keys.setBarrier(part.src, first+uint64(part.n))
	}
	s.writes[part.src] = first + uint64(part.n)
	s.e.rt.Kick()
	return nil
}

// breakLock makes every later acquisition of l fail with err.
func (e *Engine) breakLock(l *writeLock, err error) {
	e.lockMu.Lock()
	defer e.lockMu.Unlock()
	l.broken = err
}

// The transaction log (DataDir/txnlog) holds one redo record per committed
// transaction that wrote several tables: an AppendGroup whose first record
// is a header and whose other records are the parts' change records, part
// after part. Header: 'T', the number of parts, then per part its log (the
// table id, or a partition's source id: exec.PartitionSource), its base
// offset and its record count (uvarints).

func encodeRedoHeader(parts []*logPart) []byte {
	h := []byte{'T'}
	h = binary.AppendUvarint(h, uint64(len(parts)))
	for _, p := range parts {
		h = binary.AppendUvarint(h, p.src)
		h = binary.AppendUvarint(h, p.base)
		h = binary.AppendUvarint(h, uint64(p.n))
	}
	return h
}

type redoPart struct {
	table, base, n uint64
	seen           uint64 // records read so far
	missing        bool
	recs           [][]byte
}

func (e *Engine) txnLogDir() string { return filepath.Join(e.cfg.DataDir, "txnlog") }

// redoTransactions runs at Open, before any table is read or written: for
// every redo record in the transaction log, a part whose table's log ends at
// the part's base (the crash came between the redo record and that append)
// is appended now; a log that ends past the base has it (nothing else could
// be appended there while the transaction held the table's lock). Then the
// transaction log starts afresh.
func (e *Engine) redoTransactions() error {
	lg, err := log.Open(log.Options{FS: e.fs, Dir: e.txnLogDir(), Sync: e.cfg.Sync})
	if err != nil {
		return err
	}
	var parts []*redoPart
	var cur int
	left := uint64(0)
	apply := func() error {
		for _, p := range parts {
			if !p.missing {
				continue
			}
			tl, err := e.tableLog(p.table)
			if err != nil {
				return err
			}
			if _, err := tl.AppendGroup(splitRecords(p.recs)); err != nil {
				return err
			}
			e.cfg.Logger.Info("re-applied a committed transaction's part from the transaction log", "table", p.table, "offset", p.base, "records", p.n)
		}
		return nil
	}
	for from := lg.Start(); from < lg.End(); {
		next, err := lg.Read(from, 4096, func(_ uint64, rec []byte) error {
			if left == 0 {
				if len(rec) == 0 || rec[0] != 'T' {
					return pgerr.New(pgerr.DataCorrupted, "transaction log: bad redo header")
				}
				parts, cur = nil, 0
				b := rec[1:]
				num, n := binary.Uvarint(b)
				b = b[n:]
				for range num {
					p := &redoPart{}
					for _, f := range []*uint64{&p.table, &p.base, &p.n} {
						*f, n = binary.Uvarint(b)
						if n <= 0 {
							return pgerr.New(pgerr.DataCorrupted, "transaction log: bad redo header")
						}
						b = b[n:]
					}
					left += p.n
					if o, ok := e.cat.Get(exec.SourceTable(p.table)); ok && o.Kind == catalog.KindTable {
						tl, err := e.tableLog(p.table)
						if err != nil {
							return err
						}
						p.missing = tl.End() == p.base
					}
					parts = append(parts, p)
				}
				return nil
			}
			for parts[cur].seen == parts[cur].n {
				cur++
			}
			p := parts[cur]
			p.seen++
			left--
			if p.missing {
				p.recs = append(p.recs, slices.Clone(rec))
			}
			if left == 0 {
				return apply()
			}
			return nil
		})
		if err != nil {
			_ = lg.Close()
			return err
		}
		from = next
	}
	if err := lg.Close(); err != nil {
		return err
	}
	if err := e.fs.RemoveAll(e.txnLogDir()); err != nil && !errors.Is(err, os.ErrNotExist) {
		return pgerr.Wrap(err, pgerr.IOError, "resetting the transaction log")
	}
	e.txnLog, err = log.Open(log.Options{FS: e.fs, Dir: e.txnLogDir(), Sync: e.cfg.Sync})
	return err
}
