package sql

// String methods of the AST's enumerations, as SQL spells them where it
// does. They are used by Format and by test output.

func (k SetOpKind) String() string {
	switch k {
	case SetOpUnion:
		return "UNION"
	case SetOpIntersect:
		return "INTERSECT"
	case SetOpExcept:
		return "EXCEPT"
	}
	return "NONE"
}

func (k JoinKind) String() string {
	switch k {
	case JoinInner:
		return "INNER"
	case JoinLeft:
		return "LEFT"
	case JoinRight:
		return "RIGHT"
	case JoinFull:
		return "FULL"
	case JoinCross:
		return "CROSS"
	}
	return "UNKNOWN"
}

func (k GroupingSetKind) String() string {
	switch k {
	case GroupingEmpty:
		return "EMPTY"
	case GroupingSimple:
		return "SIMPLE"
	case GroupingRollup:
		return "ROLLUP"
	case GroupingCube:
		return "CUBE"
	case GroupingSets:
		return "GROUPING SETS"
	}
	return "UNKNOWN"
}

func (d SortDir) String() string {
	switch d {
	case SortAsc:
		return "ASC"
	case SortDesc:
		return "DESC"
	case SortUsing:
		return "USING"
	}
	return "DEFAULT"
}

func (n NullsOrder) String() string {
	switch n {
	case NullsFirst:
		return "NULLS FIRST"
	case NullsLast:
		return "NULLS LAST"
	}
	return "DEFAULT"
}

func (m FrameMode) String() string {
	switch m {
	case FrameRows:
		return "ROWS"
	case FrameGroups:
		return "GROUPS"
	}
	return "RANGE"
}

func (k FrameBoundKind) String() string {
	switch k {
	case BoundUnboundedPreceding:
		return "UNBOUNDED PRECEDING"
	case BoundPreceding:
		return "PRECEDING"
	case BoundCurrentRow:
		return "CURRENT ROW"
	case BoundFollowing:
		return "FOLLOWING"
	case BoundUnboundedFollowing:
		return "UNBOUNDED FOLLOWING"
	}
	return "UNKNOWN"
}

func (e FrameExclude) String() string {
	switch e {
	case ExcludeCurrentRow:
		return "EXCLUDE CURRENT ROW"
	case ExcludeGroup:
		return "EXCLUDE GROUP"
	case ExcludeTies:
		return "EXCLUDE TIES"
	}
	return "EXCLUDE NO OTHERS"
}

func (k LiteralKind) String() string {
	switch k {
	case LitNull:
		return "NULL"
	case LitInteger:
		return "INTEGER"
	case LitNumeric:
		return "NUMERIC"
	case LitString:
		return "STRING"
	case LitBool:
		return "BOOL"
	case LitBitString:
		return "BITSTRING"
	}
	return "UNKNOWN"
}

func (k BoolTestKind) String() string {
	switch k {
	case TestTrue:
		return "TRUE"
	case TestFalse:
		return "FALSE"
	}
	return "UNKNOWN"
}

func (s CastSyntax) String() string {
	if s == CastFunction {
		return "CAST"
	}
	return "::"
}

func (m CTEMaterialize) String() string {
	switch m {
	case MaterializeAlways:
		return "MATERIALIZED"
	case MaterializeNever:
		return "NOT MATERIALIZED"
	}
	return "DEFAULT"
}

func (k ConstraintKind) String() string {
	switch k {
	case ConstraintPrimaryKey:
		return "PRIMARY KEY"
	case ConstraintUnique:
		return "UNIQUE"
	}
	return "CHECK"
}

func (k SetKind) String() string {
	switch k {
	case SetValue:
		return "VALUE"
	case SetDefault:
		return "DEFAULT"
	case SetReset:
		return "RESET"
	case SetResetAll:
		return "RESET ALL"
	case SetTransaction:
		return "TRANSACTION"
	case SetFromCurrent:
		return "FROM CURRENT"
	}
	return "UNKNOWN"
}

func (k TransactionKind) String() string {
	switch k {
	case TxnBegin:
		return "BEGIN"
	case TxnCommit:
		return "COMMIT"
	case TxnRollback:
		return "ROLLBACK"
	case TxnSavepoint:
		return "SAVEPOINT"
	case TxnRelease:
		return "RELEASE"
	case TxnRollbackTo:
		return "ROLLBACK TO"
	}
	return "UNKNOWN"
}

func (d FetchDirection) String() string {
	switch d {
	case FetchForward:
		return "FORWARD"
	case FetchBackward:
		return "BACKWARD"
	case FetchAbsolute:
		return "ABSOLUTE"
	case FetchRelative:
		return "RELATIVE"
	}
	return "UNKNOWN"
}
