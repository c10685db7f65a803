package oracle

import (
	"fmt"
	"strings"
)

// The templates fix a query's shape; the composer below draws the shape
// too: one to three relations joined in random ways on random key columns,
// a random WHERE, then a projection (maybe DISTINCT), an aggregation (maybe
// with HAVING) or a Top-N, and now and then a set operation of two such
// queries. It finds the bugs that live in combinations no template names.

// colType is the little type system the composer needs to write queries
// that PostgreSQL accepts.
type colType int

const (
	tInt colType = iota
	tBigint
	tNumeric
	tText
	tTimestamp
	tDate
	tBool
)

type column struct {
	name string
	typ  colType
	key  bool // may be a join key (an int drawn from the shared key domain)
}

// relation is something a FROM can name: a table, a shared view or a
// subquery. rows is about how many rows it holds, and unique says its key
// columns are unique (a join with it does not multiply): the composer keeps
// every join's estimated size under maxJoinRows, so that every view can be
// compared every round.
type relation struct {
	sql    string // what FROM writes, before the alias
	cols   []column
	rows   int
	unique bool
}

// maxJoinRows bounds a composed FROM's estimated size. A join on the
// shared key domain keeps about keySelectivity of the cross product (the
// keys are skewed: one value holds a third of the rows).
const (
	maxJoinRows    = 2000
	keySelectivity = 0.16
)

var relations = []relation{
	{sql: "t1", rows: 120, cols: []column{{"id", tBigint, false}, {"k", tInt, true}, {"g", tText, false}, {"n", tNumeric, false}, {"ts", tTimestamp, false}, {"b", tBool, false}}},
	{sql: "t2", rows: 150, cols: []column{{"k", tInt, true}, {"v", tBigint, false}, {"s", tText, false}, {"d", tDate, false}}},
	{sql: "t3", rows: 60, cols: []column{{"id", tInt, true}, {"k", tInt, true}, {"x", tInt, false}, {"name", tText, false}}},
	{sql: "t4", rows: 12, cols: []column{{"a", tInt, true}, {"b", tInt, false}}},
	{sql: "bv_join", rows: 1500, cols: []column{{"id", tBigint, false}, {"k", tInt, true}, {"g", tText, false}, {"v", tBigint, false}, {"s", tText, false}}},
	{sql: "bv_agg", rows: 13, unique: true, cols: []column{{"k", tInt, true}, {"c", tBigint, false}, {"sv", tNumeric, false}}},
	{sql: "bv_pos", rows: 30, cols: []column{{"id", tInt, true}, {"k", tInt, true}, {"x", tInt, false}, {"name", tText, false}}},
	{sql: "(SELECT k, max(x) AS mx, count(*) AS c FROM t3 GROUP BY k)", rows: 13, unique: true, cols: []column{{"k", tInt, true}, {"mx", tInt, false}, {"c", tBigint, false}}},
	{sql: "(SELECT DISTINCT k, s FROM t2 WHERE v > 0)", rows: 60, cols: []column{{"k", tInt, true}, {"s", tText, false}}},
}

// scoped is a column as a query sees it: alias.name.
type scoped struct {
	ref string
	typ colType
	key bool
	// nullable-by-join: a column of the NULL-extended side of an outer join.
}

// Compose draws one query and names its kind ("composed/aggregate").
func (g *Gen) Compose() (kind, query string) {
	if g.r.IntN(8) == 0 {
		return "composed/setop", g.composeSetOp()
	}
	from, cols := g.composeFrom()
	where := ""
	if g.r.IntN(3) > 0 {
		where = " WHERE " + g.predicate(cols, 2)
	}
	switch p := g.r.IntN(10); {
	case p < 4:
		return "composed/projection", g.composeProjection(from, where, cols)
	case p < 8:
		return "composed/aggregate", g.composeAggregate(from, where, cols)
	default:
		return "composed/topn", g.composeTopN(from, where, cols)
	}
}

// ComposedViews draws n composed views, named after the n0 before them.
func (g *Gen) ComposedViews(n0, n int) []View {
	vs := make([]View, n)
	for i := range vs {
		kind, q := g.Compose()
		vs[i] = View{Name: fmt.Sprintf("ov_%03d", n0+i), Template: kind, Query: q}
	}
	return vs
}

