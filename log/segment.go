package log

import (
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/kappa-db/kappa/pgerr"
	"github.com/kappa-db/kappa/vfs"
)

const (
	segmentSuffix  = ".log"
	segmentNameLen = 20 + len(segmentSuffix)

	// indexIntervalBytes is how far apart the sparse index's entries are: a
	// read from any offset scans at most this much of batch headers (plus one
	// batch) after its index entry.
	indexIntervalBytes = 64 << 10

	// readBufferBytes is the size of a reader's window: sequential replay
	// reads the file in pieces this big.
	readBufferBytes = 1 << 20
)

// segmentName is the file name of the segment whose first offset is base.
func segmentName(base uint64) string { return fmt.Sprintf("%020d%s", base, segmentSuffix) }

// parseSegmentName returns the base offset a segment file name encodes.
func parseSegmentName(name string) (uint64, bool) {
	if len(name) != segmentNameLen || !strings.HasSuffix(name, segmentSuffix) {
		return 0, false
	}
	base, err := strconv.ParseUint(name[:20], 10, 64)
	return base, err == nil
}

// segment is one file of the log. Fields after the comment are guarded by
// Log.mu; base and path never change.
type segment struct {
	base uint64
	path string

	// guarded by Log.mu
	size    int64  // bytes written
	durable int64  // bytes readers may read: synced (or written, with SyncOff)
	end     uint64 // offset after its last record
	// firstTime and lastTime are the append times (Unix nanoseconds) of its
	// first and last batch, 0 while it has none or is not yet indexed.
	firstTime, lastTime int64
	indexed             bool // index holds every batch's region; built lazily for old segments
	index               []indexEntry
	// recent are the starts of the segment's last batches (at most
	// recentBatches), so that a reader tailing the log starts at the right
	// batch instead of walking headers from the last sparse index entry.
	recent []indexEntry

	// rmu serialises opening rf and building the index.
	rmu sync.Mutex
	rf  vfs.File // read handle, opened on first read; closed by Log.Close
}

// indexEntry says that the batch whose first offset is offset starts at pos.
type indexEntry struct {
	offset uint64
	pos    int64
}

// lookupLocked returns the position of the last indexed batch that starts at
// or before offset.
func (s *segment) lookupLocked(offset uint64) int64 {
	if n := len(s.recent); n > 0 && offset >= s.recent[0].offset {
		i := sort.Search(n, func(i int) bool { return s.recent[i].offset > offset })
		return s.recent[i-1].pos
	}
	i := sort.Search(len(s.index), func(i int) bool { return s.index[i].offset > offset })
	if i == 0 {
		return 0
	}
	return s.index[i-1].pos
}

func (s *segment) reader(fs vfs.FS) (vfs.File, error) {
	s.rmu.Lock()
	defer s.rmu.Unlock()
	if s.rf == nil {
		f, err := fs.Open(s.path)
		if err != nil {
			return nil, ioError(err, "open log segment %s for reading", s.path)
		}
		s.rf = f
	}
	return s.rf, nil
}

// window reads a file through a buffer: sequential access reads big pieces,
// and a jump past the buffer re-reads at the new position.
type window struct {
	f     vfs.File
	limit int64 // bytes of f that may be read
	buf   []byte
	start int64 // file position of buf[0]
	n     int   // valid bytes in buf
}

var windowBufs = sync.Pool{New: func() any { b := make([]byte, readBufferBytes); return &b }}

func newWindow() *window {
	return &window{buf: *windowBufs.Get().(*[]byte)}
}

func (w *window) release() {
	if cap(w.buf) <= 4*readBufferBytes { // don't let one huge batch pin memory
		b := w.buf[:cap(w.buf)]
		windowBufs.Put(&b)
	}
	w.buf = nil
}

func (w *window) reset(f vfs.File, limit int64) { w.f, w.limit, w.start, w.n = f, limit, 0, 0 }

