"""Security: credentials never written anywhere, table-sourced query parameters stay literals, the
engine binds loopback only unless told otherwise (and then warns), engine data is user-only."""

from __future__ import annotations

import os
import re
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest
import sqlglot
from sqlglot import exp

from tests.reliability._proc import EngineProcess, Result, tsload
from tests.reliability._results import record
from tsload.query.params import QueryParams, render, sql_identifier

# Recognisable fake credentials: none of these strings may appear in anything tsload prints or writes.
ACCESS_KEY = "AKIATSLOADCANARY7Q2X"
SECRET_KEY = "tsloadSECRETcanary/9f8e7d6c5b4a3210zyxwvu"
SESSION_TOKEN = "tsloadSESSIONcanaryTOKEN0123456789abcdef"
CANARIES = (ACCESS_KEY, SECRET_KEY, SESSION_TOKEN)

# A dimension value an attacker could plant in the table (spec: --params table reads host values back).
PLANTED = "i-evil' OR '1'='1'; DROP TABLE \"devops\".\"host_metrics\"; -- {db} \\' \""
TEMPLATE = (
    "SELECT count(*) AS n FROM {db}.{table}\n"
    "WHERE instance_name = {instance_name} AND region = {region} AND time BETWEEN {end} - 1h AND {end}\n"
)


def _canary_env(tmp: Path) -> dict[str, str]:
    return {
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_SESSION_TOKEN": SESSION_TOKEN,
        "AWS_CONFIG_FILE": str(tmp / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp / "no-aws-credentials"),
        "HOME": str(tmp),  # the default query log dir (~/timestream_perf) lands in tmp too
    }


def _workload(root: Path, template: str) -> Path:
    for model in ("single", "multi"):
        (root / "queries" / model).mkdir(parents=True, exist_ok=True)
        (root / "queries" / model / "probe.sql").write_text(template)
    (root / "config.ini").write_text(
        "[default]\nquery_mode = regular\nrepetitions = 2\nretries = 1\n[query_distribution]\nprobe = 1\n"
    )
    return root


def _leaks(root: Path, outputs: list[Result]) -> list[str]:
    found = []
    for res in outputs:
        for c in CANARIES:
            if c in res.stdout or c in res.stderr:
                found.append(f"stdout/stderr of tsload {' '.join(res.argv)} contains {c[:12]}…")
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for c in CANARIES:
                if c.encode() in data:
                    found.append(f"{path} contains {c[:12]}…")
    return found


def test_credentials_never_appear_in_output_logs_or_run_dirs(tmp_path: Path) -> None:
    env = _canary_env(tmp_path)
    workload = _workload(tmp_path / "workload", TEMPLATE)
    outputs: list[Result] = []
    with EngineProcess(tmp_path / "engine-data", log=tmp_path / "engine.log") as engine:
        ingest_args = ["ingest", "-e", engine.url, "--host-scale", "1", "--interval-millis", "60000",
                       "--backfill", "2m", "--duration", "0", "-p", "2",
                       "--out", str(tmp_path / "ingest-run")]
        # watch the process tree's command lines while it runs (keys must not be passed on argv)
        proc = subprocess.Popen([sys.executable, "-m", "tsload", *ingest_args], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env={**os.environ, **env}, cwd=tmp_path)
        on_argv = False
        while proc.poll() is None:
            on_argv |= any(c in _cmdlines() for c in CANARIES)
            time.sleep(0.05)
        out, err = proc.communicate()
        outputs.append(Result(tuple(ingest_args), proc.returncode, out, err))
        assert proc.returncode == 0, err[-2000:]
        # error paths: a database name the target refuses (tsload's own name check passes it, so the
        # refusal comes back over the wire), queries that fail or time out, cleanup
        outputs.append(tsload("ingest", "-e", engine.url, "-d", "main", "--host-scale", "1",
                              "--duration", "1", env=env, cwd=tmp_path))
        assert outputs[-1].returncode == 1
        for params in ("model", "table"):
            outputs.append(tsload("query", "-e", engine.url, "--workload", str(workload),
                                  "--params", params, "--host-scale", "1", "--think-time-milliseconds", "0",
                                  "--timeout", "5", "-l", str(tmp_path / f"query-{params}"),
                                  env=env, cwd=tmp_path, timeout=120))
        outputs.append(tsload("cleanup", "-e", engine.url, env=env, cwd=tmp_path))
        assert outputs[-1].returncode == 0, outputs[-1].stderr
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    leaks = _leaks(tmp_path, outputs)
    record("credentials canary", files_checked=len(written), outputs_checked=len(outputs),
           leaks=len(leaks) + int(on_argv))
    assert not on_argv, "a credential was visible on a process command line"
    assert leaks == []
    # the grep was over real artefacts: run directory, query session logs, engine data and log
    assert any(w.startswith("ingest-run/") and w.endswith("ingest-summary.json") for w in written)
    assert any(w.startswith("query-model/") and w.endswith("session.json") for w in written)
    assert any(w.startswith("engine-data/") for w in written)


