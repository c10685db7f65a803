package sql

// This file declares kappa's typed AST. The nodes are plain Go structs so the
// planner never sees pg_query's protobuf tree.
//
// Positions: every node has Pos, the 0-based byte offset of the node in the
// string that was given to Parse (not into the statement's own Text: subtract
// the statement's Offset for that), or -1 when unknown. Turn it into the
// 1-based character position that PostgreSQL reports with CharPos.

// Node is any AST node.
type Node interface {
	// Position is the node's 0-based byte offset in the text given to Parse,
	// or -1 when unknown.
	Position() int
}

// Statement is a top-level statement.
type Statement interface {
	Node
	// Info returns the statement's source text and offset. For statements
	// nested in others (the query of a view, the statement of an EXPLAIN)
	// Text is empty.
	Info() *StatementInfo
	statementNode()
}

// StatementInfo is embedded in every statement.
type StatementInfo struct {
	// Text is the exact original text of the statement, without the
	// terminating semicolon and surrounding whitespace.
	Text string
	// Offset is the byte offset of Text in the string given to Parse.
	Offset int
}

// Info implements Statement.
func (s *StatementInfo) Info() *StatementInfo { return s }

// Expr is an expression.
type Expr interface {
	Node
	exprNode()
}

// TableRef is an item of a FROM list: *TableName, *Subquery, *Join or
// *TableFunc.
type TableRef interface {
	Node
	tableRefNode()
}

// ---------------------------------------------------------------------------
// Names

// ObjectName is a possibly qualified name of a catalog object. Catalog and
// Schema are empty when not written. Identifiers are already case-folded
// (unquoted names lowercased) as PostgreSQL does.
type ObjectName struct {
	Pos     int
	Catalog string
	Schema  string
	Name    string
}

// Alias is `AS name (col, ...)` after a FROM item.
type Alias struct {
	Name    string
	Columns []string
}

// TypeName is a type as written in a cast, a column definition or a typed
// literal.
type TypeName struct {
	Pos int
	// Names is the name as written, with a leading pg_catalog removed.
	Names []string
	// Name is the normalized base type name, as PostgreSQL's pg_type names
	// it: int4, int8, int2, float4, float8, numeric, bool, text, varchar,
	// bpchar, bytea, date, time, timetz, timestamp, timestamptz, interval,
	// jsonb, json, oid, regclass, ... For a type name the grammar does not
	// know it is the last element of Names.
	Name string
	// Typmods are the type modifiers: varchar(10) → [10], numeric(10,2) →
	// [10 2], timestamp(3) → [3]. For interval, only the precision (the
	// fields are in IntervalFields).
	Typmods []int32
	// ArrayBounds has one entry per array dimension; -1 for `[]`.
	ArrayBounds []int32
	// IntervalFields is the field restriction of an interval type, upper
	// case: "YEAR", "DAY TO SECOND", ...; empty when none.
	IntervalFields string
	// PctType is set for `name%TYPE`.
	PctType bool
	// Setof is set for `SETOF type`.
	Setof bool
}

// ---------------------------------------------------------------------------
// Queries

// Select is a query: a simple SELECT, a VALUES list, or a set operation of
// two queries. Exactly one of the three forms is used:
//   - SetOp != SetOpNone: Left and Right hold the operands;
//   - Values != nil: a VALUES list;
//   - otherwise the SELECT fields (Targets, From, ...).
//
// With, OrderBy, Limit and Offset apply to any form.
type Select struct {
	StatementInfo
	Pos int

	With *With

	Distinct   bool
	DistinctOn []Expr // implies Distinct
	Targets    []*Target
	From       []TableRef
	Where      Expr
	// GroupBy holds expressions and *GroupingSet nodes.
	GroupBy         []Expr
	GroupByDistinct bool
	Having          Expr
	Windows         []*WindowDef

	Values [][]Expr

	SetOp  SetOpKind
	SetAll bool
	Left   *Select
	Right  *Select

	OrderBy []*OrderItem
	// Limit is nil when absent and for LIMIT ALL (LimitAll is then set).
	Limit         Expr
	LimitAll      bool
	LimitWithTies bool // FETCH FIRST n ROWS WITH TIES
	Offset        Expr
	// Locking holds FOR UPDATE / FOR SHARE ... clauses as written, upper
	// case ("FOR UPDATE"); the planner decides what they mean.
	Locking []string

	// EmitOnWindowClose is kappa's `EMIT ON WINDOW CLOSE` after the query;
	// EmitPos is the position of EMIT.
	EmitOnWindowClose bool
	EmitPos           int
}

// SetOpKind is the operator of a set operation.
type SetOpKind int

// Set operations.
const (
	SetOpNone SetOpKind = iota
	SetOpUnion
	SetOpIntersect
	SetOpExcept
)

// With is a WITH clause.
type With struct {
	Pos       int
	Recursive bool
	CTEs      []*CTE
}

