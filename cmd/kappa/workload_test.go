package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// The crash workload: two tables, one with a primary key (acct) and one
// without (ev), and materialized views over both. Writers own disjoint sets
// of rows and run one statement at a time, so at any moment each writer has
// at most one statement in flight, and the expected contents of the tables
// are known exactly up to the in-flight statements, each of which is either
// wholly applied or not at all.
//
// Both logs are bounded (the crash test runs kappa with small log segments
// and frequent maintenance): acct's is compacted by key, so the dynamic
// views created each cycle replay a compacted log, and ev loses old
// segments to retention_bytes, so they start from its rows. Both logs are
// split into partitions (acct's 3 by key hash, ev's 2 by transaction), so
// a statement or transaction over several keys is a commit over several
// logs, redone from the transaction log after a crash.
var schema = []string{
	`CREATE TABLE acct (k bigint PRIMARY KEY, g integer NOT NULL, v bigint NOT NULL, note text) WITH (compaction = on, partitions = 3)`,
	`CREATE TABLE ev (w integer, seq bigint, g integer, v bigint, note text) WITH (retention_bytes = 32768, partitions = 2)`,
}

// staticViews are created with the schema; dynamic views (mv_c<N>) are
// created and dropped by the DDL writer while the other writers run.
var staticViews = []struct{ name, query string }{
	{"acct_by_g", `SELECT g, count(*) AS n, sum(v) AS total, min(v) AS lo, max(v) AS hi, avg(v) AS mean FROM acct GROUP BY g`},
	{"acct_rich", `SELECT k, v, note FROM acct WHERE v >= 500`},
	{"acct_all", `SELECT count(*) AS n, sum(v) AS total, min(v) AS lo, max(v) AS hi, avg(v) AS mean FROM acct`},
	{"ev_by_g", `SELECT g, count(*) AS n, count(v) AS nv, sum(v) AS total, min(v) AS lo, max(v) AS hi, avg(v) AS mean FROM ev GROUP BY g`},
	{"ev_all", `SELECT count(*) AS n, count(note) AS notes, sum(v) AS total, avg(v) AS mean FROM ev`},
	{"ev_groups", `SELECT DISTINCT g FROM ev WHERE v IS NOT NULL`},
	{"ev_busy", `SELECT w, count(*) AS n, sum(v) AS total FROM ev GROUP BY w HAVING count(*) > 20`},
	// A join (acct writer i's k-th row meets ev writer i's k-th row) and
	// its aggregate, an outer join, and Top-N views: their operators keep
	// join and ordered state that must recover as exactly as the rest.
	{"acct_ev", `SELECT a.k, a.g, e.w, e.v AS ev_v, a.v + coalesce(e.v, 0) AS sum_v FROM acct a JOIN ev e ON e.seq = a.k % 1000000000 AND e.w = a.k / 1000000000`},
	{"acct_ev_by_g", `SELECT e.g, count(*) AS n, sum(a.v) AS total, max(e.v) AS hi FROM acct a JOIN ev e ON e.seq = a.k % 1000000000 GROUP BY e.g`},
	{"ev_orphans", `SELECT e.w, e.seq, e.v, a.note FROM ev e LEFT JOIN acct a ON a.k = e.w * 1000000000 + e.seq WHERE e.g < 3`},
	{"acct_top", `SELECT k, v, g FROM acct ORDER BY v DESC, k LIMIT 10`},
	{"ev_top", `SELECT w, seq, v FROM ev ORDER BY v DESC NULLS LAST, w, seq LIMIT 5 OFFSET 3`},
}

func dynamicViewQuery(cycle int) string {
	return fmt.Sprintf(`SELECT g, count(*) AS n, sum(v) AS total, max(v) AS hi FROM ev WHERE v < %d GROUP BY g`, 100+cycle*37%900)
}

const (
	acctWriters = 2
	evWriters   = 2
	// keySpan separates the acct writers' key ranges; markers (rows the
	// checker writes after each restart) live above every writer's range.
	keySpan    = int64(1_000_000_000)
	markerBase = keySpan * 100
)

// nullText stands for NULL in a canonical row, as in COPY's text format.
const nullText = `\N`

// rowsModel maps a row's identity (acct: k; ev: "w/seq") to its canonical
// text, the columns after the identity joined by '|'.
type rowsModel map[string]string

func (m rowsModel) clone() rowsModel {
	c := make(rowsModel, len(m))
	for k, v := range m {
		c[k] = v
	}
	return c
}

// model is what the database must hold: every acknowledged write applied
// once, in-flight ones resolved after each restart.
type model struct {
	mu    sync.Mutex
	acct  rowsModel
	ev    rowsModel
	views map[string]string // acknowledged dynamic views: name -> query
}

func newModel() *model {
	return &model{acct: rowsModel{}, ev: rowsModel{}, views: map[string]string{}}
}

