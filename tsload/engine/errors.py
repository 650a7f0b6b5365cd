"""AWS-shaped API errors.

botocore's JSON parser takes the error code from the body's `__type` (the part after `#`), so
raising `ApiError("ConflictException", ...)` makes a stock client raise its modeled
`ConflictException`. The status codes are the ones Timestream answers with.
"""

from __future__ import annotations

from typing import Any

# Timestream's error namespace, as it appears in `__type`.
_NAMESPACE = "com.amazonaws.timestream.v20181101#"

_STATUS = {
    "ValidationException": 400,
    "ConflictException": 409,
    "ResourceNotFoundException": 404,
    "ThrottlingException": 429,
    "RejectedRecordsException": 419,
    "InternalServerException": 500,
    "InvalidEndpointException": 421,
    "AccessDeniedException": 403,
    "ServiceQuotaExceededException": 402,
    "QueryExecutionException": 400,
    "MissingAuthenticationTokenException": 403,
    "UnknownOperationException": 400,
    "SerializationException": 400,
}


class ApiError(Exception):
    """An error answered to the client in AWS JSON 1.0 form."""

    def __init__(self, code: str, message: str, *, status: int | None = None, **fields: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status if status is not None else _STATUS.get(code, 400)
        self.fields = fields

    def body(self) -> dict[str, Any]:
        return {"__type": _NAMESPACE + self.code, "Message": self.message, **self.fields}


def validation(message: str) -> ApiError:
    return ApiError("ValidationException", message)


def not_found(message: str) -> ApiError:
    return ApiError("ResourceNotFoundException", message)


def conflict(message: str) -> ApiError:
    return ApiError("ConflictException", message)