func (g *Gen) composeFrom() (string, []scoped) {
	n := 1 + g.r.IntN(3)
	var b strings.Builder
	var cols []scoped
	var est float64
	for i := 0; i < n; i++ {
		// Draw relations until one fits, keeping its join kind.
		var rel relation
		cross := false
		for tries := 0; ; tries++ {
			rel = relations[g.r.IntN(len(relations))]
			cross = i > 0 && g.r.IntN(4) == 0
			e := float64(rel.rows)
			switch {
			case i == 0:
			case cross:
				e *= est
			case rel.unique:
				e = est
			default:
				e *= est * keySelectivity
			}
			if e <= maxJoinRows {
				est = e
				break
			}
			if tries == 20 {
				n = i // nothing fits: stop at the relations so far
				break
			}
		}
		if i == n {
			break
		}
		alias := fmt.Sprintf("r%d", i)
		var mine []scoped
		for _, c := range rel.cols {
			mine = append(mine, scoped{ref: alias + "." + c.name, typ: c.typ, key: c.key})
		}
		if i == 0 {
			fmt.Fprintf(&b, "%s %s", rel.sql, alias)
			cols = mine
			continue
		}
		if cross {
			fmt.Fprintf(&b, " CROSS JOIN %s %s", rel.sql, alias)
			cols = append(cols, mine...)
			continue
		}
		kind := []string{"JOIN", "JOIN", "LEFT JOIN", "LEFT JOIN", "RIGHT JOIN", "FULL JOIN"}[g.r.IntN(6)]
		left := pickKey(g, cols)
		right := pickKey(g, mine)
		on := left + " = " + right
		if g.r.IntN(4) == 0 {
			// Expressions over each side: a hash join on computed keys.
			on = fmt.Sprintf("%s %% 4 = abs(%s) %% 4", left, right)
		}
		if g.r.IntN(3) == 0 {
			// No subqueries in ON: kappa refuses them there (0A000).
			g.inOn = true
			on += " AND " + g.predicate(append(append([]scoped(nil), cols...), mine...), 1)
			g.inOn = false
		}
		fmt.Fprintf(&b, " %s %s %s ON %s", kind, rel.sql, alias, on)
		cols = append(cols, mine...)
	}
	return b.String(), cols
}

func pickKey(g *Gen, cols []scoped) string {
	var keys []string
	for _, c := range cols {
		if c.key {
			keys = append(keys, c.ref)
		}
	}
	return keys[g.r.IntN(len(keys))]
}

func pick(g *Gen, cols []scoped, types ...colType) (scoped, bool) {
	var ok []scoped
	for _, c := range cols {
		for _, t := range types {
			if c.typ == t {
				ok = append(ok, c)
			}
		}
	}
	if len(ok) == 0 {
		return scoped{}, false
	}
	return ok[g.r.IntN(len(ok))], true
}

// constant draws a constant of type t.
func (g *Gen) constant(t colType) string {
	switch t {
	case tInt:
		return fmt.Sprint(g.keyConst())
	case tBigint:
		return fmt.Sprint(g.r.IntN(201) - 100)
	case tNumeric:
		return g.numericConst()
	case tText:
		return quoted(textPool[g.r.IntN(len(textPool))]).sql
	case tTimestamp:
		return "TIMESTAMP '" + g.timestampConst() + "'"
	case tDate:
		return "DATE '" + g.dateConst() + "'"
	default:
		return []string{"true", "false"}[g.r.IntN(2)]
	}
}

// predicate draws a boolean expression over cols, nested up to depth.
func (g *Gen) predicate(cols []scoped, depth int) string {
	if depth > 0 && g.r.IntN(3) == 0 {
		l, r := g.predicate(cols, depth-1), g.predicate(cols, depth-1)
		switch g.r.IntN(3) {
		case 0:
			return "(" + l + " AND " + r + ")"
		case 1:
			return "(" + l + " OR " + r + ")"
		default:
			return "NOT (" + l + ")"
		}
	}
	c := cols[g.r.IntN(len(cols))]
	if !g.inOn && g.r.IntN(6) == 0 {
		if p, ok := g.subqueryPredicate(cols); ok {
			return p
		}
	}
	switch g.r.IntN(8) {
	case 0:
		return c.ref + " IS NULL"
	case 1:
		return c.ref + " IS NOT NULL"
	case 2:
		if c.typ == tBool {
			return c.ref
		}
		return fmt.Sprintf("%s IN (%s, %s)", c.ref, g.constant(c.typ), g.constant(c.typ))
	case 3:
		if c.typ == tBool {
			return c.ref + " IS NOT TRUE"
		}
		return fmt.Sprintf("%s IS DISTINCT FROM %s", c.ref, g.constant(c.typ))
	case 4:
		// Two columns of one type.
		if d, ok := pick(g, cols, c.typ); ok && d.ref != c.ref {
			return fmt.Sprintf("%s %s %s", c.ref, []string{"=", "<", "<>"}[g.r.IntN(3)], d.ref)
		}
	}
	if c.typ == tBool {
		return c.ref + " = " + g.constant(tBool)
	}
	return fmt.Sprintf("%s %s %s", c.ref, []string{"=", "<", ">", "<=", ">=", "<>"}[g.r.IntN(6)], g.constant(c.typ))
}

