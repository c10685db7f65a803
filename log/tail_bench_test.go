package log

import (
	"testing"
)

// BenchmarkReadTail measures what a tailing reader pays per record when
// single-record appends arrive one by one (2,000 single-row INSERTs/s into a
// table with a view is this pattern): append one, read from where the last
// read stopped.
func BenchmarkReadTail(b *testing.B) {
	l, err := Open(Options{Dir: b.TempDir(), Sync: SyncOff})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	rec := [][]byte{make([]byte, 60)}
	// Fill well past one sparse index interval so that the tail is far from
	// the last index entry.
	for i := 0; i < 3000; i++ {
		if _, err := l.Append(rec); err != nil {
			b.Fatal(err)
		}
	}
	next := l.End()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := l.Append(rec); err != nil {
			b.Fatal(err)
		}
		if next, err = l.Read(next, 100, func(uint64, []byte) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
}
