package planner

import (
	"sort"

	"github.com/kappa-db/kappa/catalog"
	"github.com/kappa-db/kappa/exec"
	"github.com/kappa-db/kappa/pgerr"
	"github.com/kappa-db/kappa/sql"
	"github.com/kappa-db/kappa/types"
)

// Planner plans statements against a catalog.
type Planner struct {
	Catalog *catalog.Catalog
	// Feed returns the input of a source (the engine builds it from the
	// source's connector and options).
	Feed func(o *catalog.Object) (exec.Feed, error)
	// Backfills lists the materialized views being backfilled now, for
	// kappa_catalog.kappa_backfill_progress (none when nil).
	Backfills func() []BackfillInfo
	// Watermarks lists the watermarked inputs of the running dataflows,
	// for kappa_catalog.kappa_late_rows (none when nil).
	Watermarks func() []WatermarkInfo
	// Logs lists the tables' logs, for kappa_catalog.kappa_logs (none when
	// nil).
	Logs func() []LogInfo
}

// Column is one result column.
type Column struct {
	Name string
	Type types.Type
	// TableOID and Attnum name the relation column this result column
	// plainly references, as PostgreSQL's RowDescription does (zero when
	// it is computed).
	TableOID uint32
	Attnum   int16
}

// Query is a planned query.
type Query struct {
	Plan    exec.Node
	Columns []Column
	// Params are the inferred types of $1..$n (text where nothing said).
	Params []types.Type
	// Reads are the tables and materialized views the query reads.
	Reads []uint64
	// DependsOn are the catalog objects the query names directly.
	DependsOn []uint64
	// Restricted says the query reads a relation only superusers may read
	// (pg_authid), directly or through views; the engine refuses it to
	// others at every execution, since the rows are in the plan.
	Restricted bool
	// Volatile says the plan holds rows made when it was planned (system
	// relations: pg_settings, kappa_backfill_progress...): plan it again for
	// every execution rather than keep it.
	Volatile bool
}

func (p *Planner) newBinder(src string, params []types.Type) *binder {
	b := &binder{p: p, src: src, reads: map[uint64]bool{}, deps: map[uint64]bool{}, restricted: new(bool), volatile: new(bool)}
	b.params = append(b.params, params...)
	for i, t := range b.params {
		if t.OID == 0 {
			b.params[i] = types.Unknown
		}
	}
	return b
}

func (b *binder) finish(rel *relation) *Query {
	fuseSessions(rel.node)
	q := &Query{Plan: rel.node}
	for _, c := range rel.scope.cols[:len(rel.node.Columns())] {
		q.Columns = append(q.Columns, Column{Name: c.name, Type: c.typ, TableOID: c.origin.rel, Attnum: c.origin.attnum})
	}
	for i, c := range q.Columns {
		q.Columns[i].Type = rel.node.Columns()[i]
		_ = c
	}
	for _, t := range b.params {
		if t.Kind == types.KindNull {
			t = types.Text
		}
		q.Params = append(q.Params, t)
	}
	q.Reads = sortedIDs(b.reads)
	q.DependsOn = sortedIDs(b.deps)
	q.Restricted = b.restricted != nil && *b.restricted
	q.Volatile = b.volatile != nil && *b.volatile
	return q
}

