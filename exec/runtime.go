package exec

import (
	"context"
	"encoding/binary"
	"errors"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kappa-db/kappa/expr"
	"github.com/kappa-db/kappa/log"
	"github.com/kappa-db/kappa/pgerr"
	"github.com/kappa-db/kappa/storage"
	"github.com/kappa-db/kappa/types"
)

// Defaults.
const (
	// DefaultBarrierInterval is 20 ms rather than 50: a record waits up to
	// one interval for its barrier, which at 50 ms was half of the 100 ms
	// freshness budget (docs/freshness.md).
	DefaultBarrierInterval    = 20 * time.Millisecond
	DefaultMaxRecordsPerEpoch = 1 << 18
	readChunk                 = 4096
)

// DataflowSpec describes one long-running dataflow: it maintains relation
// ID, either a table's own rows from its change log (Table set, Plan nil,
// Sources = [the table]) or a materialized view (View set; Plan reads the
// logs of the tables it scans).
type DataflowSpec struct {
	ID    uint64
	Name  string
	Plan  Node
	View  *ViewSink
	Table *TableSink
	// TableID is the table a Table dataflow reads.
	TableID uint64
}

// source is one input of a dataflow: a table's log, or a source's feed.
type source struct {
	id        uint64
	log       *log.Log
	feed      Feed   // set instead of log for a source
	next      uint64 // next offset to read, within the running epoch
	committed uint64 // next offset to read as of the last committed epoch
	leaves    []*node
	slab      *rowSlab // how its rows are decoded (rowUse)
	// wm is the input's declared watermark (nil: none); maxTS and late are
	// the largest event time read and the late rows dropped, within the
	// running epoch and as committed (watermark.go).
	wm                    *ScanWatermark
	maxTS, maxTSCommitted int64
	late, lateCommitted   int64
}

type dataflow struct {
	spec    DataflowSpec
	g       *graph // nil for a table's own dataflow
	sources []*source
	started bool
	err     error // a runtime error put the dataflow into an error state
	// errCounts are the committed counts of data errors (see
	// epochCtx.rowError), keyed by SQLSTATE NUL message.
	errCounts map[string]int64
	// rowID and rowIDCommitted number the rows of an append-only view
	// (ViewSink.AppendOnly), within the running epoch and as committed.
	rowID, rowIDCommitted uint64
}

func (df *dataflow) source(id uint64) *source {
	for _, s := range df.sources {
		if s.id == id {
			return s
		}
	}
	return nil
}

// errorsKey is where a dataflow keeps its data error counts.
func errorsPrefix(id uint64) []byte { return append(storage.StatePrefix(id<<8|0xff), 'e') }

// rowIDKey is where an append-only view keeps the id of its next row.
func rowIDKey(id uint64) []byte { return append(storage.StatePrefix(id<<8|0xff), 'n') }

// dataError is the error a dataflow's data put it in, or nil.
func (df *dataflow) dataError() error {
	var keys []string
	for k, n := range df.errCounts {
		if n != 0 {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil
	}
	sort.Strings(keys)
	code, msg, _ := strings.Cut(keys[0], "\x00")
	return pgerr.New(code, "%s", msg)
}

// Options configure a Runtime.
type Options struct {
	DB *storage.DB
	// Logs opens the log of an input: a table's partition, by its source
	// id (PartitionSource).
	Logs func(src uint64) (*log.Log, error)
	// Partitions is the number of partitions of table rel's log (nil, or
	// less than 1: one).
	Partitions         func(rel uint64) int
	BarrierInterval    time.Duration
	MaxRecordsPerEpoch int
	Logger             *slog.Logger
	// Now gives the epoch's statement time (µs since 2000-01-01).
	Now func() int64
	// Barrier, when set, is locked while an epoch captures its inputs' log
	// ends: a writer that appends to several logs as one transaction holds
	// it shared meanwhile, so that no epoch sees part of the transaction.
	Barrier sync.Locker
}

// Runtime runs every dataflow, cutting epochs and committing them.
type Runtime struct {
	opts Options

	// epochMu is held while an epoch runs; Add and Remove take it so that
	// dataflows change only between epochs.
	epochMu sync.Mutex

	mu struct {
		sync.Mutex
		dataflows map[uint64]*dataflow
		epoch     uint64
		changed   chan struct{} // closed and replaced after every commit
		fatal     error
		// timings are the last committed epochs' timings, a ring of
		// epochTimings entries from timingNext.
		timings    []EpochTiming
		timingNext int
	}
	kick    chan struct{}
	stop    chan struct{}
	done    chan struct{}
	started atomic.Bool
	// unstarted counts the registered dataflows that have not committed
	// an epoch (changed under mu): while it is zero, WaitStarted need not
	// look at any dataflow.
	unstarted atomic.Int64
}

// NewRuntime returns a runtime; call Start to run it.
func NewRuntime(opts Options) *Runtime {
	if opts.BarrierInterval <= 0 {
		opts.BarrierInterval = DefaultBarrierInterval
	}
	if opts.MaxRecordsPerEpoch <= 0 {
		opts.MaxRecordsPerEpoch = DefaultMaxRecordsPerEpoch
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = func() int64 { return types.TimestampFromTime(time.Now()) }
	}
	rt := &Runtime{opts: opts, kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{})}
	rt.mu.dataflows = map[uint64]*dataflow{}
	rt.mu.changed = make(chan struct{})
	return rt
}

