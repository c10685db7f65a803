-- q13: bids joined with a bounded side input, a small table this file
-- creates. Flink joins the side input as of each bid's processing time
-- (FOR SYSTEM_TIME AS OF); here it is a regular join, so a change to
-- side_input also updates the bids already joined. The key is computed in
-- a subquery so that the join is a hash join on it.
CREATE TABLE side_input (key bigint PRIMARY KEY, value text);
INSERT INTO side_input SELECT k, 'value_' || k FROM generate_series(0, 9999) AS k;
SELECT b.auction, b.bidder, b.price, b.date_time, s.value
FROM (SELECT auction, bidder, price, date_time, auction % 10000 AS key FROM bid) b
JOIN side_input s ON b.key = s.key
