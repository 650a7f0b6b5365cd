-- do-q4 in InfluxQL. Differs only in form: rounding is round(x * 100) / 100, and the answer is
-- one series per (region, silo, cell, microservice) with its hourly bins newest first (InfluxQL
-- orders series by their tags, rows by time).
SELECT count(cpu_user) AS num_samples,
    round(mean(cpu_user) * 100) / 100 AS avg_cpu_user, round(max(cpu_user) * 100) / 100 AS max_cpu_user,
    round(mean(memory_used) * 100) / 100 AS avg_memory_used,
    round(max(memory_used) * 100) / 100 AS max_memory_used
FROM metrics
WHERE microservice_name = {microservice} AND time >= {end} - 3h AND time <= {end}
GROUP BY region, silo, cell, microservice_name, time(1h) fill(none)
ORDER BY time DESC
