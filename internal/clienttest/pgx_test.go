package clienttest

import (
	"context"
	"encoding/hex"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

// typedColumns are testdata/schema.sql's typed columns, in order.
var typedColumns = []string{"id", "b", "i2", "i4", "i8", "f4", "f8", "n", "t", "vc", "c", "by", "d", "tm", "ts", "tz", "iv", "j", "ia", "ta"}

// pgxReport drives pgx: CopyFrom (binary COPY) of a row of every type and
// of NULLs, a SendBatch of parameterized writes and reads, and every
// column read back in binary format, printed both decoded and as the raw
// bytes on the wire, so a wire encoding that differs from PostgreSQL's
// shows even when pgx would decode it to the same value.
func pgxReport(t *testing.T, tg target) string {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, "postgres://"+tg.user+"@"+tg.host+":"+tg.port+"/"+tg.db+"?sslmode=disable")
	if err != nil {
		t.Fatalf("pgx connect to %s: %v", tg.name, err)
	}
	defer conn.Close(ctx)
	var out strings.Builder
	pr := func(format string, args ...any) { fmt.Fprintf(&out, format+"\n", args...) }
	check := func(what string, err error) {
		if err != nil {
			pr("%s: error %v", what, err)
		}
	}

	ts := time.Date(2024, 3, 4, 5, 6, 7, 891000, time.UTC)
	str := func(s string) *string { return &s }
	i32 := func(i int32) *int32 { return &i }
	rows := [][]any{
		{100, true, int16(-7), int32(123456), int64(-9000000000), float32(2.5), 1e100,
			pgtype.Numeric{Int: big.NewInt(-1234567), Exp: -3, Valid: true}, "text\nwith newline", "varchar", "ch",
			[]byte{0, 1, 2, 0xfe}, time.Date(2000, 2, 29, 0, 0, 0, 0, time.UTC),
			pgtype.Time{Microseconds: 45296789012, Valid: true}, ts, ts.Add(time.Hour),
			pgtype.Interval{Months: 14, Days: -3, Microseconds: 3723000004, Valid: true},
			map[string]any{"k": []any{1, "two", nil}, "n": 1.5}, []*int32{i32(1), nil, i32(-3)}, []*string{str("x y"), nil, str(`q"uote`)}},
		{101, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil},
	}
	n, err := conn.CopyFrom(ctx, pgx.Identifier{"typed"}, typedColumns, pgx.CopyFromRows(rows))
	check("CopyFrom", err)
	pr("CopyFrom: %d rows", n)

	b := &pgx.Batch{}
	b.Queue("INSERT INTO typed (id, t, n, j) VALUES ($1, $2, $3, $4)", 102, "batch", "42.5", `{"b": true}`)
	b.Queue("INSERT INTO typed (id, ia) VALUES ($1, $2)", 103, []int32{7, 8})
	b.Queue("UPDATE typed SET t = t || '!' WHERE id = $1", 102)
	b.Queue("SELECT id, t, n FROM typed WHERE id BETWEEN $1 AND $2 ORDER BY id", 102, 103)
	b.Queue("SELECT owner, n, total FROM by_owner WHERE owner = $1", "ann")
	b.Queue("SELECT count(*) FROM rich")
	br := conn.SendBatch(ctx, b)
	for i := 0; i < 3; i++ {
		tag, err := br.Exec()
		check("batch exec", err)
		pr("batch %d: %s", i, tag)
	}
	for i := 3; i < 6; i++ {
		rows, err := br.Query()
		check("batch query", err)
		for rows.Next() {
			vals, err := rows.Values()
			check("batch values", err)
			pr("batch %d: %s", i, describeValues(vals))
		}
		check("batch rows", rows.Err())
	}
	check("batch close", br.Close())

	// Every column in binary format (pgx asks for binary for every type it
	// knows), decoded and raw.
	r, err := conn.Query(ctx, "SELECT * FROM typed WHERE id < 10 OR id BETWEEN 100 AND 199 ORDER BY id")
	check("select typed", err)
	for r.Next() {
		vals, err := r.Values()
		check("values", err)
		fds := r.FieldDescriptions()
		for i, raw := range r.RawValues() {
			rawText := "NULL"
			if raw != nil {
				rawText = hex.EncodeToString(raw)
			}
			pr("row %v %s (oid %d, format %d): %s raw %s", vals[0], fds[i].Name, fds[i].DataTypeOID, fds[i].Format, describeValues(vals[i:i+1]), rawText)
		}
	}
	check("select typed rows", r.Err())

	// RowDescription names the table column each result column plainly
	// references (drivers look up nullability and table names with it).
	names := map[uint32]string{0: "-"}
	nr, err := conn.Query(ctx, "SELECT oid::int8, relname::text FROM pg_class WHERE relname IN ('typed', 'accounts', 'pair', 'notes', 'rich', 'by_owner')")
	check("pg_class", err)
	for nr.Next() {
		var oid int64
		var name string
		check("pg_class scan", nr.Scan(&oid, &name))
		names[uint32(oid)] = name
	}
	for _, q := range []string{
		"SELECT * FROM accounts",
		"SELECT a.owner, id, balance * 2 AS twice, upper(owner), 1 AS one FROM accounts AS a",
		"SELECT * FROM rich",
		"SELECT * FROM by_owner",
		"SELECT owner, count(*) FROM accounts GROUP BY owner",
		"SELECT s.id, s.o FROM (SELECT id, owner AS o FROM accounts) AS s",
		"WITH w AS (SELECT x, label FROM pair) SELECT label, x FROM w",
		"SELECT * FROM accounts JOIN rich USING (id)",
		"SELECT * FROM pair RIGHT JOIN rich ON x = id",
		"SELECT id FROM accounts UNION SELECT x FROM pair",
		"SELECT DISTINCT owner FROM accounts ORDER BY owner LIMIT 1",
		"SELECT id, row_number() OVER (ORDER BY id) FROM accounts",
	} {
		r, err := conn.Query(ctx, q)
		check(q, err)
		var cols []string
		for _, fd := range r.FieldDescriptions() {
			cols = append(cols, fmt.Sprintf("%s=%s.%d", fd.Name, names[fd.TableOID], fd.TableAttributeNumber))
		}
		r.Close()
		pr("origins of %s: %s", q, strings.Join(cols, " "))
	}

	// Parameters in binary format too: the filter matches only if kappa
	// decoded each one as PostgreSQL does.
	var id int32
	err = conn.QueryRow(ctx, "SELECT id FROM typed WHERE i8 = $1 AND f8 = $2 AND n = $3 AND by = $4 AND d = $5 AND ts = $6 AND iv = $7 AND ia = $8",
		int64(-9000000000), 1e100, pgtype.Numeric{Int: big.NewInt(-1234567), Exp: -3, Valid: true}, []byte{0, 1, 2, 0xfe},
		time.Date(2000, 2, 29, 0, 0, 0, 0, time.UTC), ts, pgtype.Interval{Months: 14, Days: -3, Microseconds: 3723000004, Valid: true},
		[]*int32{i32(1), nil, i32(-3)}).Scan(&id)
	check("binary parameters", err)
	pr("binary parameters match id %d", id)

	// COPY TO in binary: the bytes of the whole stream.
	var buf strings.Builder
	_, err = conn.PgConn().CopyTo(ctx, &buf, "COPY (SELECT * FROM typed WHERE id BETWEEN 100 AND 101 ORDER BY id) TO STDOUT (FORMAT binary)")
	check("COPY TO binary", err)
	pr("COPY TO binary: %s", hex.EncodeToString([]byte(buf.String())))

	// Bad binary COPY is refused whole, with PostgreSQL's SQLSTATE.
	_, err = conn.PgConn().CopyTo(ctx, &buf, "COPY typed TO STDOUT (FORMAT binary, HEADER)")
	pr("binary with HEADER: %v", err)
	header := "PGCOPY\n\377\r\n\x00" + "\x00\x00\x00\x00" + "\x00\x00\x00\x00"
	for _, bad := range []struct{ what, data string }{
		{"signature", "PGCOPY\n\377\r\n\x01\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff"},
		{"field count", header + "\x00\x01\x00\x00\x00\x01\x01\xff\xff"},
		{"short field", header + "\x00\x03\x00\x00\x00\x04\x00\x00"},
		{"wrong width", header + "\x00\x03\x00\x00\x00\x02\x00\x07\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"},
	} {
		_, err := conn.PgConn().CopyFrom(ctx, strings.NewReader(bad.data), "COPY notes FROM STDIN (FORMAT binary)")
		var code string
		if pe, ok := err.(*pgconn.PgError); ok {
			code = pe.Code
		}
		pr("binary COPY with a bad %s: SQLSTATE %s", bad.what, code)
	}
	var notes int
	check("count notes", conn.QueryRow(ctx, "SELECT count(*) FROM notes").Scan(&notes))
	pr("notes after bad COPYs: %d", notes)
	return out.String()
}

func describeValues(vals []any) string {
	parts := make([]string, len(vals))
	for i, v := range vals {
		switch x := v.(type) {
		case pgtype.Numeric:
			f, _ := x.Value()
			parts[i] = fmt.Sprintf("numeric %v", f)
		case time.Time:
			parts[i] = fmt.Sprintf("time.Time %s", x.UTC().Format(time.RFC3339Nano))
		default:
			parts[i] = fmt.Sprintf("%T %v", v, v)
		}
	}
	return strings.Join(parts, ", ")
}
