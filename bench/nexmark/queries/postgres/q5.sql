-- q5 in plain SQL: a bid at t falls in the 10 s windows starting at the
-- 2 s boundaries in (t - 10 s, t].
WITH hop AS (
    SELECT b.auction, w.s AS window_start
    FROM bid b, generate_series(0, 4) g(n),
         LATERAL (SELECT date_bin(INTERVAL '2 seconds', b.date_time, TIMESTAMP '1970-01-01') - g.n * INTERVAL '2 seconds' AS s) w
)
SELECT ab.auction, ab.num
FROM (SELECT auction, count(*) AS num, window_start AS starttime FROM hop GROUP BY window_start, auction) ab
JOIN (
    SELECT max(cb.num) AS maxn, cb.starttime_c
    FROM (SELECT count(*) AS num, window_start AS starttime_c FROM hop GROUP BY auction, window_start) cb
    GROUP BY cb.starttime_c
) mb ON ab.starttime = mb.starttime_c AND ab.num >= mb.maxn
