package oracle

import (
	"fmt"
	"strings"
)

// Base is an object every view may read, created before the views on both
// servers: plain views (the same on both), and materialized views on kappa
// that PostgreSQL, whose materialized views do not refresh, holds as plain
// views of the same query.
type Base struct {
	Name         string
	Query        string
	Materialized bool // on kappa; a plain view on PostgreSQL
}

// Bases are the shared views: a join, an aggregate, a filter, a view on a
// view, and a materialized aggregate.
var Bases = []Base{
	{Name: "bv_join", Query: "SELECT t1.id, t1.k, t1.g, t2.v, t2.s FROM t1 JOIN t2 ON t1.k = t2.k"},
	{Name: "bv_agg", Query: "SELECT k, count(*) AS c, sum(v) AS sv FROM t2 GROUP BY k"},
	{Name: "bv_pos", Query: "SELECT id, k, x, name FROM t3 WHERE x > 0"},
	{Name: "bv_on_bv", Query: "SELECT k, sum(c) AS c FROM bv_agg WHERE k IS NOT NULL GROUP BY k"},
	{Name: "mv_base", Query: "SELECT k, count(*) AS c, max(n) AS mx FROM t1 GROUP BY k", Materialized: true},
}

// View is one generated view: its name, the template it came from and its
// query, which both servers run (kappa as a materialized view).
type View struct {
	Name     string
	Template string
	Query    string
}

// template makes queries of one shape; Name says which construct it covers
// ("join/left"), as the oracle's coverage log counts them.
type template struct {
	Name string
	Make func(g *Gen) string
}

// Views draws n views, going round the templates so that every construct is
// covered about equally, each with its own constants.
func (g *Gen) Views(n int) []View {
	vs := make([]View, n)
	for i := range vs {
		t := templates[i%len(templates)]
		vs[i] = View{Name: fmt.Sprintf("ov_%03d", i), Template: t.Name, Query: t.Make(g)}
	}
	return vs
}

// RandomViews draws n views from templates picked at random, named after
// the n0 before them.
func (g *Gen) RandomViews(n0, n int) []View {
	vs := make([]View, n)
	for i := range vs {
		t := templates[g.r.IntN(len(templates))]
		vs[i] = View{Name: fmt.Sprintf("ov_%03d", n0+i), Template: t.Name, Query: t.Make(g)}
	}
	return vs
}

// TemplateCount is the number of view templates.
func TemplateCount() int { return len(templates) }

// sub fills a query's placeholders: K (a key constant), K2, V (a bigint
// constant), N (numeric), X (an int in t3.x's range), L (a LIMIT), O (an
// OFFSET), TS (a timestamp literal), D (a date literal). Placeholders are
// written in braces: {K}.
func (g *Gen) sub(q string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(q, '{')
		if i < 0 {
			b.WriteString(q)
			return b.String()
		}
		j := strings.IndexByte(q[i:], '}')
		b.WriteString(q[:i])
		name := q[i+1 : i+j]
		q = q[i+j+1:]
		switch name {
		case "K", "K2", "K3":
			fmt.Fprint(&b, g.keyConst())
		case "V":
			fmt.Fprint(&b, g.r.IntN(201)-100)
		case "N":
			b.WriteString(g.numericConst())
		case "X":
			fmt.Fprint(&b, g.r.IntN(2401)-1200)
		case "XHI":
			fmt.Fprint(&b, 500+g.r.IntN(500))
		case "L":
			fmt.Fprint(&b, 1+g.r.IntN(8))
		case "O":
			fmt.Fprint(&b, g.r.IntN(4))
		case "C":
			fmt.Fprint(&b, g.r.IntN(4))
		case "TS":
			b.WriteString("'" + g.timestampConst() + "'")
		case "D":
			b.WriteString("'" + g.dateConst() + "'")
		case "T":
			b.WriteString(quoted(textPool[g.r.IntN(len(textPool))]).sql)
		case "B":
			fmt.Fprint(&b, []int{1, 100, 1000, 2147483000}[g.r.IntN(4)])
		default:
			panic("oracle: unknown placeholder {" + name + "}")
		}
	}
}

// shape is a template whose query is a fixed text with placeholders.
func shape(name, q string) template {
	return template{Name: name, Make: func(g *Gen) string { return g.sub(q) }}
}

