package sql

import (
	"strconv"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"

	"github.com/kappa-db/kappa/pgerr"
)

// statement converts a top-level (or EXPLAIN-ed, PREPAREd) statement node and
// attaches the streaming clauses the pre-parser found in it.
func (c *converter) statement(n *pg.Node, cl *clauses) (Statement, error) {
	s, err := c.statementNode(n, cl)
	if err != nil {
		return nil, err
	}
	if cl.emit {
		q := mainQuery(s)
		if q == nil {
			return nil, c.unsupported(cl.emitPos, "EMIT ON WINDOW CLOSE is only allowed after a query")
		}
		q.EmitOnWindowClose, q.EmitPos = true, cl.emitPos
	}
	return s, nil
}

// mainQuery returns the query a trailing EMIT ON WINDOW CLOSE belongs to.
func mainQuery(s Statement) *Select {
	switch n := s.(type) {
	case *Select:
		return n
	case *CreateMaterializedView:
		return n.Query
	case *CreateView:
		return n.Query
	case *CreateTable:
		return n.Query
	case *Explain:
		return mainQuery(n.Statement)
	case *Declare:
		return n.Query
	case *Prepare:
		return mainQuery(n.Statement)
	}
	return nil
}

func (c *converter) statementNode(n *pg.Node, cl *clauses) (Statement, error) {
	if s, ok, err := c.roleStatement(n); ok {
		return s, err
	}
	switch v := n.Node.(type) {
	case *pg.Node_SelectStmt:
		return c.selectStmt(v.SelectStmt)
	case *pg.Node_InsertStmt:
		return c.insertStmt(v.InsertStmt)
	case *pg.Node_UpdateStmt:
		return c.updateStmt(v.UpdateStmt)
	case *pg.Node_DeleteStmt:
		return c.deleteStmt(v.DeleteStmt)
	case *pg.Node_CopyStmt:
		return c.copyStmt(v.CopyStmt, cl)
	case *pg.Node_CreateStmt:
		return c.createStmt(v.CreateStmt, cl)
	case *pg.Node_ViewStmt:
		return c.viewStmt(v.ViewStmt, cl)
	case *pg.Node_CreateTableAsStmt:
		return c.createTableAs(v.CreateTableAsStmt, cl)
	case *pg.Node_IndexStmt:
		return c.indexStmt(v.IndexStmt)
	case *pg.Node_DropStmt:
		return c.dropStmt(v.DropStmt, cl)
	case *pg.Node_VariableShowStmt:
		return &Show{Pos: -1, Name: strings.ToLower(v.VariableShowStmt.Name)}, nil
	case *pg.Node_VariableSetStmt:
		return c.setStmt(v.VariableSetStmt)
	case *pg.Node_TransactionStmt:
		return c.transactionStmt(v.TransactionStmt)
	case *pg.Node_ExplainStmt:
		inner, err := c.statement(v.ExplainStmt.Query, cl)
		if err != nil {
			return nil, err
		}
		opts, err := c.defElems(v.ExplainStmt.Options)
		if err != nil {
			return nil, err
		}
		c.setNestedPos(inner, c.explainedStart())
		return &Explain{Pos: -1, Options: opts, Statement: inner}, nil
	case *pg.Node_PrepareStmt:
		inner, err := c.statement(v.PrepareStmt.Query, cl)
		if err != nil {
			return nil, err
		}
		c.setNestedPos(inner, c.tokenAfter(c.stmtPos, pg.Token_AS))
		p := &Prepare{Pos: -1, Name: v.PrepareStmt.Name, Statement: inner}
		for _, t := range v.PrepareStmt.Argtypes {
			tn, err := c.typeName(t.GetTypeName())
			if err != nil {
				return nil, err
			}
			p.ParamTypes = append(p.ParamTypes, tn)
		}
		return p, nil
	case *pg.Node_ExecuteStmt:
		params, err := c.exprs(v.ExecuteStmt.Params)
		if err != nil {
			return nil, err
		}
		return &Execute{Pos: -1, Name: v.ExecuteStmt.Name, Params: params}, nil
	case *pg.Node_DeallocateStmt:
		return &Deallocate{Pos: loc(v.DeallocateStmt.Location), Name: v.DeallocateStmt.Name, All: v.DeallocateStmt.Isall}, nil
	case *pg.Node_DeclareCursorStmt:
		return c.declareStmt(v.DeclareCursorStmt)
	case *pg.Node_FetchStmt:
		f := v.FetchStmt
		fe := &Fetch{Pos: -1, Cursor: f.Portalname, Move: f.Ismove, Count: f.HowMany}
		switch f.Direction {
		case pg.FetchDirection_FETCH_BACKWARD:
			fe.Direction = FetchBackward
		case pg.FetchDirection_FETCH_ABSOLUTE:
			fe.Direction = FetchAbsolute
		case pg.FetchDirection_FETCH_RELATIVE:
			fe.Direction = FetchRelative
		}
		// FETCH ALL is PostgreSQL's FETCH_ALL, LONG_MAX.
		if f.HowMany == 1<<63-1 {
			fe.All, fe.Count = true, 0
		}
		return fe, nil
	case *pg.Node_ClosePortalStmt:
		name := v.ClosePortalStmt.Portalname
		return &Close{Pos: -1, Cursor: name, All: name == ""}, nil
	case *pg.Node_DiscardStmt:
		d := &Discard{Pos: -1}
		switch v.DiscardStmt.Target {
		case pg.DiscardMode_DISCARD_ALL:
			d.What = "all"
		case pg.DiscardMode_DISCARD_PLANS:
			d.What = "plans"
		case pg.DiscardMode_DISCARD_SEQUENCES:
			d.What = "sequences"
		case pg.DiscardMode_DISCARD_TEMP:
			d.What = "temp"
		}
		return d, nil
	}
	return nil, c.unsupported(c.stmtLocation(n), "statement not supported: %s", nodeName(n))
}

