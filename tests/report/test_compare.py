"""`tsload compare BASELINE CANDIDATE`: side by side, relative changes, noise marking, formats."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.report.synth import T0, IngestRun, Session, write_ingest, write_session
from tsload.cli import main
from tsload.report import load_report
from tsload.report.compare import compare_reports


def _run(root: Path, seed: int, q1_median_s: float) -> Path:
    rng = np.random.default_rng(seed)
    write_session(root / "queries", Session(
        {"do-q1": rng.lognormal(np.log(q1_median_s), 0.3, 2000),
         "do-q2": rng.lognormal(np.log(0.03), 0.3, 2000)},
        started=T0, duration=40.0, index=1))
    write_ingest(root / "ingest", IngestRun(rng.exponential(0.004, 240), rng.exponential(0.15, 240),
                                            started=T0, duration=40.0, ingested=24_000))
    return root


def cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(["compare", *args])
    out, err = capsys.readouterr()
    return (exc.value.code if isinstance(exc.value.code, int) else 1), out, err


def test_a_real_change_is_marked_and_noise_is_not(tmp_path: Path) -> None:
    base = _run(tmp_path / "a", 1, 0.010)
    cand = _run(tmp_path / "b", 2, 0.020)  # do-q1 twice as slow; do-q2 the same distribution, new draws
    (rb, _), (rc, _) = load_report([base]), load_report([cand])
    cmp = compare_reports(rb, rc)
    by = {(g.name, c.metric): c for g in cmp.groups for c in g.changes}
    q1 = by[("do-q1", "p50")]
    assert q1.beyond_noise and q1.relative == pytest.approx(1.0, abs=0.1)
    assert q1.base == pytest.approx(rb.row("do-q1").latency.p50 * 1e3)  # type: ignore[union-attr]
    assert not by[("do-q2", "p50")].beyond_noise and abs(by[("do-q2", "p50")].relative or 0) < 0.05
    assert not by[("do-q1", "q/s")].beyond_noise  # same count, same wall time
    assert by[("ingest", "records/s")].relative == pytest.approx(0.0)


def test_compare_cli_formats(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = _run(tmp_path / "a", 1, 0.010)
    cand = _run(tmp_path / "b", 2, 0.020)
    code, out, err = cli([str(base), str(cand), "--format", "json"], capsys)
    assert code == 0, err
    data = json.loads(out)
    names = [g["name"] for g in data["groups"]]
    assert names == ["do-q1", "do-q2", "ingest"]
    p50 = next(c for c in data["groups"][0]["changes"] if c["metric"] == "p50")
    assert p50["beyond_noise"] and p50["relative_change"] > 0.5
    code, out, _ = cli([str(base), str(cand), "--format", "md"], capsys)
    assert code == 0 and "| do-q1 | p50 (ms) |" in out and "| * |" in out
    html_out = tmp_path / "c.html"
    code, _, err = cli([str(base), str(cand), "-o", str(html_out)], capsys)
    assert code == 0, err
    page = html_out.read_text()
    fig = page[page.index('<figure id="chart-compare-do-q1"'):]
    fig = fig[: fig.index("</figure>")]
    assert "tsload-series-0" in fig and "tsload-series-1" in fig  # both distributions on one chart
    code, _, err = cli([str(base), str(tmp_path / "missing")], capsys)
    assert code == 2 and "CANDIDATE" in err
