package sqllogictest

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var rewriteGolden = flag.Bool("rewrite", false, "rewrite the golden files under testdata/")

// checkGolden compares got with testdata/<name>, or writes it with -rewrite.
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *rewriteGolden {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -rewrite to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (run with -rewrite to accept):\n--- got\n%s--- want\n%s", path, got, want)
	}
}

// describe prints a record's parsed fields, one per line.
func describe(rec Record) string {
	var b strings.Builder
	fmt.Fprintf(&b, "line %d: %s\n", rec.Line, rec.Kind)
	for _, c := range rec.Conditions {
		word := "onlyif"
		if c.Skip {
			word = "skipif"
		}
		fmt.Fprintf(&b, "  %s %s\n", word, c.Engine)
	}
	if rec.SQL != "" {
		fmt.Fprintf(&b, "  sql: %q\n", rec.SQL)
	}
	if rec.ExpectError {
		fmt.Fprintf(&b, "  error: %q\n", rec.ErrorPattern)
	}
	if rec.ExpectCount >= 0 {
		fmt.Fprintf(&b, "  count: %d\n", rec.ExpectCount)
	}
	if rec.Types != "" {
		fmt.Fprintf(&b, "  types: %s sort: %s label: %q separator: %v\n", rec.Types, rec.Sort, rec.Label, rec.HasSeparator)
		for _, e := range rec.Expected {
			fmt.Fprintf(&b, "  | %s\n", e)
		}
	}
	if rec.Kind == KindHashThreshold {
		fmt.Fprintf(&b, "  threshold: %d\n", rec.Threshold)
	}
	return b.String()
}

func TestParse(t *testing.T) {
	data, err := os.ReadFile("testdata/parse.slt")
	if err != nil {
		t.Fatal(err)
	}
	f, err := Parse(strings.NewReader(string(data)), "parse.slt")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, rec := range f.Records {
		b.WriteString(describe(rec))
	}
	checkGolden(t, "parse.golden", b.String())
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		in   string
		line int
		msg  string
	}{
		{"frobnicate\n", 1, `unknown record "frobnicate"`},
		{"statement ok\nSELECT 1\n\n\nbogus x\n", 5, `unknown record "bogus"`},
		{"skipif x\n\nstatement ok\nSELECT 1\n", 2, "condition without a record"},
		{"onlyif x\n", 1, "condition without a record at end of file"},
		{"statement ok\n", 1, "statement without SQL"},
		{"statement maybe\nSELECT 1\n", 1, `statement "maybe": want ok, error or count`},
		{"statement count x\nSELECT 1\n", 1, `bad statement count "x"`},
		{"query\nSELECT 1\n", 1, "query needs its column types"},
		{"query I rowsort label extra\nSELECT 1\n", 1, `query: unexpected "extra"`},
		{"query I\n----\n1\n", 1, "query without SQL"},
		{"hash-threshold x\n", 1, `bad hash-threshold "x"`},
		{"loop i 0 1\nstatement ok\nSELECT 1\n", 1, "loop without endloop"},
	} {
		_, err := Parse(strings.NewReader(tc.in), "f.slt")
		want := fmt.Sprintf("f.slt:%d: %s", tc.line, tc.msg)
		if err == nil || err.Error() != want {
			t.Errorf("Parse(%q) = %v, want %s", tc.in, err, want)
		}
	}
}