// subqueryPredicate draws IN, NOT IN, EXISTS, NOT EXISTS (correlated on
// a key or not) or a comparison with a scalar subquery, over one of the
// tables; ok is false when cols has no integer column to use.
func (g *Gen) subqueryPredicate(cols []scoped) (string, bool) {
	c, ok := pick(g, cols, tInt)
	if !ok {
		return "", false
	}
	type sub struct{ table, key, val string }
	subs := []sub{{"t1", "k", "id"}, {"t2", "k", "v"}, {"t3", "k", "x"}, {"t4", "a", "b"}}
	s := subs[g.r.IntN(len(subs))]
	filter := ""
	if g.r.IntN(2) == 0 {
		filter = fmt.Sprintf(" AND sq.%s > %d", s.val, g.r.IntN(201)-100)
	}
	switch g.r.IntN(6) {
	case 0:
		return fmt.Sprintf("%s IN (SELECT sq.%s FROM %s sq WHERE true%s)", c.ref, s.key, s.table, filter), true
	case 1:
		return fmt.Sprintf("%s NOT IN (SELECT sq.%s FROM %s sq WHERE true%s)", c.ref, s.key, s.table, filter), true
	case 2:
		return fmt.Sprintf("EXISTS (SELECT 1 FROM %s sq WHERE sq.%s = %s%s)", s.table, s.key, c.ref, filter), true
	case 3:
		return fmt.Sprintf("NOT EXISTS (SELECT 1 FROM %s sq WHERE sq.%s = %s%s)", s.table, s.key, c.ref, filter), true
	case 4:
		return fmt.Sprintf("%s > (SELECT min(sq.%s) FROM %s sq WHERE true%s)", c.ref, s.key, s.table, filter), true
	default:
		return fmt.Sprintf("%s <= (SELECT count(*) FROM %s sq WHERE sq.%s = %s%s)", c.ref, s.table, s.key, c.ref, filter), true
	}
}

// window draws a window function whose value does not depend on the order
// of ties, and its type.
func (g *Gen) window(cols []scoped) string {
	part := ""
	if k, ok := pick(g, cols, tInt); ok && g.r.IntN(4) > 0 {
		part = "PARTITION BY " + k.ref
	}
	o := cols[g.r.IntN(len(cols))]
	order := o.ref + []string{"", " DESC", " NULLS FIRST"}[g.r.IntN(3)]
	switch g.r.IntN(5) {
	case 0:
		return fmt.Sprintf("rank() OVER (%s ORDER BY %s)", part, order)
	case 1:
		return fmt.Sprintf("dense_rank() OVER (%s ORDER BY %s)", part, order)
	case 2:
		return fmt.Sprintf("count(*) OVER (%s)", part)
	case 3:
		if n, ok := pick(g, cols, tInt, tBigint, tNumeric); ok {
			return fmt.Sprintf("sum(%s) OVER (%s ORDER BY %s)", n.ref, part, order)
		}
		return fmt.Sprintf("count(%s) OVER (%s)", o.ref, part)
	default:
		if o.typ == tBool {
			return fmt.Sprintf("count(%s) OVER (%s)", o.ref, part)
		}
		return fmt.Sprintf("max(%s) OVER (%s)", o.ref, part)
	}
}

// expression draws a scalar expression over cols, and its type.
func (g *Gen) expression(cols []scoped) (string, colType) {
	c := cols[g.r.IntN(len(cols))]
	switch g.r.IntN(6) {
	case 0:
		switch c.typ {
		case tInt, tBigint:
			if c.ref[len(c.ref)-2:] == ".b" && c.typ == tInt {
				break // t4.b holds the int4 extremes: no arithmetic
			}
			return fmt.Sprintf("%s %s %d", c.ref, []string{"+", "-", "*", "%"}[g.r.IntN(4)], 1+g.r.IntN(5)), c.typ
		case tNumeric:
			return fmt.Sprintf("round(%s * %s, 1)", c.ref, g.numericConst()), tNumeric
		case tText:
			if g.r.IntN(3) == 0 {
				return "length(" + c.ref + ")", tInt
			}
			return []string{"upper(", "lower("}[g.r.IntN(2)] + c.ref + ")", tText
		case tTimestamp:
			return "date_trunc('day', " + c.ref + ")", tTimestamp
		case tDate:
			return c.ref + " + 1", tDate
		}
	case 1:
		return fmt.Sprintf("coalesce(%s, %s)", c.ref, g.constant(c.typ)), c.typ
	case 2:
		return fmt.Sprintf("CASE WHEN %s THEN %s END", g.predicate(cols, 1), c.ref), c.typ
	}
	return c.ref, c.typ
}

