package log

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kappa-db/kappa/pgerr"
	"github.com/kappa-db/kappa/vfs"
)

// SyncMode says when an Append is acknowledged.
type SyncMode int

const (
	// SyncGroup (the default) acknowledges an Append once it is fsynced; one
	// write and fdatasync covers every Append that queued while the previous
	// one ran.
	SyncGroup SyncMode = iota
	// SyncAlways gives every Append its own write and fdatasync. It is never
	// safer than SyncGroup, only slower; it exists to measure group commit
	// against.
	SyncAlways
	// SyncOff acknowledges an Append once it is written to the OS: it survives
	// a crash of the process but not of the machine. Segments are still synced
	// when they roll and on Close.
	SyncOff
)

func (m SyncMode) String() string {
	switch m {
	case SyncGroup:
		return "group"
	case SyncAlways:
		return "always"
	case SyncOff:
		return "off"
	}
	return fmt.Sprintf("SyncMode(%d)", int(m))
}

// DefaultSegmentBytes is the segment size used when Options.SegmentBytes is 0.
const DefaultSegmentBytes = 64 << 20

const (
	// mergeBatchBytes caps how much of a group commit's concurrent Appends are
	// merged into one batch; larger Appends get a batch each.
	mergeBatchBytes = 1 << 20
	// maxGroupBytes caps how much one group commit takes from the queue, to
	// bound the writer's buffer.
	maxGroupBytes = 16 << 20
)

// Options configure Open.
type Options struct {
	FS  vfs.FS // vfs.Default when nil
	Dir string // the log's own directory; created if missing
	// Sync says when an Append is acknowledged (default SyncGroup).
	Sync SyncMode
	// SegmentBytes is the size at which a new segment file starts (default
	// DefaultSegmentBytes). A batch bigger than this gets a segment of its own.
	SegmentBytes int64
	// GroupCommitDelay is how long the writer waits for more Appends after the
	// first one of a group arrives (default 0: it takes whatever queued
	// during the previous write and fsync).
	GroupCommitDelay time.Duration
	// SegmentAge, when positive, also rolls the active segment by age: an
	// Append finding the segment's first record older than this starts a
	// new segment, so that retention by age (Retain) can delete old records
	// of a table that grows slowly. Roll does the same for a log that gets
	// no Appends at all.
	SegmentAge time.Duration
	// Now is the clock that stamps Appends and that Retain and SegmentAge
	// measure age by (time.Now when nil); tests pass a fake one.
	Now func() time.Time
}

// Log is one partition's durable log. Its methods are safe for concurrent
// use.
type Log struct {
	opts Options
	fs   vfs.FS
	lock io.Closer

	reqs chan *appendReq
	// enqMu is held shared while queueing and exclusively by Close, which
	// sets enqClosed before it answers what is left in the queue. (The
	// queue's order, which is the order of the offsets, is the order in
	// which calls queued.)
	enqMu     sync.RWMutex
	enqClosed bool
	// chainErr is the error of the first chained append that failed since
	// ResetChain: later chained appends fail with it.
	chainErr   atomic.Pointer[pgerr.Error]
	rolls      chan rollReq
	closing    chan struct{}
	writerDone chan struct{}
	closeOnce  sync.Once

	end  atomic.Uint64 // next offset among published (durable) records
	size atomic.Int64  // bytes written to segment files

	// readMu is held shared by every Read while it uses segment files, and
	// exclusively by Close, RemoveBefore and Compact while they close or
	// replace them.
	readMu sync.RWMutex

	// compactMu serialises Compact and Retain; compactedTo is where the
	// last Compact's range ended.
	compactMu   sync.Mutex
	compactedTo uint64

	mu struct {
		sync.RWMutex
		segments []*segment // by base; the last one is being appended to
		notify   chan struct{}
		closed   bool
		failed   *pgerr.Error // set once a write or sync failed: fail-stop
	}

	// w is the writer goroutine's own state.
	w struct {
		seg         *segment
		f           vfs.File // append handle of seg
		size        int64    // bytes written to seg
		firstTime   int64    // append time of seg's first batch; 0 while it has none
		lastTime    int64    // append time of the last batch written
		next        uint64   // next offset to assign
		lastIndexed int64    // position of seg's last index entry
		pending     []indexEntry
		recent      []indexEntry // starts of the active segment's last batches
		batch       batchWriter
		group       []*appendReq
		// groupSeg is the active segment when the group being written
		// began; writeFailed says that a write (not a sync) of it failed.
		groupSeg    *segment
		writeFailed bool
		timer       *time.Timer
	}
}

