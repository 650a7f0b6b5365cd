"""Numbers to fixed-width ASCII, vectorised: the pieces request bodies are assembled from.

A field holds a value's characters, its closing quote, then spaces up to the field width. The
spaces fall between JSON tokens (after the string), where JSON allows whitespace, so every row
of a request layout has the same width and bodies are plain slices of one numpy buffer.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from tsload._errors import LimitError

U8 = npt.NDArray[np.uint8]

SPACE, QUOTE, MINUS, DOT, ZERO = 0x20, 0x22, 0x2D, 0x2E, 0x30
DOUBLE_FIELD_WIDTH = 11  # "-99.999999" or "999.999999" plus the quote
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_P10 = 10 ** np.arange(19, dtype=np.int64)


def _shift_left(wide: U8, start: npt.NDArray[np.int64], width: int) -> U8:
    """Row-wise window wide[..., start:start+width] (start varies per element)."""
    if start.size and int(start.min()) == int(start.max()):
        s = int(start.flat[0])
        return wide[..., s : s + width]
    idx = start[..., None] + np.arange(width, dtype=np.int64)
    return np.take_along_axis(wide, idx, axis=-1)


def decimal6_field(micros: npt.NDArray[np.int64], width: int = DOUBLE_FIELD_WIDTH) -> U8:
    """Values given in 1e-6 units → '<int>.<6 digits>"' left-aligned, space padded: shape (..., width)."""
    neg = micros < 0
    ip, fp = np.divmod(np.abs(micros), 1_000_000)
    top = int(ip.max(initial=0))
    if top > 999 or (neg.any() and int(ip[neg].max()) > 99):
        raise LimitError(f"value out of the encodable range (|integer part| {top})")
    ndig = 1 + (ip >= 10).astype(np.int64) + (ip >= 100).astype(np.int64)
    wide = np.full((*micros.shape, 12 + width), SPACE, dtype=np.uint8)
    wide[..., 3] = ZERO + ip % 10
    wide[..., 2] = ZERO + (ip // 10) % 10
    wide[..., 1] = ZERO + ip // 100
    sign_col = 3 - ndig
    for c in range(3):
        np.copyto(wide[..., c], MINUS, where=neg & (sign_col == c))
    wide[..., 4] = DOT
    for k in range(6):
        wide[..., 5 + k] = ZERO + (fp // _P10[5 - k]) % 10
    wide[..., 11] = QUOTE
    start = 4 - ndig - neg.astype(np.int64)
    return _shift_left(wide, start, width)


def int_field(values: npt.NDArray[np.int64], width: int) -> U8:
    """Non-negative integers → '<digits>"' left-aligned, space padded: shape (..., width)."""
    if values.size == 0:
        return np.full((*values.shape, width), SPACE, dtype=np.uint8)
    lo, hi = int(values.min()), int(values.max())
    if lo < 0:
        raise LimitError(f"negative integer {lo} cannot be encoded here")
    maxd = len(str(hi))
    if maxd + 1 > width:
        raise LimitError(f"integer {hi} does not fit a field of {width - 1} digits")
    ndig = np.ones(values.shape, dtype=np.int64)
    for d in range(1, maxd):
        ndig += values >= _P10[d]
    wide = np.full((*values.shape, maxd + width), SPACE, dtype=np.uint8)
    for k in range(maxd):
        wide[..., k] = ZERO + (values // _P10[maxd - 1 - k]) % 10
    wide[..., maxd] = QUOTE
    return _shift_left(wide, maxd - ndig, width)


def digits_fixed(values: npt.NDArray[np.int64], n_digits: int) -> U8:
    """Zero-padded fixed-width digits (the sample's {:08} instance numbers)."""
    out = np.empty((*values.shape, n_digits), dtype=np.uint8)
    for k in range(n_digits):
        out[..., k] = ZERO + (values // _P10[n_digits - 1 - k]) % 10
    return out


def uuid_chars(words: npt.NDArray[np.uint64]) -> U8:
    """(n, 2) uint64 → (n, 36) canonical lowercase UUID text."""
    n = words.shape[0]
    shifts = (np.arange(15, -1, -1, dtype=np.uint64) * np.uint64(4))[None, :]
    nib = np.concatenate(
        [(words[:, 0:1] >> shifts) & np.uint64(15), (words[:, 1:2] >> shifts) & np.uint64(15)], axis=1
    )
    hexed = _HEX[nib.astype(np.int64)]
    out = np.empty((n, 36), dtype=np.uint8)
    out[:, 0:8] = hexed[:, 0:8]
    out[:, 9:13] = hexed[:, 8:12]
    out[:, 14:18] = hexed[:, 12:16]
    out[:, 19:23] = hexed[:, 16:20]
    out[:, 24:36] = hexed[:, 20:32]
    out[:, [8, 13, 18, 23]] = MINUS
    return out


def text_table(texts: list[bytes], width: int | None = None, *, right: bool = False) -> U8:
    """Rows of text padded with spaces to one width (left- or right-aligned)."""
    w = max((len(t) for t in texts), default=0) if width is None else width
    out = np.full((len(texts), w), SPACE, dtype=np.uint8)
    for i, t in enumerate(texts):
        if len(t) > w:
            raise LimitError(f"text of {len(t)} bytes does not fit {w}")
        if right:
            out[i, w - len(t) :] = np.frombuffer(t, dtype=np.uint8)
        else:
            out[i, : len(t)] = np.frombuffer(t, dtype=np.uint8)
    return out
