SELECT p.id, p.name, p.starttime
FROM (
    SELECT id, name, date_bin(INTERVAL '10 seconds', date_time, TIMESTAMP '1970-01-01') AS starttime
    FROM person GROUP BY 1, 2, 3
) p
JOIN (
    SELECT seller, date_bin(INTERVAL '10 seconds', date_time, TIMESTAMP '1970-01-01') AS starttime
    FROM auction GROUP BY 1, 2
) a ON p.id = a.seller AND p.starttime = a.starttime
