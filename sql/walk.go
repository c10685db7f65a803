package sql

// Walk calls fn for n and then, when fn returns true, for every child of n,
// depth first in source order. Children are the nodes held by n's fields:
// expressions, queries, FROM items, targets, ORDER BY items, windows, CTEs,
// type names, column definitions and nested statements. Nil children are
// skipped.
func Walk(n Node, fn func(Node) bool) {
	if n == nil || !fn(n) {
		return
	}
	w := walker(fn)
	switch v := n.(type) {
	case *Select:
		if v.With != nil {
			Walk(v.With, fn)
		}
		w.exprs(v.DistinctOn)
		for _, t := range v.Targets {
			Walk(t, fn)
		}
		for _, t := range v.From {
			Walk(t, fn)
		}
		w.expr(v.Where)
		w.exprs(v.GroupBy)
		w.expr(v.Having)
		for _, d := range v.Windows {
			Walk(d, fn)
		}
		for _, row := range v.Values {
			w.exprs(row)
		}
		w.sel(v.Left)
		w.sel(v.Right)
		w.order(v.OrderBy)
		w.expr(v.Limit)
		w.expr(v.Offset)
	case *With:
		for _, c := range v.CTEs {
			Walk(c, fn)
		}
	case *CTE:
		w.sel(v.Query)
	case *Target:
		w.expr(v.Expr)
	case *TableName:
	case *Subquery:
		w.sel(v.Query)
	case *Join:
		Walk(v.Left, fn)
		Walk(v.Right, fn)
		w.expr(v.On)
	case *TableFunc:
		Walk(v.Func, fn)
	case *GroupingSet:
		w.exprs(v.Items)
	case *OrderItem:
		w.expr(v.Expr)
	case *WindowDef:
		w.exprs(v.PartitionBy)
		w.order(v.OrderBy)
		if v.Frame != nil {
			w.expr(v.Frame.Start.Offset)
			w.expr(v.Frame.End.Offset)
		}
	case *ColumnRef, *Literal, *Param, *Default, *TypeName, *ObjectName:
	case *TypedLiteral:
		Walk(v.Type, fn)
	case *Unary:
		w.expr(v.Operand)
	case *Binary:
		w.expr(v.Left)
		w.expr(v.Right)
	case *And:
		w.exprs(v.Args)
	case *Or:
		w.exprs(v.Args)
	case *IsNull:
		w.expr(v.Arg)
	case *IsBool:
		w.expr(v.Arg)
	case *IsDistinctFrom:
		w.expr(v.Left)
		w.expr(v.Right)
	case *Between:
		w.expr(v.Arg)
		w.expr(v.Low)
		w.expr(v.High)
	case *In:
		w.expr(v.Arg)
		w.exprs(v.List)
	case *InSubquery:
		w.expr(v.Arg)
		w.sel(v.Query)
	case *Quantified:
		w.expr(v.Left)
		w.sel(v.Query)
		w.expr(v.Array)
	case *Exists:
		w.sel(v.Query)
	case *ScalarSubquery:
		w.sel(v.Query)
	case *ArraySubquery:
		w.sel(v.Query)
	case *Case:
		w.expr(v.Operand)
		for _, wh := range v.Whens {
			Walk(wh, fn)
		}
		w.expr(v.Else)
	case *When:
		w.expr(v.Cond)
		w.expr(v.Result)
	case *Coalesce:
		w.exprs(v.Args)
	case *NullIf:
		w.expr(v.Left)
		w.expr(v.Right)
	case *Greatest:
		w.exprs(v.Args)
	case *Least:
		w.exprs(v.Args)
	case *Cast:
		w.expr(v.Arg)
		Walk(v.Type, fn)
	case *FuncCall:
		w.exprs(v.Args)
		w.order(v.OrderBy)
		w.order(v.WithinGroup)
		w.expr(v.Filter)
		if v.Over != nil {
			Walk(v.Over, fn)
		}
	case *ArrayExpr:
		w.exprs(v.Elems)
	case *Subscript:
		w.expr(v.Arg)
		w.expr(v.Index)
		w.expr(v.Upper)
	case *FieldAccess:
		w.expr(v.Arg)
	case *Row:
		w.exprs(v.Args)
	case *Collate:
		w.expr(v.Arg)
	case *Insert:
		if v.With != nil {
			Walk(v.With, fn)
		}
		Walk(v.Table, fn)
		w.sel(v.Source)
		if v.OnConflict != nil {
			Walk(v.OnConflict, fn)
		}
		w.targets(v.Returning)
	case *OnConflict:
		for _, a := range v.Set {
			Walk(a, fn)
		}
		w.expr(v.Where)
	case *Assignment:
		w.expr(v.Value)
	case *Update:
		if v.With != nil {
			Walk(v.With, fn)
		}
		Walk(v.Table, fn)
		for _, a := range v.Set {
			Walk(a, fn)
		}
		for _, t := range v.From {
			Walk(t, fn)
		}
		w.expr(v.Where)
		w.targets(v.Returning)
	case *Delete:
		if v.With != nil {
			Walk(v.With, fn)
		}
		Walk(v.Table, fn)
		for _, t := range v.Using {
			Walk(t, fn)
		}
		w.expr(v.Where)
		w.targets(v.Returning)
	case *Copy:
		if v.Table != nil {
			Walk(v.Table, fn)
		}
		if v.Query != nil {
			Walk(v.Query, fn)
		}
	case *ColumnDef:
		if v.Type != nil {
			Walk(v.Type, fn)
		}
		w.expr(v.Default)
		w.expr(v.Generated)
		w.exprs(v.Checks)
	case *TableConstraint:
		w.expr(v.Check)
	case *Watermark:
		w.expr(v.Expr)
	case *CreateTable:
		w.columns(v.Columns, v.Constraints)
		if v.Watermark != nil {
			Walk(v.Watermark, fn)
		}
		w.sel(v.Query)
	case *CreateSource:
		w.columns(v.Columns, v.Constraints)
		if v.Watermark != nil {
			Walk(v.Watermark, fn)
		}
	case *CreateView:
		w.sel(v.Query)
	case *CreateMaterializedView:
		w.sel(v.Query)
	case *CreateIndex:
		for _, e := range v.Elems {
			Walk(e, fn)
		}
		w.expr(v.Where)
	case *IndexElem:
		w.expr(v.Expr)
	case *CreateSink:
		w.sel(v.Query)
	case *Subscribe:
		w.sel(v.Query)
	case *Explain:
		Walk(v.Statement, fn)
	case *Prepare:
		for _, t := range v.ParamTypes {
			Walk(t, fn)
		}
		Walk(v.Statement, fn)
	case *Execute:
		w.exprs(v.Params)
	case *Declare:
		w.sel(v.Query)
	case *Drop, *Show, *Set, *Transaction, *Deallocate, *Fetch, *Close, *Discard:
	default:
		panic("sql: Walk: unknown node type")
	}
}

type walker func(Node) bool

func (w walker) expr(e Expr) {
	if e != nil {
		Walk(e, w)
	}
}

func (w walker) exprs(es []Expr) {
	for _, e := range es {
		Walk(e, w)
	}
}

func (w walker) sel(s *Select) {
	if s != nil {
		Walk(s, w)
	}
}

func (w walker) order(items []*OrderItem) {
	for _, o := range items {
		Walk(o, w)
	}
}

func (w walker) targets(ts []*Target) {
	for _, t := range ts {
		Walk(t, w)
	}
}

func (w walker) columns(cols []*ColumnDef, cons []*TableConstraint) {
	for _, c := range cols {
		Walk(c, w)
	}
	for _, c := range cons {
		Walk(c, w)
	}
}
