package planner

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/kappa-db/kappa/catalog"
	"github.com/kappa-db/kappa/exec"
	"github.com/kappa-db/kappa/expr"
	"github.com/kappa-db/kappa/pgerr"
	"github.com/kappa-db/kappa/sql"
	"github.com/kappa-db/kappa/types"
)

// The system catalogs (pg_catalog, information_schema) are virtual: a
// reference to one is planned as constant rows (exec.Values) computed from
// kappa's catalog when the statement is planned, so they join, filter and
// sort like any relation in the one engine. Their columns and OIDs follow
// PostgreSQL 15 so that psql, pgjdbc and SQLAlchemy find what they expect.
// A materialized view cannot read them (there is no log of catalog changes
// to maintain it from).
//
// User objects get OIDs from their catalog ids (see relOID): a relation, its
// primary key index, the index's constraint and the relation's row type.

// Session is what the system catalogs and functions show of the session a
// statement is planned in. The zero value is a session of user "kappa" in
// database "kappa".
type Session struct {
	User, Database  string
	ApplicationName string
	// Settings are the session's settings (name as SHOW prints it, value).
	Settings [][2]string
	// Placeholders are the placeholder settings (my.x) the session has
	// set: current_setting reads them, pg_settings leaves them out.
	Placeholders [][2]string
	PID          int32
	Started      time.Time
	// Query is the statement being planned (pg_stat_activity.query).
	Query string
	// Cursors are the session's open cursors (pg_cursors).
	Cursors []SessionCursor
	// Prepared are the session's prepared statements
	// (pg_prepared_statements).
	Prepared []SessionPrepared
}

// SessionCursor is one row of pg_cursors.
type SessionCursor struct {
	Name, Statement              string
	Holdable, Binary, Scrollable bool
	Created                      time.Time
}

// SessionPrepared is one row of pg_prepared_statements.
type SessionPrepared struct {
	Name, Statement string
	Prepared        time.Time
	ParamTypes      []uint32
	FromSQL         bool
}

func (s *Session) user() string {
	if s == nil || s.User == "" {
		return "kappa"
	}
	return s.User
}

func (s *Session) database() string {
	if s == nil || s.Database == "" {
		return "kappa"
	}
	return s.Database
}

// searchPath is the session's search_path as current_schemas shows it: the
// schemas that exist, with pg_catalog first when implicit is set and the path
// does not name it.
func (s *Session) searchPath(implicit bool) []string {
	setting := `"$user", public`
	if s != nil {
		for _, kv := range s.Settings {
			if strings.EqualFold(kv[0], "search_path") {
				setting = kv[1]
			}
		}
	}
	var out []string
	for _, item := range strings.Split(setting, ",") {
		item = strings.TrimSpace(item)
		if strings.HasPrefix(item, `"`) && strings.HasSuffix(item, `"`) && len(item) >= 2 {
			item = strings.ReplaceAll(item[1:len(item)-1], `""`, `"`)
		} else {
			item = strings.ToLower(item)
		}
		switch item {
		case "pg_catalog", "public", "information_schema", "pg_toast":
			out = append(out, item)
		}
	}
	if implicit && !slices.Contains(out, "pg_catalog") {
		out = append([]string{"pg_catalog"}, out...)
	}
	return out
}

// Namespace OIDs (PostgreSQL's for pg_catalog and public).
const (
	nspPgCatalog  uint32 = 11
	nspPublic     uint32 = 2200
	nspInfoSchema uint32 = 13000
	// userOID is the bootstrap superuser's OID.
	userOID uint32 = catalog.BootstrapRoleID
	// dbOwnerOID is PostgreSQL 15's pg_database_owner, which owns schema
	// public.
	dbOwnerOID uint32 = 6171
	// dbOID is the database's OID.
	dbOID uint32 = 16383
)

func relOID(id uint64) uint32        { return 16384 + uint32(id-catalog.FirstUserID)*8 }
func indexOID(id uint64) uint32      { return relOID(id) + 1 }
func constraintOID(id uint64) uint32 { return relOID(id) + 2 }
func rowTypeOID(id uint64) uint32    { return relOID(id) + 3 }
func attrdefOID(id uint64, attnum int) uint32 {
	return 0x60000000 + uint32(id-catalog.FirstUserID)*1700 + uint32(attnum)
}

// objectOfOID finds the user object behind an OID; part says which of its
// OIDs it is (0 relation, 1 index, 2 constraint, 3 row type).
func objectOfOID(cat *catalog.Catalog, oid uint32) (o *catalog.Object, part uint32, ok bool) {
	if oid < 16384 || oid >= 0x60000000 {
		return nil, 0, false
	}
	id := uint64((oid-16384)/8) + catalog.FirstUserID
	o, ok = cat.Get(id)
	return o, (oid - 16384) % 8, ok
}

// sysCol is a column of a system relation.
type sysCol struct {
	name string
	typ  types.Type
}

// sysRel is a system relation.
type sysRel struct {
	oid    uint32
	schema string
	name   string
	kind   byte // 'r' table, 'v' view
	cols   []sysCol
	rows   func(env *sysEnv) [][]any
}

// sysEnv is what row generators see: the catalog's objects and the session.
type sysEnv struct {
	objs []*catalog.Object
	cat  *catalog.Catalog
	sess *Session
	p    *Planner
}

var (
	typChar      = types.Type{Kind: types.KindText, OID: types.OidChar, Mod: -1}
	typRegproc   = types.Type{Kind: types.KindOid, OID: types.OidRegproc, Mod: -1}
	typRegtype   = types.Type{Kind: types.KindOid, OID: types.OidRegtype, Mod: -1}
	typTextArr   = types.ArrayOf(types.Text)
	typOidArr    = types.ArrayOf(types.Oid)
	typInt2Arr   = types.ArrayOf(types.Int2)
	sysTypeNames = map[string]types.Type{
		"oid": types.Oid, "name": types.Name, "text": types.Text, "char": typChar, "bool": types.Bool,
		"int2": types.Int2, "int4": types.Int4, "int8": types.Int8, "float4": types.Float4,
		"regproc": typRegproc, "regtype": typRegtype, "text[]": typTextArr, "oid[]": typOidArr,
		"int2[]": typInt2Arr, "timestamptz": types.TimestampTZ, "timestamp": types.Timestamp, "float8": types.Float8, "interval": types.Interval,
	}
)

