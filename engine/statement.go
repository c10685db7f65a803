package engine

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kappa-db/kappa/catalog"
	"github.com/kappa-db/kappa/exec"
	"github.com/kappa-db/kappa/expr"
	"github.com/kappa-db/kappa/pgerr"
	"github.com/kappa-db/kappa/pgwire"
	"github.com/kappa-db/kappa/planner"
	"github.com/kappa-db/kappa/sql"
	"github.com/kappa-db/kappa/types"
)

// statement is one parsed statement of a session.
type statement struct {
	s         *Session
	ast       sql.Statement // nil for an empty query
	src       string        // the text positions refer to
	paramOIDs []uint32

	// The binding is cached until the catalog changes.
	boundVersion uint64
	b            *binding

	// Reused by runQuery from one execution to the next (a statement runs
	// on its session's goroutine only).
	enc    *encoder
	eval   expr.EvalContext
	params []types.Value
	out    struct {
		w     pgwire.ResultWriter
		n     int
		rowFn func(types.Row) error // sends a row to w; made once
	}
}

// sendRow encodes a result row and sends it to st.out.w.
func (st *statement) sendRow(row types.Row) error {
	vals, err := st.enc.encode(row)
	if err != nil {
		return err
	}
	st.out.n++
	return st.out.w.Row(vals)
}

// binding is what Describe learns and Execute uses.
type binding struct {
	params   []types.Type
	oids     []uint32 // of params
	cols     []pgwire.Column
	colTypes []types.Type
	query    *planner.Query
	prepared *exec.Prepared // query's plan, ready to run
	insert   *planner.Insert
	// singleScan: the query reads one relation once (no snapshot needed).
	singleScan bool
	update     *planner.Update
	delete     bool
}

func (st *statement) SQL() string {
	if st.ast == nil {
		return ""
	}
	return st.ast.Info().Text
}

func columnsOf(names []string, ts []types.Type) []pgwire.Column {
	cols := make([]pgwire.Column, len(names))
	for i, n := range names {
		t := ts[i]
		cols[i] = pgwire.Column{Name: n, TypeOID: t.OID, TypeSize: t.Size(), TypeModifier: t.Mod}
	}
	return cols
}

func textColumns(names ...string) ([]pgwire.Column, []types.Type) {
	ts := make([]types.Type, len(names))
	for i := range ts {
		ts[i] = types.Text
	}
	return columnsOf(names, ts), ts
}

// bind plans the statement if it has parameters or results.
func (st *statement) bind() (*binding, error) {
	v := st.s.e.cat.Version()
	if st.b != nil && st.boundVersion == v && (st.b.query == nil || !st.b.query.Volatile) {
		return st.b, nil
	}
	declared, err := paramTypes(st.paramOIDs)
	if err != nil {
		return nil, err
	}
	p := st.s.e.planner
	b := &binding{}
	switch x := st.ast.(type) {
	case *sql.Select:
		q, err := p.PlanQueryIn(st.src, x, declared, st.s.plannerSession(st.src))
		if err != nil {
			return nil, err
		}
		b.query, b.params = q, q.Params
		b.prepared = exec.Prepare(q.Plan)
		b.singleScan = exec.SingleScan(q.Plan)
		names := make([]string, len(q.Columns))
		for i, c := range q.Columns {
			names[i] = c.Name
			b.colTypes = append(b.colTypes, c.Type)
		}
		b.cols = columnsOf(names, b.colTypes)
		for i, c := range q.Columns {
			b.cols[i].TableOID, b.cols[i].ColumnAttr = c.TableOID, c.Attnum
		}
	case *sql.Insert:
		ins, err := p.PlanInsert(st.src, x, declared)
		if err != nil {
			return nil, err
		}
		b.insert, b.params = ins, ins.Params
	case *sql.Update:
		u, err := p.PlanUpdate(st.src, x, declared)
		if err != nil {
			return nil, err
		}
		b.update, b.params = u, u.Params
	case *sql.Delete:
		u, err := p.PlanDelete(st.src, x, declared)
		if err != nil {
			return nil, err
		}
		b.update, b.params, b.delete = u, u.Params, true
	case *sql.Declare:
		q, err := p.PlanQueryIn(st.src, x.Query, declared, st.s.plannerSession(st.src))
		if err != nil {
			return nil, err
		}
		b.params = q.Params
	case *sql.Explain:
		b.cols, b.colTypes = textColumns("QUERY PLAN")
		if q, ok := x.Statement.(*sql.Select); ok {
			// EXPLAIN of a query with $n (extended protocol) takes the
			// query's parameters.
			pq, err := p.PlanQueryIn(st.src, q, declared, st.s.plannerSession(st.src))
			if err != nil {
				return nil, err
			}
			b.params = pq.Params
		}
	case *sql.Show:
		switch {
		case x.CreateName != nil:
			b.cols, b.colTypes = textColumns("name", "create_sql")
		case x.Name == "tables" || x.Name == "views" || x.Name == "materialized views" || x.Name == "sources":
			b.cols, b.colTypes = textColumns("name")
		case x.Name == "all":
			b.cols, b.colTypes = textColumns("name", "setting")
		default:
			def, ok := st.s.lookupSetting(x.Name)
			if !ok {
				return nil, unknownSetting(x.Name)
			}
			b.cols, b.colTypes = textColumns(def.name)
		}
	default:
		for _, t := range declared {
			b.params = append(b.params, t)
		}
	}
	b.oids = make([]uint32, len(b.params))
	for i, t := range b.params {
		b.oids[i] = t.OID
	}
	st.b, st.boundVersion = b, v
	return b, nil
}

