package planner

import (
	"fmt"
	"strconv"

	"github.com/kappa-db/kappa/catalog"
	"github.com/kappa-db/kappa/types"
)

// information_schema, as PostgreSQL 15 shows it. Materialized views are not
// in tables, columns or views (PostgreSQL leaves them out too: they are not
// SQL-standard objects).

// infoRel is one relation information_schema describes.
type infoRel struct {
	schema, name string
	kind         string // "r" or "v"
	cols         []infoCol
	obj          *catalog.Object
}

type infoCol struct {
	name    string
	typ     types.Type
	notNull bool
	def     any
}

func infoRels(env *sysEnv) []infoRel {
	var out []infoRel
	for _, r := range sysRels {
		ir := infoRel{schema: r.schema, name: r.name, kind: string(r.kind)}
		for _, c := range r.cols {
			ir.cols = append(ir.cols, infoCol{name: c.name, typ: c.typ, notNull: r.kind == 'r'})
		}
		out = append(out, ir)
	}
	for _, o := range env.objs {
		if o.Kind == catalog.KindMaterializedView {
			continue
		}
		ir := infoRel{schema: "public", name: o.Name, kind: relkind(o), obj: o}
		defs := columnDefaults(o)
		for i, c := range o.Columns {
			var d any
			if s, ok := defs[i]; ok {
				d = s
			}
			ir.cols = append(ir.cols, infoCol{name: c.Name, typ: c.Type, notNull: notNull(o, i), def: d})
		}
		out = append(out, ir)
	}
	return out
}

func yesNo(b bool) string {
	if b {
		return "YES"
	}
	return "NO"
}

// dataType is information_schema's data_type of t.
func dataType(t types.Type) string {
	switch {
	case t.Kind == types.KindArray:
		return "ARRAY"
	case t.OID == types.OidVarchar:
		return "character varying"
	case t.OID == types.OidBpchar:
		return "character"
	case t.OID == types.OidChar:
		return `"char"`
	case t.OID == types.OidJSON:
		return "json"
	}
	u := t
	u.Mod = -1
	return u.String()
}

// udtName is the pg_type name of t.
func udtName(t types.Type) string {
	if ti, ok := typesByOID[t.OID]; ok {
		return ti.name
	}
	return t.String()
}

// numericInfo returns numeric_precision, numeric_precision_radix and
// numeric_scale.
func numericInfo(t types.Type) (p, radix, scale any) {
	switch t.Kind {
	case types.KindInt2:
		return 16, 2, 0
	case types.KindInt4:
		return 32, 2, 0
	case types.KindInt8:
		return 64, 2, 0
	case types.KindFloat4:
		return 24, 2, nil
	case types.KindFloat8:
		return 53, 2, nil
	case types.KindNumeric:
		if t.Mod >= 4 {
			m := t.Mod - 4
			return int((m >> 16) & 0xffff), 10, int(m & 0xffff)
		}
		return nil, 10, nil
	}
	return nil, nil, nil
}

func charInfo(t types.Type) (maxLen, octets any) {
	if t.Kind != types.KindText || t.OID == types.OidName || t.OID == types.OidChar {
		return nil, nil
	}
	if t.Mod >= 4 && (t.OID == types.OidVarchar || t.OID == types.OidBpchar) {
		return int(t.Mod - 4), int(t.Mod-4) * 4
	}
	return nil, 1073741824
}

func datetimePrecision(t types.Type) any {
	switch t.Kind {
	case types.KindDate:
		return 0
	case types.KindTime, types.KindTimestamp, types.KindTimestampTZ, types.KindInterval:
		if t.Mod >= 0 && t.Kind != types.KindInterval {
			return int(t.Mod)
		}
		return 6
	}
	return nil
}

