package engine

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/kappa-db/kappa/catalog"
	"github.com/kappa-db/kappa/pgerr"
	"github.com/kappa-db/kappa/pgwire"
	"github.com/kappa-db/kappa/sql"
	"github.com/kappa-db/kappa/types"
)

// This file runs the role statements (CREATE/ALTER/DROP ROLE, GRANT, REVOKE,
// SET ROLE) and gives pgwire the stored passwords of roles. The privilege
// checks themselves are in privilege.go.

// Credentials implements pgwire.Authenticator.
func (e *Engine) Credentials(user string) (pgwire.Credentials, bool) {
	r, ok := e.cat.Role(user)
	if !ok {
		return pgwire.Credentials{}, false
	}
	c := pgwire.Credentials{SCRAM: r.SCRAM, MD5: r.MD5}
	if r.ValidUntil != nil {
		c.ValidUntil = *r.ValidUntil
	}
	return c, true
}

// loginRole is the role a new session logs in as: it must exist and may
// log in (checked after authentication, as in PostgreSQL).
func (e *Engine) loginRole(user string) (*catalog.Role, error) {
	if user == "" {
		user = catalog.BootstrapRole
	}
	r, ok := e.cat.Role(user)
	if !ok {
		return nil, pgerr.New(pgerr.InvalidAuthorization, "role %q does not exist", user)
	}
	if !r.Login {
		return nil, pgerr.New(pgerr.InvalidAuthorization, "role %q is not permitted to log in", user)
	}
	return r, nil
}

// beginLogin counts a new session of r against its CONNECTION LIMIT
// (superusers have none); endLogin, at the session's end, uncounts it.
func (e *Engine) beginLogin(r *catalog.Role) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if r.ConnLimit >= 0 && !r.Superuser && e.mu.logins[r.ID] >= r.ConnLimit {
		return pgerr.New(pgerr.TooManyConnections, "too many connections for role %q", r.Name)
	}
	e.mu.logins[r.ID]++
	return nil
}

func (e *Engine) endLogin(id uint64) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.mu.logins[id]--; e.mu.logins[id] <= 0 {
		delete(e.mu.logins, id)
	}
}

func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// roleName is the name of role id (current_user, session_user).
func (s *Session) roleName(id uint64) string {
	if r, ok := s.e.cat.RoleByID(id); ok {
		return r.Name
	}
	return ""
}

// executeRole runs the role and privilege statements; ok is false for any
// other statement.
func (st *statement) executeRole(ctx context.Context, w pgwire.ResultWriter) (tag string, ok bool, err error) {
	switch x := st.ast.(type) {
	case *sql.AlterOwner:
		tag, err = st.alterOwner(x)
	case *sql.AlterTableOptions:
		tag, err = st.alterTableOptions(x)
	case *sql.RenameRole:
		tag, err = st.renameRole(x, w)
	case *sql.ReassignOwned:
		tag, err = st.reassignOwned(x)
	case *sql.DropOwned:
		tag, err = st.dropOwned(ctx, x, w)
	case *sql.CreateRole:
		tag, err = st.createRole(x, w)
	case *sql.AlterRole:
		tag, err = st.alterRole(x, w)
	case *sql.DropRole:
		tag, err = st.dropRole(x, w)
	case *sql.Grant:
		tag, err = st.grant(x, w)
	case *sql.GrantRole:
		tag, err = st.grantRole(x, w)
	case *sql.Discard:
		if x.What == "all" {
			// DISCARD ALL includes SET SESSION AUTHORIZATION DEFAULT and
			// RESET ALL; the settings are reset by the statement itself.
			st.s.sessionRole, st.s.currentRole, st.s.roleSet = st.s.authRole, st.s.authRole, false
			st.s.reportRole(w)
		}
		return "", false, nil
	case *sql.Set:
		if x.Kind == sql.SetResetAll {
			// RESET ALL resets the role too; the settings are reset by set.
			st.s.currentRole, st.s.roleSet = st.s.sessionRole, false
			st.s.reportRole(w)
			return "", false, nil
		}
		if x.Name != "role" && x.Name != "session_authorization" {
			return "", false, nil
		}
		tag, err = st.setRole(x, w)
	default:
		return "", false, nil
	}
	return tag, true, err
}

