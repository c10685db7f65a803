package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/kappa-db/kappa/pgerr"
)

// DB is kappa's pebble store.
type DB struct {
	pdb *pebble.DB
	// gen counts committed batches. A pebble iterator reads the store as
	// it was when it was made, so an iterator made at generation gen sees
	// everything while gen is still current and may miss writes after.
	gen atomic.Uint64
	// iters keeps iterators between scans of the DB: making and closing a
	// pebble iterator cost a third of a point query's read. Only iterators
	// of the current generation are reused, and a commit closes the idle
	// ones, so a kept iterator neither reads stale data nor pins old
	// memtables and sstables past the next commit.
	iters  [iterPoolSize]atomic.Pointer[pooledIter]
	closed atomic.Bool
	// dropMu serializes filesChanged's closing of kept iterators with
	// Close, so that none is closed after the store.
	dropMu sync.Mutex
	// stats count pebble's background work (Stats).
	stats struct {
		flushes, compactions, stalls atomic.Int64
		compactedBytes, stallNanos   atomic.Int64
		stallStart                   atomic.Int64 // unix nanos of the open stall
	}
	// serve holds the in-memory serving indexes of relations (serve.go).
	serve serving
}

// Stats are counts of the store's background work since it opened: what
// can take a CPU from the epochs or delay a commit.
type Stats struct {
	Flushes, Compactions int64
	CompactedBytes       int64 // bytes the compactions wrote
	// WriteStalls are the times pebble held commits back (too many L0 files
	// or memtables waiting to flush), WriteStallTime how long in all.
	WriteStalls    int64
	WriteStallTime time.Duration
	// CompactionDebt is pebble's estimate of the bytes left to compact.
	CompactionDebt uint64
}

// Stats returns the store's background work counts.
func (db *DB) Stats() Stats {
	return Stats{
		Flushes: db.stats.flushes.Load(), Compactions: db.stats.compactions.Load(),
		CompactedBytes: db.stats.compactedBytes.Load(),
		WriteStalls:    db.stats.stalls.Load(), WriteStallTime: time.Duration(db.stats.stallNanos.Load()),
		CompactionDebt: db.pdb.Metrics().Compact.EstimatedDebt,
	}
}

// iterPoolSize bounds the idle iterators a DB keeps: about as many as scans
// that run at once (one per busy connection) on a small machine. When all
// are taken a scan makes an iterator as before.
const iterPoolSize = 16

// pooledIter is an iterator with the generation it was made at.
type pooledIter struct {
	it  *pebble.Iterator
	gen uint64
}

// quietLogger sends pebble's chatter to slog at debug level.
type quietLogger struct{ l *slog.Logger }

func (q quietLogger) Infof(format string, args ...interface{}) {
	if q.l != nil {
		q.l.Debug(fmt.Sprintf(format, args...))
	}
}
func (q quietLogger) Errorf(format string, args ...interface{}) {
	if q.l != nil {
		q.l.Error(fmt.Sprintf(format, args...))
	}
}
func (q quietLogger) Fatalf(format string, args ...interface{}) {
	panic(fmt.Sprintf("pebble: "+format, args...))
}

// Open opens (creating if needed) the store in dir.
func Open(dir string, logger *slog.Logger) (*DB, error) {
	return open(dir, nil, logger)
}

// open is Open on a pebble filesystem (the disk when fs is nil): tests use
// pebble's crashable in-memory one.
func open(dir string, fs vfs.FS, logger *slog.Logger) (*DB, error) {
	opts := &pebble.Options{
		FS:                 fs,
		FormatMajorVersion: pebble.FormatNewest,
		Logger:             quietLogger{logger},
		MemTableSize:       64 << 20,
		// pebble's default block cache is 8 MiB; with less than a few
		// views' worth of blocks cached, every point query re-reads and
		// decompresses index and data blocks. The cache fills on demand.
		CacheSize: 256 << 20,
	}
	db := &DB{}
	// A flush or a compaction replaces the files a kept iterator pins; let
	// them go even if no commit follows (a store that is only read).
	opts.EventListener = &pebble.EventListener{
		FlushEnd: func(pebble.FlushInfo) {
			db.stats.flushes.Add(1)
			db.filesChanged()
		},
		CompactionEnd: func(info pebble.CompactionInfo) {
			db.stats.compactions.Add(1)
			for _, t := range info.Output.Tables {
				db.stats.compactedBytes.Add(int64(t.Size))
			}
			db.filesChanged()
		},
		WriteStallBegin: func(pebble.WriteStallBeginInfo) {
			db.stats.stalls.Add(1)
			db.stats.stallStart.Store(time.Now().UnixNano())
		},
		WriteStallEnd: func() {
			if t := db.stats.stallStart.Swap(0); t != 0 {
				db.stats.stallNanos.Add(time.Now().UnixNano() - t)
			}
		},
	}
	// MinLZ (pebble's "Fastest" profile on amd64) compresses flushed
	// memtables at about a third of snappy's CPU: a table's pages after a
	// large COPY are flushed whole (serverbench ingest: snappy was 7% of
	// the process's CPU).
	opts.ApplyCompressionSettings(func() pebble.DBCompressionSettings { return pebble.DBCompressionFastest })
	opts.EnsureDefaults()
	pdb, err := pebble.Open(dir, opts)
	if err != nil {
		return nil, pgerr.Wrap(err, pgerr.IOError, "opening storage in "+dir)
	}
	db.pdb = pdb
	return db, nil
}

