// Command logbench compares the log's large-batch append rate with the rate at
// which the disk under the same directory writes sequentially and fdatasyncs,
// as measured by dd. Usage:
//
//	go run ./bench/logbench -dir /var/lib/kappa -mib 256
//
// It imports only log and vfs.
package main