// at returns the bytes from pos: at least need of them, possibly more. It
// returns errShortBatch when the readable part of the file ends before
// pos+need, and an I/O error when reading fails.
func (w *window) at(pos int64, need int) ([]byte, error) {
	if pos+int64(need) > w.limit {
		return nil, errShortBatch
	}
	if pos >= w.start && pos+int64(need) <= w.start+int64(w.n) {
		return w.buf[pos-w.start : w.n], nil
	}
	keep := 0
	if pos >= w.start && pos < w.start+int64(w.n) {
		keep = copy(w.buf, w.buf[pos-w.start:w.n])
	}
	if need > len(w.buf) {
		nb := make([]byte, need)
		copy(nb, w.buf[:keep])
		w.buf = nb
	}
	want := int(min(int64(len(w.buf)), w.limit-pos))
	n, err := w.f.ReadAt(w.buf[keep:want], pos+int64(keep))
	if n < want-keep {
		w.start, w.n = 0, 0
		if err == nil || err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	w.start, w.n = pos, want
	return w.buf[:w.n], nil
}

// scanResult is what scanning a segment's batches found.
type scanResult struct {
	valid int64  // bytes of whole, well-formed batches from the start
	end   uint64 // offset after the last of them
	index []indexEntry
	bad   error // why scanning stopped before the limit; nil if it did not
	// firstTime and lastTime are the append times of the first and last
	// whole batch (0 when there is none).
	firstTime, lastTime int64
}

// scanSegment walks the batches of f from position 0 up to limit, expecting
// the first to start at base. With verify it checks every batch's checksum
// and records (recovery); without, it only reads headers (index building).
// It returns an error only for I/O failures; malformed data is reported in
// scanResult.bad.
func scanSegment(w *window, f vfs.File, limit int64, base uint64, verify bool) (r scanResult, _ error) {
	w.reset(f, limit)
	r = scanResult{end: base}
	lastIndexed := int64(-indexIntervalBytes)
	// group is where an unfinished run of continued batches began: if the
	// scan ends inside one, the run was torn and is cut off whole.
	group := struct {
		open     bool
		valid    int64
		end      uint64
		lastTime int64
	}{}
	defer func() {
		if !group.open {
			return
		}
		if r.bad == nil {
			r.bad = errTornGroup
		}
		r.valid, r.end, r.lastTime = group.valid, group.end, group.lastTime
		if r.valid == 0 {
			r.firstTime = 0
		}
		for len(r.index) > 0 && r.index[len(r.index)-1].pos >= group.valid {
			r.index = r.index[:len(r.index)-1]
		}
	}()
	for r.valid < limit {
		h, err := readHeader(w, r.valid)
		if err != nil && !errors.Is(err, errShortBatch) && !isFormatError(err) {
			return r, err
		}
		if err == nil && h.base != r.end {
			err = fmt.Errorf("batch at %d starts at offset %d, expected %d", r.valid, h.base, r.end)
		}
		if err == nil && r.valid+h.size() > limit {
			err = errShortBatch
		}
		if err == nil && verify {
			var b []byte
			b, err = w.at(r.valid, int(h.size()))
			if err != nil && !errors.Is(err, errShortBatch) {
				return r, err
			}
			if err == nil {
				_, _, err = decodeBatch(b[:h.size()])
			}
		}
		if err != nil {
			r.bad = err
			return r, nil
		}
		if r.valid-lastIndexed >= indexIntervalBytes {
			r.index = append(r.index, indexEntry{offset: h.base, pos: r.valid})
			lastIndexed = r.valid
		}
		if h.flags&flagContinued != 0 && !group.open {
			group.open, group.valid, group.end, group.lastTime = true, r.valid, r.end, r.lastTime
		} else if h.flags&flagContinued == 0 {
			group.open = false
		}
		if r.valid == 0 {
			r.firstTime = h.appendTime
		}
		r.lastTime = h.appendTime
		r.valid += h.size()
		r.end = h.end()
	}
	return r, nil
}

// buildIndex indexes a segment that recovery did not scan (any but the last
// one at Open). A sealed segment was synced whole before the next one was
// created, so anything short of a perfect chain of batches is corruption.
func (l *Log) buildIndex(s *segment) error {
	s.rmu.Lock()
	defer s.rmu.Unlock()
	l.mu.RLock()
	indexed, size, end := s.indexed, s.size, s.end
	l.mu.RUnlock()
	if indexed {
		return nil
	}
	if s.rf == nil {
		f, err := l.fs.Open(s.path)
		if err != nil {
			return ioError(err, "open log segment %s for reading", s.path)
		}
		s.rf = f
	}
	w := newWindow()
	defer w.release()
	r, err := scanSegment(w, s.rf, size, s.base, false)
	if err != nil {
		return ioError(err, "index log segment %s", s.path)
	}
	if r.bad == nil && r.end != end {
		r.bad = fmt.Errorf("its records end at offset %d but the next segment starts at %d", r.end, end)
	}
	if r.bad != nil {
		return pgerr.Wrap(r.bad, pgerr.DataCorrupted,
			fmt.Sprintf("log segment %s is corrupt at byte %d", s.path, r.valid))
	}
	l.mu.Lock()
	s.index, s.indexed = r.index, true
	s.firstTime, s.lastTime = r.firstTime, r.lastTime
	l.mu.Unlock()
	return nil
}

func segmentPath(dir string, base uint64) string { return filepath.Join(dir, segmentName(base)) }
