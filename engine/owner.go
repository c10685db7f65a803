package engine

import (
	"context"
	"slices"
	"strings"

	"github.com/kappa-db/kappa/catalog"
	"github.com/kappa-db/kappa/pgerr"
	"github.com/kappa-db/kappa/pgwire"
	"github.com/kappa-db/kappa/sql"
)

// This file runs the statements that move or remove what a role owns:
// ALTER ... OWNER TO, REASSIGN OWNED and DROP OWNED (what PostgreSQL users
// run before DROP ROLE).

func (st *statement) alterOwner(x *sql.AlterOwner) (string, error) {
	s := st.s
	tag := "ALTER " + x.Kind.String()
	s.e.ddlMu.Lock()
	defer s.e.ddlMu.Unlock()
	o, ok := s.e.cat.Lookup(x.Name.Name)
	if !ok || (x.Name.Schema != "" && x.Name.Schema != "public") {
		return "", st.errAt(x.Name.Pos, pgerr.UndefinedTable, "relation %q does not exist", x.Name.Name)
	}
	if objectKind(o.Kind) != x.Kind {
		return "", st.errAt(x.Name.Pos, pgerr.WrongObjectType, "%q is not a %s", o.Name, strings.ToLower(x.Kind.String()))
	}
	owner, err := s.resolveRole(x.Owner)
	if err != nil {
		return "", err
	}
	if o.OwnerID() == owner.ID {
		return tag, nil
	}
	if !s.superuser() {
		me := s.roles()
		switch {
		case !me.Owns(o):
			return "", mustBeOwner(o)
		case !s.e.cat.IsMember(s.currentRole, owner.ID):
			return "", denied("must be member of role %q", owner.Name)
		case !s.e.cat.HasSchemaPrivilege(owner.ID, catalog.PrivCreate):
			return "", denied("permission denied for schema public")
		}
	}
	return tag, s.e.cat.SetOwner([]*catalog.Object{o}, owner.ID)
}

// ownedRoles resolves the roles of REASSIGN/DROP OWNED; the current role
// must have the privileges of each (PostgreSQL's rule), else denied.
func (st *statement) ownedRoles(specs []sql.RoleSpec, denial string) ([]uint64, error) {
	s := st.s
	super := s.superuser()
	var ids []uint64
	for _, spec := range specs {
		r, err := s.resolveRole(spec)
		if err != nil {
			return nil, err
		}
		if !super && !slices.Contains(s.roles().IDs, r.ID) {
			return nil, denied("%s", denial)
		}
		ids = append(ids, r.ID)
	}
	return ids, nil
}

func (st *statement) reassignOwned(x *sql.ReassignOwned) (string, error) {
	s := st.s
	s.e.ddlMu.Lock()
	defer s.e.ddlMu.Unlock()
	from, err := st.ownedRoles(x.Roles, "permission denied to reassign objects")
	if err != nil {
		return "", err
	}
	to, err := s.resolveRole(x.To)
	if err != nil {
		return "", err
	}
	if !s.superuser() && !slices.Contains(s.roles().IDs, to.ID) {
		return "", denied("permission denied to reassign objects")
	}
	var objs []*catalog.Object
	for _, o := range s.e.cat.All() {
		if slices.Contains(from, o.OwnerID()) {
			objs = append(objs, o)
		}
	}
	if len(objs) == 0 {
		return "REASSIGN OWNED", nil
	}
	return "REASSIGN OWNED", s.e.cat.SetOwner(objs, to.ID)
}

func (st *statement) dropOwned(ctx context.Context, x *sql.DropOwned, w pgwire.ResultWriter) (string, error) {
	s := st.s
	const tag = "DROP OWNED"
	s.e.ddlMu.Lock()
	ids, err := st.ownedRoles(x.Roles, "permission denied to drop objects")
	if err != nil {
		s.e.ddlMu.Unlock()
		return "", err
	}
	// Privileges granted to the roles go first.
	var objs []*catalog.Object
	var acls []catalog.ACL
	var owned []*catalog.Object
	for _, o := range s.e.cat.All() {
		if slices.Contains(ids, o.OwnerID()) {
			owned = append(owned, o)
			continue
		}
		acl := o.ACL
		for _, id := range ids {
			if acl.Mentions(id) {
				acl = acl.Revoke(id, ^catalog.Privileges(0))
			}
		}
		if len(acl) != len(o.ACL) {
			objs, acls = append(objs, o), append(acls, acl)
		}
	}
	if len(objs) > 0 {
		if err := s.e.cat.SetACLs(objs, acls); err != nil {
			s.e.ddlMu.Unlock()
			return "", err
		}
	}
	dbACL := s.e.cat.DatabaseACL()
	changed := false
	for _, id := range ids {
		if dbACL.Schema.Mentions(id) {
			dbACL.Schema, changed = dbACL.Schema.Revoke(id, ^catalog.Privileges(0)), true
		}
		if dbACL.Database.Mentions(id) {
			dbACL.Database, changed = dbACL.Database.Revoke(id, ^catalog.Privileges(0)), true
		}
	}
	if changed {
		if err := s.e.cat.SetDatabaseACL(dbACL); err != nil {
			s.e.ddlMu.Unlock()
			return "", err
		}
	}
	s.e.ddlMu.Unlock()
	// Then the objects, newest first (dependents were created after what
	// they depend on), each as its DROP would.
	for i := len(owned) - 1; i >= 0; i-- {
		o := owned[i]
		if _, ok := s.e.cat.Get(o.ID); !ok {
			continue // dropped with an earlier one (CASCADE)
		}
		d := &sql.Drop{Pos: -1, Kind: objectKind(o.Kind), Names: []sql.ObjectName{{Pos: -1, Name: o.Name}}, Cascade: x.Cascade}
		if _, err := s.e.drop(ctx, st, d, w); err != nil {
			return "", err
		}
	}
	return tag, nil
}