// cols parses "name type, name type, ...".
func cols(spec string) []sysCol {
	var out []sysCol
	for _, part := range strings.Split(spec, ",") {
		f := strings.Fields(part)
		t, ok := sysTypeNames[f[1]]
		if !ok {
			panic("syscat: unknown type " + f[1])
		}
		out = append(out, sysCol{name: f[0], typ: t})
	}
	return out
}

var (
	sysRels   []*sysRel
	sysByName = map[string]*sysRel{} // "schema.name"
	sysByOID  = map[uint32]*sysRel{}
)

func addSys(r *sysRel) {
	sysRels = append(sysRels, r)
	sysByName[r.schema+"."+r.name] = r
	sysByOID[r.oid] = r
}

// lookupSystem finds a system relation: schema "" searches pg_catalog, as
// PostgreSQL does before the search_path.
func lookupSystem(schema, name string) (*sysRel, bool) {
	if schema == "" {
		schema = "pg_catalog"
	}
	r, ok := sysByName[schema+"."+name]
	return r, ok
}

// toValue converts a Go value of a row generator to a value of type t.
func toValue(x any, t types.Type) types.Value {
	switch v := x.(type) {
	case nil:
		return types.Null
	case types.Value:
		return v
	case bool:
		return types.NewBool(v)
	case string:
		if t.Kind == types.KindArray {
			pv, err := types.ParseText(t, v, nil)
			if err != nil {
				panic(err)
			}
			return pv
		}
		return types.NewText(v)
	case []string:
		a := make([]types.Value, len(v))
		for i, s := range v {
			a[i] = types.NewText(s)
		}
		return types.NewArray(a)
	case []int:
		a := make([]types.Value, len(v))
		for i, n := range v {
			a[i] = types.Value{K: t.Elem, I: int64(n)}
		}
		return types.NewArray(a)
	case []uint32:
		a := make([]types.Value, len(v))
		for i, n := range v {
			a[i] = types.NewOid(n)
		}
		return types.NewArray(a)
	case float64:
		if t.Kind == types.KindFloat4 {
			return types.NewFloat4(v)
		}
		return types.NewFloat8(v)
	case time.Time:
		return types.NewTimestampTZ(types.TimestampFromTime(v))
	}
	var i int64
	switch v := x.(type) {
	case int:
		i = int64(v)
	case int64:
		i = v
	case uint32:
		i = int64(v)
	case int32:
		i = int64(v)
	default:
		panic(fmt.Sprintf("syscat: value %T", x))
	}
	return types.Value{K: t.Kind, I: i}
}

// planSystem plans a reference to a system relation as its rows.
func (b *binder) planSystem(r *sysRel, pos int) (*relation, error) {
	if b.forView {
		return nil, b.errAt(pos, pgerr.FeatureNotSupported, "a materialized view over system catalog %s.%s is not supported", r.schema, r.name)
	}
	if b.volatile != nil {
		*b.volatile = true
	}
	if r.name == "pg_authid" && b.restricted != nil {
		*b.restricted = true
	}
	env := &sysEnv{objs: b.p.Catalog.All(), cat: b.p.Catalog, sess: b.sess, p: b.p}
	ts := make([]types.Type, len(r.cols))
	sc := &scope{}
	for i, c := range r.cols {
		ts[i] = c.typ
		sc.cols = append(sc.cols, column{table: r.name, name: c.name, typ: c.typ})
	}
	var rows [][]expr.Expr
	if r.rows != nil {
		for _, gr := range r.rows(env) {
			row := make([]expr.Expr, len(ts))
			for i, x := range gr {
				row[i] = &expr.Const{V: toValue(x, ts[i]), T: ts[i]}
			}
			rows = append(rows, row)
		}
	}
	return &relation{node: &exec.Values{Rows: rows, Types: ts}, scope: sc}, nil
}

// relkind is a user object's pg_class.relkind.
func relkind(o *catalog.Object) string {
	switch o.Kind {
	case catalog.KindView:
		return "v"
	case catalog.KindMaterializedView:
		return "m"
	}
	return "r"
}

func hasPK(o *catalog.Object) bool { return o.Kind == catalog.KindTable && len(o.PrimaryKey) > 0 }

func pkName(o *catalog.Object) string { return o.Name + "_pkey" }

// pkAttnums are the primary key's column numbers (1-based).
func pkAttnums(o *catalog.Object) []int {
	out := make([]int, len(o.PrimaryKey))
	for i, c := range o.PrimaryKey {
		out[i] = c + 1
	}
	return out
}

func notNull(o *catalog.Object, i int) bool {
	if o.Columns[i].NotNull {
		return true
	}
	if o.Kind == catalog.KindTable {
		for _, c := range o.PrimaryKey {
			if c == i {
				return true
			}
		}
	}
	return false
}

// typeInfo is what pg_type and pg_attribute say about a built-in type.
type typeInfo struct {
	oid      uint32
	name     string
	len      int
	byval    bool
	category string
	typtype  string
	array    uint32
	elem     uint32
	input    string
	output   string
	align    string
	storage  string
	coll     uint32
}

