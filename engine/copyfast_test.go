package engine

import (
	"bytes"
	"testing"

	"github.com/kappa-db/kappa/catalog"
	"github.com/kappa-db/kappa/exec"
	"github.com/kappa-db/kappa/types"
)

// TestCopyFastMatches checks that the COPY fast path encodes exactly what
// the general path (types.ParseText, then exec.AppendChange) encodes, and
// that it leaves to the general path every field it cannot take.
func TestCopyFastMatches(t *testing.T) {
	tab := &catalog.Object{Columns: []catalog.Column{
		{Name: "a", Type: types.Int2}, {Name: "b", Type: types.Int4}, {Name: "c", Type: types.Int8}, {Name: "d", Type: types.Text},
	}}
	f := newCopyFast(tab, []int{0, 1, 2, 3}, false)
	if f == nil {
		t.Fatal("no fast path for (smallint, integer, bigint, text)")
	}
	for _, line := range [][]string{
		{"1", "2", "3", "x"},
		{"-32768", "2147483647", "-9223372036854775", "payload-1"},
		{"+7", "-0", "0", ""},
		{"0", "0", "123456789012345678", "héllo\tté"},
	} {
		fields := make([][]byte, len(line))
		row := make(types.Row, len(line))
		for i, s := range line {
			fields[i] = []byte(s)
			v, err := types.ParseText(tab.Columns[i].Type, s, nil)
			if err != nil {
				t.Fatal(err)
			}
			row[i] = v
		}
		got, ok := f.appendRecord(nil, fields)
		if !ok {
			t.Errorf("%q: the fast path refused it", line)
			continue
		}
		if want := exec.AppendChange(nil, 1, 0, row); !bytes.Equal(got, want) {
			t.Errorf("%q: fast %x, general %x", line, got, want)
		}
	}
	for _, line := range [][]string{
		{"32768", "1", "1", "x"},               // smallint out of range
		{"1", " 2", "1", "x"},                  // spaces: ParseText's to judge
		{"1", "2", "1234567890123456789", "x"}, // 19 digits
		{"1", "2", "3", "\xff"},                // invalid UTF-8
		{"1", "2", "x3", "y"},                  // not a number
		{"1", "2", "3"},                        // too few fields
	} {
		fields := make([][]byte, len(line))
		for i, s := range line {
			fields[i] = []byte(s)
		}
		if _, ok := f.appendRecord(nil, fields); ok {
			t.Errorf("%q: the fast path took it", line)
		}
	}
	if _, ok := f.appendRecord(nil, [][]byte{[]byte("1"), nil, []byte("3"), []byte("x")}); ok {
		t.Error("the fast path took a NULL")
	}
	for _, c := range []struct {
		name string
		tab  *catalog.Object
	}{
		{"primary key", &catalog.Object{Columns: tab.Columns, PrimaryKey: []int{0}}},
		{"varchar", &catalog.Object{Columns: []catalog.Column{{Name: "v", Type: types.Type{Kind: types.KindText, OID: types.OidVarchar, Mod: 14}}}}},
		{"numeric", &catalog.Object{Columns: []catalog.Column{{Name: "n", Type: types.Numeric}}}},
	} {
		target := make([]int, len(c.tab.Columns))
		for i := range target {
			target[i] = i
		}
		if newCopyFast(c.tab, target, false) != nil {
			t.Errorf("%s: a fast path", c.name)
		}
	}
}

// BenchmarkCopyFastAppend encodes serverbench ingest's lines (bigint,
// integer, bigint, text) with the COPY fast path.
func BenchmarkCopyFastAppend(b *testing.B) {
	tab := &catalog.Object{Columns: []catalog.Column{
		{Name: "id", Type: types.Int8}, {Name: "k", Type: types.Int4}, {Name: "v", Type: types.Int8}, {Name: "s", Type: types.Text},
	}}
	f := newCopyFast(tab, []int{0, 1, 2, 3}, false)
	fields := [][]byte{[]byte("123456"), []byte("456"), []byte("-123456"), []byte("payload-123456")}
	buf := make([]byte, 0, 64<<10)
	b.ReportAllocs()
	for b.Loop() {
		var ok bool
		if buf, ok = f.appendRecord(buf[:0], fields); !ok {
			b.Fatal("refused")
		}
	}
}
