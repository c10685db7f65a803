package pgwire

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/kappa-db/kappa/pgerr"
)

type portalState uint8

const (
	portalReady     portalState = iota // bound, not executed yet
	portalSuspended                    // executed with a row limit; rows left in the buffer
	portalDone                         // ran to completion (or failed)
)

// portal is a bound statement (Bind) waiting for Execute. Its parameters are
// copied out of the read buffer, which the next message overwrites.
type portal struct {
	stmt          Statement
	params        [][]byte
	arena         []byte // backs params
	paramFormats  []int16
	resultFormats []int16
	cols          []Column

	state portalState
	tag   string
	// rows holds the encoded DataRow messages of a statement executed with a
	// row limit; rowEnds[i] is the end offset of row i, next the first row
	// not sent yet.
	rows      []byte
	rowEnds   []int
	next      int
	suspended bool // PortalSuspended was sent at least once
}

// extendedError reports err and discards messages until Sync.
func (c *conn) extendedError(err error) {
	c.sendError(err)
	c.ignoreTillSync = true
}

func (c *conn) parse(ctx context.Context, m *pgproto3.Parse) {
	if m.Name != "" {
		if _, ok := c.stmts[m.Name]; ok {
			c.extendedError(pgerr.New(codeDuplicatePrepared, "prepared statement %q already exists", m.Name))
			return
		}
	}
	st, err := c.sess.Prepare(ctx, m.Query, slices.Clone(m.ParameterOIDs))
	if err != nil {
		c.extendedError(err)
		return
	}
	c.stmts[m.Name] = st
	_ = c.send(&pgproto3.ParseComplete{}) // failure is sticky
}

func (c *conn) bind(ctx context.Context, m *pgproto3.Bind) {
	st, ok := c.stmts[m.PreparedStatement]
	if !ok {
		c.extendedError(pgerr.New(pgerr.InvalidSQLStatementName, "prepared statement %q does not exist", m.PreparedStatement))
		return
	}
	if m.DestinationPortal != "" {
		if _, ok := c.portals[m.DestinationPortal]; ok {
			c.extendedError(pgerr.New(codeDuplicateCursor, "portal %q already exists", m.DestinationPortal))
			return
		}
	}
	paramOIDs, cols, err := st.Describe(ctx)
	if err != nil {
		c.extendedError(err)
		return
	}
	if len(m.Parameters) != len(paramOIDs) {
		c.extendedError(pgerr.New(pgerr.ProtocolViolation,
			"bind message supplies %d parameters, but prepared statement %q requires %d",
			len(m.Parameters), m.PreparedStatement, len(paramOIDs)))
		return
	}
	var p *portal
	if m.DestinationPortal == "" {
		// The unnamed portal is replaced by every Bind: its buffers are
		// reused, so a prepared point query binds without allocating.
		delete(c.portals, "")
		p = &c.unnamed
		*p = portal{params: p.params[:0], arena: p.arena[:0], paramFormats: p.paramFormats[:0], resultFormats: p.resultFormats[:0]}
	} else {
		p = &portal{}
	}
	p.paramFormats, err = expandFormats(p.paramFormats, m.ParameterFormatCodes, len(m.Parameters), "parameter")
	if err != nil {
		c.extendedError(err)
		return
	}
	p.resultFormats, err = expandFormats(p.resultFormats, m.ResultFormatCodes, len(cols), "result")
	if err != nil {
		c.extendedError(err)
		return
	}
	p.stmt, p.cols = st, cols
	p.params, p.arena = copyParams(p.params, p.arena, m.Parameters)
	c.portals[m.DestinationPortal] = p
	_ = c.send(&pgproto3.BindComplete{}) // failure is sticky
}