var builtinTypes = []typeInfo{
	{16, "bool", 1, true, "B", "b", 1000, 0, "boolin", "boolout", "c", "p", 0},
	{17, "bytea", -1, false, "U", "b", 1001, 0, "byteain", "byteaout", "i", "x", 0},
	{18, "char", 1, true, "Z", "b", 1002, 0, "charin", "charout", "c", "p", 0},
	{19, "name", 64, false, "S", "b", 1003, 0, "namein", "nameout", "c", "p", 950},
	{20, "int8", 8, true, "N", "b", 1016, 0, "int8in", "int8out", "d", "p", 0},
	{21, "int2", 2, true, "N", "b", 1005, 0, "int2in", "int2out", "s", "p", 0},
	{22, "int2vector", -1, false, "A", "b", 1006, 21, "int2vectorin", "int2vectorout", "i", "p", 0},
	{23, "int4", 4, true, "N", "b", 1007, 0, "int4in", "int4out", "i", "p", 0},
	{24, "regproc", 4, true, "N", "b", 1008, 0, "regprocin", "regprocout", "i", "p", 0},
	{25, "text", -1, false, "S", "b", 1009, 0, "textin", "textout", "i", "x", 100},
	{26, "oid", 4, true, "N", "b", 1028, 0, "oidin", "oidout", "i", "p", 0},
	{28, "xid", 4, true, "U", "b", 1011, 0, "xidin", "xidout", "i", "p", 0},
	{30, "oidvector", -1, false, "A", "b", 1013, 26, "oidvectorin", "oidvectorout", "i", "p", 0},
	{114, "json", -1, false, "U", "b", 199, 0, "json_in", "json_out", "i", "x", 0},
	{194, "pg_node_tree", -1, false, "Z", "b", 0, 0, "pg_node_tree_in", "pg_node_tree_out", "i", "x", 100},
	{700, "float4", 4, true, "N", "b", 1021, 0, "float4in", "float4out", "i", "p", 0},
	{701, "float8", 8, true, "N", "b", 1022, 0, "float8in", "float8out", "d", "p", 0},
	{705, "unknown", -2, false, "X", "p", 0, 0, "unknownin", "unknownout", "c", "p", 0},
	{1033, "aclitem", 16, false, "U", "b", 1034, 0, "aclitemin", "aclitemout", "d", "p", 0},
	{1042, "bpchar", -1, false, "S", "b", 1014, 0, "bpcharin", "bpcharout", "i", "x", 100},
	{1043, "varchar", -1, false, "S", "b", 1015, 0, "varcharin", "varcharout", "i", "x", 100},
	{1082, "date", 4, true, "D", "b", 1182, 0, "date_in", "date_out", "i", "p", 0},
	{1083, "time", 8, true, "D", "b", 1183, 0, "time_in", "time_out", "d", "p", 0},
	{1114, "timestamp", 8, true, "D", "b", 1115, 0, "timestamp_in", "timestamp_out", "d", "p", 0},
	{1184, "timestamptz", 8, true, "D", "b", 1185, 0, "timestamptz_in", "timestamptz_out", "d", "p", 0},
	{1186, "interval", 16, false, "T", "b", 1187, 0, "interval_in", "interval_out", "d", "p", 0},
	{1700, "numeric", -1, false, "N", "b", 1231, 0, "numeric_in", "numeric_out", "i", "m", 0},
	{2205, "regclass", 4, true, "N", "b", 2210, 0, "regclassin", "regclassout", "i", "p", 0},
	{2206, "regtype", 4, true, "N", "b", 2211, 0, "regtypein", "regtypeout", "i", "p", 0},
	{2249, "record", -1, false, "P", "p", 2287, 0, "record_in", "record_out", "d", "x", 0},
	{2276, "any", 4, true, "P", "p", 0, 0, "any_in", "any_out", "i", "p", 0},
	{2277, "anyarray", -1, false, "P", "p", 0, 0, "anyarray_in", "anyarray_out", "d", "x", 0},
	{2278, "void", 4, true, "P", "p", 0, 0, "void_in", "void_out", "i", "p", 0},
	{2950, "uuid", 16, false, "U", "b", 2951, 0, "uuid_in", "uuid_out", "c", "p", 0},
	{3802, "jsonb", -1, false, "U", "b", 3807, 0, "jsonb_in", "jsonb_out", "i", "x", 0},
	{4089, "regnamespace", 4, true, "N", "b", 4090, 0, "regnamespacein", "regnamespaceout", "i", "p", 0},
	{4096, "regrole", 4, true, "N", "b", 4097, 0, "regrolein", "regroleout", "i", "p", 0},
}

// allTypes is builtinTypes plus one array type per element type.
var allTypes, typesByOID = func() ([]typeInfo, map[uint32]typeInfo) {
	out := append([]typeInfo(nil), builtinTypes...)
	for _, t := range builtinTypes {
		if t.array == 0 {
			continue
		}
		align := "i"
		if t.align == "d" {
			align = "d"
		}
		out = append(out, typeInfo{t.array, "_" + t.name, -1, false, "A", "b", 0, t.oid, "array_in", "array_out", align, "x", t.coll})
	}
	m := map[uint32]typeInfo{}
	for _, t := range out {
		m[t.oid] = t
	}
	return out, m
}()

// Function OIDs of pg_proc (PostgreSQL's where kappa lists the function).
var procOIDs = map[string]uint32{
	"boolin": 1242, "boolout": 1243, "byteain": 1244, "byteaout": 31, "charin": 1245, "charout": 33,
	"namein": 34, "nameout": 35, "int2in": 38, "int2out": 39, "int2vectorin": 40, "int2vectorout": 41,
	"int4in": 42, "int4out": 43, "regprocin": 44, "regprocout": 45, "textin": 46, "textout": 47,
	"int8in": 460, "int8out": 461, "oidin": 1798, "oidout": 1799, "oidvectorin": 54, "oidvectorout": 55,
	"float4in": 200, "float4out": 201, "float8in": 214, "float8out": 215, "unknownin": 109, "unknownout": 110,
	"bpcharin": 1044, "bpcharout": 1045, "varcharin": 1046, "varcharout": 1047, "date_in": 1084,
	"date_out": 1085, "time_in": 1143, "time_out": 1144, "timestamp_in": 1312, "timestamp_out": 1313,
	"timestamptz_in": 1150, "timestamptz_out": 1151, "interval_in": 1160, "interval_out": 1161,
	"numeric_in": 1701, "numeric_out": 1702, "regclassin": 2218, "regclassout": 2219, "regtypein": 2220,
	"regtypeout": 2221, "jsonb_in": 3806, "jsonb_out": 3805, "json_in": 321, "json_out": 322,
	"array_in": 750, "array_out": 751, "record_in": 2290, "record_out": 2291, "xidin": 50, "xidout": 51,
	"aclitemin": 1031, "aclitemout": 1032, "pg_node_tree_in": 195, "pg_node_tree_out": 196,
	"any_in": 2294, "any_out": 2295, "anyarray_in": 2296, "anyarray_out": 2297, "void_in": 2298,
	"void_out": 2299, "uuid_in": 2952, "uuid_out": 2953, "regnamespacein": 4084, "regnamespaceout": 4085,
	"regrolein": 4091, "regroleout": 4092, "heap_tableam_handler": 3, "bthandler": 330,
	"hashhandler": 331, "gisthandler": 332, "ginhandler": 333, "spghandler": 334, "brinhandler": 335,
	"array_subscript_handler": 6179, "domain_in": 2597,
}

