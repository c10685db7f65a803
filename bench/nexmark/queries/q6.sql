-- q6: per seller, the average closing price of their last 10 closed
-- auctions (by expiry; the auction id breaks ties). An auction closes at
-- its highest bid within its lifetime.
SELECT seller, avg(final) AS avg
FROM (
    SELECT seller, final, row_number() OVER (PARTITION BY seller ORDER BY expires DESC, id DESC) AS rn
    FROM (
        SELECT a.id, a.seller, a.expires, max(b.price) AS final
        FROM auction a JOIN bid b ON a.id = b.auction
        WHERE b.date_time BETWEEN a.date_time AND a.expires
        GROUP BY a.id, a.seller, a.expires
    ) closed
) t
WHERE rn <= 10
GROUP BY seller
