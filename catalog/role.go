package catalog

import (
	"encoding/json"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/kappa-db/kappa/pgerr"
	"github.com/kappa-db/kappa/storage"
)

// BootstrapRoleID is the id (pg_authid oid) of the bootstrap superuser, as
// in PostgreSQL.
const BootstrapRoleID = 10

// BootstrapRole is the name of the superuser every database starts with.
const BootstrapRole = "kappa"

// PublicRoleID stands for PUBLIC (every role) in an ACL, as in PostgreSQL's
// aclitem.
const PublicRoleID = 0

// Role is a role: a user when it can log in, a group otherwise. Role records
// are immutable once stored; changes store a modified copy.
type Role struct {
	ID          uint64 `json:"id"`
	Name        string `json:"name"`
	Superuser   bool   `json:"superuser,omitempty"`
	CreateDB    bool   `json:"createdb,omitempty"`
	CreateRole  bool   `json:"createrole,omitempty"`
	Inherit     bool   `json:"inherit,omitempty"`
	Login       bool   `json:"login,omitempty"`
	Replication bool   `json:"replication,omitempty"`
	BypassRLS   bool   `json:"bypassrls,omitempty"`
	// ConnLimit is the role's CONNECTION LIMIT; -1 for none.
	ConnLimit int `json:"connlimit"`
	// SCRAM is the role's password as a SCRAM-SHA-256 verifier in
	// PostgreSQL's pg_authid format
	// ("SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>"); the
	// password itself is never stored.
	SCRAM string `json:"scram,omitempty"`
	// MD5 is "md5" + md5(password + name) in hex, kept only when the
	// password was set with password_encryption = md5 or given already
	// hashed that way.
	MD5 string `json:"md5,omitempty"`
	// ValidUntil is when the password stops being valid (nil: never).
	ValidUntil *time.Time `json:"valid_until,omitempty"`
	// MemberOf lists the roles this role was granted (GRANT role TO this).
	MemberOf []uint64  `json:"member_of,omitempty"`
	Created  time.Time `json:"created"`
}

// HasPassword reports whether the role has a password set.
func (r *Role) HasPassword() bool { return r.SCRAM != "" || r.MD5 != "" }

// Privileges is a set of privileges, one bit each.
type Privileges uint16

// Privileges, in the order PostgreSQL's aclitem prints them.
const (
	PrivInsert     Privileges = 1 << iota // a
	PrivSelect                            // r
	PrivUpdate                            // w
	PrivDelete                            // d
	PrivTruncate                          // D
	PrivReferences                        // x
	PrivTrigger                           // t
	PrivCreate                            // C
	PrivConnect                           // c
	PrivTemporary                         // T
	PrivUsage                             // U
)

// aclChars are the aclitem letters of the privileges, bit by bit.
const aclChars = "arwdDxtCcTU"

var privNames = []string{"INSERT", "SELECT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER", "CREATE", "CONNECT", "TEMPORARY", "USAGE"}

// Privileges valid on each kind of object (PostgreSQL's ACL_ALL_RIGHTS_*).
const (
	AllOnRelation Privileges = PrivInsert | PrivSelect | PrivUpdate | PrivDelete | PrivTruncate | PrivReferences | PrivTrigger
	AllOnSchema   Privileges = PrivCreate | PrivUsage
	AllOnDatabase Privileges = PrivCreate | PrivConnect | PrivTemporary
)

// PrivilegeByName returns the privilege a GRANT names ("select", "temp").
func PrivilegeByName(name string) (Privileges, bool) {
	name = strings.ToUpper(name)
	if name == "TEMP" {
		name = "TEMPORARY"
	}
	i := slices.Index(privNames, name)
	if i < 0 {
		return 0, false
	}
	return 1 << i, true
}

// String lists the privileges in aclitem letters ("arwd").
func (p Privileges) String() string {
	var b strings.Builder
	for i := range aclChars {
		if p&(1<<i) != 0 {
			b.WriteByte(aclChars[i])
		}
	}
	return b.String()
}