// templates cover every construct kappa maintains (and some it does not
// yet: those report 0A000 and are counted, not failed). A Top-N view's
// result must not depend on how ties are broken: its ORDER BY ends in a
// unique key, or it outputs exactly its ordering columns.
var templates = []template{
	// Filters and projections.
	shape("select/filter", "SELECT id, k, g, n FROM t1 WHERE n > {N} OR k = {K}"),
	shape("select/no-pk-duplicates", "SELECT k, v, s FROM t2 WHERE v < {V}"),
	shape("select/three-valued-where", "SELECT id, k, b FROM t1 WHERE NOT (k > {K}) OR (b AND n < {N}) IS NOT TRUE"),

	// Joins.
	shape("join/inner-residual", "SELECT t1.id, t1.g, t2.v FROM t1 JOIN t2 ON t1.k = t2.k AND t2.v > {V}"),
	shape("join/inner", "SELECT t2.k, t2.v, t3.name FROM t2 JOIN t3 ON t2.k = t3.k WHERE t3.x < {X}"),
	shape("join/left", "SELECT t1.id, t3.id AS id3, t3.x FROM t1 LEFT JOIN t3 ON t1.k = t3.k AND t3.x > {X}"),
	shape("join/left-is-null", "SELECT t3.id, t3.name FROM t3 LEFT JOIN t2 ON t3.k = t2.k WHERE t2.k IS NULL"),
	shape("join/right", "SELECT t2.v, t2.s, t3.id, t3.name FROM t2 RIGHT JOIN t3 ON t2.k = t3.k AND t2.v < {V}"),
	shape("join/full", "SELECT t1.id, t1.k, t4.a, t4.b FROM t1 FULL JOIN t4 ON t1.k = t4.a"),
	shape("join/full-residual", "SELECT t3.id, t4.a FROM t3 FULL OUTER JOIN t4 ON t3.k = t4.a AND t3.x > {X}"),
	shape("join/full-using", "SELECT k, t1.id, t3.id AS id3 FROM t1 FULL JOIN t3 USING (k)"),
	shape("join/cross", "SELECT t4.a, t3.id, t3.x FROM t4 CROSS JOIN t3 WHERE t3.x > {XHI}"),
	shape("join/cross-theta", "SELECT a.a, b.b AS b2 FROM t4 a, t4 b WHERE a.b < b.b"),
	shape("join/self", "SELECT a.id, b.id AS id2, a.k FROM t1 a JOIN t1 b ON a.k = b.k AND a.id < b.id WHERE a.n > {N}"),
	shape("join/self-left", "SELECT a.id, b.id AS parent, b.name FROM t3 a LEFT JOIN t3 b ON a.k = b.id"),
	shape("join/3way", "SELECT t1.id, t2.v, t3.x FROM t1 JOIN t2 ON t1.k = t2.k JOIN t3 ON t3.k = t2.k WHERE t3.x > {XHI}"),
	shape("join/3way-left", "SELECT t3.id, t1.id AS id1, t4.b FROM t3 LEFT JOIN t1 ON t3.k = t1.k LEFT JOIN t4 ON t1.k = t4.a WHERE t3.x < {X}"),
	shape("join/comma-where", "SELECT t1.g, t3.name, t1.n FROM t1, t3 WHERE t1.k = t3.k AND t1.n > {N}"),
	shape("join/expression-key", "SELECT t1.id, t3.id AS id3 FROM t1 JOIN t3 ON t1.k + 1 = t3.k"),
	shape("join/expression-key-left", "SELECT t1.id, t3.id AS id3, t3.x FROM t1 LEFT JOIN t3 ON t1.k % 3 = t3.k - 1 AND t3.x > {X}"),
	shape("join/expression-key-full", "SELECT t2.v, t3.id, t3.name FROM t2 FULL JOIN t3 ON lower(t2.s) = lower(t3.name)"),
	shape("join/expression-key-cast", "SELECT t1.id, t1.n, t4.a, t4.b FROM t1 RIGHT JOIN t4 ON t1.n::int = t4.b AND abs(t1.k) = abs(t4.a)"),
	shape("join/theta-left", "SELECT t4.a, t4.b, t3.id FROM t4 LEFT JOIN t3 ON t4.b < t3.x AND t3.k = {K}"),
	shape("join/view", "SELECT bv_agg.k, bv_agg.c, t3.name FROM bv_agg JOIN t3 ON bv_agg.k = t3.k"),
	shape("join/view-left", "SELECT bv_join.id, bv_join.v, t4.b FROM bv_join LEFT JOIN t4 ON bv_join.k = t4.a WHERE bv_join.v > {V}"),
	shape("join/aggregate", "SELECT t1.k, count(*) AS c, sum(t2.v) AS sv, max(t1.n) AS mx FROM t1 JOIN t2 ON t1.k = t2.k GROUP BY t1.k"),
	shape("join/outer-aggregate", "SELECT t3.id, count(t2.v) AS c, sum(t2.v) AS sv FROM t3 LEFT JOIN t2 ON t3.k = t2.k GROUP BY t3.id"),

	// Subqueries.
	shape("subquery/in", "SELECT id, g FROM t1 WHERE k IN (SELECT a FROM t4 WHERE b > {V})"),
	shape("subquery/not-in-nulls", "SELECT id, k FROM t1 WHERE k NOT IN (SELECT a FROM t4 WHERE b < {V})"),
	shape("subquery/not-in-non-null", "SELECT id FROM t3 WHERE k NOT IN (SELECT k FROM t1 WHERE k IS NOT NULL AND n > {N})"),
	shape("subquery/in-list-null", "SELECT id, k FROM t3 WHERE k NOT IN ({K}, NULL) OR k IN ({K2}, {K3})"),
	shape("subquery/in-select-list", "SELECT id, k IN (SELECT a FROM t4) AS in4, k NOT IN (SELECT a FROM t4 WHERE b > {V}) AS notin FROM t1"),
	shape("subquery/exists", "SELECT id, name FROM t3 WHERE EXISTS (SELECT 1 FROM t2 WHERE t2.k = t3.k AND t2.v > {V})"),
	shape("subquery/not-exists", "SELECT id FROM t1 WHERE NOT EXISTS (SELECT 1 FROM t3 WHERE t3.k = t1.k AND t3.x < {X})"),
	shape("subquery/exists-theta", "SELECT id FROM t3 WHERE EXISTS (SELECT 1 FROM t4 WHERE t4.a = t3.k AND t4.b > t3.x)"),
	shape("subquery/exists-uncorrelated", "SELECT id, x FROM t3 WHERE EXISTS (SELECT 1 FROM t4 WHERE b > {V}) AND x > {X}"),
	shape("subquery/scalar", "SELECT id, x - (SELECT max(x) FROM t3) AS d FROM t3 WHERE k = {K}"),
	shape("subquery/scalar-where", "SELECT id, n FROM t1 WHERE n > (SELECT avg(n) FROM t1 WHERE k = {K})"),
	shape("subquery/correlated-count", "SELECT id, (SELECT count(*) FROM t2 WHERE t2.k = t1.k) AS c FROM t1"),
	shape("subquery/correlated-sum", "SELECT id, k, (SELECT sum(v) FROM t2 WHERE t2.k = t3.k AND t2.v > {V}) AS s FROM t3"),
	shape("subquery/correlated-max-where", "SELECT id, k, x FROM t3 WHERE x >= (SELECT max(b.x) FROM t3 b WHERE b.k = t3.k)"),
	shape("subquery/from", "SELECT s.k, s.c FROM (SELECT k, count(*) AS c FROM t2 GROUP BY k) s WHERE s.c > {C}"),
	shape("subquery/from-join", "SELECT s.k, s.m, t3.id FROM (SELECT k, max(n) AS m FROM t1 GROUP BY k) s JOIN t3 ON s.k = t3.k"),

	// Correlated subqueries that are not one aggregate (decorrelated into
	// joins, aggregates and per-value Top-N in a view), LATERAL, ANY/ALL.
	shape("subquery/correlated-scalar-pk", "SELECT id, k, (SELECT t3.name FROM t3 WHERE t3.id = t1.k) AS nm FROM t1"),
	shape("subquery/correlated-scalar-limit", "SELECT id, (SELECT t2.v FROM t2 WHERE t2.k = t1.k ORDER BY t2.v DESC NULLS LAST LIMIT 1) AS top FROM t1"),
	shape("subquery/correlated-scalar-offset", "SELECT id, k, (SELECT b.x FROM t3 b WHERE b.k = t3.k ORDER BY b.x, b.id LIMIT 1 OFFSET 1) AS second FROM t3"),
	shape("subquery/correlated-scalar-cardinality", "SELECT id, (SELECT t4.b FROM t4 WHERE t4.a = t3.k AND t4.b > {V}) AS b FROM t3 WHERE x > {XHI}"),
	shape("subquery/correlated-select-and-where", "SELECT id, (SELECT min(b) FROM t4 WHERE t4.a = t3.k) AS mb FROM t3 WHERE x > (SELECT t1.k FROM t1 WHERE t1.id = t3.id)"),
	shape("subquery/not-exists-inequality", "SELECT id, x FROM t3 WHERE NOT EXISTS (SELECT 1 FROM t3 b WHERE b.x > t3.x AND b.k = {K})"),
	shape("subquery/in-inequality", "SELECT id, k FROM t1 WHERE k IN (SELECT a FROM t4 WHERE t4.b > t1.k)"),
	shape("subquery/not-in-inequality", "SELECT id FROM t3 WHERE k NOT IN (SELECT a FROM t4 WHERE t4.b < t3.x)"),
	shape("subquery/nested-two-levels", "SELECT id FROM t1 WHERE EXISTS (SELECT 1 FROM t2 WHERE t2.k = t1.k AND EXISTS (SELECT 1 FROM t4 WHERE t4.a = t2.k AND t4.b > t1.k))"),
	shape("subquery/nested-scalar", "SELECT id, (SELECT count(*) FROM t2 WHERE t2.k = t3.k AND t2.v > (SELECT min(b) FROM t4 WHERE t4.a = t3.k)) AS c FROM t3"),
	shape("subquery/array", "SELECT id, ARRAY(SELECT t2.v FROM t2 WHERE t2.k = t3.k ORDER BY t2.v NULLS FIRST) AS vs FROM t3"),
	shape("subquery/lateral-topn", "SELECT t3.id, s.v FROM t3, LATERAL (SELECT t2.v FROM t2 WHERE t2.k = t3.k ORDER BY t2.v DESC NULLS LAST LIMIT {L}) s"),
	shape("subquery/lateral-left", "SELECT t1.id, s.c, s.m FROM t1 LEFT JOIN LATERAL (SELECT count(*) AS c, max(b) AS m FROM t4 WHERE t4.a = t1.k AND t4.b > {V}) s ON true"),
	shape("subquery/lateral-theta", "SELECT t4.a, t4.b, s.id FROM t4 LEFT JOIN LATERAL (SELECT t3.id FROM t3 WHERE t3.x < t4.b ORDER BY t3.x DESC, t3.id LIMIT 2) s ON true"),
	shape("subquery/all-where", "SELECT id, x FROM t3 WHERE x > ALL (SELECT b FROM t4 WHERE t4.a = t3.k)"),
	shape("subquery/any-all-select", "SELECT id, k < ANY (SELECT a FROM t4 WHERE b > {V}) AS lt, k >= ALL (SELECT a FROM t4 WHERE b < {V}) AS ge, k = ANY (SELECT a FROM t4) AS eq, k <> ALL (SELECT a FROM t4 WHERE b > {V}) AS ne FROM t1"),
	shape("subquery/all-correlated-select", "SELECT id, n <= ALL (SELECT c.n FROM t1 c WHERE c.k = t1.k) AS smallest, g <> ALL (SELECT s FROM t2 WHERE t2.k = t1.k) AS fresh, n > SOME (SELECT c.n FROM t1 c WHERE c.g = t1.g) AS notmin FROM t1"),

	// CTEs.
	shape("cte/join", "WITH c AS (SELECT k, sum(v) AS s FROM t2 GROUP BY k) SELECT t3.id, c.s FROM t3 JOIN c ON t3.k = c.k"),
	shape("cte/chain", "WITH a AS (SELECT k, n FROM t1 WHERE n > {N}), b AS (SELECT k, count(*) AS c FROM a GROUP BY k) SELECT k, c FROM b WHERE c > 1"),
	shape("cte/twice", "WITH a AS (SELECT k, x FROM t3) SELECT a1.k, a1.x, a2.x AS x2 FROM a a1 JOIN a a2 ON a1.k = a2.k AND a1.x < a2.x"),

	// Views on views.
	shape("view/on-view-on-view", "SELECT k, c FROM bv_on_bv WHERE c > {C}"),
	shape("view/aggregate-on-join-view", "SELECT k, count(*) AS c, sum(v) AS sv FROM bv_join GROUP BY k"),
	shape("view/on-materialized-view", "SELECT k, c, mx FROM mv_base WHERE c > {C}"),
	shape("view/filter-view", "SELECT id, name FROM bv_pos WHERE k = {K} OR x < {XHI}"),

	// Set operations.
	shape("setop/union", "SELECT k FROM t1 UNION SELECT k FROM t2"),
	shape("setop/union-all", "SELECT k, g FROM t1 WHERE n > {N} UNION ALL SELECT k, s FROM t2 WHERE v < {V}"),
	shape("setop/intersect", "SELECT k FROM t1 INTERSECT SELECT a FROM t4"),
	shape("setop/intersect-all", "SELECT k FROM t2 INTERSECT ALL SELECT k FROM t1"),
	shape("setop/except", "SELECT k, s FROM t2 EXCEPT SELECT k, name FROM t3"),
	shape("setop/except-all", "SELECT k FROM t2 EXCEPT ALL SELECT k FROM t3"),
	shape("setop/nested", "(SELECT a FROM t4 EXCEPT SELECT k FROM t3) UNION ALL SELECT k FROM t2 WHERE v > {V}"),

	// DISTINCT.
	shape("distinct/columns", "SELECT DISTINCT k, g FROM t1"),
	shape("distinct/expressions", "SELECT DISTINCT lower(s) AS ls, k % 3 AS m FROM t2"),
	shape("distinct/on", "SELECT DISTINCT ON (k) k, id, n FROM t1 ORDER BY k, n DESC NULLS LAST, id"),
	shape("distinct/on-ordering-columns", "SELECT DISTINCT ON (k, b) k, b, ts FROM t1 ORDER BY k, b, ts NULLS FIRST"),

	// Aggregates.
	shape("aggregate/numeric", "SELECT k, count(*) AS c, count(n) AS cn, sum(n) AS s, avg(n) AS a, min(n) AS mi, max(n) AS ma FROM t1 GROUP BY k"),
	shape("aggregate/bigint-date", "SELECT s, count(*) AS c, sum(v) AS sv, avg(v) AS av, min(d) AS mind, max(d) AS maxd FROM t2 GROUP BY s"),
	shape("aggregate/text-timestamp", "SELECT k, min(g) AS ming, max(g) AS maxg, min(ts) AS mints, max(ts) AS maxts FROM t1 GROUP BY k"),
	shape("aggregate/distinct", "SELECT k, count(DISTINCT v) AS cd, sum(DISTINCT v) AS sd, avg(DISTINCT v) AS ad FROM t2 GROUP BY k"),
	shape("aggregate/filter", "SELECT k, count(*) FILTER (WHERE b) AS cb, sum(n) FILTER (WHERE n > {N}) AS sn, count(DISTINCT g) FILTER (WHERE g <> 'a') AS cg FROM t1 GROUP BY k"),
	shape("aggregate/having", "SELECT k, count(*) AS c, sum(v) AS sv FROM t2 GROUP BY k HAVING count(*) > {C}"),
	shape("aggregate/having-expression", "SELECT k, max(x) - min(x) AS spread FROM t3 GROUP BY k HAVING sum(x) < {X} AND count(*) >= 1"),
	shape("aggregate/group-expression", "SELECT k % 3 AS m, lower(g) AS lg, count(*) AS c FROM t1 GROUP BY k % 3, lower(g)"),
	shape("aggregate/group-date-trunc", "SELECT date_trunc('day', ts) AS day, count(*) AS c, sum(n) AS s FROM t1 GROUP BY date_trunc('day', ts)"),
	shape("aggregate/group-ordinal", "SELECT extract(month FROM d) AS mon, count(*) AS c, max(v) AS mx FROM t2 GROUP BY 1"),
	shape("aggregate/global", "SELECT count(*) AS c, sum(x) AS s, avg(x) AS a, min(name) AS mn, max(x) AS mx FROM t3 WHERE x > {X}"),
	shape("aggregate/global-maybe-empty-table", "SELECT count(*) AS c, count(b) AS cb, sum(b) AS s, min(a) AS mn, avg(a) AS av FROM t4"),
	shape("aggregate/global-having", "SELECT count(*) AS c, sum(n) AS s FROM t1 HAVING count(*) > {XHI} / 5"),
	shape("aggregate/expression-of-aggregates", "SELECT k, sum(v) / NULLIF(count(*), 0) AS q, coalesce(max(v), 0) + 1 AS mx FROM t2 GROUP BY k"),
	shape("aggregate/boolean-case", "SELECT b, count(*) AS c, sum(CASE WHEN k > {K} THEN 1 ELSE 0 END) AS hi FROM t1 GROUP BY b"),

	shape("aggregate/string-array-agg", "SELECT k, string_agg(g, ',' ORDER BY g) AS sa, array_agg(n ORDER BY n NULLS FIRST) AS an, string_agg(DISTINCT lower(g), '|' ORDER BY lower(g)) AS sd FROM t1 GROUP BY k"),
	shape("aggregate/bool", "SELECT k, bool_and(b) AS ba, bool_or(b) AS bo, every(n > {N}) AS ev FROM t1 GROUP BY k"),
	shape("aggregate/stddev-variance", "SELECT k, stddev_samp(v) AS ss, var_samp(v) AS vs, stddev_pop(v) AS sp, var_pop(v) AS vp, stddev(x) AS sx FROM t2 JOIN (SELECT k AS k3, x FROM t3) s ON t2.k = s.k3 GROUP BY k"),
	shape("aggregate/stddev-numeric", "SELECT b, stddev(n) AS sd, variance(n) AS va, var_pop(n) AS vp FROM t1 GROUP BY b"),
	shape("aggregate/percentile-mode", "SELECT k, percentile_cont(0.5) WITHIN GROUP (ORDER BY x) AS med, percentile_disc(0.25) WITHIN GROUP (ORDER BY x) AS q1, mode() WITHIN GROUP (ORDER BY name) AS mo FROM t3 GROUP BY k"),
	shape("aggregate/grouping-sets", "SELECT k, b, count(*) AS c, sum(n) AS s FROM t1 GROUP BY GROUPING SETS ((k), (b), ())"),
	shape("aggregate/rollup", "SELECT k, s, count(*) AS c, max(v) AS mx FROM t2 WHERE v > {V} GROUP BY ROLLUP (k, s)"),
	shape("aggregate/cube", "SELECT b, k % 2 AS m, count(*) AS c, min(ts) AS mi FROM t1 GROUP BY CUBE (b, k % 2)"),

	// Window functions: a ranking's ORDER BY ends in a unique key, or the
	// function does not depend on the order of ties (rank, RANGE frames).
	shape("window/row-number", "SELECT id, k, row_number() OVER (PARTITION BY k ORDER BY n DESC NULLS LAST, id) AS rn FROM t1"),
	shape("window/rank-dense-rank", "SELECT k, v, rank() OVER (PARTITION BY k ORDER BY v) AS r, dense_rank() OVER (PARTITION BY k ORDER BY v DESC) AS dr FROM t2"),
	shape("window/top-per-group", "SELECT * FROM (SELECT id, k, x, row_number() OVER (PARTITION BY k ORDER BY x DESC NULLS LAST, id) AS rn FROM t3) s WHERE rn <= {C} + 1"),
	shape("window/rank-filter", "SELECT k, v, s FROM (SELECT k, v, s, rank() OVER (PARTITION BY k ORDER BY v DESC) AS r FROM t2) q WHERE r = 1"),
	shape("window/lag-lead", "SELECT id, k, lag(n) OVER (PARTITION BY k ORDER BY id) AS prev, lead(g, 1, 'none') OVER (PARTITION BY k ORDER BY id) AS nxt, first_value(ts) OVER (PARTITION BY k ORDER BY id) AS fv FROM t1"),
	shape("window/frames", "SELECT id, k, sum(x) OVER (PARTITION BY k ORDER BY id) AS rs, count(*) OVER (PARTITION BY k) AS c, avg(x) OVER (PARTITION BY k ORDER BY id ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING) AS ma FROM t3"),
	shape("window/range-ties", "SELECT k, v, sum(v) OVER (ORDER BY v) AS cum, count(*) OVER (PARTITION BY s) AS cs FROM t2 WHERE k = {K}"),

	// Top-N.
	shape("topn/key-tiebreak", "SELECT id, n FROM t1 ORDER BY n DESC NULLS LAST, id LIMIT {L}"),
	shape("topn/offset-ordering-columns", "SELECT n FROM t1 ORDER BY n LIMIT {L} OFFSET {O}"),
	shape("topn/no-key-table", "SELECT v, k FROM t2 ORDER BY v DESC, k NULLS FIRST LIMIT {L}"),
	shape("topn/aggregate", "SELECT k, count(*) AS c FROM t2 GROUP BY k ORDER BY c DESC, k NULLS FIRST LIMIT {L}"),
	shape("topn/subquery", "SELECT id, x FROM (SELECT id, x FROM t3 ORDER BY x, id LIMIT {L}) s WHERE x > {X}"),
	shape("topn/join", "SELECT t1.id, t2.v FROM t1 JOIN t2 ON t1.k = t2.k ORDER BY t2.v, t1.id LIMIT {L}"),
	shape("topn/timestamp", "SELECT ts, g FROM t1 WHERE ts IS NOT NULL ORDER BY ts DESC, g LIMIT {L}"),

	// Window functions; orders end in a key so that PostgreSQL's answer is
	// the only one.
	shape("window/row-number-topn", "SELECT * FROM (SELECT g, id, n, row_number() OVER (PARTITION BY g ORDER BY n DESC NULLS LAST, id) AS rn FROM t1) s WHERE rn <= {L}"),
	shape("window/dedup", "SELECT k, id, x FROM (SELECT k, id, x, row_number() OVER (PARTITION BY k ORDER BY x, id DESC) AS rn FROM t3) s WHERE rn = 1"),
	shape("window/rank-topn", "SELECT * FROM (SELECT k, v, s, rank() OVER (PARTITION BY k ORDER BY v DESC) AS r FROM t2) s2 WHERE r <= {L}"),
	shape("window/dense-rank-band", "SELECT * FROM (SELECT b, id, k, dense_rank() OVER (PARTITION BY b ORDER BY k NULLS FIRST) AS dr FROM t1) s WHERE dr BETWEEN 2 AND 3"),
	shape("window/ranking", "SELECT id, k, rank() OVER w AS r, dense_rank() OVER w AS dr, percent_rank() OVER w AS pr, cume_dist() OVER w AS cd, ntile(3) OVER (PARTITION BY k ORDER BY id) AS nt FROM t3 WINDOW w AS (PARTITION BY k ORDER BY x)"),
	shape("window/lag-lead", "SELECT id, g, lag(n) OVER w AS p, lead(n, 2, 0) OVER w AS nx, first_value(id) OVER w AS f, nth_value(k, 2) OVER w AS second FROM t1 WINDOW w AS (PARTITION BY g ORDER BY ts, id)"),
	shape("window/running", "SELECT id, k, sum(x) OVER (PARTITION BY k ORDER BY id) AS run, count(*) OVER (PARTITION BY k) AS c, avg(x) OVER (PARTITION BY k ORDER BY id ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING) AS sm FROM t3"),
	shape("window/range-frame", "SELECT id, x, count(*) OVER (ORDER BY x RANGE BETWEEN 10 PRECEDING AND CURRENT ROW) AS c, max(id) OVER (ORDER BY x DESC RANGE BETWEEN 5 PRECEDING AND 5 FOLLOWING) AS m FROM t3"),
	shape("window/rows-frame", "SELECT id, min(n) OVER (ORDER BY id ROWS 2 PRECEDING) AS mn, max(n) OVER (PARTITION BY b ORDER BY id ROWS BETWEEN CURRENT ROW AND 2 FOLLOWING) AS mx, last_value(g) OVER (PARTITION BY b ORDER BY id ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS lv FROM t1"),
	shape("window/over-grouped", "SELECT k, count(*) AS c, sum(count(*)) OVER () AS total, rank() OVER (ORDER BY count(*) DESC) AS r FROM t2 GROUP BY k"),
	shape("window/groups", "SELECT id, k, sum(x) OVER (PARTITION BY k ORDER BY x GROUPS BETWEEN 1 PRECEDING AND 1 FOLLOWING) AS s, count(*) OVER (ORDER BY k GROUPS 2 PRECEDING) AS c FROM t3"),
	shape("window/exclude", "SELECT id, k, sum(x) OVER (PARTITION BY k ORDER BY x RANGE BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING EXCLUDE TIES) AS s, max(x) OVER (PARTITION BY k ORDER BY id ROWS BETWEEN 2 PRECEDING AND 2 FOLLOWING EXCLUDE CURRENT ROW) AS m, count(*) OVER (ORDER BY k GROUPS BETWEEN CURRENT ROW AND 1 FOLLOWING EXCLUDE GROUP) AS c, first_value(id) OVER (PARTITION BY k ORDER BY id ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING EXCLUDE CURRENT ROW) AS f FROM t3"),
	shape("window/range-offsets", "SELECT id, count(*) OVER (ORDER BY ts RANGE BETWEEN INTERVAL '1 day' PRECEDING AND CURRENT ROW) AS c, sum(n) OVER (PARTITION BY b ORDER BY n RANGE BETWEEN 1.5 PRECEDING AND 2 FOLLOWING EXCLUDE CURRENT ROW) AS s FROM t1"),

	// Expressions.
	shape("expression/case-coalesce", "SELECT id, CASE WHEN n > {N} THEN 'hi' WHEN n IS NULL THEN 'null' ELSE 'lo' END AS c1, CASE k WHEN 1 THEN 'one' WHEN {K} THEN 'k' END AS c2, coalesce(g, 'none') AS g2, coalesce(k, -1) * 2 AS k2, nullif(g, {T}) AS nf FROM t1"),
	shape("expression/string", "SELECT id, upper(name) AS u, lower(name) AS l, length(name) AS len, substr(name, 2, 2) AS sub, name || '-' || k AS cat, replace(name, 'a', 'x') AS rep, trim(name) AS tr, left(name, 1) AS lf, position('b' IN name) AS pos, lpad(name, 5, '.') AS lp, concat(name, x) AS cc FROM t3"),
	shape("expression/timestamp", "SELECT id, date_trunc('hour', ts) AS h, extract(dow FROM ts) AS dow, ts + interval '90 minutes' AS later, ts::date AS day, ts - interval '1 day' AS earlier, date_part('day', ts) AS dp, ts > TIMESTAMP {TS} AS after FROM t1"),
	shape("expression/date", "SELECT d, d + 7 AS wk, d - DATE '2024-01-01' AS diff, extract(year FROM d) AS y, d < DATE {D} AS before, v FROM t2"),
	shape("expression/null-logic", "SELECT id, k = {K} AS eq, k IS NULL AS isn, k IS DISTINCT FROM {K2} AS dist, b AND k > {K} AS andv, b OR k < {K} AS orv, NOT b AS nb, greatest(k, {K}) AS gr, least(k, n) AS le FROM t1"),
	shape("expression/like-between", "SELECT id, g FROM t1 WHERE g LIKE 'a%' OR g ILIKE '%B' OR k BETWEEN {K} AND {K} + 3 OR n NOT BETWEEN -1 AND 1"),
	shape("expression/integer-arithmetic", "SELECT id, x * 2 + k AS e1, x % 7 AS e2, x / 3 AS e3, -x AS e4, abs(x - {X}) AS e5, round(x / 7.0, 2) AS e6 FROM t3"),
	shape("expression/numeric", "SELECT id, n * 1.5 AS n1, round(n, 1) AS n2, n / 3 AS n3, trunc(n) AS n4, ceil(n) AS n5, floor(n) AS n6, n::int AS ni FROM t1"),
	shape("expression/casts", "SELECT id, k::text AS kt, n::text AS nt, ts::date AS td, ts::text AS tt, b::text AS bt, n::bigint AS nb, k::numeric / 4 AS kn, g::varchar(2) AS g2 FROM t1"),

	// Runtime errors: the view is in an error state exactly while PostgreSQL's
	// query fails, with the same SQLSTATE class.
	shape("error/division-by-zero", "SELECT id, 1000 / (k - {K}) AS q FROM t3 WHERE x > {XHI}"),
	shape("error/overflow", "SELECT a, b + {B} AS s FROM t4"),
	shape("error/bad-cast", "SELECT k, s::int AS si FROM t2 WHERE k = {K} AND (s IN ('12', '-3') OR s = {T})"),
}
