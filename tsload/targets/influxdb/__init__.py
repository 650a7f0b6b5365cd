"""The InfluxDB target (InfluxDB 1.x/2.x/3.x and Amazon Timestream for InfluxDB): line protocol
writes, InfluxQL or SQL queries."""
