"""`tsload report`: merging run directories, output formats, the summariser-compatible mode, errors."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import orjson
import pytest

from tests.report.synth import T0, IngestRun, Session, write_ingest, write_session
from tsload.cli import main
from tsload.report.sample_csv import SAMPLE_HEADER
from tsload.stats import hdr


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(["report", *args])
    out, err = capsys.readouterr()
    code = exc.value.code
    return (code if isinstance(code, int) else 1), out, err


def report_json(args: list[str], capsys: pytest.CaptureFixture[str]) -> dict:  # type: ignore[type-arg]
    code, out, err = run_cli([*args, "--format", "json"], capsys)
    assert code == 0, err
    data: dict = orjson.loads(out)  # type: ignore[type-arg]
    return data


def log_latencies(root: Path, query: str) -> np.ndarray:
    """Every raw latency of ``query`` (seconds) as the synthetic sessions were given it."""
    vals = [
        float(line)
        for f in sorted(root.rglob(f".{query}.latencies"))
        for line in f.read_text().splitlines()
        if line.strip()
    ]
    return np.asarray(vals)


@pytest.fixture
def uneven_runs(tmp_path: Path) -> Path:
    """Two machines' run dirs; sessions of very different speeds (2 ms … 3 s) and sizes."""
    rng = np.random.default_rng(11)
    root = tmp_path / "runs"
    sessions = [
        # machine a: one fast, busy session and one slow one
        ("host-a", Session({"do-q1": rng.lognormal(np.log(0.002), 0.3, 1500),
                            "do-q2": rng.lognormal(np.log(0.004), 0.3, 400)},
                           started=T0, duration=60.0, process=1, index=1)),
        ("host-a", Session({"do-q1": rng.lognormal(np.log(2.0), 0.2, 25),
                            "do-q2": rng.lognormal(np.log(3.0), 0.2, 6)},
                           started=T0, duration=60.0, process=1, index=2, failed={"do-q1": 2})),
        # machine b: a medium session that started later
        ("host-b", Session({"do-q1": rng.lognormal(np.log(0.2), 0.5, 200),
                            "do-q5": np.array([], dtype=np.float64)},
                           started=T0 + 30.0, duration=60.0, process=1, index=1, timed_out={"do-q5": 1})),
    ]
    for machine, s in sessions:
        write_session(root / machine, s)
    return root


