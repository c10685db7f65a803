package sqllogictest

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// resultSet is what one SQL text returned: the last result that had columns
// (or the last result when none had), with every value in text form.
type resultSet struct {
	names []string
	oids  []uint32
	rows  [][][]byte
	tag   pgconn.CommandTag
}

// session runs SQL for the runner. The pgx implementation is the real one;
// tests substitute a scripted one to exercise the runner without a server.
type session interface {
	exec(ctx context.Context, sql string) (resultSet, error)
	// broken reports whether the connection can no longer be used.
	broken() bool
	// inTransaction reports whether a transaction block is open: a query
	// there is not also run as a view, whose CREATE could abort the block.
	inTransaction() bool
	close(ctx context.Context) error
}

// pgxSession runs SQL on a pgx connection and reads every value as text.
type pgxSession struct {
	conn     *pgx.Conn
	extended bool
}

func (s *pgxSession) exec(ctx context.Context, sql string) (resultSet, error) {
	pc := s.conn.PgConn()
	if s.extended {
		// nil result formats ask for text, so the values are formatted as
		// in the simple protocol.
		return readResult(pc.ExecParams(ctx, sql, nil, nil, nil, nil))
	}
	// A simple Query may hold several statements; the result that counts is
	// the last one with columns.
	mrr := pc.Exec(ctx, sql)
	var pick resultSet
	var firstErr error
	for mrr.NextResult() {
		rs, err := readResult(mrr.ResultReader())
		if err != nil && firstErr == nil {
			firstErr = err
		}
		if len(rs.oids) > 0 || len(pick.oids) == 0 {
			pick = rs
		}
	}
	if err := mrr.Close(); err != nil && firstErr == nil {
		firstErr = err
	}
	if firstErr != nil {
		return resultSet{}, firstErr
	}
	return pick, nil
}

// readResult reads one result in full. pgconn's ResultReader.Read drops the
// columns of an empty result, which the column count check needs.
func readResult(rr *pgconn.ResultReader) (resultSet, error) {
	var rs resultSet
	for _, fd := range rr.FieldDescriptions() {
		if fd.Format != pgx.TextFormatCode {
			// A binary value would be formatted as garbage.
			_, err := rr.Close()
			return resultSet{}, errors.Join(
				fmt.Errorf("column %q came back in format %d, asked for text", fd.Name, fd.Format), err)
		}
		rs.names = append(rs.names, fd.Name)
		rs.oids = append(rs.oids, fd.DataTypeOID)
	}
	for rr.NextRow() {
		values := rr.Values()
		row := make([][]byte, len(values))
		for i, v := range values {
			if v != nil {
				row[i] = append(make([]byte, 0, len(v)), v...)
			}
		}
		rs.rows = append(rs.rows, row)
	}
	tag, err := rr.Close()
	if err != nil {
		return resultSet{}, err
	}
	rs.tag = tag
	return rs, nil
}

func (s *pgxSession) broken() bool { return s.conn.IsClosed() }

func (s *pgxSession) inTransaction() bool { return s.conn.PgConn().TxStatus() != 'I' }

func (s *pgxSession) close(ctx context.Context) error { return s.conn.Close(ctx) }

// errorText renders a server error with its SQLSTATE, as failures show it.
func errorText(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return fmt.Sprintf("%s: %s (SQLSTATE %s)", pe.Severity, pe.Message, pe.Code)
	}
	return err.Error()
}
