package planner

import (
	"fmt"
	"strings"

	"github.com/kappa-db/kappa/exec"
	"github.com/kappa-db/kappa/expr"
)

// Explain prints a physical plan, one operator per line, children indented,
// with the keys and state each operator keeps.
func Explain(n exec.Node) []string {
	var lines []string
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
		case *exec.Project:
			lines = append(lines, strings.TrimRight(fmt.Sprintf("%sProject %s", ind, joinExprs(x.Exprs)), " "))
			walk(x.Input, depth+1)
		case *exec.Aggregate:
			var aggs []string
			for _, a := range x.Aggs {
				if a.Func == exec.AggCountStar {
					aggs = append(aggs, "count(*)")
				} else if a.Distinct {
					aggs = append(aggs, fmt.Sprintf("%s(DISTINCT #%d)", a.Func, a.Arg))
				} else {
					aggs = append(aggs, fmt.Sprintf("%s(#%d)", a.Func, a.Arg))
				}
			}
			state := "state: per group count and accumulators"
			for _, a := range x.Aggs {
				if a.Func == exec.AggMin || a.Func == exec.AggMax {
					state += "; min/max value multisets"
					break
				}
			}
			lines = append(lines, fmt.Sprintf("%sAggregate group=%v aggs=[%s] (%s)", ind, x.GroupBy, strings.Join(aggs, ", "), state))
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
			line += " (state: both inputs by key"
			if x.Kind != exec.JoinInner {
				line += ", with match counts"
			}
			lines = append(lines, line+")")
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
