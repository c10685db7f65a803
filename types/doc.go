// Package types owns kappa's SQL types and values: the Type descriptor with its
// PostgreSQL OID, the in-memory Value (a plain struct: no interface boxing on
// hot paths), rows, comparison, and the encodings every value has —
// memcomparable bytes for storage keys and ordering (key.go), a compact
// self-describing row encoding for log records and stored rows (row.go), and
// PostgreSQL's text (text.go, datetime.go, interval.go, numeric.go, json.go,
// array.go) and binary (binary.go) wire formats — plus casts (cast.go), type
// names (typename.go), and Hash/Equal (hash.go). Arithmetic and the scalar
// function library live in package expr.
//
// types is shared by every layer (sql, planner, exec, storage, log); it
// imports no kappa package except pgerr.
//
// Invariants: a Value's Kind is KindNull for SQL NULL, otherwise the Kind of
// the column's Type (an int4 column never holds an int8 Value). NULL sorts
// after every non-NULL value (PostgreSQL's default, NULLS LAST for ASC).
// For values a and b of one kind, sign(bytes.Compare(AppendKey(a),
// AppendKey(b))) == Compare(a, b), except that equal intervals with different
// fields ('1 mon', '30 days') have different keys. Equal values hash equal.
// Text I/O matches PostgreSQL 15 with DateStyle ISO, MDY, IntervalStyle
// postgres and extra_float_digits 1; testdata/*.tsv record PostgreSQL's
// answers and TestAgainstPostgres re-checks them against a live server.
//
// Caveats:
//   - numeric is backed by apd.Decimal (pointer); treat Values as immutable
//     once built, since copies share the decimal.
//   - Keys normalize numerics (1.0 and 1.00 share a key and decode as 1) and
//     floats (-0 decodes as 0); key and row decoding copy strings out of the
//     source buffer.
//   - Arrays are one-dimensional with lower bound 1 ("[1:n]={...}" is read;
//     other bounds and nested braces are 0A000).
//   - jsonb is held as canonical text and ordered bytewise, not by
//     PostgreSQL's jsonb ordering; json is read as jsonb.
//   - char(n) values are stored blank-padded and compared with the padding
//     (PostgreSQL ignores trailing blanks when comparing bpchar).
//   - Date/time input covers ISO 8601, MDY with '/', month names, YYYYMMDD,
//     BC, AM/PM, numeric zones, IANA zone names (any case) and common
//     abbreviations; PostgreSQL's rarer forms (Julian days, day-of-year,
//     bare HHMMSS times, Etc/GMT+n spellings, a time after 'epoch') are not.
package types