// CTE is one common table expression.
type CTE struct {
	Pos     int
	Name    string
	Columns []string
	Query   *Select
	// Materialized is MaterializeDefault, MaterializeAlways or
	// MaterializeNever (AS [NOT] MATERIALIZED).
	Materialized CTEMaterialize
}

// CTEMaterialize is the [NOT] MATERIALIZED option of a CTE.
type CTEMaterialize int

// CTE materialization options.
const (
	MaterializeDefault CTEMaterialize = iota
	MaterializeAlways
	MaterializeNever
)

// Target is an item of a SELECT list or a RETURNING list. `*` and `t.*` are
// a *ColumnRef with Star set.
type Target struct {
	Pos   int
	Expr  Expr
	Alias string // empty when not written
}

// TableName is a table, view or source in FROM (or the target of DML).
type TableName struct {
	ObjectName
	Alias *Alias
	// Only is set for `ONLY t`.
	Only bool
}

// Subquery is `(query) AS alias` in FROM.
type Subquery struct {
	Pos     int
	Query   *Select
	Alias   *Alias
	Lateral bool
}

// JoinKind is the kind of a join.
type JoinKind int

// Join kinds.
const (
	JoinInner JoinKind = iota
	JoinLeft
	JoinRight
	JoinFull
	JoinCross
)

// Join is `left JOIN right ON ... | USING (...)`; NATURAL joins set Natural
// and leave On and Using empty.
type Join struct {
	Pos     int
	Kind    JoinKind
	Left    TableRef
	Right   TableRef
	Natural bool
	On      Expr
	Using   []string
	// UsingAlias is `USING (...) AS name`.
	UsingAlias string
	// Alias is `(a JOIN b ...) AS name`.
	Alias *Alias
}

// TableFunc is a function call in FROM: `generate_series(1, 10) AS g(i)`,
// `TUMBLE(bids, ts, INTERVAL '10 seconds')`, `unnest(a) WITH ORDINALITY`.
// Relation arguments (`bids` in TUMBLE) are ColumnRefs: the planner decides
// what they name.
type TableFunc struct {
	Pos            int
	Func           *FuncCall
	Alias          *Alias
	Lateral        bool
	WithOrdinality bool
}

// GroupingSetKind is the kind of a GroupingSet.
type GroupingSetKind int

// Grouping set kinds.
const (
	// GroupingEmpty is `()`.
	GroupingEmpty GroupingSetKind = iota
	// GroupingSimple is a parenthesized list `(a, b)` inside the others.
	GroupingSimple
	GroupingRollup
	GroupingCube
	// GroupingSets is `GROUPING SETS (...)`.
	GroupingSets
)

// GroupingSet is ROLLUP / CUBE / GROUPING SETS in GROUP BY. Items holds
// expressions and nested *GroupingSet nodes.
type GroupingSet struct {
	Pos   int
	Kind  GroupingSetKind
	Items []Expr
}

// SortDir is the direction of an ORDER BY item.
type SortDir int

// Sort directions.
const (
	SortDefault SortDir = iota
	SortAsc
	SortDesc
	// SortUsing is `ORDER BY x USING op` (OrderItem.UsingOp).
	SortUsing
)

// NullsOrder is NULLS FIRST / LAST of an ORDER BY item.
type NullsOrder int

// Nulls orders.
const (
	NullsDefault NullsOrder = iota
	NullsFirst
	NullsLast
)

// OrderItem is one ORDER BY item.
type OrderItem struct {
	Pos     int
	Expr    Expr
	Dir     SortDir
	Nulls   NullsOrder
	UsingOp string
}

// WindowDef is a window: an item of the WINDOW clause (Name set), or the
// OVER of a window function. `OVER w` has Name "w" and nothing else; `OVER (w
// ORDER BY x)` has RefName "w".
type WindowDef struct {
	Pos         int
	Name        string
	RefName     string
	PartitionBy []Expr
	OrderBy     []*OrderItem
	Frame       *WindowFrame // nil: the default frame
}

// FrameMode is ROWS, RANGE or GROUPS.
type FrameMode int

// Frame modes.
const (
	FrameRange FrameMode = iota
	FrameRows
	FrameGroups
)

// FrameBoundKind is the kind of a frame bound.
type FrameBoundKind int

// Frame bound kinds.
const (
	BoundUnboundedPreceding FrameBoundKind = iota
	BoundPreceding                         // Offset PRECEDING
	BoundCurrentRow
	BoundFollowing // Offset FOLLOWING
	BoundUnboundedFollowing
)

// FrameBound is one end of a window frame.
type FrameBound struct {
	Kind   FrameBoundKind
	Offset Expr // for BoundPreceding and BoundFollowing
}

// FrameExclude is the EXCLUDE option of a frame.
type FrameExclude int

// Frame exclusions.
const (
	ExcludeNoOthers FrameExclude = iota
	ExcludeCurrentRow
	ExcludeGroup
	ExcludeTies
)