func (m *model) table(name string) rowsModel {
	if name == "acct" {
		return m.acct
	}
	return m.ev
}

// op is one statement: how to run it, what command tag acknowledges it and
// what it does to the model.
type op struct {
	desc  string
	table string   // "acct", "ev"; "" for DDL
	keys  []string // the rows it touches (the identities in rowsModel)
	tag   string   // the expected command tag
	run   func(ctx context.Context, c *pgx.Conn) (pgconn.CommandTag, error)
	// apply changes m (a table's rows) as the statement does.
	apply func(m rowsModel)
	// DDL: the dynamic view created or dropped.
	createView, dropView, viewQuery string
	// err is how the statement failed, when it was in flight; applied says
	// whether the restarted server holds its effect.
	err     error
	applied bool
	// also is a transaction's part in a second table (txnOp): the server
	// must hold both parts or neither.
	also *op
}

func acctRow(g int, v int64, note *string) string {
	return fmt.Sprintf("%d|%d|%s", g, v, textOrNull(note))
}

func evRow(g int, v *int64, note *string) string {
	vs := nullText
	if v != nil {
		vs = strconv.FormatInt(*v, 10)
	}
	return fmt.Sprintf("%d|%s|%s", g, vs, textOrNull(note))
}

func textOrNull(s *string) string {
	if s == nil {
		return nullText
	}
	return *s
}

func sqlLit(s *string) string {
	if s == nil {
		return "NULL"
	}
	return "'" + strings.ReplaceAll(*s, "'", "''") + "'"
}

func sqlInt(v *int64) string {
	if v == nil {
		return "NULL"
	}
	return strconv.FormatInt(*v, 10)
}

// copyText is a value in COPY's text format.
func copyText(s *string) string {
	if s == nil {
		return nullText
	}
	return *s
}

func ptr[T any](v T) *T { return &v }

// writer generates and runs one writer's statements.
type writer struct {
	id    int // 1-based; txnWriterID for transaction writers
	table string
	rng   *rand.Rand
	next  int64 // next new key (acct) or sequence number (ev), kept across cycles
}

func (w *writer) note() *string {
	switch w.rng.IntN(10) {
	case 0:
		return nil
	case 1:
		return ptr(fmt.Sprintf("it's é %d", w.rng.IntN(100)))
	}
	return ptr("n" + strconv.Itoa(w.rng.IntN(1000)))
}

func (w *writer) acctKey(i int64) int64 { return int64(w.id)*keySpan + i }

// presentKey returns a row of this writer that the model holds, if it
// finds one in a few tries.
func (w *writer) presentKey(m rowsModel) (string, bool) {
	if w.next == 0 {
		return "", false
	}
	for range 8 {
		var k string
		if w.table == "acct" {
			k = strconv.FormatInt(w.acctKey(w.rng.Int64N(w.next)), 10)
		} else {
			k = fmt.Sprintf("%d/%d", w.id, w.rng.Int64N(w.next))
		}
		if _, ok := m[k]; ok {
			return k, true
		}
	}
	return "", false
}

// nextOp builds the writer's next statement against the model (which holds
// this writer's rows exactly: no one else writes them).
func (w *writer) nextOp(m *model) *op {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch w.table {
	case "acct":
		return w.acctOp(m.acct)
	case "txn":
		return w.txnOp(m.acct, m.ev)
	}
	return w.evOp(m.ev)
}

type acctIns struct {
	k    int64
	g    int
	v    int64
	note *string
}

func (w *writer) newAcctRows(n int) []acctIns {
	rows := make([]acctIns, n)
	for i := range rows {
		rows[i] = acctIns{k: w.acctKey(w.next), g: w.rng.IntN(7), v: w.rng.Int64N(1000), note: w.note()}
		w.next++
	}
	return rows
}

func insertAcctModel(rows []acctIns) func(rowsModel) {
	return func(m rowsModel) {
		for _, r := range rows {
			m[strconv.FormatInt(r.k, 10)] = acctRow(r.g, r.v, r.note)
		}
	}
}

func acctKeys(rows []acctIns) []string {
	keys := make([]string, len(rows))
	for i, r := range rows {
		keys[i] = strconv.FormatInt(r.k, 10)
	}
	return keys
}

