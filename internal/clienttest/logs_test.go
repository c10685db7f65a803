package clienttest

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// clientsDir holds what psql 15, pgjdbc 42.5 and SQLAlchemy 1.4 sent to a
// PostgreSQL server: $KAPPA_CLIENT_LOGS, or shared/clients in the nearest
// directory above the package that has one (../shared/clients beside the
// repository).
var clientsDir = func() string {
	if d := os.Getenv("KAPPA_CLIENT_LOGS"); d != "" {
		return d
	}
	dir, _ := filepath.Abs(".")
	for {
		c := filepath.Join(dir, "shared", "clients")
		if _, err := os.Stat(c); err == nil {
			return c
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return filepath.Join("..", "..", "..", "shared", "clients")
		}
		dir = parent
	}
}()

// logSchema is the schema the logged sessions ran against: the logs name
// bids (OID 16384 there) and t (16389).
const logSchema = `
CREATE TABLE bids (id bigint PRIMARY KEY, auction bigint NOT NULL, price bigint DEFAULT 0, bidder text);
CREATE TABLE t (k int PRIMARY KEY, v varchar(10));
`

var versionLine = regexp.MustCompile(`PostgreSQL 15\.`)

// loggedStatements reads the statements of the client logs, with the
// parameters of extended-protocol executions substituted.
func loggedStatements(t *testing.T) []string {
	var out []string
	for _, f := range []string{"psql-describe-queries.txt", "psql-describe-table.txt"} {
		data, err := os.ReadFile(filepath.Join(clientsDir, f))
		if err != nil {
			t.Skipf("client logs not found: %v", err)
		}
		var cur []string
		flush := func() {
			if s := strings.TrimSpace(strings.Join(cur, "\n")); s != "" {
				out = append(out, s)
			}
			cur = nil
		}
		for _, l := range strings.Split(string(data), "\n") {
			switch {
			case strings.HasPrefix(l, "==="):
			case strings.TrimSpace(l) == "----":
				flush()
			default:
				cur = append(cur, l)
			}
		}
		flush()
	}
	entry := regexp.MustCompile(`(?m)^\S+ \S+ UTC \[\d+\] (LOG|DETAIL):  (?:execute <unnamed>: |statement: |parameters: )`)
	param := regexp.MustCompile(`\$(\d+) = '([^']*)'`)
	for _, f := range []string{"pgjdbc-session.log", "sqlalchemy-psycopg2-session.log"} {
		data, err := os.ReadFile(filepath.Join(clientsDir, f))
		if err != nil {
			t.Skipf("client logs not found: %v", err)
		}
		text := string(data)
		locs := entry.FindAllStringSubmatchIndex(text, -1)
		for i, m := range locs {
			end := len(text)
			if i+1 < len(locs) {
				end = locs[i+1][0]
			}
			body := text[m[1]:end]
			if text[m[2]:m[3]] == "DETAIL" {
				last := out[len(out)-1]
				for _, p := range param.FindAllStringSubmatch(body, -1) {
					last = strings.ReplaceAll(last, "$"+p[1], "'"+p[2]+"'")
				}
				out[len(out)-1] = last
				continue
			}
			lines := strings.Split(body, "\n")
			for j, l := range lines {
				lines[j] = strings.TrimPrefix(l, "\t")
			}
			if s := strings.TrimSpace(strings.Join(lines, "\n")); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

// TestClientLogs runs every statement that psql, pgjdbc and SQLAlchemy sent
// in the logged sessions against kappa and PostgreSQL with the logs' schema,
// and compares the results. The logs' OIDs of bids and t become each
// server's own, and each server's OIDs of them print as <bids> and <t>:
// OIDs are assigned differently and mean nothing to compare.
func TestClientLogs(t *testing.T) {
	stmts := loggedStatements(t)
	psql := psqlPath(t)
	kappa, pg := startBoth(t, psql, logSchema)
	oids := func(tg target) (bids, tt string) {
		out := tg.run(t, psql, `SELECT 'bids'::regclass::oid || ' ' || 't'::regclass::oid`)
		f := strings.Fields(strings.Split(out, "\n")[2])
		return f[0], f[1]
	}
	kb, kt := oids(kappa)
	pb, pt := oids(pg)
	for i, s := range stmts {
		if strings.HasPrefix(s, "BEGIN") || strings.HasPrefix(s, "ROLLBACK") {
			continue // each statement runs in a session of its own
		}
		run := func(tg target, bids, tt string) string {
			q := strings.NewReplacer("16384", bids, "16389", tt).Replace(s)
			out := tg.run(t, psql, q)
			out = regexp.MustCompile(`\b`+bids+`\b`).ReplaceAllString(out, "<bids>")
			return regexp.MustCompile(`\b`+tt+`\b`).ReplaceAllString(out, "<t>")
		}
		want, got := run(pg, pb, pt), run(kappa, kb, kt)
		switch {
		case s == "show transaction isolation level":
			// kappa runs every statement serializably (one snapshot of
			// the last committed epoch); PostgreSQL's default is read
			// committed.
			continue
		case strings.Contains(s, "version()"):
			// The build and compiler differ; the release both claim is 15.
			want, got = versionLine.FindString(want), versionLine.FindString(got)
		case strings.Contains(s, "FROM pg_catalog.pg_database d"):
			// PostgreSQL also has the databases postgres, template0 and
			// template1, which set the column widths too.
			only := regexp.MustCompile(`^ kappa |Name`)
			want, got = squeeze(keepLines(want, only)), squeeze(keepLines(got, only))
		}
		if got != want {
			t.Errorf("statement %d:\n%s\n--- PostgreSQL\n%s\n--- kappa\n%s", i, s, want, got)
		}
	}
}
