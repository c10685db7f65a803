package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/kappa-db/kappa/catalog"
	"github.com/kappa-db/kappa/connector/nexmark"
	"github.com/kappa-db/kappa/exec"
	"github.com/kappa-db/kappa/internal/benchutil"
	"github.com/kappa-db/kappa/server"
	"github.com/kappa-db/kappa/types"
)

func main() {
	benchutil.Main("nexmark", (&Main{Stdout: os.Stdout, Stderr: os.Stderr}).Run)
}

// Main is the program, separate from main so that tests can run it.
type Main struct {
	Stdout io.Writer
	Stderr io.Writer // progress lines; nil discards them
}

type config struct {
	events     uint64
	only       map[string]bool
	dir        string
	split      int
	freshDur   time.Duration
	cpuprofile string
	memprofile string
	// freshProfile, when set, is where the CPU profile of the freshness
	// runs alone goes (the paced epochs, not the backfill).
	freshProfile     string
	freshProfileFile *os.File
	// watermark, when set, is the delay of a WATERMARK FOR date_time on
	// every source (an interval, e.g. '4 seconds').
	watermark string
	barrier   time.Duration // the runtime's epoch interval (0: its default)
	// freshRate, when set, is the freshness run's rate instead of half the
	// measured one: to compare settings at one rate on a busy machine.
	freshRate float64
}

// result is one query's figures.
type result struct {
	name            string
	events          uint64
	wall, cpu       time.Duration
	freshRate       float64 // events/s offered in the freshness run
	p50, p99        time.Duration
	freshEvents     int
	err             error
	freshnessFailed error
	// epochs is where the freshness run's epochs spent their time.
	epochs epochStats
}

// epochStats summarize the epochs of a freshness run (exec.EpochTiming):
// p50 and p99 of the loop's lateness, processing and commit, per epoch.
type epochStats struct {
	n                    int
	late50, late99       time.Duration
	process50, proc99    time.Duration
	commit50, commit99   time.Duration
	records50, records99 uint64
	bytes50, bytes99     int
	bytesTotal           int
	// cpuPerEvent is the process's CPU time over the paced run per event
	// offered: what the epochs' fixed costs add to at a given interval.
	cpuPerEvent time.Duration
}

