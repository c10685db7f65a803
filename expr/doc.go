// Package expr owns kappa's bound scalar expressions: the typed expression
// tree the planner builds from the SQL AST and exec evaluates row by row, and
// the library of PostgreSQL functions, operators and casts behind it, with
// PostgreSQL's overload resolution (LookupOperator, LookupFunction, Coerce,
// CommonType) and constant folding (Fold).
//
// expr imports only types and pgerr (never sql, catalog, planner, exec,
// storage or log): it is the planner's vocabulary, not a consumer of it.
//
// Invariants: an Expr's Eval returns either SQL NULL or a Value of the Kind of
// its Type(); a Call's arguments already have the Func's declared argument
// types (the planner coerces them through Coerce or the Bind helpers); every
// error a user can cause is a *pgerr.Error with PostgreSQL's SQLSTATE and
// wording. Eval of integer and float arithmetic and of comparisons does not
// allocate.
//
// Literals: an untyped SQL literal ('abc', NULL) is a Const of type
// types.Unknown whose value is a text Value holding the literal (or NULL);
// Coerce and CastTo turn it into a constant of the wanted type through the
// type's input function, as PostgreSQL does. Conversions that depend on the
// session time zone (anything to or from timestamptz) are not folded by
// Coerce/CastTo, only by Fold with the statement's EvalContext.
//
// Building: the planner may build nodes itself (after Lookup* and Coerce)
// or use the Bind*/New* helpers, which apply PostgreSQL's resolution and
// coercion rules in one step. A Call of a polymorphic or pattern function
// (concat, pg_typeof, LIKE, ~, regexp_*) specialises itself to its call
// site on first evaluation, so a constant pattern compiles once.
//
// Files: expr.go (nodes, Eval, String), resolve.go (overload resolution,
// Coerce, CommonType, Fold), bind.go (builders), register.go (the registry),
// arith.go, compare.go, math.go, text.go, datetime.go (the library). Tests:
// testdata/*.txt hold SQL expressions with PostgreSQL 15's answers
// (go test -rewrite re-asks a real server).
//
// # Caveats
//
//   - Text comparison is byte order (the "C" collation); lower/upper/initcap
//     use Unicode case mapping rather than a locale.
//   - Regular expressions are Go's RE2 syntax, which differs from
//     PostgreSQL's ARE in back references and a few escapes.
//   - An EvalContext is read-only during evaluation and may be shared by
//     goroutines; Eval needs a non-nil one. The LIKE/regex pattern caches
//     are safe for concurrent use.
//   - now(), current_timestamp, current_date and friends read
//     EvalContext.Now and are marked Volatile, so plans and materialized
//     views never freeze them (PostgreSQL calls them stable).
//   - Float formatting, cbrt and the transcendental functions use Go's math
//     package, which can differ from glibc in the last bit.
//   - Zone names in AT TIME ZONE come from the system's tz database; PG's
//     abbreviation table (PST, CEST...) is not consulted.
package expr
