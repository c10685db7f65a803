package planner

import (
	"fmt"
	"reflect"
	"strings"

	"github.com/kappa-db/kappa/pgerr"
	"github.com/kappa-db/kappa/sql"
	"github.com/kappa-db/kappa/types"
)

// column is one column visible in a scope.
type column struct {
	table string // the FROM item's name or alias
	name  string
	typ   types.Type
	// hidden columns answer only qualified references (t.a): the second
	// copy of a USING column.
	hidden bool
	// origin is the relation column this one is a plain reference to
	// (zero if it is computed): RowDescription's table OID and column
	// number, which drivers use to find nullability and the table name.
	origin origin
}

// origin names a column of a table, view or materialized view as
// pg_attribute does: the relation's pg_class OID and the column's attnum.
type origin struct {
	rel    uint32
	attnum int16
}

// scope is the columns a FROM clause makes visible, in order.
type scope struct {
	cols []column
}

func (s *scope) types() []types.Type {
	ts := make([]types.Type, len(s.cols))
	for i, c := range s.cols {
		ts[i] = c.typ
	}
	return ts
}

// resolve finds the column a reference names.
func (b *binder) resolve(s *scope, ref *sql.ColumnRef) (int, error) {
	var table, name string
	switch len(ref.Names) {
	case 1:
		name = ref.Names[0]
	case 2:
		table, name = ref.Names[0], ref.Names[1]
	default:
		table, name = ref.Names[len(ref.Names)-2], ref.Names[len(ref.Names)-1]
	}
	found := -1
	tableSeen := table == ""
	for i, c := range s.cols {
		if table != "" && c.table != table {
			continue
		}
		if table == "" && c.hidden {
			continue
		}
		tableSeen = true
		if c.name != name {
			continue
		}
		if found >= 0 {
			return 0, b.errAt(ref.Pos, pgerr.AmbiguousColumn, "column reference %q is ambiguous", name)
		}
		found = i
	}
	if found < 0 {
		if !tableSeen {
			return 0, b.errAt(ref.Pos, pgerr.UndefinedTable, "missing FROM-clause entry for table %q", table)
		}
		if table != "" {
			return 0, b.errAt(ref.Pos, pgerr.UndefinedColumn, "column %s.%s does not exist", table, name)
		}
		return 0, b.errAt(ref.Pos, pgerr.UndefinedColumn, "column %q does not exist", name)
	}
	return found, nil
}

// exprKey is a canonical string of an expression that ignores positions, so
// that `GROUP BY a + 1` matches `SELECT a + 1`.
func exprKey(e sql.Expr) string {
	var sb strings.Builder
	writeKey(&sb, reflect.ValueOf(e))
	return sb.String()
}

func writeKey(sb *strings.Builder, v reflect.Value) {
	switch v.Kind() {
	case reflect.Interface, reflect.Pointer:
		if v.IsNil() {
			sb.WriteString("nil")
			return
		}
		writeKey(sb, v.Elem())
	case reflect.Struct:
		sb.WriteString(v.Type().Name())
		sb.WriteByte('{')
		for i := 0; i < v.NumField(); i++ {
			f := v.Type().Field(i)
			if f.Name == "Pos" || !f.IsExported() {
				continue
			}
			sb.WriteString(f.Name)
			sb.WriteByte(':')
			writeKey(sb, v.Field(i))
			sb.WriteByte(' ')
		}
		sb.WriteByte('}')
	case reflect.Slice:
		sb.WriteByte('[')
		for i := 0; i < v.Len(); i++ {
			writeKey(sb, v.Index(i))
			sb.WriteByte(',')
		}
		sb.WriteByte(']')
	case reflect.String:
		fmt.Fprintf(sb, "%q", v.String())
	default:
		fmt.Fprintf(sb, "%v", v.Interface())
	}
}

// walkExpr calls fn for e and every expression below it, without entering
// subqueries. fn returns false to skip a node's children.
func walkExpr(e sql.Expr, fn func(sql.Expr) bool) {
	if e == nil || reflect.ValueOf(e).IsNil() {
		return
	}
	if !fn(e) {
		return
	}
	walkChildren(reflect.ValueOf(e), fn)
}

var (
	exprType   = reflect.TypeOf((*sql.Expr)(nil)).Elem()
	selectType = reflect.TypeOf((*sql.Select)(nil))
)

func walkChildren(v reflect.Value, fn func(sql.Expr) bool) {
	for v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface {
		if v.IsNil() {
			return
		}
		v = v.Elem()
	}
	if v.Kind() != reflect.Struct {
		return
	}
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		if !v.Type().Field(i).IsExported() {
			continue
		}
		walkValue(f, fn)
	}
}

func walkValue(f reflect.Value, fn func(sql.Expr) bool) {
	if f.Type() == selectType {
		return // subqueries have their own scope
	}
	switch f.Kind() {
	case reflect.Interface, reflect.Pointer:
		if f.IsNil() {
			return
		}
		if f.Type().Implements(exprType) {
			if e, ok := f.Interface().(sql.Expr); ok {
				walkExpr(e, fn)
				return
			}
		}
		walkChildren(f, fn)
	case reflect.Slice:
		for j := 0; j < f.Len(); j++ {
			walkValue(f.Index(j), fn)
		}
	case reflect.Struct:
		walkChildren(f, fn)
	}
}

func isAggregateCall(e sql.Expr) (*sql.FuncCall, bool) {
	f, ok := e.(*sql.FuncCall)
	if !ok || f.Over != nil || (f.Schema != "" && f.Schema != "pg_catalog") {
		return nil, false
	}
	return f, aggregateNames[f.Name] || knownAggregates[f.Name]
}

func containsAggregate(e sql.Expr) bool {
	found := false
	walkExpr(e, func(x sql.Expr) bool {
		if _, ok := isAggregateCall(x); ok {
			found = true
			return false
		}
		return !found
	})
	return found
}
