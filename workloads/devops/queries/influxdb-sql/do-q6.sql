-- do-q6 in InfluxDB 3 SQL: the Timestream multi-measure query, with date_bin for bin and
-- date_part('hour', …) for hour(…).
WITH per_instance_cpu AS (
    SELECT microservice_name, instance_name, date_bin(INTERVAL '15 minutes', time) AS time_bin,
        avg(cpu_user) AS avg_cpu
    FROM metrics
    WHERE region = {region} AND cell = {cell}
        AND time BETWEEN {end} - INTERVAL '3 days' AND {end}
    GROUP BY microservice_name, instance_name, date_bin(INTERVAL '15 minutes', time)
), per_hour_p95 AS (
    SELECT microservice_name, date_part('hour', time_bin) AS hour_of_day,
        date_bin(INTERVAL '1 day', time_bin) AS day,
        approx_percentile_cont(avg_cpu, 0.95) AS p95_cpu
    FROM per_instance_cpu
    GROUP BY microservice_name, date_part('hour', time_bin), date_bin(INTERVAL '1 day', time_bin)
), ranked AS (
    SELECT microservice_name, day, hour_of_day, p95_cpu,
        dense_rank() OVER (PARTITION BY microservice_name, day ORDER BY p95_cpu DESC) AS rank
    FROM per_hour_p95
)
SELECT microservice_name, day, hour_of_day, round(p95_cpu, 2) AS p95_cpu, rank
FROM ranked
WHERE rank <= 3
ORDER BY microservice_name, day DESC, rank
