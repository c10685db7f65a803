package engine

import (
	"context"
	"strings"
	"time"

	"github.com/kappa-db/kappa/catalog"
	"github.com/kappa-db/kappa/exec"
	"github.com/kappa-db/kappa/pgerr"
	"github.com/kappa-db/kappa/pgwire"
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
	case x.Watermark != nil:
		return "", st.unsupported(x.Watermark.Pos, "WATERMARK")
	case len(x.Options) > 0:
		return "", st.errAt(x.Options[0].Pos, pgerr.InvalidParameterValue, "unrecognized table option %q", x.Options[0].Key)
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
	id, err := e.cat.ReserveID()
	if err != nil {
		return "", err
	}
	o.ID = id
	// The log first: a crash before the catalog record leaves an orphaned
	// log directory, which the next start removes.
	if _, err := e.tableLog(id); err != nil {
		return "", err
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

func (e *Engine) dropTableLog(id uint64) {
	e.mu.Lock()
	l, ok := e.mu.logs[id]
	delete(e.mu.logs, id)
	delete(e.mu.tableLocks, id)
	e.mu.Unlock()
	if ok {
		if err := l.Close(); err != nil {
			e.cfg.Logger.Warn("closing dropped table's log", "id", id, "err", err)
		}
	}
	if err := e.fs.RemoveAll(e.logDir(id)); err != nil {
		e.cfg.Logger.Warn("removing dropped table's log", "id", id, "err", err)
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
		if err := e.cat.Replace(old, o); err != nil {
			return "", err
		}
		return tag, nil
	}
	return tag, e.cat.Create(o, nil)
}

func (e *Engine) createMaterializedView(ctx context.Context, st *statement, x *sql.CreateMaterializedView, w pgwire.ResultWriter) (string, error) {
	e.ddlMu.Lock()
	const tag = "CREATE MATERIALIZED VIEW"
	if x.OrReplace {
		e.ddlMu.Unlock()
		return "", st.unsupported(x.Pos, "CREATE OR REPLACE MATERIALIZED VIEW")
	}
	if len(x.Options) > 0 {
		e.ddlMu.Unlock()
		return "", st.errAt(x.Options[0].Pos, pgerr.InvalidParameterValue, "unrecognized materialized view option %q", x.Options[0].Key)
	}
	if exists, err := st.checkName(x.Name, x.IfNotExists, w); err != nil || exists {
		e.ddlMu.Unlock()
		return tag, err
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
	id, err := e.cat.ReserveID()
	if err != nil {
		e.ddlMu.Unlock()
		return "", err
	}
	o := &catalog.Object{ID: id, Kind: catalog.KindMaterializedView, Name: x.Name.Name, CreateSQL: x.Info().Text,
		Query: x.QueryText, DependsOn: mv.DependsOn, Sources: mv.Sources, KeyCols: mv.KeyCols, Unique: mv.Unique,
		Created: time.Now().UTC(), Owner: st.s.currentRole}
	for _, c := range mv.Columns {
		o.Columns = append(o.Columns, catalog.Column{Name: c.Name, Type: c.Type})
	}
	if err := e.cat.Create(o, nil); err != nil {
		e.ddlMu.Unlock()
		return "", err
	}
	spec := exec.DataflowSpec{ID: id, Name: o.Name, Plan: mv.Plan,
		View: &exec.ViewSink{Rel: id, KeyCols: mv.KeyCols, Unique: mv.Unique}}
	if err := e.rt.Add(spec); err != nil {
		e.dropObjects([]*catalog.Object{o})
		e.ddlMu.Unlock()
		return "", err
	}
	e.ddlMu.Unlock()
	// Backfill: the view replays its sources' logs from the start; the
	// statement returns once it has caught up with what was there.
	for _, src := range mv.Sources {
		end, lerr := e.inputEnd(src)
		if lerr != nil {
			err = lerr
			break
		}
		if err = e.rt.WaitFor(ctx, id, src, end); err != nil {
			break
		}
	}
	if err == nil {
		// PostgreSQL refuses to create a view whose query fails on the
		// current data; so does kappa.
		err = e.rt.Err(id)
	}
	if err != nil {
		// A view whose backfill fails (or is canceled) is not created.
		e.ddlMu.Lock()
		e.dropObjects([]*catalog.Object{o})
		e.ddlMu.Unlock()
		return "", err
	}
	return tag, nil
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
