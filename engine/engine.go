package engine

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kappa-db/kappa/catalog"
	"github.com/kappa-db/kappa/exec"
	"github.com/kappa-db/kappa/log"
	"github.com/kappa-db/kappa/pgerr"
	"github.com/kappa-db/kappa/pgwire"
	"github.com/kappa-db/kappa/planner"
	"github.com/kappa-db/kappa/sql"
	"github.com/kappa-db/kappa/storage"
	"github.com/kappa-db/kappa/vfs"
)

// Config configures an Engine.
type Config struct {
	DataDir         string
	BarrierInterval time.Duration
	// Sync is the durability of table appends (log.SyncGroup by default).
	Sync   log.SyncMode
	Logger *slog.Logger
	// ProgressInterval is how often a materialized view's backfill sends
	// the creating session a NOTICE with its progress (2 s by default).
	ProgressInterval time.Duration
	// RetentionInterval is how often the tables' log retention is enforced
	// (DefaultRetentionInterval by default).
	RetentionInterval time.Duration
	// LogSegmentBytes is the size at which a table log starts a new segment
	// (log.DefaultSegmentBytes by default); retention deletes whole segments.
	LogSegmentBytes int64
	// QueryMemory is the default of the query_memory setting: the bytes
	// one ad hoc query may hold in memory (0: exec.DefaultQueryMemory,
	// negative: no bound).
	QueryMemory int64
	// MaxConnections is what SHOW max_connections reports: the limit the
	// server (pgwire) enforces; 0 means none.
	MaxConnections int
	// FS is the filesystem of the data directory's logs and catalog files
	// (vfs.Default when nil); tests wrap it to inject faults.
	FS vfs.FS

	// beforeStart, when set (by tests), runs after the dataflows are
	// restored and before the runtime runs its first epoch.
	beforeStart func(*Engine)
}

// Engine is one kappa database.
type Engine struct {
	cfg     Config
	fs      vfs.FS
	lock    interface{ Close() error }
	db      *storage.DB
	cat     *catalog.Catalog
	planner *planner.Planner
	rt      *exec.Runtime

	// ddlMu serializes DDL statements.
	ddlMu sync.Mutex

	// retentionStop and retentionDone stop the retention loop;
	// retentionMu serialises its passes.
	retentionStop, retentionDone chan struct{}
	retentionMu                  sync.Mutex

	// lockMu guards the tables' write locks (lock.go) and every session's
	// waitingFor.
	lockMu sync.Mutex
	locks  map[uint64]*writeLock
	// commitMu is the runtime's barrier: a transaction that appends to
	// several tables' logs holds it shared meanwhile, an epoch takes it
	// while it captures the logs' ends.
	commitMu sync.RWMutex
	// txnLog holds the redo records of transactions over several tables.
	txnLog *log.Log
	// txnHeld holds, per multi-table commit in progress, the transaction
	// log's end when it started: trimTxnLog keeps every redo record from
	// the smallest of them on. Guarded by txnHeldMu.
	txnHeldMu sync.Mutex
	txnHeld   map[uint64]uint64
	txnHeldN  uint64
	// sessions counts the sessions opened, to number them.
	sessions atomic.Uint64
	// homeCounter spreads the transactions that insert into a partitioned
	// table without a primary key over its partitions, round-robin.
	homeCounter atomic.Uint64

	// recovered holds, per table log partition, its end when the engine
	// opened. Every session's reads wait until the dataflows have caught up
	// with it, so that writes acknowledged before a crash are visible as
	// soon as the server accepts clients again. Written only by Open.
	recovered map[uint64]uint64

	mu struct {
		sync.Mutex
		// logs are the open logs, by source id (exec.PartitionSource).
		logs map[uint64]*log.Log
		// broken holds materialized views that could not be restarted.
		broken map[uint64]error
		// replanned counts the views recomputed at start because their
		// plan changed (refreshPlan).
		replanned int
		// feeds holds the inputs of sources, built on first use.
		feeds map[uint64]exec.Feed
		// backfills are the materialized views being backfilled now.
		backfills map[uint64]*backfillState
		// logins counts the open sessions of each role (CONNECTION LIMIT).
		logins map[uint64]int
		// streams are the running queries of open cursors; Close stops
		// them before it closes the store their snapshots pin.
		streams map[*rowStream]struct{}
	}
}

