package planner

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/kappa-db/kappa/catalog"
	"github.com/kappa-db/kappa/expr"
	"github.com/kappa-db/kappa/pgerr"
	"github.com/kappa-db/kappa/sql"
	"github.com/kappa-db/kappa/types"
)

// The functions clients call on the system catalogs. Those that read the
// catalog or the session are built per statement, closing over the planner's
// catalog and the session (so they see what the statement's system
// relations show).

func fnOf(name string, args []types.Type, ret types.Type, strict bool, f func(a []types.Value) (types.Value, error)) *expr.Func {
	return &expr.Func{Name: name, Args: args, Ret: ret, Strict: strict, Volatile: true,
		Eval: func(_ *expr.EvalContext, a []types.Value) (types.Value, error) { return f(a) }}
}

func nameVal(s string) types.Value { return types.NewText(s) }

// relName is the name regclass prints for oid: qualified only where the
// search path would not find it.
func (b *binder) relName(oid uint32) string {
	if r, ok := sysByOID[oid]; ok {
		if r.schema == "information_schema" {
			return r.schema + "." + r.name
		}
		return r.name
	}
	if o, part, ok := objectOfOID(b.p.Catalog, oid); ok {
		switch part {
		case 0:
			return sql.FormatName(o.Name)
		case 1:
			if hasPK(o) {
				return sql.FormatName(pkName(o))
			}
		}
	}
	return strconv.FormatUint(uint64(oid), 10)
}

func typeName(oid uint32) (string, bool) {
	if t, ok := types.TypeByOID(oid); ok {
		return t.String(), true
	}
	if ti, ok := typesByOID[oid]; ok {
		if ti.elem != 0 {
			if e, ok := typeName(ti.elem); ok {
				return e + "[]", true
			}
		}
		return ti.name, true
	}
	return "", false
}

// regIn is the input function of a reg* type: a name to its OID.
func (b *binder) regIn(to types.Type) *expr.Func {
	cat := b.p.Catalog
	return fnOf("regin", []types.Type{types.Text}, to, true, func(a []types.Value) (types.Value, error) {
		s := strings.TrimSpace(a[0].S)
		if n, err := strconv.ParseUint(s, 10, 32); err == nil {
			return types.Value{K: types.KindOid, I: int64(n)}, nil
		}
		schema, name := qualifiedParts(s)
		switch to.OID {
		case types.OidRegclass:
			if schema == "" || schema == "pg_catalog" || schema == "information_schema" {
				if r, ok := lookupSystem(schema, name); ok {
					return types.NewOid(r.oid), nil
				}
			}
			if schema == "" || schema == "public" {
				if o, ok := cat.Lookup(name); ok {
					return types.NewOid(relOID(o.ID)), nil
				}
				for _, o := range cat.All() {
					if hasPK(o) && pkName(o) == name {
						return types.NewOid(indexOID(o.ID)), nil
					}
				}
			}
			return types.Null, pgerr.New(pgerr.UndefinedTable, "relation %q does not exist", s)
		case types.OidRegtype:
			t, err := types.ParseTypeName(name, nil)
			if err == nil {
				return types.NewOid(t.OID), nil
			}
			for _, ti := range allTypes {
				if ti.name == name {
					return types.NewOid(ti.oid), nil
				}
			}
			if schema == "" || schema == "public" {
				if o, ok := cat.Lookup(name); ok {
					return types.NewOid(rowTypeOID(o.ID)), nil
				}
			}
			return types.Null, pgerr.New(pgerr.UndefinedObject, "type %q does not exist", s)
		case types.OidRegproc:
			if o, ok := procOIDs[name]; ok {
				return types.NewOid(o), nil
			}
			return types.Null, pgerr.New(pgerr.UndefinedFunction, "function %q does not exist", s)
		case oidRegnamespace:
			switch name {
			case "pg_catalog":
				return types.NewOid(nspPgCatalog), nil
			case "public":
				return types.NewOid(nspPublic), nil
			case "information_schema":
				return types.NewOid(nspInfoSchema), nil
			}
			return types.Null, pgerr.New("3F000", "schema %q does not exist", s)
		case oidRegrole:
			if r, ok := cat.Role(name); ok {
				return types.NewOid(uint32(r.ID)), nil
			}
			return types.Null, pgerr.New(pgerr.UndefinedObject, "role %q does not exist", s)
		}
		return types.Null, pgerr.New(pgerr.FeatureNotSupported, "type %s is not supported", to)
	})
}

