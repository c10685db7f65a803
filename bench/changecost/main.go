package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/kappa-db/kappa/internal/benchutil"
	"github.com/kappa-db/kappa/internal/pgtest"
	"github.com/kappa-db/kappa/server"
)

func main() {
	benchutil.Main("changecost", (&Main{Stdout: os.Stdout, Stderr: os.Stderr}).Run)
}

// Main is the program, separate from main so that a test can run it small.
type Main struct {
	Stdout io.Writer
	Stderr io.Writer // progress; nil discards it
}

type config struct {
	rows, regions       int
	trials, pgTrials    int
	dir                 string
	barrier             time.Duration
	skipPostgres, quiet bool
}

const viewQuery = `SELECT c.region, count(*) AS orders, sum(o.amount) AS total
  FROM orders o JOIN customers c ON o.customer = c.id GROUP BY c.region`

var schema = []string{
	"CREATE TABLE customers (id bigint PRIMARY KEY, region int NOT NULL, name text NOT NULL)",
	"CREATE TABLE orders (id bigint PRIMARY KEY, customer bigint NOT NULL, amount bigint NOT NULL)",
}

// Run parses args, loads both servers, measures and prints a table.
func (m *Main) Run(ctx context.Context, args []string) error {
	fl := flag.NewFlagSet("changecost", flag.ContinueOnError)
	var c config
	fl.IntVar(&c.rows, "rows", 1_000_000, "rows in each table")
	fl.IntVar(&c.regions, "regions", 100, "groups of the view")
	fl.IntVar(&c.trials, "trials", 30, "kappa: updates measured in each way")
	fl.IntVar(&c.pgTrials, "pg-trials", 3, "PostgreSQL: update + REFRESH runs")
	fl.StringVar(&c.dir, "dir", os.TempDir(), "directory for kappa's temporary data directory")
	fl.DurationVar(&c.barrier, "barrier", 0, "kappa's barrier interval (0: the default, 20ms)")
	fl.BoolVar(&c.skipPostgres, "no-pg", false, "measure kappa only")
	if err := fl.Parse(args); err != nil {
		return err
	}
	if c.rows < c.regions || c.regions < 1 || c.trials < 1 || c.pgTrials < 1 {
		return errors.New("-rows ≥ -regions ≥ 1, and -trials and -pg-trials ≥ 1")
	}
	progress := func(format string, args ...any) {
		if m.Stderr != nil {
			fmt.Fprintf(m.Stderr, "%s  "+format+"\n", append([]any{time.Now().Format("15:04:05.000")}, args...)...)
		}
	}
	load0 := benchutil.LoadAverage()
	customers, orders := data(c.rows, c.regions)

	dataDir, err := os.MkdirTemp(c.dir, "kappa-changecost-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dataDir)
	srv, err := server.Start(ctx, server.Config{DataDir: dataDir, Listen: "127.0.0.1:0", BarrierInterval: c.barrier})
	if err != nil {
		return fmt.Errorf("start kappa: %w", err)
	}
	defer srv.Close()
	kdsn := fmt.Sprintf("postgres://kappa@%s/kappa?sslmode=disable", srv.Addr())
	var res results

	// kappa: the view first, then the data streams through it.
	k, err := pgx.Connect(ctx, kdsn)
	if err != nil {
		return err
	}
	defer k.Close(ctx)
	if err := execAll(ctx, k, append(schema, "CREATE MATERIALIZED VIEW region_sales AS "+viewQuery)...); err != nil {
		return fmt.Errorf("kappa: %w", err)
	}
	progress("kappa: COPY %d customers and %d orders into tables that feed region_sales", c.rows, c.rows)
	start := time.Now()
	if err := copyIn(ctx, k, "customers", customers); err != nil {
		return fmt.Errorf("kappa: %w", err)
	}
	if err := copyIn(ctx, k, "orders", orders); err != nil {
		return fmt.Errorf("kappa: %w", err)
	}
	if err := waitForCount(ctx, k, c.rows); err != nil {
		return fmt.Errorf("kappa: %w", err)
	}
	load := time.Since(start)
	progress("kappa: the view holds all %d orders after %v", c.rows, load.Round(time.Millisecond))
	res.add("kappa: COPY both tables until the view holds every order", load, "")

	ryw, poll, err := measureKappa(ctx, c, k, kdsn)
	if err != nil {
		return fmt.Errorf("kappa: %w", err)
	}
	res.add("kappa: UPDATE → the view shows it, read-your-writes (p50)", ryw.percentile(0.5), fmt.Sprintf("p99 %v, max %v", ms(ryw.percentile(0.99)), ms(ryw.percentile(1))))
	res.add("kappa: UPDATE → the view shows it, another session polling (p50)", poll.percentile(0.5), fmt.Sprintf("p99 %v, max %v", ms(poll.percentile(0.99)), ms(poll.percentile(1))))

	var refresh latencies
	if !c.skipPostgres {
		pg, err := pgtest.StartProcess(pgtest.Options{Durable: true})
		if err != nil {
			return fmt.Errorf("start PostgreSQL: %w", err)
		}
		defer pg.Stop()
		p, err := pgx.Connect(ctx, pg.DSN("postgres"))
		if err != nil {
			return err
		}
		defer p.Close(ctx)
		progress("PostgreSQL: COPY the same rows, CREATE MATERIALIZED VIEW, VACUUM ANALYZE")
		if err := execAll(ctx, p, schema...); err != nil {
			return fmt.Errorf("PostgreSQL: %w", err)
		}
		if err := copyIn(ctx, p, "customers", customers); err != nil {
			return fmt.Errorf("PostgreSQL: %w", err)
		}
		if err := copyIn(ctx, p, "orders", orders); err != nil {
			return fmt.Errorf("PostgreSQL: %w", err)
		}
		if err := execAll(ctx, p, "CREATE MATERIALIZED VIEW region_sales AS "+viewQuery, "VACUUM ANALYZE"); err != nil {
			return fmt.Errorf("PostgreSQL: %w", err)
		}
		// The updates kappa had, untimed; then the timed ones, which kappa
		// gets afterwards, so that the two views can be compared.
		for i := 0; i < 2*c.trials; i++ {
			if _, err := p.Exec(ctx, update, orderID(c, i)); err != nil {
				return fmt.Errorf("PostgreSQL: %w", err)
			}
		}
		if refresh, err = measurePostgres(ctx, c, p); err != nil {
			return fmt.Errorf("PostgreSQL: %w", err)
		}
		for i := 2 * c.trials; i < 2*c.trials+c.pgTrials; i++ {
			if _, err := k.Exec(ctx, update, orderID(c, i)); err != nil {
				return fmt.Errorf("kappa: %w", err)
			}
		}
		res.add("PostgreSQL: UPDATE + REFRESH MATERIALIZED VIEW (median)", refresh.percentile(0.5), fmt.Sprintf("runs: %s", refresh))
		if err := sameView(ctx, k, p); err != nil {
			return err
		}
		progress("the two views are equal")
		if r := ryw.percentile(0.5); r > 0 {
			res.note("PostgreSQL's refresh / kappa's read-your-writes p50: %.0f× (target ≥ 100×); / kappa's other-session p50: %.0f×",
				float64(refresh.percentile(0.5))/float64(r), float64(refresh.percentile(0.5))/float64(poll.percentile(0.5)))
		}
	}
	res.note("target: kappa under 10 ms, and at least 100× faster than the refresh")
	res.note("%d rows a table, %d groups; %d CPUs shared by kappa, PostgreSQL and the clients; 1-minute load average %s at the start, %s at the end",
		c.rows, c.regions, runtime.NumCPU(), load0, benchutil.LoadAverage())
	return res.print(m.Stdout)
}

// data makes the two tables as COPY text: customer i is in region
// i % regions; order i belongs to customer (i * p) % rows for a p prime to
// rows (a permutation), with an amount of i % 1000.
func data(rows, regions int) (customers, orders []byte) {
	p := permutation(rows)
	var cb, ob bytes.Buffer
	for i := 0; i < rows; i++ {
		fmt.Fprintf(&cb, "%d\t%d\tcustomer-%d\n", i, i%regions, i)
		fmt.Fprintf(&ob, "%d\t%d\t%d\n", i, (i*p)%rows, i%1000)
	}
	return cb.Bytes(), ob.Bytes()
}

// permutation returns a p prime to rows: i -> (i * p) % rows permutes
// 0..rows-1.
func permutation(rows int) int {
	p := 7919
	for gcd(p, rows) != 1 {
		p += 2
	}
	return p
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func copyIn(ctx context.Context, conn *pgx.Conn, table string, data []byte) error {
	_, err := conn.PgConn().CopyFrom(ctx, bytes.NewReader(data), "COPY "+table+" FROM STDIN")
	if err != nil {
		return fmt.Errorf("COPY %s: %w", table, err)
	}
	return nil
}

func execAll(ctx context.Context, conn *pgx.Conn, stmts ...string) error {
	for _, s := range stmts {
		if _, err := conn.Exec(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return nil
}

// waitForCount waits until the view counts every order.
func waitForCount(ctx context.Context, conn *pgx.Conn, rows int) error {
	for {
		var n int64
		if err := conn.QueryRow(ctx, "SELECT coalesce(sum(orders), 0) FROM region_sales").Scan(&n); err != nil {
			return err
		}
		if n == int64(rows) {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// regionOf returns the region of order id (from how data made the rows)
// and the region's current total in the view.
func regionOf(ctx context.Context, c config, conn *pgx.Conn, id int) (region int32, total int64, err error) {
	region = int32((id * permutation(c.rows)) % c.rows % c.regions)
	total, err = viewTotal(ctx, conn, region)
	return region, total, err
}

func viewTotal(ctx context.Context, conn *pgx.Conn, region int32) (int64, error) {
	var total int64
	err := conn.QueryRow(ctx, "SELECT total FROM region_sales WHERE region = $1", region).Scan(&total)
	return total, err
}

// orderID is the order the i'th update changes, spread over the table.
func orderID(c config, i int) int { return (i * 104729) % c.rows }

const update = "UPDATE orders SET amount = amount + 1 WHERE id = $1"

// measureKappa times c.trials updates seen by the writer (read-your-writes)
// and c.trials seen by a second session that polls.
func measureKappa(ctx context.Context, c config, k *pgx.Conn, dsn string) (ryw, poll latencies, err error) {
	other, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, nil, err
	}
	defer other.Close(ctx)
	for i := 0; i < 2*c.trials; i++ {
		id := orderID(c, i)
		region, before, err := regionOf(ctx, c, k, id)
		if err != nil {
			return nil, nil, err
		}
		if i%2 == 0 {
			start := time.Now()
			if _, err := k.Exec(ctx, update, id); err != nil {
				return nil, nil, err
			}
			for {
				total, err := viewTotal(ctx, k, region)
				if err != nil {
					return nil, nil, err
				}
				if total == before+1 {
					break
				}
			}
			ryw = append(ryw, time.Since(start))
			continue
		}
		// The other session's first poll happens before the UPDATE.
		seen := make(chan time.Time, 1)
		errc := make(chan error, 1)
		started := make(chan struct{})
		go func() {
			first := true
			for {
				total, err := viewTotal(ctx, other, region)
				if err != nil {
					errc <- err
					return
				}
				if first {
					close(started)
					first = false
				}
				if total == before+1 {
					seen <- time.Now()
					return
				}
			}
		}()
		<-started
		start := time.Now()
		if _, err := k.Exec(ctx, update, id); err != nil {
			return nil, nil, err
		}
		select {
		case t := <-seen:
			poll = append(poll, t.Sub(start))
		case err := <-errc:
			return nil, nil, err
		case <-time.After(30 * time.Second):
			return nil, nil, fmt.Errorf("the other session did not see order %d's update in 30 s", id)
		}
	}
	return ryw, poll, nil
}

func measurePostgres(ctx context.Context, c config, p *pgx.Conn) (latencies, error) {
	var l latencies
	for i := 2 * c.trials; i < 2*c.trials+c.pgTrials; i++ {
		id := orderID(c, i)
		start := time.Now()
		if _, err := p.Exec(ctx, update, id); err != nil {
			return nil, err
		}
		if _, err := p.Exec(ctx, "REFRESH MATERIALIZED VIEW region_sales"); err != nil {
			return nil, err
		}
		l = append(l, time.Since(start))
	}
	return l, nil
}

// sameView checks that kappa's view equals PostgreSQL's refreshed one: after
// all the updates, both must hold the same totals.
func sameView(ctx context.Context, k, p *pgx.Conn) error {
	read := func(conn *pgx.Conn) (string, error) {
		rows, err := conn.Query(ctx, "SELECT region, orders, total::text FROM region_sales ORDER BY region")
		if err != nil {
			return "", err
		}
		var b strings.Builder
		for rows.Next() {
			var r int32
			var n int64
			var t string
			if err := rows.Scan(&r, &n, &t); err != nil {
				return "", err
			}
			fmt.Fprintf(&b, "%d %d %s\n", r, n, t)
		}
		return b.String(), rows.Err()
	}
	kv, err := read(k)
	if err != nil {
		return fmt.Errorf("kappa: %w", err)
	}
	pv, err := read(p)
	if err != nil {
		return fmt.Errorf("PostgreSQL: %w", err)
	}
	if kv != pv {
		return fmt.Errorf("kappa's view differs from PostgreSQL's after the same updates:\nkappa:\n%s\nPostgreSQL:\n%s", kv, pv)
	}
	return nil
}

type latencies []time.Duration

func (l latencies) percentile(q float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	s := append(latencies(nil), l...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(q*float64(len(s))+0.999999) - 1
	return s[max(0, min(i, len(s)-1))]
}

func (l latencies) String() string {
	parts := make([]string, len(l))
	for i, d := range l {
		parts[i] = ms(d)
	}
	return strings.Join(parts, ", ")
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

type results struct {
	rows  [][3]string
	notes []string
}

func (r *results) add(what string, d time.Duration, detail string) {
	r.rows = append(r.rows, [3]string{what, ms(d), detail})
}

func (r *results) note(format string, args ...any) {
	r.notes = append(r.notes, fmt.Sprintf(format, args...))
}

func (r *results) print(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, row := range r.rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", row[0], row[1], row[2])
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, n := range r.notes {
		if _, err := fmt.Fprintln(w, n); err != nil {
			return err
		}
	}
	return nil
}
