package pgwire

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/kappa-db/kappa/pgerr"
)

// CopyFormat is the data format of COPY FROM STDIN / TO STDOUT.
type CopyFormat uint8

const (
	// CopyText is PostgreSQL's default text format: one line per row,
	// tab-separated, `\N` for NULL, backslash escapes.
	CopyText CopyFormat = iota
	// CopyCSV is FORMAT csv: quoted fields may hold delimiters and newlines;
	// an unquoted empty field is NULL.
	CopyCSV
	// CopyBinary is FORMAT binary: a signature header, then per row a
	// field count and each field's length and binary-format value (the
	// format of Bind parameters), then a trailer of field count -1. pgx's
	// CopyFrom sends it.
	CopyBinary
)

func (f CopyFormat) String() string {
	switch f {
	case CopyCSV:
		return "csv"
	case CopyBinary:
		return "binary"
	}
	return "text"
}

// copySignature starts binary COPY data (PostgreSQL's BinarySignature).
const copySignature = "PGCOPY\n\377\r\n\x00"

// CopyOptions are the COPY options that shape the data. Start from
// NewCopyOptions, which fills in PostgreSQL's defaults, then override.
type CopyOptions struct {
	Format CopyFormat
	// Delimiter separates fields; 0 means the format's default (tab for
	// text, comma for CSV).
	Delimiter byte
	// Null is the string that stands for NULL, used as is: `\N` and "" are
	// the text and CSV defaults that NewCopyOptions sets.
	Null string
	// Quote and Escape are the CSV quote and escape bytes; 0 means '"' and
	// the quote byte. Text format ignores them.
	Quote  byte
	Escape byte
	// Header means the first line is a header: skipped when decoding,
	// written by CopyEncoder.WriteHeader when encoding.
	Header bool
	// Columns, if positive, is the number of fields every row must have;
	// the decoder reports a row with more or fewer as 22P04.
	Columns int
}

// NewCopyOptions returns PostgreSQL's defaults for format.
func NewCopyOptions(format CopyFormat) CopyOptions {
	o := CopyOptions{Format: format}
	if format == CopyCSV {
		o.Delimiter, o.Quote, o.Escape = ',', '"', '"'
	} else {
		o.Delimiter, o.Null = '\t', `\N`
	}
	return o
}

func (o CopyOptions) withDefaults() CopyOptions {
	if o.Delimiter == 0 {
		o.Delimiter = '\t'
		if o.Format == CopyCSV {
			o.Delimiter = ','
		}
	}
	if o.Quote == 0 {
		o.Quote = '"'
	}
	if o.Escape == 0 {
		o.Escape = o.Quote
	}
	return o
}

// Validate checks the options the way PostgreSQL's COPY does and returns a
// *pgerr.Error for an unusable combination.
func (o CopyOptions) Validate() error {
	o = o.withDefaults()
	d := o.Delimiter
	if d == '\r' || d == '\n' {
		return pgerr.New(pgerr.InvalidParameterValue, "COPY delimiter cannot be newline or carriage return")
	}
	if strings.ContainsAny(o.Null, "\r\n") {
		return pgerr.New(pgerr.InvalidParameterValue, "COPY null representation cannot use newline or carriage return")
	}
	switch o.Format {
	case CopyBinary:
		// PostgreSQL refuses DELIMITER, NULL, HEADER, QUOTE and ESCAPE
		// in binary mode; the statement layer checks what was written.
		return nil
	case CopyText:
		if d == '\\' || d == '.' || (d >= 'a' && d <= 'z') || (d >= '0' && d <= '9') {
			return pgerr.New(pgerr.InvalidParameterValue, "COPY delimiter cannot be %q", string(rune(d)))
		}
	case CopyCSV:
		if d == o.Quote {
			return pgerr.New(pgerr.InvalidParameterValue, "COPY delimiter and quote must be different")
		}
		if strings.IndexByte(o.Null, d) >= 0 {
			return pgerr.New(pgerr.InvalidParameterValue, "COPY delimiter character must not appear in the NULL specification")
		}
		if strings.IndexByte(o.Null, o.Quote) >= 0 {
			return pgerr.New(pgerr.InvalidParameterValue, "CSV quote character must not appear in the NULL specification")
		}
	default:
		return pgerr.New(pgerr.InvalidParameterValue, "COPY format %d not recognized", o.Format)
	}
	if d >= 0x80 || o.Quote >= 0x80 || o.Escape >= 0x80 {
		return pgerr.New(pgerr.FeatureNotSupported, "COPY delimiter, quote and escape must be single one-byte characters")
	}
	return nil
}