// WindowFrame is an explicit frame clause. `ROWS n PRECEDING` (no BETWEEN)
// has End = CURRENT ROW, as in PostgreSQL.
type WindowFrame struct {
	Mode    FrameMode
	Start   FrameBound
	End     FrameBound
	Exclude FrameExclude
}

// ---------------------------------------------------------------------------
// Expressions

// ColumnRef is a column reference `a`, `t.a`, `s.t.a`, or a star `*`,
// `t.*` (Star set; Names holds the qualifier only).
type ColumnRef struct {
	Pos   int
	Names []string
	Star  bool
}

// LiteralKind is the kind of a Literal.
type LiteralKind int

// Literal kinds.
const (
	LitNull LiteralKind = iota
	// LitInteger is an integer that fits in int32 in PostgreSQL's lexer.
	LitInteger
	// LitNumeric is any other number: 1.5, 1e10, 99999999999.
	// PostgreSQL types an integer-looking one int8 when it fits, any other
	// numeric.
	LitNumeric
	LitString
	LitBool
	// LitBitString is B'0101' (Value "b0101") or X'1F' (Value "x1F").
	LitBitString
)

// Literal is a constant. Value keeps the text as written (for strings: the
// string's value, escapes resolved), so no precision is lost. Negative
// numbers folded by the grammar (`-1`) have Value "-1".
type Literal struct {
	Pos   int
	Kind  LiteralKind
	Value string // "true"/"false" for LitBool, "" for LitNull
}

// TypedLiteral is a string constant preceded by a type name: DATE
// '2024-01-01', INTERVAL '1 day', INTERVAL '1' DAY (Type.IntervalFields is
// "DAY"). Pos is the position of the type name.
type TypedLiteral struct {
	Pos   int
	Type  *TypeName
	Value string
}

// Param is a parameter placeholder $n.
type Param struct {
	Pos    int
	Number int
}

// Unary is a prefix operator: "-", "+", "~", "NOT", or any other operator
// name PostgreSQL accepts (`@ x`, `|/ x`).
type Unary struct {
	Pos     int
	Op      string
	Schema  string // OPERATOR(schema.op); empty when not qualified
	Operand Expr
}

// Binary is an infix operator. Op is the operator name as PostgreSQL knows
// it: "+", "||", "=", "<>" (also written !=), "~~" (LIKE), "!~~" (NOT LIKE),
// "~~*" (ILIKE), "!~~*" (NOT ILIKE), "~" (regex match and SIMILAR TO, whose
// right side is then a similar_to_escape call), "!~", ... Schema is set for
// `OPERATOR(pg_catalog.~)`.
type Binary struct {
	Pos    int
	Op     string
	Schema string
	Left   Expr
	Right  Expr
}

// And is a conjunction of two or more operands.
type And struct {
	Pos  int
	Args []Expr
}

// Or is a disjunction of two or more operands.
type Or struct {
	Pos  int
	Args []Expr
}

// IsNull is `x IS NULL` or, with Not, `x IS NOT NULL`.
type IsNull struct {
	Pos int
	Arg Expr
	Not bool
}

// BoolTestKind is what an IsBool tests for.
type BoolTestKind int

// Boolean tests.
const (
	TestTrue BoolTestKind = iota
	TestFalse
	TestUnknown
)

// IsBool is `x IS [NOT] TRUE | FALSE | UNKNOWN`.
type IsBool struct {
	Pos  int
	Arg  Expr
	Test BoolTestKind
	Not  bool
}

// IsDistinctFrom is `a IS [NOT] DISTINCT FROM b`.
type IsDistinctFrom struct {
	Pos   int
	Left  Expr
	Right Expr
	Not   bool
}

// Between is `x [NOT] BETWEEN [SYMMETRIC] low AND high`.
type Between struct {
	Pos       int
	Arg       Expr
	Low       Expr
	High      Expr
	Not       bool
	Symmetric bool
}

// In is `x [NOT] IN (a, b, ...)`.
type In struct {
	Pos  int
	Arg  Expr
	List []Expr
	Not  bool
}

// InSubquery is `x [NOT] IN (SELECT ...)`; Arg may be a *Row.
type InSubquery struct {
	Pos   int
	Arg   Expr
	Query *Select
	Not   bool
}

// Quantified is `x op ANY|SOME|ALL (subquery)` or `x op ANY|ALL (array)`.
// Exactly one of Query and Array is set.
type Quantified struct {
	Pos    int
	Op     string
	Schema string
	All    bool // ALL; otherwise ANY/SOME
	Left   Expr
	Query  *Select
	Array  Expr
}

// Exists is `EXISTS (subquery)`.
type Exists struct {
	Pos   int
	Query *Select
}

// ScalarSubquery is `(subquery)` used as a value.
type ScalarSubquery struct {
	Pos   int
	Query *Select
}

// ArraySubquery is `ARRAY(subquery)`.
type ArraySubquery struct {
	Pos   int
	Query *Select
}

// When is one WHEN ... THEN ... of a Case.
type When struct {
	Pos    int
	Cond   Expr
	Result Expr
}

