package storage

import (
	"bytes"
	"testing"
)

func TestBatchSeesOwnWritesAndCommitsAtomically(t *testing.T) {
	db, err := Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	b := db.NewBatch()
	k := append(RelationPrefix(7), 'a')
	if err := b.Set(k, []byte("1")); err != nil {
		t.Fatal(err)
	}
	if v, ok, _ := b.Get(k); !ok || string(v) != "1" {
		t.Fatalf("batch does not see its write: %q %v", v, ok)
	}
	if _, ok, _ := db.Get(k); ok {
		t.Fatal("uncommitted write visible in db")
	}
	snap := db.NewSnapshot()
	defer snap.Close()
	if err := b.Commit(false); err != nil {
		t.Fatal(err)
	}
	b.Close()
	if _, ok, _ := snap.Get(k); ok {
		t.Fatal("snapshot sees a later commit")
	}
	lo, hi := RelationSpan(7)
	var keys [][]byte
	db.Scan(lo, hi, false, func(key, val []byte) (bool, error) {
		keys = append(keys, bytes.Clone(key))
		return true, nil
	})
	if len(keys) != 1 {
		t.Fatalf("scan found %d keys", len(keys))
	}
}

func TestPrefixEnd(t *testing.T) {
	if got := PrefixEnd([]byte{1, 0xff}); !bytes.Equal(got, []byte{2}) {
		t.Fatalf("got %v", got)
	}
	if got := PrefixEnd([]byte{0xff}); got != nil {
		t.Fatalf("got %v", got)
	}
}
