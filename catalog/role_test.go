package catalog

import (
	"log/slog"
	"path/filepath"
	"slices"
	"testing"

	"github.com/kappa-db/kappa/storage"
)

func openCatalog(t *testing.T, dir string) (*Catalog, *storage.DB) {
	t.Helper()
	db, err := storage.Open(filepath.Join(dir, "state"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	c, err := Open(db)
	if err != nil {
		t.Fatal(err)
	}
	return c, db
}

// TestRolesPersist: the bootstrap superuser appears once, and roles,
// memberships, ACLs and the database ACL survive a reopen.
func TestRolesPersist(t *testing.T) {
	dir := t.TempDir()
	c, db := openCatalog(t, dir)
	boot, ok := c.RoleByID(BootstrapRoleID)
	if !ok || boot.Name != BootstrapRole || !boot.Superuser || !boot.Login {
		t.Fatalf("bootstrap role: %+v", boot)
	}
	group := &Role{Name: "g", Inherit: true, ConnLimit: -1}
	if err := c.CreateRole(group); err != nil {
		t.Fatal(err)
	}
	user := &Role{Name: "u", Inherit: true, Login: true, ConnLimit: -1, SCRAM: "v", MemberOf: []uint64{group.ID}}
	if err := c.CreateRole(user); err != nil {
		t.Fatal(err)
	}
	if err := c.CreateRole(&Role{Name: "u"}); err == nil {
		t.Error("a second role u was created")
	}
	o := &Object{ID: 2000, Kind: KindTable, Name: "t", Owner: user.ID}
	if err := c.Create(o, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.SetACLs([]*Object{o}, []ACL{ACL(nil).Grant(group.ID, user.ID, PrivSelect)}); err != nil {
		t.Fatal(err)
	}
	acl := c.DatabaseACL()
	acl.Schema = acl.Schema.Grant(user.ID, BootstrapRoleID, PrivCreate)
	if err := c.SetDatabaseACL(acl); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	c, db = openCatalog(t, dir)
	defer db.Close()
	if n := len(c.Roles()); n != 3 {
		t.Errorf("%d roles after reopen, want 3", n)
	}
	u, ok := c.Role("u")
	if !ok || u.SCRAM != "v" || !slices.Equal(u.MemberOf, []uint64{group.ID}) {
		t.Fatalf("u after reopen: %+v", u)
	}
	t2, _ := c.Lookup("t")
	if !c.HasPrivilege(u.ID, t2, AllOnRelation) || !c.HasPrivilege(group.ID, t2, PrivSelect) || c.HasPrivilege(group.ID, t2, PrivInsert) {
		t.Error("privileges on t after reopen are wrong")
	}
	if !c.HasSchemaPrivilege(u.ID, PrivCreate) || c.HasSchemaPrivilege(group.ID, PrivCreate) || !c.HasSchemaPrivilege(group.ID, PrivUsage) {
		t.Error("schema privileges after reopen are wrong")
	}
	if got := t2.ACL[0].Format(c.RoleName); got != "g=r/u" {
		t.Errorf("aclitem %q", got)
	}
	// Dropping the group removes the membership.
	g, _ := c.Role("g")
	if err := c.DropRoles([]*Role{g}); err != nil {
		t.Fatal(err)
	}
	if u, _ := c.Role("u"); len(u.MemberOf) != 0 {
		t.Errorf("u is still a member of %v", u.MemberOf)
	}
}

func TestRolesOfInherit(t *testing.T) {
	c, db := openCatalog(t, t.TempDir())
	defer db.Close()
	a := &Role{Name: "a", Inherit: true}
	b := &Role{Name: "b", Inherit: false}
	for _, r := range []*Role{a, b} {
		if err := c.CreateRole(r); err != nil {
			t.Fatal(err)
		}
	}
	x := &Role{Name: "x", Inherit: true, MemberOf: []uint64{b.ID}}
	noinh := &Role{Name: "y", Inherit: false, MemberOf: []uint64{a.ID}}
	for _, r := range []*Role{x, noinh} {
		if err := c.CreateRole(r); err != nil {
			t.Fatal(err)
		}
	}
	bb := *b
	bb.MemberOf = []uint64{a.ID}
	if err := c.UpdateRoles(&bb); err != nil {
		t.Fatal(err)
	}
	// x inherits b; b does not inherit a, so x does not have a's privileges.
	if got := c.RolesOf(x.ID).IDs; !slices.Equal(got, []uint64{x.ID, b.ID}) {
		t.Errorf("RolesOf(x) = %v", got)
	}
	if got := c.RolesOf(noinh.ID).IDs; !slices.Equal(got, []uint64{noinh.ID}) {
		t.Errorf("RolesOf(y) = %v", got)
	}
	// Membership (SET ROLE) ignores INHERIT.
	if !c.IsMember(x.ID, a.ID) || !c.IsMember(noinh.ID, a.ID) || c.IsMember(a.ID, x.ID) {
		t.Error("IsMember is wrong")
	}
	acl := ACL(nil).Grant(1, 10, PrivSelect|PrivInsert).Revoke(1, PrivInsert)
	if len(acl) != 1 || acl[0].Privs != PrivSelect || acl.Revoke(1, PrivSelect) == nil || len(acl.Revoke(1, PrivSelect)) != 0 {
		t.Errorf("Grant/Revoke: %v", acl)
	}
}