func unknownSetting(name string) error {
	return pgerr.New(pgerr.UndefinedObject, "unrecognized configuration parameter %q", name)
}

// Describe implements pgwire.Statement.
func (st *statement) Describe(ctx context.Context) ([]uint32, []pgwire.Column, error) {
	if st.ast == nil {
		return nil, nil, nil
	}
	switch x := st.ast.(type) {
	case *sql.Fetch:
		// A FETCH returns its cursor's columns, which no binding knows.
		cols, err := st.s.fetchColumns(x)
		return nil, cols, err
	case *sql.Execute:
		cols, err := st.s.executeColumns(x)
		return nil, cols, err
	}
	b, err := st.bind()
	if err != nil {
		return nil, nil, err
	}
	return b.oids, b.cols, nil
}

// decodeParams turns wire parameters into values of the bound types, in
// vals (reused when large enough).
func (st *statement) decodeParams(b *binding, raw [][]byte, formats []int16, vals []types.Value) ([]types.Value, error) {
	if len(raw) != len(b.params) {
		return nil, pgerr.New(pgerr.ProtocolViolation, "bind message supplies %d parameters, but prepared statement %q requires %d", len(raw), "", len(b.params))
	}
	if cap(vals) < len(raw) {
		vals = make([]types.Value, len(raw))
	}
	vals = vals[:len(raw)]
	clear(vals)
	for i, r := range raw {
		if r == nil {
			continue
		}
		var err error
		if i < len(formats) && formats[i] == 1 {
			vals[i], err = types.ParseBinary(b.params[i], r)
		} else {
			vals[i], err = types.ParseText(b.params[i], fieldString(b.params[i], r), st.s.loc)
		}
		if err != nil {
			pe := pgerr.As(err)
			return nil, pe.WithDetail("while decoding parameter $%d", i+1)
		}
	}
	return vals, nil
}

func (st *statement) evalContext(params []types.Value) *expr.EvalContext {
	return &expr.EvalContext{Params: params, Now: types.TimestampFromTime(time.Now()), Loc: st.s.loc,
		User: st.s.userName, SessionUser: st.s.sessionUserName, QueryMemory: st.s.queryMemory}
}

// Execute implements pgwire.Statement.
func (st *statement) Execute(ctx context.Context, params [][]byte, paramFormats []int16, resultFormats []int16, w pgwire.ResultWriter) (string, error) {
	if st.ast == nil {
		return "", nil
	}
	s := st.s
	if s.tx == 'E' {
		if t, ok := st.ast.(*sql.Transaction); !ok || (t.Kind != sql.TxnRollback && t.Kind != sql.TxnCommit && t.Kind != sql.TxnRollbackTo) {
			return "", pgerr.New(pgerr.InFailedSQLTransaction, "current transaction is aborted, commands ignored until end of transaction block")
		}
	}
	if tctx, cancel := s.withTimeout(ctx); cancel != nil {
		defer cancel()
		ctx = tctx
	}
	s.w = w
	tag, err := st.execute(ctx, params, paramFormats, resultFormats, w)
	s.w = nil
	if err != nil {
		err = timeoutError(ctx, err)
		switch s.tx {
		case 'T':
			s.tx = 'E'
		case 'I':
			// The implicit transaction fails whole.
			s.endTxn()
		}
		return "", err
	}
	return tag, nil
}

