package server_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/kappa-db/kappa/server"
)

// TestTemporalFilter watches a temporal filter over pgwire: rows enter a
// view when their time comes and leave it when it passes, with no write
// to drive the epochs, and the filter's state is empty once every row has
// left. A second view aggregates the same rows and must agree with the
// first in every snapshot.
func TestTemporalFilter(t *testing.T) {
	ctx := context.Background()
	srv := startServer(t, server.Config{})
	conn := connect(t, srv)
	exec := func(sql string) {
		t.Helper()
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	exec(`CREATE TABLE ev (id int, ts timestamptz, v int)`)
	exec(`CREATE MATERIALIZED VIEW recent AS SELECT id, v FROM ev WHERE ts > now() - INTERVAL '2 seconds' AND ts <= now()`)
	exec(`CREATE MATERIALIZED VIEW recent_n AS SELECT count(*) AS n, sum(v) AS total FROM ev WHERE ts BETWEEN now() - INTERVAL '2 seconds' + INTERVAL '1 microsecond' AND now()`)
	view, ok := srv.Engine().Catalog().Lookup("recent")
	if !ok {
		t.Fatal("no view recent")
	}
	// 1 is valid for two seconds from now, 2 from one second ahead, 3 for
	// half a second; 4 is long past, 5 has no time, 6 is deleted before
	// its time comes.
	exec(`INSERT INTO ev VALUES (1, now(), 10), (2, now() + INTERVAL '1 second', 20),
		(3, now() - INTERVAL '1.5 seconds', 30), (4, now() - INTERVAL '1 hour', 40), (5, NULL, 50),
		(6, now() + INTERVAL '1 second', 60)`)
	exec(`SELECT count(*) FROM recent`) // waits for the views to take the insert
	state, err := srv.Engine().Runtime().StateBytes(view.ID)
	if err != nil {
		t.Fatal(err)
	}
	if state == 0 {
		t.Fatal("no temporal filter state after the insert")
	}
	exec(`DELETE FROM ev WHERE id = 6`)

	seen := map[int32]bool{}
	var sets [][]int32
	deadline := time.Now().Add(30 * time.Second)
	for {
		rows, err := conn.Query(ctx, `SELECT id, (SELECT n FROM recent_n), (SELECT coalesce(total, 0) FROM recent_n), v FROM recent ORDER BY id`)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int32
		var sum int64
		n, total := int64(-1), int64(-1)
		for rows.Next() {
			var id, v int32
			if err := rows.Scan(&id, &n, &total, &v); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
			sum += int64(v)
			seen[id] = true
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if len(ids) > 0 && (n != int64(len(ids)) || total != sum) {
			t.Fatalf("recent has %v (sum %d), recent_n says %d rows, sum %d", ids, sum, n, total)
		}
		if slices.Contains(ids, 2) && slices.Contains(ids, 3) {
			t.Fatalf("rows 2 and 3 are never valid at the same time: %v", ids)
		}
		if len(sets) == 0 || !slices.Equal(sets[len(sets)-1], ids) {
			sets = append(sets, ids)
		}
		if len(ids) == 0 && seen[1] && seen[2] {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the view went through %v and did not empty", sets)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("the view went through %v", sets)
	for _, id := range []int32{4, 5, 6} {
		if seen[id] {
			t.Errorf("row %d was in the view", id)
		}
	}
	if !seen[3] {
		t.Errorf("row 3 was never in the view")
	}
	var n int64
	if err := conn.QueryRow(ctx, `SELECT n FROM recent_n`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("recent_n: %d, %v", n, err)
	}
	// Every row has left: the filter keeps nothing.
	if state, err = srv.Engine().Runtime().StateBytes(view.ID); err != nil || state != 0 {
		t.Fatalf("state after every row left: %d bytes, %v", state, err)
	}
}

// TestTemporalFilterRestart checks that a temporal filter's schedule is
// durable: rows scheduled before a restart enter and leave the view after
// it, with no write to wake the runtime.
func TestTemporalFilterRestart(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	srv, err := server.Start(ctx, server.Config{DataDir: dir, Listen: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	conn := connect(t, srv)
	for _, sql := range []string{
		`CREATE TABLE ev (id int, ts timestamptz)`,
		`CREATE MATERIALIZED VIEW soon AS SELECT id FROM ev WHERE ts <= now() AND ts + INTERVAL '1 second' > now()`,
		`INSERT INTO ev VALUES (1, now() + INTERVAL '1.5 seconds')`,
		`SELECT * FROM soon`,
	} {
		if _, err := conn.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	conn.Close(ctx)
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	srv = startServer(t, server.Config{DataDir: dir})
	conn = connect(t, srv)
	var states []int64
	deadline := time.Now().Add(30 * time.Second)
	for {
		var n int64
		if err := conn.QueryRow(ctx, `SELECT count(*) FROM soon`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if len(states) == 0 || states[len(states)-1] != n {
			states = append(states, n)
		}
		if slices.Equal(states, []int64{0, 1, 0}) {
			return
		}
		if len(states) > 3 || time.Now().After(deadline) {
			t.Fatalf("row 1 was in the view %v times over; want 0, 1, 0", states)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
