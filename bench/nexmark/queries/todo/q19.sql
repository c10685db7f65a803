-- q19: the top 10 bids of each auction by price. NOT RUN: it needs a
-- per-group Top-N (ROW_NUMBER() OVER (PARTITION BY auction ORDER BY price
-- DESC) <= 10). This form, a bid's rank as one more than the count of
-- better bids on its auction, is correct (it matched PostgreSQL on 20,000
-- events) but quadratic in the bids per auction: 2.5 minutes as a view.
SELECT b.auction, b.bidder, b.price, b.date_time
FROM bid b
WHERE (SELECT count(*) FROM bid o
       WHERE o.auction = b.auction
         AND (o.price > b.price OR (o.price = b.price AND o.date_time < b.date_time))) < 10
