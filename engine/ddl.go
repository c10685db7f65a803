package engine

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/kappa-db/kappa/catalog"
	"github.com/kappa-db/kappa/exec"
	"github.com/kappa-db/kappa/log"
	"github.com/kappa-db/kappa/pgerr"
	"github.com/kappa-db/kappa/pgwire"
	"github.com/kappa-db/kappa/planner"
	"github.com/kappa-db/kappa/sql"
	"github.com/kappa-db/kappa/storage"
)

func (st *statement) errAt(pos int, code, format string, args ...any) *pgerr.Error {
	e := pgerr.New(code, format, args...)
	if pos >= 0 {
		e.Position = sql.CharPos(st.src, pos)
	}
	return e
}

// checkName validates a new relation's name.
func (st *statement) checkName(n sql.ObjectName, ifNotExists bool, w pgwire.ResultWriter) (exists bool, err error) {
	if n.Schema != "" && n.Schema != "public" {
		return false, st.errAt(n.Pos, pgerr.InvalidSchemaName, "schema %q does not exist", n.Schema)
	}
	if _, ok := st.s.e.cat.Lookup(n.Name); ok {
		if ifNotExists {
			w.Notice("NOTICE", pgerr.DuplicateTable, "relation \""+n.Name+"\" already exists, skipping")
			return true, nil
		}
		return false, st.errAt(n.Pos, pgerr.DuplicateTable, "relation %q already exists", n.Name)
	}
	return false, nil
}

func (e *Engine) createTable(ctx context.Context, st *statement, x *sql.CreateTable, w pgwire.ResultWriter) (string, error) {
	e.ddlMu.Lock()
	defer e.ddlMu.Unlock()
	const tag = "CREATE TABLE"
	if exists, err := st.checkName(x.Name, x.IfNotExists, w); err != nil || exists {
		return tag, err
	}
	switch {
	case x.Temporary:
		return "", st.unsupported(x.Pos, "CREATE TEMPORARY TABLE")
	case x.Query != nil:
		return "", st.unsupported(x.Pos, "CREATE TABLE ... AS")
	case x.Format != "":
		return "", st.unsupported(x.Pos, "FORMAT ... ENCODE on a table")
	}
	if len(x.Columns) == 0 {
		return "", st.errAt(x.Pos, pgerr.FeatureNotSupported, "a table needs at least one column")
	}
	o := &catalog.Object{Kind: catalog.KindTable, Name: x.Name.Name, CreateSQL: x.Info().Text, Created: time.Now().UTC(), Owner: st.s.currentRole}
	var pk []string
	pkPos := x.Pos
	for _, c := range x.Columns {
		if o.ColumnIndex(c.Name) >= 0 {
			return "", st.errAt(c.Pos, pgerr.DuplicateColumn, "column %q specified more than once", c.Name)
		}
		t, err := e.planner.BindType(st.src, c.Type)
		if err != nil {
			return "", err
		}
		if c.Generated != nil || len(c.Checks) > 0 {
			return "", st.unsupported(c.Pos, "generated columns and CHECK constraints are")
		}
		if c.Unique && !c.PrimaryKey {
			return "", st.unsupported(c.Pos, "UNIQUE constraints other than the primary key are")
		}
		col := catalog.Column{Name: c.Name, Type: t, NotNull: c.NotNull || c.PrimaryKey}
		if c.Default != nil {
			if err := e.planner.BindDefault(st.src, c.Default, t); err != nil {
				return "", err
			}
			col.HasDefault = true
		}
		if c.PrimaryKey {
			if pk != nil {
				return "", st.errAt(c.Pos, pgerr.InvalidTableDefinition, "multiple primary keys for table %q are not allowed", x.Name.Name)
			}
			pk, pkPos = []string{c.Name}, c.Pos
		}
		o.Columns = append(o.Columns, col)
	}
	for _, tc := range x.Constraints {
		switch tc.Kind {
		case sql.ConstraintPrimaryKey:
			if pk != nil {
				return "", st.errAt(tc.Pos, pgerr.InvalidTableDefinition, "multiple primary keys for table %q are not allowed", x.Name.Name)
			}
			pk, pkPos = tc.Columns, tc.Pos
		default:
			return "", st.unsupported(tc.Pos, "UNIQUE and CHECK table constraints are")
		}
	}
	for _, name := range pk {
		i := o.ColumnIndex(name)
		if i < 0 {
			return "", st.errAt(pkPos, pgerr.UndefinedColumn, "column %q named in key does not exist", name)
		}
		o.PrimaryKey = append(o.PrimaryKey, i)
		o.Columns[i].NotNull = true
	}
	if x.Watermark != nil {
		if len(o.PrimaryKey) > 0 {
			return "", st.errAt(x.Watermark.Pos, pgerr.FeatureNotSupported, "a table with a WATERMARK must be append-only: it cannot have a primary key")
		}
		wm, err := e.planner.BindWatermark(st.src, x.Watermark, o.Columns)
		if err != nil {
			return "", err
		}
		o.Watermark = wm
	}
	opts, err := st.tableOptions(x.Options, len(pk) > 0)
	if err != nil {
		return "", err
	}
	o.Options = opts
	if partitionsOf(o) > 1 && o.Watermark != nil {
		pos := x.Watermark.Pos
		for _, opt := range x.Options {
			if opt.Key == optPartitions {
				pos = opt.Pos
			}
		}
		return "", st.errAt(pos, pgerr.FeatureNotSupported, "a table with a WATERMARK cannot have more than one partition: its watermark follows the order of one log")
	}
	id, err := e.cat.ReserveID()
	if err != nil {
		return "", err
	}
	o.ID = id
	// The log first: a crash before the catalog record leaves an orphaned
	// log directory, which the next start removes.
	for p := range partitionsOf(o) {
		if _, err := e.tableLog(exec.PartitionSource(id, p)); err != nil {
			e.dropTableLog(id)
			return "", err
		}
	}
	if err := e.cat.Create(o, nil); err != nil {
		e.dropTableLog(id)
		return "", err
	}
	if err := e.rt.Add(tableDataflow(o)); err != nil {
		return "", err
	}
	return tag, nil
}

