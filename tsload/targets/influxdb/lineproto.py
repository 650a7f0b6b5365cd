"""InfluxDB line protocol for the DevOps fleet, assembled from pre-encoded bytes with numpy.

One line per emission: measurement `metrics` with the 20 metric fields, or `events` with the 5
event fields; the tags are the record's dimensions, sorted by key (InfluxDB's advice: the server
sorts unsorted tag sets before indexing them); the timestamp is epoch milliseconds (the writer asks
for `precision=ms`). The values are the model's own (`ValueModel`): the same decimal strings the
Timestream path sends, so a host's values at a time depend only on (seed, host, time).

How it is fast: every line of one kind is rendered as a fixed-width uint8 row. Static text is
broadcast from a template, per-(silo, microservice, AZ[, process]) tag text is gathered from small
tables, numbers are formatted as digit columns. Text shorter than its column is padded with NUL
bytes, which line protocol never contains, and one boolean compaction of the whole buffer removes
them; line lengths (non-NUL counts) give the byte offsets where requests of `batch_size` lines
are cut. The whole kind's lines are one buffer, so a request body is a slice of it.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tsload._errors import ConfigError, LimitError
from tsload.model import rows
from tsload.model.encode import EncodedRequest
from tsload.model.fleet import Fleet
from tsload.model.schema import (
    DIMENSION_NAMES,
    MEASURE_NAMES,
    MICROSERVICES,
    REQUEST_ID_NAME,
    TASK_END_STATES,
)
from tsload.model.textbytes import U8, digits_fixed, text_table, uuid_chars
from tsload.model.values import IntArray

__all__ = [
    "DEFAULT_BATCH_LINES",
    "MAX_BATCH_LINES",
    "LineOptions",
    "LineProtocolEncoder",
    "escape_field_key",
    "escape_measurement",
    "escape_string_field",
    "escape_tag",
]

#: InfluxDB's documented batch size for writes; the issue's ceiling for one request.
DEFAULT_BATCH_LINES = 5_000
MAX_BATCH_LINES = 10_000

NUL, ZERO, DOT, MINUS = 0, 0x30, 0x2E, 0x2D
_FLOAT_WIDTH = 10  # "-99.999999" / "100.000000": the model's doubles are in (-100, 1000)
_INT_WIDTH = 3  # task_completed 0..500
_P10 = 10 ** np.arange(19, dtype=np.int64)
# gzip level 1: line protocol compresses ~5x even at level 1, and a higher level costs several
# times the CPU for a few percent less; the client's CPU is what a load generator must not spend
GZIP_LEVEL = 1


def escape_tag(text: str) -> str:
    """Tag keys and values: backslash before comma, equals sign and space."""
    return text.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=").replace(" ", "\\ ")


def escape_measurement(text: str) -> str:
    """Measurement names: backslash before comma and space."""
    return text.replace("\\", "\\\\").replace(",", "\\,").replace(" ", "\\ ")


escape_field_key = escape_tag


def escape_string_field(text: str) -> str:
    """String field values (inside double quotes): backslash before double quote and backslash."""
    return text.replace("\\", "\\\\").replace('"', '\\"')


@dataclass(frozen=True)
class LineOptions:
    data_seed: int = 0
    batch_size: int = DEFAULT_BATCH_LINES  # lines per request, 1..MAX_BATCH_LINES
    gzip: bool = False
    add_req_id: bool = False  # a `request_id` string field per line
    req_id_dim: bool = False  # ... as a tag instead (a new series per emission: cardinality grows)
    request_id_nonce: int = 0


def _pad_table(texts: list[bytes]) -> U8:
    """Rows of text, NUL-padded on the right to one width."""
    return text_table(texts, fill=NUL)


def _digit_tables() -> tuple[U8, U8]:
    """'000'..'999' as (1000, 3) digits; integer parts 0..999 then -0..-99 as (1100, 3), NUL-padded."""
    d3 = np.asarray([list(f"{i:03d}".encode()) for i in range(1000)], dtype=np.uint8)
    ints = [str(i).encode() for i in range(1000)] + [b"-" + str(i).encode() for i in range(100)]
    it = np.zeros((len(ints), 3), dtype=np.uint8)
    for i, t in enumerate(ints):
        it[i, 3 - len(t) :] = np.frombuffer(t, dtype=np.uint8)
    return d3, it


_D3, _INTS = _digit_tables()


def float6_columns(micros: IntArray) -> U8:
    """Values in 1e-6 units → '<int>.<6 digits>' (shape (..., 10)), NUL-padded on the left.

    Table lookups of three digits at a time: about 10x faster than digit arithmetic in numpy."""
    neg = micros < 0
    ip, fp = np.divmod(np.abs(micros), 1_000_000)
    if int(ip.max(initial=0)) > 999 or (bool(neg.any()) and int(ip[neg].max()) > 99):
        raise LimitError(f"value out of the encodable range (|integer part| {int(ip.max())})")
    hi, lo = np.divmod(fp, 1000)
    out = np.empty((*micros.shape, _FLOAT_WIDTH), dtype=np.uint8)
    out[..., 0:3] = _INTS[np.where(neg, ip + 1000, ip)]
    out[..., 3] = DOT
    out[..., 4:7] = _D3[hi]
    out[..., 7:10] = _D3[lo]
    return out


def int_columns(values: IntArray, width: int) -> U8:
    """Non-negative integers → right-aligned digits in `width` columns, NUL-padded on the left."""
    if values.size and int(values.min()) < 0:
        raise LimitError(f"negative integer {int(values.min())} cannot be encoded here")
    hi = int(values.max(initial=0))
    if len(str(hi)) > width:
        raise LimitError(f"integer {hi} does not fit {width} digits")
    ndig = np.searchsorted(_P10[1:], values, side="right") + 1
    pos = np.arange(width - 1, -1, -1, dtype=np.int64)
    lo_d, hi_d = int(ndig.min(initial=1)), int(ndig.max(initial=1))
    digits = ZERO + (values[..., None] // _P10[pos]) % 10
    if lo_d == hi_d == width:
        out: U8 = digits.astype(np.uint8)
        return out
    out = np.where(pos < ndig[..., None], digits, NUL).astype(np.uint8)
    return out


_INSTANCE = "\x00INST\x00"
_REQ = "\x00REQ\x00"
#: Numbers as line protocol writes them: plain digits, NUL-padded on the left.
_LINE_NUMBERS = rows.NumberFormat(
    decimal6=float6_columns,
    integer=int_columns,
    bigint_width=_INT_WIDTH,
    end_states=_pad_table([b'"' + escape_string_field(s).encode() + b'"' for s in TASK_END_STATES]),
    uuid=uuid_chars,
)


class _Kind:
    """One measurement's layout and tag tables (built once per encoder)."""

    def __init__(self, kind: str, fleet: Fleet, opts: LineOptions) -> None:
        self.kind = kind
        self.req = opts.add_req_id or opts.req_id_dim
        self.req_tag = opts.req_id_dim
        tag_names = sorted([*DIMENSION_NAMES[kind], *([REQUEST_ID_NAME] if self.req_tag else [])])
        self.fields = list(MEASURE_NAMES[kind])
        if self.req and not self.req_tag:
            self.fields.append(REQUEST_ID_NAME)
        self.measures_per_line = len(self.fields)
        # The tag text of every (silo, microservice, AZ[, process]) combination, with the instance
        # number and the request id as placeholders; cut at the placeholders into NUL-padded tables.
        segments: list[list[bytes]] = []
        for silo in range(fleet.n_silos):
            for m, ms in enumerate(MICROSERVICES):
                procs = ms[4] if kind == "events" else ("",)
                for proc in procs:
                    for az in range(3):
                        values = fleet.dimension_texts(silo, m, az, _INSTANCE, proc)
                        text = escape_measurement(kind) + "".join(
                            f",{escape_tag(k)}={escape_tag(values[k]) if k != REQUEST_ID_NAME else _REQ}"
                            for k in tag_names
                        )
                        pieces = text.replace(_REQ, _INSTANCE).split(_INSTANCE)
                        segments.append([p.encode() for p in pieces])
        self.n_segments = len(segments[0])
        self.tables = [_pad_table([s[i] for s in segments]) for i in range(self.n_segments)]
        # Which placeholder sits between segment i and i+1: the instance number first, since
        # instance_name sorts before request_id.
        self.holes = ["inst", "rqt"][: self.n_segments - 1]
        self.procs_per_ms = np.asarray([len(ms[4]) if kind == "events" else 1 for ms in MICROSERVICES])
        self.proc_base = np.concatenate(([0], np.cumsum(self.procs_per_ms)))[:-1]
        self.combos_per_silo = int(self.procs_per_ms.sum()) * 3
        self.layouts: dict[int, rows.RowLayout] = {}

    def combo(self, fleet: Fleet, ids: IntArray) -> tuple[IntArray, IntArray]:
        """(table row, instance index) per id."""
        if self.kind == "metrics":
            h = fleet.hosts(ids)
            silo, ms, inst, proc = h.silo, h.microservice, h.instance, np.zeros_like(h.silo)
        else:
            e = fleet.event_sets(ids)
            silo, ms, inst, proc = e.silo, e.microservice, e.instance, e.process
        row = silo * self.combos_per_silo + (self.proc_base[ms] + proc) * 3 + inst % 3
        return row, inst

    def layout(self, time_width: int) -> rows.RowLayout:
        lay = self.layouts.get(time_width)
        if lay is not None:
            return lay
        lay = rows.RowLayout()
        for i, table in enumerate(self.tables):
            lay.field(f"seg{i}", int(table.shape[1]))
            if i < len(self.holes):
                lay.field(self.holes[i], 8 if self.holes[i] == "inst" else 36)
        for i, name in enumerate(self.fields):
            lay.lit((b" " if i == 0 else b",") + escape_field_key(name).encode() + b"=")
            if name == REQUEST_ID_NAME:
                lay.lit(b'"')
                lay.field("rq", 36)
                lay.lit(b'"')
            elif self.kind == "events" and name == "task_completed":
                lay.field("v0", _INT_WIDTH)
                lay.lit(b"i")
            elif self.kind == "events" and name == "task_end_state":
                lay.field("v1", int(_LINE_NUMBERS.end_states.shape[1]))
            else:
                lay.field(f"v{i}", _FLOAT_WIDTH)
        lay.lit(b" ")
        lay.field("time", time_width)
        lay.lit(b"\n")
        self.layouts[time_width] = lay
        return lay