// CopyDecoder parses the rows of COPY FROM data in text or CSV format.
type CopyDecoder struct {
	r    *bufio.Reader
	opts CopyOptions
	line int64 // number of the line the last row started on (1-based)
	done bool

	raw    []byte // the current record, line terminators included
	buf    []byte // decoded field bytes
	ends   []int  // ends[i] = end of field i in buf; -1 marks NULL
	fields [][]byte
	header bool // the header line is still to be skipped
	// signature: binary format's header has been read.
	signature bool
}

// NewCopyDecoder returns a decoder reading COPY data from r (typically the
// reader ResultWriter.CopyIn returned).
func NewCopyDecoder(r io.Reader, opts CopyOptions) *CopyDecoder {
	opts = opts.withDefaults()
	return &CopyDecoder{
		r:    bufio.NewReaderSize(r, 64<<10),
		opts: opts,
		// Non-nil, so that empty fields sliced from it are not NULL.
		buf:    make([]byte, 0, 256),
		header: opts.Header,
	}
}

// Line returns the 1-based input line on which the row last returned by Next
// started, for error messages.
func (d *CopyDecoder) Line() int64 { return d.line }

// Next returns the fields of the next row, nil for NULL. The slices are valid
// until the next call. At the end of the data (end of input or the `\.`
// marker) it returns io.EOF; malformed data is a 22P04 *pgerr.Error naming
// the line.
func (d *CopyDecoder) Next() ([][]byte, error) {
	for {
		fields, err := d.next()
		if err != nil {
			return nil, err
		}
		if d.header {
			d.header = false
			continue
		}
		if n := d.opts.Columns; n > 0 && len(fields) != n {
			if d.opts.Format == CopyBinary {
				return nil, d.errorf("row field count is %d, expected %d", len(fields), n)
			}
			if len(fields) < n {
				return nil, d.errorf("missing data for column %d", len(fields)+1)
			}
			return nil, d.errorf("extra data after last expected column")
		}
		return fields, nil
	}
}

func (d *CopyDecoder) next() ([][]byte, error) {
	if d.done {
		return nil, io.EOF
	}
	d.line++
	d.raw = d.raw[:0]
	d.buf = d.buf[:0]
	d.ends = d.ends[:0]
	var err error
	switch d.opts.Format {
	case CopyCSV:
		err = d.decodeCSV()
	case CopyBinary:
		err = d.decodeBinary()
	default:
		if err = d.decodeText(); err == nil {
			return d.fields, nil
		}
	}
	if err != nil {
		if errors.Is(err, io.EOF) {
			d.done = true
		}
		return nil, err
	}
	d.fields = d.fields[:0]
	start := 0
	for _, end := range d.ends {
		if end < 0 {
			d.fields = append(d.fields, nil)
			continue
		}
		d.fields = append(d.fields, d.buf[start:end:end])
		start = end
	}
	return d.fields, nil
}

func (d *CopyDecoder) errorf(format string, args ...any) error {
	return pgerr.New(pgerr.BadCopyFileFormat, format, args...).WithDetail("COPY data line %d", d.line)
}

// readLine appends the next line, with its terminator, to d.raw. It returns
// io.EOF only when no byte was left.
func (d *CopyDecoder) readLine() error {
	n := len(d.raw)
	for {
		chunk, err := d.r.ReadSlice('\n')
		d.raw = append(d.raw, chunk...)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			if len(d.raw) > n {
				return nil // a last line without a newline
			}
			return io.EOF
		default:
			return err
		}
	}
}

// trimEOL strips one "\n" or "\r\n" from the end of b.
func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	return b
}

func isEndMarker(line []byte) bool { return string(trimEOL(line)) == `\.` }

