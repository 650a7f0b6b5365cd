"""Timestream's error policy: what one WriteRecords attempt came to, and which codes a retry cures.

`RETRYABLE_CODES` is the one list for writes and queries (the target's retryable-error policy of
`tsload.targets.base`). Write classification (shared by the fast path and the SDK path):
- success                        → OK, with RecordsIngested.Total
- RejectedRecordsException       → REJECTED: the listed records are rejected (by reason), the rest ingested;
                                   never resent
- ThrottlingException            → RETRY (throttled)
- 5xx, InternalServerException, ServiceUnavailable, RequestTimeout, connection errors → RETRY
- InvalidEndpointException, HTTP 421 → RETRY after endpoint rediscovery
- ValidationException            → FATAL: tsload built a request Timestream refuses (a tsload bug)
- ResourceNotFound, AccessDenied and any other 4xx → FATAL with the service's message
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from tsload.targets.base import WriteKind, WriteOutcome

THROTTLED = "ThrottlingException"
REDISCOVER_CODES = frozenset({"InvalidEndpointException"})
#: a transport failure (refused, reset, timed out, TLS): no answer from the service
CONNECTION_ERROR = "ConnectionError"
RETRYABLE_CODES = frozenset(
    {
        THROTTLED,
        "InternalServerException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "RequestTimeout",
        "RequestTimeoutException",
        CONNECTION_ERROR,
        *REDISCOVER_CODES,
    }
)


def retryable(code: str, status: int | None) -> bool:
    """The policy for any call (writes and queries): a listed code, or any 5xx."""
    return code in RETRYABLE_CODES or (status is not None and status >= 500)


_NUMBERS = re.compile(r"\d[\d:.TZ+-]*")


_HINTS = {
    "ValidationException": "Timestream refused a request tsload built: a tsload bug, please report it",
    "ResourceNotFoundException": "the database or table does not exist (deleted while ingesting?)",
    "AccessDeniedException": "the credentials lack timestream:WriteRecords (see docs/ingest.md)",
    "UnrecognizedClientException": "the access key is not valid for this endpoint",
    "InvalidSignatureException": "the request signature was refused (clock skew or wrong secret key?)",
}


def fatal_message(code: str, message: str) -> str:
    hint = _HINTS.get(code, "not retried")
    return f"WriteRecords failed: {code}: {message} ({hint})"


def normalise_reason(reason: str) -> str:
    """Reject reasons carry timestamps and versions; counting by reason needs them stable."""
    return _NUMBERS.sub("N", reason.strip())[:200] or "unknown"


def error_code(raw: str) -> str:
    """`com.amazonaws.timestream.v20181101#ThrottlingException` or `ThrottlingException:http://…` → name."""
    # the colon first: the URL after it may itself hold a "#"
    return raw.split(":", 1)[0].rsplit("#", 1)[-1].strip()


def classify_error(
    status: int, code: str, message: str, body: dict[str, Any], records: int, request_id: str | None
) -> WriteOutcome:
    if code == "RejectedRecordsException":
        reasons = tuple(
            normalise_reason(str(r.get("Reason", ""))) for r in body.get("RejectedRecords", []) or []
        )
        return WriteOutcome(
            WriteKind.REJECTED,
            ingested=max(records - len(reasons), 0),
            rejected_reasons=reasons,
            code=code,
            message=message,
            request_id=request_id,
        )
    if code == THROTTLED:
        return WriteOutcome(
            WriteKind.RETRY, throttled=True, code=code, message=message, request_id=request_id
        )
    if code in REDISCOVER_CODES or status == 421:
        return WriteOutcome(
            WriteKind.RETRY, rediscover=True, code=code or "HTTP421", message=message, request_id=request_id
        )
    if retryable(code, status):
        return WriteOutcome(
            WriteKind.RETRY, code=code or f"HTTP{status}", message=message, request_id=request_id
        )
    code = code or f"HTTP{status}"
    return WriteOutcome(
        WriteKind.FATAL, code=code, message=fatal_message(code, message), request_id=request_id
    )


def classify_http(status: int, headers: dict[str, str], body: bytes, records: int) -> WriteOutcome:
    """Classify a raw HTTP response to WriteRecords."""
    request_id = headers.get("x-amzn-requestid")
    if status == 200:
        try:
            total = int(orjson.loads(body)["RecordsIngested"]["Total"])
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            total = records
        return WriteOutcome(WriteKind.OK, ingested=total, request_id=request_id)
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
