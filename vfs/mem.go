package vfs

import (
	"bytes"
	"errors"
	"io"
	"maps"
	"math/rand/v2"
	"os"
	"path"
	"slices"
	"sync"
	"time"
)

// MemFS is an in-memory filesystem that remembers what was synced, so that
// CrashClone can simulate power loss. Create one with NewMem.
type MemFS struct {
	mu    sync.Mutex
	root  *memNode
	locks map[string]bool
}

// memNode is a file or directory: the inode. Names point at nodes, so a file
// renamed without a directory sync keeps its synced data under its old name in
// a crash clone.
type memNode struct {
	isDir   bool
	modTime time.Time

	// Files. synced shares data's backing array up to len(synced): data only
	// ever grows by append beyond that length, and Truncate reallocates.
	data   []byte
	synced []byte

	// Directories: the live entries and the entries as of the last sync.
	children       map[string]*memNode
	syncedChildren map[string]*memNode
}

func newDir() *memNode {
	return &memNode{isDir: true, modTime: time.Now(), children: map[string]*memNode{}, syncedChildren: map[string]*memNode{}}
}

// NewMem returns an empty in-memory filesystem whose root directory "/" is
// durable.
func NewMem() *MemFS {
	return &MemFS{root: newDir(), locks: map[string]bool{}}
}

// CrashClone returns a new MemFS holding only what a power loss at this
// instant would leave: synced file data, and directory entries as of each
// directory's last sync. Open files of fs are unaffected; the clone has no
// open files and no locks.
func (fs *MemFS) CrashClone() *MemFS {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return &MemFS{root: cloneDurable(fs.root), locks: map[string]bool{}}
}

// CrashCloneTorn is CrashClone, except that every file whose unsynced
// writes extend its synced data keeps a random prefix of them, in which
// random 4 KiB pages read back as zeroes: what a power loss can leave when the
// kernel had already written back some dirty pages, in any order.
func (fs *MemFS) CrashCloneTorn(rng *rand.Rand) *MemFS {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return &MemFS{root: cloneDurableTorn(fs.root, rng), locks: map[string]bool{}}
}

func cloneDurable(n *memNode) *memNode { return cloneDurableTorn(n, nil) }

const pageBytes = 4096

func cloneDurableTorn(n *memNode, rng *rand.Rand) *memNode {
	if !n.isDir {
		data := slices.Clone(n.synced)
		if rng != nil && len(n.data) > len(n.synced) && bytes.Equal(n.data[:len(n.synced)], n.synced) {
			extra := n.data[len(n.synced):]
			data = append(data, extra[:rng.IntN(len(extra)+1)]...)
			for p := len(n.synced) / pageBytes * pageBytes; p < len(data); p += pageBytes {
				if rng.IntN(4) == 0 {
					clear(data[max(p, len(n.synced)):min(p+pageBytes, len(data))])
				}
			}
		}
		return &memNode{modTime: n.modTime, data: data, synced: data[:len(data):len(data)]}
	}
	c := newDir()
	c.modTime = n.modTime
	for name, child := range n.syncedChildren {
		cc := cloneDurableTorn(child, rng)
		c.children[name] = cc
		c.syncedChildren[name] = cc
	}
	return c
}

func clean(name string) string { return path.Clean("/" + name) }

// lookupLocked returns the node at name, or nil.
func (fs *MemFS) lookupLocked(name string) *memNode {
	n := fs.root
	p := clean(name)
	if p == "/" {
		return n
	}
	for _, part := range splitPath(p) {
		if !n.isDir {
			return nil
		}
		n = n.children[part]
		if n == nil {
			return nil
		}
	}
	return n
}

func splitPath(p string) []string {
	var parts []string
	for p != "/" {
		parts = append(parts, path.Base(p))
		p = path.Dir(p)
	}
	slices.Reverse(parts)
	return parts
}

// parentLocked returns the directory that holds name and name's base.
func (fs *MemFS) parentLocked(op, name string) (*memNode, string, error) {
	p := clean(name)
	if p == "/" {
		return nil, "", &os.PathError{Op: op, Path: name, Err: os.ErrInvalid}
	}
	dir := fs.lookupLocked(path.Dir(p))
	if dir == nil {
		return nil, "", &os.PathError{Op: op, Path: name, Err: os.ErrNotExist}
	}
	if !dir.isDir {
		return nil, "", &os.PathError{Op: op, Path: name, Err: errNotDir}
	}
	return dir, path.Base(p), nil
}