// EndImplicit implements pgwire.Session: it commits (or, when commit is
// false, discards) the implicit transaction of the statements run outside a
// block since the last call.
func (s *Session) EndImplicit(ctx context.Context, commit bool) error {
	if s.tx != 'I' {
		return nil
	}
	if !commit {
		s.endTxn()
		return nil
	}
	return s.commitTxn(ctx)
}

// isDDL reports whether a statement changes the catalog.
func isDDL(ast sql.Statement) bool {
	switch ast.(type) {
	case *sql.CreateTable, *sql.CreateView, *sql.CreateMaterializedView, *sql.Drop, *sql.CreateSource,
		*sql.CreateIndex, *sql.CreateSink, *sql.AlterOwner, *sql.RenameRole, *sql.ReassignOwned, *sql.DropOwned,
		*sql.CreateRole, *sql.AlterRole, *sql.DropRole, *sql.Grant, *sql.GrantRole:
		return true
	}
	return false
}

// beforeDDL applies kappa's rule for DDL in a transaction, which follows
// Materialize: a block is for writes or for DDL, not both. DDL takes effect
// when it runs (ROLLBACK does not undo it), so it is refused in a block that
// has written rows; in an implicit transaction (a multi-statement Query) the
// writes before it are committed first.
func (st *statement) beforeDDL(ctx context.Context) error {
	s := st.s
	if !s.txnWrote() {
		if s.tx == 'T' {
			s.txDDL = true
		}
		return nil
	}
	if s.tx == 'I' {
		return s.commitTxn(ctx)
	}
	what := strings.ToUpper(strings.Join(strings.Fields(st.ast.Info().Text + " x x")[:2], " "))
	e := pgerr.New(pgerr.ActiveSQLTransaction, "%s cannot run inside a transaction block that has written rows", what).
		WithHint("kappa applies DDL at once and cannot roll it back with the block's writes: COMMIT or ROLLBACK first, or run the DDL before the writes.")
	if p := st.ast.Position(); p >= 0 {
		e.Position = sql.CharPos(st.src, p)
	}
	return e
}

func (st *statement) execute(ctx context.Context, params [][]byte, pf, rf []int16, w pgwire.ResultWriter) (string, error) {
	s := st.s
	e := s.e
	if d, ok := st.ast.(*sql.Discard); ok && d.What == "all" && s.tx != 'I' {
		return "", pgerr.New(pgerr.ActiveSQLTransaction, "DISCARD ALL cannot run inside a transaction block")
	}
	if err := st.authorize(); err != nil {
		return "", err
	}
	if isDDL(st.ast) {
		if err := st.beforeDDL(ctx); err != nil {
			return "", err
		}
	}
	if tag, ok, err := st.executeRole(ctx, w); ok {
		return tag, err
	}
	switch x := st.ast.(type) {
	case *sql.Select:
		return st.runQuery(ctx, params, pf, rf, w)
	case *sql.Insert, *sql.Update, *sql.Delete:
		return st.runDML(ctx, params, pf)
	case *sql.Copy:
		return st.runCopy(ctx, x, w)
	case *sql.CreateTable:
		return e.createTable(ctx, st, x, w)
	case *sql.CreateView:
		return e.createView(ctx, st, x, w)
	case *sql.CreateMaterializedView:
		return e.createMaterializedView(ctx, st, x, w)
	case *sql.Drop:
		return e.drop(ctx, st, x, w)
	case *sql.Show:
		return st.show(ctx, x, rf, w)
	case *sql.Set:
		return st.set(x, w)
	case *sql.Transaction:
		return st.transaction(ctx, x, w)
	case *sql.Explain:
		return st.explain(x, rf, w)
	case *sql.Declare:
		return st.declare(ctx, x, params, pf)
	case *sql.Fetch:
		return st.runFetch(ctx, x, rf, w)
	case *sql.Close:
		return st.runClose(x)
	case *sql.Discard:
		return st.discard(x, w)
	case *sql.Prepare:
		return st.prepare(x)
	case *sql.Execute:
		return st.runExecute(ctx, x, rf, w)
	case *sql.Deallocate:
		return st.deallocate(x)
	case *sql.CreateIndex:
		return "", pgerr.As(st.unsupported(x.Pos, "CREATE INDEX")).
			WithHint("Tables are stored by primary key and views by their GROUP BY columns; an equality on those is already a lookup.")
	case *sql.CreateSource:
		return e.createSource(ctx, st, x, w)
	case *sql.CreateSink:
		return "", st.unsupported(x.Pos, "CREATE SINK")
	case *sql.Subscribe:
		return "", st.unsupported(x.Pos, "SUBSCRIBE")
	}
	return "", st.unsupported(st.ast.Position(), strings.ToUpper(strings.Fields(st.ast.Info().Text + " statement")[0]))
}

