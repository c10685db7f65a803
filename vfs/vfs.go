package vfs

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// FS is a filesystem. Names are slash-separated paths as on Unix; MemFS treats
// relative names as relative to its root.
type FS interface {
	// Create creates the named file, truncating it if it exists, and opens it
	// for reading and appending. The new name is durable only once its
	// directory is synced.
	Create(name string) (File, error)
	// Open opens an existing file for reading.
	Open(name string) (File, error)
	// OpenAppend opens an existing file for reading and appending.
	OpenAppend(name string) (File, error)
	// OpenDir opens a directory so that it can be synced, which makes the
	// creations, renames and removals of names in it durable.
	OpenDir(name string) (File, error)
	// Rename renames oldname to newname, replacing newname if it exists.
	Rename(oldname, newname string) error
	// Remove removes a file or an empty directory.
	Remove(name string) error
	// RemoveAll removes name and everything under it; a missing name is not an
	// error.
	RemoveAll(name string) error
	// MkdirAll creates a directory and any missing parents. The new names are
	// durable only once their parents are synced (see MkdirAllSynced).
	MkdirAll(dir string, perm os.FileMode) error
	// List returns the names (not paths) of the entries of dir, sorted.
	List(dir string) ([]string, error)
	// Stat describes the named file or directory.
	Stat(name string) (os.FileInfo, error)
	// Lock creates the named lock file if needed and takes an exclusive lock on
	// it, failing at once (with an error wrapping ErrLocked) if someone else
	// holds it. Closing the returned Closer releases the lock.
	Lock(name string) (io.Closer, error)
}

// File is an open file or directory.
type File interface {
	// Write appends p at the end of the file.
	Write(p []byte) (n int, err error)
	// ReadAt reads len(p) bytes at off; like io.ReaderAt, it returns an error
	// (io.EOF at the end of the file) whenever n < len(p).
	ReadAt(p []byte, off int64) (n int, err error)
	// Sync makes the data and size written so far durable (fdatasync). On a
	// directory it makes the directory's entries durable. A failed Sync is
	// fatal: see the package documentation.
	Sync() error
	// Truncate changes the file's size; like writes, it is durable after Sync.
	Truncate(size int64) error
	Stat() (os.FileInfo, error)
	Close() error
}

// ErrLocked is wrapped by the error Lock returns when the lock is held.
var ErrLocked = errors.New("lock is held by another process or open")

// SyncDir makes the entries of dir durable.
func SyncDir(fs FS, dir string) error {
	d, err := fs.OpenDir(dir)
	if err != nil {
		return err
	}
	if err := d.Sync(); err != nil {
		_ = d.Close() // the sync error is the one that matters
		return err
	}
	return d.Close()
}

// MkdirAllSynced creates dir and any missing parents, and syncs the parent of
// every directory it created, so that dir itself survives a crash.
func MkdirAllSynced(fs FS, dir string) error {
	dir = filepath.Clean(dir)
	var missing []string
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := fs.Stat(d); err == nil {
			break
		} else if !errors.Is(err, os.ErrNotExist) {
			return err
		}
		missing = append(missing, d)
		if parent := filepath.Dir(d); parent == d {
			break
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if err := fs.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	// Sync from the top down: a directory's entry is durable once its parent
	// is synced, and the parent must itself already be durable.
	for i := len(missing) - 1; i >= 0; i-- {
		parent := filepath.Dir(missing[i])
		if parent == missing[i] {
			continue
		}
		if err := SyncDir(fs, parent); err != nil {
			return fmt.Errorf("sync directory %s after creating %s: %w", parent, missing[i], err)
		}
	}
	return nil
}