// Start runs the epoch loop in a goroutine.
func (rt *Runtime) Start() {
	rt.started.Store(true)
	go rt.loop()
}

// Close runs a final epoch and stops the loop.
func (rt *Runtime) Close() error {
	select {
	case <-rt.stop:
	default:
		close(rt.stop)
	}
	if rt.started.Load() {
		<-rt.done
	}
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return rt.mu.fatal
}

func (rt *Runtime) loop() {
	defer close(rt.done)
	t := time.NewTicker(rt.opts.BarrierInterval)
	defer t.Stop()
	for {
		stopping := false
		var due time.Time
		select {
		case due = <-t.C:
		case <-rt.kick:
		case <-rt.stop:
			stopping = true
		}
		for {
			more, err := rt.runEpoch(due)
			due = time.Time{} // a continuing backfill's epoch is due now
			if err != nil {
				rt.opts.Logger.Error("epoch failed; the runtime stops", "err", err)
				rt.mu.Lock()
				rt.mu.fatal = err
				close(rt.mu.changed)
				rt.mu.changed = make(chan struct{})
				rt.mu.Unlock()
				return
			}
			if !more || stopping {
				break
			}
		}
		if stopping {
			return
		}
	}
}

// Kick asks for an epoch now rather than at the next tick.
func (rt *Runtime) Kick() {
	select {
	case rt.kick <- struct{}{}:
	default:
	}
}

// Add registers a dataflow, resuming from its committed offsets if it ran
// before.
func (rt *Runtime) Add(spec DataflowSpec) error {
	df := &dataflow{spec: spec}
	var ids []uint64
	if spec.Plan != nil {
		g, err := buildGraph(spec.Plan, spec.ID)
		if err != nil {
			return err
		}
		df.g = g
		ids = g.sources()
		if p, ok := g.root.op.(*projectOp); ok && spec.View != nil {
			// The view's sink encodes the rows it is given into the store
			// and keeps none: the projection's output rows can reuse one
			// array (an ad hoc query's root keeps its rows).
			p.reuse = true
		}
		if spec.View != nil && !spec.View.AppendOnly {
			_, spec.View.distinct = DistinctRowsKey(spec.Plan)
		}
	} else {
		ids = []uint64{spec.TableID}
	}
	// A partitioned table's log is one input per partition.
	var srcIDs []uint64
	for _, id := range ids {
		n := 1
		if rt.opts.Partitions != nil {
			n = max(rt.opts.Partitions(id), 1)
		}
		for p := range n {
			srcIDs = append(srcIDs, PartitionSource(id, p))
		}
	}
	for _, id := range srcIDs {
		src := &source{id: id, maxTS: noTime, maxTSCommitted: noTime}
		if df.g != nil {
			for _, l := range df.g.leaves {
				if sc, ok := l.plan.(*Scan); ok && sc.Rel == SourceTable(id) {
					src.leaves = append(src.leaves, l)
					if sc.Kind == ScanSource {
						src.feed = sc.Feed
					}
					if sc.Watermark != nil {
						src.wm = sc.Watermark
					}
				}
			}
		} else if spec.Table != nil {
			src.wm = spec.Table.Watermark
		}
		if src.feed == nil {
			lg, err := rt.opts.Logs(id)
			if err != nil {
				return err
			}
			src.log = lg
		}
		df.sources = append(df.sources, src)
	}
	rt.epochMu.Lock()
	defer rt.epochMu.Unlock()
	for _, src := range df.sources {
		val, ok, err := rt.opts.DB.Get(storage.OffsetKey(spec.ID, src.id))
		if err != nil {
			return err
		}
		if ok {
			off, _ := binary.Uvarint(val)
			src.next, src.committed, df.started = off, off, true
		}
		if src.wm == nil {
			continue
		}
		val, ok, err = rt.opts.DB.Get(wmKey(spec.ID, src.id))
		if err != nil {
			return err
		}
		if ok {
			maxTS, late, err := decodeWatermarkState(val)
			if err != nil {
				return pgerr.Wrap(err, pgerr.DataCorrupted, "dataflow "+spec.Name)
			}
			src.maxTS, src.maxTSCommitted, src.late, src.lateCommitted = maxTS, maxTS, late, late
		}
	}
	if spec.View != nil && spec.View.AppendOnly {
		val, ok, err := rt.opts.DB.Get(rowIDKey(spec.ID))
		if err != nil {
			return err
		}
		if ok {
			df.rowIDCommitted, _ = binary.Uvarint(val)
		}
	}
	df.errCounts = map[string]int64{}
	p := errorsPrefix(spec.ID)
	err := rt.opts.DB.Scan(p, storage.PrefixEnd(p), false, func(key, val []byte) (bool, error) {
		n, _ := binary.Varint(val)
		df.errCounts[string(key[len(p):])] = n
		return true, nil
	})
	if err != nil {
		return err
	}
	rt.mu.Lock()
	if prev, ok := rt.mu.dataflows[spec.ID]; ok && !prev.started {
		rt.unstarted.Add(-1)
	}
	rt.mu.dataflows[spec.ID] = df
	if !df.started {
		rt.unstarted.Add(1)
	}
	rt.mu.Unlock()
	if v := spec.View; v != nil && !v.AppendOnly {
		// Its rows change only in this runtime's epochs: the DB may serve
		// reads of them from memory (storage/serve.go), an index built
		// between epochs (runEpoch) once a read asks for it.
		rt.opts.DB.ServeCandidate(v.Rel)
	}
	rt.Kick()
	return nil
}