// dropTableLog closes and removes every partition of table id's log.
func (e *Engine) dropTableLog(id uint64) {
	e.mu.Lock()
	var logs []*log.Log
	for src, l := range e.mu.logs {
		if exec.SourceTable(src) == id {
			logs = append(logs, l)
			delete(e.mu.logs, src)
		}
	}
	e.mu.Unlock()
	for _, l := range logs {
		if err := l.Close(); err != nil {
			e.cfg.Logger.Warn("closing dropped table's log", "id", id, "err", err)
		}
	}
	names, err := e.fs.List(filepath.Join(e.cfg.DataDir, "log"))
	if err != nil {
		e.cfg.Logger.Warn("removing dropped table's log", "id", id, "err", err)
		return
	}
	prefix := strconv.FormatUint(id, 10)
	for _, n := range names {
		if n == prefix || strings.HasPrefix(n, prefix+".") {
			if err := e.fs.RemoveAll(filepath.Join(e.cfg.DataDir, "log", n)); err != nil {
				e.cfg.Logger.Warn("removing dropped table's log", "id", id, "err", err)
			}
		}
	}
}

func (e *Engine) createView(ctx context.Context, st *statement, x *sql.CreateView, w pgwire.ResultWriter) (string, error) {
	e.ddlMu.Lock()
	defer e.ddlMu.Unlock()
	const tag = "CREATE VIEW"
	if x.Temporary {
		return "", st.unsupported(x.Pos, "CREATE TEMPORARY VIEW")
	}
	if x.Name.Schema != "" && x.Name.Schema != "public" {
		return "", st.errAt(x.Name.Pos, pgerr.InvalidSchemaName, "schema %q does not exist", x.Name.Schema)
	}
	q, err := e.planner.PlanView(st.src, x.Query, x.Columns)
	if err != nil {
		return "", err
	}
	var old *catalog.Object
	if prev, ok := e.cat.Lookup(x.Name.Name); ok {
		if !x.OrReplace {
			return "", st.errAt(x.Name.Pos, pgerr.DuplicateTable, "relation %q already exists", x.Name.Name)
		}
		if prev.Kind != catalog.KindView {
			return "", st.errAt(x.Name.Pos, pgerr.WrongObjectType, "%q is not a view", x.Name.Name)
		}
		// PostgreSQL's rule: a replacement keeps the old columns, in order,
		// and may add new ones at the end.
		if len(q.Columns) < len(prev.Columns) {
			return "", pgerr.New(pgerr.InvalidTableDefinition, "cannot drop columns from view")
		}
		for i, c := range prev.Columns {
			if q.Columns[i].Name != c.Name {
				return "", pgerr.New(pgerr.InvalidTableDefinition, "cannot change name of view column %q to %q", c.Name, q.Columns[i].Name)
			}
			if q.Columns[i].Type != c.Type {
				return "", pgerr.New(pgerr.InvalidTableDefinition, "cannot change data type of view column %q from %s to %s", c.Name, c.Type, q.Columns[i].Type)
			}
		}
		old = prev
	}
	for _, d := range q.DependsOn {
		if old != nil && d == old.ID {
			return "", pgerr.New(pgerr.InvalidObjectDefinition, "view %q cannot refer to itself", x.Name.Name)
		}
	}
	id, err := e.cat.ReserveID()
	if err != nil {
		return "", err
	}
	o := &catalog.Object{ID: id, Kind: catalog.KindView, Name: x.Name.Name, CreateSQL: x.Info().Text,
		Query: x.QueryText, DependsOn: q.DependsOn, Created: time.Now().UTC(), Owner: st.s.currentRole}
	if old != nil {
		// A replaced view keeps its owner and privileges.
		o.Owner, o.ACL = old.Owner, old.ACL
	}
	for _, c := range q.Columns {
		o.Columns = append(o.Columns, catalog.Column{Name: c.Name, Type: c.Type})
	}
	if old != nil {
		// Objects that depend on the old view now depend on the new one.
		if err := e.cat.Replace(old, o, nil); err != nil {
			return "", err
		}
		return tag, nil
	}
	return tag, e.cat.Create(o, nil)
}

