package exec

import (
	"encoding/binary"

	"github.com/kappa-db/kappa/log"
	"github.com/kappa-db/kappa/pgerr"
	"github.com/kappa-db/kappa/types"
)

// A table's log holds change records: a weight (+1 insert, -1 retract), a row
// id and the row. Tables without a primary key identify rows by a hidden row
// id, which is one more than the log offset of the record that inserted the
// row (so it is never 0); an insert record stores 0 for "mine", a retraction
// the id of the row it retracts. Tables with a primary key store 0.

// AppendChange appends one change record to dst.
func AppendChange(dst []byte, w int64, rowID uint64, row types.Row) []byte {
	dst = binary.AppendVarint(dst, w)
	dst = binary.AppendUvarint(dst, rowID)
	return types.AppendRow(dst, row)
}

// DecodeChange decodes a change record; the row is decoded into row[:0].
func DecodeChange(rec []byte, row types.Row) (w int64, rowID uint64, out types.Row, err error) {
	w, n := binary.Varint(rec)
	if n <= 0 {
		return 0, 0, nil, pgerr.New(pgerr.DataCorrupted, "corrupt change record: weight")
	}
	rec = rec[n:]
	rowID, n = binary.Uvarint(rec)
	if n <= 0 {
		return 0, 0, nil, pgerr.New(pgerr.DataCorrupted, "corrupt change record: row id")
	}
	out, _, err = types.DecodeRow(rec[n:], row)
	return w, rowID, out, err
}

// splitChange splits a change record into its weight, row id and the row's
// encoding (as types.AppendRow wrote it), without decoding the row.
func splitChange(rec []byte) (w int64, rowID uint64, row []byte, err error) {
	w, n := binary.Varint(rec)
	if n <= 0 {
		return 0, 0, nil, pgerr.New(pgerr.DataCorrupted, "corrupt change record: weight")
	}
	rec = rec[n:]
	rowID, n = binary.Uvarint(rec)
	if n <= 0 {
		return 0, 0, nil, pgerr.New(pgerr.DataCorrupted, "corrupt change record: row id")
	}
	return w, rowID, rec[n:], nil
}

// AppendStoredRow encodes a relation row as stored: its multiplicity, then
// the row.
func AppendStoredRow(dst []byte, count int64, row types.Row) []byte {
	dst = binary.AppendVarint(dst, count)
	return types.AppendRow(dst, row)
}

// addStoredRow adds w to the multiplicity of row, stored under key k as
// AppendStoredRow writes it: the key goes when the count reaches zero, and a
// negative count is state corruption (what names the operator in the
// error). buf is scratch for the value (pebble copies it); the grown buffer
// is returned for the next call.
func addStoredRow(ec *epochCtx, k []byte, row types.Row, w int64, buf []byte, what string) ([]byte, error) {
	var cnt int64
	if err := ec.store.GetFunc(k, func(old []byte) error {
		cnt, _ = binary.Varint(old)
		return nil
	}); err != nil {
		return buf, err
	}
	cnt += w
	switch {
	case cnt == 0:
		return buf, ec.store.Delete(k)
	case cnt < 0:
		return buf, pgerr.New(pgerr.InternalError, "%s state: row multiplicity went negative", what)
	}
	buf = AppendStoredRow(buf[:0], cnt, row)
	return buf, ec.store.Set(k, buf)
}

// DecodeStoredRow decodes what AppendStoredRow wrote.
func DecodeStoredRow(val []byte, row types.Row) (count int64, out types.Row, err error) {
	count, n := binary.Varint(val)
	if n <= 0 {
		return 0, nil, pgerr.New(pgerr.DataCorrupted, "corrupt stored row")
	}
	out, _, err = types.DecodeRow(val[n:], row)
	return count, out, err
}

// CompactionKey is the log.KeyFunc of the change records of a table with
// primary key pk: a record's key is its row's primary key (as the table's
// rows are keyed in storage), its row the encoded row, its weight its own.
func CompactionKey(pk []int) log.KeyFunc {
	t := &TableSink{PK: pk}
	var row types.Row
	return func(dst, rec []byte) ([]byte, []byte, int64, error) {
		w, rowID, enc, err := splitChange(rec)
		if err != nil {
			return nil, nil, 0, err
		}
		row, _, err = types.DecodeRow(enc, row)
		if err != nil {
			return nil, nil, 0, err
		}
		return t.RowKey(dst, rowID, row), enc, w, nil
	}
}
