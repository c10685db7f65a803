package server_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/kappa-db/kappa/server"
)

// TestCopyAndSettings drives COPY in and out (text and CSV with a header)
// and a reported setting through pgwire against a real server: what the
// README promises for \copy and COPY ... TO STDOUT.
func TestCopyAndSettings(t *testing.T) {
	ctx := context.Background()
	srv := startServer(t, server.Config{})
	conn := connect(t, srv)
	exec := func(sql string) {
		t.Helper()
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	exec("CREATE TABLE t (id int PRIMARY KEY, name text, note text DEFAULT 'none')")
	exec("CREATE MATERIALIZED VIEW n AS SELECT count(*) AS rows FROM t")

	text := "1\tann\tx\n2\t\\N\ty\n"
	tag, err := conn.PgConn().CopyFrom(ctx, strings.NewReader(text), "COPY t FROM STDIN")
	if err != nil || tag.RowsAffected() != 2 {
		t.Fatalf("COPY text: %v %v", tag, err)
	}
	csv := "id,name\n3,\"c, d\"\n4,\n"
	tag, err = conn.PgConn().CopyFrom(ctx, strings.NewReader(csv), "COPY t (id, name) FROM STDIN WITH (FORMAT csv, HEADER)")
	if err != nil || tag.RowsAffected() != 2 {
		t.Fatalf("COPY csv: %v %v", tag, err)
	}
	// A bad line rejects the whole COPY.
	if _, err := conn.PgConn().CopyFrom(ctx, strings.NewReader("5\te\tz\nsix\tf\tz\n"), "COPY t FROM STDIN"); err == nil {
		t.Fatal("COPY with a bad integer succeeded")
	}

	var out bytes.Buffer
	if _, err := conn.PgConn().CopyTo(ctx, &out, "COPY (SELECT id, name, note FROM t ORDER BY id) TO STDOUT WITH (FORMAT csv, HEADER)"); err != nil {
		t.Fatal(err)
	}
	want := "id,name,note\n1,ann,x\n2,,y\n3,\"c, d\",none\n4,,none\n"
	if out.String() != want {
		t.Fatalf("COPY TO:\n%s\nwant:\n%s", out.String(), want)
	}
	out.Reset()
	if _, err := conn.PgConn().CopyTo(ctx, &out, "COPY t (id) TO STDOUT"); err != nil {
		t.Fatal(err)
	}
	if got := strings.Fields(out.String()); len(got) != 4 {
		t.Fatalf("COPY t (id) TO STDOUT gave %q", out.String())
	}
	var rows int64
	if err := conn.QueryRow(ctx, "SELECT rows FROM n").Scan(&rows); err != nil || rows != 4 {
		t.Fatalf("view after COPY: %d %v", rows, err)
	}

	exec("SET TimeZone = 'America/New_York'")
	if got := conn.PgConn().ParameterStatus("TimeZone"); got != "America/New_York" {
		t.Fatalf("ParameterStatus TimeZone = %q", got)
	}
	var tz string
	if err := conn.QueryRow(ctx, "SHOW timezone").Scan(&tz); err != nil || tz != "America/New_York" {
		t.Fatalf("SHOW timezone = %q %v", tz, err)
	}
}