// decodeBinary parses one binary-format row into d.buf/d.ends; the line
// number counts rows. The trailer (field count -1) or the end of the data
// ends it.
func (d *CopyDecoder) decodeBinary() error {
	if !d.signature {
		var h [len(copySignature) + 8]byte
		if _, err := io.ReadFull(d.r, h[:]); err != nil {
			return d.errorf("COPY file signature not recognized")
		}
		if string(h[:len(copySignature)]) != copySignature {
			return d.errorf("COPY file signature not recognized")
		}
		flags := binary.BigEndian.Uint32(h[len(copySignature):])
		if flags&(1<<16) != 0 {
			return d.errorf("invalid COPY file header (WITH OIDS)")
		}
		if flags&^(0xffff) != 0 {
			return d.errorf("unrecognized critical flags in COPY file header")
		}
		ext := binary.BigEndian.Uint32(h[len(copySignature)+4:])
		if _, err := io.CopyN(io.Discard, d.r, int64(ext)); err != nil {
			return d.errorf("invalid COPY file header (wrong length)")
		}
		d.signature = true
	}
	var n [4]byte
	if _, err := io.ReadFull(d.r, n[:2]); err != nil {
		if errors.Is(err, io.EOF) {
			return io.EOF
		}
		return d.errorf("unexpected EOF in COPY data")
	}
	count := int16(binary.BigEndian.Uint16(n[:2]))
	if count == -1 {
		return io.EOF
	}
	if count < 0 {
		return d.errorf("row field count is %d, expected %d", count, d.opts.Columns)
	}
	for range count {
		if _, err := io.ReadFull(d.r, n[:]); err != nil {
			return d.errorf("unexpected EOF in COPY data")
		}
		l := int32(binary.BigEndian.Uint32(n[:]))
		if l == -1 {
			d.ends = append(d.ends, -1)
			continue
		}
		if l < 0 {
			return d.errorf("invalid field size")
		}
		start := len(d.buf)
		d.buf = slices.Grow(d.buf, int(l))[:start+int(l)]
		if _, err := io.ReadFull(d.r, d.buf[start:]); err != nil {
			return d.errorf("unexpected EOF in COPY data")
		}
		d.ends = append(d.ends, len(d.buf))
	}
	return nil
}

// decodeText parses one text-format row straight into d.fields. A line that
// fits the read buffer is parsed where it lies, and a field without a
// backslash is a slice of it: only escaped fields are copied (into d.buf),
// so a COPY of plain data copies no byte between the socket's buffer and
// the caller (serverbench ingest).
func (d *CopyDecoder) decodeText() error {
	line, err := d.textLine()
	if err != nil {
		return err
	}
	if len(line) > 0 && line[0] == '\\' && isEndMarker(line) {
		return io.EOF
	}
	line = trimEOL(line)
	// Unescaping never lengthens a field, so d.buf does not move while
	// fields point into it.
	if cap(d.buf) < len(line) {
		d.buf = make([]byte, 0, max(len(line), 2*cap(d.buf)))
	}
	d.fields = d.fields[:0]
	delim := d.opts.Delimiter
	null := d.opts.Null
	plain := bytes.IndexByte(line, '\\') < 0
	for fieldStart := 0; ; {
		// Find the raw field: up to an unescaped delimiter.
		i := fieldStart
		if plain {
			for i < len(line) && line[i] != delim {
				i++
			}
		} else {
			for i < len(line) && line[i] != delim {
				if line[i] == '\\' {
					i++
				}
				i++
			}
		}
		end := min(i, len(line))
		raw := line[fieldStart:end:end]
		switch {
		case string(raw) == null:
			d.fields = append(d.fields, nil)
		case plain || bytes.IndexByte(raw, '\\') < 0:
			d.fields = append(d.fields, raw)
		default:
			start := len(d.buf)
			d.unescapeText(raw)
			d.fields = append(d.fields, d.buf[start:len(d.buf):len(d.buf)])
		}
		if end >= len(line) {
			return nil
		}
		fieldStart = end + 1
	}
}

// textLine returns the next text-format line with its terminator: a slice
// of the read buffer when the line fits in it (valid until the next read),
// else the line gathered in d.raw. A backslash before the newline escapes it
// (a legacy way to put a newline in data): the line continues on the next.
func (d *CopyDecoder) textLine() ([]byte, error) {
	line, err := d.r.ReadSlice('\n')
	if err == nil && !endsInEscapedNewline(line) {
		return line, nil
	}
	d.raw = append(d.raw[:0], line...)
	switch {
	case err == nil:
	case errors.Is(err, bufio.ErrBufferFull):
		// The rest of a long line; io.EOF here ends a last line that has
		// no newline.
		if err := d.readLine(); err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
	case errors.Is(err, io.EOF):
		if len(d.raw) == 0 {
			return nil, io.EOF
		}
		return d.raw, nil // a last line without a newline
	default:
		return nil, err
	}
	for endsInEscapedNewline(d.raw) {
		if err := d.readLine(); err != nil {
			if errors.Is(err, io.EOF) {
				break
			}
			return nil, err
		}
	}
	return d.raw, nil
}

// endsInEscapedNewline reports whether b ends with "\n" preceded by an odd
// number of backslashes.
func endsInEscapedNewline(b []byte) bool {
	if len(b) < 2 || b[len(b)-1] != '\n' {
		return false
	}
	n := 0
	for i := len(b) - 2; i >= 0 && b[i] == '\\'; i-- {
		n++
	}
	return n%2 == 1
}