// Remove stops dataflow id between epochs. The caller deletes what it
// stored (DeleteRelationData) together with its catalog change.
func (rt *Runtime) Remove(id uint64) {
	rt.epochMu.Lock()
	defer rt.epochMu.Unlock()
	rt.mu.Lock()
	df := rt.mu.dataflows[id]
	if df != nil && !df.started {
		rt.unstarted.Add(-1)
	}
	delete(rt.mu.dataflows, id)
	rt.mu.Unlock()
	if df != nil && df.spec.View != nil {
		// Before the caller deletes the rows: nothing but epochs may
		// write a served relation.
		rt.opts.DB.Unserve(df.spec.View.Rel)
	}
}

// CompactRelationData compacts the spans DeleteRelationData deleted, once
// that deletion committed: the space comes back now, not in the
// compactions of later writes (which would carry the deleted rows and
// compete with the epochs for the CPU).
func CompactRelationData(db *storage.DB, id uint64) error {
	for _, sp := range relationSpans(id) {
		if err := db.Compact(sp[0], sp[1]); err != nil {
			return err
		}
	}
	return nil
}

// DeleteRelationData adds to b the deletion of relation id's rows, operator
// state and offsets.
func DeleteRelationData(b *storage.Batch, id uint64) error {
	for _, sp := range relationSpans(id) {
		if err := b.DeleteRange(sp[0], sp[1]); err != nil {
			return err
		}
	}
	return nil
}

// relationSpans are the key spans [lo, hi) of relation id's rows, offsets
// and operator state.
func relationSpans(id uint64) [3][2][]byte {
	rlo, rhi := storage.RelationSpan(id)
	olo, ohi := storage.OffsetSpan(id)
	return [3][2][]byte{{rlo, rhi}, {olo, ohi}, {storage.StatePrefix(id << 8), storage.StatePrefix((id + 1) << 8)}}
}

// Err returns the error state of dataflow id (nil when healthy or unknown).
func (rt *Runtime) Err(id uint64) error {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.mu.fatal != nil {
		return rt.mu.fatal
	}
	if df, ok := rt.mu.dataflows[id]; ok {
		if df.err != nil {
			return df.err
		}
		return df.dataError()
	}
	return nil
}

// Committed returns the next offset dataflow id will read from table src's
// log, as of the last committed epoch.
func (rt *Runtime) Committed(id, src uint64) (uint64, bool) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	df, ok := rt.mu.dataflows[id]
	if !ok {
		return 0, false
	}
	s := df.source(src)
	if s == nil {
		return 0, false
	}
	return s.committed, true
}

// Changed returns a channel that is closed when the next epoch commits
// (for tools that follow the commits, such as the Nexmark benchmark's
// freshness measure).
func (rt *Runtime) Changed() <-chan struct{} {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return rt.mu.changed
}

// Sources returns the inputs dataflow id reads: sources, and tables' log
// partitions (PartitionSource).
func (rt *Runtime) Sources(id uint64) []uint64 {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	df, ok := rt.mu.dataflows[id]
	if !ok {
		return nil
	}
	out := make([]uint64, len(df.sources))
	for i, s := range df.sources {
		out[i] = s.id
	}
	return out
}

