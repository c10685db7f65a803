package engine

import (
	"context"
	"maps"
	"sync"

	"github.com/kappa-db/kappa/exec"
	"github.com/kappa-db/kappa/log"
	"github.com/kappa-db/kappa/pgerr"
	"github.com/kappa-db/kappa/storage"
)

// Small inserts into a table with a primary key (issue 4) check their keys
// without waiting for the table's dataflow and hold the table's write lock
// only while they check and queue their append, not while it is fsynced:
//
//   - The table's pendingKeys hold the keys that such inserts queued to its
//     log and that its dataflow may not have applied yet. A key check looks
//     there first, then in the committed rows: a key leaves the overlay only
//     once an epoch that applied it committed (rt.Committed), so a key
//     missing from both is free.
//   - The insert queues its records with log.Enqueue under the lock, adds
//     its keys, releases the lock and waits for durability outside it, so
//     that the inserts of many sessions share one fsync.
//   - Its append is chained: if it fails (53100, disk full), every chained
//     append queued after it fails too without being written (their checks
//     counted its keys), its keys leave the overlay, and the table refuses
//     inserts until every append that was in flight has finished (the
//     failure is sticky until then).
//
// Everything else takes the full lock (lockTable): it waits for the appends
// in flight to finish and for the dataflow to apply the whole log, and
// holds the lock until the transaction's append is durable. Such a full
// append to a table with a primary key (an UPDATE, a DELETE, a large COPY,
// a transaction that read the table or wrote several tables) sets the
// barrier of the log partition it went to: the next small insert waits
// until the dataflow applied it before trusting the committed rows. Keys
// of a partitioned table live in one overlay; each remembers its partition,
// whose committed offset decides when it leaves. The first small insert into a
// table after the engine opened takes the full lock too, which waits for
// the replay of what the log held.

// lightInsertKeys bounds a transaction's small inserts into one table: past
// it the inserts take the full lock and check keys through the
// transaction's overlay, not a map of their own keys.
const lightInsertKeys = 1024

// maxPendingKeys bounds a table's overlay: when epochs fall behind that
// far, inserts take the full lock, which waits for them.
const maxPendingKeys = 1 << 20

// pendingKeys is a table's overlay of queued, unapplied insert keys.
type pendingKeys struct {
	mu   sync.Mutex
	keys map[string]*pendingKey
	// fifo holds the keys in log order; sweep pops the applied ones.
	fifo []*pendingKey
	head int
	// inflight counts queued appends not yet answered; idle is closed when
	// it drops to 0.
	inflight int
	idle     chan struct{}
	// failed is the error of a failed append; inserts fail with it while
	// appends are in flight.
	failed error
	// synced: a full lock has waited for the dataflow since the engine
	// opened. barrier: per log partition (source id), the end of the last
	// full append to it.
	synced  bool
	barrier map[uint64]uint64
}

type pendingKey struct {
	key  string
	src  uint64 // the log partition it was appended to
	end  uint64 // log offset after the append's records; 0 while in flight
	dead bool   // its append failed
}

// setBarrier notes a full append to partition src ending at end.
func (p *pendingKeys) setBarrier(src, end uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.barrier == nil {
		p.barrier = map[uint64]uint64{}
	}
	p.barrier[src] = end
}

// has reports whether key is in the overlay.
func (p *pendingKeys) has(key []byte) bool {
	_, ok := p.keys[string(key)]
	return ok
}

// sweep drops the keys that the committed epochs applied (under p.mu);
// committed returns how far they applied a partition.
func (p *pendingKeys) sweep(committed func(src uint64) uint64) {
	for p.head < len(p.fifo) {
		k := p.fifo[p.head]
		if !k.dead && (k.end == 0 || k.end > committed(k.src)) {
			break
		}
		if !k.dead && p.keys[k.key] == k {
			delete(p.keys, k.key)
		}
		p.fifo[p.head] = nil
		p.head++
	}
	if p.head == len(p.fifo) {
		p.fifo, p.head = p.fifo[:0], 0
	} else if p.head > 1024 && p.head > len(p.fifo)/2 {
		p.fifo = append(p.fifo[:0], p.fifo[p.head:]...)
		p.head = 0
	}
}

// checkFailed returns the sticky error of a failed append while appends
// are in flight, and clears it (and the log's chain) once none is (under
// p.mu; the caller holds the table's write lock, so nothing queues
// meanwhile).
func (p *pendingKeys) checkFailed(e *Engine, tt *txnTable) error {
	if p.failed == nil {
		return nil
	}
	if p.inflight > 0 {
		return pgerr.Wrap(p.failed, pgerr.Code(p.failed), "an earlier insert into this table failed and later ones queued behind it are still in flight")
	}
	for part := range tt.parts {
		lg, err := e.tableLog(exec.PartitionSource(tt.t.ID, part))
		if err != nil {
			return err
		}
		lg.ResetChain()
	}
	p.failed = nil
	return nil
}

// waitIdle waits until no queued append is in flight.
func (p *pendingKeys) waitIdle(ctx context.Context) error {
	for {
		p.mu.Lock()
		idle := p.idle
		p.mu.Unlock()
		if idle == nil {
			return nil
		}
		select {
		case <-idle:
		case <-ctx.Done():
			return pgerr.New(pgerr.QueryCanceled, "canceling statement due to user request")
		}
	}
}