var (
	errNotDir = errors.New("not a directory")
	errIsDir  = errors.New("is a directory")
	errClosed = errors.New("file already closed")
	errRdOnly = errors.New("file opened read-only")
)

// Create implements FS.
func (fs *MemFS) Create(name string) (File, error) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	dir, base, err := fs.parentLocked("create", name)
	if err != nil {
		return nil, err
	}
	n := dir.children[base]
	switch {
	case n == nil:
		n = &memNode{}
		dir.children[base] = n
	case n.isDir:
		return nil, &os.PathError{Op: "create", Path: name, Err: errIsDir}
	default:
		n.data = nil // O_TRUNC; durable only after Sync, like any size change
	}
	n.modTime = time.Now()
	return &memFile{fs: fs, n: n, name: name, writable: true}, nil
}

func (fs *MemFS) open(op, name string, writable, dir bool) (File, error) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	n := fs.lookupLocked(name)
	if n == nil {
		return nil, &os.PathError{Op: op, Path: name, Err: os.ErrNotExist}
	}
	if n.isDir != dir {
		if dir {
			return nil, &os.PathError{Op: op, Path: name, Err: errNotDir}
		}
		return nil, &os.PathError{Op: op, Path: name, Err: errIsDir}
	}
	return &memFile{fs: fs, n: n, name: name, writable: writable}, nil
}

// Open implements FS.
func (fs *MemFS) Open(name string) (File, error) { return fs.open("open", name, false, false) }

// OpenAppend implements FS.
func (fs *MemFS) OpenAppend(name string) (File, error) { return fs.open("open", name, true, false) }

// OpenDir implements FS.
func (fs *MemFS) OpenDir(name string) (File, error) { return fs.open("open", name, false, true) }

// Rename implements FS.
func (fs *MemFS) Rename(oldname, newname string) error {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	odir, obase, err := fs.parentLocked("rename", oldname)
	if err != nil {
		return err
	}
	n := odir.children[obase]
	if n == nil {
		return &os.PathError{Op: "rename", Path: oldname, Err: os.ErrNotExist}
	}
	ndir, nbase, err := fs.parentLocked("rename", newname)
	if err != nil {
		return err
	}
	if old := ndir.children[nbase]; old != nil && old.isDir != n.isDir {
		return &os.PathError{Op: "rename", Path: newname, Err: os.ErrExist}
	}
	delete(odir.children, obase)
	ndir.children[nbase] = n
	return nil
}

// Remove implements FS.
func (fs *MemFS) Remove(name string) error {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	dir, base, err := fs.parentLocked("remove", name)
	if err != nil {
		return err
	}
	n := dir.children[base]
	if n == nil {
		return &os.PathError{Op: "remove", Path: name, Err: os.ErrNotExist}
	}
	if n.isDir && len(n.children) > 0 {
		return &os.PathError{Op: "remove", Path: name, Err: errors.New("directory not empty")}
	}
	delete(dir.children, base)
	return nil
}

// RemoveAll implements FS.
func (fs *MemFS) RemoveAll(name string) error {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if clean(name) == "/" {
		fs.root.children = map[string]*memNode{}
		return nil
	}
	dir, base, err := fs.parentLocked("removeall", name)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	delete(dir.children, base)
	return nil
}

// MkdirAll implements FS.
func (fs *MemFS) MkdirAll(dir string, perm os.FileMode) error {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	n := fs.root
	for _, part := range splitPath(clean(dir)) {
		c := n.children[part]
		if c == nil {
			c = newDir()
			n.children[part] = c
		} else if !c.isDir {
			return &os.PathError{Op: "mkdir", Path: dir, Err: errNotDir}
		}
		n = c
	}
	return nil
}

// List implements FS.
func (fs *MemFS) List(dir string) ([]string, error) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	n := fs.lookupLocked(dir)
	if n == nil {
		return nil, &os.PathError{Op: "list", Path: dir, Err: os.ErrNotExist}
	}
	if !n.isDir {
		return nil, &os.PathError{Op: "list", Path: dir, Err: errNotDir}
	}
	return slices.Sorted(maps.Keys(n.children)), nil
}

// Stat implements FS.
func (fs *MemFS) Stat(name string) (os.FileInfo, error) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	n := fs.lookupLocked(name)
	if n == nil {
		return nil, &os.PathError{Op: "stat", Path: name, Err: os.ErrNotExist}
	}
	return n.infoLocked(path.Base(clean(name))), nil
}

