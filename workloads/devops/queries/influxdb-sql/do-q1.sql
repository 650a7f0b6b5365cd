-- do-q1 in InfluxDB 3 SQL (Apache DataFusion): the Timestream multi-measure query with
-- date_bin for bin, approx_percentile_cont for approx_percentile and interval literals.
SELECT date_bin(INTERVAL '1 minute', time) AS time_bin, count(DISTINCT instance_name) AS num_hosts,
    round(avg(memory_used), 2) AS avg_value,
    round(approx_percentile_cont(memory_used, 0.9), 2) AS p90_value,
    round(approx_percentile_cont(memory_used, 0.95), 2) AS p95_value,
    round(approx_percentile_cont(memory_used, 0.99), 2) AS p99_value
FROM metrics
WHERE region = {region} AND cell = {cell} AND silo = {silo}
    AND availability_zone = {az} AND microservice_name = {microservice}
    AND time BETWEEN {end} - INTERVAL '1 hour' AND {end}
GROUP BY region, cell, silo, availability_zone, microservice_name, date_bin(INTERVAL '1 minute', time)
ORDER BY p99_value DESC