// WaitFor blocks until dataflow id has committed everything in table src's
// log before offset (read-your-writes), or it failed, or ctx ends. A
// dataflow that does not read src has nothing to wait for.
func (rt *Runtime) WaitFor(ctx context.Context, id, src uint64, offset uint64) error {
	return rt.waitDataflow(ctx, id, func(df *dataflow) bool {
		s := df.source(src)
		// A dataflow that has not run its first epoch has not committed
		// its initial rows yet (a global aggregate's row over an empty
		// table), even when offset is 0.
		return s == nil || (s.committed >= offset && df.started)
	})
}

// WaitStarted blocks until dataflow id has committed its first epoch, or
// it failed, or ctx ends. Before that its relation holds nothing, which
// need not be its query's result at any point: a global aggregate has one
// row even over empty inputs (its initial rows), and a view restored
// without committed state (its first epoch lost in a crash, or recomputed
// because its plan changed) would show no rows at all. A dataflow that is
// not registered has nothing to wait for.
func (rt *Runtime) WaitStarted(ctx context.Context, id uint64) error {
	if rt.unstarted.Load() == 0 {
		// Every query reads views: no lock when all have started.
		return nil
	}
	return rt.waitDataflow(ctx, id, func(df *dataflow) bool { return df.started })
}

// waitDataflow blocks until done (called under rt.mu) holds for dataflow
// id, or the dataflow or the runtime failed (their error), or ctx ends
// (57014). A dataflow that is not registered has nothing to wait for.
func (rt *Runtime) waitDataflow(ctx context.Context, id uint64, done func(*dataflow) bool) error {
	for {
		rt.mu.Lock()
		if rt.mu.fatal != nil {
			err := rt.mu.fatal
			rt.mu.Unlock()
			return err
		}
		df, ok := rt.mu.dataflows[id]
		if !ok {
			rt.mu.Unlock()
			return nil
		}
		if df.err != nil {
			err := df.err
			rt.mu.Unlock()
			return err
		}
		if done(df) {
			rt.mu.Unlock()
			return nil
		}
		ch := rt.mu.changed
		rt.mu.Unlock()
		rt.Kick()
		select {
		case <-ch:
		case <-ctx.Done():
			return pgerr.New(pgerr.QueryCanceled, "canceling statement due to user request")
		}
	}
}

// RunEpoch runs one epoch over every healthy dataflow and commits it. It
// reports whether some dataflow still has records before its barrier (a
// backfill capped by MaxRecordsPerEpoch).
func (rt *Runtime) RunEpoch() (more bool, err error) { return rt.runEpoch(time.Time{}) }

// EpochTiming is where one committed epoch's time went: what freshness is
// made of (an input record waits for the next barrier, then for its epoch's
// processing and commit).
type EpochTiming struct {
	// Due is when the epoch was due (its tick; a kicked or continuing
	// epoch is due when it starts), Start when it captured its inputs'
	// ends (the barrier): Start - Due is the time the epoch loop was late.
	Due, Start time.Time
	// Process is the time the dataflows ran, Commit the storage batch's
	// commit.
	Process, Commit time.Duration
	// Records are the input records the epoch read, Bytes the size of
	// its storage batch (what the commit, pebble's log, memtable and
	// compactions carry).
	Records uint64
	Bytes   int
}

// epochTimings is how many epochs' timings the runtime keeps.
const epochTimings = 4096

// EpochTimings returns the timings of the last committed epochs (up to
// 4096), oldest first.
func (rt *Runtime) EpochTimings() []EpochTiming {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	out := make([]EpochTiming, 0, len(rt.mu.timings))
	out = append(out, rt.mu.timings[rt.mu.timingNext:]...)
	return append(out, rt.mu.timings[:rt.mu.timingNext]...)
}

// recordTimingLocked keeps an epoch's timing.
func (rt *Runtime) recordTimingLocked(t EpochTiming) {
	if len(rt.mu.timings) < epochTimings {
		rt.mu.timings = append(rt.mu.timings, t)
		return
	}
	rt.mu.timings[rt.mu.timingNext] = t
	rt.mu.timingNext = (rt.mu.timingNext + 1) % epochTimings
}

