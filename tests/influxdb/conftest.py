"""A real influxd for the InfluxDB target's tests (skipped, with how to install it, when absent)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.influxdb.server import INSTALL_HINT, InfluxServer, influxd_path


def _require_influxd() -> None:
    if influxd_path() is None:
        pytest.skip(INSTALL_HINT)


@pytest.fixture(scope="session")
def influxd() -> Iterator[InfluxServer]:
    """One influxd (auth off) shared by the session; tests use their own database names."""
    _require_influxd()
    with InfluxServer() as server:
        yield server


@pytest.fixture(scope="session")
def influxd_auth() -> Iterator[InfluxServer]:
    """A second influxd with auth enabled and one admin user `tsload` / `tsload-secret`."""
    _require_influxd()
    with InfluxServer(auth=True) as server:
        # With auth on and no user yet, influxd accepts exactly one thing: creating the admin.
        server.query("CREATE USER tsload WITH PASSWORD 'tsload-secret' WITH ALL PRIVILEGES")
        yield server
