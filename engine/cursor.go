package engine

import (
	"context"
	"math"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/kappa-db/kappa/exec"
	"github.com/kappa-db/kappa/expr"
	"github.com/kappa-db/kappa/pgerr"
	"github.com/kappa-db/kappa/pgwire"
	"github.com/kappa-db/kappa/planner"
	"github.com/kappa-db/kappa/sql"
	"github.com/kappa-db/kappa/storage"
	"github.com/kappa-db/kappa/types"
)

// cursor is an open SQL cursor (DECLARE ... CURSOR FOR query). Its rows come
// from a rowStream that runs the query over a snapshot taken at DECLARE, so
// a cursor reads one point in time however slowly it is fetched, and holds
// in memory only what the query itself must (a sort's rows) plus the
// stream's small buffer. A SCROLL cursor also keeps every row it has read,
// to move backwards over them.
//
// The position follows PostgreSQL's portal: cur is 0 before the first row,
// k on row k, and len+1 past the last (atEnd).
type cursor struct {
	name     string
	sql      string
	hold     bool
	scroll   bool
	binary   bool
	created  time.Time
	inTx     bool // declared in the current transaction block: its ROLLBACK drops it
	cols     []pgwire.Column
	colTypes []types.Type

	rows *rowStream
	// seen holds the rows read so far (scroll cursors only); pulled counts
	// the rows taken from rows.
	seen   []types.Row
	last   types.Row // the row last read forward (FETCH 0 on a forward-only cursor)
	pulled int64
	cur    int64
	atEnd  bool
	// done says rows has no more rows; total is then their number.
	done  bool
	total int64
	err   error // the stream's error, returned by every later fetch
}

// rowStream runs an ad hoc query on its own goroutine and hands its rows
// over a small channel: the query advances only as fast as it is read.
type rowStream struct {
	e      *Engine
	ch     chan types.Row
	cancel context.CancelFunc
	done   chan struct{}
	err    error // set before ch is closed
}

// streamBuffer is how many rows a stream computes ahead of its reader.
const streamBuffer = 256