// copyParams copies parameter values into arena (reused), keeping nil
// (NULL) distinct from empty; out is reused too.
func copyParams(out [][]byte, arena []byte, in [][]byte) ([][]byte, []byte) {
	total := 0
	for _, p := range in {
		total += len(p)
	}
	if cap(arena) < total {
		arena = make([]byte, 0, total)
	}
	arena = arena[:0]
	out = out[:0]
	for _, p := range in {
		if p == nil {
			out = append(out, nil)
			continue
		}
		start := len(arena)
		arena = append(arena, p...)
		out = append(out, arena[start:len(arena):len(arena)])
	}
	return out, arena
}

// expandFormats turns the format codes of a Bind message into one code per
// value, appended to dst[:0]: none means all text, one applies to all,
// otherwise one each.
func expandFormats(dst []int16, codes []int16, n int, what string) ([]int16, error) {
	for _, f := range codes {
		if f != 0 && f != 1 {
			return nil, pgerr.New(pgerr.ProtocolViolation, "unsupported format code: %d", f)
		}
	}
	out := dst[:0]
	switch len(codes) {
	case 0:
		for range n {
			out = append(out, 0)
		}
	case 1:
		for range n {
			out = append(out, codes[0])
		}
	case n:
		out = append(out, codes...)
	default:
		return nil, pgerr.New(pgerr.ProtocolViolation,
			"bind message has %d %s formats but %d %ss", len(codes), what, n, what)
	}
	return out, nil
}

func (c *conn) describe(ctx context.Context, m *pgproto3.Describe) {
	switch m.ObjectType {
	case 'S':
		st, ok := c.stmts[m.Name]
		if !ok {
			c.extendedError(pgerr.New(pgerr.InvalidSQLStatementName, "prepared statement %q does not exist", m.Name))
			return
		}
		params, cols, err := st.Describe(ctx)
		if err != nil {
			c.extendedError(err)
			return
		}
		if c.send(&pgproto3.ParameterDescription{ParameterOIDs: params}) != nil {
			return
		}
		c.sendRowDescription(cols, nil)
	case 'P':
		p, ok := c.portals[m.Name]
		if !ok {
			c.extendedError(pgerr.New(pgerr.InvalidCursorName, "portal %q does not exist", m.Name))
			return
		}
		c.sendRowDescription(p.cols, p.resultFormats)
	default:
		c.extendedError(pgerr.New(pgerr.ProtocolViolation, "invalid DESCRIBE message subtype %d", m.ObjectType))
	}
}

// sendRowDescription sends RowDescription for cols, or NoData when the
// statement returns no rows (nil cols). formats has one code per column or is
// nil for all text. The last message is kept: the same statement described
// again (a prepared statement, at every Bind) sends the same bytes.
func (c *conn) sendRowDescription(cols []Column, formats []int16) {
	if cols == nil {
		_ = c.send(&pgproto3.NoData{}) // failure is sticky
		return
	}
	rd := &c.rowDesc
	if len(cols) > 0 && rd.first == &cols[0] && rd.n == len(cols) && slices.Equal(rd.formats, formats) && (rd.formats == nil) == (formats == nil) {
		_ = c.sendRaw(rd.msg) // failure is sticky
		return
	}
	msg, err := rowDescription(cols, formats).Encode(rd.msg[:0])
	if err != nil {
		_ = c.send(rowDescription(cols, formats)) // reports the failure
		return
	}
	rd.msg, rd.n = msg, len(cols)
	rd.first = nil
	if len(cols) > 0 {
		rd.first = &cols[0]
	}
	rd.formats = append(rd.formats[:0], formats...)
	if formats == nil {
		rd.formats = nil
	}
	_ = c.sendRaw(rd.msg) // failure is sticky
}

