//go:build linux

package vfs

import (
	"os"

	"golang.org/x/sys/unix"
)

// fdatasync flushes data and the size, not other metadata (mtime), which saves
// a journal write per sync on ext4 and xfs.
func fdatasync(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var syncErr error
	if err := rc.Control(func(fd uintptr) {
		for {
			syncErr = unix.Fdatasync(int(fd))
			if syncErr != unix.EINTR {
				return
			}
		}
	}); err != nil {
		return err
	}
	return syncErr
}

// startWriteback asks the kernel to start writing [off, off+n) of f to the
// device without waiting, so that a later fdatasync finds most of a large
// write already on its way (sync_file_range(SYNC_FILE_RANGE_WRITE)). It is a
// hint: errors are ignored, and fdatasync still decides durability.
func startWriteback(f *os.File, off, n int64) {
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	_ = rc.Control(func(fd uintptr) {
		_ = unix.SyncFileRange(int(fd), off, n, unix.SYNC_FILE_RANGE_WRITE)
	})
}
