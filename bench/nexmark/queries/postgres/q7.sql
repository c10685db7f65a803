SELECT b.auction, b.price, b.bidder, b.date_time
FROM bid b
JOIN (
    SELECT max(price) AS maxprice, date_bin(INTERVAL '10 seconds', date_time, TIMESTAMP '1970-01-01') + INTERVAL '10 seconds' AS date_time
    FROM bid
    GROUP BY 2
) b1 ON b.price = b1.maxprice
WHERE b.date_time BETWEEN b1.date_time - INTERVAL '10 seconds' AND b1.date_time
