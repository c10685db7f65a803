package sql

import (
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"
)

// This file holds the AST and the conversion of the role and privilege
// statements: CREATE/ALTER/DROP ROLE (and USER, GROUP), GRANT and REVOKE of
// privileges and of role membership.

// RoleSpecKind says how a role is named in a statement.
type RoleSpecKind int

// Role spec kinds.
const (
	RoleNamed       RoleSpecKind = iota // a role name
	RoleCurrentUser                     // CURRENT_USER (also CURRENT_ROLE)
	RoleSessionUser                     // SESSION_USER
	RolePublic                          // PUBLIC (only as a grantee)
)

// RoleSpec names a role: by name, or CURRENT_USER, SESSION_USER, PUBLIC.
type RoleSpec struct {
	Pos  int
	Kind RoleSpecKind
	Name string // for RoleNamed
}

// RoleOption is one option of CREATE ROLE or ALTER ROLE.
type RoleOption struct {
	Pos int
	// Name is one of "superuser", "createdb", "createrole", "inherit",
	// "login", "replication", "bypassrls" (Bool set), "connection limit"
	// (Int), "valid until" (Str), "password" (Str; nil for PASSWORD NULL),
	// "in role", "role", "admin" (Roles), "sysid".
	Name  string
	Bool  bool
	Int   int64
	Str   *string
	Roles []RoleSpec
}

// CreateRole is CREATE ROLE | USER | GROUP name [WITH] options. CREATE USER
// implies LOGIN unless NOLOGIN is given.
type CreateRole struct {
	StatementInfo
	Pos     int
	Name    string
	User    bool // CREATE USER
	Options []RoleOption
}

// AlterRole is ALTER ROLE | USER name [WITH] options.
type AlterRole struct {
	StatementInfo
	Pos     int
	Role    RoleSpec
	Options []RoleOption
}

// DropRole is DROP ROLE | USER | GROUP [IF EXISTS] names.
type DropRole struct {
	StatementInfo
	Pos      int
	Roles    []RoleSpec
	IfExists bool
}

// GrantTarget is what a GRANT or REVOKE of privileges applies to.
type GrantTarget int

// Grant targets.
const (
	GrantOnTables          GrantTarget = iota // [TABLE] names: tables, views, materialized views
	GrantOnAllTablesSchema                    // ALL TABLES IN SCHEMA names
	GrantOnSchema                             // SCHEMA names
	GrantOnDatabase                           // DATABASE names
)

// Privilege is one privilege of a GRANT or REVOKE: "select", "insert",
// "update", "delete", "truncate", "references", "trigger", "create",
// "connect", "temporary", "usage".
type Privilege struct {
	Name    string
	Columns []string // a column list, which kappa does not support
}

// Grant is GRANT privileges ON target TO grantees [WITH GRANT OPTION], or
// REVOKE [GRANT OPTION FOR] privileges ON target FROM grantees.
type Grant struct {
	StatementInfo
	Pos    int
	Revoke bool
	// Privileges is empty for ALL [PRIVILEGES].
	Privileges  []Privilege
	Target      GrantTarget
	Tables      []ObjectName // GrantOnTables
	Names       []string     // schemas or databases
	Grantees    []RoleSpec
	GrantOption bool // WITH GRANT OPTION; GRANT OPTION FOR on REVOKE
	Cascade     bool
}

// GrantRole is GRANT roles TO grantees [WITH ADMIN OPTION], or REVOKE
// [ADMIN OPTION FOR] roles FROM grantees.
type GrantRole struct {
	StatementInfo
	Pos         int
	Revoke      bool
	Roles       []string
	Grantees    []RoleSpec
	AdminOption bool
}

// AlterOwner is ALTER TABLE | VIEW | MATERIALIZED VIEW name OWNER TO role.
type AlterOwner struct {
	StatementInfo
	Pos   int
	Kind  ObjectKind
	Name  ObjectName
	Owner RoleSpec
}

// AlterTableOptions is ALTER TABLE name SET (key = value, ...) and RESET
// (key, ...), in any number of commands.
type AlterTableOptions struct {
	StatementInfo
	Pos   int
	Name  ObjectName
	Set   Options
	Reset Options // keys only
}

func (n *AlterTableOptions) Position() int { return n.Pos }
func (*AlterTableOptions) statementNode()  {}

// ReassignOwned is REASSIGN OWNED BY roles TO role.
type ReassignOwned struct {
	StatementInfo
	Pos   int
	Roles []RoleSpec
	To    RoleSpec
}

// DropOwned is DROP OWNED BY roles [CASCADE | RESTRICT].
type DropOwned struct {
	StatementInfo
	Pos     int
	Roles   []RoleSpec
	Cascade bool
}