class LineProtocolEncoder(rows.FleetEncoder[_Kind]):
    """Line-protocol request bodies for the DevOps fleet, with the ingest encoder's three calls.

    `records` of a request are its lines (points), `measures` its field values.
    """

    def __init__(self, fleet: Fleet, options: LineOptions) -> None:
        bs = options.batch_size
        if isinstance(bs, bool) or not 1 <= bs <= MAX_BATCH_LINES:
            raise ConfigError("batch_size", f"1..{MAX_BATCH_LINES} lines for InfluxDB", got=bs)
        super().__init__(
            fleet, options.data_seed, options.request_id_nonce, lambda kind: _Kind(kind, fleet, options)
        )
        self.options = options

    def records_per_emission(self, kind: str) -> int:
        self.spec(kind)
        return 1

    def measures_per_emission(self, kind: str) -> int:
        return self.spec(kind).measures_per_line

    # --- rendering --------------------------------------------------------------------------
    def lines(self, kind: str, ids: npt.ArrayLike, times_ms: npt.ArrayLike) -> tuple[bytes, IntArray]:
        """All lines of the emissions (ids[i], times_ms[i]) in order: one buffer and the byte
        offset where each line ends."""
        spec = self.spec(kind)
        ids_a, times = rows.emission_arrays(ids, times_ms)
        n = ids_a.shape[0]
        if n == 0:
            return b"", np.zeros(0, dtype=np.int64)
        tw = rows.time_digits(times)
        rq = ("rqt" if spec.req_tag else "rq") if spec.req else None
        f = rows.emission_columns(
            self.values, _LINE_NUMBERS, kind, ids_a, times, time_width=tw, request_id=rq
        )
        row, inst = spec.combo(self.fleet, ids_a)
        for i, table in enumerate(spec.tables):
            f[f"seg{i}"] = table[row]
        f["inst"] = digits_fixed(inst, 8)
        grid = spec.layout(tw).render(n, f)
        keep = grid != NUL
        ends = np.cumsum(np.count_nonzero(keep, axis=1))
        return grid[keep].tobytes(), ends

    def _requests(self, kind: str, buf: bytes, ends: IntArray) -> list[EncodedRequest]:
        n = ends.shape[0]
        bs = self.options.batch_size
        per = self.spec(kind).measures_per_line
        out: list[EncodedRequest] = []
        cuts = [0, *ends[bs - 1 : n : bs].tolist()]
        if cuts[-1] != len(buf):
            cuts.append(len(buf))
        for j in range(len(cuts) - 1):
            body = buf[cuts[j] : cuts[j + 1]]
            lines = min(bs, n - j * bs)
            if self.options.gzip:
                c = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)
                body = c.compress(body) + c.flush()
            out.append(EncodedRequest(body, lines, lines * per, kind))
        return out

    # --- the ingest encoder's calls ---------------------------------------------------------
    def batched(self, kind: str, ids: npt.ArrayLike, times_ms: npt.ArrayLike) -> list[EncodedRequest]:
        """The lines of the emissions (ids[i], times_ms[i]) in order, batch_size lines per request."""
        buf, ends = self.lines(kind, ids, times_ms)
        return self._requests(kind, buf, ends)

    def per_series(self, kind: str, ids: npt.ArrayLike, times_ms: npt.ArrayLike) -> list[EncodedRequest]:
        """Each id at every time of times_ms, series by series (InfluxDB stores a series' points
        together, so writing them together is its cheapest order), batch_size lines per request."""
        return self.batched(kind, *rows.series_emissions(ids, times_ms))

    def per_emission(self, kind: str, ids: npt.ArrayLike, times_ms: npt.ArrayLike) -> list[EncodedRequest]:
        """One request per emission (one line each): the sample's request shape, for comparison only;
        InfluxDB wants batches (the target packs emissions with batched())."""
        buf, ends = self.lines(kind, ids, times_ms)
        starts = np.concatenate(([0], ends[:-1])).tolist()
        per = self.spec(kind).measures_per_line
        out = []
        for a, b in zip(starts, ends.tolist(), strict=True):
            body = buf[a:b]
            if self.options.gzip:
                c = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 31)
                body = c.compress(body) + c.flush()
            out.append(EncodedRequest(body, 1, per, kind))
        return out