// unescapeText appends the decoded form of one raw text field to d.buf.
func (d *CopyDecoder) unescapeText(raw []byte) {
	for i := 0; i < len(raw); i++ {
		b := raw[i]
		if b != '\\' {
			// Copy up to the next backslash at once.
			j := bytes.IndexByte(raw[i:], '\\')
			if j < 0 {
				j = len(raw) - i
			}
			d.buf = append(d.buf, raw[i:i+j]...)
			i += j - 1
			continue
		}
		i++
		if i == len(raw) {
			// A lone backslash at the end of the row: PostgreSQL keeps it.
			d.buf = append(d.buf, '\\')
			break
		}
		switch e := raw[i]; e {
		case 'b':
			d.buf = append(d.buf, '\b')
		case 'f':
			d.buf = append(d.buf, '\f')
		case 'n':
			d.buf = append(d.buf, '\n')
		case 'r':
			d.buf = append(d.buf, '\r')
		case 't':
			d.buf = append(d.buf, '\t')
		case 'v':
			d.buf = append(d.buf, '\v')
		case '0', '1', '2', '3', '4', '5', '6', '7':
			v := int(e - '0')
			for k := 0; k < 2 && i+1 < len(raw) && raw[i+1] >= '0' && raw[i+1] <= '7'; k++ {
				i++
				v = v*8 + int(raw[i]-'0')
			}
			d.buf = append(d.buf, byte(v))
		case 'x':
			if i+1 < len(raw) && isHex(raw[i+1]) {
				i++
				v := unhex(raw[i])
				if i+1 < len(raw) && isHex(raw[i+1]) {
					i++
					v = v*16 + unhex(raw[i])
				}
				d.buf = append(d.buf, v)
			} else {
				d.buf = append(d.buf, 'x')
			}
		default:
			// \\, \<delimiter>, \. and any other byte stand for themselves.
			d.buf = append(d.buf, e)
		}
	}
}

func isHex(b byte) bool {
	return (b >= '0' && b <= '9') || (b >= 'a' && b <= 'f') || (b >= 'A' && b <= 'F')
}

func unhex(b byte) byte {
	switch {
	case b >= 'a':
		return b - 'a' + 10
	case b >= 'A':
		return b - 'A' + 10
	default:
		return b - '0'
	}
}

// decodeCSV parses one CSV record, which spans lines while a quote is open.
func (d *CopyDecoder) decodeCSV() error {
	if err := d.readLine(); err != nil {
		return err
	}
	if isEndMarker(d.raw) {
		return io.EOF
	}
	delim, quote, escape := d.opts.Delimiter, d.opts.Quote, d.opts.Escape
	null := d.opts.Null
	i := 0
	for {
		fieldStart := len(d.buf)
		sawQuote, inQuote := false, false
		for {
			if i >= len(d.raw) {
				if !inQuote {
					break
				}
				// The quoted field goes on past the newline.
				if err := d.readLine(); err != nil {
					if errors.Is(err, io.EOF) {
						return d.errorf("unterminated CSV quoted field")
					}
					return err
				}
				continue
			}
			b := d.raw[i]
			if !inQuote {
				if b == delim {
					break
				}
				if b == '\n' || (b == '\r' && i+1 < len(d.raw) && d.raw[i+1] == '\n') ||
					(b == '\r' && i+1 == len(d.raw)) {
					i = len(d.raw)
					break
				}
				if b == quote {
					inQuote, sawQuote = true, true
					i++
					continue
				}
				d.buf = append(d.buf, b)
				i++
				continue
			}
			// Inside quotes: escape+quote or escape+escape is a literal;
			// a quote (when not such a pair) closes the quotes.
			if b == escape && i+1 < len(d.raw) && (d.raw[i+1] == quote || d.raw[i+1] == escape) {
				d.buf = append(d.buf, d.raw[i+1])
				i += 2
				continue
			}
			if b == quote {
				inQuote = false
				i++
				continue
			}
			d.buf = append(d.buf, b)
			i++
		}
		if !sawQuote && string(d.buf[fieldStart:]) == null {
			d.buf = d.buf[:fieldStart]
			d.ends = append(d.ends, -1)
		} else {
			d.ends = append(d.ends, len(d.buf))
		}
		if i >= len(d.raw) {
			return nil
		}
		i++ // the delimiter
	}
}

