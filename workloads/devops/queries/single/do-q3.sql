WITH microservice_cell_avg AS (
    SELECT cell, microservice_name, avg(measure_value::double) AS microservice_avg_metric
    FROM {db}.{table}
    WHERE measure_name = 'disk_used' AND region = {region} AND microservice_name = {microservice}
        AND time BETWEEN {end} - 1h AND {end}
    GROUP BY cell, microservice_name
), instance_avg AS (
    SELECT cell, microservice_name, instance_name, avg(measure_value::double) AS instance_avg_metric
    FROM {db}.{table}
    WHERE measure_name = 'disk_used' AND region = {region} AND microservice_name = {microservice}
        AND time BETWEEN {end} - 1h AND {end}
    GROUP BY instance_name, cell, microservice_name
)
SELECT i.*, m.microservice_avg_metric
FROM microservice_cell_avg m INNER JOIN instance_avg i
    ON i.cell = m.cell AND i.microservice_name = m.microservice_name
WHERE i.instance_avg_metric > (1 + 0.2) * m.microservice_avg_metric
ORDER BY i.instance_avg_metric DESC