func (st *statement) unsupported(pos int, what string) error {
	e := pgerr.New(pgerr.FeatureNotSupported, "%s is not supported yet", what)
	if pos >= 0 {
		e.Position = sql.CharPos(st.src, pos)
	}
	return e
}

// encoder turns result rows into wire values.
type encoder struct {
	types   []types.Type
	formats []int16
	loc     *time.Location
	buf     []byte
	ends    []int
	vals    [][]byte
}

func newEncoder(ts []types.Type, formats []int16, loc *time.Location) *encoder {
	return &encoder{types: ts, formats: slices.Clone(formats), loc: loc, ends: make([]int, len(ts)), vals: make([][]byte, len(ts))}
}

// fits reports whether the encoder encodes rows of ts in formats for loc,
// so that it can be reused.
func (en *encoder) fits(ts []types.Type, formats []int16, loc *time.Location) bool {
	return en.loc == loc && len(en.types) == len(ts) && (len(ts) == 0 || &en.types[0] == &ts[0]) &&
		slices.Equal(en.formats, formats)
}

// emptyValue is a zero-length, non-nil value.
var emptyValue = []byte{}

func (en *encoder) encode(row types.Row) ([][]byte, error) {
	en.buf = en.buf[:0]
	for i, v := range row {
		if v.IsNull() {
			en.ends[i] = -1
			continue
		}
		if i < len(en.formats) && en.formats[i] == 1 {
			var err error
			if en.buf, err = types.AppendBinary(en.buf, v, en.types[i]); err != nil {
				return nil, err
			}
		} else {
			en.buf = types.AppendText(en.buf, v, en.types[i], en.loc)
		}
		en.ends[i] = len(en.buf)
	}
	start := 0
	for i := range row {
		if en.ends[i] < 0 {
			en.vals[i] = nil
			continue
		}
		en.vals[i] = en.buf[start:en.ends[i]:en.ends[i]]
		if en.vals[i] == nil {
			// An empty value (a '' text) before anything was encoded:
			// pgwire sends a nil value as NULL.
			en.vals[i] = emptyValue
		}
		start = en.ends[i]
	}
	return en.vals, nil
}

// waitForReads gives read-your-writes: it waits until every relation the
// query reads reflects this session's writes.
func (s *Session) waitForReads(ctx context.Context, reads []uint64) error {
	for _, id := range reads {
		o, ok := s.e.cat.Get(id)
		if !ok {
			continue
		}
		srcs := []uint64{id}
		if o.Kind == catalog.KindMaterializedView {
			srcs = o.Sources
		}
		for _, tsrc := range srcs {
			// Partition by partition without a slice of their ids: this
			// runs for every query.
			for p := range s.e.partitionCount(tsrc) {
				src := exec.PartitionSource(tsrc, p)
				off, wrote := s.writes[src]
				if r := s.e.recovered[src]; r > off {
					// What the log held at startup counts as written by
					// every session.
					off, wrote = r, true
				}
				if !wrote {
					continue
				}
				if err := s.e.rt.WaitFor(ctx, id, src, off); err != nil {
					return s.e.waitError(o, err)
				}
			}
		}
		if o.Kind == catalog.KindMaterializedView {
			// A view shows its query's result at some committed epoch:
			// before its first one (a view restored without state, or
			// one still being created) it would show no rows, even where
			// its query has some (a global aggregate's one row), and no
			// write above had to be waited for.
			if err := s.e.rt.WaitStarted(ctx, id); err != nil {
				return s.e.waitError(o, err)
			}
			// After the wait: this session's own write may have fixed (or
			// broken) the view.
			if err := s.e.viewError(o); err != nil {
				return err
			}
		}
	}
	return nil
}

