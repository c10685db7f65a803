package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kappa-db/kappa/internal/pgtest"
)

func TestPercentile(t *testing.T) {
	var l latencies
	for i := 1; i <= 100; i++ {
		l = append(l, time.Duration(101-i)*time.Millisecond)
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 50 * time.Millisecond}, {0.99, 99 * time.Millisecond}, {1, 100 * time.Millisecond}, {0.001, time.Millisecond}} {
		if got := l.percentile(c.q); got != c.want {
			t.Errorf("percentile(%v) = %v, want %v", c.q, got, c.want)
		}
	}
	if got := latencies(nil).percentile(0.5); got != 0 {
		t.Errorf("percentile of nothing = %v", got)
	}
}

func TestIngestData(t *testing.T) {
	data, sum := ingestData(2000)
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines) != 2000 {
		t.Fatalf("%d lines", len(lines))
	}
	if got := lines[1001]; !strings.HasPrefix(got, "1001\t1\t") || !strings.HasSuffix(got, "\tpayload-1001") {
		t.Errorf("line 1001 = %q", got)
	}
	if sum == 0 {
		t.Error("sum of v is 0: the check on the view's total would be weak")
	}
}

func TestGroupThousands(t *testing.T) {
	for in, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", -1234567: "-1,234,567"} {
		if got := groupThousands(in); got != want {
			t.Errorf("groupThousands(%d) = %q, want %q", in, got, want)
		}
	}
}

// TestRunSmall runs every benchmark with tiny sizes, so that the program
// keeps working as kappa changes.
func TestRunSmall(t *testing.T) {
	if testing.Short() {
		t.Skip("starts kappa and PostgreSQL")
	}
	var out bytes.Buffer
	err := (&Main{Stdout: &out}).Run(context.Background(), []string{
		"-dir", t.TempDir(), "-rows", "3000", "-ingest-runs", "1",
		"-fresh-rate", "500", "-fresh-duration", "400ms", "-fresh-sample", "5",
		"-point-keys", "1000", "-point-clients", "2", "-point-duration", "300ms", "-point-warmup", "50ms",
	})
	if errors.Is(err, pgtest.ErrNotInstalled) && os.Getenv(pgtest.RequireEnv) != "1" {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| ingest ", "| freshness ", "| point ", "kappa/PG >= 1.0"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}
