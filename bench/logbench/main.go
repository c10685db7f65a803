package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/kappa-db/kappa/log"
	"github.com/kappa-db/kappa/vfs"
)

func main() {
	if err := (&Main{Stdout: os.Stdout}).Run(context.Background(), os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "logbench:", err)
		os.Exit(1)
	}
}

// Main is the program, separate from main so that it can be run from tests.
type Main struct {
	Stdout io.Writer
}

// Run parses args, runs dd and the log benchmark, and prints the table.
func (m *Main) Run(ctx context.Context, args []string) error {
	fl := flag.NewFlagSet("logbench", flag.ContinueOnError)
	dir := fl.String("dir", os.TempDir(), "directory on the disk to measure")
	mib := fl.Int("mib", 256, "MiB to write in each run")
	records := fl.Int("records", 1000, "records per Append")
	recordBytes := fl.Int("record-bytes", 100, "bytes per record")
	appenders := fl.String("appenders", "1,4", "comma-separated numbers of concurrent appenders to run")
	if err := fl.Parse(args); err != nil {
		return err
	}
	var counts []int
	for _, s := range strings.Split(*appenders, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 {
			return fmt.Errorf("bad -appenders value %q", s)
		}
		counts = append(counts, n)
	}

	dd, err := runDD(ctx, *dir, *mib)
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "what\tMB written\tseconds\tMB/s\tfsyncs\tof dd\t\n")
	fmt.Fprintf(tw, "dd bs=1M oflag=direct conv=fdatasync\t%.1f\t%.3f\t%.1f\t1\t1.00\t\n",
		float64(dd.bytes)/1e6, dd.seconds, dd.rate())
	for _, n := range counts {
		r, err := runLog(*dir, int64(*mib)<<20, *records, *recordBytes, n)
		if err != nil {
			return err
		}
		fmt.Fprintf(tw, "log Append %d x %d B, SyncGroup, %d appender(s)\t%.1f\t%.3f\t%.1f\t%d\t%.2f\t\n",
			*records, *recordBytes, n, float64(r.bytes)/1e6, r.seconds, r.rate(), r.syncs, r.rate()/dd.rate())
	}
	fmt.Fprintf(tw, "\n")
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "MB = 10^6 bytes. The log's MB count record payload only (not headers and length prefixes).\n"+
		"dd syncs once at the end; the log fdatasyncs before every acknowledgement.\n")
	return nil
}

type result struct {
	bytes   int64
	seconds float64
	syncs   int64
}

func (r result) rate() float64 { return float64(r.bytes) / 1e6 / r.seconds }

// ddSummary matches dd's last line, e.g.
// "268435456 bytes (268 MB, 256 MiB) copied, 1.23 s, 218 MB/s".
var ddSummary = regexp.MustCompile(`(?m)^(\d+) bytes .*copied, ([0-9.,e+-]+) s,`)

func runDD(ctx context.Context, dir string, mib int) (result, error) {
	f, err := os.CreateTemp(dir, "logbench-dd-*")
	if err != nil {
		return result{}, err
	}
	name := f.Name()
	if err := f.Close(); err != nil {
		return result{}, err
	}
	defer os.Remove(name)
	cmd := exec.CommandContext(ctx, "dd", "if=/dev/zero", "of="+name, "bs=1M",
		fmt.Sprintf("count=%d", mib), "oflag=direct", "conv=fdatasync")
	cmd.Env = append(os.Environ(), "LC_ALL=C") // dd's summary is localized
	out, err := cmd.CombinedOutput()
	if err != nil {
		return result{}, fmt.Errorf("dd: %w: %s", err, out)
	}
	return parseDD(string(out))
}

func parseDD(out string) (result, error) {
	m := ddSummary.FindStringSubmatch(out)
	if m == nil {
		return result{}, fmt.Errorf("cannot find the summary line in dd's output: %q", out)
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	if err != nil {
		return result{}, fmt.Errorf("dd byte count %q: %w", m[1], err)
	}
	secs, err := strconv.ParseFloat(strings.ReplaceAll(m[2], ",", "."), 64)
	if err != nil {
		return result{}, fmt.Errorf("dd seconds %q: %w", m[2], err)
	}
	if secs <= 0 {
		return result{}, errors.New("dd reported zero seconds")
	}
	return result{bytes: n, seconds: secs, syncs: 1}, nil
}

func runLog(dir string, total int64, records, recordBytes, appenders int) (res result, err error) {
	logDir, err := os.MkdirTemp(dir, "logbench-log-*")
	if err != nil {
		return result{}, err
	}
	defer func() {
		if rerr := os.RemoveAll(logDir); rerr != nil && err == nil {
			err = rerr
		}
	}()
	var syncs atomic.Int64
	fs := vfs.WithFaults(vfs.Default, func(op vfs.Op, path string) error {
		if op == vfs.OpSync && filepath.Ext(path) == ".log" {
			syncs.Add(1)
		}
		return nil
	})
	l, err := log.Open(log.Options{FS: fs, Dir: logDir, Sync: log.SyncGroup})
	if err != nil {
		return result{}, err
	}
	batch := make([][]byte, records)
	for i := range batch {
		batch[i] = make([]byte, recordBytes)
		for j := range batch[i] {
			batch[i][j] = byte(i + j)
		}
	}
	appends := total / int64(records*recordBytes)
	syncs.Store(0)
	start := time.Now()
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, appenders)
	for a := 0; a < appenders; a++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= appends {
				if _, err := l.Append(batch); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(errs)
	if err := <-errs; err != nil {
		return result{}, errors.Join(err, l.Close())
	}
	if err := l.Close(); err != nil {
		return result{}, err
	}
	return result{bytes: appends * int64(records*recordBytes), seconds: elapsed.Seconds(), syncs: syncs.Load()}, nil
}
