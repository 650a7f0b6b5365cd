SELECT region, silo, cell, microservice_name, bin(time, 1h) AS hour, count(*) AS num_samples,
    round(avg(cpu_user), 2) AS avg_cpu_user, round(max(cpu_user), 2) AS max_cpu_user,
    round(avg(memory_used), 2) AS avg_memory_used, round(max(memory_used), 2) AS max_memory_used
FROM {db}.{table}
WHERE measure_name = 'metrics' AND microservice_name = {microservice}
    AND time BETWEEN {end} - 3h AND {end}
GROUP BY region, silo, cell, microservice_name, bin(time, 1h)
ORDER BY region, silo, cell, microservice_name, hour DESC