// regOut is the output function of a reg* type: an OID to its name ("-"
// for 0, the number when nothing has it).
func (b *binder) regOut(from, to types.Type) *expr.Func {
	return fnOf("regout", []types.Type{from}, to, true, func(a []types.Value) (types.Value, error) {
		oid := uint32(a[0].I)
		if oid == 0 {
			return types.NewText("-"), nil
		}
		switch from.OID {
		case types.OidRegclass:
			return types.NewText(b.relName(oid)), nil
		case types.OidRegtype:
			if n, ok := typeName(oid); ok {
				return types.NewText(n), nil
			}
			if o, part, ok := objectOfOID(b.p.Catalog, oid); ok && part == 3 {
				return types.NewText(o.Name), nil
			}
		case types.OidRegproc:
			if n, ok := procNames[oid]; ok {
				return types.NewText(n), nil
			}
		case oidRegnamespace:
			switch oid {
			case nspPgCatalog:
				return types.NewText("pg_catalog"), nil
			case nspPublic:
				return types.NewText("public"), nil
			case nspInfoSchema:
				return types.NewText("information_schema"), nil
			}
		case oidRegrole:
			if r, ok := b.p.Catalog.RoleByID(uint64(oid)); ok {
				return types.NewText(r.Name), nil
			}
		}
		return types.NewText(strconv.FormatUint(uint64(oid), 10)), nil
	})
}

// formatType is format_type(type oid, typmod).
func formatType(oid uint32, mod int32) string {
	if t, ok := types.TypeByOID(oid); ok {
		t.Mod = mod
		if t.Kind == types.KindArray {
			e := t.ElemType()
			e.Mod = mod
			return e.String() + "[]"
		}
		switch t.OID {
		case types.OidChar:
			return `"char"`
		case types.OidTime, types.OidTimestamp, types.OidTimestampTZ:
			if mod >= 0 {
				s := t.String()
				if i := strings.Index(s, " "); i > 0 {
					return fmt.Sprintf("%s(%d)%s", s[:i], mod, s[i:])
				}
			}
		}
		return t.String()
	}
	if ti, ok := typesByOID[oid]; ok {
		if ti.elem != 0 && ti.category == "A" {
			return formatType(ti.elem, mod) + "[]"
		}
		return ti.name
	}
	for _, d := range infoDomains {
		if d.oid == oid {
			return "information_schema." + d.name
		}
	}
	return "???"
}

// IndexDef returns the CREATE INDEX of the index called name (a table's
// primary key index, the only indexes kappa has), as pg_get_indexdef
// prints it.
func IndexDef(cat *catalog.Catalog, name string) (string, bool) {
	for _, o := range cat.All() {
		if hasPK(o) && pkName(o) == name {
			return indexDef(o, 0, false), true
		}
	}
	return "", false
}

// indexDef is pg_get_indexdef of a primary key index.
func indexDef(o *catalog.Object, col int, pretty bool) string {
	if col > 0 {
		if col <= len(o.PrimaryKey) {
			return sql.FormatName(o.Columns[o.PrimaryKey[col-1]].Name)
		}
		return ""
	}
	// The pretty form leaves out the schema the search path finds.
	schema := "public."
	if pretty {
		schema = ""
	}
	return fmt.Sprintf("CREATE UNIQUE INDEX %s ON %s%s USING btree (%s)", sql.FormatName(pkName(o)), schema, sql.FormatName(o.Name), pkColumnList(o))
}

