package sql

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/kappa-db/kappa/pgerr"
)

// A tiny runner in the style of cockroachdb/datadriven. A test file holds
// cases:
//
//	# comment
//	command
//	input line(s)
//	----
//	expected output
//
// The expected output ends at the first blank line. `go test ./sql
// -rewrite` regenerates the expected outputs; review the diff.

var rewrite = flag.Bool("rewrite", false, "rewrite the expected outputs of datadriven test files")

type ddCase struct {
	cmd      string
	input    string
	expected string
	line     int
}

type ddFile struct {
	// chunks are the file's pieces: comments and blank lines verbatim, and
	// cases (as nil string with an index into cases).
	pieces []ddPiece
	cases  []*ddCase
}

type ddPiece struct {
	text string
	c    *ddCase
}

func parseDDFile(t *testing.T, path string) *ddFile {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	lines := strings.Split(string(data), "\n")
	f := &ddFile{}
	for i := 0; i < len(lines); {
		l := lines[i]
		if strings.TrimSpace(l) == "" || strings.HasPrefix(l, "#") {
			f.pieces = append(f.pieces, ddPiece{text: l})
			i++
			continue
		}
		c := &ddCase{cmd: strings.TrimSpace(l), line: i + 1}
		i++
		var in []string
		for i < len(lines) && lines[i] != "----" {
			in = append(in, lines[i])
			i++
		}
		if i >= len(lines) {
			t.Fatalf("%s:%d: case without ----", path, c.line)
		}
		i++ // ----
		var out []string
		for i < len(lines) && lines[i] != "" {
			out = append(out, lines[i])
			i++
		}
		c.input = strings.Join(in, "\n")
		c.expected = strings.Join(out, "\n")
		f.cases = append(f.cases, c)
		f.pieces = append(f.pieces, ddPiece{c: c})
	}
	return f
}

func (f *ddFile) String() string {
	var b strings.Builder
	for i, p := range f.pieces {
		if p.c == nil {
			b.WriteString(p.text)
			if i < len(f.pieces)-1 {
				b.WriteByte('\n')
			}
			continue
		}
		b.WriteString(p.c.cmd + "\n" + p.c.input + "\n----\n")
		if p.c.expected != "" {
			b.WriteString(p.c.expected + "\n")
		}
	}
	return b.String()
}

