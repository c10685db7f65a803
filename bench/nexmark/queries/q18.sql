-- q18: each bidder's last bid on each auction (deduplication). Flink and
-- RisingWave use ROW_NUMBER; here the latest time per (bidder, auction)
-- joined back (event times are unique, so there is one such bid).
SELECT b.auction, b.bidder, b.price, b.channel, b.url, b.date_time, b.extra
FROM bid b
JOIN (SELECT bidder, auction, max(date_time) AS date_time FROM bid GROUP BY bidder, auction) l
  ON b.bidder = l.bidder AND b.auction = l.auction AND b.date_time = l.date_time