// waitError is the error of a read whose wait for relation o failed: the
// view's error state when it is in one, else the wait's own error (a
// cancel or a timeout: the read must not go on without its writes).
func (e *Engine) waitError(o *catalog.Object, err error) error {
	if o.Kind == catalog.KindMaterializedView {
		if verr := e.viewError(o); verr != nil {
			return verr
		}
	}
	return err
}

// viewError reports a materialized view in an error state.
func (e *Engine) viewError(o *catalog.Object) error {
	e.mu.Lock()
	broken := e.mu.broken[o.ID]
	e.mu.Unlock()
	err := broken
	if err == nil {
		err = e.rt.Err(o.ID)
	}
	if err == nil {
		return nil
	}
	cause := pgerr.As(err)
	return &pgerr.Error{Code: cause.Code, Message: "materialized view \"" + o.Name + "\" is in an error state: " + cause.Message,
		Hint: "The view recovers by itself once the rows that fail are deleted or fixed."}
}

// bindWithParams binds the statement and decodes its parameters.
func (st *statement) bindWithParams(raw [][]byte, pf []int16) (*binding, []types.Value, error) {
	b, err := st.bind()
	if err != nil {
		return nil, nil, err
	}
	params, err := st.decodeParams(b, raw, pf, nil)
	return b, params, err
}

func (st *statement) runQuery(ctx context.Context, raw [][]byte, pf, rf []int16, w pgwire.ResultWriter) (string, error) {
	b, err := st.bind()
	if err != nil {
		return "", err
	}
	params, err := st.decodeParams(b, raw, pf, st.params)
	if err != nil {
		return "", err
	}
	st.params = params
	s := st.s
	if err := s.waitForReads(ctx, b.query.Reads); err != nil {
		return "", err
	}
	if err := w.Columns(b.cols); err != nil {
		return "", err
	}
	r, release, err := s.queryReader(ctx, b.query.Reads, b.singleScan)
	if err != nil {
		return "", err
	}
	defer release()
	en := st.enc
	if en == nil || !en.fits(b.colTypes, rf, s.loc) {
		en = newEncoder(b.colTypes, rf, s.loc)
		st.enc = en
	}
	st.eval = expr.EvalContext{Params: params, Now: types.TimestampFromTime(time.Now()), Loc: s.loc, User: s.userName,
		SessionUser: s.sessionUserName, QueryMemory: s.queryMemory}
	if st.out.rowFn == nil {
		st.out.rowFn = st.sendRow
	}
	st.out.w, st.out.n = w, 0
	err = b.prepared.Run(ctx, r, &st.eval, st.out.rowFn)
	n := st.out.n
	st.out.w = nil
	st.eval = expr.EvalContext{}
	clear(params)
	if err != nil {
		return "", err
	}
	return selectTag(n), nil
}

// selectTag is "SELECT n", without allocating for small n.
func selectTag(n int) string {
	if n < len(smallSelectTags) {
		return smallSelectTags[n]
	}
	return "SELECT " + strconv.Itoa(n)
}

var smallSelectTags = func() (tags [64]string) {
	for i := range tags {
		tags[i] = "SELECT " + strconv.Itoa(i)
	}
	return tags
}()

