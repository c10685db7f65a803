package exec

import (
	"hash/maphash"
	"math/bits"

	"github.com/kappa-db/kappa/storage"
)

// keyFilter is a blocked Bloom filter over the group keys an aggregate has
// stored: a key it does not hold has no row in the store, so the aggregate
// makes the group without a point lookup (a new group's lookup misses every
// level of the store, the most expensive kind). It only ever gains keys, so
// an epoch that is retried leaves at worst a false positive.
type keyFilter struct {
	blocks []uint64 // 8 words (512 bits) per block
	mask   uint64   // blocks-1, in blocks
	n, max int      // keys added; how many it is sized for
	seed   maphash.Seed
}

// keyFilterBits is the filter's size per key: 16 bits and 6 probes in one
// cache line give about 0.1 % false positives.
const keyFilterBits = 16

func newKeyFilter(max int, seed maphash.Seed) *keyFilter {
	nb := uint64(1) << bits.Len64(uint64(max*keyFilterBits/512))
	return &keyFilter{blocks: make([]uint64, nb*8), mask: nb - 1, max: max, seed: seed}
}

func (f *keyFilter) probe(h uint64, set bool) bool {
	b := (h & f.mask) * 8
	h2 := h * 0x9E3779B97F4A7C15
	for range 6 {
		bit := h2 & 511
		w, m := b+bit/64, uint64(1)<<(bit%64)
		if set {
			f.blocks[w] |= m
		} else if f.blocks[w]&m == 0 {
			return false
		}
		h2 >>= 9
	}
	return true
}

func (f *keyFilter) add(key string) {
	f.probe(maphash.String(f.seed, key), true)
	f.n++
}

// has says key may have been added (false: it certainly was not).
func (f *keyFilter) has(key []byte) bool {
	return f.probe(maphash.Bytes(f.seed, key), false)
}

const (
	// maxFilterKeys bounds the stored keys an operator keeps a key filter
	// for; the first build scans at most maxFirstFilterKeys of them (a
	// larger state keeps the point lookups).
	maxFilterKeys      = 1 << 24
	maxFirstFilterKeys = 1 << 20
	minFilterKeys      = 1 << 12
)

// keyFilterSlot is an operator's key filter over the stored keys in one
// key range, with the policy shared by the aggregate's groups and each
// join side's rows: none until first asked for, then built by scanning the
// range (up to maxFirstFilterKeys keys), rebuilt twice as large when full
// (up to maxFilterKeys), and off for good past either bound.
type keyFilterSlot struct {
	f   *keyFilter
	off bool
}

// get returns the filter over the keys under prefix+tag (nil: none; the
// caller reads the store). It builds or resizes the filter only when
// canBuild: the caller must not have deleted keys in this epoch yet, or a
// retried epoch could find a stored key missing from a filter built after
// the deletion.
func (s *keyFilterSlot) get(store *storage.Batch, prefix []byte, tag byte, canBuild bool) (*keyFilter, error) {
	if s.off {
		return nil, nil
	}
	if (s.f == nil || s.f.n > s.f.max) && canBuild {
		limit := maxFirstFilterKeys
		if s.f != nil {
			limit = maxFilterKeys
		}
		lo := append(append([]byte(nil), prefix...), tag)
		hi := append(append([]byte(nil), prefix...), tag+1)
		f, err := buildKeyFilter(store, lo, hi, s.f, limit)
		if err != nil {
			return nil, err
		}
		s.f, s.off = f, f == nil
	}
	return s.f, nil
}

// buildKeyFilter makes a key filter from the keys in [lo, hi) of store
// (less the prefix lo), sized for twice as many; a resize (old not nil)
// sizes it for twice old's keys, which are at least as many as there are
// rows. With limit keys or more it returns nil: no filter.
func buildKeyFilter(store *storage.Batch, lo, hi []byte, old *keyFilter, limit int) (*keyFilter, error) {
	seed := maphash.MakeSeed()
	var f *keyFilter
	var hashes []uint64 // the first build's, until it knows the size
	if old != nil {
		f = newKeyFilter(2*old.n, seed)
	}
	n := 0
	err := store.Scan(lo, hi, false, func(k, _ []byte) (bool, error) {
		if n >= limit {
			return false, nil
		}
		n++
		h := maphash.Bytes(seed, k[len(lo):])
		if f != nil {
			f.probe(h, true)
		} else {
			hashes = append(hashes, h)
		}
		return true, nil
	})
	if err != nil || n >= limit {
		return nil, err
	}
	if f == nil {
		f = newKeyFilter(max(2*n, minFilterKeys), seed)
		for _, h := range hashes {
			f.probe(h, true)
		}
	}
	f.n = n
	return f, nil
}