func sortedIDs(m map[uint64]bool) []uint64 {
	out := make([]uint64, 0, len(m))
	for id := range m {
		out = append(out, id)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// PlanQuery plans an ad hoc query. src is the text positions refer to;
// params are the parameter types the client declared (OID 0: infer).
func (p *Planner) PlanQuery(src string, sel *sql.Select, params []types.Type) (*Query, error) {
	return p.PlanQueryIn(src, sel, params, nil)
}

// PlanQueryIn is PlanQuery for a session: the system catalogs and
// functions show its user, database and settings.
func (p *Planner) PlanQueryIn(src string, sel *sql.Select, params []types.Type, sess *Session) (*Query, error) {
	b := p.newBinder(src, params)
	if sel.EmitOnWindowClose {
		return nil, b.errAt(sel.EmitPos, pgerr.FeatureNotSupported, "EMIT ON WINDOW CLOSE applies to materialized views only")
	}
	b.sess = sess
	rel, err := b.planSelect(sel, false)
	if err != nil {
		return nil, err
	}
	b.outputRegNames(rel)
	rel.node = pushDown(rel.node)
	q := b.finish(rel)
	q.Plan = usePointLookups(q.Plan, p.Catalog)
	return q, nil
}

// PlanView checks a view's query and returns its columns (named by names
// where given).
func (p *Planner) PlanView(src string, sel *sql.Select, names []string) (*Query, error) {
	b := p.newBinder(src, nil)
	if sel.EmitOnWindowClose {
		return nil, b.errAt(sel.EmitPos, pgerr.FeatureNotSupported, "EMIT ON WINDOW CLOSE applies to materialized views only")
	}
	rel, err := b.planSelect(sel, false)
	if err != nil {
		return nil, err
	}
	if len(b.params) > 0 {
		return nil, pgerr.New(pgerr.UndefinedParameter, "there is no parameter $1")
	}
	q := b.finish(rel)
	return q, renameColumns(q, names, sel.Pos, b)
}

func renameColumns(q *Query, names []string, pos int, b *binder) error {
	if len(names) > len(q.Columns) {
		return b.errAt(pos, pgerr.SyntaxError, "CREATE VIEW specifies more column names than columns")
	}
	for i, n := range names {
		q.Columns[i].Name = n
	}
	seen := map[string]bool{}
	for _, c := range q.Columns {
		if seen[c.Name] {
			return b.errAt(pos, pgerr.DuplicateColumn, "column %q specified more than once", c.Name)
		}
		seen[c.Name] = true
	}
	return nil
}

// MaterializedView is a planned materialized view.
type MaterializedView struct {
	Query
	// Sources are the tables whose logs (and sources whose feeds) the
	// view's dataflow reads.
	Sources []uint64
	// KeyCols and Unique say how the view's rows are keyed in storage.
	KeyCols []int
	Unique  bool
	// AppendOnly says the view's input only ever inserts: its rows are
	// keyed by a row id instead (exec.ViewSink).
	AppendOnly bool
	// JoinState is the join state layout the plan is for.
	JoinState int
}

// JoinStateVersion is the layout of join state the planner plans new
// materialized views for (catalog.Object.JoinState): 1 narrows each join's
// inputs to the columns read above it (narrowJoinInputs) and keeps an
// interval join's forgetting sides by time bucket (exec.Join.TimeBuckets);
// 2 also makes an inner join's side that is unique on its join keys a
// lookup table (exec.Join.Lookup, setJoinLookups); 3 also moves the
// filters of a lookup side into the join (exec.Join.LookupFilter); 0 did
// none of these.
const JoinStateVersion = 3

// PlanMaterializedView plans the dataflow of a new materialized view.
func (p *Planner) PlanMaterializedView(src string, sel *sql.Select, names []string) (*MaterializedView, error) {
	return p.PlanMaterializedViewAt(src, sel, names, JoinStateVersion)
}

// PlanMaterializedViewAt plans a materialized view for a join state layout
// (an existing view's, at a restart).
func (p *Planner) PlanMaterializedViewAt(src string, sel *sql.Select, names []string, joinState int) (*MaterializedView, error) {
	b := p.newBinder(src, nil)
	b.forView = true
	rel, err := b.planSelect(sel, true)
	if err != nil {
		return nil, err
	}
	if len(b.params) > 0 {
		return nil, pgerr.New(pgerr.UndefinedParameter, "there is no parameter $1")
	}
	if rel.node, err = removeSubPlans(rel.node); err != nil {
		return nil, err
	}
	rel.node = pushDown(rel.node)
	if rel.node, err = b.temporalFilters(rel.node); err != nil {
		return nil, err
	}
	markAppendOnlyInputs(rel.node)
	mv := &MaterializedView{Query: *b.finish(rel)}
	if err := renameColumns(&mv.Query, names, sel.Pos, b); err != nil {
		return nil, err
	}
	scans, err := leafScans(rel.node)
	if err != nil {
		return nil, err
	}
	seen := map[uint64]bool{}
	for _, scan := range scans {
		if scan.Kind == exec.ScanView {
			return nil, pgerr.New(pgerr.FeatureNotSupported, "a materialized view over materialized view %q is not supported yet", scan.Name)
		}
		if !seen[scan.Rel] {
			seen[scan.Rel] = true
			mv.Sources = append(mv.Sources, scan.Rel)
		}
	}
	mv.KeyCols, mv.Unique = viewKey(rel.node)
	if sel.EmitOnWindowClose {
		if err := b.planEmitOnWindowClose(rel.node, sel.EmitPos); err != nil {
			return nil, err
		}
		// Each window's row is emitted once and never retracted.
		mv.KeyCols, mv.Unique, mv.AppendOnly = nil, false, true
	}
	if exec.AppendOnly(rel.node) {
		mv.KeyCols, mv.Unique, mv.AppendOnly = nil, false, true
	}
	mv.JoinState = joinState
	if joinState >= 1 {
		mv.Plan = narrowJoinInputs(mv.Plan)
		setTimeBuckets(mv.Plan)
	}
	if joinState >= 2 {
		setJoinLookups(mv.Plan, joinState >= 3)
	}
	return mv, nil
}

// leafScans finds the Scans a dataflow reads.
func leafScans(n exec.Node) ([]*exec.Scan, error) {
	switch x := n.(type) {
	case *exec.Scan:
		return []*exec.Scan{x}, nil
	case *exec.Values:
		return nil, pgerr.New(pgerr.FeatureNotSupported, "a materialized view must read a table")
	}
	var scans []*exec.Scan
	for _, in := range exec.Inputs(n) {
		s, err := leafScans(*in)
		if err != nil {
			return nil, err
		}
		scans = append(scans, s...)
	}
	return scans, nil
}

// viewKey picks the storage key of a view: the grouping columns when the
// view is an aggregation that outputs all of them (unique); a row_number
// Top-N's partition columns and rank when it outputs them (unique: the
// sink then writes a rank's new row over its old one); else all columns
// (a multiset).
func viewKey(n exec.Node) ([]int, bool) {
	ncols := len(n.Columns())
	all := make([]int, ncols)
	for i := range all {
		all[i] = i
	}
	if key, ok := exec.DistinctRowsKey(n); ok && len(key) > 0 {
		return key, true
	}
	if a, ok := n.(*exec.Aggregate); ok {
		// DISTINCT, or an aggregation projected as is.
		keys := append([]int(nil), a.GroupBy...)
		if a.GroupingSets != nil {
			keys = append(keys, len(a.GroupBy)) // the set's index
		}
		return keys, true
	}
	p, ok := n.(*exec.Project)
	if !ok {
		return all, false
	}
	below := p.Input
	for {
		f, ok := below.(*exec.Filter)
		if !ok {
			break
		}
		below = f.Input
	}
	a, ok := below.(*exec.Aggregate)
	if !ok {
		return all, false
	}
	groupCols := a.GroupBy
	if a.GroupingSets != nil {
		// Unique per (group columns, set index): the set's index must be
		// projected too.
		groupCols = append(append([]int(nil), a.GroupBy...), len(a.GroupBy))
	}
	keys, ok := exec.ProjectedCols(p, groupCols)
	if !ok {
		return all, false
	}
	return keys, true
}