// Case is `CASE [operand] WHEN ... THEN ... [ELSE ...] END`.
type Case struct {
	Pos     int
	Operand Expr // nil for a searched CASE
	Whens   []*When
	Else    Expr // nil when absent
}

// Coalesce is `COALESCE(a, b, ...)`.
type Coalesce struct {
	Pos  int
	Args []Expr
}

// NullIf is `NULLIF(a, b)`.
type NullIf struct {
	Pos   int
	Left  Expr
	Right Expr
}

// Greatest is `GREATEST(a, b, ...)`.
type Greatest struct {
	Pos  int
	Args []Expr
}

// Least is `LEAST(a, b, ...)`.
type Least struct {
	Pos  int
	Args []Expr
}

// CastSyntax says how a Cast was written.
type CastSyntax int

// Cast syntaxes.
const (
	CastColons   CastSyntax = iota // x::t
	CastFunction                   // CAST(x AS t)
)

// Cast is `x::type` or `CAST(x AS type)`.
type Cast struct {
	Pos    int
	Arg    Expr
	Type   *TypeName
	Syntax CastSyntax
}

// FuncCall is a function call: scalar, aggregate or window function.
//
// pg_query rewrites SQL-syntax functions into calls: extract(f FROM x) is
// pg_catalog.extract('f', x) (Schema "pg_catalog", Name "extract"), as are
// position, substring, trim (btrim/ltrim/rtrim), overlay, and `x AT TIME
// ZONE z` → pg_catalog.timezone(z, x). SQL-value functions (CURRENT_DATE,
// USER, ...) are calls with Keyword set and Name the function that computes
// them.
type FuncCall struct {
	Pos    int
	Schema string // empty when not qualified
	Name   string
	Args   []Expr
	// ArgNames is parallel to Args: the name of a named argument (`name =>
	// value`), "" for positional ones. nil when no argument is named.
	ArgNames []string
	Distinct bool
	// Star is `f(*)`, as in count(*).
	Star     bool
	Variadic bool // last argument written VARIADIC
	// OrderBy is the ORDER BY inside an aggregate's argument list.
	OrderBy []*OrderItem
	// WithinGroup is WITHIN GROUP (ORDER BY ...) of an ordered-set
	// aggregate such as percentile_cont or approx_percentile.
	WithinGroup []*OrderItem
	Filter      Expr       // FILTER (WHERE ...)
	Over        *WindowDef // OVER ...
	// Keyword is set for SQL-value functions written without parentheses,
	// upper case as PostgreSQL names them: "CURRENT_DATE", "CURRENT_TIME",
	// "CURRENT_TIMESTAMP", "LOCALTIME", "LOCALTIMESTAMP", "CURRENT_ROLE",
	// "CURRENT_USER", "SESSION_USER", "USER", "CURRENT_CATALOG",
	// "CURRENT_SCHEMA". Name is then current_date, current_time,
	// current_timestamp, localtime, localtimestamp, current_user (for
	// CURRENT_ROLE, CURRENT_USER and USER), session_user, current_database
	// (CURRENT_CATALOG) or current_schema; Args holds the precision of
	// CURRENT_TIMESTAMP(3) and friends.
	Keyword string
}

// ArrayExpr is `ARRAY[a, b, ...]`; nested brackets are nested ArrayExprs.
type ArrayExpr struct {
	Pos   int
	Elems []Expr
}

// Subscript is `arr[i]` or, with Slice, `arr[lo:hi]` (either bound may be
// nil in a slice).
type Subscript struct {
	Pos   int
	Arg   Expr
	Index Expr // the index, or the lower bound of a slice
	Upper Expr
	Slice bool
}

// FieldAccess is `(composite).field`, or `(composite).*` with Star.
type FieldAccess struct {
	Pos   int
	Arg   Expr
	Field string
	Star  bool
}

// Row is a row constructor: `ROW(a, b)` (Explicit) or `(a, b)`.
type Row struct {
	Pos      int
	Args     []Expr
	Explicit bool
}

// Collate is `x COLLATE name`.
type Collate struct {
	Pos       int
	Arg       Expr
	Collation []string
}

// Default is the DEFAULT keyword in VALUES or UPDATE ... SET x = DEFAULT.
type Default struct {
	Pos int
}

// ---------------------------------------------------------------------------
// Data modification

// Insert is INSERT INTO table [(columns)] source [ON CONFLICT ...]
// [RETURNING ...].
type Insert struct {
	StatementInfo
	Pos     int
	With    *With
	Table   *TableName
	Columns []string
	// Source is a VALUES list or a query; nil for DEFAULT VALUES.
	Source     *Select
	OnConflict *OnConflict
	Returning  []*Target
}

// OnConflict is an ON CONFLICT clause.
type OnConflict struct {
	Pos int
	// Columns is the conflict target `(a, b)`; Constraint is `ON
	// CONSTRAINT name`. Both empty when not written.
	Columns    []string
	Constraint string
	// DoUpdate is DO UPDATE; otherwise DO NOTHING.
	DoUpdate bool
	Set      []*Assignment
	Where    Expr
}