// Close closes the store. No scan may run during or after it.
func (db *DB) Close() error {
	db.closed.Store(true)
	db.dropMu.Lock()
	db.dropIters()
	db.dropMu.Unlock()
	return db.pdb.Close()
}

// Reader reads keys: the DB itself, a Snapshot, or an indexed Batch (which
// sees its own writes).
type Reader interface {
	// Get returns a copy of the value of key, or ok=false.
	Get(key []byte) (val []byte, ok bool, err error)
	// GetFunc calls fn with the value of key if it exists; the value is
	// valid only during fn. It saves Get's copy.
	GetFunc(key []byte, fn func(val []byte) error) error
	// Scan calls fn for every key in [lower, upper) in order (reverse=true for
	// descending); key and val are valid only during fn. fn returns false to stop.
	Scan(lower, upper []byte, reverse bool, fn func(key, val []byte) (bool, error)) error
}

type pebbleReader interface {
	Get(key []byte) ([]byte, io.Closer, error)
	NewIter(o *pebble.IterOptions) (*pebble.Iterator, error)
}

func get(r pebbleReader, key []byte) ([]byte, bool, error) {
	v, closer, err := r.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, pgerr.Wrap(err, pgerr.IOError, "storage get")
	}
	out := bytes.Clone(v)
	closer.Close()
	return out, true, nil
}

func getFunc(r pebbleReader, key []byte, fn func(val []byte) error) error {
	v, closer, err := r.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return nil
	}
	if err != nil {
		return pgerr.Wrap(err, pgerr.IOError, "storage get")
	}
	err = fn(v)
	closer.Close()
	return err
}

func scan(r pebbleReader, lower, upper []byte, reverse bool, fn func(key, val []byte) (bool, error)) error {
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return pgerr.Wrap(err, pgerr.IOError, "storage scan")
	}
	_, err = iterate(it, reverse, fn)
	if cerr := it.Close(); err == nil && cerr != nil {
		err = pgerr.Wrap(cerr, pgerr.IOError, "storage scan")
	}
	return err
}

// iterate calls fn for every key of it in order until fn returns false or an
// error; it leaves it open. broken says the error came from the iterator,
// which must not be reused.
func iterate(it *pebble.Iterator, reverse bool, fn func(key, val []byte) (bool, error)) (broken bool, err error) {
	var ok bool
	if reverse {
		ok = it.Last()
	} else {
		ok = it.First()
	}
	for ok {
		v, verr := it.ValueAndErr()
		if verr != nil {
			return true, pgerr.Wrap(verr, pgerr.IOError, "storage scan")
		}
		more, ferr := fn(it.Key(), v)
		if ferr != nil {
			return false, ferr
		}
		if !more {
			return false, nil
		}
		if reverse {
			ok = it.Prev()
		} else {
			ok = it.Next()
		}
	}
	if err := it.Error(); err != nil {
		return true, pgerr.Wrap(err, pgerr.IOError, "storage scan")
	}
	return false, nil
}

func (db *DB) Get(key []byte) ([]byte, bool, error) {
	if v, found, ok := db.serveGet(key); ok {
		if !found {
			return nil, false, nil
		}
		return bytes.Clone(v), true, nil
	}
	return get(db.pdb, key)
}

func (db *DB) GetFunc(key []byte, fn func([]byte) error) error {
	if v, found, ok := db.serveGet(key); ok {
		if !found {
			return nil
		}
		return fn(v)
	}
	return getFunc(db.pdb, key, fn)
}

