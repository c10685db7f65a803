package exec

import (
	"encoding/binary"
	"sort"

	"github.com/kappa-db/kappa/pgerr"
	"github.com/kappa-db/kappa/storage"
	"github.com/kappa-db/kappa/types"
)

// A table without a primary key stores its rows in pages: one store entry
// holds the rows of consecutive row ids that one epoch inserted, keyed like
// the page's first row. A million-row COPY then makes a few thousand store
// entries rather than a million, which is what pebble's per-entry work
// (the indexed batch, sorting a large batch, flushing) costs by (serverbench
// ingest: the table's share of an epoch fell from about half to a tenth).
//
// A stored value whose multiplicity is 0 is a page (a row is never stored
// with multiplicity 0):
//
//	0x00 uvarint(first row id) { uvarint(row id - first) uvarint(len) row }
//
// Rows keep their log record's row encoding. A retraction rewrites the
// page without the row (or deletes the page once it is empty); rows stored
// one per entry (before pages existed) are still read and deleted.

// pageTarget is the size at which an epoch's open page is written and a
// new one started.
const pageTarget = 16 << 10

// isPage reports whether a stored value is a page.
func isPage(val []byte) bool { return len(val) > 0 && val[0] == 0 }

// forPageRows calls fn with the row id and row encoding of every row of a
// page, in row id order.
func forPageRows(val []byte, fn func(rowID uint64, row []byte) error) error {
	first, n := binary.Uvarint(val[1:])
	if n <= 0 {
		return pgerr.New(pgerr.DataCorrupted, "corrupt table page: first row id")
	}
	p := val[1+n:]
	for len(p) > 0 {
		d, n1 := binary.Uvarint(p)
		if n1 <= 0 {
			return pgerr.New(pgerr.DataCorrupted, "corrupt table page: row id")
		}
		l, n2 := binary.Uvarint(p[n1:])
		if n2 <= 0 || l > uint64(len(p)-n1-n2) {
			return pgerr.New(pgerr.DataCorrupted, "corrupt table page: row length")
		}
		start := n1 + n2
		if err := fn(first+d, p[start:start+int(l)]); err != nil {
			return err
		}
		p = p[start+int(l):]
	}
	return nil
}

// forStoredRows calls fn for every row a stored value holds: the value's
// one row, or each row of a page. key is the row's key after relPrefixLen
// bytes of relation prefix (for a page row, made up from its row id in
// scratch); row is decoded into rowBuf.
func forStoredRows(key, val []byte, relPrefixLen int, scratch *[]byte, rowBuf *types.Row,
	fn func(key []byte, count int64, row types.Row) error) error {
	if !isPage(val) {
		cnt, row, err := DecodeStoredRow(val, *rowBuf)
		if err != nil {
			return err
		}
		*rowBuf = row
		return fn(key, cnt, row)
	}
	return forPageRows(val, func(rowID uint64, enc []byte) error {
		row, _, err := types.DecodeRow(enc, *rowBuf)
		if err != nil {
			return err
		}
		*rowBuf = row
		k := append((*scratch)[:0], key[:relPrefixLen]...)
		k = types.AppendKey(k, types.NewInt8(int64(rowID)), false)
		*scratch = k
		return fn(k, 1, row)
	})
}

// pager writes an epoch's changes to a table without a primary key: inserts
// fill an open page; retractions edit the page that holds the row. Pages
// touched are written when the epoch's reading of the table ends (flush).
type pager struct {
	store  *storage.Batch
	prefix []byte // the relation's key prefix

	open      []byte // the open page, from its 0x00 header on
	openFirst uint64
	openLast  uint64
	openRows  int

	// edited holds the stored pages that retractions touched, by first
	// row id; firsts keeps their first row ids sorted.
	edited map[uint64]*editedPage
	firsts []uint64

	key []byte
}

// editedPage is a stored page with rows to remove, rewritten once at flush
// (a DELETE of every row of a page edits it hundreds of times).
type editedPage struct {
	val     []byte // as stored
	last    uint64 // its last row id: rows (first, last] belong to it
	deleted map[uint64]bool
}

func newPager(store *storage.Batch, rel uint64) *pager {
	return &pager{store: store, prefix: storage.RelationPrefix(rel)}
}

func (p *pager) rowKey(rowID uint64) []byte {
	p.key = types.AppendKey(append(p.key[:0], p.prefix...), types.NewInt8(int64(rowID)), false)
	return p.key
}

