package pgerr

import (
	"errors"
	"fmt"
)

// SQLSTATE codes used by kappa. Names follow PostgreSQL's errcodes.txt.
const (
	SuccessfulCompletion      = "00000"
	Warning                   = "01000"
	FeatureNotSupported       = "0A000"
	CardinalityViolation      = "21000"
	DataException             = "22000"
	StringDataRightTruncation = "22001"
	NumericValueOutOfRange    = "22003"
	NullValueNotAllowed       = "22004"
	InvalidDatetimeFormat     = "22007"
	DatetimeFieldOverflow     = "22008"
	DivisionByZero            = "22012"
	InvalidPrecedingFollowing = "22013"
	InvalidArgumentForNtile   = "22014"
	InvalidArgumentForNthVal  = "22016"
	InvalidParameterValue     = "22023"
	InvalidTextRepresentation = "22P02"
	InvalidBinaryRepresent    = "22P03"
	BadCopyFileFormat         = "22P04"
	InvalidEscapeSequence     = "22025"
	IntegrityConstraint       = "23000"
	NotNullViolation          = "23502"
	UniqueViolation           = "23505"
	InvalidTransactionState   = "25000"
	ActiveSQLTransaction      = "25001"
	NoActiveSQLTransaction    = "25P01"
	InFailedSQLTransaction    = "25P02"
	InvalidSQLStatementName   = "26000"
	InvalidCursorName         = "34000"
	DuplicateCursor           = "42P03"
	DuplicatePrepStatement    = "42P05"
	InvalidCursorState        = "24000"
	InvalidAuthorization      = "28000"
	InvalidPassword           = "28P01"
	DependentObjectsExist     = "2BP01"
	SyntaxError               = "42601"
	InsufficientPrivilege     = "42501"
	UndefinedColumn           = "42703"
	UndefinedFunction         = "42883"
	UndefinedTable            = "42P01"
	UndefinedObject           = "42704"
	UndefinedParameter        = "42P02"
	DuplicateTable            = "42P07"
	DuplicateObject           = "42710"
	DuplicateColumn           = "42701"
	DuplicateAlias            = "42712"
	AmbiguousColumn           = "42702"
	AmbiguousFunction         = "42725"
	GroupingError             = "42803"
	DatatypeMismatch          = "42804"
	CannotCoerce              = "42846"
	WrongObjectType           = "42809"
	InvalidColumnReference    = "42P10"
	InvalidTableDefinition    = "42P16"
	InvalidObjectDefinition   = "42P17"
	InvalidSchemaName         = "3F000"
	IndeterminateDatatype     = "42P18"
	WindowingError            = "42P20"
	UndefinedPrepStatement    = "26000"
	ProtocolViolation         = "08P01"
	ConnectionException       = "08000"
	QueryCanceled             = "57014"
	AdminShutdown             = "57P01"
	TooManyConnections        = "53300"
	DiskFull                  = "53100"
	OutOfMemory               = "53200"
	ProgramLimitExceeded      = "54000"
	ObjectNotInPrerequisite   = "55000"
	InternalError             = "XX000"
	DataCorrupted             = "XX001"
	IOError                   = "58030"
)

// Error is a user-visible error. The zero Severity means "ERROR".
type Error struct {
	Severity string // "ERROR" (default), "FATAL", "WARNING", "NOTICE"
	Code     string // SQLSTATE, five characters
	Message  string
	Detail   string
	Hint     string
	// Position is the 1-based character (not byte) offset into the statement
	// that the error refers to; 0 means none.
	Position int32
	// cause is wrapped for errors.Is/As; it is not shown to users.
	cause error
}

func (e *Error) Error() string {
	if e.Detail != "" {
		return e.Message + " (" + e.Detail + ")"
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.cause }

// New returns an error with the given SQLSTATE and formatted message.
func New(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Wrap returns an error with the given SQLSTATE whose message is msg: err,
// keeping err for errors.Is.
func Wrap(err error, code, msg string) *Error {
	return &Error{Code: code, Message: msg + ": " + err.Error(), cause: err}
}

// WithPosition returns a copy of e pointing at 1-based character position pos.
func (e *Error) WithPosition(pos int32) *Error {
	c := *e
	c.Position = pos
	return &c
}

// WithDetail returns a copy of e with a detail line.
func (e *Error) WithDetail(format string, args ...any) *Error {
	c := *e
	c.Detail = fmt.Sprintf(format, args...)
	return &c
}

// WithHint returns a copy of e with a hint line.
func (e *Error) WithHint(format string, args ...any) *Error {
	c := *e
	c.Hint = fmt.Sprintf(format, args...)
	return &c
}

// As returns err as a *Error, or an internal error wrapping it.
func As(err error) *Error {
	if err == nil {
		return nil
	}
	var pe *Error
	if errors.As(err, &pe) {
		return pe
	}
	return &Error{Code: InternalError, Message: err.Error(), cause: err}
}

// Code returns the SQLSTATE of err, or "" when err is nil.
func Code(err error) string {
	if err == nil {
		return ""
	}
	return As(err).Code
}
