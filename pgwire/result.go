package pgwire

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/kappa-db/kappa/pgerr"
)

type resultMode uint8

const (
	modeSimple   resultMode = iota // simple query: RowDescription on Columns
	modeExtended                   // Execute without a row limit: rows stream out
	modeBuffer                     // Execute with a row limit: rows go to the portal
)

// resultWriter is the ResultWriter of the statement running on a connection.
// There is one per connection, reset for each Execute, so handing it to the
// engine allocates nothing.
type resultWriter struct {
	c       *conn
	ctx     context.Context
	mode    resultMode
	portal  *portal
	copyIn  bool
	copyOut bool
}

var _ ResultWriter = (*resultWriter)(nil)

func (w *resultWriter) begin(ctx context.Context, mode resultMode, p *portal) {
	w.ctx, w.mode, w.portal = ctx, mode, p
	w.copyIn, w.copyOut = false, false
}

// end finishes the statement: it stops a COPY FROM's cancel watch and ends a
// successful COPY TO with CopyDone. It returns the statement's error.
func (w *resultWriter) end(err error) error {
	if w.copyIn {
		w.c.stopCopyIn()
	}
	if w.copyOut && err == nil {
		err = w.c.send(&pgproto3.CopyDone{})
	}
	w.ctx, w.portal = nil, nil
	w.copyIn, w.copyOut = false, false
	return err
}

// Columns implements ResultWriter.
func (w *resultWriter) Columns(cols []Column) error {
	if w.mode != modeSimple {
		return nil
	}
	return w.c.send(rowDescription(cols, nil))
}

// Row implements ResultWriter. It encodes straight into the output buffer
// (or the portal's), so a row costs no allocation once the buffer has grown.
func (w *resultWriter) Row(values [][]byte) error {
	c := w.c
	c.dataRow.Values = values
	if w.mode == modeBuffer {
		p := w.portal
		buf, err := c.dataRow.Encode(p.rows)
		c.dataRow.Values = nil
		if err != nil {
			return fmt.Errorf("pgwire: encode row: %w", err)
		}
		if len(buf) > c.srv.cfg.MaxPortalBuffer {
			return pgerr.New(pgerr.ProgramLimitExceeded,
				"result buffered for a row-limited Execute exceeds %d bytes", c.srv.cfg.MaxPortalBuffer).
				WithHint("Execute without a row limit to stream the result.")
		}
		p.rows = buf
		p.rowEnds = append(p.rowEnds, len(buf))
		return nil
	}
	buf, err := c.dataRow.Encode(c.wbuf)
	c.dataRow.Values = nil
	if err != nil {
		return fmt.Errorf("pgwire: encode row: %w", err)
	}
	c.wbuf = buf
	if len(c.wbuf) >= flushThreshold {
		return c.flush()
	}
	return c.writeErr
}

// Notice implements ResultWriter.
func (w *resultWriter) Notice(severity, code, message string) {
	if severity == "" {
		severity = "NOTICE"
	}
	if code == "" {
		code = pgerr.SuccessfulCompletion
	}
	// Sent at once, as PostgreSQL does: a notice may report the progress
	// of a statement that runs for a while.
	if w.c.send(&pgproto3.NoticeResponse{
		Severity: severity, SeverityUnlocalized: severity, Code: code, Message: message,
	}) == nil {
		_ = w.c.flush() // failure is sticky
	}
}

// SetParameter implements ResultWriter.
func (w *resultWriter) SetParameter(name, value string) {
	_ = w.c.send(&pgproto3.ParameterStatus{Name: name, Value: value}) // failure is sticky
}

// CopyIn implements ResultWriter.
func (w *resultWriter) CopyIn(format int8, columnFormats []int16) (io.Reader, error) {
	if w.copyIn || w.copyOut {
		return nil, errors.New("pgwire: CopyIn called twice in one statement")
	}
	c := w.c
	if err := c.send(&pgproto3.CopyInResponse{OverallFormat: byte(format), ColumnFormatCodes: formatCodes(columnFormats)}); err != nil {
		return nil, err
	}
	if err := c.flush(); err != nil {
		return nil, err
	}
	w.copyIn = true
	c.copyIn.begin(w.ctx)
	c.startCopyIn(w.ctx)
	return &c.copyIn, nil
}

