"""Numbers to fixed-width ASCII, vectorised: the pieces request bodies are assembled from.

A field holds a whole JSON string token, quotes included, padded with spaces to the field width:
numbers are right-aligned (spaces before the opening quote), table texts left-aligned (spaces
after the closing quote). Either way the spaces fall between JSON tokens, where JSON allows
whitespace, so every row of a request layout has one width and bodies are slices of one buffer.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from tsload._errors import LimitError

U8 = npt.NDArray[np.uint8]

SPACE, QUOTE, MINUS, DOT, ZERO = 0x20, 0x22, 0x2D, 0x2E, 0x30
DOUBLE_FIELD_WIDTH = 12  # "-99.999999" or "999.999999" with both quotes
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_P10 = 10 ** np.arange(19, dtype=np.int64)
#: digit position counted from the right, per region width
_POSITIONS = {w: np.arange(w - 1, -1, -1, dtype=np.int64) for w in range(1, 40)}


def decimal6_field(micros: npt.NDArray[np.int64], width: int = DOUBLE_FIELD_WIDTH) -> U8:
    """Values given in 1e-6 units → the JSON string '"<int>.<6 digits>"', right-aligned in `width`
    columns (padding before the opening quote, where JSON allows whitespace): shape (..., width)."""
    if width < DOUBLE_FIELD_WIDTH:
        raise ValueError(f"decimal fields need {DOUBLE_FIELD_WIDTH} columns")
    neg = micros < 0
    ip, fp = np.divmod(np.abs(micros), 1_000_000)
    top = int(ip.max(initial=0))
    if top > 999 or (neg.any() and int(ip[neg].max()) > 99):
        raise LimitError(f"value out of the encodable range (|integer part| {top})")
    out = np.empty((*micros.shape, width), dtype=np.uint8)
    out[..., width - 1] = QUOTE
    out[..., width - 7 : width - 1] = ZERO + (fp[..., None] // _P10[5::-1]) % 10
    out[..., width - 8] = DOT
    _int_region(out[..., : width - 8], ip, neg)
    return out


def _int_region(region: U8, ip: npt.NDArray[np.int64], neg: npt.NDArray[np.bool_] | None) -> None:
    """Fill `region` (..., w) with the right-aligned integer, its sign and the opening quote."""
    w = region.shape[-1]
    ndig = np.searchsorted(_P10[1:], ip, side="right") + 1
    lo, hi = int(ndig.min(initial=1)), int(ndig.max(initial=1))
    has_neg = neg is not None and bool(neg.any())
    if lo == hi and not has_neg:
        # One width for all (timestamps, mostly): plain columns, no per-element choice.
        region[..., : w - hi - 1] = SPACE
        region[..., w - hi - 1] = QUOTE
        region[..., w - hi :] = ZERO + (ip[..., None] // _P10[hi - 1 :: -1]) % 10
        return
    pos = _POSITIONS[w]
    nd = ndig[..., None]
    digits = ZERO + (ip[..., None] // _P10[np.minimum(pos, 18)]) % 10
    if not has_neg:
        opener = np.where(pos == nd, QUOTE, SPACE)
    else:
        assert neg is not None
        ng = neg[..., None]
        opener = np.where(pos == nd, np.where(ng, MINUS, QUOTE), np.where((pos == nd + 1) & ng, QUOTE, SPACE))
    region[...] = np.where(pos < nd, digits, opener)


def int_field(values: npt.NDArray[np.int64], width: int) -> U8:
    """Non-negative integers → '"<digits>"' right-aligned in `width` columns: shape (..., width)."""
    if values.size and int(values.min()) < 0:
        raise LimitError(f"negative integer {int(values.min())} cannot be encoded here")
    hi = int(values.max(initial=0))
    if len(str(hi)) + 2 > width:
        raise LimitError(f"integer {hi} does not fit a field of {width - 2} digits")
    out = np.empty((*values.shape, width), dtype=np.uint8)
    out[..., width - 1] = QUOTE
    _int_region(out[..., : width - 1], values, None)
    return out


def digits_fixed(values: npt.NDArray[np.int64], n_digits: int) -> U8:
    """Zero-padded fixed-width digits (the sample's {:08} instance numbers)."""
    out: U8 = (ZERO + (values[..., None] // _P10[n_digits - 1 :: -1]) % 10).astype(np.uint8)
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


def uuid_field(words: npt.NDArray[np.uint64]) -> U8:
    """(n, 2) uint64 → (n, 38): the UUID as a JSON string, quotes included."""
    out = np.empty((words.shape[0], 38), dtype=np.uint8)
    out[:, 0] = out[:, 37] = QUOTE
    out[:, 1:37] = uuid_chars(words)
    return out


def text_table(
    texts: list[bytes], width: int | None = None, *, right: bool = False, fill: int = SPACE
) -> U8:
    """Rows of text padded with `fill` (spaces unless said) to one width, left- or right-aligned."""
    w = max((len(t) for t in texts), default=0) if width is None else width
    out = np.full((len(texts), w), fill, dtype=np.uint8)
    for i, t in enumerate(texts):
        if len(t) > w:
            raise LimitError(f"text of {len(t)} bytes does not fit {w}")
        if right:
            out[i, w - len(t) :] = np.frombuffer(t, dtype=np.uint8)
        else:
            out[i, : len(t)] = np.frombuffer(t, dtype=np.uint8)
    return out