func denied(format string, args ...any) *pgerr.Error {
	return pgerr.New(pgerr.InsufficientPrivilege, format, args...)
}

// checkNewRoleName refuses the names PostgreSQL reserves.
func (st *statement) checkNewRoleName(name string) error {
	switch {
	case strings.HasPrefix(name, "pg_"):
		return pgerr.New("42939", "role name %q is reserved", name).WithDetail("Role names starting with \"pg_\" are reserved.")
	case name == "public" || name == "none":
		return pgerr.New("42939", "role name %q is reserved", name)
	case name == "":
		return pgerr.New(pgerr.InvalidParameterValue, "role name must not be empty")
	}
	return nil
}

// resolveRole finds the role a RoleSpec names.
func (s *Session) resolveRole(r sql.RoleSpec) (*catalog.Role, error) {
	var id uint64
	switch r.Kind {
	case sql.RoleCurrentUser:
		id = s.currentRole
	case sql.RoleSessionUser:
		id = s.sessionRole
	case sql.RolePublic:
		return nil, pgerr.New(pgerr.UndefinedObject, "role \"public\" does not exist")
	default:
		role, ok := s.e.cat.Role(r.Name)
		if !ok {
			return nil, pgerr.New(pgerr.UndefinedObject, "role %q does not exist", r.Name)
		}
		return role, nil
	}
	role, ok := s.e.cat.RoleByID(id)
	if !ok {
		return nil, pgerr.New(pgerr.UndefinedObject, "role with OID %d does not exist", id)
	}
	return role, nil
}

// applyRoleOptions sets r's attributes from options (CREATE or ALTER ROLE).
// It returns the roles named by IN ROLE and by ROLE/ADMIN.
func (st *statement) applyRoleOptions(r *catalog.Role, opts []sql.RoleOption, w pgwire.ResultWriter) (inRoles, members []*catalog.Role, err error) {
	seen := map[string]bool{}
	for _, o := range opts {
		if seen[o.Name] {
			return nil, nil, st.errAt(o.Pos, pgerr.SyntaxError, "conflicting or redundant options")
		}
		seen[o.Name] = true
		switch o.Name {
		case "superuser":
			r.Superuser = o.Bool
		case "createdb":
			r.CreateDB = o.Bool
		case "createrole":
			r.CreateRole = o.Bool
		case "inherit":
			r.Inherit = o.Bool
		case "login":
			r.Login = o.Bool
		case "replication":
			r.Replication = o.Bool
		case "bypassrls":
			r.BypassRLS = o.Bool
		case "connection limit":
			if o.Int < -1 {
				return nil, nil, st.errAt(o.Pos, pgerr.InvalidParameterValue, "invalid connection limit: %d", o.Int)
			}
			r.ConnLimit = int(o.Int)
		case "valid until":
			if o.Str == nil || strings.EqualFold(*o.Str, "infinity") {
				r.ValidUntil = nil
				continue
			}
			v, err := types.ParseText(types.TimestampTZ, *o.Str, st.s.loc)
			if err != nil {
				return nil, nil, err
			}
			t := types.TimeFromTimestamp(v.I)
			r.ValidUntil = &t
		case "password":
			if err := st.setPassword(r, o.Str, w); err != nil {
				return nil, nil, err
			}
		case "in role", "role", "admin":
			for _, spec := range o.Roles {
				other, err := st.s.resolveRole(spec)
				if err != nil {
					return nil, nil, err
				}
				if o.Name == "in role" {
					inRoles = append(inRoles, other)
				} else {
					members = append(members, other)
				}
			}
		case "sysid":
			w.Notice("NOTICE", pgerr.SuccessfulCompletion, "SYSID can no longer be specified")
		default:
			return nil, nil, st.unsupported(o.Pos, "role option "+strings.ToUpper(o.Name))
		}
	}
	return inRoles, members, nil
}

