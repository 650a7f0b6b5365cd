SELECT bin(time, 1m) AS time_bin, count(DISTINCT instance_name) AS num_hosts,
    round(avg(measure_value::double), 2) AS avg_value,
    round(approx_percentile(measure_value::double, 0.9), 2) AS p90_value,
    round(approx_percentile(measure_value::double, 0.95), 2) AS p95_value,
    round(approx_percentile(measure_value::double, 0.99), 2) AS p99_value
FROM {db}.{table}
WHERE measure_name = 'memory_used' AND region = {region} AND cell = {cell} AND silo = {silo}
    AND availability_zone = {az} AND microservice_name = {microservice}
    AND time BETWEEN {end} - 1h AND {end}
GROUP BY region, cell, silo, availability_zone, microservice_name, bin(time, 1m)
ORDER BY p99_value DESC
