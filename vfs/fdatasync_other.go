//go:build !linux

package vfs

import "os"

// fdatasync falls back to a full fsync where fdatasync is not available.
func fdatasync(f *os.File) error { return f.Sync() }

func startWriteback(f *os.File, off, n int64) {}