func (w *writer) acctOp(m rowsModel) *op {
	p := w.rng.IntN(100)
	switch {
	case p < 25:
		if k, ok := w.presentKey(m); ok {
			d := w.rng.Int64N(201) - 100
			note := w.note()
			return &op{desc: "UPDATE acct k=" + k, table: "acct", keys: []string{k}, tag: "UPDATE 1",
				run: func(ctx context.Context, c *pgx.Conn) (pgconn.CommandTag, error) {
					kk, _ := strconv.ParseInt(k, 10, 64)
					return c.Exec(ctx, `UPDATE acct SET v = v + $1, note = $2 WHERE k = $3`, d, note, kk)
				},
				apply: func(m rowsModel) {
					f := strings.SplitN(m[k], "|", 3)
					v, _ := strconv.ParseInt(f[1], 10, 64)
					g, _ := strconv.Atoi(f[0])
					m[k] = acctRow(g, v+d, note)
				}}
		}
	case p < 35:
		if w.next > 0 {
			lo := w.acctKey(w.rng.Int64N(w.next))
			hi := lo + 9
			var keys []string
			for k := lo; k <= hi; k++ {
				if _, ok := m[strconv.FormatInt(k, 10)]; ok {
					keys = append(keys, strconv.FormatInt(k, 10))
				}
			}
			sql := fmt.Sprintf(`UPDATE acct SET v = v + 1, g = (g + 1) %% 7 WHERE k >= %d AND k <= %d`, lo, hi)
			return &op{desc: sql, table: "acct", keys: keys, tag: "UPDATE " + strconv.Itoa(len(keys)),
				run: func(ctx context.Context, c *pgx.Conn) (pgconn.CommandTag, error) { return c.Exec(ctx, sql) },
				apply: func(m rowsModel) {
					for _, k := range keys {
						f := strings.SplitN(m[k], "|", 3)
						g, _ := strconv.Atoi(f[0])
						v, _ := strconv.ParseInt(f[1], 10, 64)
						m[k] = fmt.Sprintf("%d|%d|%s", (g+1)%7, v+1, f[2])
					}
				}}
		}
	case p < 50:
		if k, ok := w.presentKey(m); ok {
			return &op{desc: "DELETE acct k=" + k, table: "acct", keys: []string{k}, tag: "DELETE 1",
				run: func(ctx context.Context, c *pgx.Conn) (pgconn.CommandTag, error) {
					kk, _ := strconv.ParseInt(k, 10, 64)
					return c.Exec(ctx, `DELETE FROM acct WHERE k = $1`, kk)
				},
				apply: func(m rowsModel) { delete(m, k) }}
		}
	case p < 65:
		rows := w.newAcctRows(2 + w.rng.IntN(30))
		var sb strings.Builder
		sb.WriteString("INSERT INTO acct (k, g, v, note) VALUES ")
		for i, r := range rows {
			if i > 0 {
				sb.WriteString(", ")
			}
			fmt.Fprintf(&sb, "(%d, %d, %d, %s)", r.k, r.g, r.v, sqlLit(r.note))
		}
		sql := sb.String()
		return &op{desc: fmt.Sprintf("INSERT acct %d rows from k=%d", len(rows), rows[0].k), table: "acct", keys: acctKeys(rows),
			tag:   "INSERT 0 " + strconv.Itoa(len(rows)),
			run:   func(ctx context.Context, c *pgx.Conn) (pgconn.CommandTag, error) { return c.Exec(ctx, sql) },
			apply: insertAcctModel(rows)}
	case p < 77:
		rows := w.newAcctRows(5 + w.rng.IntN(200))
		var sb strings.Builder
		for _, r := range rows {
			fmt.Fprintf(&sb, "%d\t%d\t%d\t%s\n", r.k, r.g, r.v, copyText(r.note))
		}
		data := sb.String()
		return &op{desc: fmt.Sprintf("COPY acct %d rows from k=%d", len(rows), rows[0].k), table: "acct", keys: acctKeys(rows),
			tag: "COPY " + strconv.Itoa(len(rows)),
			run: func(ctx context.Context, c *pgx.Conn) (pgconn.CommandTag, error) {
				return c.PgConn().CopyFrom(ctx, strings.NewReader(data), `COPY acct (k, g, v, note) FROM STDIN`)
			},
			apply: insertAcctModel(rows)}
	}
	r := w.newAcctRows(1)[0]
	return &op{desc: fmt.Sprintf("INSERT acct k=%d", r.k), table: "acct", keys: acctKeys([]acctIns{r}), tag: "INSERT 0 1",
		run: func(ctx context.Context, c *pgx.Conn) (pgconn.CommandTag, error) {
			return c.Exec(ctx, `INSERT INTO acct (k, g, v, note) VALUES ($1, $2, $3, $4)`, r.k, r.g, r.v, r.note)
		},
		apply: insertAcctModel([]acctIns{r})}
}

type evIns struct {
	seq  int64
	g    int
	v    *int64
	note *string
}

func (w *writer) newEvRows(n int) []evIns {
	rows := make([]evIns, n)
	for i := range rows {
		var v *int64
		if w.rng.IntN(8) != 0 {
			v = ptr(w.rng.Int64N(1000))
		}
		rows[i] = evIns{seq: w.next, g: w.rng.IntN(11), v: v, note: w.note()}
		w.next++
	}
	return rows
}