type appendReq struct {
	records [][]byte
	group   [][][]byte // an AppendGroup's batches; records is nil then
	first   uint64
	err     error
	done    chan struct{}
	// chained: the append fails if a chained append queued before it
	// failed (Enqueue).
	chained bool
	// sizes are the group's batches' payload bytes, worked out once by
	// encodedLen (a million-record group is a pass over every record).
	sizes []int64
}

var reqPool = sync.Pool{New: func() any { return &appendReq{done: make(chan struct{}, 1)} }}

// closedChan is what Notify returns once the log is closed or failed.
var closedChan = func() chan struct{} { c := make(chan struct{}); close(c); return c }()

// Open opens the log in opts.Dir, creating it if needed. It takes the
// directory's lock file, then recovers: it checks every batch of the last
// segment and truncates (and syncs) the log at the first batch whose length,
// framing or checksum is wrong, which is where a crash tore an unacknowledged
// write.
func Open(opts Options) (*Log, error) {
	if opts.Dir == "" {
		return nil, pgerr.New(pgerr.InvalidParameterValue, "log: no directory given")
	}
	if opts.FS == nil {
		opts.FS = vfs.Default
	}
	if opts.SegmentBytes <= 0 {
		opts.SegmentBytes = DefaultSegmentBytes
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Sync < SyncGroup || opts.Sync > SyncOff {
		return nil, pgerr.New(pgerr.InvalidParameterValue, "log: unknown sync mode %d", int(opts.Sync))
	}
	l := &Log{
		opts:       opts,
		fs:         opts.FS,
		reqs:       make(chan *appendReq, queueLen),
		rolls:      make(chan rollReq),
		closing:    make(chan struct{}),
		writerDone: make(chan struct{}),
	}
	l.mu.notify = make(chan struct{})
	if err := vfs.MkdirAllSynced(l.fs, opts.Dir); err != nil {
		return nil, ioError(err, "create log directory %s", opts.Dir)
	}
	lock, err := l.fs.Lock(filepath.Join(opts.Dir, "LOCK"))
	if err != nil {
		if errors.Is(err, vfs.ErrLocked) {
			return nil, pgerr.Wrap(fmt.Errorf("%w: %w", ErrLocked, err), objectInUse,
				fmt.Sprintf("log directory %s is in use by another server", opts.Dir))
		}
		return nil, ioError(err, "lock log directory %s", opts.Dir)
	}
	l.lock = lock
	if err := l.recover(); err != nil {
		errs := []error{err}
		if l.w.f != nil {
			errs = append(errs, l.w.f.Close())
		}
		errs = append(errs, l.closeFiles(), lock.Close())
		if cleanup := errors.Join(errs[1:]...); cleanup != nil {
			return nil, errors.Join(err, cleanup)
		}
		return nil, err
	}
	go l.run()
	return l, nil
}

// recover loads the segment list, checks the last segment and opens it for
// appending.
func (l *Log) recover() error {
	dir := l.opts.Dir
	names, err := l.fs.List(dir)
	if err != nil {
		return ioError(err, "list log directory %s", dir)
	}
	if err := l.recoverCompaction(names); err != nil {
		return err
	}
	if names, err = l.fs.List(dir); err != nil {
		return ioError(err, "list log directory %s", dir)
	}
	var segs []*segment
	for _, name := range names {
		if base, ok := parseSegmentName(name); ok {
			segs = append(segs, &segment{base: base, path: filepath.Join(dir, name)})
		}
	}
	// Fixed-width names list in offset order already; sort anyway, it is cheap.
	sort.Slice(segs, func(i, j int) bool { return segs[i].base < segs[j].base })
	if len(segs) == 0 {
		s := &segment{base: 0, path: segmentPath(dir, 0), indexed: true}
		f, err := l.fs.Create(s.path)
		if err != nil {
			return ioError(err, "create log segment %s", s.path)
		}
		if err := f.Close(); err != nil {
			return ioError(err, "close log segment %s", s.path)
		}
		segs = append(segs, s)
	}
	var total int64
	for i, s := range segs {
		fi, err := l.fs.Stat(s.path)
		if err != nil {
			return ioError(err, "stat log segment %s", s.path)
		}
		s.size, s.durable = fi.Size(), fi.Size()
		if i+1 < len(segs) {
			s.end = segs[i+1].base
		}
		total += s.size
	}

	last := segs[len(segs)-1]
	f, err := l.fs.OpenAppend(last.path)
	if err != nil {
		return ioError(err, "open log segment %s", last.path)
	}
	l.w.f = f
	w := newWindow()
	r, err := scanSegment(w, f, last.size, last.base, true)
	w.release()
	if err != nil {
		return ioError(err, "recover log segment %s", last.path)
	}
	if r.valid < last.size {
		if err := f.Truncate(r.valid); err != nil {
			return ioError(err, "truncate the torn tail of log segment %s at byte %d", last.path, r.valid)
		}
		total -= last.size - r.valid
	}
	// Sync even when nothing was cut: what recovery found may so far live only
	// in the page cache (after a process crash), and readers must never see
	// records that a power loss could still take away.
	if err := f.Sync(); err != nil {
		return ioError(err, "sync log segment %s", last.path)
	}
	if err := vfs.SyncDir(l.fs, dir); err != nil {
		return ioError(err, "sync log directory %s", dir)
	}
	last.size, last.durable, last.end = r.valid, r.valid, r.end
	last.index, last.indexed = r.index, true
	last.firstTime, last.lastTime = r.firstTime, r.lastTime

	l.mu.segments = segs
	l.end.Store(r.end)
	l.size.Store(total)
	l.w.seg = last
	l.w.size = r.valid
	l.w.next = r.end
	l.w.firstTime, l.w.lastTime = r.firstTime, r.lastTime
	l.w.lastIndexed = -indexIntervalBytes
	if n := len(r.index); n > 0 {
		l.w.lastIndexed = r.index[n-1].pos
	}
	l.w.batch.reset()
	return nil
}

// Append appends records as one batch and returns the offset of the first;
// they get consecutive offsets. It returns once they are durable per the
// SyncMode, and it does not keep records (the caller may reuse them). After a
// crash an Append is either wholly present or wholly absent.
//
// An error from a failed write or sync is fail-stop: this and every later
// Append fail, and the records of failed Appends may or may not be present
// after the log is reopened. An Append bigger than MaxBatchBytes fails with
// 54000 (program_limit_exceeded) and does not stop the log.
func (l *Log) Append(records [][]byte) (first uint64, err error) {
	if len(records) == 0 {
		l.mu.RLock()
		closed, failed := l.mu.closed, l.mu.failed
		l.mu.RUnlock()
		switch {
		case closed:
			return 0, ErrClosed
		case failed != nil:
			return 0, failed
		}
		return l.End(), nil
	}
	return l.submit(records, nil)
}

// AppendGroup appends the records of several batches as one unit, for a
// statement too large for one Append: it returns the offset of the first
// record, the records of all batches getting consecutive offsets. Readers see
// none of them until all are durable, and after a crash the group is either
// wholly present or wholly absent. Each batch is bounded by MaxBatchBytes as
// an Append is; the group as a whole is not (it is written to one segment,
// which it may make larger than SegmentBytes). Empty batches are skipped.
func (l *Log) AppendGroup(batches [][][]byte) (first uint64, err error) {
	var nonEmpty [][][]byte
	for _, b := range batches {
		if len(b) > 0 {
			nonEmpty = append(nonEmpty, b)
		}
	}
	switch len(nonEmpty) {
	case 0:
		return l.Append(nil)
	case 1:
		return l.Append(nonEmpty[0])
	}
	return l.submit(nil, nonEmpty)
}

func (l *Log) submit(records [][]byte, group [][][]byte) (first uint64, err error) {
	r, err := l.enqueue(records, group, false)
	if err != nil {
		return 0, err
	}
	return r.wait()
}

// queueLen is how many Appends may wait for the writer: Enqueue returns
// without waiting for it while there is room.
const queueLen = 1024

func (l *Log) enqueue(records [][]byte, group [][][]byte, chained bool) (*appendReq, error) {
	r := reqPool.Get().(*appendReq)
	r.records, r.group, r.err, r.chained, r.sizes = records, group, nil, chained, r.sizes[:0]
	l.enqMu.RLock()
	defer l.enqMu.RUnlock()
	if !l.enqClosed {
		select {
		case l.reqs <- r:
			return r, nil
		case <-l.closing:
		}
	}
	r.records, r.group, r.sizes = nil, nil, r.sizes[:0]
	reqPool.Put(r)
	return nil, ErrClosed
}

// wait waits for the writer's answer and recycles r.
func (r *appendReq) wait() (first uint64, err error) {
	<-r.done
	first, err = r.first, r.err
	r.records, r.group, r.err, r.sizes = nil, nil, nil, r.sizes[:0]
	reqPool.Put(r)
	return first, err
}

// Pending is an append queued by Enqueue.
type Pending struct{ r *appendReq }

// Wait returns what AppendGroup would have: the offset of the first record
// once the append is durable, or its error. Call it exactly once.
func (p *Pending) Wait() (first uint64, err error) { return p.r.wait() }

// Enqueue queues an AppendGroup of batches (all non-empty) and returns
// without waiting for it to be written: Wait on the result does. Appends
// queued one after the other (a call returned before the next began) get
// offsets in that order, so a writer may queue under its own lock, release
// it and wait outside it, and many such writers share one fsync.
//
// A chained append fails, without being written, when a chained append
// queued before it failed and ResetChain was not called since: its writer
// checked something (a key not yet taken) against the earlier appends and
// must not land without them. The caller calls ResetChain once no chained
// append is in flight.
func (l *Log) Enqueue(batches [][][]byte, chained bool) (*Pending, error) {
	var r *appendReq
	var err error
	if len(batches) == 1 {
		r, err = l.enqueue(batches[0], nil, chained)
	} else {
		r, err = l.enqueue(nil, batches, chained)
	}
	if err != nil {
		return nil, err
	}
	return &Pending{r: r}, nil
}

// ResetChain lets chained appends be written again after one failed.
func (l *Log) ResetChain() { l.chainErr.Store(nil) }

// chainFailed notes that chained append r failed with err.
func (l *Log) chainFailed(r *appendReq, err error) {
	if !r.chained || err == nil {
		return
	}
	pe, ok := err.(*pgerr.Error)
	if !ok {
		pe = pgerr.Wrap(err, pgerr.IOError, "log append")
	}
	l.chainErr.CompareAndSwap(nil, pe)
}

// encodedLen is the payload bytes of the request's records.
func (r *appendReq) encodedLen() int64 {
	n := encodedLen(r.records)
	r.groupSizes()
	for _, size := range r.sizes {
		n += size
	}
	return n
}

// groupSizes fills r.sizes for a group, once.
func (r *appendReq) groupSizes() {
	if len(r.sizes) == len(r.group) {
		return
	}
	r.sizes = r.sizes[:0]
	for _, b := range r.group {
		r.sizes = append(r.sizes, encodedLen(b))
	}
}

// run is the writer goroutine: it takes Appends from the queue in groups and
// commits each group with one write and one sync.
func (l *Log) run() {
	defer close(l.writerDone)
	for {
		var r *appendReq
		select {
		case r = <-l.reqs:
		case rr := <-l.rolls:
			rr.done <- l.rollOld(rr.olderThan)
			continue
		case <-l.closing:
			return
		}
		group := append(l.w.group[:0], r)
		if l.opts.Sync != SyncAlways {
			bytes := r.encodedLen()
			if d := l.opts.GroupCommitDelay; d > 0 {
				group, bytes = l.collect(group, bytes, d)
			}
			// Appenders answered by the previous commit are runnable but may
			// not have queued again yet; letting them run first roughly
			// doubles how many Appends one fsync covers.
			runtime.Gosched()
		drain:
			for bytes < maxGroupBytes {
				select {
				case r := <-l.reqs:
					group = append(group, r)
					bytes += r.encodedLen()
				default:
					break drain
				}
			}
		}
		l.commit(group)
		clear(group)
		l.w.group = group[:0]
	}
}

// collect adds Appends to group until d has passed since the first arrived.
func (l *Log) collect(group []*appendReq, bytes int64, d time.Duration) ([]*appendReq, int64) {
	if l.w.timer == nil {
		l.w.timer = time.NewTimer(d)
	} else {
		l.w.timer.Reset(d)
	}
	defer l.w.timer.Stop()
	for bytes < maxGroupBytes {
		select {
		case r := <-l.reqs:
			group = append(group, r)
			bytes += r.encodedLen()
		case <-l.w.timer.C:
			return group, bytes
		case <-l.closing:
			return group, bytes
		}
	}
	return group, bytes
}

// commit writes and syncs one group of Appends, publishes them to readers and
// answers them.
func (l *Log) commit(group []*appendReq) {
	var err error // not *pgerr.Error: a nil one would be a non-nil error
	l.mu.RLock()
	failed := l.mu.failed
	l.mu.RUnlock()
	if failed != nil {
		err = failed
	} else if perr := l.writeGroup(group); perr != nil {
		if !(perr.Code == pgerr.DiskFull && l.w.writeFailed && l.undoUnpublished()) {
			l.fail(perr)
		}
		err = perr
	}
	for _, r := range group {
		if r.err == nil {
			r.err = err
		}
		l.chainFailed(r, r.err)
		r.done <- struct{}{}
	}
}

func (l *Log) writeGroup(group []*appendReq) *pgerr.Error {
	w := &l.w
	now := l.opts.Now().UnixNano()
	w.batch.reset()
	if age := l.opts.SegmentAge; age > 0 && w.size > 0 && w.firstTime <= now-int64(age) {
		if err := l.roll(); err != nil {
			return err
		}
	}
	w.groupSeg, w.writeFailed = w.seg, false
	wrote := false
	for _, r := range group {
		if r.chained {
			if ce := l.chainErr.Load(); ce != nil {
				r.err = ce
				continue
			}
		}
		if r.group != nil {
			if err := l.writeAppendGroup(r, now); err != nil {
				return err
			}
			wrote = wrote || r.err == nil
			l.chainFailed(r, r.err)
			continue
		}
		n := encodedLen(r.records)
		if n > MaxBatchBytes {
			r.err = pgerr.New(pgerr.ProgramLimitExceeded,
				"log append of %d records is %d bytes, more than the limit of %d", len(r.records), n, MaxBatchBytes)
			l.chainFailed(r, r.err)
			continue
		}
		if w.batch.start >= 0 && w.batch.payloadLen()+n > mergeBatchBytes {
			l.closeBatch(now)
		}
		if w.batch.start < 0 {
			pending := w.size + int64(len(w.batch.buf))
			if pending > 0 && pending+batchHeaderLen+n > l.opts.SegmentBytes {
				if err := l.roll(); err != nil {
					return err
				}
			}
			w.batch.open(w.next)
		}
		w.batch.add(r.records)
		r.first = w.next
		w.next += uint64(len(r.records))
		wrote = true
	}
	if !wrote {
		return nil
	}
	if w.batch.start >= 0 {
		l.closeBatch(now)
	}
	if err := l.flush(); err != nil {
		return err
	}
	if l.opts.Sync != SyncOff {
		if err := w.f.Sync(); err != nil {
			return ioError(err, "sync log segment %s", w.seg.path)
		}
	}
	l.publish()
	return nil
}

// writeAppendGroup writes an AppendGroup's batches, all but the last flagged
// continued, into one segment. The caller publishes them with the rest of its
// group.
func (l *Log) writeAppendGroup(r *appendReq, now int64) *pgerr.Error {
	w := &l.w
	var total int64
	r.groupSizes()
	for i, b := range r.group {
		n := r.sizes[i]
		if n > MaxBatchBytes {
			r.err = pgerr.New(pgerr.ProgramLimitExceeded,
				"log append of %d records is %d bytes, more than the limit of %d", len(b), n, MaxBatchBytes)
			return nil
		}
		total += batchHeaderLen + n
	}
	if w.batch.start >= 0 {
		l.closeBatch(now)
	}
	// A group never straddles segments, so that recovery, which checks only
	// the last segment, always sees a torn group whole.
	if pending := w.size + int64(len(w.batch.buf)); pending > 0 && pending+total > l.opts.SegmentBytes {
		if err := l.roll(); err != nil {
			return err
		}
	}
	r.first = w.next
	for i, b := range r.group {
		w.batch.open(w.next)
		w.batch.add(b)
		w.next += uint64(len(b))
		var flags byte
		if i < len(r.group)-1 {
			flags = flagContinued
		}
		l.closeBatchFlags(now, flags)
		// Write as we go rather than hold a second copy of a large group.
		if err := l.flush(); err != nil {
			return err
		}
	}
	return nil
}

// closeBatch finishes the open batch and notes it in the sparse index.
func (l *Log) closeBatch(now int64) { l.closeBatchFlags(now, 0) }

func (l *Log) closeBatchFlags(now int64, flags byte) {
	w := &l.w
	pos := w.size + int64(w.batch.start)
	h := w.batch.close(now, flags)
	if pos == 0 {
		w.firstTime = now
	}
	w.lastTime = now
	if pos-w.lastIndexed >= indexIntervalBytes {
		w.pending = append(w.pending, indexEntry{offset: h.base, pos: pos})
		w.lastIndexed = pos
	}
	w.recent = append(w.recent, indexEntry{offset: h.base, pos: pos})
}

// recentBatches is how many batch starts a segment remembers for readers
// that tail the log.
const recentBatches = 256

// flush writes the encoded batches to the active segment.
func (l *Log) flush() *pgerr.Error {
	w := &l.w
	if len(w.batch.buf) == 0 {
		return nil
	}
	n, err := w.f.Write(w.batch.buf)
	w.size += int64(n)
	l.size.Add(int64(n))
	if err != nil {
		w.writeFailed = true
		return ioError(err, "write log segment %s", w.seg.path)
	}
	w.batch.reset()
	return nil
}

// publish makes everything written so far visible to readers and wakes
// waiters. The caller has synced it, unless the mode is SyncOff.
func (l *Log) publish() {
	w := &l.w
	l.mu.Lock()
	w.seg.size, w.seg.durable, w.seg.end = w.size, w.size, w.next
	w.seg.firstTime, w.seg.lastTime = w.firstTime, w.lastTime
	w.seg.index = append(w.seg.index, w.pending...)
	w.pending = w.pending[:0]
	if len(w.recent) > 2*recentBatches {
		// A new array: readers may still hold the old one.
		w.recent = append([]indexEntry(nil), w.recent[len(w.recent)-recentBatches:]...)
	}
	// Readers share the array: the writer only appends past their length.
	w.seg.recent = w.recent
	l.end.Store(w.next)
	close(l.mu.notify)
	l.mu.notify = make(chan struct{})
	l.mu.Unlock()
}

// roll seals the active segment and starts the next one. The sealed segment
// is synced in every mode and the new name is synced into the directory before
// anything is written to it, so that all segments but the last are always
// whole on disk and recovery only needs to check the last.
func (l *Log) roll() *pgerr.Error {
	w := &l.w
	if err := l.flush(); err != nil {
		return err
	}
	if err := w.f.Sync(); err != nil {
		return ioError(err, "sync log segment %s", w.seg.path)
	}
	// The sealed segment is durable now, though its last records are not yet
	// published: readers stay within End, which moves once the whole group is
	// durable. Recording it here also keeps fail from cutting synced records
	// out of a segment that a new one already follows.
	l.mu.Lock()
	w.seg.size, w.seg.durable, w.seg.end = w.size, w.size, w.next
	w.seg.firstTime, w.seg.lastTime = w.firstTime, w.lastTime
	w.seg.index = append(w.seg.index, w.pending...)
	w.seg.recent = w.recent
	l.mu.Unlock()
	w.pending = w.pending[:0]
	w.recent = nil // the next segment's batches start a new list

	next := &segment{base: w.next, path: segmentPath(l.opts.Dir, w.next), indexed: true, end: w.next}
	f, err := l.fs.Create(next.path)
	if err != nil {
		return ioError(err, "create log segment %s", next.path)
	}
	if err := vfs.SyncDir(l.fs, l.opts.Dir); err != nil {
		_ = f.Close() // the log is failing; the sync error is the one to report
		return ioError(err, "sync log directory %s", l.opts.Dir)
	}
	l.mu.Lock()
	l.mu.segments = append(l.mu.segments, next)
	l.mu.Unlock()
	old, oldPath := w.f, w.seg.path
	w.seg, w.f, w.size, w.lastIndexed = next, f, 0, -indexIntervalBytes
	w.firstTime = 0
	if err := old.Close(); err != nil {
		return ioError(err, "close log segment %s", oldPath)
	}
	return nil
}

// undoUnpublished takes back a group whose write failed for lack of space,
// so that the log goes on (the appenders get 53100 and may retry once space
// is back): it cuts the active segment back to its durable size and forgets
// the group's offsets and index entries. A failed write, unlike a failed
// fsync, leaves the page cache truthful, so nothing acknowledged is at risk.
// It reports false, and the caller fails the log, when it cannot: the group
// rolled to a new segment, or the cut itself failed.
func (l *Log) undoUnpublished() bool {
	w := &l.w
	if w.seg != w.groupSeg {
		return false
	}
	l.mu.RLock()
	durable := w.seg.durable
	index := w.seg.index
	l.mu.RUnlock()
	if w.size > durable {
		if err := w.f.Truncate(durable); err != nil {
			return false
		}
		l.size.Add(durable - w.size)
		w.size = durable
	}
	if w.size == 0 {
		w.firstTime = 0
	}
	w.next = l.end.Load()
	w.batch.reset()
	w.pending = w.pending[:0]
	for len(w.recent) > 0 && w.recent[len(w.recent)-1].pos >= durable {
		w.recent = w.recent[:len(w.recent)-1]
	}
	w.lastIndexed = -indexIntervalBytes
	if n := len(index); n > 0 {
		w.lastIndexed = index[n-1].pos
	}
	return true
}

// fail puts the log into the failed state: no more appends until reopened.
func (l *Log) fail(err *pgerr.Error) {
	// Cut what was written but never published, so that this process's page
	// cache does not show a reopened log records nobody was promised. Best
	// effort: after a failed fsync the disk itself is suspect.
	w := &l.w
	l.mu.RLock()
	durable := w.seg.durable
	l.mu.RUnlock()
	if w.size > durable {
		if terr := w.f.Truncate(durable); terr != nil {
			err = err.WithDetail("cutting the unacknowledged tail also failed: %v", terr)
		} else {
			l.size.Add(durable - w.size)
			w.size = durable
		}
	}
	w.batch.reset()
	w.pending = w.pending[:0]
	l.mu.Lock()
	l.mu.failed = pgerr.Wrap(err, err.Code,
		fmt.Sprintf("log %s refuses appends after a failed write or sync; reopen it", l.opts.Dir))
	close(l.mu.notify)
	l.mu.notify = closedChan
	l.mu.Unlock()
}

// Err returns the error that stopped the log, or nil.
func (l *Log) Err() error {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.mu.failed == nil {
		return nil
	}
	return l.mu.failed
}

// End returns the offset the next durable record will get: readers see the
// records [Start(), End()).
func (l *Log) End() uint64 { return l.end.Load() }

// Start returns the first offset still in the log (0 unless RemoveBefore
// removed segments).
func (l *Log) Start() uint64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.mu.segments[0].base
}