var procNames = func() map[uint32]string {
	m := map[uint32]string{}
	for n, o := range procOIDs {
		m[o] = n
	}
	return m
}()

func proc(name string) uint32 { return procOIDs[name] }

// sysTypeOID maps a column type to the pg_type OID it is shown with.
func sysTypeOID(t types.Type) uint32 { return t.OID }

func typeLen(oid uint32) int {
	if t, ok := typesByOID[oid]; ok {
		return t.len
	}
	return -1
}

func init() {
	addSys(&sysRel{oid: 2615, schema: "pg_catalog", name: "pg_namespace", kind: 'r',
		cols: cols("oid oid, nspname name, nspowner oid, nspacl text[]"),
		rows: func(env *sysEnv) [][]any {
			return [][]any{
				{nspPgCatalog, "pg_catalog", userOID, nil},
				{nspPublic, "public", dbOwnerOID, nil},
				{nspInfoSchema, "information_schema", userOID, nil},
				{uint32(99), "pg_toast", userOID, nil},
			}
		}})
	addSys(&sysRel{oid: 1259, schema: "pg_catalog", name: "pg_class", kind: 'r',
		cols: cols("oid oid, relname name, relnamespace oid, reltype oid, reloftype oid, relowner oid, relam oid, " +
			"relfilenode oid, reltablespace oid, relpages int4, reltuples float4, relallvisible int4, reltoastrelid oid, " +
			"relhasindex bool, relisshared bool, relpersistence char, relkind char, relnatts int2, relchecks int2, " +
			"relhasrules bool, relhastriggers bool, relhassubclass bool, relrowsecurity bool, relforcerowsecurity bool, " +
			"relispopulated bool, relreplident char, relispartition bool, relrewrite oid, relfrozenxid oid, " +
			"relminmxid oid, relacl text[], reloptions text[], relpartbound text"),
		rows: pgClassRows})
	addSys(&sysRel{oid: 1249, schema: "pg_catalog", name: "pg_attribute", kind: 'r',
		cols: cols("attrelid oid, attname name, atttypid oid, attstattarget int4, attlen int2, attnum int2, " +
			"attndims int4, attcacheoff int4, atttypmod int4, attbyval bool, attalign char, attstorage char, " +
			"attcompression char, attnotnull bool, atthasdef bool, atthasmissing bool, attidentity char, " +
			"attgenerated char, attisdropped bool, attislocal bool, attinhcount int4, attcollation oid, " +
			"attacl text[], attoptions text[], attfdwoptions text[], attmissingval text"),
		rows: pgAttributeRows})
	addSys(&sysRel{oid: 1247, schema: "pg_catalog", name: "pg_type", kind: 'r',
		cols: cols("oid oid, typname name, typnamespace oid, typowner oid, typlen int2, typbyval bool, typtype char, " +
			"typcategory char, typispreferred bool, typisdefined bool, typdelim char, typrelid oid, " +
			"typsubscript regproc, typelem oid, typarray oid, typinput regproc, typoutput regproc, " +
			"typreceive regproc, typsend regproc, typmodin regproc, typmodout regproc, typanalyze regproc, " +
			"typalign char, typstorage char, typnotnull bool, typbasetype oid, typtypmod int4, typndims int4, " +
			"typcollation oid, typdefaultbin text, typdefault text, typacl text[]"),
		rows: pgTypeRows})
	addSys(&sysRel{oid: 2610, schema: "pg_catalog", name: "pg_index", kind: 'r',
		cols: cols("indexrelid oid, indrelid oid, indnatts int2, indnkeyatts int2, indisunique bool, " +
			"indnullsnotdistinct bool, indisprimary bool, indisexclusion bool, indimmediate bool, " +
			"indisclustered bool, indisvalid bool, indcheckxmin bool, indisready bool, indislive bool, " +
			"indisreplident bool, indkey int2[], indcollation oid[], indclass oid[], indoption int2[], " +
			"indexprs text, indpred text"),
		rows: func(env *sysEnv) [][]any {
			var out [][]any
			for _, o := range env.objs {
				if !hasPK(o) {
					continue
				}
				n := len(o.PrimaryKey)
				zeros := make([]int, n)
				coll := make([]uint32, n)
				for i, c := range o.PrimaryKey {
					if o.Columns[c].Type.Kind == types.KindText {
						coll[i] = 100
					}
				}
				out = append(out, []any{indexOID(o.ID), relOID(o.ID), n, n, true, false, true, false, true,
					false, true, false, true, true, false, pkAttnums(o), coll, make([]uint32, n), zeros, nil, nil})
			}
			return out
		}})
	addSys(&sysRel{oid: 2606, schema: "pg_catalog", name: "pg_constraint", kind: 'r',
		cols: cols("oid oid, conname name, connamespace oid, contype char, condeferrable bool, condeferred bool, " +
			"convalidated bool, conrelid oid, contypid oid, conindid oid, conparentid oid, confrelid oid, " +
			"confupdtype char, confdeltype char, confmatchtype char, conislocal bool, coninhcount int4, " +
			"connoinherit bool, conkey int2[], confkey int2[], conpfeqop oid[], conppeqop oid[], conffeqop oid[], " +
			"confdelsetcols int2[], conexclop oid[], conbin text"),
		rows: func(env *sysEnv) [][]any {
			var out [][]any
			for _, o := range env.objs {
				if !hasPK(o) {
					continue
				}
				out = append(out, []any{constraintOID(o.ID), pkName(o), nspPublic, "p", false, false, true,
					relOID(o.ID), uint32(0), indexOID(o.ID), uint32(0), uint32(0), " ", " ", " ", true, 0, true,
					pkAttnums(o), nil, nil, nil, nil, nil, nil, nil})
			}
			return out
		}})
	addSys(&sysRel{oid: 2604, schema: "pg_catalog", name: "pg_attrdef", kind: 'r',
		cols: cols("oid oid, adrelid oid, adnum int2, adbin text"),
		rows: func(env *sysEnv) [][]any {
			var out [][]any
			for _, o := range env.objs {
				defs := columnDefaults(o)
				for i := range o.Columns {
					if d, ok := defs[i]; ok {
						out = append(out, []any{attrdefOID(o.ID, i+1), relOID(o.ID), i + 1, d})
					}
				}
			}
			return out
		}})
	addSys(&sysRel{oid: 2609, schema: "pg_catalog", name: "pg_description", kind: 'r',
		cols: cols("objoid oid, classoid oid, objsubid int4, description text")})
	addSys(&sysRel{oid: 2396, schema: "pg_catalog", name: "pg_shdescription", kind: 'r',
		cols: cols("objoid oid, classoid oid, description text")})
	addSys(&sysRel{oid: 2601, schema: "pg_catalog", name: "pg_am", kind: 'r',
		cols: cols("oid oid, amname name, amhandler regproc, amtype char"),
		rows: func(*sysEnv) [][]any {
			return [][]any{
				{uint32(2), "heap", proc("heap_tableam_handler"), "t"},
				{uint32(403), "btree", proc("bthandler"), "i"},
				{uint32(405), "hash", proc("hashhandler"), "i"},
				{uint32(783), "gist", proc("gisthandler"), "i"},
				{uint32(2742), "gin", proc("ginhandler"), "i"},
				{uint32(4000), "spgist", proc("spghandler"), "i"},
				{uint32(3580), "brin", proc("brinhandler"), "i"},
			}
		}})
	addSys(&sysRel{oid: 1262, schema: "pg_catalog", name: "pg_database", kind: 'r',
		cols: cols("oid oid, datname name, datdba oid, encoding int4, datlocprovider char, datistemplate bool, " +
			"datallowconn bool, datconnlimit int4, datfrozenxid oid, datminmxid oid, dattablespace oid, " +
			"datcollate text, datctype text, daticulocale text, datcollversion text, datacl text[]"),
		rows: func(env *sysEnv) [][]any {
			return [][]any{{dbOID, env.sess.database(), userOID, 6, "c", false, true, -1, uint32(716), uint32(1),
				uint32(1663), "C", "C", nil, nil, nil}}
		}})
	roleCols := "rolname name, rolsuper bool, rolinherit bool, rolcreaterole bool, rolcreatedb bool, " +
		"rolcanlogin bool, rolreplication bool, rolconnlimit int4, rolpassword text, rolvaliduntil timestamptz, " +
		"rolbypassrls bool, rolconfig text[], oid oid"
	validUntil := func(r *catalog.Role) any {
		if r.ValidUntil == nil {
			return nil
		}
		return *r.ValidUntil
	}
	addSys(&sysRel{oid: 12001, schema: "pg_catalog", name: "pg_roles", kind: 'v', cols: cols(roleCols),
		rows: func(env *sysEnv) [][]any {
			var out [][]any
			for _, r := range env.cat.Roles() {
				out = append(out, []any{r.Name, r.Superuser, r.Inherit, r.CreateRole, r.CreateDB, r.Login,
					r.Replication, r.ConnLimit, "********", validUntil(r), r.BypassRLS, nil, uint32(r.ID)})
			}
			out = append(out, []any{"pg_database_owner", false, true, false, false, false, false, -1, "********",
				nil, false, nil, dbOwnerOID})
			return out
		}})
	addSys(&sysRel{oid: 1260, schema: "pg_catalog", name: "pg_authid", kind: 'r',
		cols: cols("oid oid, rolname name, rolsuper bool, rolinherit bool, rolcreaterole bool, rolcreatedb bool, " +
			"rolcanlogin bool, rolreplication bool, rolbypassrls bool, rolconnlimit int4, rolpassword text, " +
			"rolvaliduntil timestamptz"),
		rows: func(env *sysEnv) [][]any {
			var out [][]any
			for _, r := range env.cat.Roles() {
				var pw any
				switch {
				case r.SCRAM != "":
					pw = r.SCRAM
				case r.MD5 != "":
					pw = r.MD5
				}
				out = append(out, []any{uint32(r.ID), r.Name, r.Superuser, r.Inherit, r.CreateRole, r.CreateDB,
					r.Login, r.Replication, r.BypassRLS, r.ConnLimit, pw, validUntil(r)})
			}
			return out
		}})
	addSys(&sysRel{oid: 12002, schema: "pg_catalog", name: "pg_user", kind: 'v',
		cols: cols("usename name, usesysid oid, usecreatedb bool, usesuper bool, userepl bool, usebypassrls bool, " +
			"passwd text, valuntil timestamptz, useconfig text[]"),
		rows: func(env *sysEnv) [][]any {
			var out [][]any
			for _, r := range env.cat.Roles() {
				if r.Login {
					out = append(out, []any{r.Name, uint32(r.ID), r.CreateDB, r.Superuser, r.Replication, r.BypassRLS,
						"********", validUntil(r), nil})
				}
			}
			return out
		}})
	addSys(&sysRel{oid: 1261, schema: "pg_catalog", name: "pg_auth_members", kind: 'r',
		cols: cols("roleid oid, member oid, grantor oid, admin_option bool"),
		rows: func(env *sysEnv) [][]any {
			var out [][]any
			for _, r := range env.cat.Roles() {
				for _, g := range r.MemberOf {
					out = append(out, []any{uint32(g), uint32(r.ID), userOID, false})
				}
			}
			return out
		}})
	addSys(&sysRel{oid: 12003, schema: "pg_catalog", name: "pg_settings", kind: 'v',
		cols: cols("name text, setting text, unit text, category text, short_desc text, extra_desc text, " +
			"context text, vartype text, source text, min_val text, max_val text, enumvals text[], boot_val text, " +
			"reset_val text, sourcefile text, sourceline int4, pending_restart bool"),
		rows: func(env *sysEnv) [][]any {
			var out [][]any
			if env.sess == nil {
				return nil
			}
			for _, s := range env.sess.Settings {
				out = append(out, []any{s[0], s[1], nil, "Client Connection Defaults", "", nil, "user", "string",
					"default", nil, nil, nil, s[1], s[1], nil, nil, false})
			}
			return out
		}})
	addSys(&sysRel{oid: 12008, schema: "pg_catalog", name: "pg_cursors", kind: 'v',
		cols: cols("name text, statement text, is_holdable bool, is_binary bool, is_scrollable bool, creation_time timestamptz"),
		rows: func(env *sysEnv) [][]any {
			var out [][]any
			if env.sess == nil {
				return nil
			}
			for _, c := range env.sess.Cursors {
				out = append(out, []any{c.Name, c.Statement, c.Holdable, c.Binary, c.Scrollable, c.Created})
			}
			return out
		}})
	addSys(&sysRel{oid: 12009, schema: "pg_catalog", name: "pg_prepared_statements", kind: 'v',
		cols: cols("name text, statement text, prepare_time timestamptz, parameter_types text[], " +
			"from_sql bool, generic_plans int8, custom_plans int8"),
		rows: func(env *sysEnv) [][]any {
			var out [][]any
			if env.sess == nil {
				return nil
			}
			for _, p := range env.sess.Prepared {
				// regtype[] in PostgreSQL; the type names as text here.
				names := make([]string, len(p.ParamTypes))
				for i, o := range p.ParamTypes {
					names[i] = formatType(o, -1)
				}
				out = append(out, []any{p.Name, p.Statement, p.Prepared, names, p.FromSQL, 0, 0})
			}
			return out
		}})
	addSys(&sysRel{oid: 1255, schema: "pg_catalog", name: "pg_proc", kind: 'r',
		cols: cols("oid oid, proname name, pronamespace oid, proowner oid, prolang oid, procost float4, " +
			"prorows float4, provariadic oid, prosupport regproc, prokind char, prosecdef bool, proleakproof bool, " +
			"proisstrict bool, proretset bool, provolatile char, proparallel char, pronargs int2, " +
			"pronargdefaults int2, prorettype oid, proargtypes oid[], proallargtypes oid[], proargmodes text[], " +
			"proargnames text[], proargdefaults text, protrftypes oid[], prosrc text, probin text, " +
			"prosqlbody text, proconfig text[], proacl text[]"),
		rows: func(*sysEnv) [][]any {
			names := make([]string, 0, len(procOIDs))
			for n := range procOIDs {
				names = append(names, n)
			}
			sort.Strings(names)
			var out [][]any
			for _, n := range names {
				out = append(out, []any{procOIDs[n], n, nspPgCatalog, userOID, uint32(12), 1.0, 0.0, uint32(0),
					uint32(0), "f", false, false, true, false, "i", "s", 1, 0, uint32(2275), []uint32{2275}, nil, nil,
					nil, nil, nil, n, nil, nil, nil, nil})
			}
			return out
		}})
	addSys(&sysRel{oid: 12004, schema: "pg_catalog", name: "pg_views", kind: 'v',
		cols: cols("schemaname name, viewname name, viewowner name, definition text"),
		rows: func(env *sysEnv) [][]any {
			var out [][]any
			for _, o := range env.objs {
				if o.Kind == catalog.KindView {
					out = append(out, []any{"public", o.Name, env.cat.RoleName(o.OwnerID()), viewDefinition(o)})
				}
			}
			return out
		}})
	addSys(&sysRel{oid: 12005, schema: "pg_catalog", name: "pg_matviews", kind: 'v',
		cols: cols("schemaname name, matviewname name, matviewowner name, tablespace name, hasindexes bool, " +
			"ispopulated bool, definition text"),
		rows: func(env *sysEnv) [][]any {
			var out [][]any
			for _, o := range env.objs {
				if o.Kind == catalog.KindMaterializedView {
					out = append(out, []any{"public", o.Name, env.cat.RoleName(o.OwnerID()), nil, false, true, viewDefinition(o)})
				}
			}
			return out
		}})
	addSys(&sysRel{oid: 12006, schema: "pg_catalog", name: "pg_tables", kind: 'v',
		cols: cols("schemaname name, tablename name, tableowner name, tablespace name, hasindexes bool, " +
			"hasrules bool, hastriggers bool, rowsecurity bool"),
		rows: func(env *sysEnv) [][]any {
			var out [][]any
			for _, r := range sysRels {
				if r.kind == 'r' {
					out = append(out, []any{r.schema, r.name, env.cat.RoleName(catalog.BootstrapRoleID), nil, false, false, false, false})
				}
			}
			for _, o := range env.objs {
				if o.Kind == catalog.KindTable {
					out = append(out, []any{"public", o.Name, env.cat.RoleName(o.OwnerID()), nil, hasPK(o), false, false, false})
				}
			}
			return out
		}})
	addSys(&sysRel{oid: 12007, schema: "pg_catalog", name: "pg_stat_activity", kind: 'v',
		cols: cols("datid oid, datname name, pid int4, leader_pid int4, usesysid oid, usename name, " +
			"application_name text, client_addr text, client_hostname text, client_port int4, " +
			"backend_start timestamptz, xact_start timestamptz, query_start timestamptz, state_change timestamptz, " +
			"wait_event_type text, wait_event text, state text, backend_xid oid, backend_xmin oid, query_id int8, " +
			"query text, backend_type text"),
		rows: func(env *sysEnv) [][]any {
			s := env.sess
			if s == nil {
				s = &Session{}
			}
			now := time.Now()
			started := s.Started
			if started.IsZero() {
				started = now
			}
			return [][]any{{dbOID, s.database(), s.PID, nil, userOID, s.user(), s.ApplicationName, "127.0.0.1",
				nil, nil, started, now, now, now, nil, nil, "active", nil, nil, nil, s.Query, "client backend"}}
		}})
	// Relations kappa has nothing for: empty, with PostgreSQL's columns.
	for _, e := range []struct {
		oid        uint32
		name, spec string
	}{
		{3541, "pg_range", "rngtypid oid, rngsubtype oid, rngmultitypid oid, rngcollation oid, rngsubopc oid, rngcanonical regproc, rngsubdiff regproc"},
		{3501, "pg_enum", "oid oid, enumtypid oid, enumsortorder float4, enumlabel name"},
		{2611, "pg_inherits", "inhrelid oid, inhparent oid, inhseqno int4, inhdetachpending bool"},
		{3079, "pg_extension", "oid oid, extname name, extowner oid, extnamespace oid, extrelocatable bool, extversion text, extconfig oid[], extcondition text[]"},
		{2620, "pg_trigger", "oid oid, tgrelid oid, tgparentid oid, tgname name, tgfoid oid, tgtype int2, tgenabled char, tgisinternal bool, tgconstrrelid oid, tgconstrindid oid, tgconstraint oid, tgdeferrable bool, tginitdeferred bool, tgnargs int2, tgattr int2[], tgargs text, tgqual text, tgoldtable name, tgnewtable name"},
		{3256, "pg_policy", "oid oid, polname name, polrelid oid, polcmd char, polpermissive bool, polroles oid[], polqual text, polwithcheck text"},
		{2618, "pg_rewrite", "oid oid, rulename name, ev_class oid, ev_type char, ev_enabled char, is_instead bool, ev_qual text, ev_action text"},
		{3381, "pg_statistic_ext", "oid oid, stxrelid oid, stxname name, stxnamespace oid, stxowner oid, stxstattarget int4, stxkeys int2[], stxkind text[], stxexprs text"},
		{6104, "pg_publication", "oid oid, pubname name, pubowner oid, puballtables bool, pubinsert bool, pubupdate bool, pubdelete bool, pubtruncate bool, pubviaroot bool"},
		{6237, "pg_publication_namespace", "oid oid, pnpubid oid, pnnspid oid"},
		{6106, "pg_publication_rel", "oid oid, prpubid oid, prrelid oid, prqual text, prattrs int2[]"},
		{3118, "pg_foreign_table", "ftrelid oid, ftserver oid, ftoptions text[]"},
		{1417, "pg_foreign_server", "oid oid, srvname name, srvowner oid, srvfdw oid, srvtype text, srvversion text, srvacl text[], srvoptions text[]"},
		{2328, "pg_foreign_data_wrapper", "oid oid, fdwname name, fdwowner oid, fdwhandler oid, fdwvalidator oid, fdwacl text[], fdwoptions text[]"},
		{2224, "pg_sequence", "seqrelid oid, seqtypid oid, seqstart int8, seqincrement int8, seqmax int8, seqmin int8, seqcache int8, seqcycle bool"},
		{2608, "pg_depend", "classid oid, objid oid, objsubid int4, refclassid oid, refobjid oid, refobjsubid int4, deptype char"},
		{3602, "pg_ts_config", "oid oid, cfgname name, cfgnamespace oid, cfgowner oid, cfgparser oid"},
		{2605, "pg_cast", "oid oid, castsource oid, casttarget oid, castfunc oid, castcontext char, castmethod char"},
		{2617, "pg_operator", "oid oid, oprname name, oprnamespace oid, oprowner oid, oprkind char, oprcanmerge bool, oprcanhash bool, oprleft oid, oprright oid, oprresult oid, oprcom oid, oprnegate oid, oprcode regproc, oprrest regproc, oprjoin regproc"},
		{2600, "pg_aggregate", "aggfnoid regproc, aggkind char, aggnumdirectargs int2, aggtransfn regproc, aggfinalfn regproc"},
		{2612, "pg_language", "oid oid, lanname name, lanowner oid, lanispl bool, lanpltrusted bool, lanplcallfoid oid, laninline oid, lanvalidator oid, lanacl text[]"},
		{826, "pg_default_acl", "oid oid, defaclrole oid, defaclnamespace oid, defaclobjtype char, defaclacl text[]"},
		{3466, "pg_event_trigger", "oid oid, evtname name, evtevent name, evtowner oid, evtfoid oid, evtenabled char, evttags text[]"},
		{6000, "pg_replication_origin", "roident oid, roname text"},
		{6100, "pg_subscription", "oid oid, subdbid oid, subname name, subowner oid, subenabled bool"},
	} {
		addSys(&sysRel{oid: e.oid, schema: "pg_catalog", name: e.name, kind: 'r', cols: cols(e.spec)})
	}
	addSys(&sysRel{oid: 3456, schema: "pg_catalog", name: "pg_collation", kind: 'r',
		cols: cols("oid oid, collname name, collnamespace oid, collowner oid, collprovider char, " +
			"collisdeterministic bool, collencoding int4, collcollate text, collctype text, colliculocale text, " +
			"collversion text"),
		rows: func(*sysEnv) [][]any {
			return [][]any{
				{uint32(100), "default", nspPgCatalog, userOID, "d", true, -1, nil, nil, nil, nil},
				{uint32(950), "C", nspPgCatalog, userOID, "c", true, -1, "C", "C", nil, nil},
				{uint32(951), "POSIX", nspPgCatalog, userOID, "c", true, -1, "POSIX", "POSIX", nil, nil},
			}
		}})
	addSys(&sysRel{oid: 1213, schema: "pg_catalog", name: "pg_tablespace", kind: 'r',
		cols: cols("oid oid, spcname name, spcowner oid, spcacl text[], spcoptions text[]"),
		rows: func(*sysEnv) [][]any {
			return [][]any{{uint32(1663), "pg_default", userOID, nil, nil}, {uint32(1664), "pg_global", userOID, nil, nil}}
		}})
	registerInformationSchema()
}

