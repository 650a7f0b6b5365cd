-- do-q6 in InfluxQL. Differs little: (hour of day, day) is one 1-hour bin, so the p95 per
-- microservice, hour and day is a GROUP BY time(1h) over the 15-minute averages, and the top 3
-- hours per microservice and day are TOP(p95_cpu, 3) per 1-day bin (TOP returns 3 rows on ties
-- where dense_rank <= 3 returns every tied row). PERCENTILE is exact; the rank column is absent.
SELECT top(p95_cpu, 3) AS p95_cpu
FROM (
    SELECT round(percentile(avg_cpu, 95) * 100) / 100 AS p95_cpu
    FROM (
        SELECT mean(cpu_user) AS avg_cpu FROM metrics
        WHERE region = {region} AND cell = {cell} AND time >= {end} - 3d AND time <= {end}
        GROUP BY time(15m), microservice_name, instance_name
    )
    WHERE time >= {end} - 3d AND time <= {end}
    GROUP BY time(1h), microservice_name
)
WHERE time >= {end} - 3d AND time <= {end}
GROUP BY time(1d), microservice_name
