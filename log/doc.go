// Package log owns one partition's durable, append-only log of records: the
// segment files on disk, their batch format, recovery after a crash, group
// commit, the sparse offset index and reads by offset. Records are opaque
// byte strings; callers (exec, the table and source writers) encode rows.
// Related code: vfs is the only way it touches files.
//
// log must not import any other kappa package except pgerr (errors) and vfs.
//
// Invariants:
//   - Append gives its records consecutive offsets, and the log holds every
//     offset in [Start(), End()) except those Compact dropped: a compacted
//     segment's batches cover consecutive ranges with gaps, and reads skip
//     the gaps.
//   - An Append is acknowledged only after its batch was written and, in
//     SyncGroup and SyncAlways modes, fdatasynced. Readers and End() see only
//     acknowledged records, so nothing a reader saw can vanish in a crash.
//   - One Append is one batch (or part of one batch merged from concurrent
//     Appends) with one CRC32C, so after a crash an Append is all there or
//     not there at all. An AppendGroup (a statement too large for one batch)
//     is a run of batches in one segment, all but the last flagged
//     continued: it is published to readers only when whole, and recovery
//     cuts a run without its last batch, so it too is all or nothing.
//   - Every segment but the last is synced whole before the next one is
//     created, and a new segment's name is synced into the directory before
//     anything is written to it. Recovery therefore checks only the last
//     segment and cuts it at the first batch that does not check out.
//   - Enqueue queues an append and returns before it is written (Wait
//     waits); appends queued one after another get offsets in that order.
//     A chained append fails unwritten when a chained one queued before it
//     failed, until ResetChain: writers that checked keys against earlier
//     queued appends never land without them.
//   - A failed fsync or write stops the log (fail-stop): later Appends fail
//     until it is reopened, because after a failed fsync the kernel may have
//     dropped the data while still showing it in the page cache. The
//     exception is a write that fails for lack of space (ENOSPC, EDQUOT):
//     the unpublished tail is cut, the appenders get 53100 (disk_full), and
//     the log takes appends again once there is space.
//
// Retention: Retain deletes whole sealed segments, oldest first, that a
// Retention policy (age of a segment's newest record, total bytes) no
// longer keeps and that hold no record at or after the offset the caller
// says some reader still needs. Segments roll by size and, with
// Options.SegmentAge, by age (Roll does it for a log that gets no Appends),
// so that age retention reaches slow logs. Removal is one segment and one
// directory sync at a time, so a crash leaves a suffix of the segments,
// never a gap. Times come from Options.Now, which tests replace.
//
// Compaction: Compact rewrites the sealed segments before the offset some
// reader still needs so that each key (a KeyFunc of the records) keeps the
// one record that adds its current row; adjacent segments whose compacted
// contents fit in one segment are merged into one file. The rewritten
// segments are installed together behind a COMPACTING marker that lists the
// merged-away ones, so a crash leaves all old or all new.
//
// Files in Options.Dir: LOCK (held while open), and segments named by the
// offset of their first record, 00000000000000000000.log. See format.go for
// the batch layout.
//
// Caveats:
//   - Corruption inside the last segment (a flipped bit in an old batch, not a
//     torn write) is indistinguishable from a torn tail: recovery cuts the log
//     there, losing the acknowledged records after it. Older segments are
//     checked when first read, and corruption there fails the Read with
//     XX001 (data_corrupted) instead.
//   - An Append that failed (error returned, or the process died before it
//     returned) may or may not be present after reopening.
//   - SyncOff survives a crash of the process, not of the machine.
//   - The sparse index lives in memory: Open scans only the last segment; an
//     older segment's batch headers are read the first time a Read touches it.
package log
