-- do-q2 in InfluxQL: the same computation as the Timestream query (per 1-minute bin, average
-- cpu_user and cpu_system of one host group, newest bin first).
SELECT mean(cpu_user) AS avg_cpu_user, mean(cpu_system) AS avg_cpu_system
FROM metrics
WHERE region = {region} AND cell = {cell} AND silo = {silo}
    AND availability_zone = {az} AND microservice_name = {microservice} AND instance_type = {instance_type}
    AND os_version = {os_version} AND time >= {end} - 1h AND time <= {end}
GROUP BY time(1m) fill(none)
ORDER BY time DESC