// findName returns the start of the first identifier token at or after
// byte off that spells name (case-folded as PostgreSQL does), or -1.
func (c *converter) findName(off int, name string) int {
	if off < 0 {
		return -1
	}
	for i := c.lastTokenAtOrBefore(off); i < len(c.toks); i++ {
		if i < 0 || c.toks[i].start < off {
			continue
		}
		t := c.toks[i]
		if t.kind == pg.Token_ASCII_59 {
			return -1
		}
		if t.kind != pg.Token_IDENT && t.kw == pg.KeywordKind_NO_KEYWORD {
			continue
		}
		s := c.text[t.start:t.end]
		if strings.HasPrefix(s, `"`) {
			s = strings.ReplaceAll(s[1:len(s)-1], `""`, `"`)
		} else {
			s = strings.ToLower(s)
		}
		if s == name {
			return t.start
		}
	}
	return -1
}

// setNestedPos sets the Pos of a statement nested in another (EXPLAIN,
// PREPARE, COPY (query)) when the tree had no location for it.
func (c *converter) setNestedPos(s Statement, pos int) {
	if s.Position() < 0 && pos >= 0 {
		setStatementPos(s, pos)
	}
}

// tokenAfter returns the start of the token after the first token of kind
// kind at or after byte off, or -1.
func (c *converter) tokenAfter(off int, kind pg.Token) int {
	for i := c.lastTokenAtOrBefore(off); i >= 0 && i+1 < len(c.toks); i++ {
		if c.toks[i].start >= off && c.toks[i].kind == kind {
			return c.toks[i+1].start
		}
	}
	return -1
}

// explainedStart returns the start of the statement after EXPLAIN and its
// options, for the EXPLAIN at c.stmtPos.
func (c *converter) explainedStart() int {
	i := c.lastTokenAtOrBefore(c.stmtPos) + 1 // after EXPLAIN
	if i <= 0 || i >= len(c.toks) {
		return -1
	}
	if c.toks[i].kind == pg.Token_ASCII_40 {
		depth := 0
		for ; i < len(c.toks); i++ {
			switch c.toks[i].kind {
			case pg.Token_ASCII_40:
				depth++
			case pg.Token_ASCII_41:
				depth--
			}
			if depth == 0 {
				break
			}
		}
		i++
	} else {
		for i < len(c.toks) && (c.toks[i].kind == pg.Token_ANALYZE || c.toks[i].kind == pg.Token_ANALYSE || c.toks[i].kind == pg.Token_VERBOSE) {
			i++
		}
	}
	if i >= len(c.toks) {
		return -1
	}
	return c.toks[i].start
}

// stmtLocation is the best position for an error about a whole statement:
// its own location when the node has one.
func (c *converter) stmtLocation(n *pg.Node) int {
	return nodeLocation(n)
}

func (c *converter) selectStmt(s *pg.SelectStmt) (*Select, error) {
	sel := &Select{Pos: -1}
	var err error
	if s.WithClause != nil {
		if sel.With, err = c.withClause(s.WithClause); err != nil {
			return nil, err
		}
	}
	if s.IntoClause != nil {
		return nil, c.unsupported(-1, "SELECT INTO is not supported")
	}
	switch s.Op {
	case pg.SetOperation_SETOP_UNION, pg.SetOperation_SETOP_INTERSECT, pg.SetOperation_SETOP_EXCEPT:
		switch s.Op {
		case pg.SetOperation_SETOP_UNION:
			sel.SetOp = SetOpUnion
		case pg.SetOperation_SETOP_INTERSECT:
			sel.SetOp = SetOpIntersect
		default:
			sel.SetOp = SetOpExcept
		}
		sel.SetAll = s.All
		if sel.Left, err = c.selectStmt(s.Larg); err != nil {
			return nil, err
		}
		if sel.Right, err = c.selectStmt(s.Rarg); err != nil {
			return nil, err
		}
		sel.Pos = sel.Left.Pos
	default:
		if len(s.ValuesLists) > 0 {
			for _, row := range s.ValuesLists {
				vals, err := c.exprs(row.GetList().GetItems())
				if err != nil {
					return nil, err
				}
				sel.Values = append(sel.Values, vals)
			}
			if len(sel.Values[0]) > 0 {
				sel.Pos = c.keywordBefore(sel.Values[0][0].Position(), pg.Token_VALUES)
			}
			break
		}
		if len(s.DistinctClause) > 0 {
			sel.Distinct = true
			// DISTINCT is a list holding one nil node; DISTINCT ON has the
			// expressions.
			for _, d := range s.DistinctClause {
				if d == nil || d.Node == nil {
					continue
				}
				e, err := c.expr(d)
				if err != nil {
					return nil, err
				}
				sel.DistinctOn = append(sel.DistinctOn, e)
			}
		}
		if sel.Targets, err = c.targets(s.TargetList); err != nil {
			return nil, err
		}
		if len(sel.Targets) > 0 {
			sel.Pos = c.keywordBefore(sel.Targets[0].Pos, pg.Token_SELECT)
		}
		if sel.From, err = c.fromList(s.FromClause); err != nil {
			return nil, err
		}
		if sel.Where, err = c.optExpr(s.WhereClause); err != nil {
			return nil, err
		}
		if sel.GroupBy, err = c.exprs(s.GroupClause); err != nil {
			return nil, err
		}
		sel.GroupByDistinct = s.GroupDistinct
		if sel.Having, err = c.optExpr(s.HavingClause); err != nil {
			return nil, err
		}
		for _, w := range s.WindowClause {
			wd, err := c.windowDef(w.GetWindowDef())
			if err != nil {
				return nil, err
			}
			sel.Windows = append(sel.Windows, wd)
		}
	}
	if sel.With != nil {
		sel.Pos = sel.With.Pos
	}
	if sel.OrderBy, err = c.sortList(s.SortClause); err != nil {
		return nil, err
	}
	if sel.Offset, err = c.optExpr(s.LimitOffset); err != nil {
		return nil, err
	}
	if sel.Limit, err = c.optExpr(s.LimitCount); err != nil {
		return nil, err
	}
	if l, ok := sel.Limit.(*Literal); ok && l.Kind == LitNull && l.Pos >= 0 &&
		l.Pos+3 <= len(c.text) && strings.EqualFold(c.text[l.Pos:l.Pos+3], "ALL") {
		sel.Limit, sel.LimitAll = nil, true
	}
	sel.LimitWithTies = s.LimitOption == pg.LimitOption_LIMIT_OPTION_WITH_TIES
	for _, l := range s.LockingClause {
		lc := l.GetLockingClause()
		switch lc.GetStrength() {
		case pg.LockClauseStrength_LCS_FORKEYSHARE:
			sel.Locking = append(sel.Locking, "FOR KEY SHARE")
		case pg.LockClauseStrength_LCS_FORSHARE:
			sel.Locking = append(sel.Locking, "FOR SHARE")
		case pg.LockClauseStrength_LCS_FORNOKEYUPDATE:
			sel.Locking = append(sel.Locking, "FOR NO KEY UPDATE")
		default:
			sel.Locking = append(sel.Locking, "FOR UPDATE")
		}
	}
	return sel, nil
}