func (g *Gen) composeProjection(from, where string, cols []scoped) string {
	n := 1 + g.r.IntN(4)
	items := make([]string, n)
	for i := range items {
		e, _ := g.expression(cols)
		if g.r.IntN(8) == 0 {
			e = g.window(cols)
		}
		items[i] = fmt.Sprintf("%s AS c%d", e, i)
	}
	distinct := ""
	if g.r.IntN(3) == 0 {
		distinct = "DISTINCT "
	}
	return "SELECT " + distinct + strings.Join(items, ", ") + " FROM " + from + where
}

func (g *Gen) composeAggregate(from, where string, cols []scoped) string {
	var items, groups []string
	for i, n := 0, g.r.IntN(3); i < n; i++ {
		c, ok := pick(g, cols, tInt, tText, tBool, tDate)
		if !ok {
			break
		}
		items = append(items, fmt.Sprintf("%s AS g%d", c.ref, i))
		groups = append(groups, c.ref)
	}
	for i, n := 0, 1+g.r.IntN(3); i < n; i++ {
		items = append(items, g.aggregate(cols)+fmt.Sprintf(" AS a%d", i))
	}
	q := "SELECT " + strings.Join(items, ", ") + " FROM " + from + where
	if len(groups) > 0 {
		q += " GROUP BY " + strings.Join(groups, ", ")
	}
	if g.r.IntN(4) == 0 {
		q += fmt.Sprintf(" HAVING count(*) > %d", g.r.IntN(4))
	}
	return q
}

func (g *Gen) aggregate(cols []scoped) string {
	switch g.r.IntN(7) {
	case 0:
		return "count(*)"
	case 1:
		c := cols[g.r.IntN(len(cols))]
		return "count(" + c.ref + ")"
	case 2:
		c := cols[g.r.IntN(len(cols))]
		return "count(DISTINCT " + c.ref + ")"
	case 3, 4:
		if c, ok := pick(g, cols, tInt, tBigint, tNumeric); ok {
			return []string{"sum(", "avg(", "sum(DISTINCT "}[g.r.IntN(3)] + c.ref + ")"
		}
		return "count(*)"
	default:
		c := cols[g.r.IntN(len(cols))]
		if c.typ == tBool {
			return "count(" + c.ref + ")"
		}
		return []string{"min(", "max("}[g.r.IntN(2)] + c.ref + ")"
	}
}

// composeTopN outputs exactly its ordering columns, so ties cannot change
// the result.
func (g *Gen) composeTopN(from, where string, cols []scoped) string {
	n := 1 + g.r.IntN(3)
	items := make([]string, n)
	order := make([]string, n)
	for i := range items {
		e, _ := g.expression(cols)
		items[i] = fmt.Sprintf("%s AS c%d", e, i)
		order[i] = fmt.Sprintf("c%d%s", i, []string{"", " DESC", " NULLS FIRST", " DESC NULLS LAST"}[g.r.IntN(4)])
	}
	q := "SELECT " + strings.Join(items, ", ") + " FROM " + from + where + " ORDER BY " + strings.Join(order, ", ") + fmt.Sprintf(" LIMIT %d", 1+g.r.IntN(10))
	if g.r.IntN(3) == 0 {
		q += fmt.Sprintf(" OFFSET %d", g.r.IntN(4))
	}
	return q
}

// composeSetOp combines two one-column integer queries.
func (g *Gen) composeSetOp() string {
	side := func() string {
		from, cols := g.composeFrom()
		c, _ := pick(g, cols, tInt)
		q := "SELECT " + c.ref + " FROM " + from
		if g.r.IntN(2) == 0 {
			q += " WHERE " + g.predicate(cols, 1)
		}
		return q
	}
	op := []string{"UNION", "UNION ALL", "INTERSECT", "INTERSECT ALL", "EXCEPT", "EXCEPT ALL"}[g.r.IntN(6)]
	return side() + " " + op + " " + side()
}