// CopyEncoder writes rows in COPY text or CSV format, one Write per row, so
// over ResultWriter.CopyOut each row becomes one CopyData message.
type CopyEncoder struct {
	w    io.Writer
	opts CopyOptions
	buf  []byte
	// started: binary format's signature has been written.
	started bool
}

// NewCopyEncoder returns an encoder writing to w.
func NewCopyEncoder(w io.Writer, opts CopyOptions) *CopyEncoder {
	return &CopyEncoder{w: w, opts: opts.withDefaults()}
}

// WriteHeader writes a header line of column names (CSV quoting rules apply
// in CSV format). Call it first, when the options ask for HEADER.
func (e *CopyEncoder) WriteHeader(names []string) error {
	fields := make([][]byte, len(names))
	for i, n := range names {
		fields[i] = []byte(n)
	}
	return e.Encode(fields)
}

// Encode writes one row; a nil field is NULL.
func (e *CopyEncoder) Encode(fields [][]byte) error {
	e.buf = e.AppendRow(e.buf[:0], fields)
	if _, err := e.w.Write(e.buf); err != nil {
		return fmt.Errorf("pgwire: write COPY row: %w", err)
	}
	return nil
}

// AppendRow appends the encoded row, newline included, to dst. In binary
// format the fields are binary-format values, and the first row also
// carries the signature.
func (e *CopyEncoder) AppendRow(dst []byte, fields [][]byte) []byte {
	if e.opts.Format == CopyBinary {
		dst = e.appendStart(dst)
		dst = binary.BigEndian.AppendUint16(dst, uint16(len(fields)))
		for _, f := range fields {
			if f == nil {
				dst = binary.BigEndian.AppendUint32(dst, 0xffffffff)
				continue
			}
			dst = binary.BigEndian.AppendUint32(dst, uint32(len(f)))
			dst = append(dst, f...)
		}
		return dst
	}
	for i, f := range fields {
		if i > 0 {
			dst = append(dst, e.opts.Delimiter)
		}
		switch {
		case f == nil:
			dst = append(dst, e.opts.Null...)
		case e.opts.Format == CopyCSV:
			dst = e.appendCSV(dst, f, len(fields) == 1)
		case len(f) > 0 && string(f) == e.opts.Null:
			// A value spelled like the NULL string (possible with a custom
			// NULL): write its first byte as an octal escape so it reads
			// back as data. PostgreSQL itself leaves this ambiguous.
			b := f[0]
			dst = append(dst, '\\', '0'+(b>>6), '0'+((b>>3)&7), '0'+(b&7))
			dst = e.appendText(dst, f[1:])
		default:
			dst = e.appendText(dst, f)
		}
	}
	return append(dst, '\n')
}

func (e *CopyEncoder) appendStart(dst []byte) []byte {
	if e.started {
		return dst
	}
	e.started = true
	dst = append(dst, copySignature...)
	return append(dst, 0, 0, 0, 0, 0, 0, 0, 0) // flags, header extension length
}

// AppendEnd appends what ends the data: binary format's trailer (with the
// signature if no row was written); nothing in text and CSV formats.
func (e *CopyEncoder) AppendEnd(dst []byte) []byte {
	if e.opts.Format != CopyBinary {
		return dst
	}
	dst = e.appendStart(dst)
	return append(dst, 0xff, 0xff)
}

func (e *CopyEncoder) appendText(dst, f []byte) []byte {
	delim := e.opts.Delimiter
	for _, b := range f {
		switch b {
		case '\\':
			dst = append(dst, '\\', '\\')
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\f':
			dst = append(dst, '\\', 'f')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		case '\v':
			dst = append(dst, '\\', 'v')
		default:
			if b == delim {
				dst = append(dst, '\\')
			}
			dst = append(dst, b)
		}
	}
	return dst
}

func (e *CopyEncoder) appendCSV(dst, f []byte, only bool) []byte {
	quote, escape := e.opts.Quote, e.opts.Escape
	// Quote whatever would read back differently: the NULL string, the
	// delimiter, quotes, line breaks, and a lone `\.` that would end data.
	needQuote := string(f) == e.opts.Null ||
		bytes.IndexByte(f, e.opts.Delimiter) >= 0 ||
		bytes.IndexByte(f, quote) >= 0 ||
		bytes.ContainsAny(f, "\r\n") ||
		(only && string(f) == `\.`)
	if !needQuote {
		return append(dst, f...)
	}
	dst = append(dst, quote)
	for _, b := range f {
		if b == quote || b == escape {
			dst = append(dst, escape)
		}
		dst = append(dst, b)
	}
	return append(dst, quote)
}
