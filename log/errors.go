package log

import (
	"errors"
	"fmt"
	"syscall"

	"github.com/kappa-db/kappa/pgerr"
)

// Errors returned by a Log. Failures of the filesystem are *pgerr.Error with
// code 58030 (io_error) or 53100 (disk_full), wrapping the vfs error.
var (
	// ErrClosed is returned by Append, Read and Wait on a closed Log.
	ErrClosed = pgerr.New(pgerr.ObjectNotInPrerequisite, "log is closed")
	// ErrLocked is wrapped by Open's error when another Log (in this process
	// or another) has the directory open.
	ErrLocked = errors.New("log directory is in use")
	// ErrOffsetRemoved is wrapped by Read's error when the requested offset
	// was removed by RemoveBefore.
	ErrOffsetRemoved = errors.New("offset was removed by retention")
)

// objectInUse is PostgreSQL's object_in_use SQLSTATE, which is what a second
// server opening the same data directory gets.
const objectInUse = "55006"

// ioError wraps a filesystem error with the operation that failed, as
// disk_full for ENOSPC and EDQUOT and io_error otherwise.
func ioError(err error, format string, args ...any) *pgerr.Error {
	code := pgerr.IOError
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		code = pgerr.DiskFull
	}
	return pgerr.Wrap(err, code, fmt.Sprintf(format, args...))
}