// setPassword stores a password as PostgreSQL does: a password given
// already as a SCRAM verifier or md5 hash is kept as given; a plain one is
// kept only as a SCRAM-SHA-256 verifier, plus an md5 hash (for clients that
// cannot do SCRAM) when password_encryption is md5.
func (st *statement) setPassword(r *catalog.Role, pw *string, w pgwire.ResultWriter) error {
	r.SCRAM, r.MD5 = "", ""
	switch {
	case pw == nil:
		return nil
	case *pw == "":
		w.Notice("NOTICE", pgerr.SuccessfulCompletion, "empty string is not a valid password, clearing password")
		return nil
	case pgwire.IsSCRAMVerifier(*pw):
		r.SCRAM = *pw
		return nil
	case pgwire.IsMD5Password(*pw):
		r.MD5 = *pw
		return nil
	}
	v, err := pgwire.SCRAMVerifier(*pw)
	if err != nil {
		return pgerr.Wrap(err, pgerr.InternalError, "computing the password verifier")
	}
	r.SCRAM = v
	if strings.EqualFold(st.s.settings["password_encryption"], "md5") {
		r.MD5 = pgwire.MD5Password(r.Name, *pw)
	}
	return nil
}

func (st *statement) createRole(x *sql.CreateRole, w pgwire.ResultWriter) (string, error) {
	s := st.s
	tag := "CREATE ROLE"
	me := s.roles()
	cur, _ := s.e.cat.RoleByID(s.currentRole)
	if !me.Superuser && (cur == nil || !cur.CreateRole) {
		return "", denied("permission denied to create role")
	}
	if err := st.checkNewRoleName(x.Name); err != nil {
		return "", err
	}
	s.e.ddlMu.Lock()
	defer s.e.ddlMu.Unlock()
	if _, ok := s.e.cat.Role(x.Name); ok {
		return "", pgerr.New(pgerr.DuplicateObject, "role %q already exists", x.Name)
	}
	r := &catalog.Role{Name: x.Name, Inherit: true, Login: x.User, ConnLimit: -1, Created: time.Now().UTC()}
	inRoles, members, err := st.applyRoleOptions(r, x.Options, w)
	if err != nil {
		return "", err
	}
	switch {
	case r.Superuser && !me.Superuser:
		return "", denied("must be superuser to create superusers")
	case r.Replication && !me.Superuser:
		return "", denied("must be superuser to create replication users")
	case r.BypassRLS && !me.Superuser:
		return "", denied("must be superuser to create bypassrls users")
	}
	for _, g := range inRoles {
		r.MemberOf = append(r.MemberOf, g.ID)
	}
	if err := s.e.cat.CreateRole(r); err != nil {
		return "", err
	}
	var changed []*catalog.Role
	for _, m := range members {
		cp := *m
		cp.MemberOf = append(slices.Clone(m.MemberOf), r.ID)
		changed = append(changed, &cp)
	}
	if len(changed) > 0 {
		if err := s.e.cat.UpdateRoles(changed...); err != nil {
			return "", err
		}
	}
	return tag, nil
}

func (st *statement) alterRole(x *sql.AlterRole, w pgwire.ResultWriter) (string, error) {
	s := st.s
	s.e.ddlMu.Lock()
	defer s.e.ddlMu.Unlock()
	target, err := s.resolveRole(x.Role)
	if err != nil {
		return "", err
	}
	me := s.roles()
	cur, _ := s.e.cat.RoleByID(s.currentRole)
	r := *target
	if _, _, err := st.applyRoleOptions(&r, x.Options, w); err != nil {
		return "", err
	}
	onlyPassword := true
	for _, o := range x.Options {
		if o.Name != "password" {
			onlyPassword = false
		}
		if o.Name == "in role" || o.Name == "role" || o.Name == "admin" {
			return "", st.unsupported(o.Pos, "ALTER ROLE ... "+strings.ToUpper(o.Name))
		}
	}
	if !me.Superuser {
		switch {
		case target.Superuser || r.Superuser != target.Superuser:
			return "", denied("must be superuser to alter superuser roles or change superuser attribute")
		case target.Replication || r.Replication != target.Replication:
			return "", denied("must be superuser to alter replication roles or change replication attribute")
		case r.BypassRLS != target.BypassRLS:
			return "", denied("must be superuser to change bypassrls attribute")
		case cur != nil && cur.CreateRole:
		case onlyPassword && target.ID == s.currentRole:
			// Everyone may change their own password.
		default:
			return "", denied("permission denied")
		}
	}
	if target.ID == catalog.BootstrapRoleID && !r.Superuser {
		return "", denied("permission denied").WithDetail("The bootstrap superuser must remain a superuser.")
	}
	if err := s.e.cat.UpdateRoles(&r); err != nil {
		return "", err
	}
	if r.ID == s.currentRole && r.Superuser != target.Superuser {
		s.settings["is_superuser"] = onOff(r.Superuser)
		w.SetParameter("is_superuser", onOff(r.Superuser))
	}
	return "ALTER ROLE", nil
}