func (rt *Runtime) runEpoch(due time.Time) (more bool, err error) {
	rt.epochMu.Lock()
	defer rt.epochMu.Unlock()
	// Between epochs no batch writes a view's rows: the serving indexes
	// that reads asked for are built here.
	if err := rt.opts.DB.BuildServed(); err != nil {
		rt.opts.Logger.Warn("building a view's serving index failed; its reads stay on the store", "err", err)
	}
	rt.mu.Lock()
	dfs := make([]*dataflow, 0, len(rt.mu.dataflows))
	for _, df := range rt.mu.dataflows {
		if df.err == nil {
			dfs = append(dfs, df)
		}
	}
	rt.mu.Unlock()
	// Tables first, so that a table's rows and the views over it move together.
	sort.Slice(dfs, func(i, j int) bool {
		ti, tj := dfs[i].spec.Table != nil, dfs[j].spec.Table != nil
		if ti != tj {
			return ti
		}
		return dfs[i].spec.ID < dfs[j].spec.ID
	})
	// The barrier: every input's durable end, captured once.
	ends := make(map[uint64]uint64)
	idle := true
	now := rt.opts.Now()
	timing := EpochTiming{Due: due, Start: time.Now()}
	if due.IsZero() {
		timing.Due = timing.Start
	}
	if rt.opts.Barrier != nil {
		rt.opts.Barrier.Lock()
	}
	for _, df := range dfs {
		if !df.started {
			idle = false
		}
		// A temporal filter's rows enter and leave as time passes.
		if df.g != nil && df.g.wakeAt() <= now {
			idle = false
		}
		for _, s := range df.sources {
			if _, ok := ends[s.id]; !ok {
				if s.feed != nil {
					ends[s.id] = s.feed.End()
				} else {
					ends[s.id] = s.log.End()
				}
			}
			if s.next < ends[s.id] {
				idle = false
			}
		}
	}
	if rt.opts.Barrier != nil {
		rt.opts.Barrier.Unlock()
	}
	if idle {
		return false, nil
	}
	for {
		failed, more, err := rt.tryEpoch(dfs, ends, timing)
		if err != nil {
			return false, err
		}
		if failed == nil {
			return more, nil
		}
		// A user error inside one view (say, a division by zero) puts that
		// view in an error state; the epoch reruns without it.
		rt.mu.Lock()
		failed.err = pgerr.As(failed.err)
		rt.mu.Unlock()
		rt.opts.Logger.Warn("dataflow failed", "name", failed.spec.Name, "err", failed.err)
		kept := dfs[:0]
		for _, df := range dfs {
			if df != failed {
				kept = append(kept, df)
			}
		}
		dfs = kept
	}
}

func (rt *Runtime) tryEpoch(dfs []*dataflow, ends map[uint64]uint64, timing EpochTiming) (failed *dataflow, more bool, err error) {
	t0 := time.Now()
	batch := rt.opts.DB.NewBatch()
	defer batch.Close()
	ec := &epochCtx{eval: &expr.EvalContext{Now: rt.opts.Now(), Loc: time.UTC}, store: batch}
	for _, df := range dfs {
		for _, s := range df.sources {
			s.next = s.committed
			s.maxTS, s.late = s.maxTSCommitted, s.lateCommitted
		}
		df.rowID = df.rowIDCommitted
		if df.g != nil {
			df.g.reset()
		}
	}
	pending := make(map[*dataflow]map[string]int64)
	var pendingMu sync.Mutex // step runs on two goroutines
	// step runs one dataflow into b and stores its offsets there.
	step := func(ec *epochCtx, b *storage.Batch, df *dataflow) (failed *dataflow, more bool, err error) {
		ec.errs = nil
		m, derr := rt.stepDataflow(ec, df, ends)
		if derr == nil && len(ec.errs) > 0 {
			pendingMu.Lock()
			pending[df] = ec.errs
			pendingMu.Unlock()
			derr = rt.storeErrors(b, df, ec.errs)
		}
		if derr != nil {
			// Only a failing disk stops the runtime. Anything else, even
			// a bug (an internal error), is one dataflow's problem: it goes
			// into an error state and the others carry on.
			var pe *pgerr.Error
			if errors.As(derr, &pe) && pe.Code != pgerr.IOError && pe.Code != pgerr.DiskFull {
				df.err = derr
				return df, false, nil
			}
			return nil, false, derr
		}
		if df.rowID != df.rowIDCommitted {
			if err := b.Set(rowIDKey(df.spec.ID), binary.AppendUvarint(nil, df.rowID)); err != nil {
				return nil, false, err
			}
		}
		for _, s := range df.sources {
			var off [binary.MaxVarintLen64]byte
			n := binary.PutUvarint(off[:], s.next)
			if err := b.Set(storage.OffsetKey(df.spec.ID, s.id), off[:n]); err != nil {
				return nil, false, err
			}
			if s.wm != nil && (s.maxTS != s.maxTSCommitted || s.late != s.lateCommitted) {
				if err := b.Set(wmKey(df.spec.ID, s.id), encodeWatermarkState(s.maxTS, s.late)); err != nil {
					return nil, false, err
				}
			}
		}
		return nil, m, nil
	}
	// Tables' own dataflows only copy their logs into their rows: they run
	// on another goroutine, into their own batch, while the views run here
	// (an epoch after a large COPY keeps both CPUs busy). The two batches
	// commit as one.
	var tables, views []*dataflow
	for _, df := range dfs {
		if df.spec.Table != nil {
			tables = append(tables, df)
		} else {
			views = append(views, df)
		}
	}
	type result struct {
		failed *dataflow
		more   bool
		err    error
	}
	var tablesDone chan result
	var tb *storage.Batch
	if len(tables) > 0 && len(views) > 0 {
		tb = rt.opts.DB.NewBatchWithSize(tableBatchHint(tables, ends))
		defer tb.Close()
		tablesDone = make(chan result, 1)
		tec := &epochCtx{eval: ec.eval, store: tb}
		go func() {
			var r result
			for _, df := range tables {
				f, m, err := step(tec, tb, df)
				if f != nil || err != nil {
					r = result{failed: f, err: err}
					break
				}
				r.more = r.more || m
			}
			tablesDone <- r
		}()
		dfs = views
	}
	var stepErr result
	for _, df := range dfs {
		f, m, err := step(ec, batch, df)
		if f != nil || err != nil {
			stepErr = result{failed: f, err: err}
			break
		}
		more = more || m
	}
	if tablesDone != nil {
		r := <-tablesDone
		if stepErr.failed == nil && stepErr.err == nil {
			stepErr = r
		}
		more = more || r.more
		if stepErr.failed == nil && stepErr.err == nil {
			// The tables' batch is the large one: the views' goes into it.
			if err := tb.Apply(batch); err != nil {
				return nil, false, err
			}
			batch = tb
		}
		dfs = append(views, tables...)
	}
	if stepErr.failed != nil || stepErr.err != nil {
		return stepErr.failed, false, stepErr.err
	}
	t1 := time.Now()
	timing.Bytes = batch.Len()
	if err := batch.Commit(false); err != nil {
		return nil, false, err
	}
	timing.Process, timing.Commit = t1.Sub(t0), time.Since(t1)
	rt.mu.Lock()
	for _, df := range dfs {
		for _, s := range df.sources {
			timing.Records += s.next - s.committed
			s.committed = s.next
			s.maxTSCommitted, s.lateCommitted = s.maxTS, s.late
		}
		df.rowIDCommitted = df.rowID
		if !df.started {
			df.started = true
			rt.unstarted.Add(-1)
		}
		if df.g != nil {
			df.g.committed()
		}
		for k, n := range pending[df] {
			df.errCounts[k] += n
		}
	}
	rt.mu.epoch++
	rt.recordTimingLocked(timing)
	close(rt.mu.changed)
	rt.mu.changed = make(chan struct{})
	rt.mu.Unlock()
	return nil, more, nil
}