// Names lists the privileges by name ("SELECT", "INSERT"), in aclitem order.
func (p Privileges) Names() []string {
	var out []string
	for i, n := range privNames {
		if p&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	return out
}

// ACLItem is one entry of an access control list: what Grantee (or PUBLIC,
// PublicRoleID) may do, granted by Grantor.
type ACLItem struct {
	Grantee uint64     `json:"grantee"`
	Grantor uint64     `json:"grantor"`
	Privs   Privileges `json:"privs"`
}

// Format renders the item as PostgreSQL's aclitem text
// ("alice=arwd/kappa", "=r/kappa" for PUBLIC); name turns role ids into
// names.
func (a ACLItem) Format(name func(id uint64) string) string {
	grantee := ""
	if a.Grantee != PublicRoleID {
		grantee = name(a.Grantee)
	}
	return grantee + "=" + a.Privs.String() + "/" + name(a.Grantor)
}

// ACL is an access control list. A nil ACL on an object means the default:
// its owner may do everything and nobody else anything.
type ACL []ACLItem

// Granted returns the privileges the ACL gives to any of roles, or to PUBLIC.
func (acl ACL) Granted(roles []uint64) Privileges {
	var p Privileges
	for _, a := range acl {
		if a.Grantee == PublicRoleID || slices.Contains(roles, a.Grantee) {
			p |= a.Privs
		}
	}
	return p
}

// Grant returns a copy of acl with privs added for grantee (from grantor).
func (acl ACL) Grant(grantee, grantor uint64, privs Privileges) ACL {
	out := slices.Clone(acl)
	for i, a := range out {
		if a.Grantee == grantee && a.Grantor == grantor {
			out[i].Privs |= privs
			return out
		}
	}
	return append(out, ACLItem{Grantee: grantee, Grantor: grantor, Privs: privs})
}

// Revoke returns a copy of acl with privs removed from grantee (whoever
// granted them) and empty items dropped. The result is non-nil: an ACL that
// was changed is no longer the default.
func (acl ACL) Revoke(grantee uint64, privs Privileges) ACL {
	out := make(ACL, 0, len(acl))
	for _, a := range acl {
		if a.Grantee == grantee {
			a.Privs &^= privs
			if a.Privs == 0 {
				continue
			}
		}
		out = append(out, a)
	}
	return out
}

// Mentions reports whether role id appears in the ACL as grantee or grantor.
func (acl ACL) Mentions(id uint64) bool {
	for _, a := range acl {
		if a.Grantee == id || a.Grantor == id {
			return true
		}
	}
	return false
}

// DatabaseACL holds the privileges on the database itself and on its one
// schema, public.
type DatabaseACL struct {
	Database ACL `json:"database"`
	Schema   ACL `json:"schema"`
}

// defaultDatabaseACL is PostgreSQL 15's: PUBLIC may connect to the database
// and create temporary tables, and use (not create in) schema public.
func defaultDatabaseACL() DatabaseACL {
	return DatabaseACL{
		Database: ACL{{Grantee: PublicRoleID, Grantor: BootstrapRoleID, Privs: PrivConnect | PrivTemporary}},
		Schema:   ACL{{Grantee: PublicRoleID, Grantor: BootstrapRoleID, Privs: PrivUsage}},
	}
}

var databaseACLKey = storage.MetaKey("database_acl")

// OwnerID is the role that owns the object; objects from before roles
// existed belong to the bootstrap superuser.
func (o *Object) OwnerID() uint64 {
	if o.Owner == 0 {
		return BootstrapRoleID
	}
	return o.Owner
}

// loadRoles reads the role records and the database ACL, creating the
// bootstrap superuser and the default ACL on a database that has none.
func (c *Catalog) loadRoles() error {
	c.mu.roles = map[uint64]*Role{}
	c.mu.roleNames = map[string]*Role{}
	lo, hi := storage.RoleSpan()
	err := c.db.Scan(lo, hi, false, func(_, val []byte) (bool, error) {
		var r Role
		if err := json.Unmarshal(val, &r); err != nil {
			return false, pgerr.Wrap(err, pgerr.DataCorrupted, "decoding role record")
		}
		c.mu.roles[r.ID] = &r
		c.mu.roleNames[r.Name] = &r
		return true, nil
	})
	if err != nil {
		return err
	}
	c.mu.dbACL = defaultDatabaseACL()
	if v, ok, err := c.db.Get(databaseACLKey); err != nil {
		return err
	} else if ok {
		if err := json.Unmarshal(v, &c.mu.dbACL); err != nil {
			return pgerr.Wrap(err, pgerr.DataCorrupted, "decoding database ACL")
		}
	}
	if _, ok := c.mu.roles[BootstrapRoleID]; ok {
		return nil
	}
	boot := &Role{ID: BootstrapRoleID, Name: BootstrapRole, Superuser: true, CreateDB: true, CreateRole: true,
		Inherit: true, Login: true, Replication: true, BypassRLS: true, ConnLimit: -1, Created: time.Now().UTC()}
	return c.putRolesLocked([]*Role{boot}, nil)
}

// putRolesLocked stores roles (new or changed) and deletes the roles in
// drop, in one synced batch, then publishes the change.
func (c *Catalog) putRolesLocked(put []*Role, drop []*Role) error {
	b := c.db.NewBatch()
	defer b.Close()
	for _, r := range put {
		rec, err := json.Marshal(r)
		if err != nil {
			return pgerr.Wrap(err, pgerr.InternalError, "encoding role record")
		}
		if err := b.Set(storage.RoleKey(r.ID), rec); err != nil {
			return err
		}
	}
	for _, r := range drop {
		if err := b.Delete(storage.RoleKey(r.ID)); err != nil {
			return err
		}
	}
	if err := b.Commit(true); err != nil {
		return err
	}
	for _, r := range drop {
		delete(c.mu.roles, r.ID)
		if cur, ok := c.mu.roleNames[r.Name]; ok && cur.ID == r.ID {
			delete(c.mu.roleNames, r.Name)
		}
	}
	for _, r := range put {
		if old, ok := c.mu.roles[r.ID]; ok && old.Name != r.Name {
			delete(c.mu.roleNames, old.Name)
		}
		c.mu.roles[r.ID] = r
		c.mu.roleNames[r.Name] = r
	}
	c.mu.version++
	return nil
}

// Roles returns every role in id order. The roles must not be modified.
func (c *Catalog) Roles() []*Role {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]*Role, 0, len(c.mu.roles))
	for _, r := range c.mu.roles {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Role finds a role by name.
func (c *Catalog) Role(name string) (*Role, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	r, ok := c.mu.roleNames[name]
	return r, ok
}

// RoleByID finds a role by id.
func (c *Catalog) RoleByID(id uint64) (*Role, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	r, ok := c.mu.roles[id]
	return r, ok
}

// RoleName returns the name of role id, or PUBLIC's "" for PublicRoleID, or
// a placeholder for a role that no longer exists.
func (c *Catalog) RoleName(id uint64) string {
	if id == PublicRoleID {
		return ""
	}
	if r, ok := c.RoleByID(id); ok {
		return r.Name
	}
	return "unknown (OID=" + uitoa(id) + ")"
}

func uitoa(v uint64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			return string(b[i:])
		}
	}
}

