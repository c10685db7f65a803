package engine

import (
	"context"
	"errors"
	"io"
	"strconv"
	"unsafe"

	"github.com/kappa-db/kappa/catalog"
	"github.com/kappa-db/kappa/exec"
	"github.com/kappa-db/kappa/expr"
	"github.com/kappa-db/kappa/pgerr"
	"github.com/kappa-db/kappa/pgwire"
	"github.com/kappa-db/kappa/sql"
	"github.com/kappa-db/kappa/types"
)

// copyOptions turns COPY's options into pgwire's codec options.
func (st *statement) copyOptions(x *sql.Copy) (pgwire.CopyOptions, error) {
	var o pgwire.CopyOptions
	switch x.Format {
	case "", "text":
		o = pgwire.NewCopyOptions(pgwire.CopyText)
	case "csv":
		o = pgwire.NewCopyOptions(pgwire.CopyCSV)
	case "binary":
		o = pgwire.NewCopyOptions(pgwire.CopyBinary)
		// PostgreSQL's checks, in its order and with its SQLSTATEs.
		for _, opt := range []struct {
			set       bool
			code, msg string
		}{
			{x.Delimiter != nil, pgerr.SyntaxError, "cannot specify DELIMITER in BINARY mode"},
			{x.Null != nil, pgerr.SyntaxError, "cannot specify NULL in BINARY mode"},
			{x.Header, pgerr.FeatureNotSupported, "cannot specify HEADER in BINARY mode"},
			{x.Quote != nil, pgerr.FeatureNotSupported, "COPY quote available only in CSV mode"},
			{x.Escape != nil, pgerr.FeatureNotSupported, "COPY escape available only in CSV mode"},
		} {
			if opt.set {
				return o, st.errAt(x.Pos, opt.code, "%s", opt.msg)
			}
		}
		return o, nil
	default:
		return o, st.unsupported(x.Pos, "COPY format "+x.Format)
	}
	o.Header = x.Header
	one := func(p *string, what string) (byte, error) {
		if len(*p) != 1 {
			return 0, st.errAt(x.Pos, pgerr.FeatureNotSupported, "COPY %s must be a single one-byte character", what)
		}
		return (*p)[0], nil
	}
	var err error
	if x.Delimiter != nil {
		if o.Delimiter, err = one(x.Delimiter, "delimiter"); err != nil {
			return o, err
		}
	}
	if x.Quote != nil {
		if o.Quote, err = one(x.Quote, "quote"); err != nil {
			return o, err
		}
	}
	if x.Escape != nil {
		if o.Escape, err = one(x.Escape, "escape"); err != nil {
			return o, err
		}
	}
	if x.Null != nil {
		o.Null = *x.Null
	}
	if err := o.Validate(); err != nil {
		return o, err
	}
	return o, nil
}

func (st *statement) runCopy(ctx context.Context, x *sql.Copy, w pgwire.ResultWriter) (string, error) {
	opts, err := st.copyOptions(x)
	if err != nil {
		return "", err
	}
	if !x.From {
		return st.copyOut(ctx, x, opts, w)
	}
	s := st.s
	if x.Table == nil {
		return "", st.unsupported(x.Pos, "COPY (query) FROM")
	}
	t, ok := s.e.cat.Lookup(x.Table.Name)
	if !ok {
		return "", st.errAt(x.Table.Pos, pgerr.UndefinedTable, "relation %q does not exist", x.Table.Name)
	}
	if t.Kind != catalog.KindTable {
		return "", st.errAt(x.Table.Pos, pgerr.WrongObjectType, "cannot copy to %s %q", t.Kind, t.Name)
	}
	if err := s.checkRelation(t, catalog.PrivInsert); err != nil {
		return "", err
	}
	target, err := st.copyColumns(x, t)
	if err != nil {
		return "", err
	}
	var defaults []expr.Expr
	if len(target) < len(t.Columns) {
		if defaults, err = s.e.planner.ColumnDefaults(t); err != nil {
			return "", err
		}
	}
	binaryFormat := opts.Format == pgwire.CopyBinary
	formats := make([]int16, len(target))
	if binaryFormat {
		for i := range formats {
			formats[i] = 1
		}
	}
	var overallIn int8
	if binaryFormat {
		overallIn = 1
	}
	r, err := w.CopyIn(overallIn, formats)
	if err != nil {
		return "", err
	}
	if binaryFormat {
		opts.Columns = len(target)
	}
	dec := pgwire.NewCopyDecoder(r, opts)
	ec := st.evalContext(nil)
	var listed []bool
	if defaults != nil {
		listed = make([]bool, len(t.Columns))
		for _, c := range target {
			listed[c] = true
		}
	}
	// Every line is parsed and checked before anything is appended, so a
	// bad line rejects the whole COPY.
	var ins inserter
	var fast *copyFast
	if !binaryFormat {
		fast = newCopyFast(t, target, defaults != nil)
	}
	n := 0
	for {
		fields, err := dec.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		n++
		if err != nil {
			drain(r)
			return "", copyContext(err, t.Name, n)
		}
		if fast != nil && ins.addFast(fast, fields) {
			continue
		}
		if len(fields) != len(target) {
			drain(r)
			what := "missing data for column \"" + t.Columns[target[min(len(fields), len(target)-1)]].Name + "\""
			if len(fields) > len(target) {
				what = "extra data after last expected column"
			}
			return "", copyContext(pgerr.New(pgerr.BadCopyFileFormat, "%s", what), t.Name, n)
		}
		row := make(types.Row, len(t.Columns))
		for i, f := range fields {
			if f == nil {
				continue
			}
			c := t.Columns[target[i]]
			var v types.Value
			if binaryFormat {
				// f is reused for the next row: ParseBinary copies
				// what it keeps.
				v, err = types.ParseBinary(c.Type, f)
			} else {
				v, err = types.ParseText(c.Type, fieldString(c.Type, f), s.loc)
			}
			if err != nil {
				drain(r)
				return "", copyContext(err, t.Name, n).WithDetail("COPY %s, line %d, column %s: %q", t.Name, n, c.Name, string(f))
			}
			row[target[i]] = v
		}
		for i, d := range defaults {
			if !listed[i] {
				if row[i], err = d.Eval(ec, nil); err != nil {
					drain(r)
					return "", err
				}
			}
		}
		if err := ins.add(t, row); err != nil {
			drain(r)
			return "", copyContext(err, t.Name, n)
		}
	}
	if err := s.appendInserts(ctx, t, &ins); err != nil {
		return "", err
	}
	return "COPY " + strconv.Itoa(n), nil
}

