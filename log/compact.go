package log

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"path/filepath"
	"slices"
	"strings"

	"github.com/kappa-db/kappa/pgerr"
	"github.com/kappa-db/kappa/vfs"
)

// KeyFunc splits a record for Compact: the key it changes (appended to
// dst), the row it carries (aliasing rec) and its weight, +1 for a row that
// the record adds under the key and -1 for one it removes (an update is a
// -1 of the old row and a +1 of the new one).
type KeyFunc func(dst, rec []byte) (key, row []byte, weight int64, err error)

// CompactStats says what one Compact did.
type CompactStats struct {
	Segments      int   // segments rewritten or merged into others
	RecordsBefore int64 // records in the compacted range before
	RecordsAfter  int64 // and after
	BytesBefore   int64 // bytes of the rewritten segments before
	BytesAfter    int64 // and after
}

// compactSuffix names a compacted segment while it is written; Open removes
// leftovers of a crash.
const compactSuffix = ".compact"

// Compact rewrites the sealed segments all of whose records are before keep
// (the first offset some reader has not consumed) so that each key keeps
// just the one record that adds its current row, and a removed key none:
// replaying the compacted part from the log's start then gives every key's
// row as of the end of that part, which is what the dropped records added up
// to, in space bounded by the keys rather than the history. The current row
// of a key is found by summing the weights of the rows it had, not by taking
// its last record, since one statement's records may come in any order
// (UPDATE t SET k = k + 1 moves rows between keys). A key whose weights do
// not add up to one row or none (its history began before the log's start)
// keeps all its records.
//
// A removed key leaves no tombstone: no reader is inside the compacted part
// (keep bounds it), and a reader that starts at the log's start never saw
// the key's older records.
//
// Offsets do not change; the dropped ones become gaps that reads skip.
// Adjacent segments whose compacted versions fit in Options.SegmentBytes
// together form a run, written as one file that replaces the run's first
// segment while the others are removed (Kafka merges small cleaned
// segments alike). Each run is written to a new file and synced, and all
// are installed behind the COMPACTING marker (installCompacted), so a crash
// leaves either version, both of which replay to the same rows. A run of
// one segment whose records all survive is not rewritten, and nothing is
// done unless a sealed segment was added since the last Compact.
//
// The reading and writing take no lock that readers or appenders wait for;
// only the install does. install, when not nil, is called with the
// installing function and the end of the compacted range: the caller runs
// it once no reader can be inside that range any more (a reader that
// started meanwhile would see old segments and then new ones), or returns
// ErrCompactionStale instead, and the compaction is dropped.
func (l *Log) Compact(keep uint64, key KeyFunc, install func(end uint64, do func() error) error) (CompactStats, error) {
	var st CompactStats
	l.compactMu.Lock()
	defer l.compactMu.Unlock()
	l.mu.RLock()
	segs, closed := l.mu.segments, l.mu.closed
	l.mu.RUnlock()
	if closed {
		return st, ErrClosed
	}
	keep = min(keep, l.End())
	n := 0
	for n < len(segs)-1 && segs[n+1].base <= keep {
		n++
	}
	if n == 0 || segs[n].base <= l.compactedTo {
		return st, nil
	}
	start, end := segs[0].base, segs[n].base

	// Per key, the net weight of each row it had (by a hash of the row) and
	// the last record that added it.
	type version struct {
		hash   uint64
		weight int64
		last   uint64
	}
	index := map[string]int{} // key -> its list in versions
	var versions [][]version
	seed := maphash.MakeSeed()
	var kb []byte
	_, err := l.readOpts(start, end, int(^uint(0)>>1), false, func(off uint64, _ int64, rec []byte) error {
		k, row, w, err := key(kb[:0], rec)
		if err != nil {
			return fmt.Errorf("compaction key of log record %d: %w", off, err)
		}
		kb = k
		h := maphash.Bytes(seed, row)
		ki, known := index[string(k)] // no allocation for a known key
		if !known {
			ki = len(versions)
			index[string(k)] = ki
			versions = append(versions, nil)
		}
		vs := versions[ki]
		i := slices.IndexFunc(vs, func(v version) bool { return v.hash == h })
		if i < 0 {
			vs = append(vs, version{hash: h})
			i = len(vs) - 1
		}
		vs[i].weight += w
		if w > 0 {
			vs[i].last = off
		}
		if vs[i].weight == 0 {
			// A row that came and went adds nothing: forget it, so that a
			// key's list stays as short as its live rows (one), however
			// long its history. If it comes back, its next insert is the
			// one to keep.
			vs = slices.Delete(vs, i, i+1)
		}
		versions[ki] = vs
		st.RecordsBefore++
		return nil
	})
	if err != nil {
		return st, err
	}
	// What each key keeps: the offset of its live row's last insert, none
	// (a removed key), or everything (allKept).
	const none, allKept = ^uint64(0), ^uint64(0) - 1
	kept := make(map[string]uint64, len(versions))
	for k, ki := range index {
		vs := versions[ki]
		keepOff := none
		for _, v := range vs {
			switch {
			case v.weight == 0:
			case v.weight == 1 && keepOff == none:
				keepOff = v.last
			default:
				keepOff = allKept
			}
		}
		kept[k] = keepOff
	}
	index, versions = nil, nil
	keepRecord := func(off uint64, rec []byte) (bool, error) {
		k, _, _, err := key(kb[:0], rec)
		if err != nil {
			return false, err
		}
		kb = k
		o := kept[string(k)]
		return o == off || o == allKept, nil
	}
	// Adjacent segments whose compacted versions fit in one segment
	// together are merged into one file named by the first (runs), so
	// that a log compacted many times does not keep many small segments.
	var written []compacted
	var run []*segment
	var runBuf []byte
	var runKept int64
	runDropped := false
	flushRun := func() error {
		if len(run) == 0 {
			return nil
		}
		st.RecordsAfter += runKept
		if len(run) > 1 || runDropped {
			c, err := l.writeCompacted(run[0], runBuf)
			if err != nil {
				return err
			}
			c.merged, c.kept = slices.Clone(run[1:]), runKept
			written = append(written, c)
		}
		run, runBuf, runKept, runDropped = run[:0], nil, 0, false
		return nil
	}
	for i := 0; i < n; i++ {
		b, kept, dropped, err := l.compactSegment(segs[i], keepRecord)
		if err == nil && len(run) > 0 && int64(len(runBuf)+len(b)) > l.opts.SegmentBytes {
			err = flushRun()
		}
		if err != nil {
			return st, errors.Join(err, l.removeCompactLeftovers())
		}
		run = append(run, segs[i])
		runBuf = append(runBuf, b...)
		runKept += kept
		runDropped = runDropped || dropped
	}
	if err := flushRun(); err != nil {
		return st, errors.Join(err, l.removeCompactLeftovers())
	}
	do := func() error { return l.installCompacted(written, &st) }
	if install == nil {
		err = do()
	} else {
		err = install(end, do)
	}
	if errors.Is(err, ErrCompactionStale) {
		return CompactStats{}, l.removeCompactLeftovers()
	}
	if err != nil {
		return st, err
	}
	l.compactedTo = end
	return st, nil
}

