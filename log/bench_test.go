package log

import (
	"bytes"
	"fmt"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kappa-db/kappa/vfs"
)

// countSyncs wraps the OS filesystem to count fdatasyncs of segment files.
func countSyncs(n *atomic.Int64) vfs.FS {
	return vfs.WithFaults(vfs.Default, func(op vfs.Op, path string) error {
		if op == vfs.OpSync && filepath.Ext(path) == ".log" {
			n.Add(1)
		}
		return nil
	})
}

// BenchmarkAppendLargeBatches appends 1000 records of 100 bytes per Append
// with SyncGroup on the real disk, from 1 and from 4 appenders.
func BenchmarkAppendLargeBatches(b *testing.B) {
	batch := make([][]byte, 1000)
	for i := range batch {
		batch[i] = bytes.Repeat([]byte{byte(i)}, 100)
	}
	for _, appenders := range []int{1, 4} {
		b.Run(fmt.Sprintf("appenders=%d", appenders), func(b *testing.B) {
			var syncs atomic.Int64
			l := mustOpen(b, Options{FS: countSyncs(&syncs), Dir: b.TempDir()})
			defer l.Close()
			b.SetBytes(100 * 1000)
			b.ReportAllocs()
			b.ResetTimer()
			var next atomic.Int64
			var wg sync.WaitGroup
			for a := 0; a < appenders; a++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for next.Add(1) <= int64(b.N) {
						if _, err := l.Append(batch); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			b.StopTimer()
			b.ReportMetric(float64(syncs.Load())/float64(b.N), "fsyncs/op")
		})
	}
}

// BenchmarkAppendConcurrentSmall has 16 goroutines append one small record at
// a time with SyncGroup on the real disk.
func BenchmarkAppendConcurrentSmall(b *testing.B) {
	var syncs atomic.Int64
	l := mustOpen(b, Options{FS: countSyncs(&syncs), Dir: b.TempDir()})
	defer l.Close()
	rec := [][]byte{bytes.Repeat([]byte{'r'}, 100)}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(b.N) {
				if _, err := l.Append(rec); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "appends/s")
	b.ReportMetric(float64(syncs.Load())/float64(b.N), "fsyncs/op")
}

// BenchmarkReadSequential replays 100-byte records from the page cache.
func BenchmarkReadSequential(b *testing.B) {
	l := mustOpen(b, Options{Dir: b.TempDir(), Sync: SyncOff})
	defer l.Close()
	batch := make([][]byte, 1000)
	for i := range batch {
		batch[i] = bytes.Repeat([]byte{byte(i)}, 100)
	}
	for i := 0; i < 100; i++ {
		mustAppend(b, l, batch)
	}
	b.SetBytes(100)
	b.ReportAllocs()
	b.ResetTimer()
	var from uint64
	fn := func(uint64, []byte) error { return nil }
	for i := 0; i < b.N; i += 10000 {
		if from >= l.End() {
			from = 0
		}
		next, err := l.Read(from, min(10000, b.N-i), fn)
		if err != nil {
			b.Fatal(err)
		}
		from = next
	}
}
