// Package vfs owns the one filesystem interface that all durable I/O in kappa
// goes through, so that tests can crash it. It provides the operating system's
// filesystem (Default), an in-memory filesystem whose CrashClone keeps only
// what was synced (NewMem), and a wrapper that injects faults (WithFaults).
// Related code: the log package writes segments through it; storage hands it
// to pebble through an adapter.
//
// vfs imports no other kappa package.
//
// Invariants:
//   - File.Write always appends at the end of the file; files are never
//     written in place. That is all the log needs, and it keeps MemFS's model
//     of "what survives a crash" simple and exact.
//   - File.Sync has fdatasync semantics: when it returns nil, the file's data
//     and size written so far survive power loss. It does not make the file's
//     name durable: a created, renamed or removed name survives only once its
//     directory was synced (OpenDir(dir) then Sync).
//   - A failed Sync is fatal to the caller. After fsync fails, Linux may have
//     dropped the dirty pages and marked them clean, so a retry can "succeed"
//     without the data ever reaching the disk. Callers must stop writing the
//     file (fail-stop) and recover from what is durable, never retry the sync.
//
// Caveats:
//   - CrashClone models a crash as "everything not synced is lost, everything
//     synced survives". Real disks can also keep part of the unsynced data, in
//     any order; CrashCloneTorn models that for appended data (a random prefix
//     with zeroed pages), but not reordering of directory operations: an
//     unsynced create, rename or remove is always entirely lost.
//   - MemFS is for tests: one mutex guards the whole tree and ReadAt copies.
//   - The OS Lock uses flock(2): it excludes other processes and other opens in
//     this process, but not on network filesystems that ignore flock.
//   - On platforms without fdatasync (not Linux), Default's Sync is a full
//     fsync (os.File.Sync).
package vfs
