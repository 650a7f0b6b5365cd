WITH per_instance_cpu AS (
    SELECT microservice_name, instance_name, bin(time, 15m) AS time_bin, avg(measure_value::double) AS avg_cpu
    FROM {db}.{table}
    WHERE measure_name = 'cpu_user' AND region = {region} AND cell = {cell}
        AND time BETWEEN {end} - 3d AND {end}
    GROUP BY microservice_name, instance_name, bin(time, 15m)
), per_hour_p95 AS (
    SELECT microservice_name, hour(time_bin) AS hour_of_day, bin(time_bin, 24h) AS day,
        approx_percentile(avg_cpu, 0.95) AS p95_cpu
    FROM per_instance_cpu
    GROUP BY microservice_name, hour(time_bin), bin(time_bin, 24h)
), ranked AS (
    SELECT microservice_name, day, hour_of_day, p95_cpu,
        dense_rank() OVER (PARTITION BY microservice_name, day ORDER BY p95_cpu DESC) AS rank
    FROM per_hour_p95
)
SELECT microservice_name, day, hour_of_day, round(p95_cpu, 2) AS p95_cpu, rank
FROM ranked
WHERE rank <= 3
ORDER BY microservice_name, day DESC, rank
