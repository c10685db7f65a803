package log

import "time"

// Retention says how much of a log to keep. Zero fields keep everything.
// Retention only ever deletes whole sealed segments, oldest first, so a log
// keeps somewhat more than it asks for: up to one segment (SegmentBytes, or
// SegmentAge of records) beyond it.
type Retention struct {
	// Age deletes a segment once its newest record is older than this.
	Age time.Duration
	// Bytes deletes the oldest segments while the log's files take more
	// than this.
	Bytes int64
}

// rollReq asks the writer goroutine to roll the active segment.
type rollReq struct {
	olderThan time.Duration
	done      chan error
}

// Roll seals the active segment and starts a new one if the active segment
// holds records and its first one is at least olderThan old (any age when
// olderThan is 0). Retention deletes only sealed segments: a log that gets
// no Appends (so SegmentAge never rolls it) is rolled by whoever enforces
// retention.
func (l *Log) Roll(olderThan time.Duration) error {
	rr := rollReq{olderThan: olderThan, done: make(chan error, 1)}
	select {
	case l.rolls <- rr:
	case <-l.closing:
		return ErrClosed
	}
	return <-rr.done
}

// rollOld is Roll on the writer goroutine.
func (l *Log) rollOld(olderThan time.Duration) error {
	l.mu.RLock()
	failed := l.mu.failed
	l.mu.RUnlock()
	if failed != nil {
		return failed
	}
	w := &l.w
	if w.size == 0 || w.firstTime > l.opts.Now().UnixNano()-int64(olderThan) {
		return nil
	}
	if err := l.roll(); err != nil {
		l.fail(err)
		return err
	}
	return nil
}

// Retain deletes the oldest sealed segments that the policy no longer
// keeps, but none holding a record at or after keep: the first offset that
// some reader has not yet consumed. It returns the new Start(). A Read of a
// deleted offset fails with an error wrapping ErrOffsetRemoved.
func (l *Log) Retain(p Retention, keep uint64) (start uint64, err error) {
	l.compactMu.Lock()
	defer l.compactMu.Unlock()
	l.mu.RLock()
	segs, closed := l.mu.segments, l.mu.closed
	l.mu.RUnlock()
	if closed {
		return 0, ErrClosed
	}
	if p.Age <= 0 && p.Bytes <= 0 {
		return segs[0].base, nil
	}
	cutoff := l.opts.Now().UnixNano() - int64(p.Age)
	size := l.Size()
	// Count the prefix of sealed segments the policy lets go; times grow
	// along the log, so the old ones are a prefix.
	n := 0
	for ; n < len(segs)-1; n++ {
		s := segs[n]
		drop := false
		if p.Bytes > 0 && size > p.Bytes {
			drop = true
		}
		if !drop && p.Age > 0 {
			l.mu.RLock()
			indexed := s.indexed
			l.mu.RUnlock()
			if !indexed {
				// An old segment's times are in its batch headers.
				if err := l.buildIndex(s); err != nil {
					return segs[0].base, err
				}
			}
			l.mu.RLock()
			last := s.lastTime
			l.mu.RUnlock()
			drop = last < cutoff
		}
		if !drop {
			break
		}
		l.mu.RLock()
		size -= s.size
		l.mu.RUnlock()
	}
	if n == 0 {
		return segs[0].base, nil
	}
	return l.RemoveBefore(min(segs[n].base, keep))
}

// Segments returns how many segment files the log has.
func (l *Log) Segments() int {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return len(l.mu.segments)
}
