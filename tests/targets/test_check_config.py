"""Each target refuses the settings that are not its own (`tsload.targets.check_config`), in fields."""

from __future__ import annotations

from pathlib import Path

import pytest

from tsload._errors import ConfigError
from tsload.targets import TargetConfig, check_config


@pytest.mark.parametrize(
    ("cfg", "subject", "allowed"),
    [
        (TargetConfig(kind="mongo"), "target.kind", "one of timestream, influxdb"),
        (TargetConfig(influx_api="v2"), "target.influx_api", "only with {target.kind} influxdb"),
        (TargetConfig(influx_org="o"), "target.influx_org", "only with {target.kind} influxdb"),
        (TargetConfig(token_file=Path("t")), "target.token_file", "only with {target.kind} influxdb"),
        (TargetConfig(gzip=True), "target.gzip", "only with {target.kind} influxdb"),
        (
            TargetConfig(kind="influxdb", endpoint="http://127.0.0.1:8086", region="us-east-1"),
            "target.region",
            "a Timestream setting, not used with {target.kind} influxdb",
        ),
        (
            TargetConfig(kind="influxdb", endpoint="http://127.0.0.1:8086", profile="p"),
            "target.profile",
            "a Timestream setting, not used with {target.kind} influxdb",
        ),
        (
            TargetConfig(kind="influxdb"),
            "target.endpoint",
            "an InfluxDB URL with {target.kind} influxdb (e.g. http://127.0.0.1:8086)",
        ),
    ],
)
def test_a_target_refuses_what_is_not_its_own(cfg: TargetConfig, subject: str, allowed: str) -> None:
    with pytest.raises(ConfigError) as info:
        check_config(cfg)
    assert (info.value.subject, info.value.allowed) == (subject, allowed)


@pytest.mark.parametrize(
    "cfg",
    [
        TargetConfig(),
        TargetConfig(region="us-east-1", profile="p", endpoint="http://127.0.0.1:8000"),
        TargetConfig(kind="influxdb", endpoint="http://127.0.0.1:8086", influx_api="v2", influx_org="o",
                     token_file=Path("t"), gzip=True),
    ],
)
def test_a_target_accepts_its_own_settings(cfg: TargetConfig) -> None:
    check_config(cfg)


def test_opening_refuses_them_too() -> None:
    """A library user who never goes through the CLI: open_target checks before anything starts."""
    from tsload.targets import open_target

    with pytest.raises(ConfigError) as info:
        open_target(TargetConfig(endpoint="http://127.0.0.1:9", gzip=True))
    assert info.value.subject == "target.gzip"