// Assignment is `column = value` in UPDATE ... SET and ON CONFLICT DO
// UPDATE SET. `(a, b) = (1, 2)` becomes two assignments.
type Assignment struct {
	Pos    int
	Column string
	Value  Expr
}

// Update is UPDATE table [AS alias] SET ... [FROM ...] [WHERE ...]
// [RETURNING ...].
type Update struct {
	StatementInfo
	Pos       int
	With      *With
	Table     *TableName
	Set       []*Assignment
	From      []TableRef
	Where     Expr
	Returning []*Target
}

// Delete is DELETE FROM table [AS alias] [USING ...] [WHERE ...]
// [RETURNING ...].
type Delete struct {
	StatementInfo
	Pos       int
	With      *With
	Table     *TableName
	Using     []TableRef
	Where     Expr
	Returning []*Target
}

// Copy is COPY table [(columns)] FROM STDIN / TO STDOUT, or COPY (query) TO
// STDOUT. Files and programs are rejected by the parser.
type Copy struct {
	StatementInfo
	Pos     int
	Table   *TableName // nil when Query is set
	Columns []string
	// Query is the statement of COPY (query) TO STDOUT: a *Select, a
	// *Subscribe, or an *Insert/*Update/*Delete with RETURNING.
	Query Statement
	// From is COPY ... FROM STDIN; otherwise TO STDOUT.
	From bool
	// Format is "text" (the default), "csv" or "binary".
	Format string
	Header bool
	// Delimiter, Null, Quote and Escape are nil when not given.
	Delimiter *string
	Null      *string
	Quote     *string
	Escape    *string
	// Options holds every option as given, including the ones above.
	Options Options
}

// ---------------------------------------------------------------------------
// Options

// Option is `key = value` in a WITH (...) list, a FORMAT ... ENCODE ...
// (...) list, an EXPLAIN option list or COPY options. Keys are lowercased
// and may be dotted (`properties.bootstrap.server`).
type Option struct {
	Pos int
	Key string
	// Value is the value's text: a string literal's value, a number as
	// written, an identifier or keyword lowercased; "" when no value was
	// given (`WITH (foo)`, EXPLAIN (ANALYZE)).
	Value string
	// HasValue is false when no value was given.
	HasValue bool
}

// Options is an ordered option list; the order and positions are kept for
// error messages.
type Options []Option

// Lookup returns the last option with key.
func (o Options) Lookup(key string) (Option, bool) {
	for i := len(o) - 1; i >= 0; i-- {
		if o[i].Key == key {
			return o[i], true
		}
	}
	return Option{}, false
}

// Map returns the options as key → value (the last one wins).
func (o Options) Map() map[string]string {
	m := make(map[string]string, len(o))
	for _, opt := range o {
		m[opt.Key] = opt.Value
	}
	return m
}

// ---------------------------------------------------------------------------
// DDL

// ColumnDef is a column in CREATE TABLE / CREATE SOURCE.
type ColumnDef struct {
	Pos        int
	Name       string
	Type       *TypeName
	NotNull    bool
	Null       bool // explicit NULL
	Default    Expr
	PrimaryKey bool
	Unique     bool
	Collation  []string
	// Generated is GENERATED ALWAYS AS (expr) STORED.
	Generated Expr
	Checks    []Expr
}

// ConstraintKind is the kind of a table constraint.
type ConstraintKind int

// Table constraint kinds.
const (
	ConstraintPrimaryKey ConstraintKind = iota
	ConstraintUnique
	ConstraintCheck
)

// TableConstraint is PRIMARY KEY (...), UNIQUE (...) or CHECK (...) in a
// column list.
type TableConstraint struct {
	Pos     int
	Name    string // CONSTRAINT name; empty when not written
	Kind    ConstraintKind
	Columns []string
	Check   Expr
}

// Watermark is kappa's `WATERMARK FOR column AS expr` in a column list.
type Watermark struct {
	Pos    int
	Column string
	Expr   Expr
}

// CreateTable is CREATE TABLE.
type CreateTable struct {
	StatementInfo
	Pos         int
	Name        ObjectName
	IfNotExists bool
	Temporary   bool
	Columns     []*ColumnDef
	Constraints []*TableConstraint
	Options     Options
	// Watermark and AppendOnly are kappa extensions.
	Watermark  *Watermark
	AppendOnly bool
	// Format, Encode and FormatOptions are FORMAT x ENCODE y (...); empty
	// when not written.
	Format        string
	Encode        string
	FormatOptions Options
	// Query is CREATE TABLE ... AS query; nil otherwise.
	Query *Select
}

// CreateView is CREATE [OR REPLACE] VIEW.
type CreateView struct {
	StatementInfo
	Pos       int
	Name      ObjectName
	OrReplace bool
	Temporary bool
	Columns   []string
	Query     *Select
	// QueryText is the original text of the query.
	QueryText string
	Options   Options
}

