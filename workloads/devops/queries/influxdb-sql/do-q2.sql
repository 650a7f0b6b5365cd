-- do-q2 in InfluxDB 3 SQL: the Timestream multi-measure query, date_bin for bin.
SELECT date_bin(INTERVAL '1 minute', time) AS time_bin, avg(cpu_user) AS avg_cpu_user,
    avg(cpu_system) AS avg_cpu_system
FROM metrics
WHERE region = {region} AND cell = {cell} AND silo = {silo}
    AND availability_zone = {az} AND microservice_name = {microservice} AND instance_type = {instance_type}
    AND os_version = {os_version} AND time BETWEEN {end} - INTERVAL '1 hour' AND {end}
GROUP BY date_bin(INTERVAL '1 minute', time)
ORDER BY time_bin DESC
