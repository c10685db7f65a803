package sql

import "strings"

// DefaultColumnName is the name PostgreSQL gives an output column that has
// no alias (FigureColname in parse_target.c): the column name for a column
// reference, the function name for a call (count, sum), the type name for a
// cast of something nameless (1::int → int4), "case", "array", "row",
// "coalesce", ... and "?column?" for anything else.
func DefaultColumnName(e Expr) string {
	name, _ := figureColname(e)
	if name == "" {
		return "?column?"
	}
	return name
}

// figureColname returns a name and its strength: 2 for a name taken from
// a column or function, 1 for a fallback name (a cast's type, "case"), 0
// for none.
func figureColname(e Expr) (string, int) {
	switch v := e.(type) {
	case *ColumnRef:
		if v.Star || len(v.Names) == 0 {
			return "", 0
		}
		return v.Names[len(v.Names)-1], 2
	case *Subscript, *FieldAccess:
		// The last field name in the indirection chain wins; otherwise
		// the name of the subscripted expression.
		for x := e; ; {
			switch y := x.(type) {
			case *FieldAccess:
				if !y.Star {
					return y.Field, 2
				}
				x = y.Arg
				continue
			case *Subscript:
				x = y.Arg
				continue
			}
			return figureColname(x)
		}
	case *FuncCall:
		if v.Keyword != "" {
			return strings.ToLower(v.Keyword), 2
		}
		return v.Name, 2
	case *NullIf:
		return "nullif", 2
	case *Cast:
		if name, s := figureColname(v.Arg); s > 1 {
			return name, s
		}
		return v.Type.Names[len(v.Type.Names)-1], 1
	case *TypedLiteral:
		return v.Type.Names[len(v.Type.Names)-1], 1
	case *Collate:
		return figureColname(v.Arg)
	case *Exists:
		return "exists", 2
	case *ArraySubquery:
		return "array", 2
	case *ScalarSubquery:
		if q := v.Query; q != nil {
			for q.SetOp != SetOpNone && q.Left != nil {
				q = q.Left
			}
			if len(q.Targets) > 0 {
				t := q.Targets[0]
				if t.Alias != "" {
					return t.Alias, 2
				}
				return DefaultColumnName(t.Expr), 2
			}
		}
		return "", 0
	case *Case:
		if v.Else != nil {
			if name, s := figureColname(v.Else); s > 1 {
				return name, s
			}
		}
		return "case", 1
	case *ArrayExpr:
		return "array", 2
	case *Row:
		return "row", 2
	case *Coalesce:
		return "coalesce", 2
	case *Greatest:
		return "greatest", 2
	case *Least:
		return "least", 2
	}
	return "", 0
}
