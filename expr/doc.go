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
// Coerce turns it into a constant of the wanted type through the type's
// input function, as PostgreSQL does.
//
// # Caveats
//
//   - Text comparison is byte order (the "C" collation); lower/upper/initcap
//     use Unicode case mapping rather than a locale.
//   - Regular expressions are Go's RE2 syntax, which differs from
//     PostgreSQL's ARE in back references and a few escapes.
//   - An EvalContext is read-only during evaluation and may be shared by
//     goroutines; the LIKE/regex pattern caches are safe for concurrent use.
package expr
