package pgwire

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/kappa-db/kappa/pgerr"
)

// TestCopyCodec replays testdata/copy/*.txt. Commands:
//
//	decode <text|csv> [delimiter=X] [null=S] [quote=X] [escape=X] [header] [columns=N]
//	  input: Go-quoted strings, concatenated; output: one row per line
//	encode <text|csv> [options]
//	  input: one row per line, like decode's output; output: the Go-quoted data
//
// Rows print as ["a" NULL "b"].
func TestCopyCodec(t *testing.T) {
	files, err := filepath.Glob("testdata/copy/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no copy cases: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			runDataFile(t, file, func(tc *transcriptCase) []string { return runCopyCase(t, tc) })
		})
	}
}

func runCopyCase(t *testing.T, tc *transcriptCase) []string {
	fields := strings.Fields(tc.cmd)
	opts := parseCopyOptions(t, fields[1:])
	if err := opts.Validate(); err != nil {
		return []string{"invalid options: " + err.Error()}
	}
	switch fields[0] {
	case "decode":
		var in strings.Builder
		for _, l := range tc.input {
			s, err := strconv.Unquote(l)
			if err != nil {
				t.Fatalf("input %s: %v", l, err)
			}
			in.WriteString(s)
		}
		// One byte per Read: rows must not depend on read boundaries.
		dec := NewCopyDecoder(iotest.OneByteReader(strings.NewReader(in.String())), opts)
		var out []string
		for {
			row, err := dec.Next()
			if errors.Is(err, io.EOF) {
				return out
			}
			if err != nil {
				var pe *pgerr.Error
				if errors.As(err, &pe) {
					return append(out, fmt.Sprintf("error %s: %s (%s)", pe.Code, pe.Message, pe.Detail))
				}
				return append(out, "error: "+err.Error())
			}
			out = append(out, formatCopyRow(row))
		}
	case "encode":
		var buf bytes.Buffer
		enc := NewCopyEncoder(&buf, opts)
		for _, l := range tc.input {
			if err := enc.Encode(parseCopyRow(t, l)); err != nil {
				t.Fatal(err)
			}
		}
		return []string{strconv.Quote(buf.String())}
	}
	t.Fatalf("unknown command %q", tc.cmd)
	return nil
}

func parseCopyOptions(t *testing.T, args []string) CopyOptions {
	if len(args) == 0 {
		t.Fatal("missing format")
	}
	var opts CopyOptions
	switch args[0] {
	case "text":
		opts = NewCopyOptions(CopyText)
	case "csv":
		opts = NewCopyOptions(CopyCSV)
	default:
		t.Fatalf("unknown format %q", args[0])
	}
	for _, a := range args[1:] {
		name, val, _ := strings.Cut(a, "=")
		switch name {
		case "delimiter":
			opts.Delimiter = val[0]
		case "null":
			opts.Null = val
		case "quote":
			opts.Quote = val[0]
		case "escape":
			opts.Escape = val[0]
		case "header":
			opts.Header = true
		case "columns":
			n, err := strconv.Atoi(val)
			if err != nil {
				t.Fatal(err)
			}
			opts.Columns = n
		default:
			t.Fatalf("unknown option %q", a)
		}
	}
	return opts
}

func formatCopyRow(row [][]byte) string {
	parts := make([]string, len(row))
	for i, f := range row {
		if f == nil {
			parts[i] = "NULL"
		} else {
			parts[i] = strconv.Quote(string(f))
		}
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func parseCopyRow(t *testing.T, s string) [][]byte {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "[") || !strings.HasSuffix(s, "]") {
		t.Fatalf("row %q: want [...]", s)
	}
	s = strings.TrimSpace(s[1 : len(s)-1])
	row := [][]byte{}
	for s != "" {
		if rest, ok := strings.CutPrefix(s, "NULL"); ok {
			row = append(row, nil)
			s = strings.TrimSpace(rest)
			continue
		}
		q, err := strconv.QuotedPrefix(s)
		if err != nil {
			t.Fatalf("row field %q: %v", s, err)
		}
		v, err := strconv.Unquote(q)
		if err != nil {
			t.Fatal(err)
		}
		row = append(row, []byte(v))
		s = strings.TrimSpace(s[len(q):])
	}
	return row
}

// TestCopyRoundTrip encodes random rows and decodes them back, for both
// formats and a few option sets (binary COPY against PostgreSQL is
// internal/clienttest's pgx check).
func TestCopyRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("ab,;|\t\n\r\\\"'.N \x00\x01\xff")
	optionSets := []CopyOptions{
		NewCopyOptions(CopyText),
		NewCopyOptions(CopyCSV),
		func() CopyOptions { o := NewCopyOptions(CopyText); o.Delimiter, o.Null = '|', "N"; return o }(),
		func() CopyOptions {
			o := NewCopyOptions(CopyCSV)
			o.Delimiter, o.Escape, o.Null = ';', '\\', "N"
			return o
		}(),
		func() CopyOptions { o := NewCopyOptions(CopyCSV); o.Quote, o.Escape = '\'', '\''; return o }(),
		NewCopyOptions(CopyBinary),
	}
	for _, opts := range optionSets {
		if err := opts.Validate(); err != nil {
			t.Fatalf("%+v: %v", opts, err)
		}
		var rows [][][]byte
		for range 300 {
			row := make([][]byte, 1+rng.IntN(4))
			for i := range row {
				if rng.IntN(6) == 0 {
					continue // NULL
				}
				f := make([]byte, rng.IntN(6))
				for j := range f {
					f[j] = alphabet[rng.IntN(len(alphabet))]
				}
				row[i] = f
			}
			rows = append(rows, row)
		}
		var buf bytes.Buffer
		enc := NewCopyEncoder(&buf, opts)
		for _, r := range rows {
			if err := enc.Encode(r); err != nil {
				t.Fatal(err)
			}
		}
		if opts.Format == CopyBinary {
			buf.Write(enc.AppendEnd(nil))
		} else {
			buf.WriteString("\\.\n")
		}
		dec := NewCopyDecoder(&buf, opts)
		for i, want := range rows {
			got, err := dec.Next()
			if err != nil {
				t.Fatalf("%+v: row %d: %v", opts, i, err)
			}
			if formatCopyRow(got) != formatCopyRow(want) {
				t.Fatalf("%+v: row %d = %s, want %s", opts, i, formatCopyRow(got), formatCopyRow(want))
			}
		}
		if _, err := dec.Next(); !errors.Is(err, io.EOF) {
			t.Fatalf("%+v: after last row: %v", opts, err)
		}
	}
}

