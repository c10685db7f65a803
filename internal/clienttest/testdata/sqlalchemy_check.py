"""sqlalchemy_check prints what SQLAlchemy 1.4 (over psycopg2) sees of a
server holding schema.sql: the inspector's names, columns, keys and indexes,
a table reflected with autoload, and Core selects and inserts with bound
parameters. It connects with the PG* environment variables."""

import datetime
import decimal
import os

import sqlalchemy as sa

url = "postgresql+psycopg2://%s@%s:%s/%s" % (
    os.environ["PGUSER"], os.environ["PGHOST"], os.environ["PGPORT"], os.environ["PGDATABASE"])
engine = sa.create_engine(url, future=True)
print("sqlalchemy", sa.__version__[:3])

insp = sa.inspect(engine)
print("schema names", insp.get_schema_names())
print("default schema", insp.default_schema_name)
print("table names", sorted(insp.get_table_names()))
print("view names", sorted(insp.get_view_names()))
print("plain view names", sorted(insp.get_view_names(include=("plain",))))
print("materialized view names", sorted(insp.get_view_names(include=("materialized",))))
print("has_table", insp.has_table("typed"), insp.has_table("rich"), insp.has_table("no_such_table"))
for t in ["typed", "accounts", "pair", "notes", "rich", "by_owner"]:
    for c in insp.get_columns(t):
        print("column", t, c["name"], repr(c["type"]), "nullable", c["nullable"], "default", c["default"],
              "autoincrement", c.get("autoincrement"), "comment", c.get("comment"))
for t in ["typed", "accounts", "pair", "notes"]:
    print("pk", t, insp.get_pk_constraint(t))
    print("indexes", t, insp.get_indexes(t))
    print("foreign keys", t, insp.get_foreign_keys(t))
    print("unique", t, insp.get_unique_constraints(t))
    print("check", t, insp.get_check_constraints(t))
    print("comment", t, insp.get_table_comment(t))
print("view definition", "rich", insp.get_view_definition("rich") is not None)

meta = sa.MetaData()
accounts = sa.Table("accounts", meta, autoload_with=engine)
typed = sa.Table("typed", meta, autoload_with=engine)
by_owner = sa.Table("by_owner", meta, autoload_with=engine)
print("reflected", [(c.name, repr(c.type), c.primary_key, c.nullable) for c in accounts.columns])

with engine.connect() as conn:
    q = sa.select(accounts.c.id, accounts.c.owner, accounts.c.balance).where(
        accounts.c.balance > sa.bindparam("min"), accounts.c.owner.in_(["ann", "bob"])).order_by(accounts.c.id)
    print("select", conn.execute(q, {"min": decimal.Decimal("60")}).all())
    print("select again", conn.execute(q, {"min": 0}).all())
    print("view", conn.execute(sa.select(by_owner).where(by_owner.c.owner == "ann")).all())
    print("count", conn.execute(sa.select(sa.func.count()).select_from(accounts).where(accounts.c.opened.is_not(None))).scalar())
    conn.execute(typed.insert(), {"id": 350, "t": "core", "n": decimal.Decimal("7.125"),
                                  "ts": datetime.datetime(2024, 1, 1, 12), "ia": [1, 2], "j": {"x": [1]}})
    conn.execute(typed.insert(), [{"id": 351, "b": False, "d": datetime.date(2020, 1, 31)},
                                  {"id": 352, "b": True, "d": datetime.date(2021, 2, 28)}])
    conn.commit()
    rows = conn.execute(sa.select(typed).where(typed.c.id.between(350, 399)).order_by(typed.c.id)).all()
    for r in rows:
        print("typed", [(k, v) for k, v in r._mapping.items() if v is not None])
    upd = conn.execute(typed.update().where(typed.c.id == 351).values(t=sa.bindparam("t")), {"t": "updated"})
    print("update", upd.rowcount)
    conn.commit()
    print("text", conn.execute(sa.text("SELECT t FROM typed WHERE id = :id"), {"id": 351}).scalar())
