-- do-q3 in InfluxDB 3 SQL: the Timestream multi-measure query unchanged but for the interval.
WITH microservice_cell_avg AS (
    SELECT cell, microservice_name, avg(disk_used) AS microservice_avg_metric
    FROM metrics
    WHERE region = {region} AND microservice_name = {microservice}
        AND time BETWEEN {end} - INTERVAL '1 hour' AND {end}
    GROUP BY cell, microservice_name
), instance_avg AS (
    SELECT cell, microservice_name, instance_name, avg(disk_used) AS instance_avg_metric
    FROM metrics
    WHERE region = {region} AND microservice_name = {microservice}
        AND time BETWEEN {end} - INTERVAL '1 hour' AND {end}
    GROUP BY instance_name, cell, microservice_name
)
SELECT i.*, m.microservice_avg_metric
FROM microservice_cell_avg m INNER JOIN instance_avg i
    ON i.cell = m.cell AND i.microservice_name = m.microservice_name
WHERE i.instance_avg_metric > (1 + 0.2) * m.microservice_avg_metric
ORDER BY i.instance_avg_metric DESC