// pgClassRows lists the system relations, then every user object (and the
// index of each primary key).
func pgClassRows(env *sysEnv) [][]any {
	var out [][]any
	owner := userOID
	var acl any
	row := func(oid uint32, name string, nsp, reltype, am uint32, kind string, natts int, hasIndex, hasRules bool) []any {
		return []any{oid, name, nsp, reltype, uint32(0), owner, am, oid, uint32(0), 0, float64(-1), 0, uint32(0),
			hasIndex, false, "p", kind, natts, 0, hasRules, false, false, false, false, true, "d", false,
			uint32(0), uint32(0), uint32(0), acl, nil, nil}
	}
	for _, r := range sysRels {
		nsp, am := nspPgCatalog, uint32(2)
		if r.schema == "information_schema" {
			nsp = nspInfoSchema
		}
		if r.kind == 'v' {
			am = 0
		}
		out = append(out, row(r.oid, r.name, nsp, 0, am, string(r.kind), len(r.cols), false, r.kind == 'v'))
	}
	for _, o := range env.objs {
		owner, acl = uint32(o.OwnerID()), nil
		if o.ACL != nil {
			items := make([]string, len(o.ACL))
			for i, it := range o.ACL {
				items[i] = it.Format(env.cat.RoleName)
			}
			acl = items
		}
		k := relkind(o)
		am := uint32(2)
		if k == "v" {
			am = 0
		}
		out = append(out, row(relOID(o.ID), o.Name, nspPublic, rowTypeOID(o.ID), am, k, len(o.Columns), hasPK(o), k != "r"))
		if hasPK(o) {
			out = append(out, row(indexOID(o.ID), pkName(o), nspPublic, 0, 403, "i", len(o.PrimaryKey), false, false))
		}
	}
	return out
}