func (db *DB) Scan(lower, upper []byte, reverse bool, fn func(key, val []byte) (bool, error)) error {
	if c, t := db.serve.indexed(lower); t != nil && servedSpan(c, lower, upper) {
		if ok, err := c.prefixScan(&db.serve, lower, upper, reverse, fn); ok {
			return err
		}
		return servedScan(c, t, lower, upper, reverse, fn)
	}
	p, err := db.iter(lower, upper)
	if err != nil {
		return pgerr.Wrap(err, pgerr.IOError, "storage scan")
	}
	broken, err := iterate(p.it, reverse, fn)
	if broken {
		_ = p.it.Close() // err says what went wrong
		return err
	}
	if rerr := db.release(p); err == nil && rerr != nil {
		err = pgerr.Wrap(rerr, pgerr.IOError, "storage scan")
	}
	return err
}

// iter returns an iterator over [lower, upper) that sees every batch
// committed so far: a kept one of the current generation, or a new one.
func (db *DB) iter(lower, upper []byte) (*pooledIter, error) {
	// The generation is read before the iterator is made, so a commit
	// racing with NewIter leaves the iterator marked older than it is
	// (never reused after that commit), not newer.
	gen := db.gen.Load()
	for i := range db.iters {
		if db.iters[i].Load() == nil {
			continue
		}
		p := db.iters[i].Swap(nil)
		if p == nil {
			continue
		}
		if p.gen == gen {
			p.it.SetBounds(lower, upper)
			return p, nil
		}
		_ = p.it.Close() // stale; its error was checked when it was kept
	}
	it, err := db.pdb.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return nil, err
	}
	return &pooledIter{it: it, gen: gen}, nil
}

// release keeps p for the next scan if it is still current and healthy,
// else closes it.
func (db *DB) release(p *pooledIter) error {
	if err := p.it.Error(); err != nil || p.gen != db.gen.Load() || db.closed.Load() {
		cerr := p.it.Close()
		return errors.Join(err, cerr)
	}
	for i := range db.iters {
		if db.iters[i].CompareAndSwap(nil, p) {
			// Close or a commit may have drained the slots between the
			// checks above and the store; drain again so that nothing
			// outlives them.
			if db.closed.Load() || p.gen != db.gen.Load() {
				db.dropIters()
			}
			return nil
		}
	}
	return p.it.Close()
}

// committed marks a commit: iterators made before it may miss its writes.
func (db *DB) committed() {
	db.gen.Add(1)
	db.dropIters()
}

// filesChanged marks a flush or compaction: the kept iterators still read
// correctly but pin the files it replaced. pebble calls it holding its own
// lock, which closing an iterator may take, so they are closed on another
// goroutine.
func (db *DB) filesChanged() {
	db.gen.Add(1)
	if db.closed.Load() {
		return
	}
	go func() {
		db.dropMu.Lock()
		defer db.dropMu.Unlock()
		if !db.closed.Load() {
			db.dropIters()
		}
	}()
}

// dropIters closes the kept iterators of older generations (all of them
// once the DB is closed).
func (db *DB) dropIters() {
	gen, closed := db.gen.Load(), db.closed.Load()
	for i := range db.iters {
		p := db.iters[i].Load()
		if p == nil || (p.gen == gen && !closed) {
			continue
		}
		if db.iters[i].CompareAndSwap(p, nil) {
			_ = p.it.Close() // its error was checked when it was kept
		}
	}
}

// Sync makes every batch committed so far durable (one fsync of pebble's
// WAL). Epochs commit without it, since the logs can replay a lost epoch;
// whoever deletes log records that the committed offsets cover calls it
// first, so that the offsets cannot fall back behind what is deleted.
func (db *DB) Sync() error {
	if err := db.pdb.LogData(nil, pebble.Sync); err != nil {
		return pgerr.Wrap(err, pgerr.IOError, "storage sync")
	}
	return nil
}

// Compact compacts the keys in [lower, upper) down the levels now. After a
// DeleteRange it gives the deleted keys' space back at once, and the
// deleted keys no longer ride along in the compactions that later writes
// set off (after a large view is dropped, those compactions read and
// rewrote its rows while the next views ran).
//
// A range with less than minCompactBytes on disk is left alone: its
// compaction would cost more (a memtable flush first) than it saves.
func (db *DB) Compact(lower, upper []byte) error {
	if n, err := db.pdb.EstimateDiskUsage(lower, upper); err != nil || n < minCompactBytes {
		return nil
	}
	if err := db.pdb.Compact(context.Background(), lower, upper, false); err != nil {
		return pgerr.Wrap(err, pgerr.IOError, "storage compaction")
	}
	return nil
}

// minCompactBytes is the least on-disk size of a range Compact compacts.
const minCompactBytes = 32 << 20

// Snapshot is a consistent read view of the store at one epoch boundary.
type Snapshot struct{ s *pebble.Snapshot }