func (st *statement) dropRole(x *sql.DropRole, w pgwire.ResultWriter) (string, error) {
	s := st.s
	me := s.roles()
	cur, _ := s.e.cat.RoleByID(s.currentRole)
	if !me.Superuser && (cur == nil || !cur.CreateRole) {
		return "", denied("permission denied to drop role")
	}
	s.e.ddlMu.Lock()
	defer s.e.ddlMu.Unlock()
	var drop []*catalog.Role
	for _, spec := range x.Roles {
		if spec.Kind != sql.RoleNamed {
			return "", pgerr.New(pgerr.InvalidParameterValue, "cannot use special role specifier in DROP ROLE")
		}
		r, ok := s.e.cat.Role(spec.Name)
		if !ok {
			if x.IfExists {
				w.Notice("NOTICE", pgerr.SuccessfulCompletion, "role \""+spec.Name+"\" does not exist, skipping")
				continue
			}
			return "", pgerr.New(pgerr.UndefinedObject, "role %q does not exist", spec.Name)
		}
		switch {
		case r.ID == s.currentRole:
			return "", pgerr.New("55006", "current user cannot be dropped")
		case r.ID == s.sessionRole:
			return "", pgerr.New("55006", "session user cannot be dropped")
		case r.ID == catalog.BootstrapRoleID:
			return "", pgerr.New(pgerr.DependentObjectsExist, "cannot drop role %s because it is required by the database system", r.Name)
		case r.Superuser && !me.Superuser:
			return "", denied("must be superuser to drop superusers")
		}
		if deps := s.e.roleDependents(r.ID); len(deps) > 0 {
			return "", pgerr.New(pgerr.DependentObjectsExist, "role %q cannot be dropped because some objects depend on it", r.Name).
				WithDetail("%s", strings.Join(deps, "\n"))
		}
		drop = append(drop, r)
	}
	if len(drop) == 0 {
		return "DROP ROLE", nil
	}
	return "DROP ROLE", s.e.cat.DropRoles(drop)
}

// roleDependents describes what keeps role id from being dropped: objects
// it owns and privileges granted to or by it, as PostgreSQL's DETAIL does.
func (e *Engine) roleDependents(id uint64) []string {
	var out []string
	for _, o := range e.cat.All() {
		if o.OwnerID() == id {
			out = append(out, "owner of "+o.Kind.String()+" "+o.Name)
		}
	}
	for _, o := range e.cat.All() {
		if o.ACL.Mentions(id) && o.OwnerID() != id {
			out = append(out, "privileges for "+o.Kind.String()+" "+o.Name)
		}
	}
	acl := e.cat.DatabaseACL()
	if acl.Database.Mentions(id) {
		out = append(out, "privileges for database kappa")
	}
	if acl.Schema.Mentions(id) {
		out = append(out, "privileges for schema public")
	}
	return out
}

// grantees resolves the roles of a GRANT or REVOKE (PUBLIC is
// catalog.PublicRoleID).
func (s *Session) grantees(specs []sql.RoleSpec) ([]uint64, error) {
	var ids []uint64
	for _, spec := range specs {
		if spec.Kind == sql.RolePublic {
			ids = append(ids, catalog.PublicRoleID)
			continue
		}
		r, err := s.resolveRole(spec)
		if err != nil {
			return nil, err
		}
		ids = append(ids, r.ID)
	}
	return ids, nil
}

