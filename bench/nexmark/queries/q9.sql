-- q9: the winning bid of each auction: its highest bid before it expires,
-- the earliest of equal ones. (Flink and RisingWave use ROW_NUMBER; kappa
-- has no window functions or DISTINCT ON yet, so: the top price per
-- auction, the first bid at that price, and a join back.)
WITH valid AS (
    SELECT a.id, a.item_name, a.description, a.initial_bid, a.reserve, a.date_time, a.expires, a.seller, a.category,
        b.auction, b.bidder, b.price, b.date_time AS bid_date_time
    FROM auction a JOIN bid b ON a.id = b.auction
    WHERE b.date_time BETWEEN a.date_time AND a.expires
), top AS (
    SELECT id, max(price) AS price FROM valid GROUP BY id
), first AS (
    SELECT v.id, v.price, min(v.bid_date_time) AS bid_date_time
    FROM valid v JOIN top t ON v.id = t.id AND v.price = t.price
    GROUP BY v.id, v.price
)
SELECT v.*
FROM valid v JOIN first f ON v.id = f.id AND v.price = f.price AND v.bid_date_time = f.bid_date_time
