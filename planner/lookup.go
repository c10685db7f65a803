package planner

import (
	"github.com/kappa-db/kappa/catalog"
	"github.com/kappa-db/kappa/exec"
	"github.com/kappa-db/kappa/expr"
	"github.com/kappa-db/kappa/types"
)

// usePointLookups turns Filter(Scan) into a keyed lookup when the filter
// fixes the leading storage-key columns of the scanned relation with
// constants or parameters (`WHERE key = $1`). The filter stays in place;
// the lookup only narrows what is read.
func usePointLookups(n exec.Node, cat *catalog.Catalog) exec.Node {
	if x, ok := n.(*exec.Filter); ok {
		if s, ok := x.Input.(*exec.Scan); ok {
			if prefix, whole := lookupPrefix(x.Pred, s, cat); len(prefix) > 0 {
				c := *s
				c.KeyPrefix, c.PointGet = prefix, whole
				x.Input = &c
			}
			return x
		}
	}
	for _, in := range exec.Inputs(n) {
		*in = usePointLookups(*in, cat)
	}
	return n
}

// storageKey returns the columns a relation's rows are keyed by, in order.
func storageKey(o *catalog.Object) []int {
	switch o.Kind {
	case catalog.KindTable:
		return o.PrimaryKey
	case catalog.KindMaterializedView:
		return o.KeyCols
	}
	return nil
}

// lookupPrefix returns the key values pred fixes for a scan, and whether
// they are the relation's whole unique key (one row at most).
func lookupPrefix(pred expr.Expr, s *exec.Scan, cat *catalog.Catalog) ([]expr.Expr, bool) {
	o, ok := cat.Get(s.Rel)
	if !ok {
		return nil, false
	}
	key := storageKey(o)
	prefix := keyPrefix(pred, key)
	unique := o.Kind == catalog.KindTable || o.Unique
	return prefix, unique && len(key) > 0 && len(prefix) == len(key)
}

// keyPrefix returns the values that pred fixes for the leading columns of
// key (column = constant or parameter), in key order.
func keyPrefix(pred expr.Expr, key []int) []expr.Expr {
	if len(key) == 0 || pred == nil {
		return nil
	}
	eq := map[int]expr.Expr{}
	for _, c := range conjuncts(pred) {
		call, ok := c.(*expr.Call)
		if !ok || call.Fn.Name != "=" || len(call.Args) != 2 || !keyEquality(call) {
			continue
		}
		l, r := call.Args[0], call.Args[1]
		if _, ok := l.(*expr.ColRef); !ok {
			l, r = r, l
		}
		col, ok := l.(*expr.ColRef)
		if !ok || !isLookupValue(r) || !sameKeyEncoding(r.Type().Kind, col.T.Kind) {
			continue
		}
		eq[col.Idx] = r
	}
	var prefix []expr.Expr
	for _, k := range key {
		v, ok := eq[k]
		if !ok {
			break
		}
		prefix = append(prefix, v)
	}
	return prefix
}

func isLookupValue(e expr.Expr) bool {
	switch e.(type) {
	case *expr.Const, *expr.Param:
		return true
	}
	return false
}

func conjuncts(e expr.Expr) []expr.Expr {
	if a, ok := e.(*expr.And); ok {
		var out []expr.Expr
		for _, x := range a.Args {
			out = append(out, conjuncts(x)...)
		}
		return out
	}
	return []expr.Expr{e}
}

// sameKeyEncoding reports whether values of kinds a and b that compare
// equal also have equal storage keys: the same kind, or two integer kinds
// (types encodes every integer width alike).
func sameKeyEncoding(a, b types.Kind) bool {
	if a == b {
		return true
	}
	isInt := func(k types.Kind) bool {
		return k == types.KindInt2 || k == types.KindInt4 || k == types.KindInt8
	}
	return isInt(a) && isInt(b)
}