// maxTableBatchHint caps tableBatchHint: past it a batch grows as it needs.
const maxTableBatchHint = 128 << 20

// tableBatchHint is about the bytes that the tables' dataflows write in an
// epoch reading their logs up to ends: their rows are their log records'
// row encodings, so about the bytes of log they read, with room for the
// views' writes that join their batch.
func tableBatchHint(tables []*dataflow, ends map[uint64]uint64) int {
	var n int64
	for _, df := range tables {
		for _, s := range df.sources {
			if s.log != nil && ends[s.id] > s.committed {
				n += s.log.ApproxBytes(s.committed, ends[s.id])
			}
		}
	}
	if n == 0 {
		return 0
	}
	return int(min(n+n/8+64<<10, maxTableBatchHint))
}

// storeErrors adds an epoch's data error counts to the dataflow's stored ones.
func (rt *Runtime) storeErrors(b *storage.Batch, df *dataflow, errs map[string]int64) error {
	p := errorsPrefix(df.spec.ID)
	for k, n := range errs {
		if n == 0 {
			continue
		}
		total := df.errCounts[k] + n
		key := append(append([]byte(nil), p...), k...)
		if total == 0 {
			if err := b.Delete(key); err != nil {
				return err
			}
			continue
		}
		if err := b.Set(key, binary.AppendVarint(nil, total)); err != nil {
			return err
		}
	}
	return nil
}

