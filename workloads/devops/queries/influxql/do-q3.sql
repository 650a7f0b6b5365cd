-- do-q3 in InfluxQL. Differs: InfluxQL has no joins, so the two aggregates of the Timestream
-- query are two statements of one request (the server computes both, over the same points), and
-- the final step (instances more than 20% above their cell's average, highest first) is not
-- applied: the answer holds every instance's average and every (cell, microservice) average.
SELECT mean(disk_used) AS microservice_avg_metric
FROM metrics
WHERE region = {region} AND microservice_name = {microservice} AND time >= {end} - 1h AND time <= {end}
GROUP BY cell, microservice_name;
SELECT mean(disk_used) AS instance_avg_metric
FROM metrics
WHERE region = {region} AND microservice_name = {microservice} AND time >= {end} - 1h AND time <= {end}
GROUP BY cell, microservice_name, instance_name
