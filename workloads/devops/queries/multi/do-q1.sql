SELECT bin(time, 1m) AS time_bin, count(DISTINCT instance_name) AS num_hosts,
    round(avg(memory_used), 2) AS avg_value,
    round(approx_percentile(memory_used, 0.9), 2) AS p90_value,
    round(approx_percentile(memory_used, 0.95), 2) AS p95_value,
    round(approx_percentile(memory_used, 0.99), 2) AS p99_value
FROM {db}.{table}
WHERE measure_name = 'metrics' AND region = {region} AND cell = {cell} AND silo = {silo}
    AND availability_zone = {az} AND microservice_name = {microservice}
    AND time BETWEEN {end} - 1h AND {end}
GROUP BY region, cell, silo, availability_zone, microservice_name, bin(time, 1m)
ORDER BY p99_value DESC
