package exec

import (
	"errors"
	"hash/fnv"
	goruntime "runtime"
	"sync/atomic"

	"github.com/kappa-db/kappa/types"
)

// A table's log may be split into partitions (CREATE TABLE ... WITH
// (partitions = N)). Each partition is an input of its own to the
// dataflows that read the table: its own log, committed offset and read
// position. Its source id is the table's id with the partition number in
// the top bits, so that partition 0 is the table's id itself (a table of
// one partition is what it always was) and a dataflow's offsets stay under
// its storage.OffsetSpan.

const partitionShift = 48

// MaxPartitions bounds a table's partitions.
const MaxPartitions = 256

// PartitionSource is the source id of partition p of table's log.
func PartitionSource(table uint64, p int) uint64 { return table | uint64(p)<<partitionShift }

// SourceTable is the table whose log partition src is.
func SourceTable(src uint64) uint64 { return src & (1<<partitionShift - 1) }

// SourcePartition is the partition src is of its table's log.
func SourcePartition(src uint64) int { return int(src >> partitionShift) }

// PartitionRowID is the row id of the record at offset off of partition
// src's log that has none of its own (an insert into a table without a
// primary key): unique across the table's partitions, and the record's
// offset + 1 for partition 0.
func PartitionRowID(src, off uint64) uint64 { return src&^(1<<partitionShift-1) + off + 1 }

// RowIDPartition is the partition whose log numbered rowID.
func RowIDPartition(rowID uint64) int { return int(rowID >> partitionShift) }

// parallelMin is the fewest records a view's log inputs must have to read
// in an epoch for readParallel to read them on goroutines: a live epoch's
// few records cost less than the goroutines.
const parallelMin = 4 * readChunk

// parallelSources picks the log inputs of view df that readParallel reads
// this epoch: all of them, when one is a partitioned table's, there are
// several with records to read, more than one CPU, and parallelMin records
// to read (a backfill); nil otherwise. Views over unpartitioned tables only
// keep the serial read, which holds one chunk of rows at a time rather than
// two per reader.
func (rt *Runtime) parallelSources(df *dataflow, ends map[uint64]uint64) map[*source]bool {
	if df.g == nil || goruntime.GOMAXPROCS(0) < 2 {
		return nil
	}
	var n int
	var pending uint64
	partitioned := false
	for _, s := range df.sources {
		if s.log != nil && SourcePartition(s.id) > 0 {
			partitioned = true
		}
		if s.log != nil && s.next < ends[s.id] {
			n++
			pending += ends[s.id] - s.next
		}
	}
	if !partitioned || n < 2 || pending < parallelMin {
		return nil
	}
	set := map[*source]bool{}
	for _, s := range df.sources {
		if s.log != nil {
			set[s] = true
		}
	}
	return set
}

// readChunkBuf is one chunk of rows a reader goroutine decoded, on its way
// to the operators and back.
type readChunkBuf struct {
	s    *source
	in   Batch
	slab rowSlab
	free chan *readChunkBuf
	done bool // the last message of a reader, with its error
	err  error
}