func (w *writer) evKeys(rows []evIns) []string {
	keys := make([]string, len(rows))
	for i, r := range rows {
		keys[i] = fmt.Sprintf("%d/%d", w.id, r.seq)
	}
	return keys
}

func (w *writer) insertEvModel(rows []evIns) func(rowsModel) {
	return func(m rowsModel) {
		for _, r := range rows {
			m[fmt.Sprintf("%d/%d", w.id, r.seq)] = evRow(r.g, r.v, r.note)
		}
	}
}

func (w *writer) evOp(m rowsModel) *op {
	p := w.rng.IntN(100)
	switch {
	case p < 12:
		if k, ok := w.presentKey(m); ok {
			seq, _ := strconv.ParseInt(k[strings.IndexByte(k, '/')+1:], 10, 64)
			g := w.rng.IntN(11)
			return &op{desc: "UPDATE ev " + k, table: "ev", keys: []string{k}, tag: "UPDATE 1",
				run: func(ctx context.Context, c *pgx.Conn) (pgconn.CommandTag, error) {
					return c.Exec(ctx, `UPDATE ev SET g = $1, v = v + 7 WHERE w = $2 AND seq = $3`, g, w.id, seq)
				},
				apply: func(m rowsModel) {
					f := strings.SplitN(m[k], "|", 3)
					v := f[1]
					if v != nullText {
						n, _ := strconv.ParseInt(v, 10, 64)
						v = strconv.FormatInt(n+7, 10)
					}
					m[k] = fmt.Sprintf("%d|%s|%s", g, v, f[2])
				}}
		}
	case p < 22:
		if k, ok := w.presentKey(m); ok {
			seq, _ := strconv.ParseInt(k[strings.IndexByte(k, '/')+1:], 10, 64)
			return &op{desc: "DELETE ev " + k, table: "ev", keys: []string{k}, tag: "DELETE 1",
				run: func(ctx context.Context, c *pgx.Conn) (pgconn.CommandTag, error) {
					return c.Exec(ctx, `DELETE FROM ev WHERE w = $1 AND seq = $2`, w.id, seq)
				},
				apply: func(m rowsModel) { delete(m, k) }}
		}
	case p < 50:
		rows := w.newEvRows(2 + w.rng.IntN(40))
		var sb strings.Builder
		sb.WriteString("INSERT INTO ev VALUES ")
		for i, r := range rows {
			if i > 0 {
				sb.WriteString(", ")
			}
			fmt.Fprintf(&sb, "(%d, %d, %d, %s, %s)", w.id, r.seq, r.g, sqlInt(r.v), sqlLit(r.note))
		}
		sql := sb.String()
		return &op{desc: fmt.Sprintf("INSERT ev %d rows from %d/%d", len(rows), w.id, rows[0].seq), table: "ev", keys: w.evKeys(rows),
			tag:   "INSERT 0 " + strconv.Itoa(len(rows)),
			run:   func(ctx context.Context, c *pgx.Conn) (pgconn.CommandTag, error) { return c.Exec(ctx, sql) },
			apply: w.insertEvModel(rows)}
	case p < 70:
		rows := w.newEvRows(5 + w.rng.IntN(300))
		var sb strings.Builder
		for _, r := range rows {
			v := nullText
			if r.v != nil {
				v = strconv.FormatInt(*r.v, 10)
			}
			fmt.Fprintf(&sb, "%d,%d,%d,%s,%s\n", w.id, r.seq, r.g, csvField(v), csvText(r.note))
		}
		data := sb.String()
		return &op{desc: fmt.Sprintf("COPY ev %d rows from %d/%d", len(rows), w.id, rows[0].seq), table: "ev", keys: w.evKeys(rows),
			tag: "COPY " + strconv.Itoa(len(rows)),
			run: func(ctx context.Context, c *pgx.Conn) (pgconn.CommandTag, error) {
				return c.PgConn().CopyFrom(ctx, strings.NewReader(data), `COPY ev FROM STDIN (FORMAT csv)`)
			},
			apply: w.insertEvModel(rows)}
	}
	r := w.newEvRows(1)[0]
	return &op{desc: fmt.Sprintf("INSERT ev %d/%d", w.id, r.seq), table: "ev", keys: w.evKeys([]evIns{r}), tag: "INSERT 0 1",
		run: func(ctx context.Context, c *pgx.Conn) (pgconn.CommandTag, error) {
			return c.Exec(ctx, `INSERT INTO ev (w, seq, g, v, note) VALUES ($1, $2, $3, $4, $5)`, w.id, r.seq, r.g, r.v, r.note)
		},
		apply: w.insertEvModel([]evIns{r})}
}

// In CSV an unquoted empty field is NULL; anything else is quoted.
func csvField(v string) string {
	if v == nullText {
		return ""
	}
	return v
}

func csvText(s *string) string {
	if s == nil {
		return ""
	}
	return `"` + strings.ReplaceAll(*s, `"`, `""`) + `"`
}

