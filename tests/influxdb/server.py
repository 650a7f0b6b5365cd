"""A real InfluxDB 1.x (`influxd` from the Debian package `influxdb`) as a user process.

The generated config puts data, meta and WAL under a temporary directory, serves HTTP on a free
loopback port, binds the RPC (backup/restore) service to another free loopback port and turns
every other listener and background writer off: graphite, collectd, opentsdb, udp, the query
language preview (ifql), continuous queries, the `_internal` monitor store, subscribers, usage
reporting. Readiness is `GET /ping` answering 204. `stop()` sends SIGTERM and waits (SIGKILL after
a grace period), so nothing outlives the test session.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.parse
from pathlib import Path
from typing import Any

INSTALL_HINT = "influxd not found: install it with `apt-get install -y influxdb` (Debian, InfluxDB 1.6.x)"


def influxd_path() -> str | None:
    # /usr/bin may be missing from a minimal PATH; the Debian package installs there
    found = shutil.which("influxd")
    if found is None and Path("/usr/bin/influxd").exists():
        found = "/usr/bin/influxd"
    return found


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def render_config(root: Path, http_port: int, rpc_port: int, *, auth: bool = False) -> str:
    return f"""\
reporting-disabled = true
bind-address = "127.0.0.1:{rpc_port}"

[meta]
  dir = "{root / "meta"}"
  retention-autocreate = true
  logging-enabled = false

[data]
  dir = "{root / "data"}"
  wal-dir = "{root / "wal"}"
  index-version = "inmem"
  wal-fsync-delay = "0s"
  query-log-enabled = false
  trace-logging-enabled = false

[coordinator]
  write-timeout = "10s"

[retention]
  enabled = false

[shard-precreation]
  enabled = false

[monitor]
  store-enabled = false

[subscriber]
  enabled = false

[http]
  enabled = true
  bind-address = "127.0.0.1:{http_port}"
  auth-enabled = {"true" if auth else "false"}
  log-enabled = false
  suppress-write-log = true
  pprof-enabled = false
  https-enabled = false
  unix-socket-enabled = false
  max-body-size = 25000000

[logging]
  level = "warn"
  suppress-logo = true

[ifql]
  enabled = false

[[graphite]]
  enabled = false

[[collectd]]
  enabled = false

[[opentsdb]]
  enabled = false

[[udp]]
  enabled = false

[continuous_queries]
  enabled = false
"""


class InfluxServer:
    """One influxd process on 127.0.0.1; `url` once started."""

    def __init__(self, *, auth: bool = False, binary: str | None = None) -> None:
        self.binary = binary or influxd_path()
        if self.binary is None:
            raise RuntimeError(INSTALL_HINT)
        self.auth = auth
        self.root = Path(tempfile.mkdtemp(prefix="tsload-influxd-"))
        self.http_port = 0
        self.url = ""
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = self.root / "influxd.log"

    def start(self, timeout_s: float = 30.0) -> InfluxServer:
        # A port found free may be taken before influxd binds it: retry with fresh ports.
        for _ in range(5):
            self.http_port, rpc_port = _free_port(), _free_port()
            conf = self.root / "influxdb.conf"
            conf.write_text(render_config(self.root, self.http_port, rpc_port, auth=self.auth))
            log = self.log_path.open("ab")
            self.proc = subprocess.Popen(
                [str(self.binary), "-config", str(conf)],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env={k: v for k, v in os.environ.items() if not k.startswith("INFLUXDB_")},
            )
            log.close()
            self.url = f"http://127.0.0.1:{self.http_port}"
            if self._wait_ready(timeout_s):
                return self
            self.stop()
        raise RuntimeError(f"influxd did not answer /ping; log: {self.log_tail()}")

    def _wait_ready(self, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                return False
            with contextlib.suppress(OSError, http.client.HTTPException):
                if self.request("GET", "/ping")[0] == 204:
                    return True
            time.sleep(0.05)
        return False

    def log_tail(self, n: int = 2000) -> str:
        with contextlib.suppress(OSError):
            return self.log_path.read_text(errors="replace")[-n:]
        return ""

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=60)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, resp.read()
        finally:
            conn.close()

    def query(self, q: str, db: str | None = None, *, auth: tuple[str, str] | None = None) -> Any:
        """POST /query (InfluxQL) with epoch=ms; the decoded JSON, or an AssertionError on HTTP errors."""
        params = {"q": q, "epoch": "ms"}
        if db:
            params["db"] = db
        if auth:
            params["u"], params["p"] = auth
        status, body = self.request(
            "POST",
            "/query",
            urllib.parse.urlencode(params).encode(),
            {"Content-Type": "application/x-www-form-urlencoded"},
        )
        if status != 200:
            raise AssertionError(f"influxd /query {status}: {body[:300]!r}")
        return json.loads(body)

    def write(self, db: str, lines: bytes, precision: str = "ms") -> tuple[int, bytes]:
        q = urllib.parse.urlencode({"db": db, "precision": precision})
        return self.request("POST", f"/write?{q}", lines)

    def stop(self, grace_s: float = 10.0) -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(grace_s)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> InfluxServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.cleanup()