// CreateMaterializedView is CREATE [OR REPLACE] MATERIALIZED VIEW [IF NOT
// EXISTS]. OR REPLACE is a kappa extension.
type CreateMaterializedView struct {
	StatementInfo
	Pos         int
	Name        ObjectName
	IfNotExists bool
	OrReplace   bool
	Columns     []string
	Query       *Select
	// QueryText is the original text of the query, without a trailing EMIT
	// ON WINDOW CLOSE (which is Query.EmitOnWindowClose).
	QueryText string
	Options   Options
}

// IndexElem is a column or expression of CREATE INDEX.
type IndexElem struct {
	Pos    int
	Column string // set for a plain column
	Expr   Expr   // set for an expression
	Dir    SortDir
	Nulls  NullsOrder
}

// CreateIndex is CREATE [UNIQUE] INDEX [IF NOT EXISTS] [name] ON table
// [USING method] (elems) [INCLUDE (...)] [WITH (...)] [WHERE ...].
type CreateIndex struct {
	StatementInfo
	Pos         int
	Name        string // empty when not written
	IfNotExists bool
	Unique      bool
	Table       ObjectName
	Method      string // empty when not written
	Elems       []*IndexElem
	Include     []string
	Options     Options
	Where       Expr
}

// CreateSource is kappa's CREATE SOURCE.
type CreateSource struct {
	StatementInfo
	Pos           int
	Name          ObjectName
	IfNotExists   bool
	Columns       []*ColumnDef
	Constraints   []*TableConstraint
	Watermark     *Watermark
	Options       Options
	Format        string // PLAIN, UPSERT, DEBEZIUM, ... as written, upper case
	Encode        string // JSON, CSV, AVRO, ... as written, upper case
	FormatOptions Options
}

// CreateSink is kappa's CREATE SINK name FROM object | AS query.
type CreateSink struct {
	StatementInfo
	Pos           int
	Name          ObjectName
	IfNotExists   bool
	From          *ObjectName // nil when Query is set
	Query         *Select
	QueryText     string
	Options       Options
	Format        string
	Encode        string
	FormatOptions Options
}

// ObjectKind is the kind of a catalog object in DROP and SHOW CREATE.
type ObjectKind int

// Object kinds.
const (
	ObjTable ObjectKind = iota
	ObjView
	ObjMaterializedView
	ObjIndex
	ObjSource
	ObjSink
)

// String returns the kind as SQL writes it: "TABLE", "MATERIALIZED VIEW".
func (k ObjectKind) String() string {
	switch k {
	case ObjTable:
		return "TABLE"
	case ObjView:
		return "VIEW"
	case ObjMaterializedView:
		return "MATERIALIZED VIEW"
	case ObjIndex:
		return "INDEX"
	case ObjSource:
		return "SOURCE"
	case ObjSink:
		return "SINK"
	}
	return "UNKNOWN"
}

// Drop is DROP kind [IF EXISTS] names [CASCADE | RESTRICT].
type Drop struct {
	StatementInfo
	Pos      int
	Kind     ObjectKind
	Names    []ObjectName
	IfExists bool
	Cascade  bool
}

// Subscribe is kappa's SUBSCRIBE [TO] name | (query) [WITH (...)].
type Subscribe struct {
	StatementInfo
	Pos       int
	Target    *ObjectName // nil when Query is set
	Query     *Select
	QueryText string
	Options   Options
}

// Show is SHOW name, SHOW ALL, or SHOW CREATE kind name.
type Show struct {
	StatementInfo
	Pos int
	// Name is lowercased, words separated by one space: "tables",
	// "materialized views", "sources", "server_version", "all",
	// "timezone" (SHOW TIME ZONE), "transaction_isolation" (SHOW
	// TRANSACTION ISOLATION LEVEL). Empty for SHOW CREATE.
	Name string
	// CreateKind and CreateName are set for SHOW CREATE kind name.
	CreateKind ObjectKind
	CreateName *ObjectName
}

// SetKind is the form of a Set statement.
type SetKind int

// Set forms.
const (
	// SetValue is SET name = values / TO values; SET TIME ZONE value.
	SetValue SetKind = iota
	// SetDefault is SET name TO DEFAULT (and SET TIME ZONE LOCAL/DEFAULT).
	SetDefault
	// SetReset is RESET name.
	SetReset
	// SetResetAll is RESET ALL.
	SetResetAll
	// SetTransaction is SET TRANSACTION modes (Name "transaction") or SET
	// SESSION CHARACTERISTICS AS TRANSACTION modes (Name
	// "session characteristics").
	SetTransaction
	// SetFromCurrent is SET name FROM CURRENT.
	SetFromCurrent
)

// Set is SET / RESET of a run-time parameter.
type Set struct {
	StatementInfo
	Pos  int
	Kind SetKind
	// Name is lowercased: "search_path", "timezone" for SET TIME ZONE.
	Name string
	// Values are the values as strings: a string literal's value, a
	// number as written, an identifier lowercased.
	Values []string
	Local  bool // SET LOCAL; otherwise SESSION
	Modes  TransactionModes
}

