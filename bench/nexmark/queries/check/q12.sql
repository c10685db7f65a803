-- What q12 must give whatever the processing times: each bidder's bids,
-- counted once. The test reads the query's rows as relation q.
SELECT bidder, sum(bid_count) FROM q GROUP BY bidder
