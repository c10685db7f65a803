package catalog

import (
	"encoding/binary"
	"encoding/json"
	"sort"
	"sync"
	"time"

	"github.com/kappa-db/kappa/pgerr"
	"github.com/kappa-db/kappa/storage"
	"github.com/kappa-db/kappa/types"
)

// Kind is the kind of a catalog object.
type Kind uint8

const (
	KindTable Kind = iota + 1
	KindView
	KindMaterializedView
	KindSource
)

func (k Kind) String() string {
	switch k {
	case KindTable:
		return "table"
	case KindView:
		return "view"
	case KindMaterializedView:
		return "materialized view"
	case KindSource:
		return "source"
	}
	return "object"
}

// Column is a column of a relation.
type Column struct {
	Name    string     `json:"name"`
	Type    types.Type `json:"type"`
	NotNull bool       `json:"not_null,omitempty"`
	// HasDefault says the column has a DEFAULT expression; its text is in
	// the table's CreateSQL (the planner binds it from there).
	HasDefault bool `json:"has_default,omitempty"`
}

// Object is one catalog object.
type Object struct {
	ID      uint64    `json:"id"`
	Kind    Kind      `json:"kind"`
	Name    string    `json:"name"`
	Columns []Column  `json:"columns"`
	Created time.Time `json:"created"`
	// PrimaryKey holds the primary key's column indexes (tables); empty
	// for a table keyed by a hidden row id.
	PrimaryKey []int `json:"primary_key,omitempty"`
	// CreateSQL is the statement that created the object.
	CreateSQL string `json:"create_sql"`
	// Query is the defining query text of a view or materialized view.
	Query string `json:"query,omitempty"`
	// DependsOn lists the objects this one reads.
	DependsOn []uint64 `json:"depends_on,omitempty"`
	// KeyCols and Unique describe how a materialized view's rows are
	// keyed in storage (see exec.ViewSink).
	KeyCols []int `json:"key_cols,omitempty"`
	Unique  bool  `json:"unique,omitempty"`
	// AppendOnly views key their rows by a row id (exec.ViewSink).
	AppendOnly bool `json:"append_only,omitempty"`
	// Sources are the tables whose logs (and the sources whose feeds) a
	// materialized view reads.
	Sources []uint64 `json:"sources,omitempty"`
	// Connector and Options configure a source (keys lowercased, without
	// connector).
	Connector string            `json:"connector,omitempty"`
	Options   map[string]string `json:"options,omitempty"`
	// Owner is the id of the role that owns the object; 0 (objects
	// created before roles existed) is the bootstrap superuser: use OwnerID.
	Owner uint64 `json:"owner,omitempty"`
	// ACL holds the privileges granted on the object (nil: only the owner's).
	ACL ACL `json:"acl,omitempty"`
	// EmitOnWindowClose is a materialized view's EMIT ON WINDOW CLOSE.
	EmitOnWindowClose bool `json:"emit_on_window_close,omitempty"`
	// Watermark is a source's or append-only table's WATERMARK FOR.
	Watermark *Watermark `json:"watermark,omitempty"`
	// PlanHash fingerprints the dataflow plan a materialized view's stored
	// state was built for (engine: the plan's EXPLAIN and
	// exec.StateVersion). Empty for views created before fingerprints.
	PlanHash string `json:"plan_hash,omitempty"`
	// JoinState is the layout of a materialized view's join state
	// (planner.JoinStateVersion when it was created; 0 before versions):
	// a restart plans the view for the layout its state has.
	JoinState int `json:"join_state,omitempty"`
}

// Watermark is WATERMARK FOR column AS column - delay: the event-time
// column (an index into Columns) and the delay in µs.
type Watermark struct {
	Column int   `json:"column"`
	Delay  int64 `json:"delay_us"`
}

// Types returns the object's column types.
func (o *Object) Types() []types.Type {
	ts := make([]types.Type, len(o.Columns))
	for i, c := range o.Columns {
		ts[i] = c.Type
	}
	return ts
}

// ColumnIndex returns the index of the named column, or -1.
func (o *Object) ColumnIndex(name string) int {
	for i, c := range o.Columns {
		if c.Name == name {
			return i
		}
	}
	return -1
}

// FirstUserID is the first id given to user objects; lower ids are kept for
// built-in relations.
const FirstUserID = 1000

// Catalog is the set of objects, in memory and in storage.
type Catalog struct {
	db *storage.DB
	mu struct {
		sync.RWMutex
		byID   map[uint64]*Object
		byName map[string]*Object
		nextID uint64
		// version counts changes, so cached plans know when to re-plan.
		version uint64
		// roles by id and name, and the privileges on the database and
		// schema public (role.go).
		roles     map[uint64]*Role
		roleNames map[string]*Role
		dbACL     DatabaseACL
	}
}

// Version increases with every change to the catalog.
func (c *Catalog) Version() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.mu.version
}

var nextIDKey = storage.MetaKey("next_id")

