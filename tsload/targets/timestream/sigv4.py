"""AWS Signature Version 4 for pre-encoded Timestream requests, without botocore's per-request cost.

botocore's `SigV4Auth` rebuilds the canonical request from a generic request object and derives the
signing key with four HMACs on every call (140-240 µs). Here the body is hashed once, the header set
is fixed (content-type, host, x-amz-date, x-amz-target, and x-amz-security-token for temporary
credentials), and the signing key is cached per (date, region, service). The result is byte-for-byte
the signature botocore computes for the same request (a test recomputes it with `SigV4Auth`).

Credentials come from the aioboto3 session (profiles, env vars, SSO, instance roles). Refreshable
credentials are re-read every `refresh_after` seconds, well inside botocore's 10-15 minute advisory
refresh window, so rotated keys are picked up without a frozen copy outliving them.
"""

from __future__ import annotations

import hashlib
import hmac
import inspect
import time
from dataclasses import dataclass
from typing import Any

ALGORITHM = "AWS4-HMAC-SHA256"
CONTENT_TYPE = "application/x-amz-json-1.0"


@dataclass(frozen=True, slots=True)
class FrozenKeys:
    access_key: str
    secret_key: str
    token: str | None


async def freeze(credentials: Any) -> FrozenKeys:
    """Read a botocore/aiobotocore credentials object (sync or async `get_frozen_credentials`)."""
    frozen = credentials.get_frozen_credentials()
    if inspect.isawaitable(frozen):
        frozen = await frozen
    return FrozenKeys(frozen.access_key, frozen.secret_key, frozen.token)


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


class SigV4Signer:
    """Signs `POST /` JSON-protocol requests for one region and service."""

    def __init__(
        self,
        credentials: Any,
        region: str,
        service: str = "timestream",
        *,
        refresh_after: float = 30.0,
    ) -> None:
        self._credentials = credentials
        self.region = region
        self.service = service
        self._refresh_after = refresh_after
        self._keys: FrozenKeys | None = None
        self._keys_read_at = 0.0
        self._key_cache: dict[tuple[str, str, str, str], bytes] = {}
        self._stamp_second = -1
        self._amz_date = ""
        self._date = ""

    async def keys(self) -> FrozenKeys:
        """Current credentials; re-read from the session when older than `refresh_after`."""
        now = time.monotonic()
        if self._keys is None or now - self._keys_read_at >= self._refresh_after:
            self._keys = await freeze(self._credentials)
            self._keys_read_at = now
        return self._keys

    def _signing_key(self, secret: str, date: str) -> bytes:
        cache_key = (secret, date, self.region, self.service)
        key = self._key_cache.get(cache_key)
        if key is None:
            k = _hmac(("AWS4" + secret).encode("utf-8"), date)
            k = _hmac(k, self.region)
            k = _hmac(k, self.service)
            key = _hmac(k, "aws4_request")
            if len(self._key_cache) > 8:  # old dates and rotated secrets are never needed again
                self._key_cache.clear()
            self._key_cache[cache_key] = key
        return key

    def _stamp(self, now: float | None) -> tuple[str, str]:
        t = time.time() if now is None else now
        second = int(t)
        if second != self._stamp_second:
            self._stamp_second = second
            self._amz_date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(second))
            self._date = self._amz_date[:8]
        return self._amz_date, self._date

    def sign(
        self, keys: FrozenKeys, host: str, target: str, body: bytes, *, now: float | None = None
    ) -> list[tuple[str, str]]:
        """The headers to send (signed ones plus Authorization); `host` as it appears in the Host header."""
        amz_date, date = self._stamp(now)
        body_hash = hashlib.sha256(body).hexdigest()
        if keys.token:
            canonical_headers = (
                f"content-type:{CONTENT_TYPE}\nhost:{host}\nx-amz-date:{amz_date}\n"
                f"x-amz-security-token:{keys.token}\nx-amz-target:{target}\n"
            )
            signed = "content-type;host;x-amz-date;x-amz-security-token;x-amz-target"
        else:
            canonical_headers = (
                f"content-type:{CONTENT_TYPE}\nhost:{host}\nx-amz-date:{amz_date}\nx-amz-target:{target}\n"
            )
            signed = "content-type;host;x-amz-date;x-amz-target"
        canonical = f"POST\n/\n\n{canonical_headers}\n{signed}\n{body_hash}"
        scope = f"{date}/{self.region}/{self.service}/aws4_request"
        to_sign = f"{ALGORITHM}\n{amz_date}\n{scope}\n{hashlib.sha256(canonical.encode('utf-8')).hexdigest()}"
        signature = hmac.new(
            self._signing_key(keys.secret_key, date), to_sign.encode("utf-8"), hashlib.sha256
        ).hexdigest()
        headers = [
            ("Content-Type", CONTENT_TYPE),
            ("X-Amz-Date", amz_date),
            ("X-Amz-Target", target),
        ]
        if keys.token:
            headers.append(("X-Amz-Security-Token", keys.token))
        headers.append(
            (
                "Authorization",
                f"{ALGORITHM} Credential={keys.access_key}/{scope}, "
                f"SignedHeaders={signed}, Signature={signature}",
            )
        )
        return headers