// RenameRole is ALTER ROLE | USER name RENAME TO new.
type RenameRole struct {
	StatementInfo
	Pos      int
	Name, To string
}

func (n *RenameRole) Position() int { return n.Pos }
func (*RenameRole) statementNode()  {}

func (n *AlterOwner) Position() int    { return n.Pos }
func (n *ReassignOwned) Position() int { return n.Pos }
func (n *DropOwned) Position() int     { return n.Pos }
func (*AlterOwner) statementNode()     {}
func (*ReassignOwned) statementNode()  {}
func (*DropOwned) statementNode()      {}

func (n *CreateRole) Position() int { return n.Pos }
func (n *AlterRole) Position() int  { return n.Pos }
func (n *DropRole) Position() int   { return n.Pos }
func (n *Grant) Position() int      { return n.Pos }
func (n *GrantRole) Position() int  { return n.Pos }
func (*CreateRole) statementNode()  {}
func (*AlterRole) statementNode()   {}
func (*DropRole) statementNode()    {}
func (*Grant) statementNode()       {}
func (*GrantRole) statementNode()   {}

// roleStatement converts the role and privilege statements; ok is false for
// any other node.
func (c *converter) roleStatement(n *pg.Node) (s Statement, ok bool, err error) {
	switch v := n.Node.(type) {
	case *pg.Node_CreateRoleStmt:
		s, err = c.createRoleStmt(v.CreateRoleStmt)
	case *pg.Node_AlterRoleStmt:
		s, err = c.alterRoleStmt(v.AlterRoleStmt)
	case *pg.Node_DropRoleStmt:
		s, err = c.dropRoleStmt(v.DropRoleStmt)
	case *pg.Node_GrantStmt:
		s, err = c.grantStmt(v.GrantStmt)
	case *pg.Node_GrantRoleStmt:
		s, err = c.grantRoleStmt(v.GrantRoleStmt)
	case *pg.Node_AlterTableStmt:
		// Only ALTER ... OWNER TO and ALTER TABLE ... SET/RESET (options);
		// every other ALTER TABLE goes on.
		a := v.AlterTableStmt
		if a.Relation != nil && isSetOptions(a) {
			s, err = c.alterTableOptions(a)
			break
		}
		if len(a.Cmds) != 1 || a.Cmds[0].GetAlterTableCmd().GetSubtype() != pg.AlterTableType_AT_ChangeOwner || a.Relation == nil {
			return nil, false, nil
		}
		s, err = c.alterOwner(a)
	case *pg.Node_RenameStmt:
		if v.RenameStmt.RenameType != pg.ObjectType_OBJECT_ROLE {
			return nil, false, nil
		}
		s = &RenameRole{Pos: -1, Name: v.RenameStmt.Subname, To: v.RenameStmt.Newname}
	case *pg.Node_ReassignOwnedStmt:
		r := &ReassignOwned{Pos: -1}
		if r.Roles, err = c.roleSpecs(v.ReassignOwnedStmt.Roles); err == nil {
			r.To, err = c.roleSpec(v.ReassignOwnedStmt.Newrole)
		}
		s = r
	case *pg.Node_DropOwnedStmt:
		d := &DropOwned{Pos: -1, Cascade: v.DropOwnedStmt.Behavior == pg.DropBehavior_DROP_CASCADE}
		d.Roles, err = c.roleSpecs(v.DropOwnedStmt.Roles)
		s = d
	default:
		return nil, false, nil
	}
	return s, true, err
}

func (c *converter) createRoleStmt(s *pg.CreateRoleStmt) (Statement, error) {
	opts, err := c.roleOptions(s.Options)
	if err != nil {
		return nil, err
	}
	return &CreateRole{Pos: -1, Name: s.Role, User: s.StmtType == pg.RoleStmtType_ROLESTMT_USER, Options: opts}, nil
}

func (c *converter) alterRoleStmt(s *pg.AlterRoleStmt) (Statement, error) {
	role, err := c.roleSpec(s.Role)
	if err != nil {
		return nil, err
	}
	if s.Action != 1 {
		return nil, c.unsupported(-1, "ALTER ROLE ... DROP USER is not supported")
	}
	opts, err := c.roleOptions(s.Options)
	if err != nil {
		return nil, err
	}
	return &AlterRole{Pos: -1, Role: role, Options: opts}, nil
}

func (c *converter) dropRoleStmt(s *pg.DropRoleStmt) (Statement, error) {
	d := &DropRole{Pos: -1, IfExists: s.MissingOk}
	for _, n := range s.Roles {
		r, err := c.roleSpec(n.GetRoleSpec())
		if err != nil {
			return nil, err
		}
		d.Roles = append(d.Roles, r)
	}
	return d, nil
}