func pgAttributeRows(env *sysEnv) [][]any {
	var out [][]any
	attr := func(rel uint32, name string, num int, t types.Type, nn, hasDef bool) []any {
		ti := typesByOID[t.OID]
		storage := ti.storage
		if storage == "" {
			storage = "p"
		}
		var coll uint32
		if t.Kind == types.KindText && t.OID != types.OidChar {
			coll = 100
			if t.OID == types.OidName {
				coll = 950
			}
		}
		ndims := 0
		if t.Kind == types.KindArray {
			ndims = 1
		}
		align := ti.align
		if align == "" {
			align = "i"
		}
		return []any{rel, name, t.OID, -1, typeLen(t.OID), num, ndims, -1, int(t.Mod), ti.byval, align, storage,
			"", nn, hasDef, false, "", "", false, true, 0, coll, nil, nil, nil, nil}
	}
	for _, r := range sysRels {
		for i, c := range r.cols {
			out = append(out, attr(r.oid, c.name, i+1, c.typ, r.kind == 'r', false))
		}
	}
	for _, o := range env.objs {
		defs := columnDefaults(o)
		for i, c := range o.Columns {
			_, hasDef := defs[i]
			out = append(out, attr(relOID(o.ID), c.Name, i+1, c.Type, notNull(o, i), hasDef))
		}
		if hasPK(o) {
			for i, c := range o.PrimaryKey {
				col := o.Columns[c]
				out = append(out, attr(indexOID(o.ID), col.Name, i+1, col.Type, false, false))
			}
		}
	}
	return out
}

