package vfs_test

import (
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/kappa-db/kappa/vfs"
)

func write(t *testing.T, f vfs.File, s string) {
	t.Helper()
	if _, err := f.Write([]byte(s)); err != nil {
		t.Fatal(err)
	}
}

func readAll(t *testing.T, fs vfs.FS, name string) string {
	t.Helper()
	f, err := fs.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	b := make([]byte, fi.Size())
	if _, err := f.ReadAt(b, 0); err != nil && !(err == io.EOF && len(b) == 0) {
		t.Fatal(err)
	}
	return string(b)
}

// testFS checks the behaviour both filesystems share.
func testFS(t *testing.T, fs vfs.FS, dir string) {
	if err := vfs.MkdirAllSynced(fs, filepath.Join(dir, "a", "b")); err != nil {
		t.Fatal(err)
	}
	name := filepath.Join(dir, "a", "b", "f")
	f, err := fs.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	write(t, f, "hello ")
	write(t, f, "world")
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(5); err != nil {
		t.Fatal(err)
	}
	write(t, f, "!") // appends at the new end
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, fs, name); got != "hello!" {
		t.Fatalf("content %q", got)
	}
	buf := make([]byte, 10)
	r, err := fs.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := r.ReadAt(buf, 3); n != 3 || err != io.EOF {
		t.Fatalf("short ReadAt: %d %v", n, err)
	}
	if _, err := r.Write([]byte("x")); err == nil {
		t.Fatal("write to a file opened read-only succeeded")
	}
	r.Close()

	a, err := fs.OpenAppend(name)
	if err != nil {
		t.Fatal(err)
	}
	write(t, a, "?")
	a.Close()
	if got := readAll(t, fs, name); got != "hello!?" {
		t.Fatalf("content after append %q", got)
	}
	if _, err := fs.OpenAppend(name + ".missing"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("OpenAppend of a missing file: %v", err)
	}

	if err := fs.Rename(name, name+"2"); err != nil {
		t.Fatal(err)
	}
	names, err := fs.List(filepath.Join(dir, "a", "b"))
	if err != nil || len(names) != 1 || names[0] != "f2" {
		t.Fatalf("List = %v, %v", names, err)
	}
	if _, err := fs.Stat(name); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Stat of renamed name: %v", err)
	}
	if err := vfs.SyncDir(fs, filepath.Join(dir, "a", "b")); err != nil {
		t.Fatal(err)
	}
	if err := fs.Remove(name + "2"); err != nil {
		t.Fatal(err)
	}
	if err := fs.RemoveAll(filepath.Join(dir, "a")); err != nil {
		t.Fatal(err)
	}
	if err := fs.RemoveAll(filepath.Join(dir, "nothing")); err != nil {
		t.Fatal(err)
	}

	lockName := filepath.Join(dir, "LOCK")
	l, err := fs.Lock(lockName)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fs.Lock(lockName); !errors.Is(err, vfs.ErrLocked) {
		t.Fatalf("second Lock: %v", err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l, err = fs.Lock(lockName)
	if err != nil {
		t.Fatalf("Lock after release: %v", err)
	}
	l.Close()
}

func TestOS(t *testing.T) { testFS(t, vfs.Default, t.TempDir()) }

func TestMem(t *testing.T) { testFS(t, vfs.NewMem(), "/data") }

func TestCrashCloneDropsUnsynced(t *testing.T) {
	fs := vfs.NewMem()
	if err := vfs.MkdirAllSynced(fs, "/d"); err != nil {
		t.Fatal(err)
	}
	// synced: data and name.
	f, _ := fs.Create("/d/synced")
	write(t, f, "durable")
	f.Sync()
	write(t, f, " lost")
	// data synced, name not.
	g, _ := fs.Create("/d/unnamed")
	write(t, g, "x")
	g.Sync()
	if err := vfs.SyncDir(fs, "/d"); err != nil {
		t.Fatal(err)
	}
	// created after the directory sync: gone.
	h, _ := fs.Create("/d/new")
	h.Sync()
	// renamed after the directory sync: keeps its old name.
	if err := fs.Rename("/d/unnamed", "/d/renamed"); err != nil {
		t.Fatal(err)
	}
	// a directory whose parent was never synced.
	fs.MkdirAll("/e", 0o755)

	c := fs.CrashClone()
	if got := readAll(t, c, "/d/synced"); got != "durable" {
		t.Fatalf("synced file holds %q", got)
	}
	if got := readAll(t, c, "/d/unnamed"); got != "x" {
		t.Fatalf("unsynced rename: old name holds %q", got)
	}
	names, _ := c.List("/d")
	if len(names) != 2 || names[0] != "synced" || names[1] != "unnamed" {
		t.Fatalf("clone lists %v", names)
	}
	if _, err := c.Stat("/e"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("unsynced directory survived: %v", err)
	}
	// The original is untouched, and the clone is independent of it.
	if got := readAll(t, fs, "/d/synced"); got != "durable lost" {
		t.Fatalf("original holds %q", got)
	}
	cf, _ := c.OpenAppend("/d/synced")
	write(t, cf, "!")
	if got := readAll(t, fs, "/d/synced"); got != "durable lost" {
		t.Fatalf("writing the clone changed the original: %q", got)
	}

	// Truncation is undone by a crash unless synced.
	f.Truncate(3)
	if got := readAll(t, fs.CrashClone(), "/d/synced"); got != "durable" {
		t.Fatalf("unsynced truncate survived: %q", got)
	}
	f.Sync()
	write(t, f, "zzzz") // must not overwrite what the synced view shares
	if got := readAll(t, fs.CrashClone(), "/d/synced"); got != "dur" {
		t.Fatalf("synced truncate: %q", got)
	}
}

func TestWithFaults(t *testing.T) {
	mem := vfs.NewMem()
	var syncs int
	fail := false
	fs := vfs.WithFaults(mem, func(op vfs.Op, path string) error {
		if op == vfs.OpSync {
			syncs++
		}
		if fail && op == vfs.OpWrite {
			return syscall.ENOSPC
		}
		return nil
	})
	f, err := fs.Create("/f")
	if err != nil {
		t.Fatal(err)
	}
	write(t, f, "a")
	f.Sync()
	fail = true
	if _, err := f.Write([]byte("b")); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("injected write error: %v", err)
	}
	if syncs != 1 {
		t.Fatalf("counted %d syncs", syncs)
	}
	if got := readAll(t, mem, "/f"); got != "a" {
		t.Fatalf("failed write changed the file: %q", got)
	}
	if vfs.OpSync.String() != "sync" {
		t.Fatal(vfs.OpSync.String())
	}
}

func TestCrashCloneTorn(t *testing.T) {
	fs := vfs.NewMem()
	f, _ := fs.Create("/f")
	write(t, f, "synced")
	f.Sync()
	vfs.SyncDir(fs, "/")
	tail := strings.Repeat("u", 3*4096)
	write(t, f, tail)
	rng := rand.New(rand.NewPCG(1, 1))
	lengths := map[int]bool{}
	for i := 0; i < 50; i++ {
		got := readAll(t, fs.CrashCloneTorn(rng), "/f")
		if !strings.HasPrefix(got, "synced") || len(got) > len("synced")+len(tail) {
			t.Fatalf("torn clone holds %d bytes starting %q", len(got), got[:min(len(got), 10)])
		}
		for i, c := range got[len("synced"):] {
			if c != 'u' && c != 0 {
				t.Fatalf("byte %d of the unsynced tail is %q", i, c)
			}
		}
		lengths[len(got)] = true
	}
	if len(lengths) < 10 {
		t.Fatalf("torn clones kept only %d distinct lengths", len(lengths))
	}
}
