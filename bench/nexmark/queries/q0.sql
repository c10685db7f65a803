-- q0: pass every bid through (the cost of reading and writing).
SELECT auction, bidder, price, date_time FROM bid
