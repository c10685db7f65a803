package vfs

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"

	"golang.org/x/sys/unix"
)

// Default is the operating system's filesystem.
var Default FS = osFS{}

type osFS struct{}

func (osFS) Create(name string) (File, error) {
	// O_APPEND keeps the File contract (writes append) even after Truncate.
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	return osFile{f}, nil
}

func (osFS) Open(name string) (File, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	return osFile{f}, nil
}

func (osFS) OpenAppend(name string) (File, error) {
	f, err := os.OpenFile(name, os.O_RDWR|os.O_APPEND, 0)
	if err != nil {
		return nil, err
	}
	return osFile{f}, nil
}

func (osFS) OpenDir(name string) (File, error) {
	f, err := os.Open(name)
	if err != nil {
		return nil, err
	}
	return osDir{f}, nil
}

func (osFS) Rename(oldname, newname string) error        { return os.Rename(oldname, newname) }
func (osFS) Remove(name string) error                    { return os.Remove(name) }
func (osFS) RemoveAll(name string) error                 { return os.RemoveAll(name) }
func (osFS) MkdirAll(dir string, perm os.FileMode) error { return os.MkdirAll(dir, perm) }
func (osFS) Stat(name string) (os.FileInfo, error)       { return os.Stat(name) }

func (osFS) List(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name()
	}
	slices.Sort(names)
	return names, nil
}

func (osFS) Lock(name string) (io.Closer, error) {
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	// flock, not fcntl: fcntl locks are per process, so a second Open of the
	// same directory in this process would not be refused.
	if err := flock(f, unix.LOCK_EX|unix.LOCK_NB); err != nil {
		_ = f.Close() // the lock error is the one to report
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, &os.PathError{Op: "lock", Path: name, Err: ErrLocked}
		}
		return nil, &os.PathError{Op: "lock", Path: name, Err: err}
	}
	return osLock{f}, nil
}

func flock(f *os.File, how int) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var opErr error
	if err := rc.Control(func(fd uintptr) {
		for {
			opErr = unix.Flock(int(fd), how)
			if opErr != unix.EINTR {
				return
			}
		}
	}); err != nil {
		return err
	}
	return opErr
}

type osLock struct{ f *os.File }

func (l osLock) Close() error {
	// Closing the descriptor releases the flock.
	if err := l.f.Close(); err != nil {
		return fmt.Errorf("release lock %s: %w", l.f.Name(), err)
	}
	return nil
}

type osFile struct{ f *os.File }

// writebackChunk is the piece size in which a large Write is written, each
// piece's writeback started at once (see startWriteback): the device works on
// one piece while the next is copied into the page cache.
const writebackChunk = 1 << 20

func (f osFile) Write(p []byte) (int, error) {
	if len(p) < 2*writebackChunk {
		return f.f.Write(p)
	}
	off, err := f.f.Seek(0, io.SeekEnd)
	if err != nil {
		return f.f.Write(p)
	}
	written := 0
	for written < len(p) {
		end := min(written+writebackChunk, len(p))
		n, err := f.f.Write(p[written:end])
		if n > 0 {
			startWriteback(f.f, off+int64(written), int64(n))
		}
		written += n
		if err != nil {
			return written, err
		}
	}
	return written, nil
}
func (f osFile) ReadAt(p []byte, off int64) (int, error) { return f.f.ReadAt(p, off) }
func (f osFile) Truncate(size int64) error               { return f.f.Truncate(size) }
func (f osFile) Stat() (os.FileInfo, error)              { return f.f.Stat() }
func (f osFile) Close() error                            { return f.f.Close() }

func (f osFile) Sync() error {
	if err := fdatasync(f.f); err != nil {
		return &os.PathError{Op: "fdatasync", Path: f.f.Name(), Err: err}
	}
	return nil
}

// osDir is a directory opened for syncing; it has no data to read or write.
type osDir struct{ f *os.File }

func (d osDir) Write(p []byte) (int, error) {
	return 0, &os.PathError{Op: "write", Path: d.f.Name(), Err: errors.New("is a directory")}
}

func (d osDir) ReadAt(p []byte, off int64) (int, error) {
	return 0, &os.PathError{Op: "read", Path: d.f.Name(), Err: errors.New("is a directory")}
}

func (d osDir) Truncate(size int64) error {
	return &os.PathError{Op: "truncate", Path: d.f.Name(), Err: errors.New("is a directory")}
}

func (d osDir) Sync() error                { return d.f.Sync() }
func (d osDir) Stat() (os.FileInfo, error) { return d.f.Stat() }
func (d osDir) Close() error               { return d.f.Close() }
