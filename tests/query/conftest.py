"""A moto server for the query tests: an independent peer on the wire with canned query results."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator

import pytest

from tests.conftest import free_port


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    try:
        canned = {
            "QueryId": "moto-q",
            "Rows": [
                {"Data": [{"ScalarValue": "eu-west-1"}, {"ScalarValue": "1.5"}]},
                {"Data": [{"ScalarValue": "eu-west-1"}, {"NullValue": True}]},
            ],
            "ColumnInfo": [
                {"Name": "region", "Type": {"ScalarType": "VARCHAR"}},
                {"Name": "v", "Type": {"ScalarType": "DOUBLE"}},
            ],
        }
        # moto's API: "null" = the results for any query string not listed
        req = urllib.request.Request(
            url + "/moto-api/static/timestream/query-results",
            data=json.dumps({"results": {"null": [canned] * 100}}).encode(),
            method="POST",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req) as r:
            assert r.status == 201
        yield url
    finally:
        server.stop()