def _cmdlines() -> str:
    parts = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                parts.append((d / "cmdline").read_bytes().decode(errors="replace"))
            except OSError:
                continue
    return "\n".join(parts)


def _one_literal_statement(sql: str) -> list[str]:
    """Parse as Trino (Timestream's dialect): exactly one SELECT; return its string literals."""
    cleaned = re.sub(r"\b(\d+)(ns|us|ms|s|m|h|d)\b", r"INTERVAL '\1' HOUR", sql)  # duration literals
    statements = [s for s in sqlglot.parse(cleaned, read="trino") if s is not None]
    assert len(statements) == 1, statements
    assert isinstance(statements[0], exp.Select)
    assert not list(statements[0].find_all(exp.Drop, exp.Delete, exp.Insert, exp.Update))
    return [lit.this for lit in statements[0].find_all(exp.Literal) if lit.is_string]


def test_table_params_render_as_one_harmless_literal() -> None:
    params = QueryParams(region=PLANTED, cell="c", silo="s", az="a", microservice="m", instance_type="t",
                         os_version="o", instance_name=PLANTED, process_name="p", jdk_version="j")
    sql = render(TEMPLATE, database='dev"ops', table="host_metrics", end="now()", params=params)
    literals = _one_literal_statement(sql)
    assert literals.count(PLANTED) == 2  # both placeholders, each exactly the planted text
    assert "{db}" not in sql.replace("'", "").split("FROM", 1)[0]  # no second round of substitution
    assert sql_identifier('dev"ops') in sql


def _engine_has_sql(url: str) -> bool:
    client = boto3.client("timestream-query", endpoint_url=url, region_name="us-east-1",
                          aws_access_key_id="k", aws_secret_access_key="k")
    try:
        client.query(QueryString="SELECT 1")
    except client.exceptions.ValidationException as exc:
        if "not available" in str(exc):
            return False
        raise
    return True


def test_planted_dimension_through_params_table(tmp_path: Path) -> None:
    """Plant the value with write_records, let `tsload query --params table` read it back and fill
    the workload: the generated .sql keeps it one literal (and, with the engine's SQL, it matches
    exactly the planted rows and drops nothing)."""
    with EngineProcess(tmp_path / "data", log=tmp_path / "engine.log") as engine:
        kw = dict(endpoint_url=engine.url, region_name="us-east-1", aws_access_key_id="k",
                  aws_secret_access_key="k")
        write = boto3.client("timestream-write", **kw)
        write.create_database(DatabaseName="devops")
        write.create_table(DatabaseName="devops", TableName="host_metrics")
        now_ms = int(time.time() * 1000)
        metric_dims = [("region", PLANTED), ("cell", "c"), ("silo", "s"), ("availability_zone", "a"),
                       ("microservice_name", "m"), ("instance_type", "t"), ("os_version", "o"),
                       ("instance_name", PLANTED)]
        event_dims = [("instance_name", PLANTED), ("process_name", "p"), ("jdk_version", "j")]
        records = [
            {"Dimensions": [{"Name": n, "Value": v} for n, v in dims], "MeasureName": name,
             "MeasureValue": "1", "MeasureValueType": "DOUBLE", "Time": str(now_ms - 1000 * i)}
            for i in range(3)
            for dims, name in ((metric_dims, "cpu_user"), (event_dims, "task_completed"))
        ]
        write.write_records(DatabaseName="devops", TableName="host_metrics", Records=records)
        has_sql = _engine_has_sql(engine.url)
        res = tsload("query", "-e", engine.url, "--workload", str(_workload(tmp_path / "wl", TEMPLATE)),
                     "--params", "table", "--think-time-milliseconds", "0", "--timeout", "10",
                     "--seed", "1", "-l", str(tmp_path / "logs"), cwd=tmp_path, timeout=120)
        tables = write.list_tables(DatabaseName="devops")["Tables"]
    assert "Traceback" not in res.stderr
    assert [t["TableName"] for t in tables] == ["host_metrics"]  # nothing was dropped
    if not has_sql:
        # Without the engine's SQL module the table lookup cannot run: the session must say so
        # and not die; the rendering itself is proven by test_table_params_render_as_one_harmless_literal.
        assert res.returncode == 0 or "tsload: error:" in res.stderr, res.stderr[-2000:]
        return
    sql_files = list((tmp_path / "logs").rglob("probe.sql"))
    assert sql_files, res.stderr[-2000:]
    for f in sql_files:
        assert _one_literal_statement(f.read_text()).count(PLANTED) == 2
    logs = list((tmp_path / "logs").rglob("probe.log"))
    assert logs and all(line.rsplit("Rows: ", 1)[-1].strip() == "1" for f in logs for line in
                        f.read_text().splitlines() if line.strip())


