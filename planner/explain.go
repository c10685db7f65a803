package planner

import (
	"fmt"
	"strings"
	"time"

	"github.com/kappa-db/kappa/exec"
	"github.com/kappa-db/kappa/expr"
	"github.com/kappa-db/kappa/types"
)

// Explain prints a physical plan, one operator per line, children indented,
// with the keys and state each operator keeps.
func Explain(n exec.Node) []string {
	var lines []string
	// Aggregates that compute what an earlier one computes take its
	// output (exec.SharedAggregates): aggLines has the line of each
	// Aggregate in pre-order.
	shares := exec.SharedAggregates(n)
	var aggLines []int
	var walk func(n exec.Node, depth int)
	walk = func(n exec.Node, depth int) {
		ind := strings.Repeat("  ", depth)
		switch x := n.(type) {
		case *exec.Scan:
			kind := "Scan"
			switch x.Kind {
			case exec.ScanView:
				kind = "Scan materialized view"
			case exec.ScanSource:
				kind = "Scan source"
			}
			line := fmt.Sprintf("%s%s %s", ind, kind, x.Name)
			if w := x.Watermark; w != nil && x.Kind != exec.ScanView {
				line += fmt.Sprintf(" watermark=#%d-%s", w.Col, explainDelay(w.Delay))
			}
			if x.PointGet {
				line += " point get key=(" + joinExprs(x.KeyPrefix) + ")"
			} else if len(x.KeyPrefix) > 0 {
				line += " lookup key=(" + joinExprs(x.KeyPrefix) + ")"
			}
			lines = append(lines, line)
		case *exec.Values:
			lines = append(lines, fmt.Sprintf("%sValues rows=%d", ind, len(x.Rows)))
		case *exec.Filter:
			lines = append(lines, fmt.Sprintf("%sFilter %s", ind, x.Pred.String()))
			walk(x.Input, depth+1)
		case *exec.TimeWindow:
			kind := "Tumble"
			if x.Slide != x.Size {
				kind = "Hop"
			}
			lines = append(lines, fmt.Sprintf("%s%s time=#%d size=%s slide=%s offset=%s%s", ind, kind, x.TimeCol,
				time.Duration(x.Size*1000), time.Duration(x.Slide*1000), time.Duration(x.Offset*1000), explainWatermarks(x)))
			walk(x.Input, depth+1)
		case *exec.TemporalFilter:
			lines = append(lines, fmt.Sprintf("%sTemporalFilter %s (state: rows by the time they enter or leave)", ind, x.String()))
			walk(x.Input, depth+1)
		case *exec.SessionWindow:
			lines = append(lines, fmt.Sprintf("%sSession time=#%d partition=%v gap=%s (state: input rows by partition and time; a change recomputes the sessions around it)", ind, x.TimeCol, x.PartitionBy, time.Duration(x.Gap*1000)))
			walk(x.Input, depth+1)
		case *exec.Project:
			lines = append(lines, strings.TrimRight(fmt.Sprintf("%sProject %s", ind, joinExprs(x.Exprs)), " "))
			walk(x.Input, depth+1)
		case *exec.Aggregate:
			k := len(aggLines)
			aggLines = append(aggLines, len(lines)+1)
			aggs := make([]string, len(x.Aggs))
			for i, a := range x.Aggs {
				aggs[i] = describeAgg(a)
			}
			if x.Session {
				sw, p, _ := exec.SessionAggregateShape(x)
				line := fmt.Sprintf("%sSessionAggregate group=%v partition=%v time=#%d gap=%s", ind, x.GroupBy, sw.PartitionBy, sw.TimeCol, time.Duration(sw.Gap*1000))
				if exec.SessionAggregateCloses(x) {
					line += " closes=window_end"
					if x.EmitOnWindowClose {
						line += " emit=on-window-close"
					}
				}
				line += " aggs=[" + strings.Join(aggs, ", ") + "]"
				if p != nil {
					// The aggregates' columns, computed from the session's.
					line += " over=[" + joinExprs(p.Exprs) + "]"
				}
				state := "per session its bounds, count and accumulators"
				if exec.SessionAggregateStoresRows(x) {
					state += "; input rows by partition and time, to recompute the sessions a retraction touches"
				}
				lines = append(lines, fmt.Sprintf("%s (state: %s)", line, state))
				walk(sw.Input, depth+1)
				return
			}
			if k < len(shares) && shares[k].Of >= 0 {
				sh := shares[k]
				lines = append(lines, fmt.Sprintf("%sAggregate group=%v aggs=[%s] (computed once: the output of the Aggregate on line %d, columns %v; no state)",
					ind, x.GroupBy, strings.Join(aggs, ", "), aggLines[sh.Of], sh.Cols))
				walk(x.Input, depth+1)
				return
			}
			line := fmt.Sprintf("%sAggregate group=%v", ind, x.GroupBy)
			if x.GroupingSets != nil {
				line += fmt.Sprintf(" sets=%v", x.GroupingSets)
			}
			if c := exec.WindowCloseColumn(x); c >= 0 {
				line += fmt.Sprintf(" closes=#%d", x.GroupBy[c])
				if x.EmitOnWindowClose {
					line += " emit=on-window-close"
				}
			}
			lines = append(lines, fmt.Sprintf("%s aggs=[%s] (state: %s)", line, strings.Join(aggs, ", "), aggState(x)))
			walk(x.Input, depth+1)
		case *exec.Limit:
			if s, ok := x.Input.(*exec.Sort); ok {
				lines = append(lines, fmt.Sprintf("%sTopN %s limit=%s offset=%s (state: input rows in sort order; the rows last emitted)", ind, sortKeys(s.Keys), exprOr(x.Limit, "ALL"), exprOr(x.Offset, "0")))
				walk(s.Input, depth+1)
				return
			}
			var parts []string
			if x.Limit != nil {
				parts = append(parts, "limit="+x.Limit.String())
			}
			if x.Offset != nil {
				parts = append(parts, "offset="+x.Offset.String())
			}
			lines = append(lines, fmt.Sprintf("%sLimit %s", ind, strings.Join(parts, " ")))
			walk(x.Input, depth+1)
		case *exec.Sort:
			lines = append(lines, fmt.Sprintf("%sSort %s", ind, sortKeys(x.Keys)))
			walk(x.Input, depth+1)
		case *exec.Window:
			var calls []string
			for _, c := range x.Calls {
				calls = append(calls, c.String())
			}
			closes := ""
			if c := exec.WindowCloseColumnOf(x); c >= 0 {
				closes = fmt.Sprintf(" closes=#%d", c)
			}
			lines = append(lines, fmt.Sprintf("%sWindow partition=%v order=[%s] calls=[%s]%s (state: input rows by partition in sort order; a changed partition is recomputed)",
				ind, x.PartitionBy, sortKeys(x.OrderBy), strings.Join(calls, ", "), closes))
			walk(x.Input, depth+1)
		case *exec.GroupTopN:
			closes := ""
			if c := exec.GroupTopNCloseColumn(x); c >= 0 {
				closes = fmt.Sprintf(" closes=#%d", c)
			}
			lines = append(lines, fmt.Sprintf("%sGroupTopN %s partition=%v order=[%s] range=[%d, %d]%s (state: input rows by partition in sort order; reads each changed partition's top)",
				ind, x.Func, x.PartitionBy, sortKeys(x.OrderBy), x.Lo, x.Hi, closes))
			walk(x.Input, depth+1)
		case *exec.Join:
			line := fmt.Sprintf("%sJoin %s", ind, x.Kind)
			if len(x.LeftKeys) == 0 {
				line += " (cross)"
			} else {
				line += fmt.Sprintf(" keys=%v=%v", x.LeftKeys, x.RightKeys)
			}
			if x.On != nil {
				line += " on " + x.On.String()
			}
			if k := exec.JoinCloseKey(x); k >= 0 {
				line += fmt.Sprintf(" closes=#%d=#%d", x.LeftKeys[k], x.RightKeys[k])
			}
			if iv, ok := exec.JoinIntervalOf(x); ok {
				line += " interval=" + iv.String()
			}
			if x.Lookup != exec.LookupNone {
				line += " lookup=" + x.Lookup.String()
				if x.LookupFilter != nil {
					line += " where " + x.LookupFilter.String()
				}
				lines = append(lines, line+" (state: the lookup side by key; the other side's rows until their partner comes)")
			} else {
				line += " (state: both inputs by key"
				if x.Kind != exec.JoinInner {
					line += ", with match counts"
				}
				lines = append(lines, line+")")
			}
			walk(x.Left, depth+1)
			walk(x.Right, depth+1)
		case *exec.Union:
			lines = append(lines, ind+"Union all")
			walk(x.Left, depth+1)
			walk(x.Right, depth+1)
		case *exec.SetOp:
			kind := map[exec.SetOpKind]string{exec.SetIntersect: "Intersect", exec.SetExcept: "Except"}[x.Kind]
			if x.All {
				kind += " all"
			}
			lines = append(lines, ind+kind+" (state: each distinct row's count on both sides)")
			walk(x.Left, depth+1)
			walk(x.Right, depth+1)
		case *exec.ProjectSet:
			calls := make([]string, len(x.Calls))
			for i, c := range x.Calls {
				calls[i] = c.Fn.Name + "(" + joinExprs(c.Args) + ")"
			}
			line := ind + "ProjectSet " + strings.Join(calls, ", ")
			if x.Ordinality {
				line += " with ordinality"
			}
			lines = append(lines, line)
			walk(x.Input, depth+1)
		default:
			lines = append(lines, fmt.Sprintf("%s%T", ind, n))
		}
	}
	walk(n, 0)
	return lines
}