// CreateRole stores a new role, giving it a fresh id.
func (c *Catalog) CreateRole(r *Role) error {
	id, err := c.ReserveID()
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.mu.roleNames[r.Name]; ok {
		return pgerr.New(pgerr.DuplicateObject, "role %q already exists", r.Name)
	}
	r.ID = id
	return c.putRolesLocked([]*Role{r}, nil)
}

// UpdateRoles stores changed copies of existing roles (same ids).
func (c *Catalog) UpdateRoles(rs ...*Role) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range rs {
		if _, ok := c.mu.roles[r.ID]; !ok {
			return pgerr.New(pgerr.UndefinedObject, "role %q does not exist", r.Name)
		}
	}
	return c.putRolesLocked(rs, nil)
}

// DropRoles deletes roles (the caller has checked that nothing depends on
// them) and removes them from every other role's memberships, in one batch.
func (c *Catalog) DropRoles(rs []*Role) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	gone := map[uint64]bool{}
	for _, r := range rs {
		gone[r.ID] = true
	}
	var changed []*Role
	for _, r := range c.mu.roles {
		if gone[r.ID] || !slices.ContainsFunc(r.MemberOf, func(id uint64) bool { return gone[id] }) {
			continue
		}
		cp := *r
		cp.MemberOf = slices.DeleteFunc(slices.Clone(r.MemberOf), func(id uint64) bool { return gone[id] })
		changed = append(changed, &cp)
	}
	return c.putRolesLocked(changed, rs)
}

// DatabaseACL returns the privileges on the database and on schema public.
func (c *Catalog) DatabaseACL() DatabaseACL {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.mu.dbACL
}

// SetDatabaseACL stores the privileges on the database and schema public.
func (c *Catalog) SetDatabaseACL(acl DatabaseACL) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	rec, err := json.Marshal(acl)
	if err != nil {
		return pgerr.Wrap(err, pgerr.InternalError, "encoding database ACL")
	}
	if err := c.commit(func(b *storage.Batch) error { return b.Set(databaseACLKey, rec) }, nil); err != nil {
		return err
	}
	c.mu.dbACL = acl
	c.mu.version++
	return nil
}

// SetACLs replaces the ACLs of objects (a GRANT or REVOKE on several
// objects) in one synced batch. acls[i] becomes objs[i]'s ACL.
func (c *Catalog) SetACLs(objs []*Object, acls []ACL) error {
	updated := make([]*Object, len(objs))
	for i, o := range objs {
		cp := *o
		cp.ACL = acls[i]
		updated[i] = &cp
	}
	return c.UpdateObjects(updated)
}

