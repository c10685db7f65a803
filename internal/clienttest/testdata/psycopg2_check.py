"""psycopg2_check prints what psycopg2 sees of a server holding schema.sql:
every type written with Python values and read back, copy_expert in and
out, copy_from/copy_to, a server-side (named) cursor when asked for
(argument "named"), and errors. It connects with the PG* environment
variables."""

import datetime
import decimal
import io
import sys

import psycopg2
import psycopg2.extras


def show(v):
    if isinstance(v, memoryview):
        v = bytes(v)
    return "%s %r" % (type(v).__name__, v)


conn = psycopg2.connect("")
conn.autocommit = True
cur = conn.cursor()
cur.execute("SHOW server_version_num")
print("server_version_num", cur.fetchone()[0][:2])
print("server_version", conn.server_version // 10000)

# Every type from Python values, through psycopg2's client-side
# parameter interpolation (simple query protocol).
utc = datetime.timezone.utc
row = (
    300, True, -5, 2 ** 31 - 1, -(2 ** 62), 0.5, 1.0 / 3, decimal.Decimal("-1.250"),
    "it's \"text\"\\ \u00e9\n", "varchar", "pad", psycopg2.Binary(b"\x00\x01'\\\xff"),
    datetime.date(2024, 2, 29), datetime.time(1, 2, 3, 456789),
    datetime.datetime(2024, 7, 8, 9, 10, 11, 120000),
    datetime.datetime(2024, 7, 8, 9, 10, 11, tzinfo=datetime.timezone(datetime.timedelta(hours=-3))),
    datetime.timedelta(days=-2, seconds=3661, microseconds=5),
    psycopg2.extras.Json({"a": [1, 2.5, None, "x"], "b": {"c": False}}),
    [1, None, -3], ["a", None, "b,c", ""],
)
cols = "id, b, i2, i4, i8, f4, f8, n, t, vc, c, by, d, tm, ts, tz, iv, j, ia, ta"
cur.execute("INSERT INTO typed (" + cols + ") VALUES (" + ", ".join(["%s"] * 20) + ")", row)
print("insert", cur.rowcount, cur.statusmessage)
cur.execute("INSERT INTO typed (id) VALUES (%(id)s)", {"id": 301})
cur.executemany("INSERT INTO typed (id, t, n) VALUES (%s, %s, %s)", [(302, "many", 1), (303, None, decimal.Decimal("2.5"))])
print("executemany", cur.rowcount)

cur.execute("SELECT " + cols + " FROM typed WHERE id < 10 OR id BETWEEN 300 AND 399 ORDER BY id")
print("description", [(d.name, d.type_code, d.internal_size, d.precision, d.scale, d.null_ok) for d in cur.description])
for r in cur.fetchall():
    for name, v in zip(cols.split(", "), r):
        print("row", r[0], name, show(v))

# Values as parameters in WHERE clauses: each must find row 300.
for name, v in zip(cols.split(", ")[1:], row[1:]):
    if name in ("f4", "j"):
        continue  # real's rounding; jsonb = needs no client round trip
    cur.execute("SELECT id FROM typed WHERE " + name + " = %s AND id = 300", (v,))
    print("where", name, cur.fetchall())
cur.execute("SELECT %s::jsonb = j FROM typed WHERE id = 300", (row[17],))
print("where j", cur.fetchall())
cur.execute("SELECT owner, n, total FROM by_owner WHERE owner = ANY(%s) ORDER BY owner", (["ann", "bob"],))
print("by_owner", cur.fetchall())
cur.execute("SELECT * FROM rich WHERE id IN %s ORDER BY id", ((1, 2, 3),))
print("rich", cur.fetchall())
cur.execute("SELECT %s, %s, %s, %s", (None, True, decimal.Decimal("1e-5"), datetime.date(1, 1, 1)))
print("literals", [show(v) for v in cur.fetchone()])

# copy_expert in and out, CSV and text.
cur.copy_expert("COPY notes (id, body, at) FROM STDIN WITH (FORMAT csv)",
                io.StringIO('300,"a, b",2024-01-01 00:00:00+00\n301,,\n302,"line\nbreak",2024-06-30 12:00:00-07\n'))
print("copy in", cur.rowcount)
cur.copy_from(io.StringIO("303\ttext\\tformat\t\\N\n"), "notes", columns=("id", "body", "at"))
print("copy_from", cur.rowcount)
out = io.StringIO()
cur.copy_expert("COPY (SELECT * FROM notes WHERE id BETWEEN 300 AND 399 ORDER BY id) TO STDOUT WITH (FORMAT csv, HEADER)", out)
print("copy out csv", repr(out.getvalue()))
out = io.StringIO()
cur.copy_to(out, "accounts")
print("copy_to", repr("".join(sorted(out.getvalue().splitlines(True)))))
try:
    cur.copy_expert("COPY notes FROM STDIN WITH (FORMAT csv)", io.StringIO("1,x,not a time\n"))
except psycopg2.Error as e:
    print("copy error", e.pgcode)

# Transactions: psycopg2 opens one implicitly when autocommit is off. The
# block reads its own writes; rollback() undoes them; a failed statement
# aborts the block until rollback().
conn.autocommit = False
cur.execute("INSERT INTO notes (id, body) VALUES (311, 'committed')")
conn.commit()
cur.execute("INSERT INTO notes (id, body) VALUES (312, 'rolled back')")
cur.execute("SELECT id, body FROM notes WHERE id = 312")
print("inside the block", cur.fetchall())
conn.rollback()
try:
    cur.execute("INSERT INTO accounts (id, owner) VALUES (1, 'dup')")
except psycopg2.Error as e:
    print("duplicate in a block", e.pgcode)
try:
    cur.execute("SELECT 1")
except psycopg2.Error as e:
    print("after the error", e.pgcode)
conn.rollback()
cur.execute("SELECT id, body FROM notes WHERE id >= 310 AND id < 400 ORDER BY id")
print("after transactions", cur.fetchall())
conn.commit()

if "named" in sys.argv[1:]:
    # A named cursor is DECLARE ... CURSOR WITHOUT HOLD and FETCH FORWARD
    # itersize rows at a time, inside the transaction.
    nc = conn.cursor("kappa_named")
    nc.itersize = 3
    nc.execute("SELECT g, g * g FROM generate_series(1, 10) AS g")
    print("named cursor", [r for r in nc])
    nc.close()
    nc = conn.cursor("kappa_named2")
    nc.execute("SELECT id, owner FROM accounts ORDER BY id")
    print("named fetchmany", nc.fetchmany(2), nc.fetchone(), nc.fetchall())
    nc.close()
    conn.commit()

conn.autocommit = True
for bad in ("SELECT * FROM no_such_table", "SELECT 1/0", "INSERT INTO typed (id) VALUES (300)"):
    try:
        cur.execute(bad)
    except psycopg2.Error as e:
        print("error", bad, e.pgcode, e.diag.message_primary)
conn.close()
