package log

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
)

// A segment file is a sequence of batches. A batch is a header followed by its
// payload, the records each prefixed by its length as a uvarint:
//
//	off size field
//	  0    4 magic "kLOG" (little endian 0x474f4c6b)
//	  4    4 CRC32C (Castagnoli) of bytes [8, 36) of the header and the payload
//	  8    1 version (1)
//	  9    1 flags: bit 0 "continued" (the batch is part of an AppendGroup
//	         whose last batch follows it); other bits 0
//	 10    2 reserved (0)
//	 12    8 base offset: the offset of the first record
//	 20    4 record count (>= 1)
//	 24    4 payload length in bytes
//	 28    8 append time, Unix nanoseconds
//
// A compacted batch (version 2, written only by Compact) has a 44-byte
// header: the same fields, flags 0, the record count may be 0, and
//
//	36    8 end offset: the batch covers offsets [base, end)
//
// and each record in its payload is prefixed by a uvarint gap before its
// length: the first record's offset is base+gap, each next one's the
// previous one's plus 1 plus gap. Offsets a compaction dropped are the gaps;
// consecutive batches still cover consecutive ranges, so the chain checks
// (a batch starts where the previous one ended) hold for both versions.
//
// All integers are little endian. One Append always lands in one batch, so a
// crash keeps or loses an Append as a whole. An AppendGroup is a run of
// batches, all but the last flagged continued, within one segment; recovery
// cuts a run that has no last batch, so a crash keeps or loses a group as a
// whole too.
const (
	batchMagic     = 0x474f4c6b
	batchVersion   = 1
	batchHeaderLen = 36

	compactedVersion   = 2
	compactedHeaderLen = 44

	// flagContinued marks a batch that an AppendGroup continues.
	flagContinued = 1

	// MaxBatchBytes bounds a batch's payload, and so the encoded size of one
	// Append (each record costs its length plus a 1-10 byte length prefix).
	// Readers hold a whole batch in memory.
	MaxBatchBytes = 64 << 20
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// batchHeader is a decoded batch header.
type batchHeader struct {
	crc        uint32
	base       uint64
	count      uint32
	payloadLen uint32
	appendTime int64
	flags      byte
	// compacted batches (version 2) cover [base, endOff) with gaps.
	compacted bool
	endOff    uint64
}

func (h batchHeader) end() uint64 {
	if h.compacted {
		return h.endOff
	}
	return h.base + uint64(h.count)
}

func (h batchHeader) headerLen() int {
	if h.compacted {
		return compactedHeaderLen
	}
	return batchHeaderLen
}

func (h batchHeader) size() int64 { return int64(h.headerLen()) + int64(h.payloadLen) }

// checksum is the CRC32C of batch b (header and payload) as its header
// should record it.
func (h batchHeader) checksum(b []byte) uint32 {
	return crc32.Update(crc32.Checksum(b[8:h.headerLen()], castagnoli), castagnoli, b[h.headerLen():h.size()])
}

// iter walks the records of the batch's payload.
func (h batchHeader) iter(payload []byte) recordIter {
	return recordIter{p: payload, left: h.count, off: h.base, sparse: h.compacted}
}

// readHeader decodes the header of the batch at pos of w's file.
func readHeader(w *window, pos int64) (batchHeader, error) {
	b, err := w.at(pos, batchHeaderLen)
	if err != nil {
		return batchHeader{}, err
	}
	if b[8] == compactedVersion && len(b) < compactedHeaderLen {
		if b, err = w.at(pos, compactedHeaderLen); err != nil {
			return batchHeader{}, err
		}
	}
	return decodeHeader(b)
}

// Errors of decodeHeader and decodeBatch. Recovery treats any of them at the
// tail of the last segment as a torn write.
var (
	errShortBatch  = errors.New("batch is cut short")
	errBadMagic    = errors.New("bad batch magic")
	errBadVersion  = errors.New("unknown batch version or flags")
	errBadLength   = errors.New("batch length or count out of range")
	errBadChecksum = errors.New("batch checksum mismatch")
	errBadRecords  = errors.New("batch records do not fill its payload")
	errTornGroup   = errors.New("the last batches are an AppendGroup without its last batch")
)

// decodeHeader checks and decodes the header at the start of b; it does not
// look at the payload or the checksum.
func decodeHeader(b []byte) (batchHeader, error) {
	if len(b) < batchHeaderLen {
		return batchHeader{}, errShortBatch
	}
	if binary.LittleEndian.Uint32(b[0:]) != batchMagic {
		return batchHeader{}, errBadMagic
	}
	compacted := b[8] == compactedVersion
	if compacted {
		if len(b) < compactedHeaderLen {
			return batchHeader{}, errShortBatch
		}
		if b[9] != 0 || b[10] != 0 || b[11] != 0 {
			return batchHeader{}, errBadVersion
		}
	} else if b[8] != batchVersion || b[9]&^flagContinued != 0 || b[10] != 0 || b[11] != 0 {
		return batchHeader{}, errBadVersion
	}
	h := batchHeader{
		crc:        binary.LittleEndian.Uint32(b[4:]),
		base:       binary.LittleEndian.Uint64(b[12:]),
		count:      binary.LittleEndian.Uint32(b[20:]),
		payloadLen: binary.LittleEndian.Uint32(b[24:]),
		appendTime: int64(binary.LittleEndian.Uint64(b[28:])),
		flags:      b[9],
	}
	if compacted {
		h.compacted, h.endOff = true, binary.LittleEndian.Uint64(b[36:])
		// Every record takes at least its gap and length prefixes.
		if h.endOff < h.base || uint64(h.count) > h.endOff-h.base || h.payloadLen > MaxBatchBytes || h.payloadLen < 2*h.count {
			return batchHeader{}, errBadLength
		}
		return h, nil
	}
	// Every record takes at least its one-byte length prefix.
	if h.count == 0 || h.payloadLen > MaxBatchBytes || h.payloadLen < h.count || h.base+uint64(h.count) < h.base {
		return batchHeader{}, errBadLength
	}
	return h, nil
}

// decodeBatch checks the whole batch at the start of b (header, checksum and
// record framing) and returns its header and payload, which aliases b.
func decodeBatch(b []byte) (batchHeader, []byte, error) {
	h, err := decodeHeader(b)
	if err != nil {
		return h, nil, err
	}
	if int64(len(b)) < h.size() {
		return h, nil, errShortBatch
	}
	payload := b[h.headerLen():h.size()]
	if h.checksum(b) != h.crc {
		return h, nil, errBadChecksum
	}
	it := h.iter(payload)
	for {
		if _, ok := it.next(); !ok {
			break
		}
	}
	if it.err != nil {
		return h, nil, it.err
	}
	return h, payload, nil
}

// recordIter walks the records of a checked payload without allocating.
type recordIter struct {
	p    []byte
	left uint32
	err  error
	// off is the offset of the record next returns (after it returned, of
	// the one it returned); sparse records carry their gaps.
	off     uint64
	sparse  bool
	started bool
}

func (it *recordIter) next() ([]byte, bool) {
	if it.left == 0 {
		if len(it.p) != 0 {
			it.err = errBadRecords
		}
		return nil, false
	}
	if it.started {
		it.off++
	}
	it.started = true
	if it.sparse {
		gap, k := binary.Uvarint(it.p)
		if k <= 0 || it.off+gap < it.off {
			it.err = errBadRecords
			return nil, false
		}
		it.off += gap
		it.p = it.p[k:]
	}
	n, k := binary.Uvarint(it.p)
	if k <= 0 || n > uint64(len(it.p)-k) {
		it.err = errBadRecords
		return nil, false
	}
	rec := it.p[k : k+int(n)]
	it.p = it.p[k+int(n):]
	it.left--
	return rec, true
}

// encodedLen is the payload bytes that records take in a batch.
func encodedLen(records [][]byte) int64 {
	var n int64
	for _, r := range records {
		n += int64(uvarintLen(uint64(len(r))) + len(r))
	}
	return n
}

func uvarintLen(x uint64) int {
	n := 1
	for x >= 0x80 {
		x >>= 7
		n++
	}
	return n
}

// batchWriter encodes batches into a reusable buffer.
type batchWriter struct {
	buf   []byte
	start int // where the open batch's header begins; -1 when none is open
	count uint32
	base  uint64
}

func (w *batchWriter) reset() { w.buf, w.start = w.buf[:0], -1 }

// open starts a batch whose first record gets offset base.
func (w *batchWriter) open(base uint64) {
	w.start, w.count, w.base = len(w.buf), 0, base
	w.buf = append(w.buf, make([]byte, batchHeaderLen)...)
}

func (w *batchWriter) add(records [][]byte) {
	for _, r := range records {
		w.buf = binary.AppendUvarint(w.buf, uint64(len(r)))
		w.buf = append(w.buf, r...)
	}
	w.count += uint32(len(records))
}

// payloadLen is the payload size of the open batch so far.
func (w *batchWriter) payloadLen() int64 { return int64(len(w.buf) - w.start - batchHeaderLen) }

// close fills in the open batch's header and returns it.
func (w *batchWriter) close(appendTime int64, flags byte) batchHeader {
	h := w.buf[w.start : w.start+batchHeaderLen]
	payload := w.buf[w.start+batchHeaderLen:]
	binary.LittleEndian.PutUint32(h[0:], batchMagic)
	h[8], h[9], h[10], h[11] = batchVersion, flags, 0, 0
	binary.LittleEndian.PutUint64(h[12:], w.base)
	binary.LittleEndian.PutUint32(h[20:], w.count)
	binary.LittleEndian.PutUint32(h[24:], uint32(len(payload)))
	binary.LittleEndian.PutUint64(h[28:], uint64(appendTime))
	crc := crc32.Update(crc32.Checksum(h[8:], castagnoli), castagnoli, payload)
	binary.LittleEndian.PutUint32(h[4:], crc)
	w.start = -1
	return batchHeader{crc: crc, base: w.base, count: w.count, payloadLen: uint32(len(payload)), appendTime: appendTime, flags: flags}
}

// appendBatch encodes one batch of records at the end of dst; for tests and
// tools.
func appendBatch(dst []byte, base uint64, appendTime int64, records [][]byte) []byte {
	w := batchWriter{buf: dst}
	w.open(base)
	w.add(records)
	w.close(appendTime, 0)
	return w.buf
}

// isFormatError says that err is one of decodeHeader's or decodeBatch's
// errors about the bytes, not an I/O failure.
func isFormatError(err error) bool {
	switch err {
	case errShortBatch, errBadMagic, errBadVersion, errBadLength, errBadChecksum, errBadRecords:
		return true
	}
	return false
}
