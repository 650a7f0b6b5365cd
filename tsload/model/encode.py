"""WriteRecords request bodies, assembled from pre-encoded bytes with numpy.

Each call renders one fixed-width row per emission (or per request) into a uint8 matrix: static
JSON pieces are broadcast, per-host dimension text is gathered from small per-(silo, microservice,
AZ) tables, numbers are formatted by `textbytes`. Variable-length text is padded with spaces
placed between JSON tokens, so all rows of a layout have one width and a body is a slice of one
buffer. What a request's records share (dimensions, time, unit) goes into CommonAttributes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from tsload._errors import ConfigError, LimitError
from tsload.model import limits
from tsload.model.fleet import Fleet
from tsload.model.rows import (
    FleetEncoder,
    NumberFormat,
    RowLayout,
    emission_arrays,
    emission_columns,
    series_emissions,
    time_digits,
)
from tsload.model.schema import (
    DIMENSION_NAMES,
    EVENT_NAMES,
    EVENT_TYPES,
    METRIC_NAMES,
    MICROSERVICES,
    REQUEST_ID_NAME,
    TASK_END_STATES,
)
from tsload.model.textbytes import (
    DOUBLE_FIELD_WIDTH,
    SPACE,
    U8,
    decimal6_field,
    digits_fixed,
    int_field,
    text_table,
    uuid_field,
)
from tsload.model.values import IntArray

__all__ = ["EncodeOptions", "EncodedRequest", "RequestEncoder"]

_BIGINT_WIDTH = 5  # "500": task_completed 0..500 with its quotes
_UUID_WIDTH = 38  # a quoted UUID
_FOOTER = b"]}"


@dataclass(frozen=True)
class EncodeOptions:
    database: str
    table: str
    multi: bool = False
    add_req_id: bool = False
    req_id_dim: bool = False  # implies a request id (as a dimension instead of a measure)
    data_seed: int = 0
    batch_size: int = 100  # max records per request (1..100)
    request_id_nonce: int = 0  # mixed into request ids only: a run draws one so its ids are fresh


@dataclass(frozen=True, slots=True)
class EncodedRequest:
    body: bytes
    records: int
    measures: int
    kind: str


def _j(s: str) -> bytes:
    return json.dumps(s).encode()


def _dim(name: str, value: str) -> bytes:
    return b'{"Name":' + _j(name) + b',"Value":' + _j(value) + b',"DimensionValueType":"VARCHAR"}'


@dataclass(frozen=True)
class _Measure:
    name: str
    vtype: str
    width: int
    key: str


class _KindSpec:
    """Everything about one kind (metrics or events) that does not depend on the call."""

    def __init__(self, kind: str, fleet: Fleet, opts: EncodeOptions) -> None:
        self.kind = kind
        self.req = opts.add_req_id or opts.req_id_dim
        self.req_dim = opts.req_id_dim
        self.dim_names = DIMENSION_NAMES[kind]
        if kind == "metrics":
            self.measures = [
                _Measure(n, "DOUBLE", DOUBLE_FIELD_WIDTH, f"v{i}") for i, n in enumerate(METRIC_NAMES)
            ]
        else:
            widths = {
                "BIGINT": _BIGINT_WIDTH,
                "VARCHAR": max(len(s) for s in TASK_END_STATES) + 2,
                "DOUBLE": DOUBLE_FIELD_WIDTH,
            }
            self.measures = [
                _Measure(n, t, widths[t], f"v{i}")
                for i, (n, t) in enumerate(zip(EVENT_NAMES, EVENT_TYPES, strict=True))
            ]
        if self.req and not self.req_dim:
            self.measures.append(_Measure(REQUEST_ID_NAME, "VARCHAR", _UUID_WIDTH, "rq"))
        self.multi = opts.multi
        self.multi_name = kind
        self.records_per_emission = 1 if opts.multi else len(self.measures)
        self.measures_per_emission = len(self.measures)
        self._build_dim_tables(fleet)
        self._check_limits(fleet, opts)

    # Dimension text: A = everything up to the instance number (right-aligned: the padding lands
    # between '[' or ',' and '{'), then 8 digits, then B (left-aligned).
    def _build_dim_tables(self, fleet: Fleet) -> None:
        a_texts: list[bytes] = []
        self.max_dimension_bytes = 0
        for silo in range(fleet.n_silos):
            for m, ms in enumerate(MICROSERVICES):
                for az in range(3):
                    # the longest process name: the size is the largest record's
                    values = fleet.dimension_texts(silo, m, az, "00000000", max(ms[4], key=len))
                    pieces = [
                        _dim(n, values[n]) for n in self.dim_names[: self.dim_names.index("instance_name")]
                    ]
                    inst = fleet.instance_name_prefix(silo, m)
                    size = sum(len(n) + len(values[n]) for n in self.dim_names)
                    self.max_dimension_bytes = max(self.max_dimension_bytes, size)
                    a_texts.append(b",".join([*pieces, b'{"Name":"instance_name","Value":' + _j(inst)[:-1]]))
        self.dims_a = text_table(a_texts, right=True)
        tail = b'.amazonaws.com","DimensionValueType":"VARCHAR"}'
        if self.kind == "metrics":
            self.dims_b: U8 | None = None
            self.proc_base: IntArray = np.zeros(len(MICROSERVICES), dtype=np.int64)
            self.dims_b_static = tail
        else:
            b_texts = [
                tail + b"," + _dim("process_name", proc) + b"," + _dim("jdk_version", ms[5])
                for ms in MICROSERVICES
                for proc in ms[4]
            ]
            self.dims_b = text_table(b_texts)
            self.dims_b_static = b""
            self.proc_base = np.cumsum([0] + [len(ms[4]) for ms in MICROSERVICES])[:-1]

    def _check_limits(self, fleet: Fleet, opts: EncodeOptions) -> None:
        limits.check_resource_name("database", opts.database)
        limits.check_resource_name("table", opts.table)
        names = list(self.dim_names) + ([REQUEST_ID_NAME] if self.req_dim else [])
        if len(names) > limits.MAX_DIMENSIONS_PER_RECORD:
            raise LimitError(f"{len(names)} dimensions per record")
        dims = fleet.metric_dimensions(0) if self.kind == "metrics" else fleet.event_dimensions(0)
        for name, value in dims:
            limits.check_dimension(name, value)
        if self.req_dim:
            limits.check_dimension(REQUEST_ID_NAME, "0" * (_UUID_WIDTH - 2))
        for m in self.measures:
            limits.check_measure_name(m.name)
            limits.check_measure_value(m.name, "0", m.vtype)
            if m.width - 2 > limits.MAX_MEASURE_VALUE_CHARS:
                raise LimitError(f"measure {m.name}: values up to {m.width - 2} characters")
        if self.multi:
            limits.check_measure_name(self.multi_name)
            limits.check_multi_measure_count(len(self.measures))
        # Metered size of the largest record this kind can produce (Timestream's write-size formula).
        dims_max = self.max_dimension_bytes
        if self.req_dim:
            dims_max += len(REQUEST_ID_NAME) + _UUID_WIDTH - 2
        sizes = [len(m.name) + (m.width - 2 if m.vtype == "VARCHAR" else 8) for m in self.measures]
        worst = 8 + dims_max + (len(self.multi_name) + sum(sizes) if self.multi else max(sizes))
        if worst > limits.MAX_RECORD_BYTES:
            raise LimitError(
                f"{self.kind} records of up to {worst} bytes (allowed {limits.MAX_RECORD_BYTES})"
            )

    # --- layouts ----------------------------------------------------------------------------
    def add_dims(self, lay: RowLayout, with_req: bool) -> None:
        lay.field("dA", int(self.dims_a.shape[1]))
        lay.field("inst", 8)
        if self.dims_b is not None:
            lay.field("dB", int(self.dims_b.shape[1]))
        else:
            lay.lit(self.dims_b_static)
        if with_req:
            self.add_req_dim(lay, leading_comma=True)

    @staticmethod
    def add_req_dim(lay: RowLayout, leading_comma: bool) -> None:
        lay.lit((b"," if leading_comma else b"") + b'{"Name":"request_id","Value":')
        lay.field("rqd", _UUID_WIDTH)
        lay.lit(b',"DimensionValueType":"VARCHAR"}')

    def add_emission(self, lay: RowLayout, *, first_sep: bytes, time_width: int, record_dims: str) -> None:
        """Records of one emission. record_dims: "none", "req" (only the request-id dimension, the
        others are common) or "all"."""

        def head() -> None:
            lay.lit(b"{")
            if record_dims == "all":
                lay.lit(b'"Dimensions":[')
                self.add_dims(lay, with_req=self.req_dim)
                lay.lit(b"],")
            elif record_dims == "req" and self.req_dim:
                lay.lit(b'"Dimensions":[')
                self.add_req_dim(lay, leading_comma=False)
                lay.lit(b"],")

        def tail() -> None:
            if time_width:
                lay.lit(b',"Time":')
                lay.field("time", time_width)
            lay.lit(b"}")

        if self.multi:
            lay.mark()
            lay.lit(first_sep)
            head()
            lay.lit(
                b'"MeasureName":' + _j(self.multi_name) + b',"MeasureValueType":"MULTI","MeasureValues":['
            )
            for i, m in enumerate(self.measures):
                lay.lit((b"," if i else b"") + b'{"Name":' + _j(m.name) + b',"Value":')
                lay.field(m.key, m.width)
                lay.lit(b',"Type":' + _j(m.vtype) + b"}")
            lay.lit(b"]")
            tail()
        else:
            for i, m in enumerate(self.measures):
                lay.mark()
                lay.lit(first_sep if i == 0 else b",")
                head()
                lay.lit(b'"MeasureName":' + _j(m.name) + b',"MeasureValue":')
                lay.field(m.key, m.width)
                lay.lit(b',"MeasureValueType":' + _j(m.vtype))
                tail()


#: Numbers as JSON string tokens, right-aligned with spaces before the opening quote.
_JSON_NUMBERS = NumberFormat(
    decimal6=decimal6_field,
    integer=int_field,
    bigint_width=_BIGINT_WIDTH,
    end_states=text_table([b'"' + s.encode() + b'"' for s in TASK_END_STATES]),
    uuid=uuid_field,
)


class RequestEncoder(FleetEncoder[_KindSpec]):
    """Builds complete WriteRecords bodies for the DevOps fleet (docs/model.md)."""

    def __init__(self, fleet: Fleet, options: EncodeOptions) -> None:
        if (
            isinstance(options.batch_size, bool)
            or not 1 <= options.batch_size <= limits.MAX_RECORDS_PER_REQUEST
        ):
            raise ConfigError("batch_size", f"1..{limits.MAX_RECORDS_PER_REQUEST}", got=options.batch_size)
        super().__init__(
            fleet, options.data_seed, options.request_id_nonce, lambda kind: _KindSpec(kind, fleet, options)
        )
        self.options = options
        self._prefix = b'{"DatabaseName":' + _j(options.database) + b',"TableName":' + _j(options.table)
        self._layouts: dict[tuple[str, str, int], RowLayout] = {}

    def records_per_emission(self, kind: str) -> int:
        return self.spec(kind).records_per_emission

    def measures_per_emission(self, kind: str) -> int:
        return self.spec(kind).measures_per_emission

    # --- fields -------------------------------------------------------------------------------
    def _fields(
        self, spec: _KindSpec, ids: IntArray, times: IntArray, time_width: int, need: set[str]
    ) -> dict[str, U8]:
        rq = ("rqd" if spec.req_dim else "rq") if spec.req else None
        f = emission_columns(
            self.values, _JSON_NUMBERS, spec.kind, ids, times, time_width=time_width, request_id=rq
        )
        if "dA" in need:
            f.update(self._dims_fields(spec, ids))
        return f

    def _dims_fields(self, spec: _KindSpec, ids: IntArray) -> dict[str, U8]:
        """Only the dimension fields, for per-series headers."""
        cols: Any = self.fleet.hosts(ids) if spec.kind == "metrics" else self.fleet.event_sets(ids)
        combo = (cols.silo * len(MICROSERVICES) + cols.microservice) * 3 + cols.instance % 3
        f: dict[str, U8] = {"dA": spec.dims_a[combo], "inst": digits_fixed(cols.instance, 8)}
        if spec.dims_b is not None:
            f["dB"] = spec.dims_b[spec.proc_base[cols.microservice] + cols.process]
        return f

    @staticmethod
    def _time_width(times: IntArray) -> int:
        return time_digits(times) + 2  # and the quotes

    def _layout(self, key: tuple[str, str, int], build: Callable[[RowLayout], None]) -> RowLayout:
        lay = self._layouts.get(key)
        if lay is None:
            lay = RowLayout()
            build(lay)
            self._layouts[key] = lay
        return lay

    def _requests(self, spec: _KindSpec, bodies: list[bytes], records: list[int]) -> list[EncodedRequest]:
        per = spec.measures_per_emission if spec.multi else 1
        kind = spec.kind
        return [EncodedRequest(b, r, r * per, kind) for b, r in zip(bodies, records, strict=True)]

    def _emissions(
        self, kind: str, ids: np.ndarray, times_ms: np.ndarray
    ) -> tuple[_KindSpec, IntArray, IntArray, int]:
        """The kind's spec, flat int64 ids, one time per id (a single time is broadcast), and the
        width of the times' text (0 when there is nothing to encode)."""
        ids_a, times = emission_arrays(ids, times_ms)
        return self.spec(kind), ids_a, times, self._time_width(times) if len(ids_a) else 0

    # --- public API ---------------------------------------------------------------------------
    def per_emission(self, kind: str, ids: np.ndarray, times_ms: np.ndarray) -> list[EncodedRequest]:
        """One request per (ids[i], times_ms[i]); dimensions, Time and TimeUnit in CommonAttributes."""
        spec, ids_a, times, tw = self._emissions(kind, ids, times_ms)
        n = ids_a.shape[0]
        if n == 0:
            return []

        def build(lay: RowLayout) -> None:
            lay.lit(self._prefix + b',"CommonAttributes":{"Dimensions":[')
            spec.add_dims(lay, with_req=spec.req_dim)
            lay.lit(b'],"Time":')
            lay.field("time", tw)
            lay.lit(b',"TimeUnit":"MILLISECONDS"},"Records":[')
            spec.add_emission(lay, first_sep=b"", time_width=0, record_dims="none")
            lay.lit(_FOOTER)

        lay = self._layout((kind, "emission", tw), build)
        rows = lay.render(n, self._fields(spec, ids_a, times, tw, {"dA"}))
        buf = rows.tobytes()
        w = lay.width
        rpe = spec.records_per_emission
        limits.check_records_per_request(rpe)
        bodies = [buf[i : i + w] for i in range(0, n * w, w)]
        return self._requests(spec, bodies, [rpe] * n)

    def per_series(self, kind: str, ids: np.ndarray, times_ms: np.ndarray) -> list[EncodedRequest]:
        """For each id, its emissions at every time of times_ms, whole emissions packed into requests of
        <= batch_size records (at least one emission per request); dimensions in CommonAttributes."""
        spec = self.spec(kind)
        ids_a = np.asarray(ids, dtype=np.int64).ravel()
        t1 = np.asarray(times_ms, dtype=np.int64).ravel()
        n_ids, n_t = ids_a.shape[0], t1.shape[0]
        if n_ids == 0 or n_t == 0:
            return []
        tw = self._time_width(t1)
        rpe = spec.records_per_emission
        k = max(1, self.options.batch_size // rpe)
        limits.check_records_per_request(k * rpe)

        def build_header(lay: RowLayout) -> None:
            lay.lit(self._prefix + b',"CommonAttributes":{"Dimensions":[')
            spec.add_dims(lay, with_req=False)
            lay.lit(b'],"TimeUnit":"MILLISECONDS"},"Records":[')

        def build_rows(lay: RowLayout) -> None:
            spec.add_emission(lay, first_sep=b",", time_width=tw, record_dims="req")

        hdr = self._layout((kind, "series-header", 0), build_header)
        row = self._layout((kind, "series-rows", tw), build_rows)
        hbuf = hdr.render(n_ids, self._dims_fields(spec, ids_a)).tobytes()
        em_ids, em_times = series_emissions(ids_a, t1)
        rows = row.render(n_ids * n_t, self._fields(spec, em_ids, em_times, tw, set()))
        # The first emission of each request opens its Records list: its separator becomes a space.
        firsts = (np.arange(n_ids)[:, None] * n_t + np.arange(0, n_t, k)[None, :]).ravel()
        rows[firsts, 0] = SPACE
        buf = rows.tobytes()
        hw, rw = hdr.width, row.width
        bodies: list[bytes] = []
        records: list[int] = []
        for i in range(n_ids):
            h = hbuf[i * hw : (i + 1) * hw]
            base = i * n_t
            for a in range(0, n_t, k):
                b = min(a + k, n_t)
                bodies.append(b"".join((h, buf[(base + a) * rw : (base + b) * rw], _FOOTER)))
                records.append((b - a) * rpe)
        return self._requests(spec, bodies, records)

    def batched(self, kind: str, ids: np.ndarray, times_ms: np.ndarray) -> list[EncodedRequest]:
        """Records of the emissions (ids[i], times_ms[i]) in order, packed batch_size per request;
        dimensions and Time per record, TimeUnit in CommonAttributes."""
        spec, ids_a, times, tw = self._emissions(kind, ids, times_ms)
        n = ids_a.shape[0]
        if n == 0:
            return []
        bs = self.options.batch_size
        limits.check_records_per_request(bs)

        def build(lay: RowLayout) -> None:
            spec.add_emission(lay, first_sep=b",", time_width=tw, record_dims="all")

        lay = self._layout((kind, "batched", tw), build)
        rows = lay.render(n, self._fields(spec, ids_a, times, tw, {"dA"}))
        rpe = spec.records_per_emission
        total = n * rpe
        w = lay.width
        marks = np.asarray(lay.marks, dtype=np.int64)
        starts = np.arange(0, total, bs, dtype=np.int64)
        first_pos = (starts // rpe) * w + marks[starts % rpe]
        flat = rows.reshape(-1)
        flat[first_pos] = SPACE
        buf = flat.data  # join copies each body once; no intermediate bytes object
        ends = np.append(first_pos[1:], n * w)
        head = self._prefix + b',"CommonAttributes":{"TimeUnit":"MILLISECONDS"},"Records":['
        bodies = [
            b"".join((head, buf[a:b], _FOOTER))
            for a, b in zip(first_pos.tolist(), ends.tolist(), strict=True)
        ]
        counts = np.minimum(bs, total - starts).tolist()
        return self._requests(spec, bodies, counts)