func (c *converter) roleSpec(r *pg.RoleSpec) (RoleSpec, error) {
	if r == nil {
		return RoleSpec{}, c.unsupported(-1, "missing role name")
	}
	rs := RoleSpec{Pos: loc(r.Location)}
	switch r.Roletype {
	case pg.RoleSpecType_ROLESPEC_CSTRING:
		rs.Name = r.Rolename
	case pg.RoleSpecType_ROLESPEC_CURRENT_USER, pg.RoleSpecType_ROLESPEC_CURRENT_ROLE:
		rs.Kind = RoleCurrentUser
	case pg.RoleSpecType_ROLESPEC_SESSION_USER:
		rs.Kind = RoleSessionUser
	case pg.RoleSpecType_ROLESPEC_PUBLIC:
		rs.Kind = RolePublic
	default:
		return rs, c.unsupported(rs.Pos, "role specification %s is not supported", r.Roletype)
	}
	return rs, nil
}

// roleOptionNames maps pg_query's DefElem names to RoleOption names.
var roleOptionNames = map[string]string{
	"superuser": "superuser", "createdb": "createdb", "createrole": "createrole",
	"inherit": "inherit", "canlogin": "login", "isreplication": "replication",
	"bypassrls": "bypassrls", "connectionlimit": "connection limit",
	"validUntil": "valid until", "password": "password", "addroleto": "in role",
	"rolemembers": "role", "adminmembers": "admin", "sysid": "sysid",
}

func (c *converter) roleOptions(nodes []*pg.Node) ([]RoleOption, error) {
	var out []RoleOption
	for _, n := range nodes {
		d := n.GetDefElem()
		if d == nil {
			return nil, c.unsupported(nodeLocation(n), "unexpected %s in role options", nodeName(n))
		}
		name, ok := roleOptionNames[d.Defname]
		if !ok {
			return nil, c.unsupported(loc(d.Location), "role option %q is not supported", d.Defname)
		}
		o := RoleOption{Pos: loc(d.Location), Name: name}
		switch a := d.Arg.GetNode().(type) {
		case nil:
			// PASSWORD NULL
		case *pg.Node_Boolean:
			o.Bool = a.Boolean.Boolval
		case *pg.Node_Integer:
			o.Int = int64(a.Integer.Ival)
		case *pg.Node_String_:
			s := a.String_.Sval
			o.Str = &s
		case *pg.Node_List:
			for _, item := range a.List.Items {
				r, err := c.roleSpec(item.GetRoleSpec())
				if err != nil {
					return nil, err
				}
				o.Roles = append(o.Roles, r)
			}
		default:
			return nil, c.unsupported(o.Pos, "role option %s with %s is not supported", name, nodeName(d.Arg))
		}
		out = append(out, o)
	}
	return out, nil
}

func (c *converter) grantStmt(s *pg.GrantStmt) (Statement, error) {
	g := &Grant{Pos: -1, Revoke: !s.IsGrant, GrantOption: s.GrantOption, Cascade: s.Behavior == pg.DropBehavior_DROP_CASCADE}
	for _, n := range s.Privileges {
		ap := n.GetAccessPriv()
		if ap == nil {
			return nil, c.unsupported(nodeLocation(n), "unexpected %s in a privilege list", nodeName(n))
		}
		cols, err := c.strs(ap.Cols)
		if err != nil {
			return nil, err
		}
		if ap.PrivName == "" {
			// ALL PRIVILEGES (a), a column list on ALL.
			if len(cols) > 0 {
				return nil, c.unsupported(-1, "column privileges are not supported")
			}
			continue
		}
		g.Privileges = append(g.Privileges, Privilege{Name: strings.ToLower(ap.PrivName), Columns: cols})
	}
	switch {
	case s.Targtype == pg.GrantTargetType_ACL_TARGET_ALL_IN_SCHEMA && s.Objtype == pg.ObjectType_OBJECT_TABLE:
		g.Target = GrantOnAllTablesSchema
	case s.Targtype != pg.GrantTargetType_ACL_TARGET_OBJECT:
		return nil, c.unsupported(-1, "GRANT and REVOKE on %s are not supported", strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(s.Targtype.String(), "ACL_TARGET_"), "_", " ")))
	case s.Objtype == pg.ObjectType_OBJECT_TABLE:
		g.Target = GrantOnTables
	case s.Objtype == pg.ObjectType_OBJECT_SCHEMA:
		g.Target = GrantOnSchema
	case s.Objtype == pg.ObjectType_OBJECT_DATABASE:
		g.Target = GrantOnDatabase
	default:
		return nil, c.unsupported(-1, "GRANT and REVOKE on %s are not supported", strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(s.Objtype.String(), "OBJECT_"), "_", " ")))
	}
	for _, n := range s.Objects {
		switch v := n.Node.(type) {
		case *pg.Node_RangeVar:
			r := v.RangeVar
			g.Tables = append(g.Tables, ObjectName{Pos: loc(r.Location), Catalog: r.Catalogname, Schema: r.Schemaname, Name: r.Relname})
		case *pg.Node_String_:
			g.Names = append(g.Names, v.String_.Sval)
		default:
			return nil, c.unsupported(nodeLocation(n), "unexpected %s in a GRANT object list", nodeName(n))
		}
	}
	for _, n := range s.Grantees {
		r, err := c.roleSpec(n.GetRoleSpec())
		if err != nil {
			return nil, err
		}
		g.Grantees = append(g.Grantees, r)
	}
	if s.Grantor != nil {
		return nil, c.unsupported(loc(s.Grantor.Location), "GRANTED BY is not supported")
	}
	return g, nil
}