// drain reads the rest of the COPY data so the protocol stays in step.
func drain(r io.Reader) { _, _ = io.Copy(io.Discard, r) }

func copyContext(err error, table string, line int) *pgerr.Error {
	pe := pgerr.As(err)
	if pe.Detail == "" {
		return pe.WithDetail("COPY %s, line %d", table, line)
	}
	return pe
}

func (st *statement) copyColumns(x *sql.Copy, t *catalog.Object) ([]int, error) {
	if len(x.Columns) == 0 {
		out := make([]int, len(t.Columns))
		for i := range out {
			out[i] = i
		}
		return out, nil
	}
	var out []int
	for _, name := range x.Columns {
		i := t.ColumnIndex(name)
		if i < 0 {
			return nil, st.errAt(x.Pos, pgerr.UndefinedColumn, "column %q of relation %q does not exist", name, t.Name)
		}
		out = append(out, i)
	}
	return out, nil
}

// copyOut runs COPY table|(query) TO STDOUT.
func (st *statement) copyOut(ctx context.Context, x *sql.Copy, opts pgwire.CopyOptions, w pgwire.ResultWriter) (string, error) {
	s := st.s
	var sel *sql.Select
	switch {
	case x.Table != nil:
		sel = &sql.Select{Pos: x.Pos, From: []sql.TableRef{x.Table}}
		if len(x.Columns) == 0 {
			sel.Targets = []*sql.Target{{Pos: x.Pos, Expr: &sql.ColumnRef{Pos: x.Pos, Star: true}}}
		}
		for _, c := range x.Columns {
			sel.Targets = append(sel.Targets, &sql.Target{Pos: x.Pos, Expr: &sql.ColumnRef{Pos: x.Pos, Names: []string{c}}})
		}
	default:
		q, ok := x.Query.(*sql.Select)
		if !ok {
			return "", st.unsupported(x.Pos, "COPY of this statement")
		}
		sel = q
	}
	q, err := s.e.planner.PlanQuery(st.src, sel, nil)
	if err != nil {
		return "", err
	}
	if err := s.checkRestricted(q.Restricted); err != nil {
		return "", err
	}
	if err := s.checkSelect(q.DependsOn); err != nil {
		return "", err
	}
	if err := s.waitForReads(ctx, q.Reads); err != nil {
		return "", err
	}
	ts := make([]types.Type, len(q.Columns))
	names := make([]string, len(q.Columns))
	for i, c := range q.Columns {
		ts[i], names[i] = c.Type, c.Name
	}
	r, release, err := s.queryReader(ctx, q.Reads, false)
	if err != nil {
		return "", err
	}
	defer release()
	formats := make([]int16, len(ts))
	if opts.Format == pgwire.CopyBinary {
		for i := range formats {
			formats[i] = 1
		}
	}
	var overall int8
	if opts.Format == pgwire.CopyBinary {
		overall = 1
	}
	out, err := w.CopyOut(overall, formats)
	if err != nil {
		return "", err
	}
	enc := pgwire.NewCopyEncoder(out, opts)
	if opts.Header {
		if err := enc.WriteHeader(names); err != nil {
			return "", err
		}
	}
	// Rows are batched into CopyData messages of about 64 KiB.
	var buf []byte
	flush := func() error {
		if len(buf) == 0 {
			return nil
		}
		_, err := out.Write(buf)
		buf = buf[:0]
		return err
	}
	en := newEncoder(ts, formats, s.loc)
	n := 0
	err = exec.Query(ctx, q.Plan, r, st.evalContext(nil), func(row types.Row) error {
		vals, err := en.encode(row)
		if err != nil {
			return err
		}
		n++
		buf = enc.AppendRow(buf, vals)
		if len(buf) >= 64<<10 {
			return flush()
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	buf = enc.AppendEnd(buf)
	if err := flush(); err != nil {
		return "", err
	}
	return "COPY " + strconv.Itoa(n), nil
}

// fieldString views a COPY field as a string without copying it when the
// value parsed from it will not keep it (numbers, dates, ...); text-like
// values keep their string, so those are copied.
func fieldString(t types.Type, f []byte) string {
	switch t.Kind {
	case types.KindText, types.KindBytea, types.KindJSONB, types.KindArray:
		return string(f)
	}
	return unsafe.String(unsafe.SliceData(f), len(f))
}