// Size returns the bytes of the log's segment files.
func (l *Log) Size() int64 { return l.size.Load() }

// ApproxBytes estimates how many bytes of segment the durable records
// [from, to) take, from the sparse index: it may count up to an index
// interval and a batch more at each end (and the whole of a segment whose
// index is not built yet). Readers that copy the records elsewhere use it as
// a size hint.
func (l *Log) ApproxBytes(from, to uint64) int64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	var n int64
	for _, s := range l.mu.segments {
		if s.end <= from || s.base >= to {
			continue
		}
		lo, hi := int64(0), s.durable
		if from > s.base {
			lo = s.lookupLocked(from)
		}
		if to < s.end {
			hi = min(hi, s.lookupLocked(to)+indexIntervalBytes)
		}
		n += max(hi-lo, 0)
	}
	return n
}

// Notify returns a channel that is closed when End moves past its value at
// the time of the call, or when the log closes or fails. Take the channel
// before reading End, so that no move is missed.
func (l *Log) Notify() <-chan struct{} {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.mu.notify
}

// Wait blocks until End() > offset, the context ends (returning its error),
// or the log closes (ErrClosed) or fails (its error).
func (l *Log) Wait(ctx context.Context, offset uint64) error {
	for {
		l.mu.RLock()
		ch, closed, failed := l.mu.notify, l.mu.closed, l.mu.failed
		l.mu.RUnlock()
		switch {
		case l.end.Load() > offset:
			return nil
		case closed:
			return ErrClosed
		case failed != nil:
			return failed
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
		}
	}
}

