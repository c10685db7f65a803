package clienttest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kappa-db/kappa/internal/pgtest"
	"github.com/kappa-db/kappa/server"
)

// schema is created on both servers. On PostgreSQL the materialized view is
// one too (refreshed after the inserts, which kappa's needs no REFRESH for).
const schema = `
CREATE TABLE bids (id bigint PRIMARY KEY, auction bigint NOT NULL, price numeric(10,2) DEFAULT 0, bidder varchar(20), placed timestamptz);
CREATE TABLE notes (a integer, b text);
CREATE TABLE pair (x integer, y integer, label text NOT NULL, PRIMARY KEY (y, x));
CREATE VIEW big_bids AS SELECT id, price FROM bids WHERE price > 10;
CREATE MATERIALIZED VIEW stats AS SELECT auction, count(*) AS n FROM bids GROUP BY auction;
INSERT INTO bids VALUES (1, 10, 100, 'ann', '2024-01-02 03:04:05+00'), (2, 10, 250.5, 'bob', NULL), (3, 20, 75, NULL, NULL);
INSERT INTO notes VALUES (1, 'one'), (2, NULL);
`

var matviewName = regexp.MustCompile(`CREATE MATERIALIZED VIEW (\w+)`)

func psqlPath(t *testing.T) string {
	for _, p := range []string{"/usr/lib/postgresql/15/bin/psql"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("psql"); err == nil {
		return p
	}
	if os.Getenv("KAPPA_REQUIRE_PG") == "1" {
		t.Fatal("psql is not installed")
	}
	t.Skip("psql is not installed")
	return ""
}

// target is one server psql talks to.
type target struct {
	name, conninfo string
	// host, port, user and db are conninfo's parts, for the clients that
	// take a URL or separate parameters instead.
	host, port, user, db string
}

// run runs psql with commands (one -c each) and returns what it printed,
// stdout and stderr together, as a user would see them.
func (tg target) run(t *testing.T, psql string, cmds ...string) string {
	t.Helper()
	args := []string{"-X", "-d", tg.conninfo, "-v", "ON_ERROR_STOP=0"}
	for _, c := range cmds {
		args = append(args, "-c", c)
	}
	cmd := exec.Command(psql, args...)
	cmd.Env = append(os.Environ(), "PGCONNECT_TIMEOUT=10", "PGTZ=UTC", "PAGER=", "PSQL_PAGER=", "COLUMNS=200")
	out, _ := cmd.CombinedOutput()
	return string(out)
}

func startBoth(t *testing.T, psql, schema string) (kappa, pg target) {
	t.Helper()
	ctx := context.Background()
	srv, err := server.Start(ctx, server.Config{DataDir: t.TempDir(), Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatalf("start kappa: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shut down kappa: %v", err)
		}
	})
	host, port, _ := strings.Cut(srv.Addr(), ":")
	kappa = target{"kappa", "host=" + host + " port=" + port + " user=kappa dbname=kappa sslmode=disable", host, port, "kappa", "kappa"}

	p := pgtest.Start(t)
	// kappa's bootstrap role and database are both "kappa": PostgreSQL gets
	// the same, so that owners and database names need no normalising.
	pgPort := strconv.Itoa(p.Port)
	admin := target{"postgres", "host=" + p.Host + " port=" + pgPort + " user=" + pgtest.User + " dbname=postgres sslmode=disable", p.Host, pgPort, pgtest.User, "postgres"}
	out := admin.run(t, psql,
		"CREATE ROLE kappa SUPERUSER CREATEDB CREATEROLE REPLICATION BYPASSRLS LOGIN",
		"CREATE DATABASE kappa OWNER kappa")
	if strings.Contains(out, "ERROR") {
		t.Fatalf("prepare PostgreSQL: %s", out)
	}
	pg = target{"postgresql", "host=" + p.Host + " port=" + pgPort + " user=kappa dbname=kappa sslmode=disable", p.Host, pgPort, "kappa", "kappa"}

	for _, tg := range []target{kappa, pg} {
		out := tg.run(t, psql, schema)
		if strings.Contains(out, "ERROR") {
			t.Fatalf("schema on %s: %s", tg.name, out)
		}
	}
	// PostgreSQL's materialized views hold their rows as of the last
	// REFRESH; kappa's are current already.
	for _, m := range matviewName.FindAllStringSubmatch(schema, -1) {
		if out := pg.run(t, psql, "REFRESH MATERIALIZED VIEW "+m[1]); strings.Contains(out, "ERROR") {
			t.Fatalf("refresh on PostgreSQL: %s", out)
		}
	}
	return kappa, pg
}

// Normalisations, each for a difference that must be there.
var (
	// The view definition is PostgreSQL's deparse of its rule tree
	// (ruleutils.c); kappa prints its own formatting of the stored query.
	// Both are valid SQL for the same query; the text differs.
	viewDefinition = regexp.MustCompile(`(?s)View definition:\n.*?;\n`)
)

func normalize(s string) string {
	return viewDefinition.ReplaceAllString(s, "View definition: <query>\n")
}

