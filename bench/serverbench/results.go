package main

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// result is one line of the table.
type result struct {
	bench, metric string
	unit          string  // "rows/s", "q/s", "ms"
	kappa, pg     float64 // NaN when not measured
	target        string  // what the line is held to, or ""
	met           string  // "yes", "no", or "" without a target
}

type results struct {
	lines []result
	notes []string
}

func (r *results) add(l result) { r.lines = append(r.lines, l) }

func (r *results) note(format string, args ...any) {
	r.notes = append(r.notes, fmt.Sprintf(format, args...))
}

// addRatio adds a line held to kappa/PG >= min (higher is better).
func (r *results) addRatio(bench, metric, unit string, kappa, pg, min float64) {
	met := "no"
	if kappa/pg >= min {
		met = "yes"
	}
	r.add(result{bench: bench, metric: metric, unit: unit, kappa: kappa, pg: pg,
		target: fmt.Sprintf("kappa/PG >= %.1f", min), met: met})
}

// addMax adds a latency line held to kappa <= max.
func (r *results) addMax(bench, metric string, kappa, pg float64, max time.Duration) {
	met := "no"
	if kappa <= ms(max) {
		met = "yes"
	}
	r.add(result{bench: bench, metric: metric, unit: "ms", kappa: kappa, pg: pg,
		target: fmt.Sprintf("kappa <= %s", max), met: met})
}

func (r *results) addInfo(bench, metric, unit string, kappa, pg float64) {
	r.add(result{bench: bench, metric: metric, unit: unit, kappa: kappa, pg: pg})
}

func formatValue(v float64, unit string) string {
	switch {
	case math.IsNaN(v):
		return "-"
	case unit == "µs":
		return fmt.Sprintf("%.1f", v)
	case unit == "ms":
		if v < 10 {
			return fmt.Sprintf("%.2f", v)
		}
		return fmt.Sprintf("%.1f", v)
	default:
		return groupThousands(int64(math.Round(v)))
	}
}

func groupThousands(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func ratio(l result) string {
	if math.IsNaN(l.kappa) || math.IsNaN(l.pg) || l.pg == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", l.kappa/l.pg)
}

// print writes the table as Markdown (it reads as a table in a terminal too,
// and pastes into BENCHMARKS.md as it is).
func (r *results) print(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 1, ' ', 0)
	fmt.Fprintf(tw, "| benchmark\t| metric\t| unit\t| kappa\t| PostgreSQL\t| kappa/PG\t| target\t| met\t|\n")
	fmt.Fprintf(tw, "|---\t|---\t|---\t|---:\t|---:\t|---:\t|---\t|---\t|\n")
	for _, l := range r.lines {
		fmt.Fprintf(tw, "| %s\t| %s\t| %s\t| %s\t| %s\t| %s\t| %s\t| %s\t|\n", l.bench, l.metric, l.unit,
			formatValue(l.kappa, l.unit), formatValue(l.pg, l.unit), ratio(l), l.target, l.met)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, n := range r.notes {
		if _, err := fmt.Fprintf(w, "\n- %s", n); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintln(w)
	return err
}

// latencies summarizes a set of durations.
type latencies []time.Duration

// percentile returns the q-quantile (0 < q <= 1) by the nearest-rank method.
func (l latencies) percentile(q float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	s := slices.Clone(l)
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[max(0, min(i, len(s)-1))]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

func nan() float64 { return math.NaN() }