// ErrCompactionStale is what Compact's install callback returns to drop the
// compaction: a reader is inside the compacted range.
var ErrCompactionStale = errors.New("a reader is inside the compacted range")

// compacted is the compacted version of a run of adjacent segments,
// written and synced under a temporary name: it replaces seg, the first,
// and the others (merged) go.
type compacted struct {
	seg    *segment
	merged []*segment
	tmp    string
	size   int64
	kept   int64
}

// compactSegment returns the compacted version of segment s, with the
// records keepRecord keeps, as batches covering s's offsets, and whether
// it dropped any.
func (l *Log) compactSegment(s *segment, keepRecord func(off uint64, rec []byte) (bool, error)) (out []byte, kept int64, dropped bool, err error) {
	l.mu.RLock()
	end := s.end
	l.mu.RUnlock()
	var (
		buf      bytes.Buffer
		batch    []byte // the open batch's records, with gaps and lengths
		count    uint32
		first    uint64 // offset the open batch covers from
		prev     uint64 // the last record's offset in the open batch
		lastTime int64
	)
	flush := func(to uint64) {
		writeCompactedBatch(&buf, first, to, lastTime, count, batch)
		batch, count, first = batch[:0], 0, to
	}
	first = s.base
	_, err = l.readOpts(s.base, end, int(^uint(0)>>1), false, func(off uint64, t int64, rec []byte) error {
		ok, err := keepRecord(off, rec)
		if err != nil {
			return err
		}
		if !ok {
			dropped = true
			return nil
		}
		if len(batch)+len(rec)+20 > mergeBatchBytes && count > 0 {
			flush(prev + 1)
		}
		gap := off - first
		if count > 0 {
			gap = off - prev - 1
		}
		batch = binary.AppendUvarint(batch, gap)
		batch = binary.AppendUvarint(batch, uint64(len(rec)))
		batch = append(batch, rec...)
		count++
		prev, lastTime = off, t
		kept++
		return nil
	})
	if err != nil {
		return nil, 0, false, err
	}
	// The last batch keeps the segment's newest append time, so that age
	// retention sees the segment as old as it was.
	l.mu.RLock()
	lastTime = max(lastTime, s.lastTime)
	l.mu.RUnlock()
	flush(end)
	return buf.Bytes(), kept, dropped, nil
}

