-- The schema every client of TestClients meets, created on kappa and on
-- PostgreSQL alike. Clients write only rows of their own id range (pgx
-- 100-199, pgjdbc 200-299, psycopg2 300-399, node 400-499), so that what
-- one writes does not show in another's reads.
CREATE TABLE typed (
  id integer PRIMARY KEY,
  b boolean,
  i2 smallint,
  i4 integer,
  i8 bigint,
  f4 real,
  f8 double precision,
  n numeric(12,3),
  t text,
  vc varchar(20),
  c char(4),
  by bytea,
  d date,
  tm time,
  ts timestamp,
  tz timestamptz,
  iv interval,
  j jsonb,
  ia integer[],
  ta text[]
);
CREATE TABLE accounts (id bigint PRIMARY KEY, owner varchar(20) NOT NULL, balance numeric(12,2) DEFAULT 0, opened date);
CREATE TABLE pair (x integer, y integer, label text NOT NULL, PRIMARY KEY (y, x));
CREATE TABLE notes (id integer, body text, at timestamptz);
CREATE VIEW rich AS SELECT id, owner FROM accounts WHERE balance > 100;
CREATE MATERIALIZED VIEW by_owner AS SELECT owner, count(*) AS n, sum(balance) AS total FROM accounts GROUP BY owner;
INSERT INTO accounts VALUES (1, 'ann', 50.5, '2024-01-02'), (2, 'bob', 250, '2024-02-03'), (3, 'ann', 1000.25, NULL);
INSERT INTO typed VALUES
  (1, true, -2, 40000, 9000000000, 1.5, -2.25, 123.456, 'tab	and "quote"', 'vc', 'ab', '\x0102ff', '2024-02-29', '13:14:15.5',
   '2024-01-02 03:04:05.123456', '2024-01-02 03:04:05+02', '1 year 2 mons 3 days 04:05:06.5', '{"a": [1, 2, {"b": null}], "c": "é"}',
   '{1,NULL,3}', '{"a b",NULL,"c,d",""}'),
  (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
  (3, false, 0, 0, 0, 'NaN', 'Infinity', 0, '', '', '', '', '1999-12-31', '00:00:00', '1970-01-01 00:00:00', '2000-01-01 00:00:00+00',
   '-1 days', '[]', '{}', '{}');