func pkColumnList(o *catalog.Object) string {
	names := make([]string, len(o.PrimaryKey))
	for i, c := range o.PrimaryKey {
		names[i] = sql.FormatName(o.Columns[c].Name)
	}
	return strings.Join(names, ", ")
}

// bindSysFunc binds the functions of this file; ok is false for others.
func (b *binder) bindSysFunc(x *sql.FuncCall, args []expr.Expr) (expr.Expr, bool, error) {
	if x.Schema != "" && x.Schema != "pg_catalog" && x.Schema != "information_schema" {
		return nil, true, b.errAt(x.Pos, pgerr.UndefinedFunction, "function %s.%s does not exist", x.Schema, x.Name)
	}
	ts := make([]types.Type, len(args))
	for i, a := range args {
		ts[i] = a.Type()
	}
	call := func(fn *expr.Func) (expr.Expr, bool, error) {
		out := make([]expr.Expr, len(args))
		for i, a := range args {
			t := fn.Ret
			if i < len(fn.Args) {
				t = fn.Args[i]
			} else if len(fn.Args) > 0 {
				t = fn.Args[len(fn.Args)-1]
			}
			c, err := b.coerce(a, t, x.Args[i].Position(), "")
			if err != nil {
				// reg* arguments take OIDs and names alike.
				if r, ok, rerr := b.bindRegCast(a, t, x.Args[i].Position()); ok && rerr == nil {
					c, err = r, nil
				}
			}
			if err != nil {
				return nil, true, err
			}
			out[i] = c
		}
		return &expr.Call{Fn: fn, Args: out}, true, nil
	}
	nargs := func(lo, hi int) error {
		if len(args) < lo || len(args) > hi {
			return b.errAt(x.Pos, pgerr.UndefinedFunction, "function %s(%s) does not exist", x.Name, typeListOf(ts)).
				WithHint("No function matches the given name and argument types. You might need to add explicit type casts.")
		}
		return nil
	}
	// oidArgs is (oid, then the given types) padded to the call's arity.
	oidArgs := func(rest ...types.Type) []types.Type {
		return append([]types.Type{types.Oid}, rest...)[:len(args)]
	}
	cat := b.p.Catalog
	switch x.Name {
	case "pg_get_userbyid":
		if err := nargs(1, 1); err != nil {
			return nil, true, err
		}
		return call(fnOf(x.Name, []types.Type{types.Oid}, types.Name, true, func(a []types.Value) (types.Value, error) {
			if r, ok := cat.RoleByID(uint64(a[0].I)); ok {
				return nameVal(r.Name), nil
			}
			if uint32(a[0].I) == dbOwnerOID {
				return nameVal("pg_database_owner"), nil
			}
			return nameVal(fmt.Sprintf("unknown (OID=%d)", a[0].I)), nil
		}))
	case "pg_table_is_visible", "pg_type_is_visible", "pg_function_is_visible", "pg_collation_is_visible",
		"pg_conversion_is_visible", "pg_operator_is_visible", "pg_opclass_is_visible", "pg_ts_config_is_visible",
		"pg_statistics_obj_is_visible":
		if err := nargs(1, 1); err != nil {
			return nil, true, err
		}
		return call(fnOf(x.Name, []types.Type{types.Oid}, types.Bool, true, func(a []types.Value) (types.Value, error) {
			oid := uint32(a[0].I)
			if r, ok := sysByOID[oid]; ok {
				return types.NewBool(r.schema == "pg_catalog"), nil
			}
			// information_schema's own objects are not on the search path.
			return types.NewBool(oid < nspInfoSchema || oid >= nspInfoSchema+100), nil
		}))
	case "format_type":
		if err := nargs(2, 2); err != nil {
			return nil, true, err
		}
		return call(fnOf(x.Name, []types.Type{types.Oid, types.Int4}, types.Text, false, func(a []types.Value) (types.Value, error) {
			if a[0].IsNull() {
				return types.Null, nil
			}
			mod := int32(-1)
			if !a[1].IsNull() {
				mod = int32(a[1].I)
			}
			return types.NewText(formatType(uint32(a[0].I), mod)), nil
		}))
	case "pg_get_expr":
		if err := nargs(2, 3); err != nil {
			return nil, true, err
		}
		return call(fnOf(x.Name, []types.Type{types.Text, types.Oid, types.Bool}[:len(args)], types.Text, true, func(a []types.Value) (types.Value, error) {
			return a[0], nil
		}))
	case "pg_get_indexdef":
		if err := nargs(1, 3); err != nil {
			return nil, true, err
		}
		return call(fnOf(x.Name, oidArgs(types.Int4, types.Bool), types.Text, true, func(a []types.Value) (types.Value, error) {
			o, part, ok := objectOfOID(cat, uint32(a[0].I))
			if !ok || part != 1 || !hasPK(o) {
				return types.Null, nil
			}
			col := 0
			if len(a) > 1 {
				col = int(a[1].I)
			}
			pretty := len(a) > 2 && a[2].Bool()
			return types.NewText(indexDef(o, col, pretty)), nil
		}))
	case "pg_get_constraintdef":
		if err := nargs(1, 2); err != nil {
			return nil, true, err
		}
		return call(fnOf(x.Name, oidArgs(types.Bool), types.Text, true, func(a []types.Value) (types.Value, error) {
			o, part, ok := objectOfOID(cat, uint32(a[0].I))
			if !ok || part != 2 || !hasPK(o) {
				return types.Null, nil
			}
			return types.NewText("PRIMARY KEY (" + pkColumnList(o) + ")"), nil
		}))
	case "pg_get_viewdef":
		if err := nargs(1, 2); err != nil {
			return nil, true, err
		}
		argT := types.Oid
		if len(ts) > 0 && (ts[0].Kind == types.KindText || ts[0].Kind == types.KindNull) {
			argT = types.Text
		}
		second := types.Bool
		if len(ts) > 1 && ts[1].Kind != types.KindBool && ts[1].Kind != types.KindNull {
			second = types.Int4
		}
		return call(fnOf(x.Name, []types.Type{argT, second}[:len(args)], types.Text, true, func(a []types.Value) (types.Value, error) {
			var o *catalog.Object
			if argT.Kind == types.KindText {
				_, name := qualifiedParts(a[0].S)
				var ok bool
				if o, ok = cat.Lookup(name); !ok {
					return types.Null, pgerr.New(pgerr.UndefinedTable, "relation %q does not exist", a[0].S)
				}
			} else if obj, part, ok := objectOfOID(cat, uint32(a[0].I)); ok && part == 0 {
				o = obj
			}
			if o == nil || o.Kind == catalog.KindTable {
				return types.Null, nil
			}
			return types.NewText(viewDefinition(o)), nil
		}))
	case "pg_get_ruledef", "pg_get_triggerdef", "pg_get_statisticsobjdef_columns", "pg_get_functiondef",
		"pg_get_serial_sequence", "obj_description", "col_description", "shobj_description",
		"pg_get_partkeydef", "pg_get_partition_constraintdef":
		// Nothing kappa has carries these: no rules other than views',
		// triggers, statistics objects, sequences or comments.
		if err := nargs(1, 3); err != nil {
			return nil, true, err
		}
		fargs := make([]types.Type, len(ts))
		for i, t := range ts {
			fargs[i] = t
			if t.Kind == types.KindNull {
				fargs[i] = types.Text
			}
		}
		return call(fnOf(x.Name, fargs, types.Text, false, func([]types.Value) (types.Value, error) { return types.Null, nil }))
	case "pg_get_function_result", "pg_get_function_arguments", "pg_get_function_identity_arguments":
		if err := nargs(1, 1); err != nil {
			return nil, true, err
		}
		return call(fnOf(x.Name, []types.Type{types.Oid}, types.Text, true, func([]types.Value) (types.Value, error) {
			return types.NewText(""), nil
		}))
	case "pg_relation_is_publishable":
		if err := nargs(1, 1); err != nil {
			return nil, true, err
		}
		return call(fnOf(x.Name, []types.Type{types.Regclass}, types.Bool, true, func(a []types.Value) (types.Value, error) {
			o, part, ok := objectOfOID(cat, uint32(a[0].I))
			return types.NewBool(ok && part == 0 && o.Kind == catalog.KindTable), nil
		}))
	case "current_schema":
		if err := nargs(0, 0); err != nil {
			return nil, true, err
		}
		if path := b.sess.searchPath(false); len(path) > 0 {
			return &expr.Const{V: nameVal(path[0]), T: types.Name}, true, nil
		}
		return &expr.Const{V: types.Null, T: types.Name}, true, nil
	case "current_schemas":
		if err := nargs(1, 1); err != nil {
			return nil, true, err
		}
		sess := b.sess
		return call(fnOf(x.Name, []types.Type{types.Bool}, types.ArrayOf(types.Name), true, func(a []types.Value) (types.Value, error) {
			path := sess.searchPath(a[0].Bool())
			out := make([]types.Value, len(path))
			for i, s := range path {
				out[i] = nameVal(s)
			}
			return types.NewArray(out), nil
		}))
	case "current_database", "current_catalog":
		if err := nargs(0, 0); err != nil {
			return nil, true, err
		}
		return &expr.Const{V: nameVal(b.sess.database()), T: types.Name}, true, nil
	case "version":
		if err := nargs(0, 0); err != nil {
			return nil, true, err
		}
		return &expr.Const{V: types.NewText("PostgreSQL 15.0 (kappa) on x86_64-pc-linux-gnu, compiled by Go, 64-bit"), T: types.Text}, true, nil
	case "pg_backend_pid":
		if err := nargs(0, 0); err != nil {
			return nil, true, err
		}
		var pid int32
		if b.sess != nil {
			pid = b.sess.PID
		}
		return &expr.Const{V: types.NewInt4(int64(pid)), T: types.Int4}, true, nil
	case "pg_is_in_recovery":
		if err := nargs(0, 0); err != nil {
			return nil, true, err
		}
		return &expr.Const{V: types.NewBool(false), T: types.Bool}, true, nil
	case "has_table_privilege", "has_schema_privilege", "has_database_privilege", "has_any_column_privilege":
		if err := nargs(2, 3); err != nil {
			return nil, true, err
		}
		return call(b.hasPrivilege(x.Name, ts))
	case "has_column_privilege",
		"has_function_privilege", "has_sequence_privilege", "has_type_privilege",
		"has_tablespace_privilege", "has_foreign_data_wrapper_privilege", "has_server_privilege",
		"has_language_privilege", "pg_has_role":
		// Objects kappa does not have (functions, types, sequences,
		// columns' own ACLs...): everyone may use them.
		if err := nargs(2, 4); err != nil {
			return nil, true, err
		}
		fargs := make([]types.Type, len(ts))
		for i, t := range ts {
			fargs[i] = t
			if t.Kind == types.KindNull {
				fargs[i] = types.Text
			}
		}
		return call(fnOf(x.Name, fargs, types.Bool, true, func([]types.Value) (types.Value, error) { return types.NewBool(true), nil }))
	case "pg_encoding_to_char":
		if err := nargs(1, 1); err != nil {
			return nil, true, err
		}
		return call(fnOf(x.Name, []types.Type{types.Int4}, types.Name, true, func(a []types.Value) (types.Value, error) {
			switch a[0].I {
			case 0:
				return nameVal("SQL_ASCII"), nil
			case 6:
				return nameVal("UTF8"), nil
			}
			return nameVal(""), nil
		}))
	case "pg_char_to_encoding":
		if err := nargs(1, 1); err != nil {
			return nil, true, err
		}
		return call(fnOf(x.Name, []types.Type{types.Name}, types.Int4, true, func(a []types.Value) (types.Value, error) {
			switch strings.ToUpper(a[0].S) {
			case "SQL_ASCII":
				return types.NewInt4(0), nil
			case "UTF8", "UNICODE":
				return types.NewInt4(6), nil
			}
			return types.NewInt4(-1), nil
		}))
	case "quote_ident":
		if err := nargs(1, 1); err != nil {
			return nil, true, err
		}
		return call(fnOf(x.Name, []types.Type{types.Text}, types.Text, true, func(a []types.Value) (types.Value, error) {
			return types.NewText(sql.FormatName(a[0].S)), nil
		}))
	case "pg_relation_size", "pg_total_relation_size", "pg_table_size", "pg_indexes_size":
		// Relations live in one shared pebble store; kappa does not
		// account bytes per relation yet.
		if err := nargs(1, 2); err != nil {
			return nil, true, err
		}
		return call(fnOf(x.Name, []types.Type{types.Regclass, types.Text}[:len(args)], types.Int8, true, func(a []types.Value) (types.Value, error) {
			return types.NewInt8(0), nil
		}))
	case "pg_size_pretty":
		if err := nargs(1, 1); err != nil {
			return nil, true, err
		}
		return call(fnOf(x.Name, []types.Type{types.Int8}, types.Text, true, func(a []types.Value) (types.Value, error) {
			return types.NewText(sizePretty(a[0].I)), nil
		}))
	case "current_setting":
		if err := nargs(1, 2); err != nil {
			return nil, true, err
		}
		sess := b.sess
		return call(fnOf(x.Name, []types.Type{types.Text, types.Bool}[:len(args)], types.Text, true, func(a []types.Value) (types.Value, error) {
			if sess != nil {
				for _, s := range append(sess.Settings, sess.Placeholders...) {
					if strings.EqualFold(s[0], a[0].S) {
						return types.NewText(s[1]), nil
					}
				}
			}
			if len(a) > 1 && a[1].Bool() {
				return types.Null, nil
			}
			return types.Null, pgerr.New(pgerr.UndefinedObject, "unrecognized configuration parameter %q", a[0].S)
		}))
	case "json_build_object", "jsonb_build_object":
		if len(args)%2 != 0 {
			return nil, true, b.errAt(x.Pos, pgerr.InvalidParameterValue, "argument list must have even number of elements").
				WithHint("The arguments of %s() must consist of alternating keys and values.", x.Name)
		}
		fargs := make([]types.Type, len(ts))
		for i, t := range ts {
			fargs[i] = t
			if t.Kind == types.KindNull {
				fargs[i] = types.Text
			}
		}
		rt := types.JSONB
		if x.Name == "json_build_object" {
			rt = types.Type{Kind: types.KindJSONB, OID: types.OidJSON, Mod: -1}
		}
		return call(fnOf(x.Name, fargs, rt, false, func(a []types.Value) (types.Value, error) {
			var sb strings.Builder
			sb.WriteByte('{')
			for i := 0; i < len(a); i += 2 {
				if a[i].IsNull() {
					return types.Null, pgerr.New(pgerr.InvalidParameterValue, "null value not allowed for object key")
				}
				if i > 0 {
					sb.WriteString(", ")
				}
				sb.WriteString(strconv.Quote(types.FormatText(a[i], fargs[i], nil)))
				sb.WriteString(" : ")
				sb.WriteString(jsonScalar(a[i+1], fargs[i+1]))
			}
			sb.WriteByte('}')
			return types.NewJSONB(sb.String()), nil
		}))
	}
	if f, ok, err := expr.LookupArrayFunction(x.Name, ts); ok {
		if err != nil {
			return nil, true, withPos(err, b, x.Pos)
		}
		return call(f)
	}
	return nil, false, nil
}