// readParallel reads the inputs in set, each up to its end in ends (and
// the epoch's budget), on up to GOMAXPROCS goroutines that read and decode
// the logs, while this goroutine pushes their chunks through the
// operators, which are not safe for concurrent use. Each input's records
// stay in their order; the inputs' chunks interleave, which a Z-set does
// not mind: a row's versions are all in one partition (docs/partitions.md).
func (rt *Runtime) readParallel(ec *epochCtx, df *dataflow, ends map[uint64]uint64, set map[*source]bool, sinkOut func(*Batch) error) (more bool, err error) {
	var srcs []*source
	for _, s := range df.sources {
		if set[s] {
			s.rowUse(false) // here, not on the readers
			srcs = append(srcs, s)
		}
	}
	budget := uint64(rt.opts.MaxRecordsPerEpoch)
	workers := min(goruntime.GOMAXPROCS(0), len(srcs))
	queue := make(chan *source, len(srcs))
	for _, s := range srcs {
		queue <- s
	}
	close(queue)
	out := make(chan *readChunkBuf, 2*workers)
	var stop atomic.Bool
	errStopped := errors.New("stopped")
	for range workers {
		free := make(chan *readChunkBuf, 2)
		for range 2 {
			free <- &readChunkBuf{free: free}
		}
		go func() {
			var err error
			for s := range queue {
				if err == nil && !stop.Load() {
					err = readSourceChunks(s, ends[s.id], budget, free, out, &stop, errStopped)
				}
			}
			if err == errStopped {
				err = nil
			}
			out <- &readChunkBuf{done: true, err: err}
		}()
	}
	var firstErr error
	for remaining := workers; remaining > 0; {
		c := <-out
		if c.done {
			remaining--
			if c.err != nil && firstErr == nil {
				firstErr = c.err
				stop.Store(true)
			}
			continue
		}
		if firstErr == nil {
			for _, leaf := range c.s.pushFrom() {
				if err := df.g.push(ec, leaf, &c.in, sinkOut); err != nil {
					firstErr = err
					stop.Store(true)
					break
				}
			}
		}
		c.in.Reset()
		c.slab.used = 0
		c.free <- c
	}
	if firstErr != nil {
		return false, firstErr
	}
	for _, s := range srcs {
		if s.next < ends[s.id] {
			more = true
		}
	}
	return more, nil
}

// readSourceChunks reads input s from s.next up to limit (at most budget
// records, but whole appends, as stepDataflow does) into chunks taken from
// free and sent to out.
func readSourceChunks(s *source, limit, budget uint64, free, out chan *readChunkBuf, stop *atomic.Bool, errStopped error) error {
	use := s.slab
	take := func() *readChunkBuf {
		c := <-free
		c.s = s
		if c.slab.ncols != use.ncols {
			c.slab.vals = nil
		}
		c.slab.need, c.slab.private, c.slab.ncols, c.slab.used = use.need, use.private, use.ncols, 0
		c.slab.at, c.slab.dups, c.slab.proj = use.at, use.dups, use.proj
		return c
	}
	c := take()
	send := func() error {
		if stop.Load() {
			return errStopped
		}
		if c.in.Len() == 0 {
			return nil
		}
		out <- c
		c = take()
		return nil
	}
	start := s.next
	for s.next < limit && s.next-start < budget {
		next, err := s.log.ReadUnits(s.next, limit, int(budget-(s.next-start)), func(_ uint64, rec []byte) error {
			var dst types.Row
			if c.slab.private {
				dst = c.slab.next()
			}
			w, _, row, err := c.slab.decode(rec, dst)
			if err != nil {
				return err
			}
			if s.wm != nil && w > 0 && !s.admit(row, w) {
				return nil
			}
			c.in.Add(row, w)
			if c.in.Len() >= readChunk {
				return send()
			}
			return nil
		})
		if err != nil {
			c.free <- c
			return err
		}
		if next == s.next {
			break
		}
		s.next = next
	}
	err := send()
	c.in.Reset()
	c.free <- c
	return err
}

// RoutePartition is the partition (of n) of table t's log that change
// record rec goes to. With a primary key, a hash of the row's key (as
// stored), so that a key's versions stay in order in one partition.
// Without one, an insert (a record without a row id yet) goes to home,
// the partition its transaction writes, and a retraction to the partition
// that numbered its row, where the row's insert is.
func RoutePartition(rec []byte, t *TableSink, n, home int) (int, error) {
	_, rowID, enc, err := splitChange(rec)
	if err != nil {
		return 0, err
	}
	if len(t.PK) == 0 {
		if rowID != 0 {
			return RowIDPartition(rowID), nil
		}
		return home, nil
	}
	row, _, err := types.DecodeRow(enc, nil)
	if err != nil {
		return 0, err
	}
	h := fnv.New64a()
	_, _ = h.Write(t.RowKey(nil, 0, row))
	return int(h.Sum64() % uint64(n)), nil
}