// TransactionModes are the modes of BEGIN / SET TRANSACTION.
type TransactionModes struct {
	// Isolation is "serializable", "repeatable read", "read committed",
	// "read uncommitted", or "" when not given.
	Isolation  string
	ReadOnly   *bool
	Deferrable *bool
}

// TransactionKind is the kind of a transaction control statement.
type TransactionKind int

// Transaction statement kinds.
const (
	TxnBegin    TransactionKind = iota // BEGIN, START TRANSACTION
	TxnCommit                          // COMMIT, END
	TxnRollback                        // ROLLBACK, ABORT
	TxnSavepoint
	TxnRelease
	TxnRollbackTo
)

// Transaction is a transaction control statement.
type Transaction struct {
	StatementInfo
	Pos       int
	Kind      TransactionKind
	Savepoint string
	Modes     TransactionModes
	Chain     bool // COMMIT/ROLLBACK AND CHAIN
}

// Explain is EXPLAIN [(options)] statement.
type Explain struct {
	StatementInfo
	Pos       int
	Options   Options
	Statement Statement
}

// Prepare is PREPARE name [(types)] AS statement.
type Prepare struct {
	StatementInfo
	Pos        int
	Name       string
	ParamTypes []*TypeName
	Statement  Statement
}

// Execute is EXECUTE name [(params)].
type Execute struct {
	StatementInfo
	Pos    int
	Name   string
	Params []Expr
}

// Deallocate is DEALLOCATE [PREPARE] name | ALL.
type Deallocate struct {
	StatementInfo
	Pos  int
	Name string
	All  bool
}

// Declare is DECLARE name [BINARY] [SCROLL] CURSOR [WITH HOLD] FOR query.
type Declare struct {
	StatementInfo
	Pos    int
	Name   string
	Query  *Select
	Binary bool
	Scroll bool
	Hold   bool
}

// FetchDirection is the direction of a FETCH / MOVE.
type FetchDirection int

// Fetch directions.
const (
	FetchForward FetchDirection = iota
	FetchBackward
	FetchAbsolute
	FetchRelative
)

// Fetch is FETCH or MOVE. FETCH n is FetchForward with Count n, FETCH ALL is
// FetchForward with All, FETCH NEXT is FetchForward 1, FETCH PRIOR is
// FetchBackward 1, FETCH FIRST is FetchAbsolute 1, FETCH LAST is
// FetchAbsolute -1.
type Fetch struct {
	StatementInfo
	Pos       int
	Cursor    string
	Direction FetchDirection
	Count     int64
	All       bool
	Move      bool
}

// Close is CLOSE name | ALL.
type Close struct {
	StatementInfo
	Pos    int
	Cursor string
	All    bool
}

// Discard is DISCARD ALL | PLANS | SEQUENCES | TEMP.
type Discard struct {
	StatementInfo
	Pos int
	// What is "all", "plans", "sequences" or "temp".
	What string
}

// ---------------------------------------------------------------------------
// Interface plumbing