// CopyOut implements ResultWriter.
func (w *resultWriter) CopyOut(format int8, columnFormats []int16) (io.Writer, error) {
	if w.copyIn || w.copyOut {
		return nil, errors.New("pgwire: CopyOut called twice in one statement")
	}
	c := w.c
	if err := c.send(&pgproto3.CopyOutResponse{OverallFormat: byte(format), ColumnFormatCodes: formatCodes(columnFormats)}); err != nil {
		return nil, err
	}
	w.copyOut = true
	return &c.copyOut, nil
}

func formatCodes(in []int16) []uint16 {
	out := make([]uint16, len(in))
	for i, f := range in {
		out[i] = uint16(f)
	}
	return out
}

// startCopyIn arranges for a cancelled ctx to interrupt a COPY FROM blocked
// reading the client: the read deadline is moved to the past. The Backend
// keeps a partly read message, so the connection stays usable.
func (c *conn) startCopyIn(ctx context.Context) {
	c.mu.Lock()
	c.mu.copyIn = true
	c.mu.Unlock()
	c.copyIn.stopWatch = context.AfterFunc(ctx, func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.mu.copyIn {
			_ = c.nc.SetReadDeadline(time.Unix(1, 0)) // fails only on a closed socket
		}
	})
}

func (c *conn) stopCopyIn() {
	if c.copyIn.stopWatch != nil {
		c.copyIn.stopWatch()
		c.copyIn.stopWatch = nil
	}
	c.mu.Lock()
	c.mu.copyIn = false
	err := c.nc.SetReadDeadline(time.Time{})
	c.mu.Unlock()
	if err != nil && c.recvErr == nil {
		c.recvErr = fmt.Errorf("pgwire: clear read deadline: %w", err)
	}
	c.copyIn.pending = nil
}

// copyInReader reads the CopyData payloads of a COPY FROM STDIN.
type copyInReader struct {
	c         *conn
	ctx       context.Context
	pending   []byte // rest of the current CopyData; valid until the next Receive
	err       error  // sticky: io.EOF at CopyDone, or why the copy failed
	stopWatch func() bool
}

func (r *copyInReader) begin(ctx context.Context) {
	r.ctx, r.pending, r.err = ctx, nil, nil
}

// Read implements io.Reader. It returns io.EOF at CopyDone, a 57014 error
// carrying the client's message at CopyFail, and 57014 when the statement is
// cancelled.
func (r *copyInReader) Read(p []byte) (int, error) {
	for len(r.pending) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		r.err = r.receive()
	}
	n := copy(p, r.pending)
	r.pending = r.pending[n:]
	return n, nil
}

// receive reads one message of the copy sub-protocol; it returns the error
// that ends the copy, or nil after a CopyData.
func (r *copyInReader) receive() error {
	c := r.c
	msg, err := c.be.Receive()
	if err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) && r.ctx.Err() != nil {
			return c.pgError(r.ctx.Err())
		}
		// The input stream is broken (gone, oversized, garbled): the
		// connection ends once the statement returns.
		c.recvErr = err
		return fmt.Errorf("pgwire: read COPY data: %w", err)
	}
	switch m := msg.(type) {
	case *pgproto3.CopyData:
		r.pending = m.Data
		return nil
	case *pgproto3.CopyDone:
		return io.EOF
	case *pgproto3.CopyFail:
		return pgerr.New(pgerr.QueryCanceled, "COPY from stdin failed: %s", m.Message)
	case *pgproto3.Sync, *pgproto3.Flush:
		// Clients in the extended protocol may send these while copying;
		// the protocol says to ignore them.
		return nil
	case *pgproto3.Terminate:
		c.recvErr = io.EOF
		return pgerr.New(pgerr.ConnectionException, "client terminated the connection during COPY from stdin")
	default:
		return pgerr.New(pgerr.ProtocolViolation, "unexpected message %s during COPY from stdin", messageName(msg))
	}
}

// copyOutWriter turns each Write of a COPY TO STDOUT into one CopyData.
type copyOutWriter struct {
	c   *conn
	msg pgproto3.CopyData
}

// Write implements io.Writer.
func (w *copyOutWriter) Write(p []byte) (int, error) {
	w.msg.Data = p
	err := w.c.send(&w.msg)
	w.msg.Data = nil
	if err != nil {
		return 0, err
	}
	return len(p), nil
}