func (e *Engine) createMaterializedView(ctx context.Context, st *statement, x *sql.CreateMaterializedView, w pgwire.ResultWriter) (string, error) {
	e.ddlMu.Lock()
	const tag = "CREATE MATERIALIZED VIEW"
	if len(x.Options) > 0 {
		e.ddlMu.Unlock()
		return "", st.errAt(x.Options[0].Pos, pgerr.InvalidParameterValue, "unrecognized materialized view option %q", x.Options[0].Key)
	}
	// With OR REPLACE and an existing view, the new definition is computed
	// beside the old one, which keeps serving until the new one has caught
	// up; then one catalog commit swaps them.
	var old *catalog.Object
	if x.OrReplace {
		if prev, ok := e.cat.Lookup(x.Name.Name); ok {
			if prev.Kind != catalog.KindMaterializedView {
				e.ddlMu.Unlock()
				return "", st.errAt(x.Name.Pos, pgerr.WrongObjectType, "%q is not a materialized view", x.Name.Name)
			}
			old = prev
		}
	}
	if old == nil {
		if exists, err := st.checkName(x.Name, x.IfNotExists, w); err != nil || exists {
			e.ddlMu.Unlock()
			return tag, err
		}
	}
	mv, err := e.planner.PlanMaterializedView(st.src, x.Query, x.Columns)
	if err == nil {
		// The view's query runs with its creator's privileges.
		err = st.s.checkSelect(mv.DependsOn)
	}
	if err != nil {
		e.ddlMu.Unlock()
		return "", err
	}
	if old != nil {
		if err := checkReplaceColumns(e.cat, old, mv.Columns); err != nil {
			e.ddlMu.Unlock()
			return "", err
		}
	}
	id, err := e.cat.ReserveID()
	if err != nil {
		e.ddlMu.Unlock()
		return "", err
	}
	o := &catalog.Object{ID: id, Kind: catalog.KindMaterializedView, Name: x.Name.Name, CreateSQL: x.Info().Text,
		Query: x.QueryText, DependsOn: mv.DependsOn, Sources: mv.Sources, KeyCols: mv.KeyCols, Unique: mv.Unique, AppendOnly: mv.AppendOnly,
		JoinState:         mv.JoinState,
		EmitOnWindowClose: x.Query.EmitOnWindowClose, Created: time.Now().UTC(), Owner: st.s.currentRole,
		PlanHash: planFingerprint(mv.Plan)}
	for _, c := range mv.Columns {
		o.Columns = append(o.Columns, catalog.Column{Name: c.Name, Type: c.Type})
	}
	// The dataflow is registered before the view enters the catalog, so
	// that a reader that finds the view also finds a dataflow to wait for
	// (Session.waitForReads: nothing is read before its first epoch).
	spec := exec.DataflowSpec{ID: id, Name: o.Name, Plan: mv.Plan,
		View: &exec.ViewSink{Rel: id, KeyCols: mv.KeyCols, Unique: mv.Unique, AppendOnly: mv.AppendOnly}}
	if err := e.rt.Add(spec); err != nil {
		e.discardView(o, false)
		e.ddlMu.Unlock()
		return "", err
	}
	// A replacement enters the catalog only at the swap: a crash before it
	// leaves the old view, and restore removes the replacement's data (as
	// it does a new view's whose catalog commit did not happen).
	if old == nil {
		if err := e.cat.Create(o, nil); err != nil {
			e.discardView(o, false)
			e.ddlMu.Unlock()
			return "", err
		}
	}
	e.ddlMu.Unlock()
	// Backfill: the view replays its sources' logs from the start; the
	// statement returns once it has caught up with what was there.
	err = e.backfill(ctx, w, o, mv.Sources)
	if err == nil {
		// PostgreSQL refuses to create a view whose query fails on the
		// current data; so does kappa.
		err = e.rt.Err(id)
	}
	if err != nil {
		// A view whose backfill fails (or is canceled) is not created.
		e.ddlMu.Lock()
		e.discardView(o, old == nil)
		e.ddlMu.Unlock()
		return "", err
	}
	if old == nil {
		return tag, nil
	}
	e.ddlMu.Lock()
	defer e.ddlMu.Unlock()
	cur, ok := e.cat.Lookup(o.Name)
	switch {
	case !ok:
		// Dropped meanwhile: the replacement is simply created.
		err = e.cat.Create(o, nil)
	case cur.ID != old.ID:
		err = pgerr.New(pgerr.ObjectNotInPrerequisite, "materialized view %q was changed by another statement while it was being replaced", o.Name)
	default:
		if err = checkReplaceColumns(e.cat, cur, mv.Columns); err == nil {
			// The old dataflow stops before its rows go, so that no late
			// epoch writes them back; readers see the old rows until the
			// commit.
			e.rt.Remove(cur.ID)
			err = e.cat.Replace(cur, o, func(b *storage.Batch) error { return exec.DeleteRelationData(b, cur.ID) })
			if err != nil {
				// Put the old view back to work.
				if spec, serr := e.viewDataflow(cur); serr == nil {
					_ = e.rt.Add(spec)
				}
			}
		}
	}
	if err != nil {
		e.discardView(o, false)
		return "", err
	}
	return tag, nil
}

