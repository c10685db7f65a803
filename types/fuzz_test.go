package types

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/kappa-db/kappa/pgerr"
)

var fuzzTypes = []Type{Bool, Int2, Int4, Int8, Oid, Float4, Float8, Numeric, Text, Bytea, Date, Time, Timestamp,
	TimestampTZ, Interval, JSONB, ArrayOf(Int4), ArrayOf(Text), ArrayOf(Numeric),
	{Kind: KindNumeric, OID: OidNumeric, Mod: NumericTypmod(6, 2)}, {Kind: KindText, OID: OidVarchar, Mod: 3 + 4}}

// FuzzParseText checks that input never panics, that every error is a
// *pgerr.Error, and that output is stable: what ParseText accepts prints as
// text that reads back as the same text.
func FuzzParseText(f *testing.F) {
	for _, s := range []string{"42", " -1 ", "1e3", "NaN", "-Infinity", "2024-01-02", "2024-01-02 03:04:05.5+02",
		"1 year 2 mons -3 days 04:05:06", "P1DT2H", "@ 1 day ago", `{"a": [1, "x"]}`, `\x0102`, `a\\b`,
		"{1,NULL,\"x\"}", "t", "epoch", "12.345", "allballs", "Jan 2 2024"} {
		for i := range fuzzTypes {
			f.Add(uint8(i), s)
		}
	}
	f.Fuzz(func(t *testing.T, ti uint8, s string) {
		typ := fuzzTypes[int(ti)%len(fuzzTypes)]
		v, err := ParseText(typ, s, time.UTC)
		if err != nil {
			var pe *pgerr.Error
			if !errors.As(err, &pe) {
				t.Fatalf("%s %q: error %v is not a *pgerr.Error", typ, s, err)
			}
			return
		}
		out := FormatText(v, typ, time.UTC)
		v2, err := ParseText(typ, out, time.UTC)
		if err != nil {
			t.Fatalf("%s %q printed as %q which does not read back: %v", typ, s, out, err)
		}
		if out2 := FormatText(v2, typ, time.UTC); out2 != out {
			t.Fatalf("%s %q: output not stable: %q then %q", typ, s, out, out2)
		}
		// Every accepted value also survives the other encodings.
		if b, err := AppendBinary(nil, v, typ); err != nil {
			t.Fatalf("%s %q: AppendBinary: %v", typ, s, err)
		} else if v3, err := ParseBinary(typ, b); err != nil || Compare(v3, v) != 0 {
			t.Fatalf("%s %q: binary round trip: %v %v", typ, s, v3, err)
		}
		if v4, _, err := DecodeKey(AppendKey(nil, v, false), typ, false); err != nil || Compare(v4, v) != 0 {
			t.Fatalf("%s %q: key round trip: %v %v", typ, s, v4, err)
		}
	})
}

// FuzzDecodeKey checks that arbitrary bytes never panic the key decoder and
// that whatever decodes re-encodes to a key that decodes to the same value.
func FuzzDecodeKey(f *testing.F) {
	for _, tv := range edgeValues() {
		for i, typ := range fuzzTypes {
			if typ.Kind == tv.t.Kind {
				f.Add(uint8(i), false, AppendKey(nil, tv.v, false))
				f.Add(uint8(i), true, AppendKey(nil, tv.v, true))
			}
		}
	}
	f.Fuzz(func(t *testing.T, ti uint8, desc bool, b []byte) {
		typ := fuzzTypes[int(ti)%len(fuzzTypes)]
		v, rest, err := DecodeKey(b, typ, desc)
		if err != nil {
			return
		}
		if len(rest) > len(b) {
			t.Fatal("rest longer than input")
		}
		k := AppendKey(nil, v, desc)
		v2, rest2, err := DecodeKey(k, typ, desc)
		if err != nil || len(rest2) != 0 || Compare(v, v2) != 0 {
			t.Fatalf("%s: %x decoded to %+v, re-encoded %x decodes to %+v (%v)", typ, b, v, k, v2, err)
		}
		// A canonical encoding decodes to itself.
		if consumed := b[:len(b)-len(rest)]; bytes.Equal(consumed, k) {
			return
		}
	})
}

// FuzzDecodeRow checks that arbitrary bytes never panic the row decoder.
func FuzzDecodeRow(f *testing.F) {
	var row Row
	for _, tv := range edgeValues() {
		row = append(row, tv.v)
	}
	f.Add(AppendRow(nil, row))
	f.Add(AppendRow(nil, Row{NewInt4(1), Null}))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, _, err := DecodeRow(b, nil)
		if err != nil {
			return
		}
		enc := AppendRow(nil, r)
		r2, rest, err := DecodeRow(enc, nil)
		if err != nil || len(rest) != 0 || len(r2) != len(r) {
			t.Fatalf("re-encoded row does not decode: %v", err)
		}
	})
}