func (c *converter) withClause(w *pg.WithClause) (*With, error) {
	with := &With{Pos: loc(w.Location), Recursive: w.Recursive}
	for _, n := range w.Ctes {
		cte := n.GetCommonTableExpr()
		if cte == nil {
			return nil, c.unsupported(with.Pos, "unexpected %s in WITH", nodeName(n))
		}
		if cte.SearchClause != nil || cte.CycleClause != nil {
			return nil, c.unsupported(loc(cte.Location), "SEARCH and CYCLE clauses are not supported")
		}
		q := cte.Ctequery.GetSelectStmt()
		if q == nil {
			return nil, c.unsupported(loc(cte.Location), "data-modifying statements in WITH are not supported")
		}
		sel, err := c.selectStmt(q)
		if err != nil {
			return nil, err
		}
		cols, err := c.strs(cte.Aliascolnames)
		if err != nil {
			return nil, err
		}
		item := &CTE{Pos: loc(cte.Location), Name: cte.Ctename, Columns: cols, Query: sel}
		switch cte.Ctematerialized {
		case pg.CTEMaterialize_CTEMaterializeAlways:
			item.Materialized = MaterializeAlways
		case pg.CTEMaterialize_CTEMaterializeNever:
			item.Materialized = MaterializeNever
		}
		with.CTEs = append(with.CTEs, item)
	}
	return with, nil
}

func (c *converter) targets(nodes []*pg.Node) ([]*Target, error) {
	if len(nodes) == 0 {
		return nil, nil
	}
	out := make([]*Target, 0, len(nodes))
	for _, n := range nodes {
		rt := n.GetResTarget()
		if rt == nil {
			return nil, c.unsupported(nodeLocation(n), "unexpected %s in a target list", nodeName(n))
		}
		e, err := c.expr(rt.Val)
		if err != nil {
			return nil, err
		}
		out = append(out, &Target{Pos: loc(rt.Location), Expr: e, Alias: rt.Name})
	}
	return out, nil
}

func (c *converter) alias(a *pg.Alias) (*Alias, error) {
	if a == nil {
		return nil, nil
	}
	cols, err := c.strs(a.Colnames)
	if err != nil {
		return nil, err
	}
	return &Alias{Name: a.Aliasname, Columns: cols}, nil
}

func (c *converter) rangeVar(r *pg.RangeVar) (*TableName, error) {
	al, err := c.alias(r.Alias)
	if err != nil {
		return nil, err
	}
	return &TableName{
		ObjectName: ObjectName{Pos: loc(r.Location), Catalog: r.Catalogname, Schema: r.Schemaname, Name: r.Relname},
		Alias:      al,
		Only:       !r.Inh,
	}, nil
}

