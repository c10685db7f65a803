package engine

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/kappa-db/kappa/exec"
	"github.com/kappa-db/kappa/pgerr"
	"github.com/kappa-db/kappa/pgwire"
	"github.com/kappa-db/kappa/vfs"
)

// pkw is a pgwire.ResultWriter that keeps the rows as text.
type pkw struct {
	rows   [][]string
	copyIn io.Reader
}

func (w *pkw) Columns([]pgwire.Column) error { return nil }
func (w *pkw) Row(v [][]byte) error {
	r := make([]string, len(v))
	for i, b := range v {
		r[i] = string(b)
	}
	w.rows = append(w.rows, r)
	return nil
}
func (w *pkw) Notice(string, string, string) {}
func (w *pkw) SetParameter(string, string)   {}
func (w *pkw) CopyIn(int8, []int16) (io.Reader, error) {
	if w.copyIn == nil {
		return nil, io.EOF
	}
	return w.copyIn, nil
}

func (w *pkw) CopyOut(int8, []int16) (io.Writer, error) { return io.Discard, nil }
func openPK(t *testing.T, fs vfs.FS) *Engine {
	t.Helper()
	e, err := Open(Config{DataDir: t.TempDir(), FS: fs})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// exec runs one Query message as pgwire does: the statements, then the end
// of the implicit transaction. It returns the last tag and rows.
func execQ(s pgwire.Session, query string) (string, [][]string, error) {
	return execCopy(s, query, "")
}

// execCopy is execQ with data for COPY FROM STDIN.
func execCopy(s pgwire.Session, query, data string) (string, [][]string, error) {
	ctx := context.Background()
	stmts, err := s.Parse(ctx, query)
	if err != nil {
		return "", nil, err
	}
	w := &pkw{}
	if data != "" {
		w.copyIn = strings.NewReader(data)
	}
	var tag string
	for _, st := range stmts {
		if tag, err = st.Execute(ctx, nil, nil, nil, w); err != nil {
			_ = s.EndImplicit(ctx, false)
			return "", nil, err
		}
	}
	return tag, w.rows, s.EndImplicit(ctx, true)
}

func mustQ(t *testing.T, s pgwire.Session, query string) (string, [][]string) {
	t.Helper()
	tag, rows, err := execQ(s, query)
	if err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return tag, rows
}

// settle waits until the table's dataflow applied its whole log and
// returns count(*) and the log's record count.
func settle(t *testing.T, e *Engine, s pgwire.Session, table string) (rows string, logEnd uint64) {
	t.Helper()
	_, r := mustQ(t, s, "BEGIN; UPDATE "+table+" SET v = v WHERE false; SELECT count(*) FROM "+table+"; COMMIT")
	o, ok := e.cat.Lookup(table)
	if !ok {
		t.Fatalf("no table %s", table)
	}
	for p := range partitionsOf(o) {
		lg, err := e.tableLog(exec.PartitionSource(o.ID, p))
		if err != nil {
			t.Fatal(err)
		}
		logEnd += lg.End()
	}
	return r[0][0], logEnd
}

// TestPKInsertRace: sessions insert overlapping keys concurrently; each key
// is inserted exactly once (the others get 23505), and the log holds one
// record per key.
func TestPKInsertRace(t *testing.T) {
	t.Run("unpartitioned", func(t *testing.T) { testPKInsertRace(t, "") })
	t.Run("partitioned", func(t *testing.T) { testPKInsertRace(t, " WITH (partitions = 3)") })
}

func testPKInsertRace(t *testing.T, with string) {
	e := openPK(t, nil)
	s := startSession(t, e)
	mustQ(t, s, "CREATE TABLE t (k int PRIMARY KEY, v int)"+with)
	mustQ(t, s, "CREATE MATERIALIZED VIEW mv AS SELECT count(*) AS n, sum(k) AS s FROM t")
	const sessions, keys = 12, 150
	var wins [keys]atomic.Int32
	var wg sync.WaitGroup
	errs := make(chan error, sessions)
	for g := range sessions {
		ss := startSession(t, e)
		wg.Add(1)
		go func() {
			defer wg.Done()
			order := rand.Perm(keys)
			for i, k := range order {
				q := fmt.Sprintf("INSERT INTO t VALUES (%d, %d)", k, g)
				if i%10 == 0 {
					// A multi-row insert, with a key of its own and one
					// raced for.
					q = fmt.Sprintf("INSERT INTO t VALUES (%d, %d), (%d, %d)", k, g, keys+g*keys+i, g)
				}
				_, _, err := execQ(ss, q)
				switch pgerr.Code(err) {
				case "":
					wins[k].Add(1)
				case pgerr.UniqueViolation:
				default:
					errs <- fmt.Errorf("%s: %v", q, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	extra := 0
	for k := range keys {
		if n := wins[k].Load(); n != 1 {
			t.Errorf("key %d inserted %d times", k, n)
		}
	}
	n, end := settle(t, e, s, "t")
	_, r := mustQ(t, s, "SELECT count(*) FROM t WHERE k >= "+strconv.Itoa(keys))
	extra, _ = strconv.Atoi(r[0][0])
	if want := strconv.Itoa(keys + extra); n != want || end != uint64(keys+extra) {
		t.Fatalf("count(*) = %s, log records = %d, want %s", n, end, want)
	}
	_, r = mustQ(t, s, "SELECT n FROM mv")
	if r[0][0] != n {
		t.Fatalf("mv says %s rows, table %s", r[0][0], n)
	}
}

// TestPKInsertThenWrite: a key inserted by one session is at once seen by
// another session's UPDATE and DELETE, and by a third session's insert of
// the same key (23505 before the delete, success after).
func TestPKInsertThenWrite(t *testing.T) {
	t.Run("unpartitioned", func(t *testing.T) { testPKInsertThenWrite(t, "") })
	t.Run("partitioned", func(t *testing.T) { testPKInsertThenWrite(t, " WITH (partitions = 3)") })
}

func testPKInsertThenWrite(t *testing.T, with string) {
	e := openPK(t, nil)
	s := startSession(t, e)
	mustQ(t, s, "CREATE TABLE t (k int PRIMARY KEY, v int)"+with)
	const pairs, keys = 4, 60
	var wg sync.WaitGroup
	errs := make(chan error, 3*pairs)
	fail := func(format string, args ...any) { errs <- fmt.Errorf(format, args...) }
	for p := range pairs {
		a, b, c := startSession(t, e), startSession(t, e), startSession(t, e)
		ch := make(chan int)
		back := make(chan int)
		wg.Add(2)
		go func() {
			defer wg.Done()
			defer close(ch)
			for i := range keys {
				k := p*keys + i
				if _, _, err := execQ(a, fmt.Sprintf("INSERT INTO t VALUES (%d, 0)", k)); err != nil {
					fail("insert %d: %v", k, err)
					return
				}
				ch <- k
				if _, ok := <-back; !ok {
					return
				}
				// Deleted by the other session: inserting again works.
				if _, _, err := execQ(a, fmt.Sprintf("INSERT INTO t VALUES (%d, 1)", k)); err != nil {
					fail("insert %d after its delete: %v", k, err)
					return
				}
			}
		}()
		go func() {
			defer wg.Done()
			defer func() {
				go func() {
					for range ch {
					}
				}()
			}()
			defer close(back)
			for k := range ch {
				if _, _, err := execQ(c, fmt.Sprintf("INSERT INTO t VALUES (%d, 9)", k)); pgerr.Code(err) != pgerr.UniqueViolation {
					fail("insert of a just-inserted key %d: %v, want 23505", k, err)
					return
				}
				if tag, _, err := execQ(b, fmt.Sprintf("UPDATE t SET v = v + 1 WHERE k = %d", k)); err != nil || tag != "UPDATE 1" {
					fail("update of just-inserted %d: %s %v", k, tag, err)
					return
				}
				if tag, _, err := execQ(b, fmt.Sprintf("DELETE FROM t WHERE k = %d AND v = 1", k)); err != nil || tag != "DELETE 1" {
					fail("delete of just-updated %d: %s %v", k, tag, err)
					return
				}
				back <- k
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	n, _ := settle(t, e, s, "t")
	if n != strconv.Itoa(pairs*keys) {
		t.Fatalf("count(*) = %s, want %d", n, pairs*keys)
	}
	_, r := mustQ(t, s, "SELECT count(*) FROM t WHERE v <> 1")
	if r[0][0] != "0" {
		t.Fatalf("%s rows with v <> 1", r[0][0])
	}
}

// TestPKInsertTxn: small inserts inside blocks, with savepoints, see the
// block's own keys and others' pending ones.
func TestPKInsertTxn(t *testing.T) {
	e := openPK(t, nil)
	s, s2 := startSession(t, e), startSession(t, e)
	mustQ(t, s, "CREATE TABLE t (k int PRIMARY KEY, v int)")
	mustQ(t, s, "INSERT INTO t VALUES (1, 1)")
	mustQ(t, s2, "INSERT INTO t VALUES (2, 2)")
	mustQ(t, s, "BEGIN")
	mustQ(t, s, "INSERT INTO t VALUES (3, 3)")
	if _, _, err := execQ(s, "INSERT INTO t VALUES (3, 4)"); pgerr.Code(err) != pgerr.UniqueViolation {
		t.Fatalf("own key again: %v", err)
	}
	mustQ(t, s, "ROLLBACK")
	mustQ(t, s, "BEGIN")
	mustQ(t, s, "INSERT INTO t VALUES (3, 3)")
	mustQ(t, s, "SAVEPOINT a")
	mustQ(t, s, "INSERT INTO t VALUES (4, 4)")
	mustQ(t, s, "ROLLBACK TO SAVEPOINT a")
	mustQ(t, s, "INSERT INTO t VALUES (4, 5)")
	if _, _, err := execQ(s, "INSERT INTO t VALUES (2, 0)"); pgerr.Code(err) != pgerr.UniqueViolation {
		t.Fatalf("another session's key: %v", err)
	}
	mustQ(t, s, "ROLLBACK TO SAVEPOINT a")
	mustQ(t, s, "INSERT INTO t VALUES (4, 6)")
	_, r := mustQ(t, s, "SELECT sum(v) FROM t")
	if r[0][0] != "12" {
		t.Fatalf("sum in the block: %s", r[0][0])
	}
	mustQ(t, s, "INSERT INTO t VALUES (5, 5)")
	mustQ(t, s, "COMMIT")
	if _, _, err := execQ(s2, "INSERT INTO t VALUES (5, 0)"); pgerr.Code(err) != pgerr.UniqueViolation {
		t.Fatalf("a committed block's key: %v", err)
	}
	_, r = mustQ(t, s, "SELECT count(*), sum(v) FROM t")
	if r[0][0] != "5" || r[0][1] != "17" {
		t.Fatalf("after commit: %v", r)
	}
}

// TestPKInsertAppendFailure: inserts whose append fails (disk full) leave
// no key behind: once there is space, the same keys insert fine, and the
// log holds each acknowledged insert once.
func TestPKInsertAppendFailure(t *testing.T) {
	t.Run("unpartitioned", func(t *testing.T) { testPKInsertAppendFailure(t, "") })
	t.Run("partitioned", func(t *testing.T) { testPKInsertAppendFailure(t, " WITH (partitions = 3)") })
}

func testPKInsertAppendFailure(t *testing.T, with string) {
	var full atomic.Bool
	fs := vfs.WithFaults(vfs.Default, func(op vfs.Op, path string) error {
		if op == vfs.OpWrite && filepath.Ext(path) == ".log" && full.Load() {
			return syscall.ENOSPC
		}
		return nil
	})
	e := openPK(t, fs)
	s := startSession(t, e)
	mustQ(t, s, "CREATE TABLE t (k int PRIMARY KEY, v int)"+with)
	mustQ(t, s, "INSERT INTO t VALUES (0, 0)")
	full.Store(true)
	if _, _, err := execQ(s, "INSERT INTO t VALUES (1, 1)"); pgerr.Code(err) != pgerr.DiskFull {
		t.Fatalf("insert on a full disk: %v, want 53100", err)
	}
	// Concurrent inserts while the disk is full, and while it frees up.
	const sessions, keys = 8, 40
	var acked [sessions * keys]atomic.Bool
	var wg sync.WaitGroup
	errs := make(chan error, sessions)
	for g := range sessions {
		ss := startSession(t, e)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range keys {
				k := 10 + g*keys + i
				if g == 0 && i == keys/2 {
					full.Store(false)
				}
				_, _, err := execQ(ss, fmt.Sprintf("INSERT INTO t VALUES (%d, %d)", k, g))
				switch pgerr.Code(err) {
				case "":
					acked[k-10].Store(true)
				case pgerr.DiskFull:
				default:
					errs <- fmt.Errorf("insert %d: %v", k, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	full.Store(false)
	mustQ(t, s, "INSERT INTO t VALUES (1, 1)")
	want := 2
	for i := range acked {
		if !acked[i].Load() {
			mustQ(t, s, fmt.Sprintf("INSERT INTO t VALUES (%d, -1)", 10+i))
		}
		want++
	}
	n, end := settle(t, e, s, "t")
	if n != strconv.Itoa(want) || end != uint64(want) {
		t.Fatalf("count(*) = %s, log records %d, want %d", n, end, want)
	}
}

// TestPKCopy: COPY into a table with a primary key, large (the full lock)
// and small (the overlay), is seen at once by other sessions' key checks,
// and a COPY with a duplicate key writes nothing.
func TestPKCopy(t *testing.T) {
	e := openPK(t, nil)
	s, s2 := startSession(t, e), startSession(t, e)
	mustQ(t, s, "CREATE TABLE t (k int PRIMARY KEY, v int)")
	rows := func(from, to int) string {
		var sb strings.Builder
		for k := from; k < to; k++ {
			fmt.Fprintf(&sb, "%d\t%d\n", k, k)
		}
		return sb.String()
	}
	if tag, _, err := execCopy(s, "COPY t FROM STDIN", rows(0, 3000)); err != nil || tag != "COPY 3000" {
		t.Fatalf("large COPY: %s %v", tag, err)
	}
	if _, _, err := execQ(s2, "INSERT INTO t VALUES (2999, 0)"); pgerr.Code(err) != pgerr.UniqueViolation {
		t.Fatalf("insert of a key the large COPY wrote: %v", err)
	}
	if tag, _, err := execCopy(s, "COPY t FROM STDIN", rows(3000, 3010)); err != nil || tag != "COPY 10" {
		t.Fatalf("small COPY: %s %v", tag, err)
	}
	if _, _, err := execQ(s2, "INSERT INTO t VALUES (3005, 0)"); pgerr.Code(err) != pgerr.UniqueViolation {
		t.Fatalf("insert of a key the small COPY wrote: %v", err)
	}
	if _, _, err := execCopy(s2, "COPY t FROM STDIN", rows(3010, 3012)+rows(3010, 3011)); pgerr.Code(err) != pgerr.UniqueViolation {
		t.Fatalf("COPY with a duplicate key: %v", err)
	}
	if _, _, err := execCopy(s2, "COPY t FROM STDIN", rows(3009, 3011)); pgerr.Code(err) != pgerr.UniqueViolation {
		t.Fatalf("COPY over a pending key: %v", err)
	}
	mustQ(t, s2, "INSERT INTO t VALUES (3010, 0)")
	if n, end := settle(t, e, s, "t"); n != "3011" || end != 3011 {
		t.Fatalf("count(*) = %s, log records %d, want 3011", n, end)
	}
}
