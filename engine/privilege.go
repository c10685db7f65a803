package engine

import (
	"github.com/kappa-db/kappa/catalog"
	"github.com/kappa-db/kappa/pgerr"
	"github.com/kappa-db/kappa/sql"
)

// This file checks privileges, as PostgreSQL does: a superuser may do
// everything; the owner of an object (or a member of the owning role) may do
// everything with it; anyone else needs a grant in the object's ACL, to
// them, to a role they inherit from, or to PUBLIC. A plain view is read with
// its owner's privileges on what it reads. Creating a relation needs CREATE
// on schema public, which PostgreSQL 15 grants to nobody by default.

// superuser reports whether the current role is a superuser.
func (s *Session) superuser() bool {
	r, ok := s.e.cat.RoleByID(s.currentRole)
	return ok && r.Superuser
}

// roles is the session's current role set.
func (s *Session) roles() catalog.RoleSet { return s.e.cat.RolesOf(s.currentRole) }

func permissionDenied(o *catalog.Object) error {
	return pgerr.New(pgerr.InsufficientPrivilege, "permission denied for %s %s", o.Kind, o.Name)
}

func mustBeOwner(o *catalog.Object) error {
	return pgerr.New(pgerr.InsufficientPrivilege, "must be owner of %s %s", o.Kind, o.Name)
}

// checkRelation checks that the current role holds want on o.
func (s *Session) checkRelation(o *catalog.Object, want catalog.Privileges) error {
	if s.roles().Has(o, want) {
		return nil
	}
	return permissionDenied(o)
}

// checkSelect checks SELECT on relations a query names, and, for each plain
// view among them, that the view's owner may read what the view names (even
// when the reader is a superuser, as in PostgreSQL).
func (s *Session) checkSelect(ids []uint64) error {
	if s.superuser() {
		return s.e.checkSelectAs(catalog.RoleSet{Superuser: true}, ids, 0)
	}
	return s.e.checkSelectAs(s.roles(), ids, 0)
}

func (e *Engine) checkSelectAs(rs catalog.RoleSet, ids []uint64, depth int) error {
	if depth > 100 {
		return pgerr.New(pgerr.InternalError, "views nested too deeply")
	}
	for _, id := range ids {
		o, ok := e.cat.Get(id)
		if !ok {
			continue
		}
		if !rs.Has(o, catalog.PrivSelect) {
			return permissionDenied(o)
		}
		if o.Kind != catalog.KindView {
			continue
		}
		if r, ok := e.cat.RoleByID(o.OwnerID()); ok && r.Superuser {
			continue
		}
		if err := e.checkSelectAs(e.cat.RolesOf(o.OwnerID()), o.DependsOn, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// checkRestricted refuses a query that reads pg_authid (password
// verifiers) to anyone but a superuser, as PostgreSQL does.
func (s *Session) checkRestricted(restricted bool) error {
	if restricted && !s.superuser() {
		return pgerr.New(pgerr.InsufficientPrivilege, "permission denied for table pg_authid")
	}
	return nil
}

// checkCreate checks CREATE on schema public: creating a relation.
func (s *Session) checkCreate() error {
	if s.e.cat.HasSchemaPrivilege(s.currentRole, catalog.PrivCreate) {
		return nil
	}
	return pgerr.New(pgerr.InsufficientPrivilege, "permission denied for schema public")
}

// authorize checks the privileges a statement needs before it runs. Checks
// that need what only the statement's own execution learns (the relations
// a COPY or CREATE MATERIALIZED VIEW query reads) are made there.
func (st *statement) authorize() error {
	s := st.s
	switch st.ast.(type) {
	case *sql.Select, *sql.Insert, *sql.Update, *sql.Delete:
	default:
		if s.superuser() {
			return nil
		}
	}
	switch x := st.ast.(type) {
	case *sql.Select:
		b, err := st.bind()
		if err != nil {
			return err
		}
		if err := s.checkRestricted(b.query.Restricted); err != nil {
			return err
		}
		return s.checkSelect(b.query.DependsOn)
	case *sql.Insert, *sql.Update, *sql.Delete:
		b, err := st.bind()
		if err != nil {
			return err
		}
		if b.insert != nil {
			if err := s.checkRestricted(b.insert.Restricted); err != nil {
				return err
			}
		}
		if s.superuser() {
			switch {
			case b.insert != nil:
				return s.checkSelect(b.insert.DependsOn)
			case b.update != nil:
				return s.checkSelect(b.update.DependsOn)
			}
			return nil
		}
		switch {
		case b.insert != nil:
			if err := s.checkRelation(b.insert.Table, catalog.PrivInsert); err != nil {
				return err
			}
			return s.checkSelect(b.insert.DependsOn)
		case b.update != nil:
			want := catalog.PrivUpdate
			if b.delete {
				want = catalog.PrivDelete
			}
			// Reading the table's columns (a WHERE, SET v = v + 1) also
			// needs SELECT, as in PostgreSQL.
			if b.update.ReadsColumns {
				want |= catalog.PrivSelect
			}
			if err := s.checkRelation(b.update.Table, want); err != nil {
				return err
			}
			return s.checkSelect(b.update.DependsOn)
		}
	case *sql.CreateTable, *sql.CreateView, *sql.CreateMaterializedView, *sql.CreateSource, *sql.CreateSink, *sql.CreateIndex:
		return s.checkCreate()
	case *sql.Drop:
		rs := s.roles()
		for _, n := range x.Names {
			if o, ok := s.e.cat.Lookup(n.Name); ok && objectKind(o.Kind) == x.Kind && !rs.Owns(o) {
				return mustBeOwner(o)
			}
		}
	case *sql.Explain:
		if q, ok := x.Statement.(*sql.Select); ok {
			plan, err := s.e.planner.PlanQuery(st.src, q, nil)
			if err != nil {
				return err
			}
			if err := s.checkRestricted(plan.Restricted); err != nil {
				return err
			}
			return s.checkSelect(plan.DependsOn)
		}
	}
	return nil
}
