-- q19: the top 10 bids of each auction by price (the earliest of equal
-- ones first): a per-group Top-N.
SELECT auction, bidder, price, channel, url, date_time, extra, rank_number
FROM (
    SELECT *, row_number() OVER (PARTITION BY auction ORDER BY price DESC, date_time) AS rank_number
    FROM bid
) t
WHERE rank_number <= 10
