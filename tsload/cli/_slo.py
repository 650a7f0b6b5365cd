"""``--slo``/``--abort-on-fail``/``--slo-grace`` for ingest, query, run and report: one gate.

Thresholds are parsed before any work (a bad one: one line, exit 2). During a run with
``--abort-on-fail``, every progress tick after the grace period evaluates them on the running
totals; the first breach stops the run as Ctrl-C does (drain, files, report). At the end the
block of every threshold is printed and a failure exits 3, its last line naming what failed.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Collection, Sequence
from typing import Any

from tsload.report.live import RunningTotals
from tsload.report.slo import Slo, SloResult, block_lines, evaluate, failure_line, parse_slos

EXIT_SLO_FAILED = 3


class SloGate:
    def __init__(self, slos: Sequence[Slo], *, abort_on_fail: bool = False, grace_s: float = 10.0,
                 note: Callable[[str], None] | None = None) -> None:
        self.slos = tuple(slos)
        self.abort_on_fail = abort_on_fail and bool(self.slos)
        self.grace_s = grace_s
        self.totals = RunningTotals()
        self.breached: tuple[SloResult, ...] = ()
        self._stop: asyncio.Event | None = None
        self._note = note or (lambda text: print(text, file=sys.stderr))

    def watch(self, stop: asyncio.Event) -> None:
        """The run's stop event: set at the first breach (with --abort-on-fail)."""
        self._stop = stop

    def on_query(self, progress: Any) -> None:
        if self.slos:
            self.totals.add_query(progress)
            self._check()

    def on_ingest(self, progress: Any) -> None:
        if self.slos and getattr(progress, "phase", "live") != "backfill":
            self.totals.add_ingest(progress)
            self._check()

    def _check(self) -> None:
        if not self.abort_on_fail or self.breached or self._stop is None or self._stop.is_set():
            return
        report = self.totals.report()
        if (report.wall_s or 0.0) < self.grace_s:
            return
        # a threshold with nothing measured yet is not a breach while the run goes on
        failed = tuple(r for r in evaluate(self.slos, report) if not r.passed and r.value is not None)
        if failed:
            self.breached = failed
            self._note("--abort-on-fail: " + (failure_line(failed) or "")
                       + "; stopping (draining, writing the files)")
            self._stop.set()

    def results(self, report: Any) -> tuple[SloResult, ...]:
        return evaluate(self.slos, report) if self.slos else ()


def gate_from_flags(
    exprs: Sequence[str] | None,
    abort_on_fail: bool,
    grace: str,
    *,
    queries: Collection[str] | None = None,
    ingest: bool = True,
    query_side: bool = True,
) -> SloGate:
    """Parse every --slo now (ConfigError, exit 2, before any work)."""
    from tsload._errors import ConfigError
    from tsload._units import parse_duration

    slos = parse_slos(exprs or (), queries=queries, ingest=ingest, query_side=query_side)
    grace_s = parse_duration(grace, "--slo-grace")
    if abort_on_fail and not slos:
        raise ConfigError("--abort-on-fail", "only together with --slo EXPR (the thresholds to abort on)")
    return SloGate(slos, abort_on_fail=abort_on_fail, grace_s=grace_s)


def finish(results: Sequence[SloResult], *, block_to_stderr: bool = False) -> int:
    """Print the SLO block (stdout, or stderr when stdout carries data) and the failure line last
    (stderr); EXIT_SLO_FAILED when any threshold failed, else 0."""
    if not results:
        return 0
    sys.stdout.flush()
    out = sys.stderr if block_to_stderr else sys.stdout
    for line in block_lines(results):
        print(line, file=out)
    out.flush()
    last = failure_line(results)
    if last is None:
        return 0
    print(last, file=sys.stderr)
    return EXIT_SLO_FAILED