// Lock implements FS. The lock lives in this MemFS value: it excludes other
// users of the same MemFS, which is what tests of a second Open need.
func (fs *MemFS) Lock(name string) (io.Closer, error) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	p := clean(name)
	if fs.locks[p] {
		return nil, &os.PathError{Op: "lock", Path: name, Err: ErrLocked}
	}
	dir, base, err := fs.parentLocked("lock", name)
	if err != nil {
		return nil, err
	}
	if n := dir.children[base]; n == nil {
		dir.children[base] = &memNode{modTime: time.Now()}
	} else if n.isDir {
		return nil, &os.PathError{Op: "lock", Path: name, Err: errIsDir}
	}
	fs.locks[p] = true
	return &memLock{fs: fs, path: p}, nil
}

type memLock struct {
	fs   *MemFS
	path string
	once sync.Once
}

func (l *memLock) Close() error {
	l.once.Do(func() {
		l.fs.mu.Lock()
		delete(l.fs.locks, l.path)
		l.fs.mu.Unlock()
	})
	return nil
}

func (n *memNode) infoLocked(name string) os.FileInfo {
	fi := memFileInfo{name: name, size: int64(len(n.data)), modTime: n.modTime, mode: 0o644}
	if n.isDir {
		fi.size = 0
		fi.mode = os.ModeDir | 0o755
	}
	return fi
}

type memFileInfo struct {
	name    string
	size    int64
	mode    os.FileMode
	modTime time.Time
}

func (fi memFileInfo) Name() string       { return fi.name }
func (fi memFileInfo) Size() int64        { return fi.size }
func (fi memFileInfo) Mode() os.FileMode  { return fi.mode }
func (fi memFileInfo) ModTime() time.Time { return fi.modTime }
func (fi memFileInfo) IsDir() bool        { return fi.mode.IsDir() }
func (fi memFileInfo) Sys() any           { return nil }

type memFile struct {
	fs       *MemFS
	n        *memNode
	name     string
	writable bool
	closed   bool
}

func (f *memFile) checkLocked(op string, write bool) error {
	switch {
	case f.closed:
		return &os.PathError{Op: op, Path: f.name, Err: errClosed}
	case write && f.n.isDir:
		return &os.PathError{Op: op, Path: f.name, Err: errIsDir}
	case write && !f.writable:
		return &os.PathError{Op: op, Path: f.name, Err: errRdOnly}
	}
	return nil
}

func (f *memFile) Write(p []byte) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.checkLocked("write", true); err != nil {
		return 0, err
	}
	f.n.data = append(f.n.data, p...)
	f.n.modTime = time.Now()
	return len(p), nil
}

func (f *memFile) ReadAt(p []byte, off int64) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.checkLocked("read", false); err != nil {
		return 0, err
	}
	if f.n.isDir {
		return 0, &os.PathError{Op: "read", Path: f.name, Err: errIsDir}
	}
	if off < 0 {
		return 0, &os.PathError{Op: "read", Path: f.name, Err: os.ErrInvalid}
	}
	if off >= int64(len(f.n.data)) {
		return 0, io.EOF
	}
	n := copy(p, f.n.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (f *memFile) Sync() error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.checkLocked("sync", false); err != nil {
		return err
	}
	if f.n.isDir {
		f.n.syncedChildren = maps.Clone(f.n.children)
	} else {
		f.n.synced = f.n.data[:len(f.n.data):len(f.n.data)]
	}
	return nil
}

func (f *memFile) Truncate(size int64) error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.checkLocked("truncate", true); err != nil {
		return err
	}
	if size < 0 {
		return &os.PathError{Op: "truncate", Path: f.name, Err: os.ErrInvalid}
	}
	// Reallocate: later appends must not scribble over bytes that synced
	// still shares.
	data := make([]byte, size, max(size, int64(cap(f.n.data))))
	copy(data, f.n.data)
	f.n.data = data
	f.n.modTime = time.Now()
	return nil
}

func (f *memFile) Stat() (os.FileInfo, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.checkLocked("stat", false); err != nil {
		return nil, err
	}
	return f.n.infoLocked(path.Base(clean(f.name))), nil
}

func (f *memFile) Close() error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if f.closed {
		return &os.PathError{Op: "close", Path: f.name, Err: errClosed}
	}
	f.closed = true
	return nil
}