func (rt *Runtime) stepDataflow(ec *epochCtx, df *dataflow, ends map[uint64]uint64) (more bool, err error) {
	sinkOut := func(b *Batch) error { return df.spec.View.apply(ec, b) }
	if df.spec.View != nil && df.spec.View.AppendOnly {
		sinkOut = func(b *Batch) error { return df.spec.View.appendRows(ec, b, &df.rowID) }
	}
	if !df.started && df.g != nil {
		// A global aggregate has its row before any input.
		for _, v := range df.g.order {
			ag, ok := v.op.(*aggOp)
			if !ok {
				continue
			}
			b, err := ag.initial(ec)
			if err != nil {
				return false, err
			}
			if err := df.g.push(ec, v, b, sinkOut); err != nil {
				return false, err
			}
		}
	}
	budget := uint64(rt.opts.MaxRecordsPerEpoch)
	var in Batch
	var key, val, prefix []byte
	var pg *pager
	if t := df.spec.Table; t != nil {
		prefix = storage.RelationPrefix(t.Rel)
		if len(t.PK) == 0 {
			pg = newPager(ec.store, t.Rel)
		}
	}
	loaded := map[uint64]bool{}
	// A view's log inputs with much to read (a backfill of a partitioned
	// table) are read and decoded on goroutines of their own
	// (readParallel), after the loop below has loaded what must come first.
	parallel := rt.parallelSources(df, ends)
	for _, s := range df.sources {
		limit := ends[s.id]
		rows := s.rowUse(df.spec.Table != nil)
		// from is where in's rows enter the graph: the leaves, or the
		// projection that the log's records are decoded through (rowSlab).
		from := s.leaves
		pushIn := func() error {
			if in.Len() == 0 {
				return nil
			}
			for _, leaf := range from {
				if err := df.g.push(ec, leaf, &in, sinkOut); err != nil {
					return err
				}
			}
			in.Reset()
			rows.used = 0
			return nil
		}
		if s.feed != nil {
			// A feed's records are independent: cut anywhere.
			to := limit
			if to > s.next && to-s.next > budget {
				to, more = s.next+budget, true
			}
			if err := readFeed(s, to, rows, &in, pushIn); err != nil {
				return false, err
			}
			continue
		}
		if df.g != nil && !df.started && !loaded[SourceTable(s.id)] && cutLog(df, s.id) {
			// Retention deleted the start of the table's log: the view
			// begins from the table's committed rows instead (see
			// loadTableRows), once for all its partitions.
			loaded[SourceTable(s.id)] = true
			if err := rt.loadTableRows(df, s, &in, pushIn); err != nil {
				return false, err
			}
		}
		if parallel != nil && parallel[s] {
			continue
		}
		from = s.pushFrom()
		// One Read for the whole epoch, the rows pushed through the
		// operators every readChunk records: a Read checks and walks the
		// log batch it starts in from that batch's beginning, so reading a
		// large COPY's batch in small Reads takes time quadratic in its
		// size (serverbench ingest: 151k -> 447k rows/s).
		// The epoch reads at most budget records of each source, but whole
		// appends: a statement's changes (one log unit however large) land
		// in one epoch, so that a view shows all of it or none of it.
		start := s.next
		for s.next < limit && s.next-start < budget {
			next, err := s.log.ReadUnits(s.next, limit, int(budget-(s.next-start)), func(off uint64, rec []byte) error {
				if pg != nil {
					// Without a primary key the rows go into pages, as
					// their records' own row encodings (pages.go).
					w, rowID, enc, err := splitChange(rec)
					if err != nil {
						return err
					}
					if s.wm != nil && w > 0 {
						row, _, err := types.DecodeRow(enc, nil)
						if err != nil {
							return err
						}
						if !s.admit(row, w) {
							return nil
						}
					}
					if rowID == 0 {
						rowID = PartitionRowID(s.id, off)
					}
					if w < 0 {
						return pg.retract(rowID)
					}
					return pg.insert(rowID, enc)
				}
				var dst types.Row
				if rows.private {
					dst = rows.next()
				}
				w, rowID, row, err := rows.decode(rec, dst)
				if err != nil {
					return err
				}
				if t := df.spec.Table; t != nil {
					if rowID == 0 {
						rowID = PartitionRowID(s.id, off)
					}
					key = t.RowKey(append(key[:0], prefix...), rowID, row)
					val, err = t.applyChange(ec, key, w, row, val)
					return err
				}
				if s.wm != nil && w > 0 && !s.admit(row, w) {
					return nil
				}
				in.Add(row, w)
				if in.Len() >= readChunk {
					return pushIn()
				}
				return nil
			})
			if err != nil {
				return false, err
			}
			if next == s.next {
				break
			}
			s.next = next
			if err := pushIn(); err != nil {
				return false, err
			}
		}
		if s.next < limit {
			more = true
		}
	}
	if parallel != nil {
		m, err := rt.readParallel(ec, df, ends, parallel, sinkOut)
		if err != nil {
			return false, err
		}
		more = more || m
	}
	if pg != nil {
		if err := pg.flush(); err != nil {
			return false, err
		}
	}
	if df.g != nil {
		ec.wms, ec.wmsBefore = df.epochWatermarks()
		err := df.g.flush(ec, sinkOut)
		ec.wms, ec.wmsBefore = nil, nil
		if err != nil {
			return false, err
		}
	}
	return more, nil
}

// cutLog reports whether retention cut the start of some partition of
// table src's log before where the new view df reads it from.
func cutLog(df *dataflow, src uint64) bool {
	for _, s := range df.sources {
		if s.log != nil && SourceTable(s.id) == SourceTable(src) && s.next < s.log.Start() {
			return true
		}
	}
	return false
}