// run runs the writer's statements until ctx ends or a statement fails.
// It returns the statement in flight when it stopped (nil if none). A
// failure while down is false is a test error.
func (w *writer) run(ctx context.Context, t testing.TB, c *pgx.Conn, m *model, down *atomic.Bool, acked *atomic.Int64) *op {
	for ctx.Err() == nil {
		o := w.nextOp(m)
		tag, err := o.run(ctx, c)
		if err != nil {
			o.err = err
			if !down.Load() && ctx.Err() == nil {
				t.Errorf("writer %s/%d: %s: %v", w.table, w.id, o.desc, err)
			}
			return o
		}
		if tag.String() != o.tag {
			t.Errorf("writer %s/%d: %s: command tag %q, want %q", w.table, w.id, o.desc, tag, o.tag)
		}
		m.mu.Lock()
		o.apply(m.table(o.table))
		if o.also != nil {
			o.also.apply(m.table(o.also.table))
		}
		m.mu.Unlock()
		acked.Add(1)
	}
	return nil
}

// ddlWriter, at a random moment, drops the dynamic views of earlier cycles
// but the last and creates this cycle's. It returns the DDL statement in
// flight when the server went down, if any.
func ddlWriter(ctx context.Context, t testing.TB, c *pgx.Conn, m *model, cycle int, delay time.Duration, down *atomic.Bool) []*op {
	var ops []*op
	m.mu.Lock()
	for name := range m.views {
		if name != fmt.Sprintf("mv_c%d", cycle-1) {
			ops = append(ops, &op{desc: "DROP MATERIALIZED VIEW " + name, dropView: name, tag: "DROP MATERIALIZED VIEW"})
		}
	}
	m.mu.Unlock()
	name := fmt.Sprintf("mv_c%d", cycle)
	q := dynamicViewQuery(cycle)
	ops = append(ops, &op{desc: "CREATE MATERIALIZED VIEW " + name, createView: name, viewQuery: q, tag: "CREATE MATERIALIZED VIEW"})
	select {
	case <-time.After(delay):
	case <-ctx.Done():
		return nil
	}
	for _, o := range ops {
		sql := o.desc
		if o.createView != "" {
			sql += " AS " + o.viewQuery
		}
		tag, err := c.Exec(ctx, sql)
		if err != nil {
			o.err = err
			if !down.Load() && ctx.Err() == nil {
				t.Errorf("ddl writer: %s: %v", o.desc, err)
			}
			return []*op{o}
		}
		if tag.String() != o.tag {
			t.Errorf("ddl writer: %s: command tag %q, want %q", o.desc, tag, o.tag)
		}
		m.mu.Lock()
		if o.createView != "" {
			m.views[o.createView] = o.viewQuery
		} else {
			delete(m.views, o.dropView)
		}
		m.mu.Unlock()
	}
	return nil
}

// checker compares a restarted server with the model.
type checker struct {
	t       testing.TB
	m       *model
	applied int // in-flight statements found applied, over all checks
	pending int // in-flight statements found not applied
}

// textRows runs a query with the simple protocol and returns its rows in
// text, columns joined by '|', NULL as \N.
func textRows(ctx context.Context, c *pgx.Conn, sql string) ([]string, error) {
	res := c.PgConn().Exec(ctx, sql)
	results, err := res.ReadAll()
	if err != nil {
		return nil, err
	}
	if len(results) != 1 {
		return nil, fmt.Errorf("%d results", len(results))
	}
	out := make([]string, 0, len(results[0].Rows))
	var sb strings.Builder
	for _, r := range results[0].Rows {
		sb.Reset()
		for i, v := range r {
			if i > 0 {
				sb.WriteByte('|')
			}
			if v == nil {
				sb.WriteString(nullText)
			} else {
				sb.Write(v)
			}
		}
		out = append(out, sb.String())
	}
	return out, nil
}

// observe reads a table into a rowsModel keyed like the model, reporting
// rows that appear more than once.
func (ck *checker) observe(ctx context.Context, c *pgx.Conn, table string) (rowsModel, []string) {
	var sql string
	var idCols int
	if table == "acct" {
		sql, idCols = `SELECT k, g, v, note FROM acct`, 1
	} else {
		sql, idCols = `SELECT w, seq, g, v, note FROM ev`, 2
	}
	rows, err := textRows(ctx, c, sql)
	if err != nil {
		ck.t.Fatalf("%s: %v", sql, err)
	}
	obs := rowsModel{}
	var problems []string
	for _, r := range rows {
		f := strings.SplitN(r, "|", idCols+1)
		id := strings.Join(f[:idCols], "/")
		if prev, ok := obs[id]; ok {
			problems = append(problems, fmt.Sprintf("%s row %s is there twice: %q and %q", table, id, prev, f[idCols]))
			continue
		}
		obs[id] = f[idCols]
	}
	return obs, problems
}