// Close stops the writer, syncs (with SyncOff) and closes the files, and
// releases the directory lock. Appends still queued fail with ErrClosed or
// complete; Read, Wait and Append afterwards return ErrClosed. Close waits
// for Reads in progress.
func (l *Log) Close() error {
	var err error
	l.closeOnce.Do(func() { err = l.close() })
	return err
}

func (l *Log) close() error {
	close(l.closing)
	<-l.writerDone
	l.enqMu.Lock()
	l.enqClosed = true
	l.enqMu.Unlock()
	for drained := false; !drained; {
		select {
		case r := <-l.reqs:
			r.err = ErrClosed
			r.done <- struct{}{}
		default:
			drained = true
		}
	}
	var errs []error
	l.mu.Lock()
	failed := l.mu.failed
	l.mu.closed = true
	if failed == nil {
		close(l.mu.notify)
		l.mu.notify = closedChan
	}
	l.mu.Unlock()
	if failed == nil && l.opts.Sync == SyncOff {
		if err := l.w.f.Sync(); err != nil {
			errs = append(errs, ioError(err, "sync log segment %s", l.w.seg.path))
		}
	}
	if err := l.w.f.Close(); err != nil {
		errs = append(errs, ioError(err, "close log segment %s", l.w.seg.path))
	}
	l.readMu.Lock()
	if err := l.closeFiles(); err != nil {
		errs = append(errs, err)
	}
	l.readMu.Unlock()
	if err := l.lock.Close(); err != nil {
		errs = append(errs, ioError(err, "unlock log directory %s", l.opts.Dir))
	}
	return errors.Join(errs...)
}

// closeFiles closes the segments' read handles.
func (l *Log) closeFiles() error {
	var errs []error
	l.mu.RLock()
	segs := l.mu.segments
	l.mu.RUnlock()
	for _, s := range segs {
		s.rmu.Lock()
		if s.rf != nil {
			if err := s.rf.Close(); err != nil {
				errs = append(errs, ioError(err, "close log segment %s", s.path))
			}
			s.rf = nil
		}
		s.rmu.Unlock()
	}
	return errors.Join(errs...)
}