// runDataDriven runs every file under dir through run.
func runDataDriven(t *testing.T, dir string, run func(t *testing.T, c *ddCase) string) {
	files, err := filepath.Glob(filepath.Join(dir, "*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatalf("no test files in %s", dir)
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			f := parseDDFile(t, path)
			for _, c := range f.cases {
				got := strings.TrimRight(run(t, c), "\n")
				if *rewrite {
					c.expected = got
					continue
				}
				if got != c.expected {
					t.Errorf("%s:%d: %s\n%s\nexpected:\n%s\ngot:\n%s", path, c.line, c.cmd, c.input, c.expected, got)
				}
			}
			if *rewrite {
				if err := os.WriteFile(path, []byte(f.String()), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// dump prints a node tree, one node per line, with positions as @offset.
// Zero fields are left out.
func dump(n any) string {
	var b strings.Builder
	dumpValue(&b, reflect.ValueOf(n), 0, "")
	return b.String()
}

func dumpValue(b *strings.Builder, v reflect.Value, depth int, label string) {
	for v.Kind() == reflect.Interface || v.Kind() == reflect.Pointer {
		if v.IsNil() {
			return
		}
		v = v.Elem()
	}
	indent := strings.Repeat("  ", depth)
	if v.Kind() != reflect.Struct {
		fmt.Fprintf(b, "%s%s%v\n", indent, label, scalar(v))
		return
	}
	t := v.Type()
	header := indent + label + t.Name()
	if f := v.FieldByName("Pos"); f.IsValid() {
		header += fmt.Sprintf("@%d", f.Int())
	}
	var inline []string
	type child struct {
		name string
		v    reflect.Value
	}
	var children []child
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		f := v.Field(i)
		if sf.Name == "Pos" || sf.Name == "EmitPos" || sf.Name == "StatementInfo" || !sf.IsExported() || f.IsZero() {
			continue
		}
		if sf.Anonymous && sf.Type == reflect.TypeOf(ObjectName{}) {
			inline = append(inline, "Name="+objName(f.Interface().(ObjectName)))
			continue
		}
		switch {
		case f.Type() == reflect.TypeOf(ObjectName{}):
			inline = append(inline, sf.Name+"="+objName(f.Interface().(ObjectName)))
		case f.Type() == reflect.TypeOf(&ObjectName{}):
			inline = append(inline, sf.Name+"="+objName(*f.Interface().(*ObjectName)))
		case f.Type() == reflect.TypeOf(Options{}):
			var parts []string
			for _, o := range f.Interface().(Options) {
				s := o.Key
				if o.HasValue {
					s += "=" + quoteIfNeeded(o.Value)
				}
				parts = append(parts, s)
			}
			inline = append(inline, sf.Name+"=["+strings.Join(parts, ", ")+"]")
		case f.Type() == reflect.TypeOf(&Alias{}):
			a := f.Interface().(*Alias)
			s := a.Name
			if len(a.Columns) > 0 {
				s += "(" + strings.Join(a.Columns, ",") + ")"
			}
			inline = append(inline, sf.Name+"="+s)
		case f.Kind() == reflect.Bool:
			inline = append(inline, sf.Name)
		case f.Kind() == reflect.String || f.Kind() == reflect.Int || f.Kind() == reflect.Int64 || f.Kind() == reflect.Int32:
			inline = append(inline, sf.Name+"="+scalar(f))
		case f.Kind() == reflect.Pointer && f.Elem().Kind() != reflect.Struct:
			inline = append(inline, sf.Name+"="+scalar(f.Elem()))
		case f.Kind() == reflect.Slice && (f.Type().Elem().Kind() == reflect.String || f.Type().Elem().Kind() == reflect.Int32):
			var parts []string
			for j := 0; j < f.Len(); j++ {
				parts = append(parts, scalar(f.Index(j)))
			}
			inline = append(inline, sf.Name+"=["+strings.Join(parts, " ")+"]")
		case f.Kind() == reflect.Struct && sf.Type == reflect.TypeOf(TransactionModes{}):
			m := f.Interface().(TransactionModes)
			var parts []string
			if m.Isolation != "" {
				parts = append(parts, "Isolation="+quoteIfNeeded(m.Isolation))
			}
			if m.ReadOnly != nil {
				parts = append(parts, fmt.Sprintf("ReadOnly=%v", *m.ReadOnly))
			}
			if m.Deferrable != nil {
				parts = append(parts, fmt.Sprintf("Deferrable=%v", *m.Deferrable))
			}
			s := "Modes{" + strings.Join(parts, " ")
			inline = append(inline, s+"}")
		default:
			children = append(children, child{sf.Name, f})
		}
	}
	if len(inline) > 0 {
		header += " " + strings.Join(inline, " ")
	}
	b.WriteString(header + "\n")
	for _, c := range children {
		f := c.v
		if f.Kind() == reflect.Slice {
			fmt.Fprintf(b, "%s  %s:\n", indent, c.name)
			for j := 0; j < f.Len(); j++ {
				e := f.Index(j)
				if e.Kind() == reflect.Slice { // VALUES rows
					fmt.Fprintf(b, "%s    row:\n", indent)
					for k := 0; k < e.Len(); k++ {
						dumpValue(b, e.Index(k), depth+3, "")
					}
					continue
				}
				dumpValue(b, e, depth+2, "")
			}
			continue
		}
		dumpValue(b, f, depth+1, c.name+": ")
	}
}

func objName(n ObjectName) string {
	s := n.Name
	if n.Schema != "" {
		s = n.Schema + "." + s
	}
	if n.Catalog != "" {
		s = n.Catalog + "." + s
	}
	return fmt.Sprintf("%s@%d", s, n.Pos)
}

func scalar(v reflect.Value) string {
	if s, ok := v.Interface().(fmt.Stringer); ok {
		return quoteIfNeeded(s.String())
	}
	if v.Kind() == reflect.String {
		return quoteIfNeeded(v.String())
	}
	return fmt.Sprint(v.Interface())
}

func quoteIfNeeded(s string) string {
	if s == "" || strings.ContainsAny(s, " \t\n\"'=[](){},") {
		return fmt.Sprintf("%q", s)
	}
	return s
}

// runParse is the datadriven command set for testdata/parse.
//
//	parse      dump every statement (or the error)
//	split      the offset and text of every statement
//	format     Format of every statement's query, and that it parses back
//	           to the same tree
//	colnames   DefaultColumnName of every target of a SELECT
func runParse(t *testing.T, c *ddCase) string {
	stmts, err := Parse(c.input)
	if err != nil {
		return errString(err)
	}
	var b strings.Builder
	switch c.cmd {
	case "parse":
		for i, s := range stmts {
			if len(stmts) > 1 {
				fmt.Fprintf(&b, "-- %d\n", i)
			}
			b.WriteString(dump(s))
		}
	case "split":
		for _, s := range stmts {
			fmt.Fprintf(&b, "%T offset=%d text=%q\n", s, s.Info().Offset, s.Info().Text)
		}
	case "format":
		for _, s := range stmts {
			q, ok := s.(*Select)
			if !ok {
				q = mainQuery(s)
			}
			if q == nil {
				b.WriteString("not a query\n")
				continue
			}
			text := Format(q)
			b.WriteString(text + "\n")
			checkRoundTrip(t, c, q, text)
		}
	case "colnames":
		for _, s := range stmts {
			q, ok := s.(*Select)
			if !ok {
				b.WriteString("not a query\n")
				continue
			}
			var names []string
			for _, tg := range q.Targets {
				n := tg.Alias
				if n == "" {
					n = DefaultColumnName(tg.Expr)
				}
				names = append(names, n)
			}
			b.WriteString(strings.Join(names, " | ") + "\n")
		}
	default:
		t.Fatalf("line %d: unknown command %q", c.line, c.cmd)
	}
	return b.String()
}

// checkRoundTrip checks that the formatted query parses to the same tree
// (positions aside).
func checkRoundTrip(t *testing.T, c *ddCase, q *Select, text string) {
	t.Helper()
	again, err := Parse(text)
	if err != nil {
		t.Errorf("line %d: formatted query does not parse: %v\n%s", c.line, err, text)
		return
	}
	if len(again) != 1 {
		t.Errorf("line %d: formatted query is %d statements", c.line, len(again))
		return
	}
	want, got := withoutPositions(dump(q)), withoutPositions(dump(again[0]))
	if want != got {
		t.Errorf("line %d: formatted query parses to a different tree\n%s\nwant:\n%s\ngot:\n%s", c.line, text, want, got)
	}
}

func withoutPositions(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '@' {
			j := i + 1
			if j < len(s) && s[j] == '-' {
				j++
			}
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			i = j - 1
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func errString(err error) string {
	var e *pgerr.Error
	if errors.As(err, &e) {
		return fmt.Sprintf("error %s at %d: %s", e.Code, e.Position, e.Message)
	}
	return "error (not a *pgerr.Error): " + err.Error()
}

func TestParseDataDriven(t *testing.T) {
	runDataDriven(t, "testdata/parse", runParse)
}