// startStream runs plan over the snapshot snap (which it closes when the
// query ends) with eval, which it owns.
func (e *Engine) startStream(plan exec.Node, snap *storage.Snapshot, eval *expr.EvalContext) *rowStream {
	ctx, cancel := context.WithCancel(context.Background())
	rs := &rowStream{e: e, ch: make(chan types.Row, streamBuffer), cancel: cancel, done: make(chan struct{})}
	e.mu.Lock()
	e.mu.streams[rs] = struct{}{}
	e.mu.Unlock()
	go func() {
		defer close(rs.done)
		defer func() { _ = snap.Close() }() // a read-only snapshot has nothing to lose
		err := exec.Query(ctx, plan, snap, eval, func(row types.Row) error {
			select {
			case rs.ch <- slices.Clone(row):
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
		rs.err = err
		close(rs.ch)
	}()
	return rs
}

// next returns the stream's next row; ok is false at the end (err then says
// whether the query failed). ctx bounds the wait, not the query.
func (rs *rowStream) next(ctx context.Context) (row types.Row, ok bool, err error) {
	select {
	case row, ok := <-rs.ch:
		if !ok {
			return nil, false, rs.err
		}
		return row, true, nil
	case <-ctx.Done():
		return nil, false, ctx.Err()
	}
}

// close stops the query and waits for its goroutine to end.
func (rs *rowStream) close() {
	rs.cancel()
	<-rs.done
	rs.e.mu.Lock()
	delete(rs.e.mu.streams, rs)
	rs.e.mu.Unlock()
}

func (c *cursor) close() {
	if c.rows != nil {
		c.rows.close()
		c.rows = nil
	}
	c.seen = nil
}

// pull reads the next row of the query.
func (c *cursor) pull(ctx context.Context) (types.Row, bool, error) {
	if c.err != nil {
		return nil, false, c.err
	}
	if c.done {
		return nil, false, nil
	}
	row, ok, err := c.rows.next(ctx)
	if err != nil {
		if ctx.Err() == nil {
			// The query failed: the cursor stays failed. A wait cut short
			// by the caller's ctx leaves the stream usable.
			c.err = err
		}
		return nil, false, err
	}
	if !ok {
		c.done, c.total = true, c.pulled
		return nil, false, nil
	}
	c.pulled++
	if c.scroll {
		c.seen = append(c.seen, row)
	}
	return row, true, nil
}

// rowAt returns row k (1-based) of the query, reading ahead as needed.
func (c *cursor) rowAt(ctx context.Context, k int64) (types.Row, bool, error) {
	for c.pulled < k {
		row, ok, err := c.pull(ctx)
		if err != nil || !ok {
			return nil, false, err
		}
		if !c.scroll && c.pulled == k {
			return row, true, nil
		}
	}
	if !c.scroll {
		// A forward-only cursor reads each row once, in order.
		return nil, false, pgerr.New(pgerr.InternalError, "cursor %q read row %d again", c.name, k)
	}
	return c.seen[k-1], true, nil
}

var errScanForward = pgerr.New(pgerr.ObjectNotInPrerequisite, "cursor can only scan forward").
	WithHint("Declare it with SCROLL option to enable backward scan.")

// fetchAll is PostgreSQL's FETCH_ALL count.
const fetchAll = math.MaxInt64

// runSelect is PostgreSQL's PortalRunSelect: it moves count rows (fetchAll:
// every one) forward or backward, handing each to emit (nil: MOVE), and
// returns how many it moved over.
func (c *cursor) runSelect(ctx context.Context, forward bool, count int64, emit func(types.Row) error) (int64, error) {
	if !forward && !c.scroll {
		return 0, errScanForward
	}
	if count == 0 {
		return 0, nil
	}
	var n int64
	if forward {
		if c.atEnd {
			return 0, nil
		}
		for count == fetchAll || n < count {
			row, ok, err := c.rowAt(ctx, c.cur+1)
			if err != nil {
				return n, err
			}
			if !ok {
				c.cur, c.atEnd = c.total+1, true
				return n, nil
			}
			c.cur++
			c.last = row
			n++
			if emit != nil {
				if err := emit(row); err != nil {
					return n, err
				}
			}
		}
		return n, nil
	}
	if c.cur == 0 {
		return 0, nil
	}
	for count == fetchAll || n < count {
		if c.cur <= 1 {
			c.cur, c.atEnd = 0, false
			return n, nil
		}
		c.cur--
		c.atEnd = false
		n++
		if emit != nil {
			if err := emit(c.seen[c.cur-1]); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// rewind goes back before the first row.
func (c *cursor) rewind() error {
	if c.cur == 0 {
		return nil
	}
	if !c.scroll {
		return errScanForward
	}
	c.cur, c.atEnd = 0, false
	return nil
}

// fetch is PostgreSQL's DoPortalRunFetch: it turns a FETCH or MOVE into
// moves of runSelect and returns the count its tag reports.
func (c *cursor) fetch(ctx context.Context, f *sql.Fetch, emit func(types.Row) error) (int64, error) {
	count := f.Count
	if f.All {
		count = fetchAll
	}
	dir := f.Direction
	switch dir {
	case sql.FetchAbsolute:
		switch {
		case count > 0:
			if c.scroll {
				if err := c.rewind(); err != nil {
					return 0, err
				}
				if _, err := c.runSelect(ctx, true, count-1, nil); err != nil {
					return 0, err
				}
			} else {
				// Forward only: the row must lie ahead.
				pos := c.cur
				if c.atEnd {
					pos = c.total + 1
				}
				if count <= pos {
					return 0, errScanForward
				}
				if _, err := c.runSelect(ctx, true, count-pos-1, nil); err != nil {
					return 0, err
				}
			}
			return c.runSelect(ctx, true, 1, emit)
		case count < 0:
			if _, err := c.runSelect(ctx, true, fetchAll, nil); err != nil {
				return 0, err
			}
			if count < -1 {
				if _, err := c.runSelect(ctx, false, -count-1, nil); err != nil {
					return 0, err
				}
			}
			return c.runSelect(ctx, false, 1, emit)
		default:
			return 0, c.rewind()
		}
	case sql.FetchRelative:
		switch {
		case count > 0:
			if count > 1 {
				if _, err := c.runSelect(ctx, true, count-1, nil); err != nil {
					return 0, err
				}
			}
			return c.runSelect(ctx, true, 1, emit)
		case count < 0:
			if count < -1 {
				if _, err := c.runSelect(ctx, false, -count-1, nil); err != nil {
					return 0, err
				}
			}
			return c.runSelect(ctx, false, 1, emit)
		}
		dir = sql.FetchForward
	}
	forward := dir == sql.FetchForward
	if count == 0 {
		// Count 0 fetches the current row again, if the cursor is on one.
		onRow := c.cur > 0 && !c.atEnd
		if emit == nil {
			if onRow {
				return 1, nil
			}
			return 0, nil
		}
		if !forward && !c.scroll {
			return 0, errScanForward
		}
		if !onRow {
			return 0, nil
		}
		// The current row is at hand even without SCROLL: FETCH 0 needs
		// no backward scan.
		row := c.last
		if c.scroll {
			row = c.seen[c.cur-1]
		}
		return 1, emit(row)
	}
	if count < 0 {
		// FETCH FORWARD -n is FETCH BACKWARD n.
		forward, count = !forward, -count
	}
	return c.runSelect(ctx, forward, count, emit)
}

// declare runs DECLARE: it plans the query, waits for this session's writes
// to be readable, and starts the query.
func (st *statement) declare(ctx context.Context, x *sql.Declare, raw [][]byte, pf []int16) (string, error) {
	s := st.s
	if x.Name == "" {
		return "", pgerr.New(pgerr.InvalidCursorName, "invalid cursor name: must not be empty")
	}
	if !x.Hold && s.tx == 'I' {
		return "", pgerr.New(pgerr.NoActiveSQLTransaction, "DECLARE CURSOR can only be used in transaction blocks")
	}
	if _, ok := s.cursors[x.Name]; ok {
		return "", pgerr.New(pgerr.DuplicateCursor, "cursor %q already exists", x.Name)
	}
	b, err := st.bind()
	if err != nil {
		return "", err
	}
	params, err := st.decodeParams(b, raw, pf, nil)
	if err != nil {
		return "", err
	}
	// The plan is made afresh: the stream's goroutine must not share
	// operator state with this statement's next execution.
	q, err := s.e.planner.PlanQueryIn(st.src, x.Query, b.params, s.plannerSession(st.src))
	if err != nil {
		return "", err
	}
	if err := s.checkRestricted(q.Restricted); err != nil {
		return "", err
	}
	if err := s.checkSelect(q.DependsOn); err != nil {
		return "", err
	}
	if err := s.waitForReads(ctx, q.Reads); err != nil {
		return "", err
	}
	c := &cursor{name: x.Name, sql: x.Info().Text, hold: x.Hold, scroll: x.Scroll, binary: x.Binary,
		created: time.Now(), inTx: s.tx != 'I'}
	names := make([]string, len(q.Columns))
	for i, col := range q.Columns {
		names[i] = col.Name
		c.colTypes = append(c.colTypes, col.Type)
	}
	c.cols = columnsOf(names, c.colTypes)
	eval := st.evalContext(params)
	c.rows = s.e.startStream(q.Plan, s.e.db.NewSnapshot(), eval)
	if s.cursors == nil {
		s.cursors = map[string]*cursor{}
	}
	s.cursors[x.Name] = c
	return "DECLARE CURSOR", nil
}

func noCursor(name string) error {
	return pgerr.New(pgerr.InvalidCursorName, "cursor %q does not exist", name)
}

// runFetch runs FETCH or MOVE.
func (st *statement) runFetch(ctx context.Context, x *sql.Fetch, rf []int16, w pgwire.ResultWriter) (string, error) {
	s := st.s
	c, ok := s.cursors[x.Cursor]
	if !ok {
		return "", noCursor(x.Cursor)
	}
	if x.Move {
		n, err := c.fetch(ctx, x, nil)
		if err != nil {
			return "", err
		}
		return "MOVE " + strconv.FormatInt(n, 10), nil
	}
	cols := c.cols
	if c.binary && len(rf) == 0 {
		// A BINARY cursor's rows are binary unless Bind asked otherwise.
		rf = make([]int16, len(c.cols))
		cols = slices.Clone(cols)
		for i := range rf {
			rf[i], cols[i].Format = 1, 1
		}
	}
	if err := w.Columns(cols); err != nil {
		return "", err
	}
	en := newEncoder(c.colTypes, rf, s.loc)
	n, err := c.fetch(ctx, x, func(row types.Row) error {
		vals, err := en.encode(row)
		if err != nil {
			return err
		}
		return w.Row(vals)
	})
	if err != nil {
		return "", err
	}
	return "FETCH " + strconv.FormatInt(n, 10), nil
}

// runClose runs CLOSE name | ALL.
func (st *statement) runClose(x *sql.Close) (string, error) {
	s := st.s
	if x.All {
		s.closeCursors(func(*cursor) bool { return true })
		return "CLOSE CURSOR", nil
	}
	c, ok := s.cursors[x.Cursor]
	if !ok {
		return "", noCursor(x.Cursor)
	}
	c.close()
	delete(s.cursors, x.Cursor)
	return "CLOSE CURSOR", nil
}

// closeCursors closes the cursors drop says to.
func (s *Session) closeCursors(drop func(*cursor) bool) {
	for name, c := range s.cursors {
		if drop(c) {
			c.close()
			delete(s.cursors, name)
		}
	}
}

// endTxCursors is the end of a transaction block for cursors: COMMIT closes
// those without hold and keeps the others; ROLLBACK also drops the held
// cursors the block declared.
func (s *Session) endTxCursors(commit bool) {
	s.closeCursors(func(c *cursor) bool {
		if !c.hold {
			return true
		}
		return !commit && c.inTx
	})
	for _, c := range s.cursors {
		c.inTx = false
	}
}

// fetchColumns is what Describe says a FETCH returns.
func (s *Session) fetchColumns(x *sql.Fetch) ([]pgwire.Column, error) {
	c, ok := s.cursors[x.Cursor]
	if !ok {
		return nil, noCursor(x.Cursor)
	}
	if x.Move {
		return nil, nil
	}
	return c.cols, nil
}

// cursorRows is pg_cursors' view of the session's cursors.
func (s *Session) cursorRows() []planner.SessionCursor {
	if len(s.cursors) == 0 {
		return nil // planned with every statement: nothing to allocate
	}
	out := make([]planner.SessionCursor, 0, len(s.cursors))
	for _, c := range s.cursors {
		out = append(out, planner.SessionCursor{Name: c.name, Statement: c.sql, Holdable: c.hold,
			Binary: c.binary, Scrollable: c.scroll, Created: c.created})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