// checkTable compares obs with the model's rows of table, resolving each
// in-flight statement as applied or not. It returns the problems found.
func (ck *checker) checkTable(table string, obs rowsModel, inflight []*op) []string {
	want := ck.m.table(table)
	var problems []string
	touched := map[string]*op{}
	for _, o := range inflight {
		if o.table != table {
			continue
		}
		for _, k := range o.keys {
			if prev := touched[k]; prev != nil {
				ck.t.Fatalf("test bug: in-flight %q and %q both touch %s", prev.desc, o.desc, k)
			}
			touched[k] = o
		}
	}
	describe := func(m rowsModel, k string) string {
		if v, ok := m[k]; ok {
			return v
		}
		return "(absent)"
	}
	for k, v := range want {
		if touched[k] == nil && obs[k] != v {
			problems = append(problems, fmt.Sprintf("%s row %s: want %s, have %s", table, k, v, describe(obs, k)))
		}
	}
	for k, v := range obs {
		if _, ok := want[k]; !ok && touched[k] == nil {
			problems = append(problems, fmt.Sprintf("%s row %s: want (absent), have %s", table, k, v))
		}
	}
	for _, o := range inflight {
		if o.table != table {
			continue
		}
		after := want.clone()
		o.apply(after)
		same := func(m rowsModel) bool {
			for _, k := range o.keys {
				if describe(m, k) != describe(obs, k) {
					return false
				}
			}
			return true
		}
		switch {
		case same(after):
			o.apply(want)
			o.applied = true
			ck.applied++
		case same(want):
			ck.pending++
		default:
			var diff []string
			for _, k := range o.keys {
				diff = append(diff, fmt.Sprintf("%s: before %s, after %s, have %s", k, describe(want, k), describe(after, k), describe(obs, k)))
			}
			problems = append(problems, fmt.Sprintf("in-flight %s is partly applied:\n    %s", o.desc, strings.Join(diff, "\n    ")))
		}
	}
	return problems
}

// checkViews resolves in-flight DDL against the views that exist, and
// compares every materialized view with its query run ad hoc.
func (ck *checker) checkViews(ctx context.Context, c *pgx.Conn, inflight []*op) []string {
	var problems []string
	names, err := textRows(ctx, c, `SHOW MATERIALIZED VIEWS`)
	if err != nil {
		ck.t.Fatalf("SHOW MATERIALIZED VIEWS: %v", err)
	}
	exists := map[string]bool{}
	for _, n := range names {
		exists[n] = true
	}
	queries := map[string]string{}
	for _, v := range staticViews {
		queries[v.name] = v.query
	}
	for name, q := range ck.m.views {
		queries[name] = q
	}
	for _, o := range inflight {
		switch {
		case o.createView != "":
			if exists[o.createView] {
				ck.m.views[o.createView] = o.viewQuery
				o.applied = true
				queries[o.createView] = o.viewQuery
				ck.applied++
			} else {
				ck.pending++
			}
		case o.dropView != "":
			if !exists[o.dropView] {
				delete(ck.m.views, o.dropView)
				delete(queries, o.dropView)
				o.applied = true
				ck.applied++
			} else {
				ck.pending++
			}
		}
	}
	for name := range queries {
		if !exists[name] {
			problems = append(problems, fmt.Sprintf("materialized view %s is gone", name))
		}
	}
	for name := range exists {
		if _, ok := queries[name]; !ok {
			problems = append(problems, fmt.Sprintf("materialized view %s exists but was dropped", name))
		}
	}
	sorted := make([]string, 0, len(queries))
	for name := range queries {
		if exists[name] {
			sorted = append(sorted, name)
		}
	}
	sort.Strings(sorted)
	for _, name := range sorted {
		problems = append(problems, ck.compareView(ctx, c, name, queries[name])...)
	}
	return problems
}

// compareView checks that view name holds what its query gives ad hoc.
func (ck *checker) compareView(ctx context.Context, c *pgx.Conn, name, query string) []string {
	got, err := textRows(ctx, c, "SELECT * FROM "+name)
	if err != nil {
		return []string{fmt.Sprintf("SELECT * FROM %s: %v", name, err)}
	}
	want, err := textRows(ctx, c, query)
	if err != nil {
		return []string{fmt.Sprintf("%s: %v", query, err)}
	}
	slices.Sort(got)
	slices.Sort(want)
	if slices.Equal(got, want) {
		return nil
	}
	var problems []string
	i, j := 0, 0
	for (i < len(got) || j < len(want)) && len(problems) < 10 {
		switch {
		case j >= len(want) || (i < len(got) && got[i] < want[j]):
			problems = append(problems, fmt.Sprintf("view %s has extra row %s", name, got[i]))
			i++
		case i >= len(got) || want[j] < got[i]:
			problems = append(problems, fmt.Sprintf("view %s lacks row %s", name, want[j]))
			j++
		default:
			i++
			j++
		}
	}
	return problems
}