// insert adds a row (its record's row encoding) with row id rowID.
func (p *pager) insert(rowID uint64, enc []byte) error {
	// A page holds the rows of one log partition: each partition numbers
	// its rows in a range of its own (PartitionRowID), and a retraction
	// finds its row's page as the one with the greatest first row id at or
	// below the row's, which a page spanning two ranges would break.
	if p.openRows > 0 && (rowID <= p.openLast || len(p.open) >= pageTarget || RowIDPartition(rowID) != RowIDPartition(p.openFirst)) {
		if err := p.writeOpen(); err != nil {
			return err
		}
	}
	if p.openRows == 0 {
		p.open = binary.AppendUvarint(append(p.open[:0], 0), rowID)
		p.openFirst = rowID
	}
	p.open = binary.AppendUvarint(p.open, rowID-p.openFirst)
	p.open = binary.AppendUvarint(p.open, uint64(len(enc)))
	p.open = append(p.open, enc...)
	p.openLast = rowID
	p.openRows++
	return nil
}

func (p *pager) writeOpen() error {
	if p.openRows == 0 {
		return nil
	}
	err := p.store.Set(p.rowKey(p.openFirst), p.open)
	p.openRows = 0
	p.open = p.open[:0]
	return err
}

// retract removes the row with row id rowID, wherever it is stored; a row
// that is not there is ignored (as a delete of an absent key is).
func (p *pager) retract(rowID uint64) error {
	if p.openRows > 0 && rowID >= p.openFirst && rowID <= p.openLast {
		page, err := withoutRows(p.open, map[uint64]bool{rowID: true})
		if err != nil {
			return err
		}
		p.open = append(p.open[:0], page...)
		if page == nil {
			p.openRows = 0
		}
		return nil
	}
	if i := sort.Search(len(p.firsts), func(i int) bool { return p.firsts[i] > rowID }); i > 0 {
		if e := p.edited[p.firsts[i-1]]; rowID <= e.last {
			e.deleted[rowID] = true
			return nil
		}
	}
	// The entry with the greatest key at or below the row's: the row
	// itself, or the page that would hold it.
	var foundKey, foundVal []byte
	err := p.store.Scan(p.prefix, storage.PrefixEnd(p.rowKey(rowID)), true, func(k, v []byte) (bool, error) {
		foundKey, foundVal = append([]byte(nil), k...), append([]byte(nil), v...)
		return false, nil
	})
	if err != nil || foundKey == nil {
		return err
	}
	if !isPage(foundVal) {
		if string(foundKey) == string(p.rowKey(rowID)) {
			return p.store.Delete(foundKey)
		}
		return nil
	}
	first, _ := binary.Uvarint(foundVal[1:])
	if _, ok := p.edited[first]; ok {
		return nil // an edited page that ends before the row
	}
	last, err := lastRowID(foundVal)
	if err != nil || rowID > last {
		return err
	}
	if p.edited == nil {
		p.edited = map[uint64]*editedPage{}
	}
	p.edited[first] = &editedPage{val: foundVal, last: last, deleted: map[uint64]bool{rowID: true}}
	i := sort.Search(len(p.firsts), func(i int) bool { return p.firsts[i] > first })
	p.firsts = append(p.firsts, 0)
	copy(p.firsts[i+1:], p.firsts[i:])
	p.firsts[i] = first
	return nil
}

// flush writes the open page and every edited page.
func (p *pager) flush() error {
	if err := p.writeOpen(); err != nil {
		return err
	}
	for _, first := range p.firsts {
		e := p.edited[first]
		page, err := withoutRows(e.val, e.deleted)
		if err != nil {
			return err
		}
		if page == nil {
			err = p.store.Delete(p.rowKey(first))
		} else {
			err = p.store.Set(p.rowKey(first), page)
		}
		if err != nil {
			return err
		}
	}
	clear(p.edited)
	p.firsts = p.firsts[:0]
	return nil
}

// lastRowID is the row id of a page's last row.
func lastRowID(page []byte) (uint64, error) {
	var last uint64
	err := forPageRows(page, func(rowID uint64, _ []byte) error { last = rowID; return nil })
	return last, err
}

// withoutRows returns a copy of page without the rows in deleted, or nil
// when no row is left. The copy keeps the page's first row id in its
// header, since that is its key.
func withoutRows(page []byte, deleted map[uint64]bool) ([]byte, error) {
	first, n := binary.Uvarint(page[1:])
	if n <= 0 {
		return nil, pgerr.New(pgerr.DataCorrupted, "corrupt table page: first row id")
	}
	out := binary.AppendUvarint(make([]byte, 0, len(page)), 0)
	out = binary.AppendUvarint(out, first)
	left := 0
	err := forPageRows(page, func(id uint64, enc []byte) error {
		if deleted[id] {
			return nil
		}
		out = binary.AppendUvarint(out, id-first)
		out = binary.AppendUvarint(out, uint64(len(enc)))
		out = append(out, enc...)
		left++
		return nil
	})
	if err != nil || left == 0 {
		return nil, err
	}
	return out, nil
}
