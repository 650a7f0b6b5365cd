"""What one WriteRecords attempt came to, independent of how it was sent.

Classification (shared by the fast path and the SDK path):
- success                        → OK, with RecordsIngested.Total
- RejectedRecordsException       → REJECTED: the listed records are rejected (by reason), the rest ingested;
                                   never resent
- ThrottlingException            → RETRY (throttled)
- 5xx, InternalServerException, connection/timeout errors → RETRY
- InvalidEndpointException, HTTP 421 → RETRY after endpoint rediscovery
- ValidationException            → FATAL: tsload built a request Timestream refuses (a tsload bug)
- ResourceNotFound, AccessDenied and any other 4xx → FATAL with the service's message
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from typing import Any

import orjson


class Kind(enum.Enum):
    OK = "ok"
    REJECTED = "rejected"
    RETRY = "retry"
    FATAL = "fatal"


@dataclass(frozen=True, slots=True)
class Attempt:
    kind: Kind
    ingested: int = 0
    rejected_reasons: tuple[str, ...] = ()
    throttled: bool = False
    rediscover: bool = False
    code: str = ""
    message: str = ""
    request_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


RETRYABLE_CODES = frozenset(
    {"ThrottlingException", "InternalServerException", "ServiceUnavailable", "ServiceUnavailableException"}
)
REDISCOVER_CODES = frozenset({"InvalidEndpointException"})

_NUMBERS = re.compile(r"\d[\d:.TZ+-]*")


def normalise_reason(reason: str) -> str:
    """Reject reasons carry timestamps and versions; counting by reason needs them stable."""
    return _NUMBERS.sub("N", reason.strip())[:200] or "unknown"


def error_code(raw: str) -> str:
    """`com.amazonaws.timestream.v20181101#ThrottlingException` or `ThrottlingException:http://…` → name."""
    return raw.rsplit("#", 1)[-1].split(":", 1)[0].strip()


def classify_error(
    status: int, code: str, message: str, body: dict[str, Any], records: int, request_id: str | None
) -> Attempt:
    if code == "RejectedRecordsException":
        reasons = tuple(
            normalise_reason(str(r.get("Reason", ""))) for r in body.get("RejectedRecords", []) or []
        )
        return Attempt(
            Kind.REJECTED,
            ingested=max(records - len(reasons), 0),
            rejected_reasons=reasons,
            code=code,
            message=message,
            request_id=request_id,
        )
    if code == "ThrottlingException":
        return Attempt(Kind.RETRY, throttled=True, code=code, message=message, request_id=request_id)
    if code in REDISCOVER_CODES or status == 421:
        return Attempt(
            Kind.RETRY, rediscover=True, code=code or "HTTP421", message=message, request_id=request_id
        )
    if code in RETRYABLE_CODES or status >= 500:
        return Attempt(Kind.RETRY, code=code or f"HTTP{status}", message=message, request_id=request_id)
    return Attempt(Kind.FATAL, code=code or f"HTTP{status}", message=message, request_id=request_id)


def classify_http(status: int, headers: dict[str, str], body: bytes, records: int) -> Attempt:
    """Classify a raw HTTP response to WriteRecords."""
    request_id = headers.get("x-amzn-requestid")
    if status == 200:
        try:
            total = int(orjson.loads(body)["RecordsIngested"]["Total"])
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            total = records
        return Attempt(Kind.OK, ingested=total, request_id=request_id)
    parsed: dict[str, Any] = {}
    try:
        loaded = orjson.loads(body) if body else {}
        if isinstance(loaded, dict):
            parsed = loaded
    except orjson.JSONDecodeError:
        parsed = {}
    raw_code = headers.get("x-amzn-errortype") or str(parsed.get("__type", ""))
    code = error_code(raw_code) if raw_code else ""
    message = str(parsed.get("message") or parsed.get("Message") or body[:200].decode("utf-8", "replace"))
    return classify_error(status, code, message, parsed, records, request_id)
