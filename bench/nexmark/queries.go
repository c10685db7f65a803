package main

import (
	"embed"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

//go:embed queries
var queryFiles embed.FS

// query is one Nexmark query. A query file may start with statements that
// set up what the query needs (q13's side table), each ending in a
// semicolon at the end of a line; its last statement is the query.
type query struct {
	name     string
	setup    []string // kappa statements to run before the query
	kappa    string   // kappa SQL
	pgSetup  []string
	postgres string // the same in plain PostgreSQL SQL
	// check, when set, is what the comparison with PostgreSQL runs over
	// the query's rows (relation q) instead of comparing them: for a query
	// whose answer depends on when it ran (q12's processing time).
	check   string
	sources []string
}

// splitStatements splits a query file into its setup statements and its
// query.
func splitStatements(text string) (setup []string, last string) {
	var stmts []string
	for _, part := range strings.SplitAfter(text, ";\n") {
		st := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(part), ";"))
		code := false
		for _, line := range strings.Split(st, "\n") {
			if l := strings.TrimSpace(line); l != "" && !strings.HasPrefix(l, "--") {
				code = true
			}
		}
		if code {
			stmts = append(stmts, st)
		}
	}
	if len(stmts) == 0 {
		return nil, ""
	}
	return stmts[:len(stmts)-1], stmts[len(stmts)-1]
}

// queries returns every query in queries/, in numeric order.
func queries() ([]query, error) {
	ents, err := queryFiles.ReadDir("queries")
	if err != nil {
		return nil, err
	}
	var out []query
	for _, e := range ents {
		name, ok := strings.CutSuffix(e.Name(), ".sql")
		if !ok || e.IsDir() {
			continue
		}
		k, err := queryFiles.ReadFile("queries/" + e.Name())
		if err != nil {
			return nil, err
		}
		q := query{name: name}
		q.setup, q.kappa = splitStatements(string(k))
		q.pgSetup, q.postgres = q.setup, q.kappa
		if p, err := queryFiles.ReadFile("queries/postgres/" + e.Name()); err == nil {
			q.pgSetup, q.postgres = splitStatements(string(p))
		}
		if c, err := queryFiles.ReadFile("queries/check/" + e.Name()); err == nil {
			q.check = string(c)
		}
		for _, s := range []string{"person", "auction", "bid"} {
			if strings.Contains(q.kappa, s) {
				q.sources = append(q.sources, s)
			}
		}
		out = append(out, q)
	}
	sort.Slice(out, func(i, j int) bool { return queryNumber(out[i].name) < queryNumber(out[j].name) })
	return out, nil
}

func queryNumber(name string) int {
	n, _ := strconv.Atoi(strings.TrimPrefix(name, "q"))
	return n
}

// sourceDDL creates the Nexmark source kind in kappa with the given extra
// options.
func sourceDDL(kind string, opts string) string {
	return fmt.Sprintf("CREATE SOURCE %s WITH (connector = 'nexmark', nexmark.table.type = '%s'%s)", kind, kind, opts)
}

// postgresDDL are the tables that hold a copy of the events in PostgreSQL.
var postgresDDL = []string{
	`CREATE TABLE person (id bigint, name varchar, email_address varchar, credit_card varchar, city varchar, state varchar, date_time timestamp, extra varchar)`,
	`CREATE TABLE auction (id bigint, item_name varchar, description varchar, initial_bid bigint, reserve bigint, date_time timestamp, expires timestamp, seller bigint, category bigint, extra varchar)`,
	`CREATE TABLE bid (auction bigint, bidder bigint, price bigint, channel varchar, url varchar, date_time timestamp, extra varchar)`,
}
