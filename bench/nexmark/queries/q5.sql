-- q5: the auctions with the most bids in each 10 s window, every 2 s.
SELECT ab.auction, ab.num
FROM (
    SELECT auction, count(*) AS num, window_start AS starttime
    FROM HOP(bid, date_time, INTERVAL '2 seconds', INTERVAL '10 seconds')
    GROUP BY window_start, auction
) ab
JOIN (
    SELECT max(cb.num) AS maxn, cb.starttime_c
    FROM (
        SELECT count(*) AS num, window_start AS starttime_c
        FROM HOP(bid, date_time, INTERVAL '2 seconds', INTERVAL '10 seconds')
        GROUP BY auction, window_start
    ) cb
    GROUP BY cb.starttime_c
) mb ON ab.starttime = mb.starttime_c AND ab.num >= mb.maxn