func joinExprs(es []expr.Expr) string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.String()
	}
	return strings.Join(parts, ", ")
}

func sortKeys(keys []exec.SortKey) string {
	var out []string
	for _, k := range keys {
		s := fmt.Sprintf("#%d", k.Col)
		if k.Desc {
			s += " DESC"
		}
		if k.NullsFirst != k.Desc {
			if k.NullsFirst {
				s += " NULLS FIRST"
			} else {
				s += " NULLS LAST"
			}
		}
		out = append(out, s)
	}
	return strings.Join(out, ", ")
}

func exprOr(e expr.Expr, def string) string {
	if e == nil {
		return def
	}
	return e.String()
}

// describeAgg prints one aggregate call over input columns (#n).
func describeAgg(a exec.AggCall) string {
	var sb strings.Builder
	if a.Func == exec.AggCountStar {
		sb.WriteString("count(*)")
	} else {
		sb.WriteString(a.Func.String())
		sb.WriteString("(")
		if a.Distinct {
			sb.WriteString("DISTINCT ")
		}
		switch {
		case a.Func == exec.AggPercentileCont || a.Func == exec.AggPercentileDisc || a.Func == exec.AggApproxPercentile:
			ft := types.Float8
			if a.Fraction.K == types.KindArray {
				ft = types.ArrayOf(types.Float8)
			}
			sb.WriteString(types.FormatText(a.Fraction, ft, nil))
		case a.Arg >= 0:
			fmt.Fprintf(&sb, "#%d", a.Arg)
		}
		for _, c := range a.Args {
			fmt.Fprintf(&sb, ", #%d", c)
		}
		if len(a.OrderBy) > 0 && (a.Func == exec.AggStringAgg || a.Func == exec.AggArrayAgg) {
			sb.WriteString(" ORDER BY " + sortKeys(a.OrderBy))
		}
		sb.WriteString(")")
		if len(a.OrderBy) > 0 && a.Func != exec.AggStringAgg && a.Func != exec.AggArrayAgg {
			sb.WriteString(" WITHIN GROUP (ORDER BY " + sortKeys(a.OrderBy) + ")")
		}
	}
	if a.HasFilter {
		fmt.Fprintf(&sb, " FILTER (#%d)", a.FilterCol)
	}
	return sb.String()
}

// aggState says what state an Aggregate keeps: always each group's count
// and accumulators, and per aggregate what else it needs.
func aggState(x *exec.Aggregate) string {
	parts := []string{"per group count and accumulators"}
	seen := map[string]bool{}
	for _, a := range x.Aggs {
		var s string
		switch {
		case a.Func == exec.AggMin || a.Func == exec.AggMax:
			s = "min/max value multisets"
		case a.Func == exec.AggApproxCountDistinct || (a.Distinct && !a.Func.KeepsElements()):
			s = "DISTINCT value counts"
		case a.Func == exec.AggVarSamp || a.Func == exec.AggVarPop || a.Func == exec.AggStddevSamp || a.Func == exec.AggStddevPop:
			s = "exact sums of x and x*x"
		case a.Func == exec.AggStringAgg || a.Func == exec.AggArrayAgg:
			s = "ordered element multisets"
		case a.Func == exec.AggPercentileCont || a.Func == exec.AggPercentileDisc || a.Func == exec.AggMode:
			s = "per-value counts"
		case a.Func == exec.AggApproxPercentile:
			s = "DDSketch bins with signed counts"
		}
		if s != "" && !seen[s] {
			seen[s] = true
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, "; ")
}