// NewSnapshot pins the current state.
func (db *DB) NewSnapshot() *Snapshot { return &Snapshot{s: db.pdb.NewSnapshot()} }

func (s *Snapshot) Get(key []byte) ([]byte, bool, error) { return get(s.s, key) }
func (s *Snapshot) GetFunc(key []byte, fn func([]byte) error) error {
	return getFunc(s.s, key, fn)
}
func (s *Snapshot) Scan(lower, upper []byte, reverse bool, fn func(key, val []byte) (bool, error)) error {
	return scan(s.s, lower, upper, reverse, fn)
}

// Close releases the snapshot.
func (s *Snapshot) Close() error { return s.s.Close() }

// Batch is a set of writes committed atomically. It is indexed: reads through
// it see its own uncommitted writes over the committed store.
type Batch struct {
	b  *pebble.Batch
	db *DB
	// serve holds the batch's changes to relations served from memory,
	// applied to their indexes at commit (serve.go).
	serve []serveOp
}

// NewBatch starts an indexed batch.
func (db *DB) NewBatch() *Batch { return &Batch{b: db.pdb.NewIndexedBatch(), db: db} }

// NewBatchWithSize starts an indexed batch with room for about size bytes of
// writes, so that a batch known to become large (an epoch's table pages after
// a large COPY) is not regrown, and copied, a dozen times on the way.
func (db *DB) NewBatchWithSize(size int) *Batch {
	return &Batch{b: db.pdb.NewIndexedBatchWithSize(size), db: db}
}

func (b *Batch) Get(key []byte) ([]byte, bool, error) { return get(b.b, key) }
func (b *Batch) GetFunc(key []byte, fn func([]byte) error) error {
	return getFunc(b.b, key, fn)
}
func (b *Batch) Scan(lower, upper []byte, reverse bool, fn func(key, val []byte) (bool, error)) error {
	return scan(b.b, lower, upper, reverse, fn)
}

// Set writes key=val; both are copied.
func (b *Batch) Set(key, val []byte) error {
	if err := b.b.Set(key, val, nil); err != nil {
		return pgerr.Wrap(err, pgerr.IOError, "storage set")
	}
	if len(key) >= 9 && key[0] == spaceRelation {
		b.noteSet(key, val)
	}
	return nil
}

// Delete removes key.
func (b *Batch) Delete(key []byte) error {
	if err := b.b.Delete(key, nil); err != nil {
		return pgerr.Wrap(err, pgerr.IOError, "storage delete")
	}
	if len(key) >= 9 && key[0] == spaceRelation {
		b.noteDelete(key)
	}
	return nil
}

// DeleteRange removes [lower, upper).
func (b *Batch) DeleteRange(lower, upper []byte) error {
	if err := b.b.DeleteRange(lower, upper, nil); err != nil {
		return pgerr.Wrap(err, pgerr.IOError, "storage delete range")
	}
	b.noteDeleteRange(lower, upper)
	return nil
}

// Apply adds o's writes to b, as if made after b's own.
func (b *Batch) Apply(o *Batch) error {
	if err := b.b.Apply(o.b, nil); err != nil {
		return pgerr.Wrap(err, pgerr.IOError, "storage apply batch")
	}
	b.serve = append(b.serve, o.serve...)
	return nil
}

// Len is the batch's size in bytes.
func (b *Batch) Len() int { return b.b.Len() }

// Commit applies the batch atomically; sync waits for the WAL fsync.
func (b *Batch) Commit(sync bool) error {
	opts := pebble.NoSync
	if sync {
		opts = pebble.Sync
	}
	empty := b.b.Empty()
	if len(b.serve) > 0 {
		// The indexes change in pebble's commit order: the commit and
		// their update are one step for batches that change one.
		sv := &b.db.serve
		sv.mu.Lock()
		err := b.b.Commit(opts)
		if err == nil {
			sv.applyServeLocked(b.serve)
		} else {
			sv.dropServeLocked(b.serve)
		}
		sv.mu.Unlock()
		b.serve = nil
		b.db.committed()
		if err != nil {
			return pgerr.Wrap(err, pgerr.IOError, "storage commit")
		}
		return nil
	}
	err := b.b.Commit(opts)
	// Even a failed commit may have applied: stop reusing older iterators
	// either way, before the caller can tell anyone about the writes. An
	// empty batch changes nothing.
	if !empty {
		b.db.committed()
	}
	if err != nil {
		return pgerr.Wrap(err, pgerr.IOError, "storage commit")
	}
	return nil
}

// Close discards an uncommitted batch (and releases a committed one).
func (b *Batch) Close() error {
	b.serve = nil
	return b.b.Close()
}
