"""The DevOps workload's fixed vocabulary (spec §1–2): regions, microservices, names, orders."""

from __future__ import annotations

#: (region, cells in region, silos per cell), in enumeration order.
REGIONS: tuple[tuple[str, int, int], ...] = (
    ("us-east-1", 15, 3),
    ("us-east-2", 2, 2),
    ("us-west-1", 6, 2),
    ("us-west-2", 2, 2),
    ("eu-west-1", 10, 2),
    ("ap-northeast-1", 5, 3),
)

#: (name, instances per silo per host-scale unit, instance_type, os_version, processes, jdk_version)
MICROSERVICES: tuple[tuple[str, int, str, str, tuple[str, ...], str], ...] = (
    ("apollo", 3, "r5.4xlarge", "AL2", ("server",), "JDK_11"),
    ("athena", 1, "m5.8xlarge", "AL2012", ("server", "host_manager"), "JDK_8"),
    ("demeter", 1, "c5.16xlarge", "AL2012", ("server", "host_manager"), "JDK_8"),
    ("hercules", 2, "r5.4xlarge", "AL2012", ("server",), "JDK_8"),
    ("zeus", 3, "m5.4xlarge", "AL2", ("server",), "JDK_11"),
)

METRIC_DIMENSION_NAMES: tuple[str, ...] = (
    "region",
    "cell",
    "silo",
    "availability_zone",
    "microservice_name",
    "instance_type",
    "os_version",
    "instance_name",
)
EVENT_DIMENSION_NAMES: tuple[str, ...] = (
    "region",
    "cell",
    "silo",
    "availability_zone",
    "microservice_name",
    "instance_name",
    "process_name",
    "jdk_version",
)

#: Emission order of the 20 metrics.
METRIC_NAMES: tuple[str, ...] = (
    "cpu_user",
    "cpu_system",
    "cpu_steal",
    "cpu_iowait",
    "cpu_nice",
    "cpu_hi",
    "cpu_si",
    "cpu_idle",
    "memory_free",
    "memory_used",
    "memory_cached",
    "disk_io_reads",
    "disk_io_writes",
    "latency_per_read",
    "latency_per_write",
    "network_bytes_in",
    "network_bytes_out",
    "disk_used",
    "disk_free",
    "file_descriptors_in_use",
)
#: The sample's declared order (only used where the sample's byte estimates use it; same names).
DECLARED_METRIC_NAMES: tuple[str, ...] = (
    "cpu_user",
    "cpu_system",
    "cpu_idle",
    "cpu_iowait",
    "cpu_steal",
    "cpu_nice",
    "cpu_si",
    "cpu_hi",
    *METRIC_NAMES[8:],
)
EVENT_NAMES: tuple[str, ...] = ("task_completed", "task_end_state", "gc_reclaimed", "gc_pause", "memory_free")
EVENT_TYPES: tuple[str, ...] = ("BIGINT", "VARCHAR", "DOUBLE", "DOUBLE", "DOUBLE")

TASK_END_STATES: tuple[str, ...] = (
    "SUCCESS_WITH_NO_RESULT",
    "SUCCESS_WITH_RESULT",
    "INTERNAL_ERROR",
    "USER_ERROR",
    "UNKNOWN",
    "THROTTLED",
)
TASK_END_STATE_PROBABILITIES: tuple[float, ...] = (0.20, 0.70, 0.01, 0.07, 0.01, 0.01)

MULTI_MEASURE_NAMES: dict[str, str] = {"metrics": "metrics", "events": "events"}
REQUEST_ID_NAME = "request_id"
KINDS: tuple[str, ...] = ("metrics", "events")
#: Per kind: the names of its dimensions and of its measures, in emission order.
DIMENSION_NAMES: dict[str, tuple[str, ...]] = {
    "metrics": METRIC_DIMENSION_NAMES,
    "events": EVENT_DIMENSION_NAMES,
}
MEASURE_NAMES: dict[str, tuple[str, ...]] = {"metrics": METRIC_NAMES, "events": EVENT_NAMES}

#: Hosts per silo per host-scale unit (3+1+1+2+3) and event sets per silo per unit (3+2+2+2+3).
HOSTS_PER_SILO_UNIT = sum(m[1] for m in MICROSERVICES)
EVENT_SETS_PER_SILO_UNIT = sum(m[1] * len(m[4]) for m in MICROSERVICES)
N_SILOS = sum(cells * silos for _, cells, silos in REGIONS)