def test_merged_percentiles_equal_raw_percentiles_averaged_do_not(
    uneven_runs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = report_json([str(uneven_runs / "host-a"), str(uneven_runs / "host-b")], capsys)
    rows = {r["query"]: r for r in data["queries"]}
    assert set(rows) == {"do-q1", "do-q2", "do-q5"}
    # tsload's sessions: .hdr used, and their .log lines (failures included) agree with the summaries
    warned = [w for w in data["warnings"] if "summary CSV counts" in w or "millisecond" in w]
    assert not warned, warned
    probe = hdr.new_histogram()
    for q in ("do-q1", "do-q2"):
        raw = np.sort(log_latencies(uneven_runs, q))
        lat = rows[q]["latency"]
        assert lat["count"] == len(raw) == rows[q]["successful"]
        for p, key in ((50, "p50_s"), (90, "p90_s"), (99, "p99_s"), (99.9, "p999_s"), (100, "max_s")):
            rank = max(int(p * len(raw) / 100 + 0.5), 1)  # nearest rank, as HDR counts it
            raw_us = round(raw[rank - 1] * 1e6)
            merged_us = round(lat[key] * 1e6)
            # Equal within HDR precision: the same 3-significant-digit bucket.
            assert probe.values_are_equivalent(raw_us, merged_us), (q, p, raw_us, merged_us)
            assert abs(merged_us - raw_us) <= raw_us / 1000 + 1
        assert math.isclose(lat["mean_s"], float(raw.mean()), rel_tol=1e-3)
        assert math.isclose(lat["stddev_s"], float(raw.std()), rel_tol=2e-3)
        assert math.isclose(lat["geomean_s"], float(np.exp(np.log(raw).mean())), rel_tol=1e-3)

    # The sample's averaged table is far off: do-q1's true median is ~2 ms; averaging the three
    # sessions' medians gives ~0.7 s.
    code, out, err = run_cli(["-d", str(uneven_runs), "-o", "summary.csv", "--averaged"], capsys)
    assert code == 0, err
    avg_rows = (uneven_runs / "summary-averaged.csv").read_text().splitlines()
    avg_q1 = next(r for r in avg_rows if r.startswith("do-q1,")).split(",")
    averaged_median = float(avg_q1[5])
    merged_median = rows["do-q1"]["latency"]["p50_s"]
    assert averaged_median > 100 * merged_median
    assert "averaged" in out  # the comparison table is printed beside the merged one


def test_counts_and_rates(uneven_runs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = report_json([str(uneven_runs)], capsys)
    rows = {r["query"]: r for r in data["queries"]}
    assert data["query_sessions"] == 3
    # Sessions overlap: union of [T0, T0+60] and [T0+30, T0+90] = 90 s.
    assert data["wall_s"] == pytest.approx(90.0)
    q1 = rows["do-q1"]
    assert (q1["total"], q1["successful"], q1["failed"], q1["timed_out"]) == (1727, 1725, 2, 0)
    assert q1["queries_per_s"] == pytest.approx(1725 / 90.0)
    q5 = rows["do-q5"]
    assert (q5["total"], q5["successful"], q5["timed_out"], q5["latency"]) == (1, 0, 1, None)


def test_two_separate_run_directories(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rng = np.random.default_rng(5)
    run1, run2 = tmp_path / "run1", tmp_path / "run2"
    write_session(run1, Session({"do-q1": rng.exponential(0.01, 300)}, started=T0, duration=30.0))
    write_session(run2, Session({"do-q1": rng.exponential(0.05, 100)}, started=T0 + 1000, duration=20.0))
    write_ingest(run1 / "ingest", IngestRun(rng.exponential(0.005, 200), rng.exponential(0.2, 200),
                                            started=T0, duration=30.0, ingested=20_000,
                                            rejected_by_reason={"InvalidTime": 3},
                                            errors={"InternalServerException": 2}))
    write_ingest(run2 / "ingest", IngestRun(rng.exponential(0.010, 100), rng.exponential(0.1, 100),
                                            started=T0 + 1000, duration=20.0, ingested=10_000,
                                            rejected_by_reason={"InvalidTime": 1, "Duplicate": 2}))
    one = report_json([str(run1)], capsys)
    both = report_json([str(run1), str(run2)], capsys)
    assert both["query_sessions"] == 2 and one["query_sessions"] == 1
    assert both["wall_s"] == pytest.approx(50.0)  # disjoint runs: durations add up
    q1 = both["queries"][0]
    assert q1["successful"] == 400 and q1["queries_per_s"] == pytest.approx(400 / 50.0)
    ing = both["ingest"]
    assert ing["runs"] == 2 and ing["ingested"] == 30_000 and ing["requests"] == 300
    assert ing["rejected"] == {"total": 6, "by_reason": {"Duplicate": 2, "InvalidTime": 4}}
    assert ing["records_per_s"] == pytest.approx(30_000 / 50.0)
    assert ing["measures_per_s"] == pytest.approx(30_000 * 20 / 50.0)
    assert ing["errors"] == {"InternalServerException": 2}
    # write latency merged from both write-latency.hdr files
    merged = hdr.merge(hdr.decode((d / "ingest" / "write-latency.hdr").read_text().strip())
                       for d in (run1, run2))
    assert ing["latency_ms"]["p99"] == pytest.approx(merged.get_value_at_percentile(99) / 1000)
    assert ing["latency_ms"]["count"] == 300


def test_csv_output_header_and_cells(
    uneven_runs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "merged.csv"
    code, _, err = run_cli([str(uneven_runs), "-o", str(out)], capsys)
    assert code == 0, err
    lines = out.read_text().splitlines()
    assert lines[0].startswith(SAMPLE_HEADER + ", ")
    assert lines[0].split(", ")[:9] == SAMPLE_HEADER.split(", ")
    data = report_json([str(uneven_runs)], capsys)
    rows = {r["query"]: r for r in data["queries"]}
    q1 = lines[1].split(", ")
    lat = rows["do-q1"]["latency"]
    assert q1[:3] == ["do-q1", "1727", "1725"]
    expected = [round(lat[k], 3) for k in ("mean_s", "stddev_s", "p50_s", "p90_s", "p99_s", "geomean_s")]
    assert [float(x) for x in q1[3:9]] == expected
    assert all(len(x.split(".")[1]) <= 3 for x in q1[3:9])
    q5 = lines[3].split(", ")
    assert q5[:3] == ["do-q5", "1", "0"] and q5[3:9] == [""] * 6


def test_compat_mode_writes_inside_dir_and_ignores_its_own_output(
    uneven_runs: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Later runs must not read earlier outputs (which match *.csv too) as sessions.
    for extra in (["--averaged"], [], ["-o", "other.csv"]):
        code, _, err = run_cli(["-d", str(uneven_runs), "-o", "summary.csv", *extra], capsys)
        assert code == 0, err
        assert "warning" not in err
    assert (uneven_runs / "summary-averaged.csv").is_file()
    lines = (uneven_runs / "summary.csv").read_text().splitlines()
    assert lines[0].startswith(SAMPLE_HEADER)
    assert lines[1].split(", ")[:3] == ["do-q1", "1727", "1725"]  # summed, not averaged


def test_markdown_and_table(uneven_runs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli([str(uneven_runs), "--format", "md"], capsys)
    assert code == 0, err
    assert "| query | total | ok |" in out and "| do-q1 | 1727 | 1725 | 2 | 0 |" in out
    code, out, err = run_cli([str(uneven_runs)], capsys)
    assert code == 0, err
    assert "do-q2" in out and "p99.9" in out


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["/nonexistent/tsload-runs"], "DIR: an existing directory"),
        (["-d", "/nonexistent/tsload-runs", "-o", "x.csv"], "-d/--directory"),
        ([], "DIR: one or more run directories (or -d DIR), got none"),
        (["{empty}"], "DIR: directories holding query session or ingest run directories, got"),
        (["{runs}", "--format", "xml"], "--format: one of table, csv, md, json, html, got xml"),
    ],
)
def test_bad_input_is_one_line_exit_2(
    args: list[str], needle: str, uneven_runs: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "empty").mkdir()
    args = [a.replace("{empty}", str(tmp_path / "empty")).replace("{runs}", str(uneven_runs)) for a in args]
    code, _, err = run_cli(args, capsys)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("tsload: error: ") and needle in err


def test_corrupt_histogram_is_a_config_error(uneven_runs: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = next(uneven_runs.rglob("do-q2.hdr"))
    f.write_text("not a histogram\n")
    code, _, err = run_cli([str(uneven_runs)], capsys)
    assert code == 2 and ": an HDR histogram" in err and err.count("\n") == 1


def test_session_without_session_json_and_nested_ingest_parts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = np.random.default_rng(9)
    root = tmp_path / "run"
    d = write_session(root, Session({"do-q3": rng.exponential(0.02, 50)}, started=T0, duration=40.0,
                                    failed={"do-q3": 5}))
    (d / "session.json").unlink()  # a crashed session: counts from its summary CSV, time from .hlog
    ing = write_ingest(root / "ingest", IngestRun(rng.exponential(0.005, 40), rng.exponential(0.1, 40),
                                                   started=T0, duration=40.0, ingested=4_000))
    write_ingest(ing / "p0", IngestRun(rng.exponential(0.005, 40), rng.exponential(0.1, 40),
                                       started=T0, duration=40.0, ingested=4_000))
    data = report_json([str(root)], capsys)
    q3 = data["queries"][0]
    assert (q3["query"], q3["total"], q3["successful"], q3["failed"]) == ("do-q3", 55, 50, 5)
    assert data["wall_s"] == pytest.approx(40.0)
    assert data["ingest"]["runs"] == 1 and data["ingest"]["ingested"] == 4_000


def test_sample_produced_session_dirs_are_counted_with_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # What the original sample leaves: .sql/.log/.err and its summary CSV (an empty row one column short).
    d = tmp_path / "perf" / "us-east-1-2020-11-13-07-04-19-1-1"
    d.mkdir(parents=True)
    (d / "do-q1.sql").write_text("SELECT 1")
    (d / "do-q1.log").write_text("")
    (d / f"{d.name}-summary.csv").write_text(
        SAMPLE_HEADER + "\ndo-q1, 2956, 2956, 1.55, 0.6, 1.493, 1.94, 2.544, 1.502\ndo-q5, 3, 0, , , , ,"
    )
    code, _, err = run_cli(["-d", str(tmp_path / "perf"), "-o", "summary.csv", "--averaged"], capsys)
    assert code == 0, err
    # the empty .log disagrees with the summary: a warning names the session and both counts
    assert "tsload: warning:" in err and d.name in err and "2956" in err
    lines = (tmp_path / "perf" / "summary.csv").read_text().splitlines()
    assert lines[1].split(", ")[:9] == ["do-q1", "0", "0", "", "", "", "", "", ""]  # what the .log holds
    assert lines[2].split(", ")[:3] == ["do-q5", "3", "0"]
    avg = (tmp_path / "perf" / "summary-averaged.csv").read_text().splitlines()
    assert avg[1] == "do-q1,2956.0,2956.0,1.55,0.6,1.493,1.94,2.544,1.502"


def test_a_tsload_run_directory_reports_its_live_phase(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = np.random.default_rng(8)
    run = tmp_path / "run"
    write_ingest(run / "backfill", IngestRun(rng.exponential(0.005, 100), rng.exponential(0.2, 100),
                                             started=T0, duration=10.0, ingested=1_000_000))
    write_ingest(run / "ingest", IngestRun(rng.exponential(0.005, 50), rng.exponential(0.2, 50),
                                           started=T0 + 10, duration=30.0, ingested=9_000))
    write_session(run / "queries",
                  Session({"do-q1": rng.exponential(0.01, 50)}, started=T0 + 10, duration=30.0))
    without_marker = report_json([str(run)], capsys)
    assert without_marker["ingest"]["runs"] == 2  # any other directory tree: every ingest run merged
    (run / "run.json").write_text("{}")
    live = report_json([str(run)], capsys)
    assert live["ingest"]["runs"] == 1 and live["ingest"]["ingested"] == 9_000
    assert any("backfill" in w for w in live["warnings"])
    backfill = report_json([str(run / "backfill")], capsys)  # asked for by name: reported
    assert backfill["ingest"]["ingested"] == 1_000_000
