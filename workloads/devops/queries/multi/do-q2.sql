SELECT bin(time, 1m) AS time_bin, avg(cpu_user) AS avg_cpu_user, avg(cpu_system) AS avg_cpu_system
FROM {db}.{table}
WHERE measure_name = 'metrics' AND region = {region} AND cell = {cell} AND silo = {silo}
    AND availability_zone = {az} AND microservice_name = {microservice} AND instance_type = {instance_type}
    AND os_version = {os_version} AND time BETWEEN {end} - 1h AND {end}
GROUP BY bin(time, 1m)
ORDER BY time_bin DESC
