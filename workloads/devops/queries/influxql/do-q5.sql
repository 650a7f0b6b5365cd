-- do-q5 in InfluxQL. Differs: without joins and window functions the query is three statements
-- of one request: (1) per silo the microservice with the highest p95 of its instances' 5-minute
-- maxima of memory_used (TOP instead of dense_rank: one winner on a tie), (2) every instance's
-- p95 of those maxima, (3) min/avg/stddev/p50/p90/p99 of gc_pause for every instance of the
-- (region, cell, az). The Timestream query keeps only the top instance(s) of the top
-- microservice; here the client would pick them from (1) and (2). PERCENTILE is exact.
SELECT top(p95_max_memory, microservice_name, 1) AS p95_max_memory
FROM (
    SELECT percentile(max_memory, 95) AS p95_max_memory
    FROM (
        SELECT max(memory_used) AS max_memory FROM metrics
        WHERE region = {region} AND cell = {cell} AND silo = {silo} AND availability_zone = {az}
            AND time >= {end} - 1d AND time <= {end}
        GROUP BY time(5m), silo, microservice_name, instance_name
    )
    WHERE time >= {end} - 1d AND time <= {end}
    GROUP BY silo, microservice_name
)
WHERE time >= {end} - 1d AND time <= {end}
GROUP BY silo;
SELECT round(percentile(max_memory, 95) * 100) / 100 AS p95_memory
FROM (
    SELECT max(memory_used) AS max_memory FROM metrics
    WHERE region = {region} AND cell = {cell} AND silo = {silo} AND availability_zone = {az}
        AND time >= {end} - 1d AND time <= {end}
    GROUP BY time(5m), silo, microservice_name, instance_name
)
WHERE time >= {end} - 1d AND time <= {end}
GROUP BY silo, microservice_name, instance_name;
SELECT round(min(gc_pause) * 100) / 100 AS min_gc_pause,
    round(mean(gc_pause) * 100) / 100 AS avg_gc_pause,
    round(stddev(gc_pause) * 100) / 100 AS stddev_gc_pause,
    round(percentile(gc_pause, 50) * 100) / 100 AS p50_gc_pause,
    round(percentile(gc_pause, 90) * 100) / 100 AS p90_gc_pause,
    round(percentile(gc_pause, 99) * 100) / 100 AS p99_gc_pause
FROM events
WHERE region = {region} AND cell = {cell} AND availability_zone = {az}
    AND time >= {end} - 1d AND time <= {end}
GROUP BY silo, microservice_name, instance_name
