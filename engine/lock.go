package engine

import (
	"context"
	"strconv"
	"time"

	"github.com/kappa-db/kappa/pgerr"
)

// writeLock is a table's write lock. A transaction that reads what it wrote
// to a table, or that checks rows of it (a primary key, an UPDATE or DELETE
// finding rows), holds the lock exclusively from then to its end, so that no
// other write lands in between and its checks are never stale (small
// inserts into a table with a primary key release it once their append is
// queued, pkwrite.go). An append of
// inserts into a table without a primary key by a transaction that never read
// the table takes it shared, only for the append: such appends share the
// log's group commit, and an exclusive holder sees the log end stand still.
//
// Waits respect cancel and statement_timeout (the statement's ctx) and
// lock_timeout, and a wait that would close a cycle of sessions waiting
// for each other fails with 40P01 (deadlock_detected). All fields are
// guarded by Engine.lockMu.
type writeLock struct {
	id      uint64
	owner   *Session // exclusive holder
	readers int
	// writers counts exclusive waiters: new shared holders wait for them,
	// so that a stream of appends cannot starve a transaction.
	writers int
	// released is closed and replaced whenever the lock is released.
	released chan struct{}
	// broken is set when a committed transaction could not be appended
	// whole: the table takes no more writes until a restart redoes it.
	broken error
	// keys is the table's overlay of pending insert keys (pkwrite.go),
	// with its own mutex.
	keys *pendingKeys
}

// writeLock returns table id's lock.
func (e *Engine) writeLock(id uint64) *writeLock {
	e.lockMu.Lock()
	defer e.lockMu.Unlock()
	l, ok := e.locks[id]
	if !ok {
		l = &writeLock{id: id, released: make(chan struct{}), keys: &pendingKeys{}}
		e.locks[id] = l
	}
	return l
}

// lockWaitNotice is how long a session waits for a lock before it is told
// who holds it.
const lockWaitNotice = time.Second

// lock takes l exclusively for session s (a no-op when s holds it).
func (e *Engine) lockExclusive(ctx context.Context, s *Session, l *writeLock, table string) error {
	return e.acquire(ctx, s, l, table, true)
}

// rlock takes l shared, for one append.
func (e *Engine) rlock(ctx context.Context, s *Session, l *writeLock, table string) error {
	return e.acquire(ctx, s, l, table, false)
}

func (e *Engine) acquire(ctx context.Context, s *Session, l *writeLock, table string, exclusive bool) error {
	var timeout <-chan time.Time
	if d := s.lockTimeout(); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	notice := time.NewTimer(lockWaitNotice)
	defer notice.Stop()
	e.lockMu.Lock()
	waiting := false
	defer func() {
		if waiting {
			l.writers--
		}
		s.waitingFor = nil
		e.lockMu.Unlock()
	}()
	for {
		if l.broken != nil {
			return pgerr.As(l.broken).WithHint("Restart kappa: it re-applies committed transactions from its transaction log.")
		}
		switch {
		case exclusive && l.owner == s:
			return nil
		case exclusive && l.owner == nil && l.readers == 0:
			l.owner = s
			return nil
		case !exclusive && (l.owner == s || (l.owner == nil && l.writers == 0)):
			if l.owner != s {
				l.readers++
			}
			return nil
		}
		if exclusive && !waiting {
			waiting = true
			l.writers++
		}
		if e.deadlockLocked(s, l) {
			return pgerr.New("40P01", "deadlock detected").
				WithDetail("Another session's open transaction holds the write lock of table %q and waits for a lock this session holds.", table).
				WithHint("Write tables in the same order in every transaction.")
		}
		s.waitingFor = l
		ch := l.released
		holder := l.owner
		e.lockMu.Unlock()
		var err error
		select {
		case <-ch:
		case <-ctx.Done():
			err = pgerr.New(pgerr.QueryCanceled, "canceling statement due to user request")
		case <-timeout:
			err = pgerr.New("55P03", "canceling statement due to lock timeout").
				WithDetail("Waiting for the write lock of table %q.", table)
		case <-notice.C:
			if holder != nil {
				s.notice("NOTICE", "55P03", "waiting for the write lock of table \""+table+"\": an open transaction of another session (kappa session "+
					strconv.FormatUint(holder.id, 10)+") has written it and holds the lock until it ends")
			}
		}
		e.lockMu.Lock()
		if err != nil {
			return err
		}
	}
}

// deadlockLocked reports whether s waiting for l would close a cycle: l's
// holder waits, through other holders, for a lock that s holds.
func (e *Engine) deadlockLocked(s *Session, l *writeLock) bool {
	cur := l.owner
	for range 1000 {
		if cur == nil {
			return false
		}
		if cur == s {
			return true
		}
		if cur.waitingFor == nil {
			return false
		}
		cur = cur.waitingFor.owner
	}
	return false
}

// unlock releases s's exclusive hold of l.
func (e *Engine) unlock(s *Session, l *writeLock) {
	e.lockMu.Lock()
	defer e.lockMu.Unlock()
	if l.owner != s {
		panic("engine: unlock of a table lock the session does not hold")
	}
	l.owner = nil
	close(l.released)
	l.released = make(chan struct{})
}

// runlock releases a shared hold of l.
func (e *Engine) runlock(s *Session, l *writeLock) {
	e.lockMu.Lock()
	defer e.lockMu.Unlock()
	if l.owner == s {
		return
	}
	l.readers--
	if l.readers == 0 {
		close(l.released)
		l.released = make(chan struct{})
	}
}

// lockTimeout is the longest a lock wait may take: lock_timeout (0: no
// limit; statement_timeout bounds the whole statement through its ctx).
func (s *Session) lockTimeout() time.Duration {
	ms, err := parseMillis("lock_timeout", s.settings["lock_timeout"])
	if err != nil || ms <= 0 {
		return 0
	}
	return time.Duration(ms) * time.Millisecond
}
