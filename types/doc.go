// Package types owns kappa's SQL types and values: the Type descriptor with its
// PostgreSQL OID, the in-memory Value (a plain struct: no interface boxing on
// hot paths), rows, comparison, and the three encodings every value has —
// memcomparable bytes for storage keys and ordering, and PostgreSQL's text and
// binary wire formats — plus casts and the arithmetic PostgreSQL defines.
//
// types is shared by every layer (sql, planner, exec, storage, log); it
// imports no kappa package except pgerr.
//
// Invariants: a Value's Kind is KindNull for SQL NULL, otherwise the Kind of
// the column's Type (an int4 column never holds an int8 Value). NULL sorts
// after every non-NULL value (PostgreSQL's default, NULLS LAST for ASC).
//
// Caveats: numeric is backed by apd.Decimal (pointer); treat Values as
// immutable once built, since copies share the decimal.
package types