// Run parses args and runs the benchmark.
func (m *Main) Run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("nexmark", flag.ContinueOnError)
	fs.SetOutput(m.errOut())
	var cfg config
	var only string
	fs.Uint64Var(&cfg.events, "events", 10_000_000, "events (of all kinds) per query")
	fs.StringVar(&only, "queries", "", "comma-separated queries to run (default: all), e.g. q0,q5")
	fs.StringVar(&cfg.dir, "dir", "", "data directory parent (default: a temporary directory)")
	fs.IntVar(&cfg.split, "split", runtime.GOMAXPROCS(0), "generator partitions (nexmark.split.num)")
	fs.DurationVar(&cfg.freshDur, "freshness", 5*time.Second, "length of each freshness run at half the measured rate (0 skips it)")
	fs.StringVar(&cfg.cpuprofile, "cpuprofile", "", "write a CPU profile of the throughput runs to this file")
	fs.StringVar(&cfg.memprofile, "memprofile", "", "write a heap profile (allocations since the start: go tool pprof -sample_index=alloc_objects) to this file at the end")
	fs.StringVar(&cfg.freshProfile, "fresh-cpuprofile", "", "write a CPU profile of the freshness run alone to this file (one query; not with -cpuprofile)")
	fs.Float64Var(&cfg.freshRate, "fresh-rate", 0, "events/s of the freshness run (0: half the measured rate)")
	fs.DurationVar(&cfg.barrier, "barrier", 0, "the epoch interval (barrier_interval; 0: the runtime's default)")
	fs.StringVar(&cfg.watermark, "watermark", "", "declare WATERMARK FOR date_time AS date_time - INTERVAL 'this' on the sources (e.g. '4 seconds'): windowed views then drop closed windows' state")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if cfg.events == 0 {
		return errors.New("-events must be positive")
	}
	if only != "" {
		cfg.only = map[string]bool{}
		for _, q := range strings.Split(only, ",") {
			cfg.only[strings.TrimSpace(q)] = true
		}
	}
	qs, err := queries()
	if err != nil {
		return err
	}
	if cfg.dir == "" {
		d, err := os.MkdirTemp("", "kappa-nexmark-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(d)
		cfg.dir = d
	}
	model := "unknown"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	fmt.Fprintf(m.Stdout, "Nexmark on kappa: %d events per query, %d CPUs (%s), GOMAXPROCS %d, generator partitions %d\n\n",
		cfg.events, runtime.NumCPU(), model, runtime.GOMAXPROCS(0), cfg.split)

	gen := m.generatorAlone(cfg)

	if cfg.cpuprofile != "" && cfg.freshProfile != "" {
		return errors.New("-cpuprofile and -fresh-cpuprofile exclude each other")
	}
	if cfg.freshProfile != "" {
		f, err := os.Create(cfg.freshProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		cfg.freshProfileFile = f
	}
	if cfg.cpuprofile != "" {
		f, err := os.Create(cfg.cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if cfg.memprofile != "" {
		f, err := os.Create(cfg.memprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		defer pprof.Lookup("allocs").WriteTo(f, 0)
	}
	var results []result
	for _, q := range qs {
		if cfg.only != nil && !cfg.only[q.name] {
			continue
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		r := m.runQuery(ctx, cfg, q)
		results = append(results, r)
		if r.err != nil {
			m.progress("%s: %v", q.name, r.err)
		}
	}
	m.report(cfg, gen, results)
	return nil
}

func (m *Main) errOut() io.Writer {
	if m.Stderr == nil {
		return io.Discard
	}
	return m.Stderr
}

func (m *Main) progress(format string, args ...any) {
	fmt.Fprintf(m.errOut(), format+"\n", args...)
}

// generatorAlone measures the generator by itself: the bid source's rows
// for cfg.events events (at most 10 M), read as a view reads them.
func (m *Main) generatorAlone(cfg config) result {
	n := min(cfg.events, 10_000_000)
	c := nexmark.DefaultConfig()
	c.Kind = nexmark.Bid
	c.Partitions = cfg.split
	g := nexmark.New(c)
	rows := make([]types.Row, 0, 4096)
	cpu0, t0 := benchutil.SelfCPU(), time.Now()
	for e := uint64(0); e < n; e += 4096 {
		rows = g.AppendRows(rows[:0], e, min(e+4096, n))
	}
	r := result{name: "generator (bid)", events: n, wall: time.Since(t0), cpu: benchutil.SelfCPU() - cpu0}
	m.progress("generator alone: %.0f events/s", float64(n)/r.wall.Seconds())
	return r
}

// runQuery measures one query on a kappa of its own: the throughput of a
// view over cfg.events unpaced events, then the freshness of a view over
// a stream paced at half that rate.
func (m *Main) runQuery(ctx context.Context, cfg config, q query) result {
	r := result{name: q.name, events: cfg.events}
	dir, err := os.MkdirTemp(cfg.dir, q.name+"-")
	if err != nil {
		r.err = err
		return r
	}
	defer os.RemoveAll(dir)
	srv, err := server.Start(ctx, server.Config{DataDir: dir, Listen: "127.0.0.1:0", BarrierInterval: cfg.barrier})
	if err != nil {
		r.err = err
		return r
	}
	defer srv.Close()
	conn, err := pgx.Connect(ctx, "postgres://kappa@"+srv.Addr()+"/kappa?sslmode=disable")
	if err != nil {
		r.err = err
		return r
	}
	defer conn.Close(ctx)

	for _, st := range q.setup {
		if _, err := conn.Exec(ctx, st); err != nil {
			r.err = err
			return r
		}
	}
	opts := fmt.Sprintf(", nexmark.event.num = %d, nexmark.min.event.gap.in.ns = 0, nexmark.split.num = %d", cfg.events, cfg.split)
	for _, s := range []string{"person", "auction", "bid"} {
		if _, err := conn.Exec(ctx, cfg.sourceDDL(s, opts)); err != nil {
			r.err = err
			return r
		}
	}
	// From the first event to the commit of the epoch with the last: the
	// CREATE returns when the view's backfill has committed every event.
	runtime.GC()
	m.progress("%s: %d events ...", q.name, cfg.events)
	cpu0, t0 := benchutil.SelfCPU(), time.Now()
	if _, err := conn.Exec(ctx, "CREATE MATERIALIZED VIEW v AS "+q.kappa); err != nil {
		r.err = err
		return r
	}
	r.wall, r.cpu = time.Since(t0), benchutil.SelfCPU()-cpu0
	var state int64
	if o, ok := srv.Engine().Catalog().Lookup("v"); ok {
		state, _ = srv.Engine().Runtime().StateBytes(o.ID)
	}
	m.progress("%s: %.0f events/s (%.2f cores), operator state %d bytes", q.name, float64(cfg.events)/r.wall.Seconds(), r.cpu.Seconds()/r.wall.Seconds(), state)
	t1 := time.Now()
	if _, err := conn.Exec(ctx, "DROP SOURCE person, auction, bid CASCADE"); err != nil {
		r.err = err
		return r
	}
	m.progress("%s: DROP of the view and sources %v", q.name, time.Since(t1))
	if cfg.freshDur > 0 {
		r.freshRate = float64(cfg.events) / r.wall.Seconds() / 2
		if cfg.freshRate > 0 {
			r.freshRate = cfg.freshRate
		}
		r.p50, r.p99, r.freshEvents, r.epochs, r.freshnessFailed = m.freshness(ctx, cfg, srv, conn, q, r.freshRate)
	}
	return r
}

// freshness runs q over a stream paced at rate events/s for cfg.freshDur
// and measures, for every event, the time from when the source makes it
// available to the commit of the epoch that shows it in the view.
func (m *Main) freshness(ctx context.Context, cfg config, srv *server.Server, conn *pgx.Conn, q query, rate float64) (p50, p99 time.Duration, n int, es epochStats, err error) {
	gap := time.Duration(float64(time.Second) / rate)
	if gap <= 0 {
		gap = 1
	}
	total := uint64(cfg.freshDur.Seconds() * rate)
	opts := fmt.Sprintf(", nexmark.event.num = %d, nexmark.min.event.gap.in.ns = %d, nexmark.split.num = %d", total, gap.Nanoseconds(), cfg.split)
	for _, s := range []string{"person", "auction", "bid"} {
		if _, err := conn.Exec(ctx, cfg.sourceDDL(s, opts)); err != nil {
			return 0, 0, 0, es, err
		}
	}
	eng := srv.Engine()
	if cfg.freshProfileFile != nil {
		if err := pprof.StartCPUProfile(cfg.freshProfileFile); err != nil {
			return 0, 0, 0, es, err
		}
		defer pprof.StopCPUProfile()
	}
	cpu0 := benchutil.SelfCPU()
	st0 := eng.Runtime().StoreStats()
	if _, err := conn.Exec(ctx, "CREATE MATERIALIZED VIEW f AS "+q.kappa); err != nil {
		return 0, 0, 0, es, err
	}
	o, _ := eng.Catalog().Lookup("f")
	rt := eng.Runtime()
	// The view's generators (q13 also reads a table, whose offsets are
	// not event ids). Each is paced from its own start: the sources were
	// created a moment apart, which a busy machine makes long.
	type input struct {
		id    uint64
		kind  nexmark.Kind
		start time.Time
		prev  uint64 // events below prev are measured
	}
	var ins []*input
	for _, src := range o.Sources {
		so, ok := eng.Catalog().Get(src)
		if !ok || so.Kind != catalog.KindSource {
			continue
		}
		g, st, ok := eng.Generator(so.Name)
		if !ok {
			continue
		}
		ins = append(ins, &input{id: src, kind: g.Config().Kind, start: st})
	}
	// The first second warms up (the view starts behind the stream by
	// the time its CREATE took).
	warm := uint64(rate)
	var lat []time.Duration
	prev := uint64(0) // the least of the inputs' prev
	stride := max(uint64(1), total/200000)
	deadline := time.Now().Add(cfg.freshDur + time.Minute)
	for prev < total {
		ch := rt.Changed()
		now := time.Now()
		prev = total
		for _, in := range ins {
			off, _ := rt.Committed(o.ID, in.id)
			off = min(off, total)
			for e := in.prev; e < off; e++ {
				if e >= warm && e%stride == 0 && nexmark.KindOf(e) == in.kind {
					lat = append(lat, now.Sub(in.start.Add(time.Duration(e)*gap)))
				}
			}
			in.prev = max(in.prev, off)
			prev = min(prev, in.prev)
		}
		if err := rt.Err(o.ID); err != nil {
			return 0, 0, 0, es, err
		}
		if prev >= total {
			break
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return 0, 0, 0, es, ctx.Err()
		case <-time.After(time.Until(deadline)):
			return 0, 0, 0, es, fmt.Errorf("freshness: view at event %d of %d after %v", prev, total, cfg.freshDur+time.Minute)
		}
	}
	if len(lat) == 0 {
		return 0, 0, 0, es, errors.New("freshness: no events measured")
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	first := time.Now()
	for _, in := range ins {
		if in.start.Before(first) {
			first = in.start
		}
	}
	es = summarizeEpochs(rt.EpochTimings(), first.Add(time.Duration(warm)*gap))
	es.cpuPerEvent = (benchutil.SelfCPU() - cpu0) / time.Duration(total)
	st1 := rt.StoreStats()
	m.progress("%s: store during the freshness run: compaction debt at the start %d MB, %d flushes, %d compactions writing %d MB, %d write stalls (%v)",
		q.name, st0.CompactionDebt>>20, st1.Flushes-st0.Flushes, st1.Compactions-st0.Compactions, (st1.CompactedBytes-st0.CompactedBytes)>>20,
		st1.WriteStalls-st0.WriteStalls, st1.WriteStallTime-st0.WriteStallTime)
	m.progress("%s: freshness %v / %v; epochs %d, late %v / %v, processing %v / %v, commit %v / %v, records %d / %d, batch bytes %d / %d (p50 / p99; %d MB in all); CPU %v per event",
		q.name, lat[len(lat)/2], lat[len(lat)*99/100], es.n, es.late50, es.late99, es.process50, es.proc99, es.commit50, es.commit99, es.records50, es.records99,
		es.bytes50, es.bytes99, es.bytesTotal>>20, es.cpuPerEvent)
	return lat[len(lat)/2], lat[len(lat)*99/100], len(lat), es, nil
}

// summarizeEpochs summarizes the timings of the epochs that started at or
// after from.
func summarizeEpochs(ts []exec.EpochTiming, from time.Time) epochStats {
	var late, proc, commit []time.Duration
	var recs []uint64
	var bytes []int
	total := 0
	for _, t := range ts {
		if t.Start.Before(from) {
			continue
		}
		late = append(late, t.Start.Sub(t.Due))
		proc = append(proc, t.Process)
		commit = append(commit, t.Commit)
		recs = append(recs, t.Records)
		bytes = append(bytes, t.Bytes)
		total += t.Bytes
	}
	if len(late) == 0 {
		return epochStats{}
	}
	pct := func(d []time.Duration) (time.Duration, time.Duration) {
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		return d[len(d)/2], d[len(d)*99/100]
	}
	es := epochStats{n: len(late)}
	es.late50, es.late99 = pct(late)
	es.process50, es.proc99 = pct(proc)
	es.commit50, es.commit99 = pct(commit)
	sort.Slice(recs, func(i, j int) bool { return recs[i] < recs[j] })
	es.records50, es.records99 = recs[len(recs)/2], recs[len(recs)*99/100]
	sort.Ints(bytes)
	es.bytes50, es.bytes99, es.bytesTotal = bytes[len(bytes)/2], bytes[len(bytes)*99/100], total
	return es
}

// targets are issue 5's per-core targets, events/s.
var targets = map[string]float64{
	"q0": 1_000_000, "q1": 1_000_000, "q2": 1_000_000,
	"q3": 400_000, "q8": 400_000,
	"q4": 200_000, "q5": 200_000, "q7": 200_000,
}

func (m *Main) report(cfg config, gen result, rs []result) {
	w := tabwriter.NewWriter(m.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "query\tevents\tseconds\tevents/s\tcores used\tevents/s/core\ttarget/core\tfresh p50\tfresh p99\tat events/s\t")
	line := func(r result) {
		if r.err != nil {
			fmt.Fprintf(w, "%s\t%d\terror: %v\t\t\t\t\t\t\t\t\n", r.name, r.events, r.err)
			return
		}
		eps := float64(r.events) / r.wall.Seconds()
		cores := r.cpu.Seconds() / r.wall.Seconds()
		perCore := float64(r.events) / r.cpu.Seconds()
		target := ""
		if t, ok := targets[r.name]; ok {
			mark := "met"
			if perCore < t {
				mark = "NOT met"
			}
			target = fmt.Sprintf("%.0f %s", t, mark)
		}
		fresh := "\t\t"
		switch {
		case r.freshnessFailed != nil:
			fresh = "error: " + r.freshnessFailed.Error() + "\t\t"
		case r.freshRate > 0:
			fresh = fmt.Sprintf("%.1f ms\t%.1f ms\t%.0f", ms(r.p50), ms(r.p99), r.freshRate)
		}
		fmt.Fprintf(w, "%s\t%d\t%.2f\t%.0f\t%.2f\t%.0f\t%s\t%s\t\n", r.name, r.events, r.wall.Seconds(), eps, cores, perCore, target, fresh)
	}
	line(gen)
	for _, r := range rs {
		line(r)
	}
	w.Flush()
	fmt.Fprintln(m.Stdout, "\nevents/s/core is events per CPU-second of the whole process (engine, generator, pgwire);")
	fmt.Fprintln(m.Stdout, "freshness is from an event's availability in the paced source to the commit that shows it (p99 target 100 ms).")
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// sourceDDL creates a source kind, with the configured watermark.
func (cfg config) sourceDDL(kind, opts string) string {
	ddl := sourceDDL(kind, opts)
	if cfg.watermark == "" {
		return ddl
	}
	wm := fmt.Sprintf(" (WATERMARK FOR date_time AS date_time - INTERVAL '%s')", strings.ReplaceAll(cfg.watermark, "'", "''"))
	return strings.Replace(ddl, " WITH (", wm+" WITH (", 1)
}
