package vfs

import (
	"fmt"
	"io"
	"os"
)

// Op names a filesystem operation, for fault injection.
type Op int

// The operations WithFaults reports. File operations report the path the file
// was opened with.
const (
	OpCreate Op = iota
	OpOpen
	OpOpenAppend
	OpOpenDir
	OpRename
	OpRemove
	OpRemoveAll
	OpMkdirAll
	OpList
	OpStat
	OpLock
	OpWrite
	OpRead
	OpSync
	OpTruncate
	OpFileStat
	OpClose
)

var opNames = [...]string{
	OpCreate:     "create",
	OpOpen:       "open",
	OpOpenAppend: "open-append",
	OpOpenDir:    "open-dir",
	OpRename:     "rename",
	OpRemove:     "remove",
	OpRemoveAll:  "remove-all",
	OpMkdirAll:   "mkdir-all",
	OpList:       "list",
	OpStat:       "stat",
	OpLock:       "lock",
	OpWrite:      "write",
	OpRead:       "read",
	OpSync:       "sync",
	OpTruncate:   "truncate",
	OpFileStat:   "file-stat",
	OpClose:      "close",
}

func (op Op) String() string {
	if op >= 0 && int(op) < len(opNames) {
		return opNames[op]
	}
	return fmt.Sprintf("op(%d)", int(op))
}

// WithFaults wraps fs so that inject is called before every operation; when
// it returns an error, the operation is not performed and fails with that
// error (inside an *os.PathError, so errors.Is sees through it). inject may
// also just count or observe operations (it may call CrashClone on a MemFS),
// and it is called from whatever goroutine performs the operation. For
// Rename, path is the old name.
func WithFaults(fs FS, inject func(op Op, path string) error) FS {
	return &faultFS{fs: fs, inject: inject}
}

type faultFS struct {
	fs     FS
	inject func(op Op, path string) error
}

func (f *faultFS) check(op Op, path string) error {
	if err := f.inject(op, path); err != nil {
		return &os.PathError{Op: op.String(), Path: path, Err: err}
	}
	return nil
}

func (f *faultFS) wrap(op Op, name string, open func(string) (File, error)) (File, error) {
	if err := f.check(op, name); err != nil {
		return nil, err
	}
	file, err := open(name)
	if err != nil {
		return nil, err
	}
	return &faultFile{f: file, fs: f, path: name}, nil
}

func (f *faultFS) Create(name string) (File, error) { return f.wrap(OpCreate, name, f.fs.Create) }
func (f *faultFS) Open(name string) (File, error)   { return f.wrap(OpOpen, name, f.fs.Open) }
func (f *faultFS) OpenAppend(name string) (File, error) {
	return f.wrap(OpOpenAppend, name, f.fs.OpenAppend)
}
func (f *faultFS) OpenDir(name string) (File, error) { return f.wrap(OpOpenDir, name, f.fs.OpenDir) }

func (f *faultFS) Rename(oldname, newname string) error {
	if err := f.check(OpRename, oldname); err != nil {
		return err
	}
	return f.fs.Rename(oldname, newname)
}

func (f *faultFS) Remove(name string) error {
	if err := f.check(OpRemove, name); err != nil {
		return err
	}
	return f.fs.Remove(name)
}

func (f *faultFS) RemoveAll(name string) error {
	if err := f.check(OpRemoveAll, name); err != nil {
		return err
	}
	return f.fs.RemoveAll(name)
}

func (f *faultFS) MkdirAll(dir string, perm os.FileMode) error {
	if err := f.check(OpMkdirAll, dir); err != nil {
		return err
	}
	return f.fs.MkdirAll(dir, perm)
}

func (f *faultFS) List(dir string) ([]string, error) {
	if err := f.check(OpList, dir); err != nil {
		return nil, err
	}
	return f.fs.List(dir)
}

func (f *faultFS) Stat(name string) (os.FileInfo, error) {
	if err := f.check(OpStat, name); err != nil {
		return nil, err
	}
	return f.fs.Stat(name)
}

func (f *faultFS) Lock(name string) (io.Closer, error) {
	if err := f.check(OpLock, name); err != nil {
		return nil, err
	}
	return f.fs.Lock(name)
}

type faultFile struct {
	f    File
	fs   *faultFS
	path string
}

func (f *faultFile) Write(p []byte) (int, error) {
	if err := f.fs.check(OpWrite, f.path); err != nil {
		return 0, err
	}
	return f.f.Write(p)
}

func (f *faultFile) ReadAt(p []byte, off int64) (int, error) {
	if err := f.fs.check(OpRead, f.path); err != nil {
		return 0, err
	}
	return f.f.ReadAt(p, off)
}

func (f *faultFile) Sync() error {
	if err := f.fs.check(OpSync, f.path); err != nil {
		return err
	}
	return f.f.Sync()
}

func (f *faultFile) Truncate(size int64) error {
	if err := f.fs.check(OpTruncate, f.path); err != nil {
		return err
	}
	return f.f.Truncate(size)
}

func (f *faultFile) Stat() (os.FileInfo, error) {
	if err := f.fs.check(OpFileStat, f.path); err != nil {
		return nil, err
	}
	return f.f.Stat()
}

// Close always closes the underlying file, even when a fault is injected, so
// that injected faults do not leak descriptors.
func (f *faultFile) Close() error {
	injected := f.fs.check(OpClose, f.path)
	err := f.f.Close()
	if injected != nil {
		return injected
	}
	return err
}