// privileges turns a GRANT's privilege list into bits valid for an object
// kind ("relation", "schema", "database"); empty means ALL.
func privileges(list []sql.Privilege, all catalog.Privileges, kind string) (catalog.Privileges, error) {
	if len(list) == 0 {
		return all, nil
	}
	var p catalog.Privileges
	for _, x := range list {
		if len(x.Columns) > 0 {
			return 0, pgerr.New(pgerr.FeatureNotSupported, "column privileges are not supported")
		}
		bit, ok := catalog.PrivilegeByName(x.Name)
		if !ok {
			return 0, pgerr.New(pgerr.SyntaxError, "unrecognized privilege type %q", x.Name)
		}
		if bit&all == 0 {
			return 0, pgerr.New("0LP01", "invalid privilege type %s for %s", strings.ToUpper(x.Name), kind)
		}
		p |= bit
	}
	return p, nil
}

func (st *statement) grant(x *sql.Grant, w pgwire.ResultWriter) (string, error) {
	s := st.s
	tag := "GRANT"
	if x.Revoke {
		tag = "REVOKE"
	}
	if x.GrantOption {
		return "", st.unsupported(x.Pos, "WITH GRANT OPTION (and GRANT OPTION FOR)")
	}
	s.e.ddlMu.Lock()
	defer s.e.ddlMu.Unlock()
	ids, err := s.grantees(x.Grantees)
	if err != nil {
		return "", err
	}
	me := s.roles()
	apply := func(acl catalog.ACL, owner uint64, privs catalog.Privileges, all catalog.Privileges) catalog.ACL {
		if acl == nil && all == catalog.AllOnRelation {
			// The first grant spells out the owner's implicit privileges,
			// as PostgreSQL's relacl shows them.
			acl = catalog.ACL{{Grantee: owner, Grantor: owner, Privs: all}}
		}
		for _, id := range ids {
			if x.Revoke {
				acl = acl.Revoke(id, privs)
			} else {
				acl = acl.Grant(id, owner, privs)
			}
		}
		return acl
	}
	switch x.Target {
	case sql.GrantOnTables, sql.GrantOnAllTablesSchema:
		privs, err := privileges(x.Privileges, catalog.AllOnRelation, "relation")
		if err != nil {
			return "", err
		}
		var objs []*catalog.Object
		if x.Target == sql.GrantOnTables {
			for _, n := range x.Tables {
				o, ok := s.e.cat.Lookup(n.Name)
				if !ok || (n.Schema != "" && n.Schema != "public") {
					return "", st.errAt(n.Pos, pgerr.UndefinedTable, "relation %q does not exist", n.Name)
				}
				objs = append(objs, o)
			}
		} else {
			for _, name := range x.Names {
				if name != "public" {
					return "", pgerr.New(pgerr.InvalidSchemaName, "schema %q does not exist", name)
				}
			}
			objs = s.e.cat.All()
		}
		acls := make([]catalog.ACL, len(objs))
		for i, o := range objs {
			if !me.Owns(o) {
				return "", permissionDenied(o)
			}
			acls[i] = apply(o.ACL, o.OwnerID(), privs, catalog.AllOnRelation)
		}
		if len(objs) == 0 {
			return tag, nil
		}
		return tag, s.e.cat.SetACLs(objs, acls)
	case sql.GrantOnSchema, sql.GrantOnDatabase:
		kind, all := "schema", catalog.AllOnSchema
		if x.Target == sql.GrantOnDatabase {
			kind, all = "database", catalog.AllOnDatabase
		}
		privs, err := privileges(x.Privileges, all, kind)
		if err != nil {
			return "", err
		}
		for _, name := range x.Names {
			switch {
			case kind == "schema" && name != "public":
				return "", pgerr.New(pgerr.InvalidSchemaName, "schema %q does not exist", name)
			case kind == "database" && name != s.database && name != catalog.BootstrapRole:
				return "", pgerr.New("3D000", "database %q does not exist", name)
			}
			// Schema public and the database belong to the bootstrap
			// superuser.
			if !me.Superuser && !slices.Contains(me.IDs, catalog.BootstrapRoleID) {
				return "", denied("permission denied for %s %s", kind, name)
			}
		}
		acl := s.e.cat.DatabaseACL()
		if kind == "schema" {
			acl.Schema = apply(acl.Schema, catalog.BootstrapRoleID, privs, all)
		} else {
			acl.Database = apply(acl.Database, catalog.BootstrapRoleID, privs, all)
		}
		return tag, s.e.cat.SetDatabaseACL(acl)
	}
	return "", st.unsupported(x.Pos, tag+" on this object")
}