// Open opens (creating if needed) the database in cfg.DataDir and starts
// its dataflows from their committed epochs.
func Open(cfg Config) (*Engine, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	e := &Engine{cfg: cfg, fs: vfs.Default}
	if cfg.FS != nil {
		e.fs = cfg.FS
	}
	e.mu.logs = map[uint64]*log.Log{}
	e.locks = map[uint64]*writeLock{}
	e.mu.broken = map[uint64]error{}
	e.mu.logins = map[uint64]int{}
	e.mu.feeds = map[uint64]exec.Feed{}
	e.mu.backfills = map[uint64]*backfillState{}
	e.mu.streams = map[*rowStream]struct{}{}
	if e.cfg.ProgressInterval <= 0 {
		e.cfg.ProgressInterval = 2 * time.Second
	}
	e.recovered = map[uint64]uint64{}
	if err := e.fs.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, pgerr.Wrap(err, pgerr.IOError, "creating data directory")
	}
	lock, err := e.fs.Lock(filepath.Join(cfg.DataDir, "LOCK"))
	if err != nil {
		return nil, pgerr.Wrap(err, pgerr.ObjectNotInPrerequisite, "locking data directory "+cfg.DataDir+" (is another kappa running on it?)")
	}
	e.lock = lock
	ok := false
	defer func() {
		if !ok {
			e.closeAll()
		}
	}()
	if e.db, err = storage.Open(filepath.Join(cfg.DataDir, "state"), cfg.Logger); err != nil {
		return nil, err
	}
	if e.cat, err = catalog.Open(e.db); err != nil {
		return nil, err
	}
	e.planner = &planner.Planner{Catalog: e.cat, Feed: e.sourceFeed, Backfills: e.backfillInfo, Watermarks: e.watermarkInfo, Logs: e.logInfo}
	e.rt = exec.NewRuntime(exec.Options{
		DB:              e.db,
		Logs:            e.tableLog,
		Partitions:      e.partitionCount,
		BarrierInterval: cfg.BarrierInterval,
		Logger:          cfg.Logger,
		Barrier:         &e.commitMu,
	})
	if err := e.restore(); err != nil {
		return nil, err
	}
	if cfg.beforeStart != nil {
		cfg.beforeStart(e)
	}
	e.rt.Start()
	if e.cfg.RetentionInterval <= 0 {
		e.cfg.RetentionInterval = DefaultRetentionInterval
	}
	e.retentionStop, e.retentionDone = make(chan struct{}), make(chan struct{})
	go e.retentionLoop(e.retentionStop, e.retentionDone)
	ok = true
	return e, nil
}

// logDir is the directory of a table's log partition (its source id,
// exec.PartitionSource): DATA/log/<table id> for partition 0, and
// DATA/log/<table id>.<partition> for the others.
func (e *Engine) logDir(src uint64) string {
	return filepath.Join(e.cfg.DataDir, "log", logDirName(src))
}

func logDirName(src uint64) string {
	name := strconv.FormatUint(exec.SourceTable(src), 10)
	if p := exec.SourcePartition(src); p > 0 {
		name += "." + strconv.Itoa(p)
	}
	return name
}

// partitionSources lists the inputs relation id is read as: the source ids
// of a table's log partitions, or id itself.
func (e *Engine) partitionSources(id uint64) []uint64 {
	n := e.partitionCount(id)
	if n == 1 {
		return []uint64{id}
	}
	out := make([]uint64, n)
	for p := range out {
		out[p] = exec.PartitionSource(id, p)
	}
	return out
}

