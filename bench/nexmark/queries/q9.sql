-- q9: the winning bid of each auction: its highest bid before it expires,
-- the earliest of equal ones (a per-auction Top-1).
SELECT id, item_name, description, initial_bid, reserve, date_time, expires, seller, category,
    auction, bidder, price, bid_date_time
FROM (
    SELECT a.id, a.item_name, a.description, a.initial_bid, a.reserve, a.date_time, a.expires, a.seller, a.category,
        b.auction, b.bidder, b.price, b.date_time AS bid_date_time,
        row_number() OVER (PARTITION BY a.id ORDER BY b.price DESC, b.date_time) AS rn
    FROM auction a JOIN bid b ON a.id = b.auction
    WHERE b.date_time BETWEEN a.date_time AND a.expires
) t
WHERE rn = 1