func (c *converter) fromList(nodes []*pg.Node) ([]TableRef, error) {
	if len(nodes) == 0 {
		return nil, nil
	}
	out := make([]TableRef, 0, len(nodes))
	for _, n := range nodes {
		t, err := c.tableRef(n)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

func (c *converter) tableRef(n *pg.Node) (TableRef, error) {
	switch v := n.Node.(type) {
	case *pg.Node_RangeVar:
		return c.rangeVar(v.RangeVar)
	case *pg.Node_RangeSubselect:
		q, err := c.subquery(v.RangeSubselect.Subquery)
		if err != nil {
			return nil, err
		}
		al, err := c.alias(v.RangeSubselect.Alias)
		if err != nil {
			return nil, err
		}
		return &Subquery{Pos: q.Pos, Query: q, Alias: al, Lateral: v.RangeSubselect.Lateral}, nil
	case *pg.Node_JoinExpr:
		j := v.JoinExpr
		left, err := c.tableRef(j.Larg)
		if err != nil {
			return nil, err
		}
		right, err := c.tableRef(j.Rarg)
		if err != nil {
			return nil, err
		}
		join := &Join{Pos: left.Position(), Left: left, Right: right, Natural: j.IsNatural}
		switch j.Jointype {
		case pg.JoinType_JOIN_LEFT:
			join.Kind = JoinLeft
		case pg.JoinType_JOIN_RIGHT:
			join.Kind = JoinRight
		case pg.JoinType_JOIN_FULL:
			join.Kind = JoinFull
		case pg.JoinType_JOIN_INNER:
			join.Kind = JoinInner
			if j.Quals == nil && len(j.UsingClause) == 0 && !j.IsNatural {
				join.Kind = JoinCross
			}
		default:
			return nil, c.unsupported(join.Pos, "join type %s is not supported", j.Jointype)
		}
		if join.On, err = c.optExpr(j.Quals); err != nil {
			return nil, err
		}
		if join.Using, err = c.strs(j.UsingClause); err != nil {
			return nil, err
		}
		if j.JoinUsingAlias != nil {
			join.UsingAlias = j.JoinUsingAlias.Aliasname
		}
		if join.Alias, err = c.alias(j.Alias); err != nil {
			return nil, err
		}
		return join, nil
	case *pg.Node_RangeFunction:
		rf := v.RangeFunction
		if rf.IsRowsfrom || len(rf.Functions) != 1 {
			return nil, c.unsupported(-1, "ROWS FROM is not supported")
		}
		items := rf.Functions[0].GetList().GetItems()
		if len(items) == 0 {
			return nil, c.unsupported(-1, "empty function in FROM")
		}
		if len(rf.Coldeflist) > 0 || (len(items) > 1 && items[1] != nil && items[1].Node != nil) {
			return nil, c.unsupported(nodeLocation(items[0]), "column definition lists in FROM are not supported")
		}
		e, err := c.expr(items[0])
		if err != nil {
			return nil, err
		}
		fc, ok := e.(*FuncCall)
		if !ok {
			return nil, c.unsupported(e.Position(), "only function calls are supported as functions in FROM")
		}
		al, err := c.alias(rf.Alias)
		if err != nil {
			return nil, err
		}
		return &TableFunc{Pos: fc.Pos, Func: fc, Alias: al, Lateral: rf.Lateral, WithOrdinality: rf.Ordinality}, nil
	}
	return nil, c.unsupported(nodeLocation(n), "FROM item not supported: %s", nodeName(n))
}

func (c *converter) returning(nodes []*pg.Node) ([]*Target, error) {
	return c.targets(nodes)
}

func (c *converter) insertStmt(s *pg.InsertStmt) (Statement, error) {
	ins := &Insert{Pos: -1}
	var err error
	if s.WithClause != nil {
		if ins.With, err = c.withClause(s.WithClause); err != nil {
			return nil, err
		}
	}
	if ins.Table, err = c.rangeVar(s.Relation); err != nil {
		return nil, err
	}
	for _, n := range s.Cols {
		rt := n.GetResTarget()
		if rt == nil || len(rt.Indirection) > 0 {
			return nil, c.unsupported(nodeLocation(n), "assignment to a part of a column is not supported")
		}
		ins.Columns = append(ins.Columns, rt.Name)
	}
	if s.SelectStmt != nil {
		if ins.Source, err = c.subquery(s.SelectStmt); err != nil {
			return nil, err
		}
	}
	if oc := s.OnConflictClause; oc != nil {
		o := &OnConflict{Pos: loc(oc.Location), DoUpdate: oc.Action == pg.OnConflictAction_ONCONFLICT_UPDATE}
		if inf := oc.Infer; inf != nil {
			o.Constraint = inf.Conname
			for _, e := range inf.IndexElems {
				ie := e.GetIndexElem()
				if ie == nil || ie.Name == "" {
					return nil, c.unsupported(loc(inf.Location), "ON CONFLICT supports only column names")
				}
				o.Columns = append(o.Columns, ie.Name)
			}
		}
		if o.Set, err = c.assignments(oc.TargetList); err != nil {
			return nil, err
		}
		if o.Where, err = c.optExpr(oc.WhereClause); err != nil {
			return nil, err
		}
		ins.OnConflict = o
	}
	if ins.Returning, err = c.returning(s.ReturningList); err != nil {
		return nil, err
	}
	return ins, nil
}

// assignments converts the SET list of UPDATE or ON CONFLICT DO UPDATE.
func (c *converter) assignments(nodes []*pg.Node) ([]*Assignment, error) {
	var out []*Assignment
	for _, n := range nodes {
		rt := n.GetResTarget()
		if rt == nil || len(rt.Indirection) > 0 {
			return nil, c.unsupported(nodeLocation(n), "assignment to a part of a column is not supported")
		}
		a := &Assignment{Pos: loc(rt.Location), Column: rt.Name}
		if m := rt.Val.GetMultiAssignRef(); m != nil {
			row := m.Source.GetRowExpr()
			if row == nil || int(m.Colno) > len(row.Args) || len(row.Args) != int(m.Ncolumns) {
				return nil, c.unsupported(a.Pos, "multiple-column assignment from a subquery is not supported")
			}
			v, err := c.expr(row.Args[m.Colno-1])
			if err != nil {
				return nil, err
			}
			a.Value = v
		} else {
			v, err := c.expr(rt.Val)
			if err != nil {
				return nil, err
			}
			a.Value = v
		}
		out = append(out, a)
	}
	return out, nil
}

func (c *converter) updateStmt(s *pg.UpdateStmt) (Statement, error) {
	up := &Update{Pos: -1}
	var err error
	if s.WithClause != nil {
		if up.With, err = c.withClause(s.WithClause); err != nil {
			return nil, err
		}
	}
	if up.Table, err = c.rangeVar(s.Relation); err != nil {
		return nil, err
	}
	if up.Set, err = c.assignments(s.TargetList); err != nil {
		return nil, err
	}
	if up.From, err = c.fromList(s.FromClause); err != nil {
		return nil, err
	}
	if up.Where, err = c.optExpr(s.WhereClause); err != nil {
		return nil, err
	}
	if up.Returning, err = c.returning(s.ReturningList); err != nil {
		return nil, err
	}
	return up, nil
}

func (c *converter) deleteStmt(s *pg.DeleteStmt) (Statement, error) {
	del := &Delete{Pos: -1}
	var err error
	if s.WithClause != nil {
		if del.With, err = c.withClause(s.WithClause); err != nil {
			return nil, err
		}
	}
	if del.Table, err = c.rangeVar(s.Relation); err != nil {
		return nil, err
	}
	if del.Using, err = c.fromList(s.UsingClause); err != nil {
		return nil, err
	}
	if del.Where, err = c.optExpr(s.WhereClause); err != nil {
		return nil, err
	}
	if del.Returning, err = c.returning(s.ReturningList); err != nil {
		return nil, err
	}
	return del, nil
}

func (c *converter) copyStmt(s *pg.CopyStmt, cl *clauses) (Statement, error) {
	cp := &Copy{Pos: -1, From: s.IsFrom, Format: "text"}
	if s.IsProgram || s.Filename != "" {
		return nil, c.unsupported(-1, "COPY to or from a file or program is not supported; use COPY ... FROM STDIN or TO STDOUT")
	}
	if s.WhereClause != nil {
		return nil, c.unsupported(nodeLocation(s.WhereClause), "COPY FROM ... WHERE is not supported")
	}
	var err error
	switch {
	case cl.copyQuery != nil:
		cp.Query = cl.copyQuery
	case s.Query != nil:
		if cp.Query, err = c.statementNode(s.Query, &clauses{queryStart: -1}); err != nil {
			return nil, err
		}
		c.setNestedPos(cp.Query, c.tokenAfter(c.stmtPos, pg.Token_ASCII_40))
	default:
		if cp.Table, err = c.rangeVar(s.Relation); err != nil {
			return nil, err
		}
	}
	if cp.Columns, err = c.strs(s.Attlist); err != nil {
		return nil, err
	}
	if cp.Options, err = c.defElems(s.Options); err != nil {
		return nil, err
	}
	for _, o := range cp.Options {
		v := o.Value
		switch o.Key {
		case "format":
			switch v {
			case "text", "csv", "binary":
				cp.Format = v
			default:
				return nil, c.invalidOption(o.Pos, "COPY format \"%s\" not recognized", v)
			}
		case "header":
			switch v {
			case "", "true", "on", "1":
				cp.Header = true
			case "false", "off", "0":
				cp.Header = false
			default:
				return nil, c.invalidOption(o.Pos, "header requires a Boolean value")
			}
		case "delimiter":
			cp.Delimiter = &v
		case "null":
			cp.Null = &v
		case "quote":
			cp.Quote = &v
		case "escape":
			cp.Escape = &v
		}
	}
	return cp, nil
}

// invalidOption is PostgreSQL's 22023 error for a bad option value.
func (c *converter) invalidOption(pos int, format string, args ...any) *pgerr.Error {
	return pgerr.New(pgerr.InvalidParameterValue, format, args...).WithPosition(CharPos(c.text, pos))
}

// defElems converts a DefElem list (COPY, EXPLAIN and WITH options).
func (c *converter) defElems(nodes []*pg.Node) (Options, error) {
	if len(nodes) == 0 {
		return nil, nil
	}
	var out Options
	for _, n := range nodes {
		d := n.GetDefElem()
		if d == nil {
			return nil, c.unsupported(nodeLocation(n), "unexpected %s in an option list", nodeName(n))
		}
		key := strings.ToLower(d.Defname)
		if d.Defnamespace != "" {
			key = strings.ToLower(d.Defnamespace) + "." + key
		}
		o := Option{Pos: loc(d.Location), Key: key}
		if d.Arg != nil && d.Arg.Node != nil {
			v, err := c.optionValue(d.Arg)
			if err != nil {
				return nil, err
			}
			o.Value, o.HasValue = v, true
		}
		out = append(out, o)
	}
	return out, nil
}

// optionValue is the text of a DefElem argument.
func (c *converter) optionValue(n *pg.Node) (string, error) {
	switch v := n.Node.(type) {
	case *pg.Node_String_:
		return v.String_.Sval, nil
	case *pg.Node_Integer:
		return strconv.Itoa(int(v.Integer.Ival)), nil
	case *pg.Node_Float:
		return v.Float.Fval, nil
	case *pg.Node_Boolean:
		return strconv.FormatBool(v.Boolean.Boolval), nil
	case *pg.Node_AConst:
		return c.constant(v.AConst).Value, nil
	case *pg.Node_TypeName:
		names, err := c.strs(v.TypeName.Names)
		if err != nil {
			return "", err
		}
		return strings.Join(names, "."), nil
	case *pg.Node_List:
		parts := make([]string, 0, len(v.List.Items))
		for _, it := range v.List.Items {
			s, err := c.optionValue(it)
			if err != nil {
				return "", err
			}
			parts = append(parts, s)
		}
		return strings.Join(parts, ","), nil
	case *pg.Node_AStar:
		return "*", nil
	}
	return "", c.unsupported(nodeLocation(n), "option value %s is not supported", nodeName(n))
}

func (c *converter) createStmt(s *pg.CreateStmt, cl *clauses) (Statement, error) {
	if len(s.InhRelations) > 0 || s.Partspec != nil || s.Partbound != nil || s.OfTypename != nil {
		return nil, c.unsupported(loc(s.Relation.Location), "inheritance, partitioning and typed tables are not supported")
	}
	name := c.objectName(s.Relation)
	var cols []*ColumnDef
	var cons []*TableConstraint
	for _, e := range s.TableElts {
		switch v := e.Node.(type) {
		case *pg.Node_ColumnDef:
			cd, err := c.columnDef(v.ColumnDef)
			if err != nil {
				return nil, err
			}
			cols = append(cols, cd)
		case *pg.Node_Constraint:
			tc, err := c.tableConstraint(v.Constraint)
			if err != nil {
				return nil, err
			}
			cons = append(cons, tc)
		default:
			return nil, c.unsupported(nodeLocation(e), "table element not supported: %s", nodeName(e))
		}
	}
	for _, e := range s.Constraints {
		tc, err := c.tableConstraint(e.GetConstraint())
		if err != nil {
			return nil, err
		}
		cons = append(cons, tc)
	}
	opts := cl.options
	if !cl.hasOptions {
		var err error
		if opts, err = c.defElems(s.Options); err != nil {
			return nil, err
		}
	}
	if cl.source {
		if s.Relation.Relpersistence == "t" {
			return nil, c.unsupported(name.Pos, "temporary sources are not supported")
		}
		if cl.appendOnly {
			return nil, c.unsupported(name.Pos, "APPEND ONLY is not allowed on a source: sources are append-only")
		}
		return &CreateSource{
			Pos: -1, Name: name, IfNotExists: s.IfNotExists, Columns: cols, Constraints: cons,
			Watermark: cl.watermark, Options: opts,
			Format: cl.format, Encode: cl.encode, FormatOptions: cl.formatOpts,
		}, nil
	}
	return &CreateTable{
		Pos: -1, Name: name, IfNotExists: s.IfNotExists, Temporary: s.Relation.Relpersistence == "t",
		Columns: cols, Constraints: cons, Options: opts,
		Watermark: cl.watermark, AppendOnly: cl.appendOnly,
		Format: cl.format, Encode: cl.encode, FormatOptions: cl.formatOpts,
	}, nil
}

func (c *converter) objectName(r *pg.RangeVar) ObjectName {
	return ObjectName{Pos: loc(r.Location), Catalog: r.Catalogname, Schema: r.Schemaname, Name: r.Relname}
}

func (c *converter) columnDef(d *pg.ColumnDef) (*ColumnDef, error) {
	cd := &ColumnDef{Pos: loc(d.Location), Name: d.Colname, NotNull: d.IsNotNull}
	var err error
	if cd.Type, err = c.typeName(d.TypeName); err != nil {
		return nil, err
	}
	if d.RawDefault != nil {
		if cd.Default, err = c.expr(d.RawDefault); err != nil {
			return nil, err
		}
	}
	if d.CollClause != nil {
		if cd.Collation, err = c.strs(d.CollClause.Collname); err != nil {
			return nil, err
		}
	}
	for _, n := range d.Constraints {
		k := n.GetConstraint()
		if k == nil {
			return nil, c.unsupported(cd.Pos, "unexpected %s in a column definition", nodeName(n))
		}
		switch k.Contype {
		case pg.ConstrType_CONSTR_NOTNULL:
			cd.NotNull = true
		case pg.ConstrType_CONSTR_NULL:
			cd.Null = true
		case pg.ConstrType_CONSTR_DEFAULT:
			if cd.Default, err = c.expr(k.RawExpr); err != nil {
				return nil, err
			}
		case pg.ConstrType_CONSTR_PRIMARY:
			cd.PrimaryKey = true
		case pg.ConstrType_CONSTR_UNIQUE:
			cd.Unique = true
		case pg.ConstrType_CONSTR_CHECK:
			e, err := c.expr(k.RawExpr)
			if err != nil {
				return nil, err
			}
			cd.Checks = append(cd.Checks, e)
		case pg.ConstrType_CONSTR_GENERATED:
			if cd.Generated, err = c.expr(k.RawExpr); err != nil {
				return nil, err
			}
		default:
			return nil, c.unsupported(loc(k.Location), "column constraint not supported: %s", constraintName(k.Contype))
		}
	}
	return cd, nil
}

func constraintName(t pg.ConstrType) string {
	return strings.TrimPrefix(t.String(), "CONSTR_")
}

func (c *converter) tableConstraint(k *pg.Constraint) (*TableConstraint, error) {
	if k == nil {
		return nil, c.unsupported(-1, "unexpected table constraint")
	}
	tc := &TableConstraint{Pos: loc(k.Location), Name: k.Conname}
	var err error
	switch k.Contype {
	case pg.ConstrType_CONSTR_PRIMARY:
		tc.Kind = ConstraintPrimaryKey
	case pg.ConstrType_CONSTR_UNIQUE:
		tc.Kind = ConstraintUnique
	case pg.ConstrType_CONSTR_CHECK:
		tc.Kind = ConstraintCheck
		if tc.Check, err = c.expr(k.RawExpr); err != nil {
			return nil, err
		}
	default:
		return nil, c.unsupported(tc.Pos, "table constraint not supported: %s", constraintName(k.Contype))
	}
	if tc.Columns, err = c.strs(k.Keys); err != nil {
		return nil, err
	}
	return tc, nil
}

// queryText returns the text of a view's query found by the pre-parser.
func (c *converter) queryText(cl *clauses) string {
	if cl.queryStart < 0 || cl.queryEnd <= cl.queryStart || cl.queryEnd > len(c.text) {
		return ""
	}
	return c.text[cl.queryStart:cl.queryEnd]
}

func (c *converter) viewStmt(v *pg.ViewStmt, cl *clauses) (Statement, error) {
	q, err := c.subquery(v.Query)
	if err != nil {
		return nil, err
	}
	cols, err := c.strs(v.Aliases)
	if err != nil {
		return nil, err
	}
	opts, err := c.defElems(v.Options)
	if err != nil {
		return nil, err
	}
	return &CreateView{
		Pos: -1, Name: c.objectName(v.View), OrReplace: v.Replace, Temporary: v.View.Relpersistence == "t",
		Columns: cols, Query: q, QueryText: c.queryText(cl), Options: opts,
	}, nil
}

func (c *converter) createTableAs(s *pg.CreateTableAsStmt, cl *clauses) (Statement, error) {
	q, err := c.subquery(s.Query)
	if err != nil {
		return nil, err
	}
	cols, err := c.strs(s.Into.ColNames)
	if err != nil {
		return nil, err
	}
	opts := cl.options
	if !cl.hasOptions {
		if opts, err = c.defElems(s.Into.Options); err != nil {
			return nil, err
		}
	}
	name := c.objectName(s.Into.Rel)
	switch s.Objtype {
	case pg.ObjectType_OBJECT_MATVIEW:
		if cl.orReplace && s.IfNotExists {
			return nil, c.unsupported(name.Pos, "OR REPLACE and IF NOT EXISTS cannot be combined")
		}
		return &CreateMaterializedView{
			Pos: -1, Name: name, IfNotExists: s.IfNotExists, OrReplace: cl.orReplace,
			Columns: cols, Query: q, QueryText: c.queryText(cl), Options: opts,
		}, nil
	case pg.ObjectType_OBJECT_TABLE:
		ct := &CreateTable{
			Pos: -1, Name: name, IfNotExists: s.IfNotExists, Temporary: s.Into.Rel.Relpersistence == "t",
			Options: opts, Query: q, Watermark: cl.watermark, AppendOnly: cl.appendOnly,
			Format: cl.format, Encode: cl.encode, FormatOptions: cl.formatOpts,
		}
		for _, col := range cols {
			ct.Columns = append(ct.Columns, &ColumnDef{Pos: -1, Name: col})
		}
		return ct, nil
	}
	return nil, c.unsupported(name.Pos, "CREATE %s AS is not supported", s.Objtype)
}

func (c *converter) indexStmt(s *pg.IndexStmt) (Statement, error) {
	ci := &CreateIndex{
		Pos: -1, Name: s.Idxname, IfNotExists: s.IfNotExists, Unique: s.Unique,
		Table: c.objectName(s.Relation), Method: s.AccessMethod,
	}
	after := ci.Table.Pos + 1
	for _, n := range s.IndexParams {
		ie := n.GetIndexElem()
		if ie == nil {
			return nil, c.unsupported(ci.Table.Pos, "unexpected %s in an index definition", nodeName(n))
		}
		el := &IndexElem{Pos: -1, Column: ie.Name}
		if ie.Expr != nil {
			e, err := c.expr(ie.Expr)
			if err != nil {
				return nil, err
			}
			el.Expr, el.Pos = e, e.Position()
		} else {
			// A plain column has no location in the tree: find it after
			// the previous element.
			el.Pos = c.findName(after, ie.Name)
		}
		if el.Pos >= 0 {
			after = el.Pos + 1
		}
		switch ie.Ordering {
		case pg.SortByDir_SORTBY_ASC:
			el.Dir = SortAsc
		case pg.SortByDir_SORTBY_DESC:
			el.Dir = SortDesc
		}
		switch ie.NullsOrdering {
		case pg.SortByNulls_SORTBY_NULLS_FIRST:
			el.Nulls = NullsFirst
		case pg.SortByNulls_SORTBY_NULLS_LAST:
			el.Nulls = NullsLast
		}
		ci.Elems = append(ci.Elems, el)
	}
	for _, n := range s.IndexIncludingParams {
		if ie := n.GetIndexElem(); ie != nil && ie.Name != "" {
			ci.Include = append(ci.Include, ie.Name)
		}
	}
	var err error
	if ci.Options, err = c.defElems(s.Options); err != nil {
		return nil, err
	}
	if ci.Where, err = c.optExpr(s.WhereClause); err != nil {
		return nil, err
	}
	return ci, nil
}

func (c *converter) dropStmt(s *pg.DropStmt, cl *clauses) (Statement, error) {
	d := &Drop{Pos: -1, IfExists: s.MissingOk, Cascade: s.Behavior == pg.DropBehavior_DROP_CASCADE}
	switch s.RemoveType {
	case pg.ObjectType_OBJECT_TABLE:
		d.Kind = ObjTable
	case pg.ObjectType_OBJECT_VIEW:
		d.Kind = ObjView
	case pg.ObjectType_OBJECT_MATVIEW:
		d.Kind = ObjMaterializedView
	case pg.ObjectType_OBJECT_INDEX:
		d.Kind = ObjIndex
	default:
		return nil, c.unsupported(-1, "DROP %s is not supported", strings.ReplaceAll(strings.TrimPrefix(s.RemoveType.String(), "OBJECT_"), "_", " "))
	}
	if cl.dropKind != nil {
		d.Kind = *cl.dropKind
	}
	after := c.stmtPos
	for _, o := range s.Objects {
		names, err := c.strs(o.GetList().GetItems())
		if err != nil {
			return nil, err
		}
		n := ObjectName{Pos: -1}
		if len(names) > 0 {
			// DROP's names have no location in the tree.
			if n.Pos = c.findName(after, names[0]); n.Pos >= 0 {
				after = n.Pos + 1
			}
		}
		switch len(names) {
		case 1:
			n.Name = names[0]
		case 2:
			n.Schema, n.Name = names[0], names[1]
		case 3:
			n.Catalog, n.Schema, n.Name = names[0], names[1], names[2]
		default:
			return nil, c.unsupported(-1, "improper qualified name")
		}
		d.Names = append(d.Names, n)
	}
	return d, nil
}

func (c *converter) setStmt(s *pg.VariableSetStmt) (Statement, error) {
	st := &Set{Pos: -1, Name: strings.ToLower(s.Name), Local: s.IsLocal}
	switch s.Kind {
	case pg.VariableSetKind_VAR_SET_VALUE:
		st.Kind = SetValue
		for _, a := range s.Args {
			v, err := c.setValue(a)
			if err != nil {
				return nil, err
			}
			st.Values = append(st.Values, v)
		}
	case pg.VariableSetKind_VAR_SET_DEFAULT:
		st.Kind = SetDefault
	case pg.VariableSetKind_VAR_SET_CURRENT:
		st.Kind = SetFromCurrent
	case pg.VariableSetKind_VAR_RESET:
		st.Kind = SetReset
	case pg.VariableSetKind_VAR_RESET_ALL:
		st.Kind = SetResetAll
	case pg.VariableSetKind_VAR_SET_MULTI:
		st.Kind = SetTransaction
		modes, err := c.transactionModes(s.Args)
		if err != nil {
			return nil, err
		}
		st.Modes = modes
	}
	return st, nil
}

// setValue is the string form of a SET value, as PostgreSQL hands it to
// the parameter.
func (c *converter) setValue(n *pg.Node) (string, error) {
	switch v := n.Node.(type) {
	case *pg.Node_AConst:
		return c.constant(v.AConst).Value, nil
	case *pg.Node_TypeCast:
		// SET TIME ZONE INTERVAL '+02:00' HOUR TO MINUTE
		if k := v.TypeCast.Arg.GetAConst(); k != nil && k.GetSval() != nil {
			return k.GetSval().Sval, nil
		}
	}
	return "", c.unsupported(nodeLocation(n), "SET value %s is not supported", nodeName(n))
}

func (c *converter) transactionModes(nodes []*pg.Node) (TransactionModes, error) {
	var m TransactionModes
	for _, n := range nodes {
		d := n.GetDefElem()
		if d == nil {
			continue
		}
		v, err := c.optionValue(d.Arg)
		if err != nil {
			return m, err
		}
		switch d.Defname {
		case "transaction_isolation":
			m.Isolation = v
		case "transaction_read_only":
			b := v == "1" || v == "true"
			m.ReadOnly = &b
		case "transaction_deferrable":
			b := v == "1" || v == "true"
			m.Deferrable = &b
		}
	}
	return m, nil
}

func (c *converter) transactionStmt(s *pg.TransactionStmt) (Statement, error) {
	t := &Transaction{Pos: loc(s.Location), Savepoint: s.SavepointName, Chain: s.Chain}
	switch s.Kind {
	case pg.TransactionStmtKind_TRANS_STMT_BEGIN, pg.TransactionStmtKind_TRANS_STMT_START:
		t.Kind = TxnBegin
	case pg.TransactionStmtKind_TRANS_STMT_COMMIT:
		t.Kind = TxnCommit
	case pg.TransactionStmtKind_TRANS_STMT_ROLLBACK:
		t.Kind = TxnRollback
	case pg.TransactionStmtKind_TRANS_STMT_SAVEPOINT:
		t.Kind = TxnSavepoint
	case pg.TransactionStmtKind_TRANS_STMT_RELEASE:
		t.Kind = TxnRelease
	case pg.TransactionStmtKind_TRANS_STMT_ROLLBACK_TO:
		t.Kind = TxnRollbackTo
	default:
		return nil, c.unsupported(-1, "two-phase commit is not supported")
	}
	modes, err := c.transactionModes(s.Options)
	if err != nil {
		return nil, err
	}
	t.Modes = modes
	return t, nil
}

// Cursor option bits of PostgreSQL's DeclareCursorStmt (parsenodes.h).
const (
	cursorOptBinary = 0x0001
	cursorOptScroll = 0x0002
	cursorOptHold   = 0x0020
)

func (c *converter) declareStmt(s *pg.DeclareCursorStmt) (Statement, error) {
	q, err := c.subquery(s.Query)
	if err != nil {
		return nil, err
	}
	return &Declare{
		Pos: -1, Name: s.Portalname, Query: q,
		Binary: s.Options&cursorOptBinary != 0,
		Scroll: s.Options&cursorOptScroll != 0,
		Hold:   s.Options&cursorOptHold != 0,
	}, nil
}
