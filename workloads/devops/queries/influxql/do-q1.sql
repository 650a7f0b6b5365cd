-- do-q1 in InfluxQL (InfluxDB 1.x, 2.x through /query, Timestream for InfluxDB).
-- Differs from the Timestream query: percentiles are PERCENTILE (exact, nearest rank) instead of
-- approx_percentile; rounding to 2 places is round(x * 100) / 100 (InfluxQL's round has no
-- precision argument); InfluxQL orders only by time, so bins come oldest first instead of by
-- p99 descending. The distinct-instance count reads instance_name through a subquery (a tag
-- becomes a field there), since count(DISTINCT) takes fields only.
SELECT count(distinct(host)) AS num_hosts,
    round(mean(mem) * 100) / 100 AS avg_value,
    round(percentile(mem, 90) * 100) / 100 AS p90_value,
    round(percentile(mem, 95) * 100) / 100 AS p95_value,
    round(percentile(mem, 99) * 100) / 100 AS p99_value
FROM (
    SELECT memory_used AS mem, instance_name AS host FROM metrics
    WHERE region = {region} AND cell = {cell} AND silo = {silo}
        AND availability_zone = {az} AND microservice_name = {microservice}
        AND time >= {end} - 1h AND time <= {end}
)
WHERE time >= {end} - 1h AND time <= {end}
GROUP BY time(1m) fill(none)
