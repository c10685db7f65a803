package oracle

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// Gen draws everything the oracle does from one seeded source, so that a
// seed replays a run exactly: the data, the writes and the views.
type Gen struct {
	r      *rand.Rand
	nextID map[string]int64 // next fresh primary key, per table with one
	inOn   bool             // the composer is writing a join's ON
}

// NewGen returns a generator for seed.
func NewGen(seed uint64) *Gen {
	return &Gen{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), nextID: map[string]int64{"t1": 1, "t3": 1}}
}

// Table is one of the oracle's tables.
type Table struct {
	Name string
	DDL  string
	// PK names the primary key column, or "" for a table without one
	// (rows are a multiset there: duplicates are drawn on purpose).
	PK string
	// Target is the size the writes steer the table towards.
	Target int
	row    func(g *Gen) []value
}

// value is one column value as a SQL literal and as COPY text; a NULL is
// the zero value.
type value struct {
	sql  string
	copy string
	null bool
}

var null = value{sql: "NULL", copy: `\N`, null: true}

func lit(s string) value    { return value{sql: s, copy: s} }
func quoted(s string) value { return value{sql: "'" + strings.ReplaceAll(s, "'", "''") + "'", copy: s} }

// Tables are the oracle's schema: two tables with a primary key, two
// without; keys shared across tables (skewed, negative, NULL) so that joins
// match many-to-many; numeric, timestamp, date, boolean and mixed-case text.
var Tables = []*Table{
	{
		Name: "t1", PK: "id", Target: 120,
		DDL: "CREATE TABLE t1 (id bigint PRIMARY KEY, k int, g text, n numeric(10,2), ts timestamp, b boolean)",
		row: func(g *Gen) []value {
			return []value{lit(fmt.Sprint(g.fresh("t1"))), g.key(), g.text(), g.numeric(), g.timestamp(), g.boolean()}
		},
	},
	{
		Name: "t2", Target: 150,
		DDL: "CREATE TABLE t2 (k int, v bigint, s text, d date)",
		row: func(g *Gen) []value { return []value{g.key(), g.bigint(), g.text(), g.date()} },
	},
	{
		Name: "t3", PK: "id", Target: 60,
		DDL: "CREATE TABLE t3 (id int PRIMARY KEY, k int, x int, name varchar(10))",
		row: func(g *Gen) []value {
			x := lit(fmt.Sprint(g.r.IntN(2001) - 1000))
			if g.r.IntN(12) == 0 {
				x = null
			}
			return []value{lit(fmt.Sprint(g.fresh("t3"))), g.key(), x, g.text()}
		},
	},
	{
		// A small table, NULL-heavy, whose b holds the int4 extremes now
		// and then (the overflow views' prey).
		Name: "t4", Target: 12,
		DDL: "CREATE TABLE t4 (a int, b int)",
		row: func(g *Gen) []value {
			b := lit(fmt.Sprint(g.r.IntN(201) - 100))
			switch g.r.IntN(20) {
			case 0, 1, 2:
				b = null
			case 3:
				b = lit("2147483647")
			case 4:
				b = lit("-2147483648")
			}
			return []value{g.key(), b}
		},
	},
}

// TableByName returns the table called name.
func TableByName(name string) *Table {
	for _, t := range Tables {
		if t.Name == name {
			return t
		}
	}
	panic("oracle: no table " + name)
}

func (g *Gen) fresh(table string) int64 {
	id := g.nextID[table]
	g.nextID[table]++
	return id
}

// someID returns an id that was handed out for table (it may have been
// deleted since), or 0 when none was.
func (g *Gen) someID(table string) int64 {
	n := g.nextID[table] - 1
	if n <= 0 {
		return 0
	}
	return 1 + g.r.Int64N(n)
}

// keyConst is a join-key constant: -2..9, skewed like the data towards 1.
func (g *Gen) keyConst() int {
	if g.r.IntN(3) == 0 {
		return 1
	}
	return g.r.IntN(12) - 2
}

func (g *Gen) key() value {
	if g.r.IntN(8) == 0 {
		return null
	}
	return lit(fmt.Sprint(g.keyConst()))
}

var textPool = []string{"a", "A", "ab", "Ab", "aB", "AB", "b", "B", "abc", "Abc", "", "x y", "Zed", "zed", "12", "-3"}

func (g *Gen) text() value {
	if g.r.IntN(10) == 0 {
		return null
	}
	return quoted(textPool[g.r.IntN(len(textPool))])
}

var numericPool = []string{"0.00", "1.50", "-1.50", "10.00", "99.99", "-0.01"}

func (g *Gen) numericConst() string {
	if g.r.IntN(3) == 0 {
		return numericPool[g.r.IntN(len(numericPool))]
	}
	c := g.r.IntN(100001) - 50000
	sign := ""
	if c < 0 {
		sign, c = "-", -c
	}
	return fmt.Sprintf("%s%d.%02d", sign, c/100, c%100)
}