// SetOwner gives objects to role owner (ALTER ... OWNER TO, REASSIGN
// OWNED) in one synced batch. In their ACLs the old owner's entries become
// the new owner's, as PostgreSQL's aclnewowner does.
func (c *Catalog) SetOwner(objs []*Object, owner uint64) error {
	updated := make([]*Object, len(objs))
	for i, o := range objs {
		cp := *o
		old := o.OwnerID()
		cp.Owner = owner
		if o.ACL != nil {
			cp.ACL = make(ACL, 0, len(o.ACL))
			for _, a := range o.ACL {
				if a.Grantee == old {
					a.Grantee = owner
				}
				if a.Grantor == old {
					a.Grantor = owner
				}
				if i := slices.IndexFunc(cp.ACL, func(b ACLItem) bool { return b.Grantee == a.Grantee && b.Grantor == a.Grantor }); i >= 0 {
					cp.ACL[i].Privs |= a.Privs
					continue
				}
				cp.ACL = append(cp.ACL, a)
			}
		}
		updated[i] = &cp
	}
	return c.UpdateObjects(updated)
}

// UpdateObjects stores changed copies of existing objects (same ids and
// names) in one synced batch.
func (c *Catalog) UpdateObjects(updated []*Object) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	err := c.commit(func(b *storage.Batch) error {
		for _, o := range updated {
			rec, err := json.Marshal(o)
			if err != nil {
				return pgerr.Wrap(err, pgerr.InternalError, "encoding catalog record")
			}
			if err := b.Set(storage.CatalogKey(o.ID), rec); err != nil {
				return err
			}
		}
		return nil
	}, nil)
	if err != nil {
		return err
	}
	for _, o := range updated {
		c.mu.byID[o.ID] = o
		if c.mu.byName[o.Name] != nil && c.mu.byName[o.Name].ID == o.ID {
			c.mu.byName[o.Name] = o
		}
	}
	c.mu.version++
	return nil
}

// RoleSet is a role and every role whose privileges it has.
type RoleSet struct {
	// IDs holds the role first, then the roles it inherits from.
	IDs []uint64
	// Superuser says the role itself is a superuser (not inherited).
	Superuser bool
}

// RolesOf returns role id and the roles whose privileges it has: those it is
// a member of, transitively through roles that inherit (PostgreSQL 15's
// rule). A role that does not exist has no privileges.
func (c *Catalog) RolesOf(id uint64) RoleSet {
	c.mu.RLock()
	defer c.mu.RUnlock()
	r, ok := c.mu.roles[id]
	if !ok {
		return RoleSet{}
	}
	rs := RoleSet{IDs: []uint64{id}, Superuser: r.Superuser}
	for i := 0; i < len(rs.IDs); i++ {
		x, ok := c.mu.roles[rs.IDs[i]]
		if !ok || !x.Inherit {
			continue
		}
		for _, m := range x.MemberOf {
			if !slices.Contains(rs.IDs, m) {
				rs.IDs = append(rs.IDs, m)
			}
		}
	}
	return rs
}

// IsMember reports whether role id is role group or a member of it,
// directly or not, whatever INHERIT says (what SET ROLE and
// pg_has_role(..., 'MEMBER') ask).
func (c *Catalog) IsMember(id, group uint64) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	seen := []uint64{id}
	for i := 0; i < len(seen); i++ {
		if seen[i] == group {
			return true
		}
		if x, ok := c.mu.roles[seen[i]]; ok {
			for _, m := range x.MemberOf {
				if !slices.Contains(seen, m) {
					seen = append(seen, m)
				}
			}
		}
	}
	return false
}

// Owns reports whether rs may act as o's owner.
func (rs RoleSet) Owns(o *Object) bool {
	return rs.Superuser || slices.Contains(rs.IDs, o.OwnerID())
}

// Has reports whether rs holds every privilege of want on o. (Whether a plain
// view's owner may read what the view reads is a separate question, asked
// when the view is used.)
func (rs RoleSet) Has(o *Object, want Privileges) bool {
	return rs.Owns(o) || o.ACL.Granted(rs.IDs)&want == want
}

// HasPrivilege reports whether role id holds want on o (has_table_privilege).
func (c *Catalog) HasPrivilege(id uint64, o *Object, want Privileges) bool {
	return c.RolesOf(id).Has(o, want)
}

// HasSchemaPrivilege reports whether role id holds want on schema public
// (has_schema_privilege); schema public belongs to the bootstrap superuser.
func (c *Catalog) HasSchemaPrivilege(id uint64, want Privileges) bool {
	rs := c.RolesOf(id)
	return rs.Superuser || slices.Contains(rs.IDs, BootstrapRoleID) || c.DatabaseACL().Schema.Granted(rs.IDs)&want == want
}

// HasDatabasePrivilege reports whether role id holds want on the database
// (has_database_privilege).
func (c *Catalog) HasDatabasePrivilege(id uint64, want Privileges) bool {
	rs := c.RolesOf(id)
	return rs.Superuser || slices.Contains(rs.IDs, BootstrapRoleID) || c.DatabaseACL().Database.Granted(rs.IDs)&want == want
}
