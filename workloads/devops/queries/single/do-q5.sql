WITH per_instance_memory_used AS (
    SELECT silo, microservice_name, instance_name, bin(time, 5m) AS time_bin,
        max(measure_value::double) AS max_memory
    FROM {db}.{table}
    WHERE measure_name = 'memory_used' AND region = {region} AND cell = {cell} AND silo = {silo}
        AND availability_zone = {az} AND time BETWEEN {end} - 1d AND {end}
    GROUP BY silo, microservice_name, instance_name, bin(time, 5m)
), per_microservice_memory AS (
    SELECT silo, microservice_name, approx_percentile(max_memory, 0.95) AS p95_max_memory
    FROM per_instance_memory_used
    GROUP BY silo, microservice_name
), per_silo_ranked AS (
    SELECT silo, microservice_name, p95_max_memory,
        dense_rank() OVER (PARTITION BY silo ORDER BY p95_max_memory DESC) AS rank
    FROM per_microservice_memory
), per_instance_p95 AS (
    SELECT m.silo, m.microservice_name, m.instance_name, approx_percentile(m.max_memory, 0.95) AS p95_memory
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
    round(min(e.measure_value::double), 2) AS min_gc_pause,
    round(avg(e.measure_value::double), 2) AS avg_gc_pause,
    round(stddev(e.measure_value::double), 2) AS stddev_gc_pause,
    round(approx_percentile(e.measure_value::double, 0.5), 2) AS p50_gc_pause,
    round(approx_percentile(e.measure_value::double, 0.9), 2) AS p90_gc_pause,
    round(approx_percentile(e.measure_value::double, 0.99), 2) AS p99_gc_pause
FROM top_instances t INNER JOIN {db}.{table} e
    ON t.silo = e.silo AND t.microservice_name = e.microservice_name AND t.instance_name = e.instance_name
WHERE t.rank = 1 AND e.measure_name = 'gc_pause' AND e.region = {region} AND e.cell = {cell}
    AND e.availability_zone = {az} AND e.time BETWEEN {end} - 1d AND {end}
GROUP BY t.silo, t.microservice_name, t.instance_name, t.p95_memory
ORDER BY p95_memory DESC
