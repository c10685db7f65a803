package engine

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/kappa-db/kappa/exec"
	"github.com/kappa-db/kappa/pgerr"
	"github.com/kappa-db/kappa/pgwire"
	"github.com/kappa-db/kappa/planner"
	"github.com/kappa-db/kappa/sql"
	"github.com/kappa-db/kappa/types"
)

// sqlPrepared is a statement made by SQL PREPARE. Its statement is an
// ordinary one, bound and cached as a protocol-level prepared statement is;
// EXECUTE evaluates its arguments and hands them to it as text parameters,
// so they are converted exactly as a client's would be.
type sqlPrepared struct {
	name    string
	sql     string
	created time.Time
	stmt    *statement
}

// prepare runs PREPARE name [(types)] AS statement.
func (st *statement) prepare(x *sql.Prepare) (string, error) {
	s := st.s
	if _, ok := s.prepared[x.Name]; ok {
		return "", pgerr.New(pgerr.DuplicatePrepStatement, "prepared statement %q already exists", x.Name)
	}
	switch x.Statement.(type) {
	case *sql.Select, *sql.Insert, *sql.Update, *sql.Delete:
	default:
		return "", st.unsupported(x.Statement.Position(), "PREPARE of this statement")
	}
	oids := make([]uint32, len(x.ParamTypes))
	for i, tn := range x.ParamTypes {
		t, err := s.e.planner.BindType(st.src, tn)
		if err != nil {
			return "", err
		}
		oids[i] = t.OID
	}
	inner := &statement{s: s, ast: x.Statement, src: st.src, paramOIDs: oids}
	// Planned now, as PostgreSQL analyzes at PREPARE: a missing table
	// fails here.
	if _, err := inner.bind(); err != nil {
		return "", err
	}
	if s.prepared == nil {
		s.prepared = map[string]*sqlPrepared{}
	}
	s.prepared[x.Name] = &sqlPrepared{name: x.Name, sql: x.Info().Text, created: time.Now(), stmt: inner}
	return "PREPARE", nil
}

func noPrepared(name string) error {
	return pgerr.New(pgerr.UndefinedPrepStatement, "prepared statement %q does not exist", name)
}

// runExecute runs EXECUTE name [(args)].
func (st *statement) runExecute(ctx context.Context, x *sql.Execute, rf []int16, w pgwire.ResultWriter) (string, error) {
	s := st.s
	p, ok := s.prepared[x.Name]
	if !ok {
		return "", noPrepared(x.Name)
	}
	b, err := p.stmt.bind()
	if err != nil {
		return "", err
	}
	if len(x.Params) != len(b.params) {
		return "", pgerr.New(pgerr.SyntaxError, "wrong number of parameters for prepared statement %q", x.Name).
			WithDetail("Expected %d parameters but got %d.", len(b.params), len(x.Params))
	}
	raw, err := st.evalArgs(ctx, x.Params)
	if err != nil {
		return "", err
	}
	return p.stmt.execute(ctx, raw, nil, rf, w)
}

// evalArgs evaluates EXECUTE's arguments (constant expressions) to their
// text form, one SELECT of them all.
func (st *statement) evalArgs(ctx context.Context, args []sql.Expr) ([][]byte, error) {
	if len(args) == 0 {
		return nil, nil
	}
	s := st.s
	sel := &sql.Select{Pos: -1}
	for _, a := range args {
		sel.Targets = append(sel.Targets, &sql.Target{Pos: a.Position(), Expr: a})
	}
	q, err := s.e.planner.PlanQueryIn(st.src, sel, nil, s.plannerSession(st.src))
	if err != nil {
		return nil, err
	}
	snap := s.e.db.NewSnapshot()
	defer func() { _ = snap.Close() }()
	var raw [][]byte
	err = exec.Query(ctx, q.Plan, snap, st.evalContext(nil), func(row types.Row) error {
		raw = make([][]byte, len(row))
		for i, v := range row {
			if !v.IsNull() {
				raw[i] = types.AppendText([]byte{}, v, q.Columns[i].Type, s.loc)
			}
		}
		return nil
	})
	return raw, err
}

// deallocate runs DEALLOCATE [PREPARE] name | ALL.
func (st *statement) deallocate(x *sql.Deallocate) (string, error) {
	s := st.s
	if x.All {
		clear(s.prepared)
		return "DEALLOCATE ALL", nil
	}
	if _, ok := s.prepared[x.Name]; !ok {
		return "", noPrepared(x.Name)
	}
	delete(s.prepared, x.Name)
	return "DEALLOCATE", nil
}

// executeColumns is what Describe says an EXECUTE returns.
func (s *Session) executeColumns(x *sql.Execute) ([]pgwire.Column, error) {
	p, ok := s.prepared[x.Name]
	if !ok {
		return nil, noPrepared(x.Name)
	}
	_, cols, err := p.stmt.Describe(context.Background())
	return cols, err
}

// preparedRows is pg_prepared_statements' view of the session's statements.
func (s *Session) preparedRows() []planner.SessionPrepared {
	if len(s.prepared) == 0 {
		return nil // planned with every statement: nothing to allocate
	}
	out := make([]planner.SessionPrepared, 0, len(s.prepared))
	for _, p := range s.prepared {
		row := planner.SessionPrepared{Name: p.name, Statement: p.sql, Prepared: p.created, FromSQL: true}
		if p.stmt.b != nil {
			row.ParamTypes = p.stmt.b.oids
		}
		out = append(out, row)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// discard runs DISCARD ALL | PLANS | SEQUENCES | TEMP. The role part of
// DISCARD ALL (SET SESSION AUTHORIZATION DEFAULT) is done by executeRole.
func (st *statement) discard(x *sql.Discard, w pgwire.ResultWriter) (string, error) {
	s := st.s
	switch x.What {
	case "all":
		s.resetSettings(w)
		s.closeCursors(func(*cursor) bool { return true })
		clear(s.prepared)
	case "plans":
		// Plans are cached per statement and dropped when the catalog
		// changes; there is nothing else to forget.
		for _, p := range s.prepared {
			p.stmt.b = nil
		}
	}
	return "DISCARD " + strings.ToUpper(x.What), nil
}
