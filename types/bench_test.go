package types

import (
	"testing"
	"time"
)

var benchRow = Row{NewInt8(123456789), NewInt4(-42), NewFloat8(3.25), NewBool(true), NewTimestamp(789012345678)}

func BenchmarkAppendKey(b *testing.B) {
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf = buf[:0]
		for _, v := range benchRow {
			buf = AppendKey(buf, v, false)
		}
	}
}

func BenchmarkAppendKeyText(b *testing.B) {
	buf := make([]byte, 0, 256)
	v := NewText("some moderately long key text")
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendKey(buf[:0], v, false)
	}
}

func BenchmarkDecodeKey(b *testing.B) {
	key := AppendKey(nil, NewInt8(123456789), false)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := DecodeKey(key, Int8, false); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendRow(b *testing.B) {
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendRow(buf[:0], benchRow)
	}
}

func BenchmarkDecodeRow(b *testing.B) {
	enc := AppendRow(nil, benchRow)
	row := make(Row, 0, len(benchRow))
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if row, _, err = DecodeRow(enc, row); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkHash(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		for _, v := range benchRow {
			_ = Hash(v, 1)
		}
	}
}

func BenchmarkAppendTextTimestampTZ(b *testing.B) {
	buf := make([]byte, 0, 64)
	v := NewTimestampTZ(789012345678)
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		b.Skip(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendText(buf[:0], v, TimestampTZ, loc)
	}
}

func BenchmarkParseTextInt(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseText(Int8, "1234567890", time.UTC); err != nil {
			b.Fatal(err)
		}
	}
}
