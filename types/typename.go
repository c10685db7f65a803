package types

import (
	"strings"

	"github.com/kappa-db/kappa/pgerr"
)

// ParseTypeName resolves a SQL type name, as the parser hands it over
// (optionally schema-qualified with pg_catalog, with [] or a leading _ for
// arrays), and its type modifiers: varchar(n), char(n), numeric(p[,s]),
// timestamp(p), time(p), interval(p). json is accepted as jsonb.
func ParseTypeName(name string, mods []int32) (Type, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	n = strings.TrimPrefix(n, "pg_catalog.")
	n = strings.Join(strings.Fields(n), " ")
	if strings.HasSuffix(n, "[]") {
		base := strings.TrimSpace(strings.TrimSuffix(n, "[]"))
		for strings.HasSuffix(base, "[]") {
			// int[][] is the same type as int[] in PostgreSQL.
			base = strings.TrimSpace(strings.TrimSuffix(base, "[]"))
		}
		elem, err := ParseTypeName(base, mods)
		if err != nil {
			return Type{}, err
		}
		return arrayOfChecked(elem, name)
	}
	if len(n) > 1 && n[0] == '_' {
		if elem, err := ParseTypeName(n[1:], mods); err == nil {
			return arrayOfChecked(elem, name)
		}
	}
	noMods := func(t Type) (Type, error) {
		if len(mods) > 0 {
			return Type{}, pgerr.New(pgerr.SyntaxError, "type modifier is not allowed for type \"%s\"", n)
		}
		return t, nil
	}
	switch n {
	case "bool", "boolean":
		return noMods(Bool)
	case "int2", "smallint":
		return noMods(Int2)
	case "int4", "int", "integer":
		return noMods(Int4)
	case "int8", "bigint":
		return noMods(Int8)
	case "float4", "real":
		return noMods(Float4)
	case "float8", "double precision":
		return noMods(Float8)
	case "float":
		if len(mods) == 1 {
			switch p := mods[0]; {
			case p < 1:
				return Type{}, pgerr.New(pgerr.InvalidParameterValue, "precision for type float must be at least 1 bit")
			case p <= 24:
				return Float4, nil
			case p <= 53:
				return Float8, nil
			default:
				return Type{}, pgerr.New(pgerr.InvalidParameterValue, "precision for type float must be less than 54 bits")
			}
		}
		return noMods(Float8)
	case "numeric", "decimal":
		return numericType(mods)
	case "text":
		return noMods(Text)
	case "varchar", "character varying":
		return charType(Varchar, "varchar", mods, false)
	case "char", "character":
		return charType(Bpchar, "char", mods, true)
	case "bpchar":
		return charType(Bpchar, "bpchar", mods, false)
	case "name":
		return noMods(Name)
	case "bytea":
		return noMods(Bytea)
	case "date":
		return noMods(Date)
	case "time", "time without time zone":
		return precisionType(Time, "time", mods)
	case "timestamp", "timestamp without time zone":
		return precisionType(Timestamp, "timestamp", mods)
	case "timestamptz", "timestamp with time zone":
		return precisionType(TimestampTZ, "timestamp with time zone", mods)
	case "interval":
		return precisionType(Interval, "interval", mods)
	case "jsonb", "json":
		return noMods(JSONB)
	case "oid":
		return noMods(Oid)
	case "regclass":
		return noMods(Regclass)
	case "regtype":
		return noMods(Type{Kind: KindOid, OID: OidRegtype, Mod: -1})
	case "regproc":
		return noMods(Type{Kind: KindOid, OID: OidRegproc, Mod: -1})
	case "regnamespace":
		return noMods(Type{Kind: KindOid, OID: OidRegnamespace, Mod: -1})
	case "regrole":
		return noMods(Type{Kind: KindOid, OID: OidRegrole, Mod: -1})
	case "unknown":
		return noMods(Unknown)
	case "timetz", "time with time zone":
		return Type{}, pgerr.New(pgerr.FeatureNotSupported, "type time with time zone is not supported")
	}
	return Type{}, pgerr.New(pgerr.UndefinedObject, "type \"%s\" does not exist", strings.TrimSpace(name))
}