func (st *statement) grantRole(x *sql.GrantRole, w pgwire.ResultWriter) (string, error) {
	s := st.s
	tag := "GRANT ROLE"
	if x.Revoke {
		tag = "REVOKE ROLE"
	}
	s.e.ddlMu.Lock()
	defer s.e.ddlMu.Unlock()
	me := s.roles()
	cur, _ := s.e.cat.RoleByID(s.currentRole)
	var groups []*catalog.Role
	for _, name := range x.Roles {
		g, ok := s.e.cat.Role(name)
		if !ok {
			return "", pgerr.New(pgerr.UndefinedObject, "role %q does not exist", name)
		}
		switch {
		case g.Superuser && !me.Superuser:
			return "", denied("must be superuser to alter superusers")
		case !me.Superuser && (cur == nil || !cur.CreateRole):
			return "", denied("must have admin option on role %q", g.Name)
		}
		groups = append(groups, g)
	}
	changed := map[uint64]*catalog.Role{}
	var order []uint64
	for _, spec := range x.Grantees {
		if spec.Kind == sql.RolePublic {
			return "", pgerr.New(pgerr.UndefinedObject, "role \"public\" does not exist")
		}
		m, err := s.resolveRole(spec)
		if err != nil {
			return "", err
		}
		cp, ok := changed[m.ID]
		if !ok {
			c := *m
			c.MemberOf = slices.Clone(m.MemberOf)
			cp = &c
			changed[m.ID] = cp
			order = append(order, m.ID)
		}
		for _, g := range groups {
			switch {
			case x.Revoke:
				if !slices.Contains(cp.MemberOf, g.ID) {
					w.Notice("WARNING", pgerr.SuccessfulCompletion, "role \""+cp.Name+"\" has not been granted membership in role \""+g.Name+"\" by role \""+s.roleName(s.currentRole)+"\"")
				}
				cp.MemberOf = slices.DeleteFunc(cp.MemberOf, func(id uint64) bool { return id == g.ID })
			case g.ID == cp.ID || s.e.cat.IsMember(g.ID, cp.ID):
				return "", pgerr.New("0LP01", "role %q is a member of role %q", g.Name, cp.Name)
			case slices.Contains(cp.MemberOf, g.ID):
				w.Notice("NOTICE", pgerr.SuccessfulCompletion, "role \""+cp.Name+"\" has already been granted membership in role \""+g.Name+"\" by role \""+s.roleName(s.currentRole)+"\"")
			default:
				cp.MemberOf = append(cp.MemberOf, g.ID)
			}
		}
	}
	var rs []*catalog.Role
	for _, id := range order {
		rs = append(rs, changed[id])
	}
	return tag, s.e.cat.UpdateRoles(rs...)
}