func (n *ObjectName) Position() int      { return n.Pos }
func (n *TypeName) Position() int        { return n.Pos }
func (n *Select) Position() int          { return n.Pos }
func (n *With) Position() int            { return n.Pos }
func (n *CTE) Position() int             { return n.Pos }
func (n *Target) Position() int          { return n.Pos }
func (n *Subquery) Position() int        { return n.Pos }
func (n *Join) Position() int            { return n.Pos }
func (n *TableFunc) Position() int       { return n.Pos }
func (n *GroupingSet) Position() int     { return n.Pos }
func (n *OrderItem) Position() int       { return n.Pos }
func (n *WindowDef) Position() int       { return n.Pos }
func (n *ColumnRef) Position() int       { return n.Pos }
func (n *Literal) Position() int         { return n.Pos }
func (n *TypedLiteral) Position() int    { return n.Pos }
func (n *Param) Position() int           { return n.Pos }
func (n *Unary) Position() int           { return n.Pos }
func (n *Binary) Position() int          { return n.Pos }
func (n *And) Position() int             { return n.Pos }
func (n *Or) Position() int              { return n.Pos }
func (n *IsNull) Position() int          { return n.Pos }
func (n *IsBool) Position() int          { return n.Pos }
func (n *IsDistinctFrom) Position() int  { return n.Pos }
func (n *Between) Position() int         { return n.Pos }
func (n *In) Position() int              { return n.Pos }
func (n *InSubquery) Position() int      { return n.Pos }
func (n *Quantified) Position() int      { return n.Pos }
func (n *Exists) Position() int          { return n.Pos }
func (n *ScalarSubquery) Position() int  { return n.Pos }
func (n *ArraySubquery) Position() int   { return n.Pos }
func (n *When) Position() int            { return n.Pos }
func (n *Case) Position() int            { return n.Pos }
func (n *Coalesce) Position() int        { return n.Pos }
func (n *NullIf) Position() int          { return n.Pos }
func (n *Greatest) Position() int        { return n.Pos }
func (n *Least) Position() int           { return n.Pos }
func (n *Cast) Position() int            { return n.Pos }
func (n *FuncCall) Position() int        { return n.Pos }
func (n *ArrayExpr) Position() int       { return n.Pos }
func (n *Subscript) Position() int       { return n.Pos }
func (n *FieldAccess) Position() int     { return n.Pos }
func (n *Row) Position() int             { return n.Pos }
func (n *Collate) Position() int         { return n.Pos }
func (n *Default) Position() int         { return n.Pos }
func (n *Insert) Position() int          { return n.Pos }
func (n *OnConflict) Position() int      { return n.Pos }
func (n *Assignment) Position() int      { return n.Pos }
func (n *Update) Position() int          { return n.Pos }
func (n *Delete) Position() int          { return n.Pos }
func (n *Copy) Position() int            { return n.Pos }
func (n *ColumnDef) Position() int       { return n.Pos }
func (n *TableConstraint) Position() int { return n.Pos }
func (n *Watermark) Position() int       { return n.Pos }
func (n *CreateTable) Position() int     { return n.Pos }
func (n *CreateView) Position() int      { return n.Pos }
func (n *CreateMaterializedView) Position() int {
	return n.Pos
}
func (n *IndexElem) Position() int    { return n.Pos }
func (n *CreateIndex) Position() int  { return n.Pos }
func (n *CreateSource) Position() int { return n.Pos }
func (n *CreateSink) Position() int   { return n.Pos }
func (n *Drop) Position() int         { return n.Pos }
func (n *Subscribe) Position() int    { return n.Pos }
func (n *Show) Position() int         { return n.Pos }
func (n *Set) Position() int          { return n.Pos }
func (n *Transaction) Position() int  { return n.Pos }
func (n *Explain) Position() int      { return n.Pos }
func (n *Prepare) Position() int      { return n.Pos }
func (n *Execute) Position() int      { return n.Pos }
func (n *Deallocate) Position() int   { return n.Pos }
func (n *Declare) Position() int      { return n.Pos }
func (n *Fetch) Position() int        { return n.Pos }
func (n *Close) Position() int        { return n.Pos }
func (n *Discard) Position() int      { return n.Pos }

func (*Select) statementNode()                 {}
func (*Insert) statementNode()                 {}
func (*Update) statementNode()                 {}
func (*Delete) statementNode()                 {}
func (*Copy) statementNode()                   {}
func (*CreateTable) statementNode()            {}
func (*CreateView) statementNode()             {}
func (*CreateMaterializedView) statementNode() {}
func (*CreateIndex) statementNode()            {}
func (*CreateSource) statementNode()           {}
func (*CreateSink) statementNode()             {}
func (*Drop) statementNode()                   {}
func (*Subscribe) statementNode()              {}
func (*Show) statementNode()                   {}
func (*Set) statementNode()                    {}
func (*Transaction) statementNode()            {}
func (*Explain) statementNode()                {}
func (*Prepare) statementNode()                {}
func (*Execute) statementNode()                {}
func (*Deallocate) statementNode()             {}
func (*Declare) statementNode()                {}
func (*Fetch) statementNode()                  {}
func (*Close) statementNode()                  {}
func (*Discard) statementNode()                {}

func (*ColumnRef) exprNode()      {}
func (*Literal) exprNode()        {}
func (*TypedLiteral) exprNode()   {}
func (*Param) exprNode()          {}
func (*Unary) exprNode()          {}
func (*Binary) exprNode()         {}
func (*And) exprNode()            {}
func (*Or) exprNode()             {}
func (*IsNull) exprNode()         {}
func (*IsBool) exprNode()         {}
func (*IsDistinctFrom) exprNode() {}
func (*Between) exprNode()        {}
func (*In) exprNode()             {}
func (*InSubquery) exprNode()     {}
func (*Quantified) exprNode()     {}
func (*Exists) exprNode()         {}
func (*ScalarSubquery) exprNode() {}
func (*ArraySubquery) exprNode()  {}
func (*Case) exprNode()           {}
func (*Coalesce) exprNode()       {}
func (*NullIf) exprNode()         {}
func (*Greatest) exprNode()       {}
func (*Least) exprNode()          {}
func (*Cast) exprNode()           {}
func (*FuncCall) exprNode()       {}
func (*ArrayExpr) exprNode()      {}
func (*Subscript) exprNode()      {}
func (*FieldAccess) exprNode()    {}
func (*Row) exprNode()            {}
func (*Collate) exprNode()        {}
func (*Default) exprNode()        {}
func (*GroupingSet) exprNode()    {}

func (*TableName) tableRefNode() {}
func (*Subquery) tableRefNode()  {}
func (*Join) tableRefNode()      {}
func (*TableFunc) tableRefNode() {}