func arrayOfChecked(elem Type, name string) (Type, error) {
	if elem.Kind == KindArray || elem.Kind == KindNull || arrayOIDs[elem.OID] == 0 {
		return Type{}, pgerr.New(pgerr.UndefinedObject, "type \"%s\" does not exist", strings.TrimSpace(name))
	}
	return ArrayOf(elem), nil
}

func numericType(mods []int32) (Type, error) {
	t := Numeric
	switch len(mods) {
	case 0:
		return t, nil
	case 1, 2:
	default:
		return Type{}, pgerr.New(pgerr.InvalidParameterValue, "invalid NUMERIC type modifier")
	}
	p := mods[0]
	var s int32
	if len(mods) == 2 {
		s = mods[1]
	}
	if p < 1 || p > 1000 {
		return Type{}, pgerr.New(pgerr.InvalidParameterValue, "NUMERIC precision %d must be between 1 and %d", p, 1000)
	}
	if s < 0 || s > p {
		return Type{}, pgerr.New(pgerr.InvalidParameterValue, "NUMERIC scale %d must be between 0 and precision %d", s, p)
	}
	t.Mod = NumericTypmod(p, s)
	return t, nil
}

// charType builds varchar(n)/char(n). A bare char means char(1), as in
// PostgreSQL's grammar; a bare varchar or bpchar is unlimited.
func charType(t Type, name string, mods []int32, defaultOne bool) (Type, error) {
	switch len(mods) {
	case 0:
		if defaultOne {
			t.Mod = 1 + 4
		}
		return t, nil
	case 1:
	default:
		return Type{}, pgerr.New(pgerr.SyntaxError, "invalid type modifier")
	}
	if mods[0] < 1 {
		return Type{}, pgerr.New(pgerr.InvalidParameterValue, "length for type %s must be at least 1", name)
	}
	if mods[0] > 10485760 {
		return Type{}, pgerr.New(pgerr.InvalidParameterValue, "length for type %s cannot exceed %d", name, 10485760)
	}
	t.Mod = mods[0] + 4
	return t, nil
}

// precisionType builds timestamp(p) and friends; a precision above 6 is
// reduced to 6 (PostgreSQL warns and does the same).
func precisionType(t Type, name string, mods []int32) (Type, error) {
	switch len(mods) {
	case 0:
		return t, nil
	case 1:
	default:
		return Type{}, pgerr.New(pgerr.SyntaxError, "invalid type modifier")
	}
	p := mods[0]
	if p < 0 {
		return Type{}, pgerr.New(pgerr.InvalidParameterValue, "%s(%d) precision must not be negative", strings.ToUpper(name), p)
	}
	t.Mod = min(p, 6)
	return t, nil
}

// TypeByOID returns the type a PostgreSQL type OID names (without typmod).
func TypeByOID(oid uint32) (Type, bool) {
	if t, ok := scalarByOID[oid]; ok {
		return t, true
	}
	for elem, arr := range arrayOIDs {
		if arr == oid {
			e, ok := scalarByOID[elem]
			if !ok {
				return Type{}, false
			}
			return Type{Kind: KindArray, OID: oid, Mod: -1, Elem: e.Kind, ElemOID: e.OID}, true
		}
	}
	return Type{}, false
}

var scalarByOID = map[uint32]Type{
	OidBool: Bool, OidBytea: Bytea, OidName: Name, OidInt8: Int8, OidInt2: Int2, OidInt4: Int4,
	OidRegproc: {Kind: KindOid, OID: OidRegproc, Mod: -1}, OidText: Text, OidOid: Oid,
	OidJSON: {Kind: KindJSONB, OID: OidJSON, Mod: -1}, OidFloat4: Float4, OidFloat8: Float8,
	OidUnknown: Unknown, OidBpchar: Bpchar, OidVarchar: Varchar, OidDate: Date, OidTime: Time,
	OidTimestamp: Timestamp, OidTimestampTZ: TimestampTZ, OidInterval: Interval, OidNumeric: Numeric,
	OidRegclass: Regclass, OidRegtype: {Kind: KindOid, OID: OidRegtype, Mod: -1}, OidJSONB: JSONB,
	OidChar:         {Kind: KindText, OID: OidChar, Mod: -1},
	OidRegnamespace: {Kind: KindOid, OID: OidRegnamespace, Mod: -1},
	OidRegrole:      {Kind: KindOid, OID: OidRegrole, Mod: -1},
}