func registerInformationSchema() {
	is := func(name, spec string, rows func(env *sysEnv) [][]any, oid uint32) {
		addSys(&sysRel{oid: oid, schema: "information_schema", name: name, kind: 'v', cols: cols(spec), rows: rows})
	}
	is("schemata", "catalog_name name, schema_name name, schema_owner name, default_character_set_catalog name, "+
		"default_character_set_schema name, default_character_set_name name, sql_path text",
		func(env *sysEnv) [][]any {
			db, u := env.sess.database(), env.sess.user()
			return [][]any{
				{db, "information_schema", u, nil, nil, nil, nil},
				{db, "pg_catalog", u, nil, nil, nil, nil},
				{db, "pg_toast", u, nil, nil, nil, nil},
				{db, "public", u, nil, nil, nil, nil},
			}
		}, 13001)
	is("tables", "table_catalog name, table_schema name, table_name name, table_type text, "+
		"self_referencing_column_name name, reference_generation text, user_defined_type_catalog name, "+
		"user_defined_type_schema name, user_defined_type_name name, is_insertable_into text, is_typed text, "+
		"commit_action text",
		func(env *sysEnv) [][]any {
			var out [][]any
			for _, r := range infoRels(env) {
				tt, ins := "BASE TABLE", "YES"
				if r.kind == "v" {
					tt, ins = "VIEW", "NO"
				}
				out = append(out, []any{env.sess.database(), r.schema, r.name, tt, nil, nil, nil, nil, nil, ins, "NO", nil})
			}
			return out
		}, 13002)
	is("columns", "table_catalog name, table_schema name, table_name name, column_name name, "+
		"ordinal_position int4, column_default text, is_nullable text, data_type text, "+
		"character_maximum_length int4, character_octet_length int4, numeric_precision int4, "+
		"numeric_precision_radix int4, numeric_scale int4, datetime_precision int4, interval_type text, "+
		"interval_precision int4, character_set_catalog name, character_set_schema name, "+
		"character_set_name name, collation_catalog name, collation_schema name, collation_name name, "+
		"domain_catalog name, domain_schema name, domain_name name, udt_catalog name, udt_schema name, "+
		"udt_name name, scope_catalog name, scope_schema name, scope_name name, maximum_cardinality int4, "+
		"dtd_identifier name, is_self_referencing text, is_identity text, identity_generation text, "+
		"identity_start text, identity_increment text, identity_maximum text, identity_minimum text, "+
		"identity_cycle text, is_generated text, generation_expression text, is_updatable text",
		func(env *sysEnv) [][]any {
			var out [][]any
			db := env.sess.database()
			for _, r := range infoRels(env) {
				for i, c := range r.cols {
					p, radix, scale := numericInfo(c.typ)
					ml, ol := charInfo(c.typ)
					upd := "NO"
					if r.kind == "r" && r.schema == "public" {
						upd = "YES"
					}
					out = append(out, []any{db, r.schema, r.name, c.name, i + 1, c.def, yesNo(!c.notNull),
						dataType(c.typ), ml, ol, p, radix, scale, datetimePrecision(c.typ), nil, nil, nil, nil,
						nil, nil, nil, nil, nil, nil, nil, db, "pg_catalog", udtName(c.typ), nil, nil, nil, nil,
						strconv.Itoa(i + 1), "NO", "NO", nil, nil, nil, nil, nil, "NO", "NEVER", nil, upd})
				}
			}
			return out
		}, 13003)
	is("views", "table_catalog name, table_schema name, table_name name, view_definition text, "+
		"check_option text, is_updatable text, is_insertable_into text, is_trigger_updatable text, "+
		"is_trigger_deletable text, is_trigger_insertable_into text",
		func(env *sysEnv) [][]any {
			var out [][]any
			for _, o := range env.objs {
				if o.Kind == catalog.KindView {
					out = append(out, []any{env.sess.database(), "public", o.Name, viewDefinition(o), "NONE", "NO", "NO", "NO", "NO", "NO"})
				}
			}
			return out
		}, 13004)
	is("table_constraints", "constraint_catalog name, constraint_schema name, constraint_name name, "+
		"table_catalog name, table_schema name, table_name name, constraint_type text, is_deferrable text, "+
		"initially_deferred text, enforced text, nulls_distinct text",
		func(env *sysEnv) [][]any {
			var out [][]any
			db := env.sess.database()
			for _, o := range env.objs {
				if o.Kind != catalog.KindTable {
					continue
				}
				if hasPK(o) {
					out = append(out, []any{db, "public", pkName(o), db, "public", o.Name, "PRIMARY KEY", "NO", "NO", "YES", "YES"})
				}
				// PostgreSQL shows each NOT NULL column as a CHECK constraint.
				for i := range o.Columns {
					if notNull(o, i) {
						name := fmt.Sprintf("%d_%d_%d_not_null", nspPublic, relOID(o.ID), i+1)
						out = append(out, []any{db, "public", name, db, "public", o.Name, "CHECK", "NO", "NO", "YES", nil})
					}
				}
			}
			return out
		}, 13005)
	is("key_column_usage", "constraint_catalog name, constraint_schema name, constraint_name name, "+
		"table_catalog name, table_schema name, table_name name, column_name name, ordinal_position int4, "+
		"position_in_unique_constraint int4",
		func(env *sysEnv) [][]any {
			var out [][]any
			db := env.sess.database()
			for _, o := range env.objs {
				if !hasPK(o) {
					continue
				}
				for i, c := range o.PrimaryKey {
					out = append(out, []any{db, "public", pkName(o), db, "public", o.Name, o.Columns[c].Name, i + 1, nil})
				}
			}
			return out
		}, 13006)
}