// check runs every check on a freshly restarted server: the tables hold
// exactly the acknowledged writes (and whole in-flight ones or nothing of
// them), every view equals its query, and the server takes new writes.
// marker numbers the marker rows it writes.
func (ck *checker) check(ctx context.Context, p *kappaProc, inflight []*op, marker int) {
	t := ck.t
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	c := p.mustConnect(ctx)
	defer c.Close(context.Background())
	txns := inflight
	inflight = expandTxns(inflight)
	// Read the tables first, before this session writes anything, so that a
	// server that serves stale data after a restart is caught.
	var problems []string
	observed := map[string]rowsModel{}
	for _, table := range []string{"acct", "ev"} {
		obs, dup := ck.observe(ctx, c, table)
		observed[table] = obs
		problems = append(problems, dup...)
		problems = append(problems, ck.checkTable(table, obs, inflight)...)
	}
	if len(problems) > 0 {
		// Tell lost writes from a stale read: look again a second later.
		time.Sleep(time.Second)
		var again []string
		for _, table := range []string{"acct", "ev"} {
			obs, _ := ck.observe(ctx, c, table)
			missing, back := 0, 0
			for k, v := range ck.m.table(table) {
				if observed[table][k] != v {
					missing++
					if obs[k] == v {
						back++
					}
				}
			}
			again = append(again, fmt.Sprintf("%s: %d of %d rows that differed from the model are right a second later", table, back, missing))
		}
		problems = append(again, problems...)
	}
	for _, o := range txns {
		if o.also != nil && o.applied != o.also.applied {
			problems = append(problems, fmt.Sprintf("in-flight %s: its acct part applied %v, its ev part %v", o.desc, o.applied, o.also.applied))
		}
	}
	problems = append(problems, ck.checkViews(ctx, c, inflight)...)
	// New writes are accepted, and visible to the session that made them.
	mk := markerBase + int64(marker)
	if _, err := c.Exec(ctx, `INSERT INTO acct VALUES ($1, 3, 700, 'marker')`, mk); err != nil {
		t.Fatalf("INSERT after restart: %v\n%s", err, p.output())
	}
	if _, err := c.Exec(ctx, `INSERT INTO ev VALUES (0, $1, 3, 700, 'marker')`, marker); err != nil {
		t.Fatalf("INSERT after restart: %v\n%s", err, p.output())
	}
	ck.m.acct[strconv.FormatInt(mk, 10)] = acctRow(3, 700, ptr("marker"))
	ck.m.ev[fmt.Sprintf("0/%d", marker)] = evRow(3, ptr(int64(700)), ptr("marker"))
	for _, q := range []string{
		fmt.Sprintf(`SELECT count(*) FROM acct WHERE k = %d`, mk),
		fmt.Sprintf(`SELECT count(*) FROM ev WHERE w = 0 AND seq = %d`, marker),
		fmt.Sprintf(`SELECT count(*) FROM acct_rich WHERE k = %d`, mk),
	} {
		rows, err := textRows(ctx, c, q)
		if err != nil || len(rows) != 1 || rows[0] != "1" {
			problems = append(problems, fmt.Sprintf("%s after writing it: %v %v", q, rows, err))
		}
	}
	// After the marker writes this session's reads wait for the epoch
	// holding them, so the views must match the model's totals too.
	rows, err := textRows(ctx, c, `SELECT n FROM acct_all`)
	if err != nil || len(rows) != 1 || rows[0] != strconv.Itoa(len(ck.m.acct)) {
		problems = append(problems, fmt.Sprintf("acct_all.n is %v (%v), the model has %d rows", rows, err, len(ck.m.acct)))
	}
	rows, err = textRows(ctx, c, `SELECT n FROM ev_all`)
	if err != nil || len(rows) != 1 || rows[0] != strconv.Itoa(len(ck.m.ev)) {
		problems = append(problems, fmt.Sprintf("ev_all.n is %v (%v), the model has %d rows", rows, err, len(ck.m.ev)))
	}
	if len(problems) > 0 {
		if len(problems) > 40 {
			problems = append(problems[:40], fmt.Sprintf("... and %d more", len(problems)-40))
		}
		t.Fatalf("after restart:\n  %s\nserver log:\n%s", strings.Join(problems, "\n  "), p.output())
	}
}

// txnWriters run multi-statement transactions over both tables: rows of
// acct with keys txnWriterID*keySpan+i and rows of ev with w = txnWriterID
// and seq = i, by BEGIN ... COMMIT or as one
// multi-statement query string (an implicit transaction). A restarted
// server must hold each of them wholly or not at all, in both tables.
const (
	txnWriters = 1
	// txnWriterID is below the other writers' ids (and ev_orphans computes
	// w * 1000000000 in integer: 3 would overflow).
	txnWriterID = -1
)