func (st *statement) show(ctx context.Context, x *sql.Show, rf []int16, w pgwire.ResultWriter) (string, error) {
	b, err := st.bind()
	if err != nil {
		return "", err
	}
	var rows [][]string
	s := st.s
	switch {
	case x.CreateName != nil:
		kind := strings.ToLower(x.CreateKind.String())
		if x.CreateKind == sql.ObjIndex {
			def, ok := planner.IndexDef(s.e.cat, x.CreateName.Name)
			if !ok {
				return "", pgerr.New(pgerr.UndefinedObject, "index %q does not exist", x.CreateName.Name)
			}
			rows = append(rows, []string{x.CreateName.Name, def})
			break
		}
		o, ok := s.e.cat.Lookup(x.CreateName.Name)
		if !ok {
			return "", pgerr.New(pgerr.UndefinedObject, "%s %q does not exist", kind, x.CreateName.Name)
		}
		if objectKind(o.Kind) != x.CreateKind {
			return "", pgerr.New(pgerr.WrongObjectType, "%q is not a %s", o.Name, kind)
		}
		rows = append(rows, []string{o.Name, o.CreateSQL})
	case x.Name == "tables" || x.Name == "views" || x.Name == "materialized views" || x.Name == "sources":
		want := map[string]catalog.Kind{"tables": catalog.KindTable, "views": catalog.KindView,
			"materialized views": catalog.KindMaterializedView, "sources": catalog.KindSource}[x.Name]
		for _, o := range s.e.cat.All() {
			if o.Kind == want {
				rows = append(rows, []string{o.Name})
			}
		}
		sortRows(rows)
	case x.Name == "all":
		rows = s.showAll()
	default:
		rows = [][]string{{s.settings[x.Name]}}
	}
	if err := w.Columns(b.cols); err != nil {
		return "", err
	}
	en := newEncoder(b.colTypes, rf, s.loc)
	for _, r := range rows {
		row := make(types.Row, len(r))
		for i, v := range r {
			row[i] = types.NewText(v)
		}
		vals, err := en.encode(row)
		if err != nil {
			return "", err
		}
		if err := w.Row(vals); err != nil {
			return "", err
		}
	}
	return "SHOW", nil
}

func objectKind(k catalog.Kind) sql.ObjectKind {
	switch k {
	case catalog.KindView:
		return sql.ObjView
	case catalog.KindMaterializedView:
		return sql.ObjMaterializedView
	case catalog.KindSource:
		return sql.ObjSource
	}
	return sql.ObjTable
}

func sortRows(rows [][]string) {
	for i := 1; i < len(rows); i++ {
		for j := i; j > 0 && rows[j][0] < rows[j-1][0]; j-- {
			rows[j], rows[j-1] = rows[j-1], rows[j]
		}
	}
}

func (st *statement) set(x *sql.Set, w pgwire.ResultWriter) (string, error) {
	s := st.s
	switch x.Kind {
	case sql.SetTransaction:
		return "SET", nil
	case sql.SetResetAll:
		s.resetSettings(w)
		return "RESET", nil
	}
	name := x.Name
	def, known := s.lookupSetting(name)
	if !known {
		if strings.Contains(name, ".") {
			// Placeholder variables (my.setting) are allowed, as in
			// PostgreSQL, and belong to this session.
			def = setting{name: name}
			if s.placeholders == nil {
				s.placeholders = map[string]setting{}
			}
			s.placeholders[name] = def
		} else {
			return "", unknownSetting(name)
		}
	}
	if def.fixed {
		return "", pgerr.New("55P02", "parameter %q cannot be changed", def.name)
	}
	value := s.defaultSetting(name)
	if x.Kind == sql.SetValue {
		value = strings.Join(x.Values, ", ")
	}
	if err := s.set(name, value); err != nil {
		return "", err
	}
	if def.report {
		w.SetParameter(def.name, s.settings[name])
	}
	if x.Kind == sql.SetReset {
		return "RESET", nil
	}
	return "SET", nil
}