// hasPrivilege is has_table_privilege, has_schema_privilege,
// has_database_privilege and has_any_column_privilege: ([user,] object,
// privileges), user a name or OID (current_user when left out), object a
// name or OID, privileges a comma-separated list of which one is enough.
func (b *binder) hasPrivilege(name string, ts []types.Type) *expr.Func {
	cat := b.p.Catalog
	args := make([]types.Type, len(ts))
	for i, t := range ts {
		args[i] = types.Text
		if t.Kind == types.KindOid || t.Kind == types.KindInt4 || t.Kind == types.KindInt8 {
			args[i] = types.Oid
		}
	}
	args[len(args)-1] = types.Text
	return &expr.Func{Name: name, Args: args, Ret: types.Bool, Strict: true, Volatile: true,
		Eval: func(ctx *expr.EvalContext, a []types.Value) (types.Value, error) {
			var role *catalog.Role
			var ok bool
			who := ""
			if len(a) == 3 {
				if args[0].Kind == types.KindOid {
					role, ok = cat.RoleByID(uint64(a[0].I))
					who = strconv.FormatInt(a[0].I, 10)
				} else {
					role, ok = cat.Role(a[0].S)
					who = a[0].S
				}
				a = a[1:]
			} else if ctx != nil {
				role, ok = cat.Role(ctx.User)
				who = ctx.User
			}
			if !ok {
				return types.Null, pgerr.New(pgerr.UndefinedObject, "role %q does not exist", who)
			}
			var want catalog.Privileges
			for _, p := range strings.Split(a[1].S, ",") {
				p = strings.TrimSuffix(strings.ToUpper(strings.TrimSpace(p)), " WITH GRANT OPTION")
				priv, ok := catalog.PrivilegeByName(p)
				if !ok {
					return types.Null, pgerr.New(pgerr.InvalidParameterValue, "unrecognized privilege type: %q", p)
				}
				want |= priv
			}
			anyOf := func(has func(catalog.Privileges) bool) types.Value {
				for bit := catalog.Privileges(1); bit != 0 && bit <= want; bit <<= 1 {
					if want&bit != 0 && has(bit) {
						return types.NewBool(true)
					}
				}
				return types.NewBool(false)
			}
			switch name {
			case "has_schema_privilege":
				return anyOf(func(p catalog.Privileges) bool { return cat.HasSchemaPrivilege(role.ID, p) }), nil
			case "has_database_privilege":
				return anyOf(func(p catalog.Privileges) bool { return cat.HasDatabasePrivilege(role.ID, p) }), nil
			}
			oid := uint32(a[0].I)
			if args[len(args)-2].Kind != types.KindOid {
				v, err := b.regIn(types.Regclass).Eval(ctx, []types.Value{a[0]})
				if err != nil {
					return types.Null, err
				}
				oid = uint32(v.I)
			}
			if _, ok := sysByOID[oid]; ok {
				// The system catalogs are readable by everyone.
				return types.NewBool(role.Superuser || want&catalog.PrivSelect != 0), nil
			}
			o, part, ok := objectOfOID(cat, oid)
			if !ok || part != 0 {
				return types.Null, nil
			}
			return anyOf(func(p catalog.Privileges) bool { return cat.HasPrivilege(role.ID, o, p) }), nil
		}}
}