// Open loads the catalog from db.
func Open(db *storage.DB) (*Catalog, error) {
	c := &Catalog{db: db}
	c.mu.byID = map[uint64]*Object{}
	c.mu.byName = map[string]*Object{}
	c.mu.nextID = FirstUserID
	if v, ok, err := db.Get(nextIDKey); err != nil {
		return nil, err
	} else if ok {
		c.mu.nextID = binary.BigEndian.Uint64(v)
	}
	lo, hi := storage.CatalogSpan()
	err := db.Scan(lo, hi, false, func(_, val []byte) (bool, error) {
		var o Object
		if err := json.Unmarshal(val, &o); err != nil {
			return false, pgerr.Wrap(err, pgerr.DataCorrupted, "decoding catalog record")
		}
		c.mu.byID[o.ID] = &o
		c.mu.byName[o.Name] = &o
		return true, nil
	})
	if err != nil {
		return nil, err
	}
	if err := c.loadRoles(); err != nil {
		return nil, err
	}
	return c, nil
}

// Lookup finds a relation by name.
func (c *Catalog) Lookup(name string) (*Object, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	o, ok := c.mu.byName[name]
	return o, ok
}

// Get finds an object by id.
func (c *Catalog) Get(id uint64) (*Object, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	o, ok := c.mu.byID[id]
	return o, ok
}

// All returns every object in id order (creation order).
func (c *Catalog) All() []*Object {
	c.mu.RLock()
	defer c.mu.RUnlock()
	out := make([]*Object, 0, len(c.mu.byID))
	for _, o := range c.mu.byID {
		out = append(out, o)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Dependents returns the objects that depend on id directly.
func (c *Catalog) Dependents(id uint64) []*Object {
	var out []*Object
	for _, o := range c.All() {
		for _, d := range o.DependsOn {
			if d == id {
				out = append(out, o)
				break
			}
		}
	}
	return out
}

// ReserveID hands out a fresh object id. Ids are never reused; an id
// reserved by a statement that then fails is simply skipped.
func (c *Catalog) ReserveID() (uint64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	id := c.mu.nextID
	c.mu.nextID++
	b := c.db.NewBatch()
	defer b.Close()
	if err := b.Set(nextIDKey, binary.BigEndian.AppendUint64(nil, c.mu.nextID)); err != nil {
		return 0, err
	}
	if err := b.Commit(true); err != nil {
		return 0, err
	}
	return id, nil
}

// Create stores a new object. extra may add more writes to the same batch.
func (c *Catalog) Create(o *Object, extra func(*storage.Batch) error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.mu.byName[o.Name]; ok {
		return pgerr.New(pgerr.DuplicateTable, "relation %q already exists", o.Name)
	}
	rec, err := json.Marshal(o)
	if err != nil {
		return pgerr.Wrap(err, pgerr.InternalError, "encoding catalog record")
	}
	err = c.commit(func(b *storage.Batch) error { return b.Set(storage.CatalogKey(o.ID), rec) }, extra)
	if err != nil {
		return err
	}
	c.mu.byID[o.ID] = o
	c.mu.byName[o.Name] = o
	c.mu.version++
	return nil
}

// Drop removes objects (the caller has resolved dependencies). extra adds
// the deletion of their data to the same batch.
func (c *Catalog) Drop(objs []*Object, extra func(*storage.Batch) error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	err := c.commit(func(b *storage.Batch) error {
		for _, o := range objs {
			if err := b.Delete(storage.CatalogKey(o.ID)); err != nil {
				return err
			}
		}
		return nil
	}, extra)
	if err != nil {
		return err
	}
	for _, o := range objs {
		delete(c.mu.byID, o.ID)
		if c.mu.byName[o.Name] == o {
			delete(c.mu.byName, o.Name)
		}
	}
	c.mu.version++
	return nil
}

// Replace swaps old for o (same name) in one synced batch; objects that
// depended on old depend on o afterwards. extra adds writes to the same
// batch (the old object's data, say).
func (c *Catalog) Replace(old, o *Object, extra func(*storage.Batch) error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	var changed []*Object
	for _, d := range c.mu.byID {
		for i, dep := range d.DependsOn {
			if dep == old.ID {
				cp := *d
				cp.DependsOn = append([]uint64(nil), d.DependsOn...)
				cp.DependsOn[i] = o.ID
				changed = append(changed, &cp)
			}
		}
	}
	b := c.db.NewBatch()
	defer b.Close()
	if err := b.Delete(storage.CatalogKey(old.ID)); err != nil {
		return err
	}
	if extra != nil {
		if err := extra(b); err != nil {
			return err
		}
	}
	for _, x := range append(changed, o) {
		rec, err := json.Marshal(x)
		if err != nil {
			return pgerr.Wrap(err, pgerr.InternalError, "encoding catalog record")
		}
		if err := b.Set(storage.CatalogKey(x.ID), rec); err != nil {
			return err
		}
	}
	if err := b.Commit(true); err != nil {
		return err
	}
	delete(c.mu.byID, old.ID)
	for _, x := range append(changed, o) {
		c.mu.byID[x.ID] = x
		c.mu.byName[x.Name] = x
	}
	c.mu.version++
	return nil
}

// commit writes a catalog change and the caller's extra writes in one
// synced batch: a crash leaves the catalog before or after the statement.
func (c *Catalog) commit(change, extra func(*storage.Batch) error) error {
	b := c.db.NewBatch()
	defer b.Close()
	if err := change(b); err != nil {
		return err
	}
	if extra != nil {
		if err := extra(b); err != nil {
			return err
		}
	}
	return b.Commit(true)
}