// txnOp builds a transaction: new rows in both tables, and maybe an UPDATE
// of one of its acct rows and a DELETE of one of its ev rows.
func (w *writer) txnOp(acct, ev rowsModel) *op {
	n := 1 + w.rng.IntN(5)
	var ains []acctIns
	var eins []evIns
	for range n {
		var v *int64
		if w.rng.IntN(8) != 0 {
			v = ptr(w.rng.Int64N(1000))
		}
		ains = append(ains, acctIns{k: w.acctKey(w.next), g: w.rng.IntN(7), v: w.rng.Int64N(1000), note: w.note()})
		eins = append(eins, evIns{seq: w.next, g: w.rng.IntN(11), v: v, note: w.note()})
		w.next++
	}
	var stmts []string
	var sb strings.Builder
	sb.WriteString("INSERT INTO acct (k, g, v, note) VALUES ")
	for i, r := range ains {
		if i > 0 {
			sb.WriteString(", ")
		}
		fmt.Fprintf(&sb, "(%d, %d, %d, %s)", r.k, r.g, r.v, sqlLit(r.note))
	}
	stmts = append(stmts, sb.String())
	sb.Reset()
	sb.WriteString("INSERT INTO ev VALUES ")
	for i, r := range eins {
		if i > 0 {
			sb.WriteString(", ")
		}
		fmt.Fprintf(&sb, "(%d, %d, %d, %s, %s)", w.id, r.seq, r.g, sqlInt(r.v), sqlLit(r.note))
	}
	stmts = append(stmts, sb.String())
	acctApply := []func(rowsModel){insertAcctModel(ains)}
	evApply := []func(rowsModel){w.insertEvModel(eins)}
	akeys, ekeys := acctKeys(ains), w.evKeys(eins)
	// Rows of earlier transactions: the acct key's ev row shares its i.
	if w.next > int64(n) && w.rng.IntN(2) == 0 {
		i := w.rng.Int64N(w.next - int64(n))
		k := strconv.FormatInt(w.acctKey(i), 10)
		if _, ok := acct[k]; ok {
			d := w.rng.Int64N(201) - 100
			stmts = append([]string{fmt.Sprintf("UPDATE acct SET v = v + %d WHERE k = %s", d, k)}, stmts...)
			akeys = append(akeys, k)
			acctApply = append(acctApply, func(m rowsModel) {
				f := strings.SplitN(m[k], "|", 3)
				v, _ := strconv.ParseInt(f[1], 10, 64)
				m[k] = fmt.Sprintf("%s|%d|%s", f[0], v+d, f[2])
			})
		}
		ek := fmt.Sprintf("%d/%d", w.id, i)
		if _, ok := ev[ek]; ok {
			stmts = append([]string{fmt.Sprintf("DELETE FROM ev WHERE w = %d AND seq = %d", w.id, i)}, stmts...)
			ekeys = append(ekeys, ek)
			evApply = append(evApply, func(m rowsModel) { delete(m, ek) })
		}
	}
	all := func(fs []func(rowsModel)) func(rowsModel) {
		return func(m rowsModel) {
			for _, f := range fs {
				f(m)
			}
		}
	}
	o := &op{table: "acct", keys: akeys, apply: all(acctApply),
		also: &op{table: "ev", keys: ekeys, apply: all(evApply)}}
	if w.rng.IntN(2) == 0 {
		o.desc = "transaction block: " + strings.Join(stmts, "; ")
		o.tag = "COMMIT"
		o.run = func(ctx context.Context, c *pgx.Conn) (pgconn.CommandTag, error) {
			if _, err := c.Exec(ctx, "BEGIN"); err != nil {
				return pgconn.CommandTag{}, err
			}
			for _, s := range stmts {
				if _, err := c.Exec(ctx, s); err != nil {
					return pgconn.CommandTag{}, err
				}
			}
			return c.Exec(ctx, "COMMIT")
		}
	} else {
		o.desc = "implicit transaction: " + strings.Join(stmts, "; ")
		o.tag = "INSERT 0 " + strconv.Itoa(n)
		o.run = func(ctx context.Context, c *pgx.Conn) (pgconn.CommandTag, error) {
			res, err := c.PgConn().Exec(ctx, strings.Join(stmts, "; ")).ReadAll()
			if err != nil {
				return pgconn.CommandTag{}, err
			}
			return res[len(res)-1].CommandTag, nil
		}
	}
	o.also.desc = o.desc + " (its ev part)"
	return o
}

// expandTxns lists the ev parts of in-flight transactions as ops of their
// own, so that each table's check resolves its part.
func expandTxns(inflight []*op) []*op {
	var out []*op
	for _, o := range inflight {
		out = append(out, o)
		if o.also != nil {
			out = append(out, o.also)
		}
	}
	return out
}
