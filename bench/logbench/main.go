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
	"runtime/pprof"
	"slices"
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
//
// The disk's rate varies from run to run (and more on a shared machine), so
// every configuration runs -runs times, each log run right after a dd run of
// its own, and the table gives the median of each and the median of the
// per-pair ratios.
func (m *Main) Run(ctx context.Context, args []string) error {
	fl := flag.NewFlagSet("logbench", flag.ContinueOnError)
	dir := fl.String("dir", os.TempDir(), "directory on the disk to measure")
	mib := fl.Int("mib", 256, "MiB to write in each run")
	recordsFlag := fl.String("records", "1000,100000", "comma-separated records per Append (x 100 B: 100 KB and 10 MB batches)")
	recordBytes := fl.Int("record-bytes", 100, "bytes per record")
	appenders := fl.String("appenders", "1,4", "comma-separated numbers of concurrent appenders to run")
	runs := fl.Int("runs", 3, "runs of each configuration, each paired with a dd run")
	cpuprofile := fl.String("cpuprofile", "", "write a CPU profile of the log runs to this file")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	counts, err := intList("-appenders", *appenders)
	if err != nil {
		return err
	}
	sizes, err := intList("-records", *recordsFlag)
	if err != nil {
		return err
	}
	if *runs < 1 {
		return errors.New("-runs must be at least 1")
	}

	tw := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "what\tMB per run\tlog MB/s\tdd MB/s\tfsyncs\tof dd\t\n")
	for _, records := range sizes {
		for _, n := range counts {
			var logRates, ddRates, ratios []float64
			var syncs, bytes int64
			for range *runs {
				dd, err := runDD(ctx, *dir, *mib)
				if err != nil {
					return err
				}
				r, err := runLog(*dir, int64(*mib)<<20, records, *recordBytes, n)
				if err != nil {
					return err
				}
				logRates = append(logRates, r.rate())
				ddRates = append(ddRates, dd.rate())
				ratios = append(ratios, r.rate()/dd.rate())
				syncs, bytes = r.syncs, r.bytes
			}
			fmt.Fprintf(tw, "log Append %d x %d B, SyncGroup, %d appender(s)\t%.1f\t%.1f\t%.1f\t%d\t%.2f\t\n",
				records, *recordBytes, n, float64(bytes)/1e6, median(logRates), median(ddRates), syncs, median(ratios))
		}
	}
	fmt.Fprintf(tw, "\n")
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "Medians of %d runs; each log run follows its own dd run (dd bs=1M oflag=direct conv=fdatasync\n"+
		"of the same size), and 'of dd' is the median of the per-pair ratios. MB = 10^6 bytes of record\n"+
		"payload (not headers and length prefixes). dd syncs once at the end; the log fdatasyncs before\n"+
		"every acknowledgement.\n", *runs)
	return nil
}

func intList(name, s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("bad %s value %q", name, f)
		}
		out = append(out, n)
	}
	return out, nil
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
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