// writeCompacted writes out, the compacted version of a run starting at
// segment s, to a temporary file.
func (l *Log) writeCompacted(s *segment, out []byte) (compacted, error) {
	tmp := s.path + compactSuffix
	f, err := l.fs.Create(tmp)
	if err != nil {
		return compacted{}, ioError(err, "create compacted log segment %s", tmp)
	}
	if _, err := f.Write(out); err != nil {
		_ = f.Close()
		return compacted{}, ioError(err, "write compacted log segment %s", tmp)
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return compacted{}, ioError(err, "sync compacted log segment %s", tmp)
	}
	if err := f.Close(); err != nil {
		return compacted{}, ioError(err, "close compacted log segment %s", tmp)
	}
	return compacted{seg: s, tmp: tmp, size: int64(len(out))}, nil
}

// installCompacted puts the compacted segments in place of the old ones, all
// or none across a crash: the segments replay to the same rows only
// together (a key's kept record may be in one segment and its dropped ones
// in another). The marker file COMPACTING, once its name is synced, commits
// the compaction: Open finishes the renames of a committed one and deletes
// the files of one that was not. The marker lists the segments that merged
// into others, one name a line: Open deletes those that are left.
func (l *Log) installCompacted(cs []compacted, st *CompactStats) error {
	if len(cs) == 0 {
		return nil
	}
	dir := l.opts.Dir
	marker := filepath.Join(dir, compactMarker)
	var list []byte
	for _, c := range cs {
		for _, m := range c.merged {
			list = append(list, filepath.Base(m.path)+"\n"...)
		}
	}
	// The marker is written and synced under a temporary name and renamed:
	// its name never exists without its whole list.
	tmpMarker := marker + compactSuffix
	f, err := l.fs.Create(tmpMarker)
	if err != nil {
		return errors.Join(ioError(err, "create %s", tmpMarker), l.removeCompactLeftovers())
	}
	if _, err := f.Write(list); err != nil {
		_ = f.Close()
		return errors.Join(ioError(err, "write %s", tmpMarker), l.removeCompactLeftovers())
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return errors.Join(ioError(err, "sync %s", tmpMarker), l.removeCompactLeftovers())
	}
	if err := f.Close(); err != nil {
		return errors.Join(ioError(err, "close %s", tmpMarker), l.removeCompactLeftovers())
	}
	if err := l.fs.Rename(tmpMarker, marker); err != nil {
		return errors.Join(ioError(err, "rename %s", tmpMarker), l.removeCompactLeftovers())
	}
	// One directory sync makes the compacted files' names and the marker
	// durable: the commit point.
	if err := vfs.SyncDir(l.fs, dir); err != nil {
		return ioError(err, "sync log directory %s", dir)
	}
	// Readers wait while the files change under the segments' names.
	l.readMu.Lock()
	defer l.readMu.Unlock()
	var closeErr error
	closeSeg := func(s *segment) {
		s.rmu.Lock()
		if s.rf != nil {
			if err := s.rf.Close(); err != nil && closeErr == nil {
				closeErr = ioError(err, "close compacted-away log segment %s", s.path)
			}
			s.rf = nil
		}
		s.rmu.Unlock()
	}
	// Committed but not installed: the files no longer match what the log
	// holds in memory. Open finishes the job.
	failInstall := func(perr *pgerr.Error) error {
		l.mu.Lock()
		if l.mu.failed == nil && !l.mu.closed {
			l.mu.failed = pgerr.Wrap(perr, perr.Code,
				fmt.Sprintf("log %s refuses appends after a failed compaction; reopen it", dir))
			close(l.mu.notify)
			l.mu.notify = closedChan
		}
		l.mu.Unlock()
		return perr
	}
	replaced := map[*segment]*segment{}
	gone := map[*segment]bool{}
	for _, c := range cs {
		if err := l.fs.Rename(c.tmp, c.seg.path); err != nil {
			return failInstall(ioError(err, "rename compacted log segment %s", c.tmp))
		}
		ns := &segment{base: c.seg.base, path: c.seg.path, size: c.size, durable: c.size}
		l.mu.RLock()
		ns.end = c.seg.end
		oldSize := c.seg.size
		for _, m := range c.merged {
			ns.end = m.end
			oldSize += m.size
		}
		l.mu.RUnlock()
		closeSeg(c.seg)
		for _, m := range c.merged {
			closeSeg(m)
			if err := l.fs.Remove(m.path); err != nil {
				return failInstall(ioError(err, "remove merged log segment %s", m.path))
			}
			gone[m] = true
		}
		replaced[c.seg] = ns
		l.size.Add(c.size - oldSize)
		st.Segments += 1 + len(c.merged)
		st.BytesBefore += oldSize
		st.BytesAfter += c.size
	}
	l.mu.Lock()
	segs := make([]*segment, 0, len(l.mu.segments))
	for _, s := range l.mu.segments {
		if ns, ok := replaced[s]; ok {
			segs = append(segs, ns)
		} else if !gone[s] {
			segs = append(segs, s)
		}
	}
	l.mu.segments = segs
	l.mu.Unlock()
	// The renames and removals are durable before the marker goes.
	if err := vfs.SyncDir(l.fs, dir); err != nil {
		return failInstall(ioError(err, "sync log directory %s", dir))
	}
	if err := l.fs.Remove(marker); err != nil {
		return ioError(err, "remove %s", marker)
	}
	if err := vfs.SyncDir(l.fs, dir); err != nil {
		return ioError(err, "sync log directory %s", dir)
	}
	return closeErr
}