func TestCopyOptionsValidate(t *testing.T) {
	bad := []CopyOptions{
		{Format: CopyText, Delimiter: '\\'},
		{Format: CopyText, Delimiter: 'a'},
		{Format: CopyText, Delimiter: '\n'},
		{Format: CopyCSV, Delimiter: '"'},
		{Format: CopyCSV, Null: "a,b"},
		{Format: CopyText, Null: "a\nb"},
		{Format: CopyFormat(9)},
	}
	for _, o := range bad {
		if err := o.Validate(); err == nil {
			t.Errorf("%+v: valid, want an error", o)
		}
	}
}

// FuzzCopyDecoder: any input decodes without panicking, and what decodes
// re-encodes to data that decodes to the same rows.
func FuzzCopyDecoder(f *testing.F) {
	f.Add([]byte("1\tone\n2\t\\N\n"), false)
	f.Add([]byte("\"a,b\",,\"\"\n\\.\n"), true)
	f.Add([]byte("a\\\nb\\x41\\101\n"), false)
	f.Fuzz(func(t *testing.T, data []byte, csv bool) {
		opts := NewCopyOptions(CopyText)
		if csv {
			opts = NewCopyOptions(CopyCSV)
		}
		dec := NewCopyDecoder(bytes.NewReader(data), opts)
		var rows [][][]byte
		for {
			row, err := dec.Next()
			if err != nil {
				break
			}
			cp := make([][]byte, len(row))
			for i, v := range row {
				if v != nil {
					cp[i] = append([]byte{}, v...)
				}
			}
			rows = append(rows, cp)
		}
		var buf bytes.Buffer
		enc := NewCopyEncoder(&buf, opts)
		for _, r := range rows {
			if err := enc.Encode(r); err != nil {
				t.Fatal(err)
			}
		}
		dec = NewCopyDecoder(&buf, opts)
		for i, want := range rows {
			got, err := dec.Next()
			if err != nil {
				t.Fatalf("re-decode row %d: %v", i, err)
			}
			if formatCopyRow(got) != formatCopyRow(want) {
				t.Fatalf("row %d = %s, want %s", i, formatCopyRow(got), formatCopyRow(want))
			}
		}
	})
}

// TestCopyTextLongLines decodes text lines longer than the decoder's read
// buffer (which are gathered in a copy rather than parsed in place), with
// and without escapes, an escaped newline and a last line without one.
func TestCopyTextLongLines(t *testing.T) {
	long := strings.Repeat("x", 200<<10)
	cases := []struct {
		data string
		want []string // rows as formatCopyRow prints them
	}{
		{"a\t" + long + "\nb\tc\n", []string{formatCopyRow([][]byte{[]byte("a"), []byte(long)}), formatCopyRow([][]byte{[]byte("b"), []byte("c")})}},
		{long + "\\t\\N\t\\N", []string{formatCopyRow([][]byte{[]byte(long + "\tN"), nil})}},
		{"1\t" + long, []string{formatCopyRow([][]byte{[]byte("1"), []byte(long)})}},
		{"x\\\ny\t" + long + "\\\nz\n\\.\n", []string{formatCopyRow([][]byte{[]byte("x\ny"), []byte(long + "\nz")})}},
	}
	for i, tc := range cases {
		dec := NewCopyDecoder(strings.NewReader(tc.data), NewCopyOptions(CopyText))
		for j, want := range tc.want {
			got, err := dec.Next()
			if err != nil {
				t.Fatalf("case %d row %d: %v", i, j, err)
			}
			if formatCopyRow(got) != want {
				t.Fatalf("case %d row %d: got %.80s..., want %.80s...", i, j, formatCopyRow(got), want)
			}
		}
		if _, err := dec.Next(); !errors.Is(err, io.EOF) {
			t.Fatalf("case %d: after the last row: %v", i, err)
		}
	}
}
