package storage

import "encoding/binary"

// Key layout. Every key starts with a one-byte space tag, then (for
// per-object spaces) the object's id as 8 big-endian bytes, then the rest.
//
//	'a' id               role record of role id (JSON)
//	'c' id               catalog record of object id (JSON)
//	'm' name             metadata (e.g. the next object id)
//	'o' dataflow source  committed log offset of a dataflow's input
//	'r' relation key     a relation's row: tables by primary key (or row id),
//	                     views by their key columns (value: count + row)
//	's' operator key     operator state
const (
	spaceRole     = 'a'
	spaceCatalog  = 'c'
	spaceMeta     = 'm'
	spaceOffset   = 'o'
	spaceRelation = 'r'
	spaceState    = 's'
)

func objKey(space byte, id uint64, extra int) []byte {
	k := make([]byte, 9, 9+extra)
	k[0] = space
	binary.BigEndian.PutUint64(k[1:], id)
	return k
}

// CatalogKey is the key of object id's catalog record.
func CatalogKey(id uint64) []byte { return objKey(spaceCatalog, id, 0) }

// CatalogSpan is the span of all catalog records.
func CatalogSpan() (lower, upper []byte) { return []byte{spaceCatalog}, []byte{spaceCatalog + 1} }

// RoleKey is the key of role id's record.
func RoleKey(id uint64) []byte { return objKey(spaceRole, id, 0) }

// RoleSpan is the span of all role records.
func RoleSpan() (lower, upper []byte) { return []byte{spaceRole}, []byte{spaceRole + 1} }

// MetaKey is the key of a named metadata value.
func MetaKey(name string) []byte { return append([]byte{spaceMeta}, name...) }

// OffsetKey is where dataflow df stores the next offset to read from source src.
func OffsetKey(df, src uint64) []byte {
	k := objKey(spaceOffset, df, 8)
	return binary.BigEndian.AppendUint64(k, src)
}

// OffsetSpan covers every offset record of dataflow df.
func OffsetSpan(df uint64) (lower, upper []byte) { return objSpan(spaceOffset, df) }

// RelationPrefix is the prefix of relation rel's rows; append the row key.
func RelationPrefix(rel uint64) []byte { return objKey(spaceRelation, rel, 32) }

// AppendRelationPrefix appends the prefix of relation rel's rows to dst.
func AppendRelationPrefix(dst []byte, rel uint64) []byte {
	return binary.BigEndian.AppendUint64(append(dst, spaceRelation), rel)
}

// RelationSpan covers every row of rel.
func RelationSpan(rel uint64) (lower, upper []byte) { return objSpan(spaceRelation, rel) }

// StatePrefix is the prefix of operator op's state; append the state key.
func StatePrefix(op uint64) []byte { return objKey(spaceState, op, 32) }

// StateSpan covers all state of operator op.
func StateSpan(op uint64) (lower, upper []byte) { return objSpan(spaceState, op) }

func objSpan(space byte, id uint64) (lower, upper []byte) {
	lower = objKey(space, id, 0)
	upper = objKey(space, id+1, 0)
	if id == ^uint64(0) {
		upper = []byte{space + 1}
	}
	return lower, upper
}

// PrefixEnd returns the smallest key greater than every key with prefix p.
func PrefixEnd(p []byte) []byte { return AppendPrefixEnd(nil, p) }

// AppendPrefixEnd appends PrefixEnd(p) to dst[:0] (dst must not overlap p);
// it returns nil when p is all 0xff (no upper bound).
func AppendPrefixEnd(dst, p []byte) []byte {
	end := append(dst[:0], p...)
	for i := len(end) - 1; i >= 0; i-- {
		end[i]++
		if end[i] != 0 {
			return end[:i+1]
		}
	}
	return nil // p is all 0xff: no upper bound
}