def _listen_address(port: int) -> str:
    """The local address a LISTEN socket on `port` is bound to, from /proc/net/tcp{,6}."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            addr, p = fields[1].rsplit(":", 1)
            if int(p, 16) == port and fields[3] == "0A":
                if len(addr) == 8:
                    return socket.inet_ntoa(bytes.fromhex(addr)[::-1])
                return addr
    raise AssertionError(f"nothing listens on port {port}")


def test_engine_binds_loopback_by_default_and_data_is_user_only(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with EngineProcess(data) as engine:
        assert engine.url.startswith("http://127.0.0.1:")
        assert _listen_address(engine.port) == "127.0.0.1"
        write = boto3.client("timestream-write", endpoint_url=engine.url, region_name="us-east-1",
                             aws_access_key_id="k", aws_secret_access_key="k")
        write.create_database(DatabaseName="devops")
        write.create_table(DatabaseName="devops", TableName="tbl1")
        write.write_records(DatabaseName="devops", TableName="tbl1", Records=[
            {"Dimensions": [{"Name": "h", "Value": "x"}], "MeasureName": "m", "MeasureValue": "1",
             "Time": str(int(time.time() * 1000))}])
        engine_files = [data, *data.rglob("*")]
    modes = {str(p.relative_to(tmp_path)): stat.S_IMODE(p.stat().st_mode) for p in engine_files if p.exists()}
    record("engine data permissions", files_checked=len(modes), modes={k: oct(v) for k, v in modes.items()})
    assert len(modes) >= 2
    for path, mode in modes.items():
        assert mode & 0o077 == 0, f"{path} is {oct(mode)}: readable or writable by group/others"


def test_allow_remote_warns(tmp_path: Path) -> None:
    # A wildcard bind is refused without --allow-remote (test_bad_input: serve-non-loopback); with it
    # the engine starts and warns. Bound for a moment in this sandbox, nothing is sent anywhere.
    proc = subprocess.Popen(
        [sys.executable, "-m", "tsload", "serve", "--data", str(tmp_path / "d"), "--port", "0",
         "--host", "0.0.0.0", "--allow-remote"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "tsload engine listening on http://" in line
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=30)
    assert "warning" in err and "0.0.0.0" in err, err
    assert len([x for x in err.splitlines() if "warning" in x]) == 1


@pytest.mark.parametrize("kind", ["ingest", "query"])
def test_run_directories_are_user_only(tmp_path: Path, kind: str) -> None:
    """Ingest's --out directory and query's session directories, and every file in them, have no
    group/other permission bits whatever the umask (finding F12, fixed in both)."""
    if kind == "ingest":
        res = tsload("ingest", "--local-data", str(tmp_path / "data"), "--host-scale", "1",
                     "--interval-millis", "60000", "--backfill", "1m", "--duration", "0",
                     "--out", str(tmp_path / "run"), cwd=tmp_path)
    else:
        res = tsload("query", "--local-data", str(tmp_path / "data"), "--workload",
                     str(_workload(tmp_path / "wl", TEMPLATE)), "--params", "model", "--host-scale", "1",
                     "--think-time-milliseconds", "0", "-l", str(tmp_path / "run"), cwd=tmp_path, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    # query's -l directory is shared by runs (like ~/timestream_perf): each run's sessions are below it
    paths = [*(tmp_path / "run").rglob("*")]
    if kind == "ingest":
        paths.append(tmp_path / "run")
    modes = {str(p.relative_to(tmp_path)): stat.S_IMODE(p.stat().st_mode) for p in paths}
    record(f"{kind} run dir permissions", files_checked=len(modes),
           user_only=all(m & 0o077 == 0 for m in modes.values()),
           modes=sorted({oct(m) for m in modes.values()}))
    assert len(modes) >= 3
    assert all(m & 0o077 == 0 for m in modes.values()), modes


# -- the InfluxDB target: tokens and passwords from the environment or --token-file only ----------

INFLUX_PASSWORD = "tsloadINFLUXpasswordCANARY5c4b3a2"
INFLUX_TOKEN = "tsloadINFLUXtokenCANARY0f1e2d3c4b5a"
INFLUX_CANARIES = (INFLUX_PASSWORD, INFLUX_TOKEN)


def _influx_leaks(root: Path, outputs: list[Result]) -> list[str]:
    found = []
    for res in outputs:
        for c in INFLUX_CANARIES:
            if c in res.stdout or c in res.stderr:
                found.append(f"stdout/stderr of tsload {' '.join(res.argv)} contains {c[:12]}…")
    for path in root.rglob("*"):
        if path.is_file() and path.name != "token":  # the token file itself holds it, by design
            data = path.read_bytes()
            for c in INFLUX_CANARIES:
                if c.encode() in data:
                    found.append(f"{path} contains {c[:12]}…")
    return found


def test_influx_credentials_never_appear_in_output_logs_or_run_dirs(tmp_path: Path) -> None:
    from tests.influxdb.server import INSTALL_HINT, InfluxServer, influxd_path

    if influxd_path() is None:
        pytest.skip(INSTALL_HINT)
    home = {"HOME": str(tmp_path)}
    env = {**home, "INFLUX_USERNAME": "tsload", "INFLUX_PASSWORD": INFLUX_PASSWORD}
    bad = {**home, "INFLUX_USERNAME": "tsload", "INFLUX_PASSWORD": INFLUX_PASSWORD + "x"}
    token_file = tmp_path / "token"
    token_file.write_text(INFLUX_TOKEN + "\n")
    outputs: list[Result] = []
    with InfluxServer(auth=True) as server:
        server.query(f"CREATE USER tsload WITH PASSWORD '{INFLUX_PASSWORD}' WITH ALL PRIVILEGES")
        target = ["--target", "influxdb", "-e", server.url]
        args = ["ingest", *target, "--host-scale", "1", "--interval-millis", "60000", "--backfill", "2m",
                "--duration", "0", "-p", "2", "--out", str(tmp_path / "ingest-run")]
        proc = subprocess.Popen([sys.executable, "-m", "tsload", *args], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, env={**os.environ, **env}, cwd=tmp_path)
        on_argv = False
        while proc.poll() is None:
            on_argv |= any(c in _cmdlines() for c in INFLUX_CANARIES)
            time.sleep(0.05)
        out, err = proc.communicate()
        outputs.append(Result(tuple(args), proc.returncode, out, err))
        assert proc.returncode == 0, err[-2000:]
        for params in ("model", "table"):
            outputs.append(tsload("query", *target, "--params", params, "--host-scale", "1",
                                  "--think-time-milliseconds", "0", "--repetitions", "3", "--timeout", "10",
                                  "-l", str(tmp_path / f"query-{params}"),
                                  env=env, cwd=tmp_path, timeout=120))
            assert outputs[-1].returncode == 0, outputs[-1].stderr[-2000:]
        # refused credentials (a wrong password, a token file the 1.x server does not know)
        outputs.append(tsload("ingest", *target, "--host-scale", "1", "--duration", "1",
                              "--out", str(tmp_path / "refused"), env=bad, cwd=tmp_path))
        assert outputs[-1].returncode != 0 and "credentials were refused" in outputs[-1].stderr
        outputs.append(tsload("query", *target, "--token-file", str(token_file), "--params", "model",
                              "--host-scale", "1", "--repetitions", "1", "-l", str(tmp_path / "query-token"),
                              env=home, cwd=tmp_path, timeout=120))
        outputs.append(tsload("cleanup", *target, env=env, cwd=tmp_path))
        assert outputs[-1].returncode == 0, outputs[-1].stderr
    leaks = _influx_leaks(tmp_path, outputs)
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    record("influx credentials canary", files_checked=len(written), outputs_checked=len(outputs),
           leaks=len(leaks) + int(on_argv))
    assert not on_argv, "a credential was visible on a process command line"
    assert leaks == []
    assert any(w.startswith("ingest-run/") and w.endswith("ingest-summary.json") for w in written)
    assert any(w.startswith("query-table/") and w.endswith("session.json") for w in written)
