package log

import (
	"fmt"
	"sort"

	"github.com/kappa-db/kappa/pgerr"
	"github.com/kappa-db/kappa/vfs"
)

// Read calls fn for the durable records from offset from on, in order, at
// most maxRecords of them, and returns the offset to read next. rec is only
// valid during the call (it points into a reused buffer). If fn returns an
// error, Read stops and returns that record's offset and the error. A from at
// or past End() reads nothing. fn must not call Close.
//
// Read does not allocate per record: it reads segment files in pieces of a
// megabyte and starts from the sparse index entry nearest to from.
func (l *Log) Read(from uint64, maxRecords int, fn func(offset uint64, rec []byte) error) (next uint64, err error) {
	return l.read(from, maxRecords, func(offset uint64, _ int64, rec []byte) error { return fn(offset, rec) })
}

// ReadWithTime is Read with the time (Unix nanoseconds) at which each
// record's Append was written.
func (l *Log) ReadWithTime(from uint64, maxRecords int, fn func(offset uint64, appendTime int64, rec []byte) error) (next uint64, err error) {
	return l.read(from, maxRecords, fn)
}

// ReadUnits is Read for a reader that must see every Append and
// AppendGroup whole (a dataflow, so that a statement becomes visible in a view
// all at once): it reads the records in [from, until) and stops after the
// first unit (a batch, or a group's run of batches) that brings it to
// maxRecords or more, never inside one. until is clipped to End and should be
// an offset End had (a unit boundary).
func (l *Log) ReadUnits(from, until uint64, maxRecords int, fn func(offset uint64, rec []byte) error) (next uint64, err error) {
	return l.readOpts(from, until, maxRecords, true, func(offset uint64, _ int64, rec []byte) error { return fn(offset, rec) })
}

func (l *Log) read(from uint64, maxRecords int, fn func(offset uint64, appendTime int64, rec []byte) error) (uint64, error) {
	return l.readOpts(from, ^uint64(0), maxRecords, false, fn)
}

func (l *Log) readOpts(from, until uint64, maxRecords int, whole bool, fn func(offset uint64, appendTime int64, rec []byte) error) (uint64, error) {
	l.readMu.RLock()
	defer l.readMu.RUnlock()
	l.mu.RLock()
	closed, segs := l.mu.closed, l.mu.segments
	end := min(l.end.Load(), until)
	l.mu.RUnlock()
	if closed {
		return from, ErrClosed
	}
	if from < segs[0].base {
		return from, pgerr.Wrap(ErrOffsetRemoved, pgerr.ObjectNotInPrerequisite,
			fmt.Sprintf("log %s: offset %d is before the log's start %d", l.opts.Dir, from, segs[0].base))
	}
	if from >= end || maxRecords <= 0 {
		return from, nil
	}
	// The last segment whose base is at or before from.
	i := sort.Search(len(segs), func(i int) bool { return segs[i].base > from }) - 1

	w := newWindow()
	defer w.release()
	next, n := from, 0
	// unit says that the last batch read was continued by the next: a
	// ReadUnits must go on whatever maxRecords says.
	unit := false
	for ; i < len(segs) && next < end && (n < maxRecords || unit); i++ {
		s := segs[i]
		l.mu.RLock()
		indexed := s.indexed
		l.mu.RUnlock()
		if !indexed {
			if err := l.buildIndex(s); err != nil {
				return next, err
			}
		}
		f, err := s.reader(l.fs)
		if err != nil {
			return next, err
		}
		l.mu.RLock()
		limit, pos := s.durable, s.lookupLocked(next)
		l.mu.RUnlock()
		w.reset(f, limit)
		for pos < limit && next < end && (n < maxRecords || unit) {
			var stop bool
			pos, stop, unit, err = l.readBatch(w, s, pos, &next, &n, end, maxRecords, whole, fn)
			if err != nil || stop {
				return next, err
			}
		}
	}
	return next, nil
}

