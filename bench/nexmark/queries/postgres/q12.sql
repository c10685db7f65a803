-- q12's check in plain SQL: each bidder's bids.
SELECT bidder, count(*) FROM bid GROUP BY bidder