func (c *converter) grantRoleStmt(s *pg.GrantRoleStmt) (Statement, error) {
	g := &GrantRole{Pos: -1, Revoke: !s.IsGrant}
	for _, n := range s.GrantedRoles {
		ap := n.GetAccessPriv()
		if ap == nil || len(ap.Cols) > 0 {
			return nil, c.unsupported(nodeLocation(n), "unexpected %s in a role list", nodeName(n))
		}
		g.Roles = append(g.Roles, ap.PrivName)
	}
	for _, n := range s.GranteeRoles {
		r, err := c.roleSpec(n.GetRoleSpec())
		if err != nil {
			return nil, err
		}
		g.Grantees = append(g.Grantees, r)
	}
	for _, n := range s.Opt {
		d := n.GetDefElem()
		if d == nil {
			continue
		}
		switch d.Defname {
		case "admin":
			g.AdminOption = true
			if b := d.Arg.GetBoolean(); b != nil {
				g.AdminOption = b.Boolval
			}
		default:
			return nil, c.unsupported(loc(d.Location), "GRANT role option %q is not supported", d.Defname)
		}
	}
	if s.Grantor != nil {
		return nil, c.unsupported(loc(s.Grantor.Location), "GRANTED BY is not supported")
	}
	return g, nil
}

func (c *converter) roleSpecs(nodes []*pg.Node) ([]RoleSpec, error) {
	var out []RoleSpec
	for _, n := range nodes {
		r, err := c.roleSpec(n.GetRoleSpec())
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// isSetOptions says that every command of a is SET (...) or RESET (...).
func isSetOptions(a *pg.AlterTableStmt) bool {
	for _, cmd := range a.Cmds {
		switch cmd.GetAlterTableCmd().GetSubtype() {
		case pg.AlterTableType_AT_SetRelOptions, pg.AlterTableType_AT_ResetRelOptions:
		default:
			return false
		}
	}
	return len(a.Cmds) > 0
}

func (c *converter) alterTableOptions(a *pg.AlterTableStmt) (Statement, error) {
	if a.Objtype != pg.ObjectType_OBJECT_TABLE {
		return nil, c.unsupported(-1, "ALTER %s ... SET (...) is not supported", strings.ReplaceAll(strings.TrimPrefix(a.Objtype.String(), "OBJECT_"), "_", " "))
	}
	r := a.Relation
	at := &AlterTableOptions{Pos: -1, Name: ObjectName{Pos: loc(r.Location), Catalog: r.Catalogname, Schema: r.Schemaname, Name: r.Relname}}
	for _, cmd := range a.Cmds {
		ac := cmd.GetAlterTableCmd()
		opts, err := c.defElems(ac.GetDef().GetList().GetItems())
		if err != nil {
			return nil, err
		}
		if ac.GetSubtype() == pg.AlterTableType_AT_SetRelOptions {
			at.Set = append(at.Set, opts...)
		} else {
			at.Reset = append(at.Reset, opts...)
		}
	}
	return at, nil
}

func (c *converter) alterOwner(a *pg.AlterTableStmt) (Statement, error) {
	ao := &AlterOwner{Pos: -1}
	switch a.Objtype {
	case pg.ObjectType_OBJECT_TABLE:
		ao.Kind = ObjTable
	case pg.ObjectType_OBJECT_VIEW:
		ao.Kind = ObjView
	case pg.ObjectType_OBJECT_MATVIEW:
		ao.Kind = ObjMaterializedView
	default:
		return nil, c.unsupported(-1, "ALTER %s ... OWNER TO is not supported", strings.ReplaceAll(strings.TrimPrefix(a.Objtype.String(), "OBJECT_"), "_", " "))
	}
	r := a.Relation
	ao.Name = ObjectName{Pos: loc(r.Location), Catalog: r.Catalogname, Schema: r.Schemaname, Name: r.Relname}
	owner, err := c.roleSpec(a.Cmds[0].GetAlterTableCmd().GetNewowner())
	if err != nil {
		return nil, err
	}
	ao.Owner = owner
	return ao, nil
}
