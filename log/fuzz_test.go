package log

import (
	"bytes"
	"testing"
)

// FuzzDecodeBatch feeds arbitrary bytes to the batch decoder, which recovery
// runs on whatever a crash left at the tail of a segment. It must never panic,
// and whatever it accepts must re-encode to the same bytes. Seeds live in
// testdata/fuzz/FuzzDecodeBatch.
func FuzzDecodeBatch(f *testing.F) {
	f.Add(appendBatch(nil, 0, 0, [][]byte{[]byte("a")}))
	f.Add(appendBatch(nil, 1<<40, 1700000000000000000, [][]byte{{}, []byte("hello"), bytes.Repeat([]byte{7}, 300)}))
	f.Fuzz(func(t *testing.T, data []byte) {
		h, payload, err := decodeBatch(data)
		if err != nil {
			return
		}
		var recs [][]byte
		it := recordIter{p: payload, left: h.count}
		for {
			rec, ok := it.next()
			if !ok {
				break
			}
			recs = append(recs, rec)
		}
		if it.err != nil || uint32(len(recs)) != h.count {
			t.Fatalf("decodeBatch accepted a batch whose records do not parse: %v", it.err)
		}
		again := appendBatch(nil, h.base, h.appendTime, recs)
		if !bytes.Equal(again, data[:h.size()]) {
			t.Fatalf("re-encoding differs:\n got %x\nwant %x", again, data[:h.size()])
		}
	})
}
