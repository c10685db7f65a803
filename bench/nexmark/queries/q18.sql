-- q18: each bidder's last bid on each auction (deduplication by a
-- per-key Top-1).
SELECT auction, bidder, price, channel, url, date_time, extra
FROM (
    SELECT *, row_number() OVER (PARTITION BY bidder, auction ORDER BY date_time DESC) AS rank_number
    FROM bid
) t
WHERE rank_number = 1