// discardView drops a materialized view whose creation failed: its catalog
// entry when it has one (inCatalog), its dataflow and its data.
func (e *Engine) discardView(o *catalog.Object, inCatalog bool) {
	if inCatalog {
		_ = e.dropObjects([]*catalog.Object{o}) // best effort: the statement already failed
		return
	}
	e.rt.Remove(o.ID)
	b := e.db.NewBatch()
	defer b.Close()
	if exec.DeleteRelationData(b, o.ID) == nil {
		_ = b.Commit(false)
	}
}

// checkReplaceColumns applies PostgreSQL's rule for CREATE OR REPLACE VIEW
// to a materialized view that other objects use: the new query keeps every
// old column's name and type, in order, and may add columns at the end.
func checkReplaceColumns(cat *catalog.Catalog, old *catalog.Object, cols []planner.Column) error {
	deps := cat.Dependents(old.ID)
	if len(deps) == 0 {
		return nil
	}
	for _, d := range deps {
		// A materialized view over it computes its old query itself.
		if d.Kind == catalog.KindMaterializedView {
			return pgerr.New(pgerr.DependentObjectsExist, "cannot replace materialized view %q because materialized view %q depends on it", old.Name, d.Name).
				WithHint("Drop or replace %q first.", d.Name)
		}
	}
	if len(cols) < len(old.Columns) {
		return pgerr.New(pgerr.InvalidTableDefinition, "cannot drop columns from materialized view %q: other objects depend on it", old.Name)
	}
	for i, c := range old.Columns {
		if cols[i].Name != c.Name {
			return pgerr.New(pgerr.InvalidTableDefinition, "cannot change name of materialized view column %q to %q: other objects depend on it", c.Name, cols[i].Name)
		}
		if cols[i].Type != c.Type {
			return pgerr.New(pgerr.InvalidTableDefinition, "cannot change data type of materialized view column %q from %s to %s: other objects depend on it", c.Name, c.Type, cols[i].Type)
		}
	}
	return nil
}