// writeCompactedBatch appends a version 2 batch covering [base, end) to out.
func writeCompactedBatch(out *bytes.Buffer, base, end uint64, appendTime int64, count uint32, payload []byte) {
	var h [compactedHeaderLen]byte
	binary.LittleEndian.PutUint32(h[0:], batchMagic)
	h[8] = compactedVersion
	binary.LittleEndian.PutUint64(h[12:], base)
	binary.LittleEndian.PutUint32(h[20:], count)
	binary.LittleEndian.PutUint32(h[24:], uint32(len(payload)))
	binary.LittleEndian.PutUint64(h[28:], uint64(appendTime))
	binary.LittleEndian.PutUint64(h[36:], end)
	hdr := batchHeader{compacted: true, payloadLen: uint32(len(payload))}
	buf := append(h[:], payload...)
	binary.LittleEndian.PutUint32(buf[4:], hdr.checksum(buf))
	out.Write(buf)
}

// compactMarker is the file whose presence says that the compacted segment
// files in the directory are committed.
const compactMarker = "COMPACTING"

// recoverCompaction finishes or undoes a compaction a crash interrupted:
// with the marker, the remaining compacted files replace their segments;
// without it, they are deleted.
func (l *Log) recoverCompaction(names []string) error {
	if !slices.Contains(names, compactMarker) {
		return l.removeCompactLeftovers()
	}
	dir := l.opts.Dir
	marker, err := readFile(l.fs, filepath.Join(dir, compactMarker))
	if err != nil {
		return ioError(err, "read %s", compactMarker)
	}
	for _, name := range names {
		if name == compactMarker+compactSuffix {
			// A newer compaction's marker, never committed.
			if err := l.fs.Remove(filepath.Join(dir, name)); err != nil {
				return ioError(err, "remove %s", name)
			}
			continue
		}
		if seg, ok := strings.CutSuffix(name, compactSuffix); ok {
			if err := l.fs.Rename(filepath.Join(dir, name), filepath.Join(dir, seg)); err != nil {
				return ioError(err, "finish the compaction of log segment %s", seg)
			}
		}
	}
	// Segments merged into others: their records are in the renamed files.
	for _, name := range strings.Fields(string(marker)) {
		if !slices.Contains(names, name) {
			continue // removed before the crash
		}
		if _, ok := parseSegmentName(name); !ok {
			return pgerr.New(pgerr.DataCorrupted, "log %s: %s names %q, not a segment", dir, compactMarker, name)
		}
		if err := l.fs.Remove(filepath.Join(dir, name)); err != nil {
			return ioError(err, "finish the merge of log segment %s", name)
		}
	}
	if err := vfs.SyncDir(l.fs, dir); err != nil {
		return ioError(err, "sync log directory %s", dir)
	}
	if err := l.fs.Remove(filepath.Join(dir, compactMarker)); err != nil {
		return ioError(err, "remove %s", compactMarker)
	}
	if err := vfs.SyncDir(l.fs, dir); err != nil {
		return ioError(err, "sync log directory %s", dir)
	}
	return nil
}

// removeCompactLeftovers deletes compacted segment files that were never
// committed (their segments are whole under their own names).
func (l *Log) removeCompactLeftovers() error {
	names, err := l.fs.List(l.opts.Dir)
	if err != nil {
		return ioError(err, "list log directory %s", l.opts.Dir)
	}
	removed := false
	for _, name := range names {
		if strings.HasSuffix(name, segmentSuffix+compactSuffix) || name == compactMarker+compactSuffix {
			p := filepath.Join(l.opts.Dir, name)
			if err := l.fs.Remove(p); err != nil {
				return ioError(err, "remove unfinished compacted log segment %s", p)
			}
			removed = true
		}
	}
	if removed {
		if err := vfs.SyncDir(l.fs, l.opts.Dir); err != nil {
			return ioError(err, "sync log directory %s", l.opts.Dir)
		}
	}
	return nil
}

// readFile returns the contents of a file.
func readFile(fs vfs.FS, name string) ([]byte, error) {
	f, err := fs.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	b := make([]byte, fi.Size())
	if len(b) == 0 {
		return b, nil
	}
	if _, err := f.ReadAt(b, 0); err != nil {
		return nil, err
	}
	return b, nil
}