func pgTypeRows(env *sysEnv) [][]any {
	var out [][]any
	for _, t := range allTypes {
		send, recv := strings.TrimSuffix(t.input, "in")+"send", strings.TrimSuffix(t.input, "in")+"recv"
		var sub uint32
		if t.category == "A" {
			sub = proc("array_subscript_handler")
		}
		out = append(out, []any{t.oid, t.name, nspPgCatalog, userOID, t.len, t.byval, t.typtype, t.category,
			false, true, ",", uint32(0), sub, t.elem, t.array, proc(t.input), proc(t.output), uint32(0), uint32(0),
			uint32(0), uint32(0), uint32(0), t.align, t.storage, false, uint32(0), -1, 0, t.coll, nil, nil, nil})
		_, _ = send, recv
	}
	// information_schema's domains.
	for _, d := range infoDomains {
		bt := typesByOID[d.base]
		out = append(out, []any{d.oid, d.name, nspInfoSchema, userOID, bt.len, bt.byval, "d", bt.category,
			false, true, ",", uint32(0), uint32(0), uint32(0), uint32(0), proc("domain_in"), proc(bt.output),
			uint32(0), uint32(0), uint32(0), uint32(0), uint32(0), bt.align, bt.storage, false, d.base, d.mod, 0,
			bt.coll, nil, d.def, nil})
	}
	for _, o := range env.objs {
		out = append(out, []any{rowTypeOID(o.ID), o.Name, nspPublic, userOID, -1, false, "c", "C", false, true,
			",", relOID(o.ID), uint32(0), uint32(0), uint32(0), proc("record_in"), proc("record_out"), uint32(0),
			uint32(0), uint32(0), uint32(0), uint32(0), "d", "x", false, uint32(0), -1, 0, uint32(0), nil, nil, nil})
	}
	return out
}

