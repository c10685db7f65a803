package storage

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// syncHookFS calls hook before every sync of a file or directory, so that a
// test can take a crash clone of the filesystem at every sync point.
type syncHookFS struct {
	vfs.FS
	hook func()
}

func (fs syncHookFS) wrap(f vfs.File, err error) (vfs.File, error) {
	if err != nil {
		return f, err
	}
	return syncHookFile{File: f, hook: fs.hook}, nil
}

func (fs syncHookFS) Create(name string, c vfs.DiskWriteCategory) (vfs.File, error) {
	return fs.wrap(fs.FS.Create(name, c))
}

func (fs syncHookFS) Open(name string, opts ...vfs.OpenOption) (vfs.File, error) {
	return fs.wrap(fs.FS.Open(name, opts...))
}

func (fs syncHookFS) OpenReadWrite(name string, c vfs.DiskWriteCategory, opts ...vfs.OpenOption) (vfs.File, error) {
	return fs.wrap(fs.FS.OpenReadWrite(name, c, opts...))
}

func (fs syncHookFS) OpenDir(name string) (vfs.File, error) { return fs.wrap(fs.FS.OpenDir(name)) }

func (fs syncHookFS) ReuseForWrite(oldname, newname string, c vfs.DiskWriteCategory) (vfs.File, error) {
	return fs.wrap(fs.FS.ReuseForWrite(oldname, newname, c))
}

type syncHookFile struct {
	vfs.File
	hook func()
}

func (f syncHookFile) Sync() error     { f.hook(); return f.File.Sync() }
func (f syncHookFile) SyncData() error { f.hook(); return f.File.SyncData() }
func (f syncHookFile) SyncTo(n int64) (bool, error) {
	f.hook()
	return f.File.SyncTo(n)
}

// TestCrashAtEverySyncPoint commits epochs the way the runtime does (one
// synced batch each: state, rows and the offsets consumed) with memtable
// flushes between some of them, and takes a crash clone of the filesystem
// at every sync pebble makes: with only synced data, and torn (a random
// half of the unsynced writes kept). Every clone must open to a store that
// holds exactly the epochs up to some n, each whole, and at least every
// epoch whose Commit had returned when the clone was taken.
func TestCrashAtEverySyncPoint(t *testing.T) {
	mem := vfs.NewCrashableMem()
	type point struct {
		fs    *vfs.MemFS
		acked int
		what  string
	}
	var (
		mu     sync.Mutex
		acked  int
		points []point
		rng    = rand.New(rand.NewPCG(1, 2))
	)
	fs := syncHookFS{FS: mem, hook: func() {
		mu.Lock()
		defer mu.Unlock()
		points = append(points,
			point{mem.CrashClone(vfs.CrashCloneCfg{}), acked, "synced data only"},
			point{mem.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: 50, RNG: rng}), acked, "torn"})
	}}
	db, err := open("/db", fs, nil)
	if err != nil {
		t.Fatal(err)
	}
	const epochs, keysPerEpoch = 40, 25
	for e := 1; e <= epochs; e++ {
		b := db.NewBatch()
		for k := range keysPerEpoch {
			// Each epoch overwrites half of the previous one's keys and
			// deletes one, as view maintenance does.
			key := fmt.Sprintf("k%03d", (e*keysPerEpoch/2+k)%200)
			if err := b.Set([]byte(key), []byte(fmt.Sprintf("%d", e))); err != nil {
				t.Fatal(err)
			}
		}
		if err := b.Delete([]byte(fmt.Sprintf("k%03d", (e*7)%200))); err != nil {
			t.Fatal(err)
		}
		if err := b.Set(MetaKey("epoch"), []byte(strconv.Itoa(e))); err != nil {
			t.Fatal(err)
		}
		if err := b.Commit(true); err != nil {
			t.Fatal(err)
		}
		b.Close()
		mu.Lock()
		acked = e
		mu.Unlock()
		if e%10 == 0 {
			if err := db.pdb.Flush(); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	// want[e] is the store's contents after epoch e.
	want := make([]map[string]string, epochs+1)
	want[0] = map[string]string{}
	for e := 1; e <= epochs; e++ {
		m := map[string]string{}
		for k, v := range want[e-1] {
			m[k] = v
		}
		for k := range keysPerEpoch {
			m[fmt.Sprintf("k%03d", (e*keysPerEpoch/2+k)%200)] = strconv.Itoa(e)
		}
		delete(m, fmt.Sprintf("k%03d", (e*7)%200))
		m[string(MetaKey("epoch"))] = strconv.Itoa(e)
		want[e] = m
	}
	if len(points) < 2*epochs {
		t.Fatalf("only %d sync points for %d synced commits", len(points), epochs)
	}
	for i, p := range points {
		db, err := open("/db", p.fs, nil)
		if err != nil {
			t.Fatalf("crash point %d (%s, %d epochs acknowledged): open: %v", i, p.what, p.acked, err)
		}
		got := map[string]string{}
		if err := db.Scan(nil, []byte{0xff}, false, func(k, v []byte) (bool, error) {
			got[string(k)] = string(v)
			return true, nil
		}); err != nil {
			t.Fatal(err)
		}
		e, _ := strconv.Atoi(got[string(MetaKey("epoch"))])
		if e < p.acked {
			t.Errorf("crash point %d (%s): store is at epoch %d, but %d were acknowledged", i, p.what, e, p.acked)
		}
		if fmt.Sprint(got) != fmt.Sprint(want[e]) {
			t.Errorf("crash point %d (%s): store at epoch %d is not that epoch's contents whole:\n got %v\nwant %v", i, p.what, e, got, want[e])
		}
		if err := db.Close(); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("checked %d crash points", len(points))
}
