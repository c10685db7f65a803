// node_check prints what node-postgres (pg) and pg-copy-streams see of a
// server holding schema.sql: parameterized queries (extended protocol), every
// type as pg-types parses it, named prepared statements, COPY FROM and TO
// streams, results of a multi-statement simple query, and errors. It
// connects with the PG* environment variables.
'use strict';
const { Client } = require('pg');
const { from: copyFrom, to: copyTo } = require('pg-copy-streams');
const { pipeline } = require('stream/promises');
const { Readable, Writable } = require('stream');

function show(v) {
  return JSON.stringify(v, function (k, x) {
    const raw = this[k];
    if (raw instanceof Date) return 'Date ' + raw.toISOString();
    if (Buffer.isBuffer(raw)) return 'Buffer ' + raw.toString('hex');
    if (x && x.type === 'Buffer' && Array.isArray(x.data)) return 'Buffer ' + Buffer.from(x.data).toString('hex');
    return x;
  });
}

async function main() {
  const c = new Client();
  await c.connect();
  const out = (...a) => console.log(a.join(' '));
  try {
    const ins = await c.query(
      'INSERT INTO typed (id, b, i2, i4, i8, f4, f8, n, t, vc, c, by, d, tm, ts, tz, iv, j, ia, ta) ' +
      'VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)',
      [400, false, 32767, -1, '-9223372036854775808', 0.25, 6.02e23, '12345.678', 'node ✓', 'v', 'c',
        Buffer.from([0xde, 0xad, 0xbe, 0xef]), '2024-12-31', '12:00:00.25', '2024-12-31 23:59:59.999999',
        new Date(Date.UTC(2024, 11, 31, 23, 59, 59, 500)), 'P1Y2M3DT4H5M6S', { node: [true, null, 'x'] },
        [1, 2, null], ['with "quotes"', 'back\\slash', null]]);
    out('insert', ins.command, ins.rowCount);
    await c.query('INSERT INTO typed (id) VALUES ($1)', [401]);

    const sel = await c.query('SELECT * FROM typed WHERE id < 10 OR id BETWEEN 400 AND 499 ORDER BY id');
    out('fields', show(sel.fields.map(f => [f.name, f.dataTypeID, f.dataTypeSize, f.dataTypeModifier, f.format])));
    for (const r of sel.rows) {
      for (const [k, v] of Object.entries(r)) {
        out('row', r.id, k, typeof v, show(v));
      }
    }

    const arr = await c.query({ text: 'SELECT owner, n, total FROM by_owner WHERE owner = $1 OR $2::bool ORDER BY owner', values: ['ann', false], rowMode: 'array' });
    out('by_owner', show(arr.rows));
    for (let i = 0; i < 3; i++) {
      const p = await c.query({ name: 'rich_by_id', text: 'SELECT id, owner FROM rich WHERE id >= $1 ORDER BY id', values: [i] });
      out('named prepared', i, show(p.rows));
    }
    const lit = await c.query('SELECT $1::int + 1 AS a, $2::text || \'!\' AS b, $3::numeric * 2 AS c, $4::timestamptz AS d, $5::jsonb AS e, $6::int[] AS f, $7::bytea AS g',
      [41, null, '1.5', '2024-01-01T00:00:00Z', '[1, {"a": 2}]', '{3,4}', '\\x00ff']);
    out('params', show(lit.rows[0]));

    const multi = await c.query('SELECT 1 AS one; SELECT count(*) AS n FROM accounts; SELECT owner FROM accounts WHERE false');
    out('multi', show(multi.map(r => [r.command, r.rowCount, r.rows])));

    // COPY FROM a stream, then COPY TO a stream.
    const ingest = c.query(copyFrom('COPY notes (id, body, at) FROM STDIN WITH (FORMAT csv)'));
    await pipeline(Readable.from(['400,streamed,2024-01-01 00:00:00+00\n', '401,"two, ', 'chunks",\n402,,\n']), ingest);
    out('copy from', ingest.rowCount);
    const chunks = [];
    const egress = c.query(copyTo('COPY (SELECT id, body, at FROM notes WHERE id BETWEEN 400 AND 499 ORDER BY id) TO STDOUT'));
    await pipeline(egress, new Writable({ write(chunk, _, done) { chunks.push(chunk); done(); } }));
    out('copy to', show(Buffer.concat(chunks).toString()), egress.rowCount);
    try {
      const bad = c.query(copyFrom('COPY notes (id) FROM STDIN'));
      await pipeline(Readable.from(['not a number\n']), bad);
    } catch (e) {
      out('copy error', e.code);
    }

    await c.query('BEGIN');
    await c.query('INSERT INTO notes (id, body) VALUES ($1, $2)', [410, 'in a transaction']);
    await c.query('COMMIT');
    out('after commit', show((await c.query('SELECT id, body FROM notes WHERE id = 410')).rows));

    for (const bad of ['SELECT * FROM no_such_table', 'SELECT 1/0', 'SELECT $1::int']) {
      try {
        await c.query(bad, bad.includes('$1') ? ['x'] : undefined);
      } catch (e) {
        out('error', bad, e.code, e.message, e.position);
      }
    }
    out('still usable', show((await c.query('SELECT 2 AS two')).rows));
  } finally {
    await c.end();
  }
}

main().catch(e => { console.error(e); process.exit(1); });
