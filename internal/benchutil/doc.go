// Package benchutil holds what the benchmark commands under bench/ share:
// the machine's load average (printed beside every figure), CPU time of this
// process and of another process tree, and `kappa serve` run as a process of
// its own (built with go build) for benchmarks that kill or restart it.
//
// benchutil must not import any other kappa package: benchmarks reach kappa
// over the wire.
package benchutil
