package types

import "fmt"

// Kind is the physical kind of a value.
type Kind uint8

const (
	KindNull Kind = iota // SQL NULL (for Values), or "unknown" for an untyped literal (for Types)
	KindBool
	KindInt2
	KindInt4
	KindInt8
	KindFloat4
	KindFloat8
	KindNumeric
	KindText // text, varchar, bpchar, name (Type.OID tells which)
	KindBytea
	KindDate
	KindTime
	KindTimestamp
	KindTimestampTZ
	KindInterval
	KindJSONB
	KindOid // oid, regclass, regtype, regproc (Type.OID tells which)
	KindArray
	numKinds
)

var kindNames = [...]string{
	KindNull: "unknown", KindBool: "boolean", KindInt2: "smallint", KindInt4: "integer",
	KindInt8: "bigint", KindFloat4: "real", KindFloat8: "double precision",
	KindNumeric: "numeric", KindText: "text", KindBytea: "bytea", KindDate: "date",
	KindTime: "time without time zone", KindTimestamp: "timestamp without time zone",
	KindTimestampTZ: "timestamp with time zone", KindInterval: "interval",
	KindJSONB: "jsonb", KindOid: "oid", KindArray: "array",
}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", k)
}

// PostgreSQL type OIDs (pg_type.dat).
const (
	OidBool        uint32 = 16
	OidBytea       uint32 = 17
	OidChar        uint32 = 18
	OidName        uint32 = 19
	OidInt8        uint32 = 20
	OidInt2        uint32 = 21
	OidInt4        uint32 = 23
	OidRegproc     uint32 = 24
	OidText        uint32 = 25
	OidOid         uint32 = 26
	OidJSON        uint32 = 114
	OidFloat4      uint32 = 700
	OidFloat8      uint32 = 701
	OidUnknown     uint32 = 705
	OidBpchar      uint32 = 1042
	OidVarchar     uint32 = 1043
	OidDate        uint32 = 1082
	OidTime        uint32 = 1083
	OidTimestamp   uint32 = 1114
	OidTimestampTZ uint32 = 1184
	OidInterval    uint32 = 1186
	OidNumeric     uint32 = 1700
	OidRegclass    uint32 = 2205
	OidRegtype     uint32 = 2206
	OidJSONB       uint32 = 3802
	// OidRegnamespace and OidRegrole name schemas and roles (catalog queries).
	OidRegnamespace uint32 = 4089
	OidRegrole      uint32 = 4096
)

// Type is a SQL type: a Kind, the PostgreSQL OID that names it on the wire and
// in catalogs, a type modifier (varchar(n), numeric(p,s): PostgreSQL's
// atttypmod, -1 for none) and, for arrays, the element kind and OID.
type Type struct {
	Kind    Kind
	OID     uint32
	Mod     int32
	Elem    Kind   // for KindArray
	ElemOID uint32 // for KindArray
}

// Predefined types.
var (
	Unknown     = Type{Kind: KindNull, OID: OidUnknown, Mod: -1}
	Bool        = Type{Kind: KindBool, OID: OidBool, Mod: -1}
	Int2        = Type{Kind: KindInt2, OID: OidInt2, Mod: -1}
	Int4        = Type{Kind: KindInt4, OID: OidInt4, Mod: -1}
	Int8        = Type{Kind: KindInt8, OID: OidInt8, Mod: -1}
	Float4      = Type{Kind: KindFloat4, OID: OidFloat4, Mod: -1}
	Float8      = Type{Kind: KindFloat8, OID: OidFloat8, Mod: -1}
	Numeric     = Type{Kind: KindNumeric, OID: OidNumeric, Mod: -1}
	Text        = Type{Kind: KindText, OID: OidText, Mod: -1}
	Varchar     = Type{Kind: KindText, OID: OidVarchar, Mod: -1}
	Bpchar      = Type{Kind: KindText, OID: OidBpchar, Mod: -1}
	Name        = Type{Kind: KindText, OID: OidName, Mod: -1}
	Bytea       = Type{Kind: KindBytea, OID: OidBytea, Mod: -1}
	Date        = Type{Kind: KindDate, OID: OidDate, Mod: -1}
	Time        = Type{Kind: KindTime, OID: OidTime, Mod: -1}
	Timestamp   = Type{Kind: KindTimestamp, OID: OidTimestamp, Mod: -1}
	TimestampTZ = Type{Kind: KindTimestampTZ, OID: OidTimestampTZ, Mod: -1}
	Interval    = Type{Kind: KindInterval, OID: OidInterval, Mod: -1}
	JSONB       = Type{Kind: KindJSONB, OID: OidJSONB, Mod: -1}
	Oid         = Type{Kind: KindOid, OID: OidOid, Mod: -1}
	Regclass    = Type{Kind: KindOid, OID: OidRegclass, Mod: -1}
)

// String returns the type's SQL name as PostgreSQL's format_type prints it.
func (t Type) String() string {
	switch t.OID {
	case OidVarchar:
		if t.Mod >= 4 {
			return fmt.Sprintf("character varying(%d)", t.Mod-4)
		}
		return "character varying"
	case OidBpchar:
		if t.Mod >= 4 {
			return fmt.Sprintf("character(%d)", t.Mod-4)
		}
		return "character"
	case OidName:
		return "name"
	case OidNumeric:
		if t.Mod >= 4 {
			m := t.Mod - 4
			return fmt.Sprintf("numeric(%d,%d)", (m>>16)&0xffff, m&0xffff)
		}
		return "numeric"
	case OidRegclass:
		return "regclass"
	case OidRegtype:
		return "regtype"
	case OidRegproc:
		return "regproc"
	case OidRegnamespace:
		return "regnamespace"
	case OidRegrole:
		return "regrole"
	case OidJSON:
		return "json"
	}
	if t.Kind == KindArray {
		return ByKind(t.Elem).String() + "[]"
	}
	return t.Kind.String()
}

// ByKind returns the canonical type of a kind.
func ByKind(k Kind) Type {
	switch k {
	case KindBool:
		return Bool
	case KindInt2:
		return Int2
	case KindInt4:
		return Int4
	case KindInt8:
		return Int8
	case KindFloat4:
		return Float4
	case KindFloat8:
		return Float8
	case KindNumeric:
		return Numeric
	case KindText:
		return Text
	case KindBytea:
		return Bytea
	case KindDate:
		return Date
	case KindTime:
		return Time
	case KindTimestamp:
		return Timestamp
	case KindTimestampTZ:
		return TimestampTZ
	case KindInterval:
		return Interval
	case KindJSONB:
		return JSONB
	case KindOid:
		return Oid
	}
	return Unknown
}

// Size is the typlen PostgreSQL reports in RowDescription (-1 = varlena).
func (t Type) Size() int16 {
	switch t.Kind {
	case KindBool:
		return 1
	case KindInt2:
		return 2
	case KindInt4, KindFloat4, KindDate, KindOid:
		return 4
	case KindInt8, KindFloat8, KindTime, KindTimestamp, KindTimestampTZ:
		return 8
	case KindInterval:
		return 16
	}
	return -1
}

// IsNumeric reports whether t is one of the number types.
func (t Type) IsNumeric() bool {
	switch t.Kind {
	case KindInt2, KindInt4, KindInt8, KindFloat4, KindFloat8, KindNumeric:
		return true
	}
	return false
}