// loadTableRows starts a new view's input s, a table whose log retention has
// cut, from the table's rows as its own dataflow last committed them: it
// pushes them through s's leaves with their multiplicities and moves the
// next offset of each of the table's partitions to the one they were
// committed at, from which the view reads the log as usual. The rows and
// the offsets come from one snapshot, and the epoch's own table writes are
// not in the store yet, so they agree. The rows are the integral of the log
// up to those offsets, so the view's result is the one a replay of the
// whole log would give.
func (rt *Runtime) loadTableRows(df *dataflow, s *source, in *Batch, pushIn func() error) error {
	snap := rt.opts.DB.NewSnapshot()
	defer snap.Close()
	table := SourceTable(s.id)
	offs := map[*source]uint64{}
	for _, p := range df.sources {
		if p.log == nil || SourceTable(p.id) != table {
			continue
		}
		val, ok, err := snap.Get(storage.OffsetKey(table, p.id))
		if err != nil {
			return err
		}
		var off uint64
		if ok {
			off, _ = binary.Uvarint(val)
		}
		if start := p.log.Start(); off < start {
			return pgerr.New(pgerr.ObjectNotInPrerequisite,
				"the log of table %d (partition %d) starts at offset %d, but the table's rows are committed only up to offset %d", table, SourcePartition(p.id), start, off)
		}
		offs[p] = off
	}
	if s.wm != nil {
		// The table's rows are the ones its own dataflow admitted; the view
		// takes them all and goes on from the table's watermark state, so
		// that it drops the same later rows the table does.
		val, ok, err := snap.Get(wmKey(s.id, s.id))
		if err != nil {
			return err
		}
		if ok {
			var err error
			if s.maxTS, s.late, err = decodeWatermarkState(val); err != nil {
				return err
			}
		}
	}
	err := ScanRelation(snap, table, nil, func(_ []byte, cnt int64, row types.Row) error {
		in.Add(row, cnt)
		if in.Len() >= readChunk {
			return pushIn()
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := pushIn(); err != nil {
		return err
	}
	for p, off := range offs {
		p.next = off
	}
	return nil
}

// TrimLog calls trim between epochs with the first offset of table src's log
// that some dataflow has not consumed as of its last committed epoch (the
// log's end when none reads it): what retention may delete before. No epoch
// runs while trim does, so no dataflow reads the log meanwhile, and a view
// added later that finds the log cut starts from the table's rows. The
// store is synced first, so that the offsets keep stays behind are durable.
func (rt *Runtime) TrimLog(src uint64, end uint64, trim func(keep uint64) error) error {
	rt.epochMu.Lock()
	defer rt.epochMu.Unlock()
	keep := end
	rt.mu.Lock()
	for _, df := range rt.mu.dataflows {
		if s := df.source(src); s != nil {
			keep = min(keep, s.committed)
		}
	}
	rt.mu.Unlock()
	// The offsets are committed, but perhaps not yet durable (epochs commit
	// without an fsync): after a power loss they could come back older than
	// what trim deletes.
	if err := rt.opts.DB.Sync(); err != nil {
		return err
	}
	return trim(keep)
}

// readFeed reads a feed's records [s.next, limit) in chunks, pushing each
// chunk's rows through the source's leaves.
func readFeed(s *source, limit uint64, use *rowSlab, in *Batch, pushIn func() error) error {
	var rows []types.Row
	fu := FeedUse{Need: use.need}
	if use.private {
		if use.vals == nil {
			use.vals = make([]Value, readChunk*use.ncols)
		}
		fu.Slab = use.vals
	}
	for s.next < limit {
		to := min(limit, s.next+readChunk)
		rows = s.feed.AppendRows(rows[:0], s.next, to, fu)
		for _, r := range rows {
			if s.wm != nil && !s.admit(r, 1) {
				continue
			}
			in.Add(r, 1)
		}
		s.next = to
		if err := pushIn(); err != nil {
			return err
		}
	}
	return nil
}

// StateBytes is the size (keys and values, as stored) of dataflow id's
// operator state in storage, read from a scan of its state spans: what the
// view keeps besides its rows. It reads a snapshot and does not stop epochs.
func (rt *Runtime) StateBytes(id uint64) (int64, error) {
	lower, _ := storage.StateSpan(id << 8)
	_, upper := storage.StateSpan(id<<8 | 0xff)
	var n int64
	err := rt.opts.DB.Scan(lower, upper, false, func(key, val []byte) (bool, error) {
		n += int64(len(key) + len(val))
		return true, nil
	})
	return n, err
}

// StoreStats returns the state store's background work counts (flushes,
// compactions, write stalls): what can slow an epoch besides its own work.
func (rt *Runtime) StoreStats() storage.Stats { return rt.opts.DB.Stats() }
