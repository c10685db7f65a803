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

// query is one Nexmark query.
type query struct {
	name     string
	kappa    string // kappa SQL
	postgres string // the same in plain PostgreSQL SQL
	sources  []string
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
		q := query{name: name, kappa: string(k), postgres: string(k)}
		if p, err := queryFiles.ReadFile("queries/postgres/" + e.Name()); err == nil {
			q.postgres = string(p)
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