func (g *Gen) numeric() value {
	if g.r.IntN(10) == 0 {
		return null
	}
	return lit(g.numericConst())
}

func (g *Gen) bigint() value {
	switch g.r.IntN(20) {
	case 0:
		return null
	case 1:
		return lit(fmt.Sprint(g.r.Int64N(1_000_000_000_000_000) - 500_000_000_000_000))
	}
	return lit(fmt.Sprint(g.r.IntN(201) - 100))
}

var epoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

func (g *Gen) timestampConst() string {
	t := epoch.Add(time.Duration(g.r.IntN(60*24*60)) * time.Minute)
	switch g.r.IntN(5) {
	case 0:
		t = t.Add(500 * time.Millisecond)
	case 1:
		t = t.Add(time.Duration(g.r.IntN(1_000_000)) * time.Microsecond)
	}
	return t.Format("2006-01-02 15:04:05.999999")
}

func (g *Gen) timestamp() value {
	if g.r.IntN(10) == 0 {
		return null
	}
	return quoted(g.timestampConst())
}

func (g *Gen) dateConst() string {
	return epoch.AddDate(0, 0, g.r.IntN(81)-12).Format("2006-01-02")
}

func (g *Gen) date() value {
	if g.r.IntN(10) == 0 {
		return null
	}
	return quoted(g.dateConst())
}

func (g *Gen) boolean() value {
	switch g.r.IntN(5) {
	case 0:
		return null
	case 1, 2:
		return lit("true")
	}
	return lit("false")
}

// Write is one statement applied to both servers: SQL, or a COPY FROM STDIN
// of Copy's text (then SQL is the COPY statement).
type Write struct {
	SQL  string
	Copy string
}

// Insert draws an INSERT of n rows into t; tables without a primary key get
// duplicate rows now and then.
func (g *Gen) Insert(t *Table, n int) Write {
	rows := make([]string, 0, n)
	for i := 0; i < n; i++ {
		vals := t.row(g)
		row := "(" + sqlList(vals) + ")"
		rows = append(rows, row)
		if t.PK == "" && g.r.IntN(4) == 0 {
			rows = append(rows, row)
		}
	}
	return Write{SQL: "INSERT INTO " + t.Name + " VALUES " + strings.Join(rows, ", ")}
}

// Copy draws a COPY of n rows into t, in COPY's text format.
func (g *Gen) Copy(t *Table, n int) Write {
	var b strings.Builder
	for i := 0; i < n; i++ {
		vals := t.row(g)
		for j, v := range vals {
			if j > 0 {
				b.WriteByte('\t')
			}
			b.WriteString(v.copy)
		}
		b.WriteByte('\n')
	}
	return Write{SQL: "COPY " + t.Name + " FROM STDIN", Copy: b.String()}
}

func sqlList(vals []value) string {
	s := make([]string, len(vals))
	for i, v := range vals {
		s[i] = v.sql
	}
	return strings.Join(s, ", ")
}

// DuplicateKey draws an INSERT that reuses a primary key of t1 or t3 that
// may exist: both servers must then refuse it with 23505, or both accept it.
func (g *Gen) DuplicateKey() Write {
	t := Tables[0]
	if g.r.IntN(2) == 0 {
		t = Tables[2]
	}
	vals := t.row(g)
	g.nextID[t.Name]-- // the row's fresh id goes back unused
	vals[0] = lit(fmt.Sprint(g.someID(t.Name)))
	return Write{SQL: "INSERT INTO " + t.Name + " VALUES (" + sqlList(vals) + ")"}
}

// Update draws an UPDATE of t.
func (g *Gen) Update(t *Table) Write {
	k, k2 := g.keyConst(), g.keyConst()
	var s string
	switch t.Name {
	case "t1":
		switch g.r.IntN(6) {
		case 0:
			s = fmt.Sprintf("UPDATE t1 SET n = n + 1.25 WHERE k = %d", k)
		case 1:
			s = fmt.Sprintf("UPDATE t1 SET k = %s WHERE id = %d", g.key().sql, g.someID("t1"))
		case 2:
			s = fmt.Sprintf("UPDATE t1 SET g = %s WHERE id %% 7 = %d", g.text().sql, g.r.IntN(7))
		case 3:
			s = fmt.Sprintf("UPDATE t1 SET ts = ts + interval '1 day', b = NOT b WHERE n < %s", g.numericConst())
		case 4:
			s = fmt.Sprintf("UPDATE t1 SET id = %d WHERE id = %d", g.fresh("t1"), g.someID("t1"))
		default:
			s = fmt.Sprintf("UPDATE t1 SET k = %d, n = %s WHERE k = %d", k2, g.numeric().sql, k)
		}
	case "t2":
		switch g.r.IntN(4) {
		case 0:
			s = fmt.Sprintf("UPDATE t2 SET v = v + %d WHERE k = %d", g.r.IntN(21)-10, k)
		case 1:
			s = fmt.Sprintf("UPDATE t2 SET k = NULL WHERE v < %d", g.r.IntN(100)-100)
		case 2:
			s = fmt.Sprintf("UPDATE t2 SET s = upper(s) WHERE d < '%s'", g.dateConst())
		default:
			s = fmt.Sprintf("UPDATE t2 SET k = %d WHERE k = %d AND v %% 2 = 0", k2, k)
		}
	case "t3":
		switch g.r.IntN(4) {
		case 0:
			s = fmt.Sprintf("UPDATE t3 SET x = x - %d WHERE id = %d", g.r.IntN(500), g.someID("t3"))
		case 1:
			s = fmt.Sprintf("UPDATE t3 SET k = k + 1 WHERE k = %d", k)
		case 2:
			s = fmt.Sprintf("UPDATE t3 SET name = %s WHERE x > %d", g.text().sql, g.r.IntN(2000)-1000+900)
		default:
			s = fmt.Sprintf("UPDATE t3 SET id = %d, x = NULL WHERE id = %d", g.fresh("t3"), g.someID("t3"))
		}
	case "t4":
		switch g.r.IntN(3) {
		case 0:
			s = fmt.Sprintf("UPDATE t4 SET a = NULL WHERE a = %d", k)
		case 1:
			s = fmt.Sprintf("UPDATE t4 SET a = %d WHERE a IS NULL", k)
		default:
			s = fmt.Sprintf("UPDATE t4 SET b = b %% 100 WHERE a = %d", k)
		}
	}
	return Write{SQL: s}
}