// setRole runs SET ROLE, RESET ROLE, SET SESSION AUTHORIZATION and RESET
// SESSION AUTHORIZATION.
func (st *statement) setRole(x *sql.Set, w pgwire.ResultWriter) (string, error) {
	s := st.s
	tag := "SET"
	if x.Kind == sql.SetReset {
		tag = "RESET"
	}
	name := ""
	if x.Kind == sql.SetValue && len(x.Values) == 1 {
		name = x.Values[0]
	} else if x.Kind == sql.SetValue {
		return "", pgerr.New(pgerr.InvalidParameterValue, "SET %s takes only one argument", x.Name)
	}
	if x.Name == "session_authorization" {
		if x.Local {
			return "", st.unsupported(x.Pos, "SET LOCAL SESSION AUTHORIZATION")
		}
		target := s.authRole
		if name != "" {
			r, ok := s.e.cat.Role(name)
			if !ok {
				return "", pgerr.New(pgerr.UndefinedObject, "role %q does not exist", name)
			}
			target = r.ID
		}
		auth, _ := s.e.cat.RoleByID(s.authRole)
		if target != s.authRole && (auth == nil || !auth.Superuser) {
			return "", denied("permission denied to set session authorization")
		}
		s.sessionRole, s.currentRole, s.roleSet = target, target, false
		s.reportRole(w)
		return tag, nil
	}
	if x.Local {
		return "", st.unsupported(x.Pos, "SET LOCAL ROLE")
	}
	if name == "" || name == "none" {
		s.currentRole, s.roleSet = s.sessionRole, false
		s.reportRole(w)
		return tag, nil
	}
	r, ok := s.e.cat.Role(name)
	if !ok {
		return "", pgerr.New(pgerr.UndefinedObject, "role %q does not exist", name)
	}
	sess, _ := s.e.cat.RoleByID(s.sessionRole)
	if (sess == nil || !sess.Superuser) && !s.e.cat.IsMember(s.sessionRole, r.ID) {
		return "", denied("permission denied to set role %q", name)
	}
	s.currentRole, s.roleSet = r.ID, true
	s.reportRole(w)
	return tag, nil
}

// reportRole updates the settings that follow the current role.
func (s *Session) reportRole(w pgwire.ResultWriter) {
	s.userName, s.sessionUserName = s.roleName(s.currentRole), s.roleName(s.sessionRole)
	cur, _ := s.e.cat.RoleByID(s.currentRole)
	super := onOff(cur != nil && cur.Superuser)
	if s.settings["is_superuser"] != super {
		s.settings["is_superuser"] = super
		w.SetParameter("is_superuser", super)
	}
	name := s.roleName(s.sessionRole)
	if s.settings["session_authorization"] != name {
		s.settings["session_authorization"] = name
		w.SetParameter("session_authorization", name)
	}
	s.settings["role"] = "none"
	if s.roleSet {
		s.settings["role"] = s.roleName(s.currentRole)
	}
}

func (st *statement) renameRole(x *sql.RenameRole, w pgwire.ResultWriter) (string, error) {
	s := st.s
	s.e.ddlMu.Lock()
	defer s.e.ddlMu.Unlock()
	r, ok := s.e.cat.Role(x.Name)
	if !ok {
		return "", pgerr.New(pgerr.UndefinedObject, "role %q does not exist", x.Name)
	}
	switch {
	case r.ID == s.sessionRole:
		return "", pgerr.New(pgerr.FeatureNotSupported, "session user cannot be renamed")
	case r.ID == s.currentRole:
		return "", pgerr.New(pgerr.FeatureNotSupported, "current user cannot be renamed")
	case r.ID == catalog.BootstrapRoleID:
		return "", pgerr.New(pgerr.FeatureNotSupported, "role %q cannot be renamed: it is the bootstrap superuser", r.Name)
	}
	if err := st.checkNewRoleName(x.To); err != nil {
		return "", err
	}
	if _, ok := s.e.cat.Role(x.To); ok {
		return "", pgerr.New(pgerr.DuplicateObject, "role %q already exists", x.To)
	}
	cur, _ := s.e.cat.RoleByID(s.currentRole)
	super := s.superuser()
	switch {
	case r.Superuser && !super:
		return "", denied("must be superuser to rename superusers")
	case !super && (cur == nil || !cur.CreateRole):
		return "", denied("permission denied to rename role")
	}
	cp := *r
	cp.Name = x.To
	if cp.MD5 != "" {
		// The md5 hash is salted with the name: it no longer matches.
		cp.MD5 = ""
		w.Notice("NOTICE", pgerr.SuccessfulCompletion, "MD5 password cleared because of role rename")
	}
	return "ALTER ROLE", s.e.cat.UpdateRoles(&cp)
}