// backfill waits until view o has consumed what its inputs held when it
// started, sending a NOTICE with its progress every Config.ProgressInterval
// (records read of the total, and an estimate of the time left).
// kappa_catalog.kappa_backfill_progress shows the same (backfillInfo).
func (e *Engine) backfill(ctx context.Context, w pgwire.ResultWriter, o *catalog.Object, sources []uint64) error {
	var srcs []uint64
	for _, src := range sources {
		srcs = append(srcs, e.partitionSources(src)...)
	}
	sources = srcs
	b := &backfillState{view: o.Name, id: o.ID, started: time.Now(), sources: sources, ends: make([]uint64, len(sources))}
	for i, src := range sources {
		end, err := e.inputEnd(src)
		if err != nil {
			return err
		}
		b.ends[i] = end
		b.total += end
	}
	b.base = e.backfillDone(b)
	e.mu.Lock()
	e.mu.backfills[o.ID] = b
	e.mu.Unlock()
	defer func() {
		e.mu.Lock()
		delete(e.mu.backfills, o.ID)
		e.mu.Unlock()
	}()
	for i, src := range sources {
		for {
			wctx, cancel := context.WithTimeout(ctx, e.cfg.ProgressInterval)
			err := e.rt.WaitFor(wctx, o.ID, src, b.ends[i])
			timedOut := wctx.Err() == context.DeadlineExceeded
			cancel()
			if err == nil {
				break
			}
			if ctx.Err() != nil || !timedOut {
				return err
			}
			if derr := e.rt.Err(o.ID); derr != nil {
				return derr
			}
			p := e.progress(b)
			msg := fmt.Sprintf("materialized view %q: backfilled %d of %d records (%.0f%%)", o.Name, p.Done, p.Total, 100*float64(p.Done)/float64(max(p.Total, 1)))
			if p.HasETA {
				r := time.Second
				if p.ETA < 10*time.Second {
					r = 100 * time.Millisecond
				}
				msg += fmt.Sprintf(", about %s left", p.ETA.Round(r))
			}
			w.Notice("NOTICE", pgerr.SuccessfulCompletion, msg)
		}
	}
	return nil
}

// backfillState is a materialized view's backfill in progress.
type backfillState struct {
	view    string
	id      uint64
	started time.Time
	// sources are the view's inputs, ends where each ended when the
	// backfill started, total their sum.
	sources, ends []uint64
	total         uint64
	base          uint64 // consumed before it started (a view restarted mid-backfill)
}

// backfillDone counts the records of its inputs the view has consumed (as of
// its last committed epoch), up to where the backfill ends.
func (e *Engine) backfillDone(b *backfillState) uint64 {
	var done uint64
	for i, src := range b.sources {
		if c, ok := e.rt.Committed(b.id, src); ok {
			done += min(c, b.ends[i])
		}
	}
	return done
}

// progress is b now: records done, and the time left estimated from the
// rate since it started.
func (e *Engine) progress(b *backfillState) planner.BackfillInfo {
	p := planner.BackfillInfo{View: b.view, Done: e.backfillDone(b), Total: b.total, Started: b.started}
	switch {
	case p.Done >= p.Total:
		p.HasETA = true
	case p.Done > b.base:
		rate := float64(p.Done-b.base) / time.Since(b.started).Seconds()
		p.ETA, p.HasETA = time.Duration(float64(p.Total-p.Done)/rate*float64(time.Second)), true
	}
	return p
}

// backfillInfo lists the backfills running now, for
// kappa_catalog.kappa_backfill_progress.
func (e *Engine) backfillInfo() []planner.BackfillInfo {
	e.mu.Lock()
	running := make([]*backfillState, 0, len(e.mu.backfills))
	for _, b := range e.mu.backfills {
		running = append(running, b)
	}
	e.mu.Unlock()
	out := make([]planner.BackfillInfo, 0, len(running))
	for _, b := range running {
		out = append(out, e.progress(b))
	}
	return out
}

