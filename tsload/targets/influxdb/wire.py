"""What goes over the wire to InfluxDB: request paths and headers per API version, credentials,
and the classification of answers.

API versions (`--influx-api`):
- v1: ``POST /write?db=D&precision=ms`` and ``POST /query`` (InfluxQL). InfluxDB 1.x, 2.x (its
  v1-compatibility API), 3.x and Timestream for InfluxDB all accept these.
- v2: ``POST /api/v2/write?org=O&bucket=B&precision=ms``; queries are InfluxQL through ``/query``
  with the bucket as database (2.x has no InfluxQL endpoint of its own; the bucket needs a DBRP
  mapping, which tsload creates with the bucket).
- v3: ``POST /api/v3/write_lp?db=D&precision=millisecond&accept_partial=true`` and
  ``POST /api/v3/query_sql`` (SQL, JSON answer).

Credentials never come from a flag value: ``--token-file PATH``, else ``INFLUX_TOKEN``, else
``INFLUX_USERNAME``/``INFLUX_PASSWORD`` (Basic auth; v1 only). v1/v2 send a token as
``Authorization: Token T``, v3 as ``Authorization: Bearer T``. The header is held in memory (and in
the picklable state handed to child processes) and is never logged, printed or written.

Write answers:
- 204 (or 200)                     → OK, every line ingested
- 400 with "partial write"         → REJECTED: the dropped and unparsable lines by reason, the rest
                                      ingested (1.x/2.x: ``dropped=N`` plus one per "unable to parse";
                                      3.x: one per entry of the JSON ``data`` list); never resent
- 429, 503                         → RETRY as throttled (the caller backs off)
- other 5xx, connection errors     → RETRY
- 401, 403 (credentials), 404 (database/bucket missing), 413, other 4xx → FATAL with the message
"""

from __future__ import annotations

import base64
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import orjson

from tsload._errors import ConfigError
from tsload.targets.base import WriteKind, WriteOutcome

APIS = ("v1", "v2", "v3")
THROTTLE_STATUSES = frozenset({429, 503})
#: what a retry can cure (codes this target puts on outcomes and CallErrors)
RETRYABLE_CODES = frozenset({"HTTP429", "HTTP500", "HTTP502", "HTTP503", "HTTP504", "ConnectionError"})

_DROPPED = re.compile(r"dropped=(\d+)")
_NUMBERS = re.compile(r"\d[\d:.TZ+-]*")
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")


@dataclass(frozen=True)
class Wire:
    """A resolved InfluxDB target, picklable (the `Handoff.state` of this target)."""

    url: str
    api: str
    database: str | None  # None until a command names it (paths carry it per request)
    org: str | None
    auth_header: str | None  # the Authorization header value; secret: never logged or written
    gzip: bool
    description: str

    def __repr__(self) -> str:
        # dataclass repr would print the secret; a traceback or a log line must not
        auth = "set" if self.auth_header else "none"
        return f"Wire(url={self.url!r}, api={self.api!r}, org={self.org!r}, auth={auth}, gzip={self.gzip})"


def resolve_auth(api: str, token_file: Path | None, environ: dict[str, str] | None = None) -> str | None:
    """The Authorization header value from --token-file or the environment (None: no credentials)."""
    env = os.environ if environ is None else environ
    token: str | None = None
    if token_file is not None:
        try:
            token = token_file.expanduser().read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(
                f"--token-file: cannot read {token_file}: {getattr(exc, 'strerror', exc)}"
            ) from None
        if not token:
            raise ConfigError(Path(token_file), "a file holding the InfluxDB API token (it is empty)")
    elif env.get("INFLUX_TOKEN"):
        token = env["INFLUX_TOKEN"].strip()
    if token:
        return f"Bearer {token}" if api == "v3" else f"Token {token}"
    user, password = env.get("INFLUX_USERNAME"), env.get("INFLUX_PASSWORD")
    if user or password:
        if api != "v1":
            raise ConfigError(
                f"--influx-api {api}: INFLUX_USERNAME/INFLUX_PASSWORD work with v1 only; set INFLUX_TOKEN "
                "or --token-file"
            )
        if not (user and password):
            raise ConfigError("INFLUX_USERNAME and INFLUX_PASSWORD: set both, or neither")
        return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
    return None


def write_path(wire: Wire, database: str) -> str:
    if wire.api == "v1":
        return "/write?" + urlencode({"db": database, "precision": "ms"})
    if wire.api == "v2":
        return "/api/v2/write?" + urlencode({"org": wire.org or "", "bucket": database, "precision": "ms"})
    return "/api/v3/write_lp?" + urlencode(
        {"db": database, "precision": "millisecond", "accept_partial": "true"}
    )