func jsonScalar(v types.Value, t types.Type) string {
	switch {
	case v.IsNull():
		return "null"
	case t.Kind == types.KindBool:
		if v.Bool() {
			return "true"
		}
		return "false"
	case t.Kind == types.KindInt2 || t.Kind == types.KindInt4 || t.Kind == types.KindInt8 || t.Kind == types.KindNumeric ||
		t.Kind == types.KindFloat4 || t.Kind == types.KindFloat8 || t.Kind == types.KindOid:
		return types.FormatText(v, t, nil)
	case t.Kind == types.KindJSONB:
		return v.S
	}
	return strconv.Quote(types.FormatText(v, t, nil))
}

func sizePretty(n int64) string {
	units := []string{"bytes", "kB", "MB", "GB", "TB", "PB"}
	v := n
	i := 0
	for i < len(units)-1 && (v >= 10*1024 || v <= -10*1024) {
		// PostgreSQL rounds half up at each step.
		if v >= 0 {
			v = (v + 512) / 1024
		} else {
			v = (v - 512) / 1024
		}
		i++
	}
	return fmt.Sprintf("%d %s", v, units[i])
}

func typeListOf(ts []types.Type) string {
	parts := make([]string, len(ts))
	for i, t := range ts {
		parts[i] = t.String()
	}
	return strings.Join(parts, ", ")
}