// Delete draws a DELETE from t; now and then it empties t4, so that the
// global aggregates see an empty input.
func (g *Gen) Delete(t *Table) Write {
	k := g.keyConst()
	var s string
	switch t.Name {
	case "t1":
		switch g.r.IntN(3) {
		case 0:
			s = fmt.Sprintf("DELETE FROM t1 WHERE id = %d", g.someID("t1"))
		case 1:
			s = fmt.Sprintf("DELETE FROM t1 WHERE k = %d AND b", k)
		default:
			s = fmt.Sprintf("DELETE FROM t1 WHERE id %% 5 = %d AND n < %s", g.r.IntN(5), g.numericConst())
		}
	case "t2":
		switch g.r.IntN(3) {
		case 0:
			lo := g.r.IntN(200) - 100
			s = fmt.Sprintf("DELETE FROM t2 WHERE v BETWEEN %d AND %d", lo, lo+15)
		case 1:
			s = fmt.Sprintf("DELETE FROM t2 WHERE k IS NULL AND s < %s", g.text().sql)
		default:
			s = fmt.Sprintf("DELETE FROM t2 WHERE k = %d AND d > '%s'", k, g.dateConst())
		}
	case "t3":
		switch g.r.IntN(2) {
		case 0:
			s = fmt.Sprintf("DELETE FROM t3 WHERE id IN (%d, %d, %d)", g.someID("t3"), g.someID("t3"), g.someID("t3"))
		default:
			s = fmt.Sprintf("DELETE FROM t3 WHERE k = %d AND x > %d", k, g.r.IntN(2000)-1000)
		}
	case "t4":
		switch g.r.IntN(6) {
		case 0:
			s = "DELETE FROM t4"
		case 1, 2:
			s = fmt.Sprintf("DELETE FROM t4 WHERE a = %d", k)
		default:
			s = "DELETE FROM t4 WHERE b IS NULL OR b > 2000000000"
		}
	}
	return Write{SQL: s}
}

// Round draws one round of writes: sizes are the tables' current row counts,
// which steer inserts and deletes towards each table's Target.
func (g *Gen) Round(sizes map[string]int) []Write {
	n := 6 + g.r.IntN(10)
	ws := make([]Write, 0, n)
	for i := 0; i < n; i++ {
		t := Tables[g.r.IntN(len(Tables))]
		size := sizes[t.Name]
		insertWeight := 35
		deleteWeight := 25
		switch {
		case size < t.Target/2:
			insertWeight, deleteWeight = 60, 5
		case size > t.Target*3/2:
			insertWeight, deleteWeight = 10, 50
		}
		p := g.r.IntN(100)
		switch {
		case p < insertWeight:
			ws = append(ws, g.Insert(t, 1+g.r.IntN(max(2, t.Target/10))))
		case p < insertWeight+deleteWeight:
			ws = append(ws, g.Delete(t))
		case p < 90:
			ws = append(ws, g.Update(t))
		case p < 97:
			ws = append(ws, g.Copy(t, 1+g.r.IntN(max(2, t.Target/8))))
		default:
			ws = append(ws, g.DuplicateKey())
		}
	}
	return ws
}

// Initial draws the initial load of every table: most of it as INSERTs, a
// part as COPY.
func (g *Gen) Initial() []Write {
	var ws []Write
	for _, t := range Tables {
		n := t.Target
		for n > 0 {
			m := min(n, 25)
			if g.r.IntN(3) == 0 {
				ws = append(ws, g.Copy(t, m))
			} else {
				ws = append(ws, g.Insert(t, m))
			}
			n -= m
		}
	}
	return ws
}
