-- do-q4 in InfluxDB 3 SQL: the Timestream multi-measure query, date_bin for bin.
SELECT region, silo, cell, microservice_name, date_bin(INTERVAL '1 hour', time) AS hour,
    count(*) AS num_samples,
    round(avg(cpu_user), 2) AS avg_cpu_user, round(max(cpu_user), 2) AS max_cpu_user,
    round(avg(memory_used), 2) AS avg_memory_used, round(max(memory_used), 2) AS max_memory_used
FROM metrics
WHERE microservice_name = {microservice} AND time BETWEEN {end} - INTERVAL '3 hours' AND {end}
GROUP BY region, silo, cell, microservice_name, date_bin(INTERVAL '1 hour', time)
ORDER BY region, silo, cell, microservice_name, hour DESC