// readBatch delivers the wanted records of the batch at pos and returns the
// position of the next batch; stop says that fn failed or the read is done,
// cont that a ReadUnits must read the next batch too. With whole, maxRecords
// does not stop it inside the batch.
func (l *Log) readBatch(w *window, s *segment, pos int64, next *uint64, n *int, end uint64, maxRecords int, whole bool,
	fn func(offset uint64, appendTime int64, rec []byte) error) (_ int64, stop, cont bool, _ error) {
	h, err := readHeader(w, pos)
	if err != nil {
		return pos, true, false, l.readError(err, s, pos)
	}
	cont = whole && h.flags&flagContinued != 0
	if h.end() <= *next {
		return pos + h.size(), false, cont, nil // before from: skip without reading the payload
	}
	if whole {
		maxRecords = int(^uint(0) >> 1)
	}
	b, err := w.at(pos, int(h.size()))
	if err != nil {
		return pos, true, false, l.readError(err, s, pos)
	}
	if h.checksum(b) != h.crc {
		return pos, true, false, l.readError(errBadChecksum, s, pos)
	}
	it := h.iter(b[h.headerLen():h.size()])
	for {
		rec, ok := it.next()
		if !ok {
			break
		}
		off := it.off
		if off < *next {
			continue
		}
		// Offsets between *next and off are gaps a compaction left.
		if off >= end {
			*next = max(*next, end)
			return pos, true, false, nil
		}
		if *n >= maxRecords {
			*next = max(*next, off)
			return pos, true, false, nil
		}
		if err := fn(off, h.appendTime, rec); err != nil {
			return pos, true, false, err
		}
		*next = off + 1
		*n++
	}
	if it.err != nil {
		return pos, true, false, l.readError(it.err, s, pos)
	}
	if h.compacted {
		// The offsets compaction dropped are read past, so that a reader
		// moves on even where no record is left.
		*next = max(*next, min(h.end(), end))
	}
	return pos + h.size(), false, cont, nil
}

// readError reports a failure to read durable data: either the disk failed,
// or bytes that were synced and checked no longer check out.
func (l *Log) readError(err error, s *segment, pos int64) error {
	switch err {
	case errShortBatch, errBadMagic, errBadVersion, errBadLength, errBadChecksum, errBadRecords:
		return pgerr.Wrap(err, pgerr.DataCorrupted, fmt.Sprintf("log segment %s is corrupt at byte %d", s.path, pos))
	}
	return ioError(err, "read log segment %s at byte %d", s.path, pos)
}

// RemoveBefore deletes the segments all of whose records are before offset
// (never the segment being appended to), oldest first, and returns the new
// Start(). Reads of removed offsets fail with an error wrapping
// ErrOffsetRemoved. It waits for Reads in progress.
func (l *Log) RemoveBefore(offset uint64) (uint64, error) {
	// Segments past End may hold records of a commit still in progress.
	offset = min(offset, l.End())
	l.readMu.Lock()
	defer l.readMu.Unlock()
	for {
		l.mu.RLock()
		segs, closed := l.mu.segments, l.mu.closed
		l.mu.RUnlock()
		if closed {
			return 0, ErrClosed
		}
		// segs[1].base is where segs[0]'s records end.
		if len(segs) < 2 || segs[1].base > offset {
			return segs[0].base, nil
		}
		s := segs[0]
		// Remove and sync one at a time, so that a crash leaves a suffix of
		// the segments and never a gap.
		if err := l.fs.Remove(s.path); err != nil {
			return s.base, ioError(err, "remove log segment %s", s.path)
		}
		if err := vfs.SyncDir(l.fs, l.opts.Dir); err != nil {
			return s.base, ioError(err, "sync log directory %s", l.opts.Dir)
		}
		l.mu.Lock()
		l.mu.segments = l.mu.segments[1:]
		l.mu.Unlock()
		l.size.Add(-s.size)
		s.rmu.Lock()
		if s.rf != nil {
			err := s.rf.Close()
			s.rf = nil
			if err != nil {
				s.rmu.Unlock()
				return segs[1].base, ioError(err, "close removed log segment %s", s.path)
			}
		}
		s.rmu.Unlock()
	}
}