// lockLight takes tt's write lock for small inserts: without waiting for
// the dataflow, unless a full append (or the engine's opening) since the
// last epoch requires it.
func (s *Session) lockLight(ctx context.Context, tt *txnTable) error {
	if tt.held {
		return nil
	}
	pk := tt.lock.keys
	pk.mu.Lock()
	synced, pending := pk.synced, len(pk.keys)
	pk.mu.Unlock()
	if !synced || pending >= maxPendingKeys {
		return s.lockTable(ctx, tt)
	}
	if err := s.e.lockExclusive(ctx, s, tt.lock, tt.t.Name); err != nil {
		return err
	}
	tt.held = true
	pk.mu.Lock()
	err := pk.checkFailed(s.e, tt)
	barrier := maps.Clone(pk.barrier)
	pk.mu.Unlock()
	if err != nil {
		return err
	}
	for src, end := range barrier {
		if err := s.e.rt.WaitFor(ctx, tt.t.ID, src, end); err != nil {
			return err
		}
	}
	// Also reports a failed dataflow, as lockTable's wait does.
	return s.e.rt.WaitFor(ctx, tt.t.ID, tt.t.ID, 0)
}

// checkLight checks the keys of small inserts into a table whose lock the
// session holds without having synced it: against the transaction's own
// inserts, the overlay, then the committed rows.
func (s *Session) checkLight(tt *txnTable, ins *inserter) error {
	var seen map[string]struct{}
	if len(ins.keys) > 1 {
		seen = make(map[string]struct{}, len(ins.keys))
	}
	var srcs [8]struct{ src, off uint64 }
	known := 0
	committed := func(src uint64) uint64 {
		for _, c := range srcs[:known] {
			if c.src == src {
				return c.off
			}
		}
		off, _ := s.e.rt.Committed(tt.t.ID, src)
		if known < len(srcs) {
			srcs[known] = struct{ src, off uint64 }{src, off}
			known++
		}
		return off
	}
	pk := tt.lock.keys
	pk.mu.Lock()
	pk.sweep(committed)
	for i, k := range ins.keys {
		_, mine := tt.own[string(k)]
		_, dup := seen[string(k)]
		if mine || dup || pk.has(k) {
			pk.mu.Unlock()
			return duplicateKey(tt.t, ins.rows[i])
		}
		if seen != nil {
			seen[string(k)] = struct{}{}
		}
	}
	pk.mu.Unlock()
	for i, k := range ins.keys {
		if _, ok, err := s.e.db.Get(k); err != nil {
			return err
		} else if ok {
			return duplicateKey(tt.t, ins.rows[i])
		}
	}
	if tt.own == nil {
		tt.own = make(map[string]struct{}, len(ins.keys))
	}
	for _, k := range ins.keys {
		tt.own[string(k)] = struct{}{}
	}
	return nil
}

// rebuildOwn recomputes the keys of a light part's inserts after a
// rollback to a savepoint.
func (tt *txnTable) rebuildOwn() error {
	tt.own = make(map[string]struct{}, tt.n)
	prefix := storage.RelationPrefix(tt.t.ID)
	for _, rec := range tt.records(0) {
		_, _, row, err := exec.DecodeChange(rec, nil)
		if err != nil {
			return err
		}
		tt.own[string(tt.sink.RowKey(append([]byte(nil), prefix...), 0, row))] = struct{}{}
	}
	return nil
}

// appendLight commits a light part: it queues the records (chained), adds
// their keys to the overlay, releases the table's lock and waits for the
// append to be durable.
func (s *Session) appendLight(part *logPart, lg *log.Log) error {
	tt := part.tt
	pk := tt.lock.keys
	pk.mu.Lock()
	if err := pk.checkFailed(s.e, tt); err != nil {
		pk.mu.Unlock()
		return err
	}
	pk.mu.Unlock()
	p, err := lg.Enqueue(part.batches, true)
	if err != nil {
		return err
	}
	ents := make([]*pendingKey, 0, len(tt.own))
	pk.mu.Lock()
	if pk.keys == nil {
		pk.keys = map[string]*pendingKey{}
	}
	for k := range tt.own {
		e := &pendingKey{key: k, src: part.src}
		pk.keys[k] = e
		pk.fifo = append(pk.fifo, e)
		ents = append(ents, e)
	}
	if pk.inflight == 0 {
		pk.idle = make(chan struct{})
	}
	pk.inflight++
	pk.mu.Unlock()
	tt.held = false
	s.e.unlock(s, tt.lock)

	first, err := p.Wait()
	end := first + uint64(part.n)
	pk.mu.Lock()
	for _, e := range ents {
		if err != nil {
			e.dead = true
			if pk.keys[e.key] == e {
				delete(pk.keys, e.key)
			}
		} else {
			e.end = end
		}
	}
	if err != nil && pk.failed == nil {
		pk.failed = err
	}
	pk.inflight--
	if pk.inflight == 0 {
		close(pk.idle)
		pk.idle = nil
	}
	pk.mu.Unlock()
	if err != nil {
		return err
	}
	s.writes[part.src] = end
	s.e.rt.Kick()
	return nil
}
