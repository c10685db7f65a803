-- q12: bids per bidder in 10 s windows of processing time. proctime() is
-- the time of the epoch that processes a bid (kappa's stand-in for Flink's
-- PROCTIME(); views allow it over append-only inputs such as sources), so
-- the windows depend on when the view ran: the comparison with PostgreSQL
-- checks only that every bid is counted once (check/q12.sql).
WITH b AS (SELECT bidder, proctime() AS p_time FROM bid)
SELECT bidder, count(*) AS bid_count, window_start AS starttime, window_end AS endtime
FROM TUMBLE(b, p_time, INTERVAL '10 seconds')
GROUP BY bidder, window_start, window_end