func (st *statement) transaction(ctx context.Context, x *sql.Transaction, w pgwire.ResultWriter) (string, error) {
	s := st.s
	noBlock := func(what string) error {
		return pgerr.New(pgerr.NoActiveSQLTransaction, "%s can only be used in transaction blocks", what)
	}
	switch x.Kind {
	case sql.TxnBegin:
		if s.tx != 'I' {
			w.Notice("WARNING", pgerr.ActiveSQLTransaction, "there is already a transaction in progress")
			return "BEGIN", nil
		}
		// Writes of the implicit transaction so far join the block, as in
		// PostgreSQL.
		s.tx, s.txDDL = 'T', false
		return "BEGIN", nil
	case sql.TxnCommit:
		if s.tx == 'I' {
			w.Notice("WARNING", pgerr.NoActiveSQLTransaction, "there is no transaction in progress")
			return "COMMIT", nil
		}
		failed := s.tx == 'E'
		s.tx = 'I'
		s.endTxCursors(!failed)
		if failed {
			s.endTxn()
			return "ROLLBACK", nil
		}
		if err := s.commitTxn(ctx); err != nil {
			return "", err
		}
		if x.Chain {
			s.tx = 'T'
		}
		return "COMMIT", nil
	case sql.TxnRollback:
		if s.tx == 'I' {
			w.Notice("WARNING", pgerr.NoActiveSQLTransaction, "there is no transaction in progress")
			return "ROLLBACK", nil
		}
		if s.txDDL {
			w.Notice("WARNING", pgerr.FeatureNotSupported, "the DDL statements of this transaction block took effect when they ran; ROLLBACK does not undo them")
		}
		s.endTxn()
		s.tx = 'I'
		s.endTxCursors(false)
		if x.Chain {
			s.tx = 'T'
		}
		return "ROLLBACK", nil
	case sql.TxnSavepoint:
		if s.tx == 'I' {
			return "", noBlock("SAVEPOINT")
		}
		s.setSavepoint(x.Savepoint)
		return "SAVEPOINT", nil
	case sql.TxnRelease:
		if s.tx == 'I' {
			return "", noBlock("RELEASE SAVEPOINT")
		}
		i := s.findSavepoint(x.Savepoint)
		if i < 0 {
			return "", pgerr.New("3B001", "savepoint \"%s\" does not exist", x.Savepoint)
		}
		s.txn.savepoints = s.txn.savepoints[:i]
		return "RELEASE", nil
	case sql.TxnRollbackTo:
		if s.tx == 'I' {
			return "", noBlock("ROLLBACK TO SAVEPOINT")
		}
		i := s.findSavepoint(x.Savepoint)
		if i < 0 {
			return "", pgerr.New("3B001", "savepoint \"%s\" does not exist", x.Savepoint)
		}
		s.rollbackTo(i)
		s.tx = 'T'
		return "ROLLBACK", nil
	}
	return "", st.unsupported(x.Pos, "this transaction statement")
}

func (st *statement) explain(x *sql.Explain, rf []int16, w pgwire.ResultWriter) (string, error) {
	b, err := st.bind()
	if err != nil {
		return "", err
	}
	p := st.s.e.planner
	for _, o := range x.Options {
		on := !o.HasValue || (o.Value != "false" && o.Value != "off" && o.Value != "0")
		switch {
		case o.Key == "analyze" && on:
			return "", st.unsupported(o.Pos, "EXPLAIN ANALYZE")
		case o.Key == "format" && o.Value != "text":
			return "", st.unsupported(o.Pos, "EXPLAIN (FORMAT "+strings.ToUpper(o.Value)+")")
		}
	}
	var lines []string
	switch q := x.Statement.(type) {
	case *sql.Select:
		plan, err := p.PlanQueryIn(st.src, q, b.params, st.s.plannerSession(st.src))
		if err != nil {
			return "", err
		}
		lines = planner.Explain(plan.Plan)
	case *sql.CreateMaterializedView:
		mv, err := p.PlanMaterializedView(st.src, q.Query, q.Columns)
		if err != nil {
			return "", err
		}
		key := "unique key"
		if !mv.Unique {
			key = "multiset key"
		}
		if mv.AppendOnly {
			key = "append-only, row id key"
		}
		lines = append(lines, "Materialize "+q.Name.Name+" ("+key+" columns "+intsString(mv.KeyCols)+")")
		for _, l := range planner.Explain(mv.Plan) {
			lines = append(lines, "  "+l)
		}
	default:
		return "", st.unsupported(x.Pos, "EXPLAIN of this statement")
	}
	if err := w.Columns(b.cols); err != nil {
		return "", err
	}
	en := newEncoder(b.colTypes, rf, st.s.loc)
	for _, l := range lines {
		vals, err := en.encode(types.Row{types.NewText(l)})
		if err != nil {
			return "", err
		}
		if err := w.Row(vals); err != nil {
			return "", err
		}
	}
	return "EXPLAIN", nil
}

func intsString(xs []int) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = strconv.Itoa(x)
	}
	return "(" + strings.Join(parts, ", ") + ")"
}
