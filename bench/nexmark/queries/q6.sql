-- q6: per seller, the average closing price of their last 10 closed
-- auctions. Without window functions, "last 10" is a count of the
-- seller's later auctions.
WITH closed AS (
    SELECT a.id, a.seller, a.expires, max(b.price) AS final
    FROM auction a JOIN bid b ON a.id = b.auction
    WHERE b.date_time BETWEEN a.date_time AND a.expires
    GROUP BY a.id, a.seller, a.expires
)
SELECT c.seller, avg(c.final) AS avg
FROM closed c
WHERE (SELECT count(*) FROM closed l WHERE l.seller = c.seller AND l.expires > c.expires) < 10
GROUP BY c.seller
