"""One query session: fix parameters, run the weighted mix with think time, write its directory.

A session is a coroutine. It starts after its stagger offset, fixes its parameters (from the
table, the model or the fixed set), writes the ``.sql`` files and the begin data-point count,
then runs ``repetitions`` queries chosen by weight, each followed by its think time (none after
the last), and finally writes the end count, the summary CSV, the histograms and
``session.json``. Stopping (`stop` set) cancels the query in flight (CancelQuery is sent when it
has a QueryId; it is not counted) and still writes every file.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
import time
from array import array
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tsload._errors import TargetError
from tsload.query import params as qp
from tsload.query import samplefmt
from tsload.query.arrival import LATE_AFTER_S, ArrivalState
from tsload.query.executor import Outcome, QueryExecutor
from tsload.query.logfiles import SessionFiles, utc_iso
from tsload.query.pacing import QueryChooser, cover_share, session_seed, think_time_ms
from tsload.stats import hdr
from tsload.stats.recorder import Recorder
from tsload.targets import QueryLanguage

log = logging.getLogger(__name__)

#: the service time goes to tsload's own files only; the sample-format .log lines carry the latency
#: from the intended start
SERVICE_TIME_SUFFIX = hdr.SERVICE_TIME_SUFFIX

Sleep = Callable[[float], Awaitable[None]]
DATAPOINTS_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class SessionSpec:
    """Everything one session needs (picklable: sent to worker processes)."""

    process: int  # 1-based, as the sample
    index: int  # 1-based within the process
    directory: Path
    database: str
    table: str
    end: str  # SQL expression for {end}
    multi: bool
    query_mode: str
    repetitions: int
    templates: Mapping[str, str]
    weights: tuple[tuple[str, float], ...]
    params_source: str  # table | model | fixed
    think_ms: int
    randomized_think: bool
    start_offset_ms: int
    seed: int  # the run's seed (--seed)
    count_datapoints: bool = True
    cover_sessions: int = 0  # > 0: QueryConfig.cover_mix over this many sessions in all
    config: Mapping[str, Any] = field(default_factory=dict)  # recorded in session.json
    global_index: int = 0  # over all processes and shards (pacing.global_session_index)
    shard: tuple[int, int] | None = None
    model_events: range | None = None  # --params model: the shard's event sets (None: the whole fleet)
    # the target's query dialect (`tsload.targets.query_language`); None: Timestream SQL
    language: QueryLanguage | None = None

    @property
    def tag(self) -> str:
        return f"{self.process}-{self.index}"

    @property
    def session_seed(self) -> int:
        """Everything random in this session derives from it: (run seed, global index) only."""
        return session_seed(self.seed, self.global_index)


@dataclass
class QueryCounters:
    total: int = 0
    successful: int = 0
    failed: int = 0
    timed_out: int = 0
    retries: int = 0
    throttled: int = 0
    cancelled: int = 0
    late: int = 0  # open model: started more than 10 ms behind schedule
    dropped: int = 0  # open model: scheduled, never started (counted in the process's first session)

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class SessionResult:
    tag: str
    directory: str
    started: str | None
    ended: str | None
    counts: dict[str, dict[str, int]]
    histograms: dict[str, str]  # query -> HDR base64 V2 (µs), latency from the intended start
    params: dict[str, str] | None
    executed: int
    service_histograms: dict[str, str] = field(default_factory=dict)  # query -> service time (µs)
    arrival: dict[str, Any] | None = None  # open model: the process's schedule (first session only)


class Session:
    def __init__(
        self,
        spec: SessionSpec,
        executor: QueryExecutor,
        *,
        fleet: Any = None,
        sleep: Sleep = asyncio.sleep,
        wall_clock: Callable[[], float] = time.time,
        interval_logs: bool = True,
        recorder: Recorder | None = None,
    ) -> None:
        self.spec = spec
        self.executor = executor
        self.fleet = fleet
        self._sleep = sleep
        self._wall = wall_clock
        # Two streams: the host draw must not shift the query/think-time sequence, so a shard
        # (drawing its host from a narrower range) runs the same queries as the unsharded session.
        self.rng = random.Random(f"tsload-query:{spec.session_seed}")
        self.host_rng = random.Random(f"tsload-host:{spec.session_seed}")
        # Live progress goes to a recorder shared by the process's sessions; the session itself keeps
        # only raw latencies (8 bytes each) and builds histograms when it writes them: an HDR
        # histogram of our layout is ~190 kB, too much to hold per session and query by thousands.
        self.recorder = recorder if recorder is not None else Recorder(clock=wall_clock)
        self.counters: dict[str, QueryCounters] = {name: QueryCounters() for name, _ in spec.weights}
        # latency from the intended start, and service time from the send (equal in the closed model)
        self.latencies: dict[str, array[float]] = {name: array("d") for name, _ in spec.weights}
        self.service: dict[str, array[float]] = {name: array("d") for name, _ in spec.weights}
        # the open model: the process's schedule, whose starts this session takes from its queue
        self.arrival: ArrivalState | None = None
        self.arrival_block: dict[str, Any] | None = None  # written to session.json (first session)
        self.ready = asyncio.Event()  # set once parameters are resolved (or the session gave up)
        self._marks: dict[str, int] = dict.fromkeys(self.latencies, 0)
        self._last_tick = wall_clock()
        self.files: SessionFiles | None = None
        self.params: qp.QueryParams | None = None
        self.sql: dict[str, str] = {}
        self.executed = 0
        self.started: str | None = None
        self.ended: str | None = None
        self._hlogs: Any = None
        self._interval_logs = interval_logs
        self._encodings: dict[tuple[str, bool], tuple[int, str]] = {}

    # -- the parts -------------------------------------------------------------------------------
    async def resolve_params(self) -> qp.QueryParams:
        s = self.spec
        if s.params_source == "fixed":
            return qp.FIXED_PARAMS
        if s.params_source == "model":
            if self.fleet is None:
                raise TargetError("--params model: no model fleet was given to the session")
            return qp.model_params(self.fleet, self.host_rng, s.model_events)
        lang = s.language
        events = await self.executor.run(
            lang.event_rows(s.database, s.table, s.end)
            if lang is not None
            else qp.event_rows_sql(s.database, s.table, s.end, s.multi),
            keep_rows=True,
        )
        if not events.ok:
            raise TargetError(f"--params table: cannot read {s.database}.{s.table}: {events.error}")
        rows = qp.rows_as_dicts(events.columns, events.values)
        if not rows:
            measure = "events" if s.multi else "task_completed"
            raise TargetError(
                f"--params table: no {measure} row within 12 h of {s.end} in {s.database}.{s.table}; "
                "ingest data first, or use --params model or --fixed-params"
            )
        event = rows[self.host_rng.randrange(len(rows))]
        name = event.get("instance_name") or ""
        metric = await self.executor.run(
            lang.metric_row(s.database, s.table, s.end, name)
            if lang is not None
            else qp.metric_row_sql(s.database, s.table, s.end, s.multi, name),
            keep_rows=True,
        )
        mrows = qp.rows_as_dicts(metric.columns, metric.values) if metric.ok else []
        if not mrows:
            raise TargetError(
                f"--params table: no {'metrics' if s.multi else 'cpu_user'} row of {name} within 12 h of "
                f"{s.end} in {s.database}.{s.table}" + (f" ({metric.error})" if metric.error else "")
            )
        try:
            return qp.params_from_rows(event, mrows[0])
        except KeyError as exc:
            raise TargetError(f"--params table: the table has no {exc.args[0]} value for {name}") from None

    def render_all(self, params: qp.QueryParams) -> dict[str, str]:
        s = self.spec
        out: dict[str, str] = {}
        lang = s.language
        for name, template in s.templates.items():
            if lang is not None:
                sql = lang.render(
                    template, database=s.database, table=s.table, end=s.end, params=params.as_dict()
                )
                out[name] = lang.row_count(sql) if s.query_mode == "row_count" else sql
                continue
            sql = qp.render(template, database=s.database, table=s.table, end=s.end, params=params)
            out[name] = qp.row_count(sql) if s.query_mode == "row_count" else sql
        return out

    async def count_datapoints(self, stage: str) -> None:
        assert self.files is not None
        s = self.spec
        lang = s.language
        sql = (
            lang.datapoints(s.database, s.table, s.end)
            if lang is not None
            else qp.datapoints_sql(s.database, s.table, s.end)
        )
        try:
            async with asyncio.timeout(DATAPOINTS_TIMEOUT_S):
                out = await self.executor.run(sql, keep_rows=True)
        except TimeoutError:
            out = Outcome(ok=False, elapsed_s=DATAPOINTS_TIMEOUT_S, timed_out=True, error="timed out")
        name = f"numDatapoints-{stage}"
        self.files.open_queries([name])
        if out.ok:
            self.files.success(name, 1, out.query_id, out.elapsed_s, out.rows)
            self.files.write_text(f"{name}-result.txt", samplefmt.result_table(out.columns, out.values))
        else:
            self._failure(name, 1, out, out.elapsed_s)

    def record(self, name: str, execution: int, out: Outcome, lag_s: float = 0.0) -> None:
        """Count one execution; `lag_s` is how far behind its intended start it was sent."""
        assert self.files is not None
        c = self.counters[name]
        c.total += 1
        if lag_s > LATE_AFTER_S:
            c.late += 1
            self.recorder.add_count(f"{name}|late")
        c.retries += out.retries
        c.throttled += out.throttled
        c.cancelled += int(out.cancelled)
        self.recorder.add_count(f"{name}|total")
        if out.retries:
            self.recorder.add_count(f"{name}|retries", out.retries)
        # the .log line's Time is the latency from the intended start (= service time, closed model)
        latency = lag_s + out.elapsed_s
        if out.ok:
            c.successful += 1
            self.latencies[name].append(latency)
            self.recorder.record(name, latency)
            if self.arrival is not None:
                # the closed model's service time is its latency: recorded once (an HDR record
                # costs a few µs, and every one was made twice: +25 % client CPU per query)
                self.service[name].append(out.elapsed_s)
                self.recorder.record(f"{name}|service_time", out.elapsed_s)
            self.recorder.add_count(f"{name}|ok")
            self.files.success(name, execution, out.query_id, latency, out.rows)
            return
        if out.timed_out:
            c.timed_out += 1
            self.recorder.add_count(f"{name}|timed_out")
        else:
            c.failed += 1
            self.recorder.add_count(f"{name}|failed")
        self._failure(name, execution, out, latency)

    def _failure(self, name: str, execution: int, out: Outcome, elapsed_s: float) -> None:
        assert self.files is not None
        self.files.failure(
            name,
            execution,
            query_id=out.query_id,
            request_id=out.request_id,
            elapsed_s=elapsed_s,
            error=out.error or "",
            code=out.error_code,
            retries=out.retries,
            timed_out=out.timed_out,
            cancelled=out.cancelled,
        )

    async def _queries(self) -> None:
        s = self.spec
        chooser = QueryChooser(s.weights, self.rng)
        cover = cover_share(chooser.names, s.global_index, s.cover_sessions)
        for execution in range(1, s.repetitions + 1):
            name = cover[execution - 1] if execution <= len(cover) else chooser.next()
            out = await self.executor.run(self.sql[name])
            self.executed = execution
            self.record(name, execution, out)
            if execution < s.repetitions:
                pause = think_time_ms(s.think_ms, s.randomized_think, self.rng)
                if pause > 0:
                    await self._sleep(pause / 1000.0)

    async def _open_queries(self, state: ArrivalState) -> None:
        """Take scheduled starts from the process's queue until it says the schedule is over."""
        while True:
            item = await state.queue.get()
            if item is None:
                return
            lag = state.take(item, time.perf_counter())
            name = item.arrival.query
            out = await self.executor.run(self.sql[name])
            self.executed += 1
            self.record(name, self.executed, out, lag)

    def tick(self) -> None:
        """Append the latencies since the previous tick to the ``.hlog`` files (one interval each)."""
        now = self._wall()
        start, self._last_tick = self._last_tick, now
        for name, lat in self.latencies.items():
            mark = self._marks[name]
            if len(lat) > mark:
                if self._hlogs is not None:
                    h = histogram(lat[mark:])
                    service = h if self.arrival is None else histogram(self.service[name][mark:])
                    self._hlogs.add({name: h, name + SERVICE_TIME_SUFFIX: service}, start, now)
                self._marks[name] = len(lat)

    # -- the whole session -------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> SessionResult:
        try:
            return await self._run(stop)
        finally:
            self.ready.set()

    async def _run(self, stop: asyncio.Event) -> SessionResult:
        s = self.spec
        if s.start_offset_ms > 0 and not await self._wait_or_stop(
            self._sleep(s.start_offset_ms / 1000.0), stop
        ):
            return self.result()
        if stop.is_set():
            return self.result()
        self.started = utc_iso()
        self.files = SessionFiles(s.directory, s.tag)
        if self._interval_logs:
            from tsload.stats.hlog import IntervalLogs

            self._hlogs = IntervalLogs(s.directory, start_time_s=self._wall())
        try:
            self.params = await self.resolve_params()
            self.sql = self.render_all(self.params)
            for name, sql in self.sql.items():
                self.files.write_sql(name, sql)
            self.files.open_queries([name for name, _ in s.weights])
            if s.count_datapoints:
                await self._wait_or_stop(self.count_datapoints("begin"), stop)
            self.ready.set()
            if not stop.is_set():
                queries = self._queries() if self.arrival is None else self._open_queries(self.arrival)
                await self._wait_or_stop(queries, stop)
            if s.count_datapoints:
                await self.count_datapoints("end")
        finally:
            if self.arrival is None:
                # the open model's sessions are finished by the process once the schedule's
                # dropped starts are counted (see query.worker)
                self.finish()
        return self.result()

    async def _wait_or_stop(self, work: Awaitable[Any], stop: asyncio.Event) -> bool:
        """Run `work` unless `stop` is set first (then cancel it); True when it completed."""
        task = asyncio.ensure_future(work)
        stopper = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            task.cancel()
            stopper.cancel()
            await asyncio.wait({task, stopper})
            raise
        stopper.cancel()
        if not task.done():
            task.cancel()
            await asyncio.wait({task})
            return False
        task.result()  # errors propagate
        return True

    def finish(self) -> None:
        """Write the summary CSV, histograms and session.json (idempotent)."""
        if self.files is None or self.ended is not None:
            return
        self.tick()
        if self._hlogs is not None:
            self._hlogs.close()
        self.ended = utc_iso()
        self.files.close()
        s = self.spec
        executed = {n: lat for n, lat in self.latencies.items() if self.counters[n].total > 0}
        totals = {n: c.total for n, c in self.counters.items() if c.total > 0}
        mix = [name for name, _ in s.weights]
        self.files.write_text(f"{s.directory.name}-summary.csv", samplefmt.summary_csv(mix, executed, totals))
        for name in totals:
            self.files.write_text(f"{name}.hdr", self._encoded(name, service=False) + "\n")
            service = self._encoded(name, service=True)
            self.files.write_text(f"{name}{SERVICE_TIME_SUFFIX}.hdr", service + "\n")
        self.files.write_json("session.json", self._meta())
        self.files.restrict()

    def _meta(self) -> dict[str, Any]:
        s = self.spec
        return {
            "session": s.tag,
            "process": s.process,
            "session_index": s.index,
            "started": self.started,
            "ended": self.ended,
            "queries": {n: c.as_dict() for n, c in self.counters.items() if c.total or c.dropped},
            "executed": self.executed,
            "arrival": self.arrival_block,
            "params": self.params.as_dict() if self.params else None,
            "params_source": s.params_source,
            "query_mode": s.query_mode,
            "model": "multi" if s.multi else "single",
            "seed": s.seed,
            "session_seed": s.session_seed,
            "global_session_index": s.global_index,
            "shard": f"{s.shard[0]}/{s.shard[1]}" if s.shard is not None else None,
            "config": dict(s.config),
        }

    def result(self) -> SessionResult:
        return SessionResult(
            tag=self.spec.tag,
            directory=str(self.spec.directory) if self.files is not None else "",
            started=self.started,
            ended=self.ended,
            counts={n: c.as_dict() for n, c in self.counters.items() if c.total or c.dropped},
            histograms={n: self._encoded(n, service=False) for n, lat in self.latencies.items() if lat},
            params=self.params.as_dict() if self.params else None,
            executed=self.executed,
            service_histograms={n: self._encoded(n, service=True) for n in self.service if self._service(n)},
            arrival=self.arrival_block,
        )


    def _service(self, name: str) -> array[float]:
        """Service times (the latencies themselves in the closed model)."""
        return self.latencies[name] if self.arrival is None else self.service[name]

    def _encoded(self, name: str, *, service: bool) -> str:
        """A query's histogram, encoded; built once for the files and the result alike (values
        are only appended, so an unchanged count means an unchanged histogram)."""
        values = self._service(name) if service else self.latencies[name]
        key = (name, values is self.service[name])
        hit = self._encodings.get(key)
        if hit is None or hit[0] != len(values):
            hit = self._encodings[key] = (len(values), hdr.encode(histogram(values)))
        return hit[1]


def histogram(latencies_s: Sequence[float]) -> Any:
    """An HDR histogram (µs, tsload's layout) of latencies given in seconds."""
    h = hdr.new_histogram()
    for x in latencies_s:
        hdr.record_seconds(h, x)
    return h


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