// partitionCount is the number of partitions of relation id's log (1 for
// anything but a table made WITH (partitions = N)).
func (e *Engine) partitionCount(id uint64) int {
	o, ok := e.cat.Get(id)
	if !ok || o.Kind != catalog.KindTable {
		return 1
	}
	return partitionsOf(o)
}

// openLog returns the log of a table's partition (its source id) if it is
// open, without opening it (unlike tableLog): background passes must not
// give a dropped table its directory back.
func (e *Engine) openLog(id uint64) (*log.Log, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	l, ok := e.mu.logs[id]
	return l, ok
}

// tableLog returns the open log of a table's partition (its source id:
// the table's id for partition 0), opening it if needed.
func (e *Engine) tableLog(id uint64) (*log.Log, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if l, ok := e.mu.logs[id]; ok {
		return l, nil
	}
	l, err := log.Open(log.Options{FS: e.fs, Dir: e.logDir(id), Sync: e.cfg.Sync, SegmentBytes: e.cfg.LogSegmentBytes})
	if err != nil {
		return nil, err
	}
	e.mu.logs[id] = l
	return l, nil
}

// restore starts every table's and materialized view's dataflow and removes
// log directories that no catalog object owns (left by a crash during
// CREATE TABLE or DROP TABLE).
func (e *Engine) restore() error {
	if err := e.redoTransactions(); err != nil {
		return fmt.Errorf("re-applying committed transactions: %w", err)
	}
	owned := map[string]bool{}
	for _, o := range e.cat.All() {
		switch o.Kind {
		case catalog.KindTable:
			if err := e.rt.Add(tableDataflow(o)); err != nil {
				return fmt.Errorf("restoring table %s: %w", o.Name, err)
			}
			for _, src := range e.partitionSources(o.ID) {
				owned[logDirName(src)] = true
				lg, err := e.tableLog(src)
				if err != nil {
					return fmt.Errorf("restoring table %s: %w", o.Name, err)
				}
				e.recovered[src] = lg.End()
			}
		}
	}
	for _, o := range e.cat.All() {
		if o.Kind != catalog.KindMaterializedView {
			continue
		}
		spec, err := e.viewDataflow(o)
		if err == nil {
			_, err = e.refreshPlan(o, spec.Plan)
		}
		if err == nil {
			err = e.rt.Add(spec)
		}
		if err != nil {
			e.cfg.Logger.Error("materialized view could not be restarted", "name", o.Name, "err", err)
			e.mu.broken[o.ID] = err
		}
	}
	if err := e.removeOrphanedData(); err != nil {
		return err
	}
	names, err := e.fs.List(filepath.Join(e.cfg.DataDir, "log"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return pgerr.Wrap(err, pgerr.IOError, "listing logs")
	}
	for _, n := range names {
		if !owned[n] {
			if err := e.fs.RemoveAll(filepath.Join(e.cfg.DataDir, "log", n)); err != nil {
				return pgerr.Wrap(err, pgerr.IOError, "removing orphaned log "+n)
			}
		}
	}
	return nil
}

// removeOrphanedData deletes the rows, state and offsets of dataflows that
// no catalog object owns: a CREATE OR REPLACE MATERIALIZED VIEW that crashed
// before its swap, or a view whose creation failed and whose cleanup did
// not finish. Every dataflow that committed an epoch has offsets.
func (e *Engine) removeOrphanedData() error {
	lower, _ := storage.OffsetSpan(0)
	_, upper := storage.OffsetSpan(^uint64(0))
	orphans := map[uint64]bool{}
	err := e.db.Scan(lower, upper, false, func(key, _ []byte) (bool, error) {
		if len(key) >= 9 {
			id := binary.BigEndian.Uint64(key[1:9])
			if _, ok := e.cat.Get(id); !ok {
				orphans[id] = true
			}
		}
		return true, nil
	})
	if err != nil || len(orphans) == 0 {
		return err
	}
	b := e.db.NewBatch()
	defer b.Close()
	for id := range orphans {
		e.cfg.Logger.Info("removing the data of a dataflow no catalog object owns", "id", id)
		if err := exec.DeleteRelationData(b, id); err != nil {
			return err
		}
	}
	return b.Commit(true)
}

func tableDataflow(o *catalog.Object) exec.DataflowSpec {
	t := &exec.TableSink{Rel: o.ID, PK: o.PrimaryKey}
	if o.Watermark != nil {
		t.Watermark = &exec.ScanWatermark{Col: o.Watermark.Column, Delay: o.Watermark.Delay}
	}
	return exec.DataflowSpec{ID: o.ID, Name: o.Name, TableID: o.ID, Table: t}
}

// viewDataflow plans a materialized view's dataflow from its definition.
func (e *Engine) viewDataflow(o *catalog.Object) (exec.DataflowSpec, error) {
	stmts, err := sql.Parse(o.CreateSQL)
	if err != nil {
		return exec.DataflowSpec{}, err
	}
	cmv, ok := stmts[0].(*sql.CreateMaterializedView)
	if !ok {
		return exec.DataflowSpec{}, pgerr.New(pgerr.DataCorrupted, "definition of %s is a %T", o.Name, stmts[0])
	}
	mv, err := e.planner.PlanMaterializedViewAt(o.CreateSQL, cmv.Query, cmv.Columns, o.JoinState)
	if err != nil {
		return exec.DataflowSpec{}, err
	}
	return exec.DataflowSpec{
		ID: o.ID, Name: o.Name, Plan: mv.Plan,
		View: &exec.ViewSink{Rel: o.ID, KeyCols: o.KeyCols, Unique: o.Unique, AppendOnly: o.AppendOnly},
	}, nil
}

// Close commits a final epoch, syncs and closes everything.
func (e *Engine) Close() error {
	return e.closeAll()
}

func (e *Engine) closeAll() error {
	var errs []error
	if e.retentionStop != nil {
		close(e.retentionStop)
		<-e.retentionDone
		e.retentionStop = nil
	}
	if e.rt != nil {
		errs = append(errs, e.rt.Close())
	}
	e.mu.Lock()
	streams := e.mu.streams
	e.mu.streams = map[*rowStream]struct{}{}
	e.mu.Unlock()
	for rs := range streams {
		rs.close()
	}
	e.mu.Lock()
	for id, l := range e.mu.logs {
		errs = append(errs, l.Close())
		delete(e.mu.logs, id)
	}
	e.mu.Unlock()
	if e.txnLog != nil {
		errs = append(errs, e.txnLog.Close())
		e.txnLog = nil
	}
	if e.db != nil {
		errs = append(errs, e.db.Close())
		e.db = nil
	}
	if e.lock != nil {
		errs = append(errs, e.lock.Close())
		e.lock = nil
	}
	return errors.Join(errs...)
}

// NewSession implements pgwire.Engine.
func (e *Engine) NewSession(ctx context.Context, p pgwire.SessionParams) (pgwire.Session, error) {
	r, err := e.loginRole(p.User)
	if err != nil {
		return nil, err
	}
	if err := e.beginLogin(r); err != nil {
		return nil, err
	}
	s := newSession(e, p)
	s.authRole, s.sessionRole, s.currentRole = r.ID, r.ID, r.ID
	s.userName, s.sessionUserName = r.Name, r.Name
	s.settings["is_superuser"] = onOff(r.Superuser)
	return s, nil
}

// Catalog exposes the catalog (for tests and tools).
func (e *Engine) Catalog() *catalog.Catalog { return e.cat }

// Runtime exposes the dataflow runtime (for tests and tools).
func (e *Engine) Runtime() *exec.Runtime { return e.rt }