func rowDescription(cols []Column, formats []int16) *pgproto3.RowDescription {
	fields := make([]pgproto3.FieldDescription, len(cols))
	for i, col := range cols {
		fields[i] = pgproto3.FieldDescription{
			Name:                 []byte(col.Name),
			TableOID:             col.TableOID,
			TableAttributeNumber: uint16(col.ColumnAttr),
			DataTypeOID:          col.TypeOID,
			DataTypeSize:         col.TypeSize,
			TypeModifier:         col.TypeModifier,
			Format:               col.Format,
		}
		if i < len(formats) {
			fields[i].Format = formats[i]
		}
	}
	return &pgproto3.RowDescription{Fields: fields}
}

func (c *conn) execute(ctx context.Context, m *pgproto3.Execute) {
	p, ok := c.portals[m.Portal]
	if !ok {
		c.extendedError(pgerr.New(pgerr.InvalidCursorName, "portal %q does not exist", m.Portal))
		return
	}
	maxRows := int(m.MaxRows)
	switch p.state {
	case portalSuspended:
		c.sendPortalRows(p, maxRows)
		return
	case portalDone:
		// A finished SELECT portal has no more rows; anything else cannot
		// be run twice.
		if isSelectTag(p.tag) {
			_ = c.send(&pgproto3.CommandComplete{CommandTag: []byte("SELECT 0")}) // failure is sticky
			return
		}
		c.extendedError(pgerr.New(pgerr.ObjectNotInPrerequisite, "portal %q cannot be run", m.Portal))
		return
	}

	mode := modeExtended
	if maxRows > 0 {
		// Run once, keep the rows in the portal and hand them out maxRows
		// at a time: the engine interface has no resumable execution.
		mode = modeBuffer
	}
	c.rw.begin(ctx, mode, p)
	tag, err := p.stmt.Execute(ctx, p.params, p.paramFormats, p.resultFormats, &c.rw)
	err = c.rw.end(err)
	p.tag = tag
	if err != nil {
		p.state = portalDone
		p.rows, p.rowEnds = nil, nil
		c.extendedError(err)
		return
	}
	if mode == modeBuffer {
		c.sendPortalRows(p, maxRows)
		return
	}
	p.state = portalDone
	c.tag = append(c.tag[:0], tag...)
	c.cmdComplete.CommandTag = c.tag
	_ = c.send(&c.cmdComplete) // failure is sticky
}

// sendPortalRows sends up to maxRows (0 = all) buffered rows of p, then
// PortalSuspended if rows are left or CommandComplete if not.
func (c *conn) sendPortalRows(p *portal, maxRows int) {
	left := len(p.rowEnds) - p.next
	n := left
	if maxRows > 0 && maxRows < left {
		n = maxRows
	}
	start := 0
	if p.next > 0 {
		start = p.rowEnds[p.next-1]
	}
	if n > 0 {
		if c.sendRaw(p.rows[start:p.rowEnds[p.next+n-1]]) != nil {
			return
		}
	}
	p.next += n
	if n < left {
		p.state = portalSuspended
		p.suspended = true
		if c.send(&pgproto3.PortalSuspended{}) == nil {
			_ = c.flush() // failure is sticky
		}
		return
	}
	p.state = portalDone
	p.rows, p.rowEnds = nil, nil
	tag := p.tag
	if p.suspended && isSelectTag(tag) {
		// Like PostgreSQL, the last Execute of a suspended portal reports
		// the rows it sent itself.
		tag = "SELECT " + strconv.Itoa(n)
	}
	_ = c.send(&pgproto3.CommandComplete{CommandTag: []byte(tag)}) // failure is sticky
}

func isSelectTag(tag string) bool { return strings.HasPrefix(tag, "SELECT ") }

func (c *conn) closeObject(m *pgproto3.Close) {
	switch m.ObjectType {
	case 'S':
		delete(c.stmts, m.Name)
	case 'P':
		delete(c.portals, m.Name)
	default:
		c.extendedError(pgerr.New(pgerr.ProtocolViolation, "invalid CLOSE message subtype %d", m.ObjectType))
		return
	}
	_ = c.send(&pgproto3.CloseComplete{}) // failure is sticky
}