// dropObjects removes objects and their stored data. The caller holds ddlMu.
func (e *Engine) dropObjects(objs []*catalog.Object) error {
	for _, o := range objs {
		if o.Kind != catalog.KindView {
			e.rt.Remove(o.ID)
		}
	}
	err := e.cat.Drop(objs, func(b *storage.Batch) error {
		for _, o := range objs {
			if o.Kind == catalog.KindView {
				continue
			}
			if err := exec.DeleteRelationData(b, o.ID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, o := range objs {
		if o.Kind != catalog.KindView {
			// Best effort: the drop committed; a failed compaction leaves
			// the space to pebble's own compactions.
			if err := exec.CompactRelationData(e.db, o.ID); err != nil {
				e.cfg.Logger.Warn("compacting a dropped relation's data", "name", o.Name, "err", err)
			}
		}
		if o.Kind == catalog.KindTable {
			e.dropTableLog(o.ID)
		}
		e.mu.Lock()
		delete(e.mu.feeds, o.ID)
		delete(e.mu.broken, o.ID)
		e.mu.Unlock()
	}
	return nil
}

var dropKinds = map[sql.ObjectKind]catalog.Kind{
	sql.ObjTable:            catalog.KindTable,
	sql.ObjView:             catalog.KindView,
	sql.ObjMaterializedView: catalog.KindMaterializedView,
	sql.ObjSource:           catalog.KindSource,
}

func (e *Engine) drop(ctx context.Context, st *statement, x *sql.Drop, w pgwire.ResultWriter) (string, error) {
	e.ddlMu.Lock()
	defer e.ddlMu.Unlock()
	tag := "DROP " + x.Kind.String()
	want, ok := dropKinds[x.Kind]
	if !ok {
		return "", st.unsupported(x.Pos, tag)
	}
	var targets []*catalog.Object
	for _, n := range x.Names {
		o, ok := e.cat.Lookup(n.Name)
		if !ok || (n.Schema != "" && n.Schema != "public") {
			if x.IfExists {
				w.Notice("NOTICE", pgerr.SuccessfulCompletion, strings.ToLower(x.Kind.String())+" \""+n.Name+"\" does not exist, skipping")
				continue
			}
			return "", st.errAt(n.Pos, pgerr.UndefinedTable, "%s %q does not exist", strings.ToLower(x.Kind.String()), n.Name)
		}
		if o.Kind != want {
			return "", st.errAt(n.Pos, pgerr.WrongObjectType, "%q is not a %s", n.Name, want).
				WithHint("Use DROP %s to remove a %s.", strings.ToUpper(o.Kind.String()), o.Kind)
		}
		targets = append(targets, o)
	}
	if len(targets) == 0 {
		return tag, nil
	}
	// Collect dependents, transitively, in an order where each object comes
	// after everything that depends on it.
	var all []*catalog.Object
	seen := map[uint64]bool{}
	var visit func(o *catalog.Object)
	visit = func(o *catalog.Object) {
		if seen[o.ID] {
			return
		}
		seen[o.ID] = true
		for _, d := range e.cat.Dependents(o.ID) {
			visit(d)
		}
		all = append(all, o)
	}
	for _, o := range targets {
		visit(o)
	}
	isTarget := map[uint64]bool{}
	for _, o := range targets {
		isTarget[o.ID] = true
	}
	var extra []*catalog.Object
	for _, o := range all {
		if !isTarget[o.ID] {
			extra = append(extra, o)
		}
	}
	if len(extra) > 0 && !x.Cascade {
		var detail []string
		for _, d := range extra {
			for _, dep := range d.DependsOn {
				if seen[dep] {
					if p, ok := e.cat.Get(dep); ok {
						detail = append(detail, d.Kind.String()+" "+d.Name+" depends on "+p.Kind.String()+" "+p.Name)
					}
				}
			}
		}
		t := targets[0]
		return "", pgerr.New(pgerr.DependentObjectsExist, "cannot drop %s %s because other objects depend on it", t.Kind, t.Name).
			WithDetail("%s", strings.Join(detail, "\n")).
			WithHint("Use DROP ... CASCADE to drop the dependent objects too.")
	}
	for _, d := range extra {
		w.Notice("NOTICE", pgerr.SuccessfulCompletion, "drop cascades to "+d.Kind.String()+" "+d.Name)
	}
	return tag, e.dropObjects(all)
}