// infoDomain is a domain of information_schema.
type infoDomain struct {
	oid  uint32
	name string
	base uint32
	mod  int
	def  any
}

var infoDomains = []infoDomain{
	{13010, "cardinal_number", types.OidInt4, -1, nil},
	{13011, "character_data", types.OidVarchar, -1, nil},
	{13012, "sql_identifier", types.OidName, -1, nil},
	{13013, "time_stamp", types.OidTimestampTZ, 2, "CURRENT_TIMESTAMP(2)"},
	{13014, "yes_or_no", types.OidVarchar, 7, nil},
}

// columnDefaults returns the DEFAULT expressions of a table's columns, as
// text, by column index.
func columnDefaults(o *catalog.Object) map[int]string {
	out := map[int]string{}
	if o.Kind != catalog.KindTable {
		return out
	}
	has := false
	for _, c := range o.Columns {
		has = has || c.HasDefault
	}
	if !has {
		return out
	}
	stmts, err := sql.Parse(o.CreateSQL)
	if err != nil || len(stmts) != 1 {
		return out
	}
	ct, ok := stmts[0].(*sql.CreateTable)
	if !ok {
		return out
	}
	for _, cd := range ct.Columns {
		if cd.Default == nil {
			continue
		}
		if i := o.ColumnIndex(cd.Name); i >= 0 {
			out[i] = sql.Format(cd.Default)
		}
	}
	return out
}

// viewDefinition is a view's query as pg_get_viewdef prints it (kappa's
// formatting of the stored query, not PostgreSQL's deparser).
func viewDefinition(o *catalog.Object) string {
	q := strings.TrimSpace(o.Query)
	if sel, err := parseQuery(o.Query); err == nil {
		q = sql.Format(sel)
	}
	return " " + strings.TrimSuffix(q, ";") + ";"
}
