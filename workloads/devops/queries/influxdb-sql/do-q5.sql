-- do-q5 in InfluxDB 3 SQL: the Timestream multi-measure query, with date_bin, approx_percentile_cont
-- and stddev; the events are their own table instead of measure_name = 'events' rows.
WITH per_instance_memory_used AS (
    SELECT silo, microservice_name, instance_name, date_bin(INTERVAL '5 minutes', time) AS time_bin,
        max(memory_used) AS max_memory
    FROM metrics
    WHERE region = {region} AND cell = {cell} AND silo = {silo}
        AND availability_zone = {az} AND time BETWEEN {end} - INTERVAL '1 day' AND {end}
    GROUP BY silo, microservice_name, instance_name, date_bin(INTERVAL '5 minutes', time)
), per_microservice_memory AS (
    SELECT silo, microservice_name, approx_percentile_cont(max_memory, 0.95) AS p95_max_memory
    FROM per_instance_memory_used
    GROUP BY silo, microservice_name
), per_silo_ranked AS (
    SELECT silo, microservice_name, p95_max_memory,
        dense_rank() OVER (PARTITION BY silo ORDER BY p95_max_memory DESC) AS rank
    FROM per_microservice_memory
), per_instance_p95 AS (
    SELECT m.silo, m.microservice_name, m.instance_name,
        approx_percentile_cont(m.max_memory, 0.95) AS p95_memory
    FROM per_instance_memory_used m INNER JOIN per_silo_ranked r
        ON m.silo = r.silo AND m.microservice_name = r.microservice_name
    WHERE r.rank = 1
    GROUP BY m.silo, m.microservice_name, m.instance_name
), top_instances AS (
    SELECT silo, microservice_name, instance_name, p95_memory,
        dense_rank() OVER (PARTITION BY silo, microservice_name ORDER BY p95_memory DESC) AS rank
    FROM per_instance_p95
)
SELECT t.silo, t.microservice_name, t.instance_name, round(t.p95_memory, 2) AS p95_memory,
    round(min(e.gc_pause), 2) AS min_gc_pause,
    round(avg(e.gc_pause), 2) AS avg_gc_pause,
    round(stddev(e.gc_pause), 2) AS stddev_gc_pause,
    round(approx_percentile_cont(e.gc_pause, 0.5), 2) AS p50_gc_pause,
    round(approx_percentile_cont(e.gc_pause, 0.9), 2) AS p90_gc_pause,
    round(approx_percentile_cont(e.gc_pause, 0.99), 2) AS p99_gc_pause
FROM top_instances t INNER JOIN events e
    ON t.silo = e.silo AND t.microservice_name = e.microservice_name AND t.instance_name = e.instance_name
WHERE t.rank = 1 AND e.region = {region} AND e.cell = {cell}
    AND e.availability_zone = {az} AND e.time BETWEEN {end} - INTERVAL '1 day' AND {end}
GROUP BY t.silo, t.microservice_name, t.instance_name, t.p95_memory
ORDER BY p95_memory DESC
