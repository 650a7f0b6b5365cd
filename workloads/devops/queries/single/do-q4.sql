SELECT region, silo, cell, microservice_name, bin(time, 1h) AS hour, count(*) AS num_samples,
    round(avg(CASE WHEN measure_name = 'cpu_user' THEN measure_value::double END), 2) AS avg_cpu_user,
    round(max(CASE WHEN measure_name = 'cpu_user' THEN measure_value::double END), 2) AS max_cpu_user,
    round(avg(CASE WHEN measure_name = 'memory_used' THEN measure_value::double END), 2) AS avg_memory_used,
    round(max(CASE WHEN measure_name = 'memory_used' THEN measure_value::double END), 2) AS max_memory_used
FROM {db}.{table}
WHERE measure_name IN ('cpu_user', 'memory_used') AND microservice_name = {microservice}
    AND time BETWEEN {end} - 3h AND {end}
GROUP BY region, silo, cell, microservice_name, bin(time, 1h)
ORDER BY region, silo, cell, microservice_name, hour DESC