// TestPsql runs psql's describe commands, \x and \copy against kappa and
// PostgreSQL with the same schema and compares the outputs.
func TestPsql(t *testing.T) {
	psql := psqlPath(t)
	kappa, pg := startBoth(t, psql, schema)
	cases := []struct {
		name string
		cmds []string
		// only keeps the lines matching it (nil: all); see each use.
		only *regexp.Regexp
	}{
		{name: "d", cmds: []string{`\d`}},
		{name: "dt", cmds: []string{`\dt`}},
		{name: "dv", cmds: []string{`\dv`}},
		{name: "dm", cmds: []string{`\dm`}},
		{name: "d bids", cmds: []string{`\d bids`}},
		{name: "d+ bids", cmds: []string{`\d+ bids`}},
		{name: "d notes", cmds: []string{`\d notes`}},
		{name: "d+ pair", cmds: []string{`\d+ pair`}},
		{name: "d pair_pkey", cmds: []string{`\d pair_pkey`}},
		{name: "d big_bids", cmds: []string{`\d big_bids`}},
		{name: "d+ big_bids", cmds: []string{`\d+ big_bids`}},
		{name: "d stats", cmds: []string{`\d stats`}},
		{name: "d nope", cmds: []string{`\d nope`}},
		{name: "dt pattern", cmds: []string{`\dt b*`}},
		{name: "dn", cmds: []string{`\dn`}},
		{name: "df", cmds: []string{`\df`}},
		// PostgreSQL also has the databases postgres, template0 and
		// template1; kappa has one database. Compare the one they share.
		{name: "l", cmds: []string{`\l`}, only: regexp.MustCompile(`^ kappa |Name|^-`)},
		// PostgreSQL also has its bootstrap superuser postgres, which the
		// test connects as to create role kappa.
		{name: "du", cmds: []string{`\du`}, only: regexp.MustCompile(`^ kappa |Role name|^-`)},
		{name: "x", cmds: []string{`\x`, `SELECT * FROM bids ORDER BY id`}},
		{name: "x stats", cmds: []string{`\x on`, `SELECT * FROM stats ORDER BY auction`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := normalize(pg.run(t, psql, c.cmds...))
			got := normalize(kappa.run(t, psql, c.cmds...))
			if c.only != nil {
				// The other servers' rows also set the column widths.
				want, got = squeeze(keepLines(want, c.only)), squeeze(keepLines(got, c.only))
			}
			if got != want {
				t.Errorf("psql %q:\n--- PostgreSQL\n%s\n--- kappa\n%s", c.cmds, want, got)
			}
		})
	}

	t.Run("copy", func(t *testing.T) {
		dir := t.TempDir()
		in := filepath.Join(dir, "in.csv")
		if err := os.WriteFile(in, []byte("10,ten\n11,\"a, b\"\n12,\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		var outs [2]string
		for i, tg := range []target{pg, kappa} {
			out := filepath.Join(dir, tg.name+".out")
			printed := tg.run(t, psql,
				`\copy notes FROM '`+in+`' WITH (FORMAT csv)`,
				`\copy (SELECT * FROM notes ORDER BY a) TO '`+out+`' WITH (FORMAT csv, HEADER)`,
				`\copy bids TO STDOUT`,
				`SELECT count(*) FROM notes`)
			data, err := os.ReadFile(out)
			if err != nil {
				t.Fatalf("%s: %v (psql printed %s)", tg.name, err, printed)
			}
			outs[i] = printed + "\n--- file\n" + string(data)
		}
		if outs[0] != outs[1] {
			t.Errorf("\\copy:\n--- PostgreSQL\n%s\n--- kappa\n%s", outs[0], outs[1])
		}
	})
}

var cellSpace = regexp.MustCompile(`\s*\|\s*|-+\+[-+]*`)

// squeeze removes the padding of an aligned table's cells.
func squeeze(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSpace(cellSpace.ReplaceAllString(l, "|"))
	}
	return strings.Join(lines, "\n")
}

func keepLines(s string, re *regexp.Regexp) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if re.MatchString(l) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestPsqlShow prints what psql shows on kappa (go test -run TestPsqlShow -v).
func TestPsqlShow(t *testing.T) {
	if os.Getenv("KAPPA_PSQL_SHOW") == "" {
		t.Skip("set KAPPA_PSQL_SHOW=1")
	}
	psql := psqlPath(t)
	kappa, _ := startBoth(t, psql, schema)
	t.Log(kappa.run(t, psql, `\d`, `\d+ bids`, `\d pair_pkey`, `\d+ big_bids`, `\d stats`, `\l`, `\du`, `\x`, `SELECT * FROM bids ORDER BY id`))
}

// TestPsqlDescribeTime times psql's \d+ of a table, \d and \dt (one psql
// process each run, so its startup is included) on kappa and on
// PostgreSQL, N runs each, interleaved:
// KAPPA_PSQL_BENCH=N go test ./internal/clienttest -run TestPsqlDescribeTime -v
func TestPsqlDescribeTime(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("KAPPA_PSQL_BENCH"))
	if n <= 0 {
		t.Skip("set KAPPA_PSQL_BENCH=N")
	}
	psql := psqlPath(t)
	kappa, pg := startBoth(t, psql, schema)
	var total [2]time.Duration
	for i := 0; i < n; i++ {
		for j, tg := range []target{kappa, pg} {
			start := time.Now()
			tg.run(t, psql, `\d+ bids`, `\d`, `\dt`)
			total[j] += time.Since(start)
		}
	}
	t.Logf("psql -c '\\d+ bids' -c '\\d' -c '\\dt' (one psql process), mean of %d runs: kappa %v, PostgreSQL %v",
		n, total[0]/time.Duration(n), total[1]/time.Duration(n))
}