def headers(wire: Wire, *, content_type: str, gzip: bool = False) -> list[tuple[str, str]]:
    out = [("Content-Type", content_type), ("Accept", "application/json")]
    if gzip:
        out.append(("Content-Encoding", "gzip"))
    if wire.auth_header:
        out.append(("Authorization", wire.auth_header))
    return out


def normalise_reason(text: str) -> str:
    """Counting by reason needs stable text: quoted names, numbers and timestamps become N/'…'."""
    return _NUMBERS.sub("N", _QUOTED.sub("'…'", text.strip()))[:200] or "unknown"


def error_message(body: bytes) -> str:
    """The server's message: 1.x `{"error": …}`, 2.x `{"code", "message"}`, 3.x `{"error", "data"}`."""
    try:
        parsed = orjson.loads(body) if body else {}
    except orjson.JSONDecodeError:
        return body[:300].decode("utf-8", "replace").strip()
    if isinstance(parsed, dict):
        return str(parsed.get("error") or parsed.get("message") or body[:300].decode("utf-8", "replace"))
    return body[:300].decode("utf-8", "replace")


def _partial_reasons(body: bytes, message: str, records: int) -> tuple[str, ...]:
    try:
        parsed: Any = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        parsed = None
    if isinstance(parsed, dict) and isinstance(parsed.get("data"), list):
        # 3.x: one entry per refused line
        return tuple(
            normalise_reason(str(d.get("error_message", "")) if isinstance(d, dict) else str(d))
            for d in parsed["data"]
        )[:records]
    reasons: list[str] = []
    for part in re.split(r"(?=unable to parse)", message):
        if part.startswith("unable to parse"):
            # one unparsable line each; the quoted line itself is not a reason
            detail = part.rsplit(":", 1)[-1].split("dropped=")[0].strip()
            reasons.append(normalise_reason("unable to parse: " + detail))
    m = _DROPPED.search(message)
    dropped = int(m.group(1)) if m else 0
    if dropped:
        head = message.split("dropped=")[0]
        reasons += [
            normalise_reason(head.replace("partial write:", "").split("unable to parse")[0])
        ] * dropped
    return tuple(reasons[:records])


def classify_write(status: int, body: bytes, records: int) -> WriteOutcome:
    if 200 <= status < 300:
        return WriteOutcome(WriteKind.OK, ingested=records)
    message = error_message(body)
    if status == 400 and "partial write" in message.lower():
        reasons = _partial_reasons(body, message, records)
        return WriteOutcome(
            WriteKind.REJECTED,
            ingested=records - len(reasons),
            rejected_reasons=reasons,
            code="PartialWrite",
            message=message,
        )
    code = f"HTTP{status}"
    if status in THROTTLE_STATUSES:
        return WriteOutcome(WriteKind.RETRY, throttled=True, code=code, message=message)
    if status >= 500:
        return WriteOutcome(WriteKind.RETRY, code=code, message=message)
    return WriteOutcome(WriteKind.FATAL, code=code, message=message)


FATAL_HINTS = {
    401: "the credentials were refused (INFLUX_TOKEN, INFLUX_USERNAME/INFLUX_PASSWORD or --token-file)",
    403: "the credentials lack write or query permission on this database/bucket",
    404: "the database or bucket does not exist (create it, or let tsload create it)",
    413: "the request is larger than the server accepts (lower --batch-size)",
}


def query_rows(
    api: str, body: bytes, keep_rows: bool
) -> tuple[int, tuple[str, ...], list[tuple[str | None, ...]], str | None]:
    """(row count, columns, rows as text, the first statement error) of a query answer.

    InfluxQL answers hold statements, each with series (one per tag group); rows are counted over
    all of them, and with keep_rows a series' tags become leading columns."""
    parsed: Any = orjson.loads(body) if body else None
    columns: tuple[str, ...] = ()
    values: list[tuple[str | None, ...]] = []
    if api == "v3":
        rows = parsed if isinstance(parsed, list) else []
        if keep_rows and rows:
            columns = tuple(rows[0])
            values = [tuple(None if r.get(c) is None else str(r.get(c)) for c in columns) for r in rows]
        return len(rows), columns, values, None
    n = 0
    error: str | None = None
    for st in (parsed or {}).get("results", []) if isinstance(parsed, dict) else []:
        if "error" in st and error is None:
            error = str(st["error"])
        for series in st.get("series", []) or []:
            n += len(series.get("values", []) or [])
            if keep_rows:
                tags = series.get("tags") or {}
                cols = tuple(tags) + tuple(series.get("columns", []))
                if not columns:
                    columns = cols
                for row in series.get("values", []) or []:
                    cells = [*tags.values(), *row]
                    values.append(tuple(None if c is None else str(c) for c in cells))
    if isinstance(parsed, dict) and "error" in parsed and error is None:
        error = str(parsed["error"])
    return n, columns, values, error
