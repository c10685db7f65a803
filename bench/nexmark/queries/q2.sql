-- q2: bids on a fixed set of auctions.
SELECT auction, price FROM bid WHERE auction % 123 = 0
