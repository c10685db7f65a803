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
// All integers are little endian. One Append always lands in one batch, so a
// crash keeps or loses an Append as a whole. An AppendGroup is a run of
// batches, all but the last flagged continued, within one segment; recovery
// cuts a run that has no last batch, so a crash keeps or loses a group as a
// whole too.
const (
	batchMagic     = 0x474f4c6b
	batchVersion   = 1
	batchHeaderLen = 36

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
}

func (h batchHeader) end() uint64 { return h.base + uint64(h.count) }
func (h batchHeader) size() int64 { return batchHeaderLen + int64(h.payloadLen) }

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
	if b[8] != batchVersion || b[9]&^flagContinued != 0 || b[10] != 0 || b[11] != 0 {
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
	payload := b[batchHeaderLen:h.size()]
	crc := crc32.Update(crc32.Checksum(b[8:batchHeaderLen], castagnoli), castagnoli, payload)
	if crc != h.crc {
		return h, nil, errBadChecksum
	}
	it := recordIter{p: payload, left: h.count}
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
}

func (it *recordIter) next() ([]byte, bool) {
	if it.left == 0 {
		if len(it.p) != 0 {
			it.err = errBadRecords
		}
		return nil, false
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
