"""Fixed-width number fields parse back to exactly the numbers they encode."""

from __future__ import annotations

import json

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from tsload.model.textbytes import DOUBLE_FIELD_WIDTH, decimal6_field, int_field, uuid_chars

micros = st.integers(min_value=-99_999_999, max_value=999_999_999)


@given(st.lists(micros, min_size=1, max_size=50))
def test_decimal_fields_round_trip(values: list[int]) -> None:
    rows = decimal6_field(np.asarray(values, dtype=np.int64))
    assert rows.shape == (len(values), DOUBLE_FIELD_WIDTH)
    for v, row in zip(values, rows, strict=True):
        text = json.loads(bytes(row))  # one JSON string token, padding outside it
        whole, frac = text.lstrip("-").split(".")
        assert len(frac) == 6 and (whole == "0" or not whole.startswith("0"))
        sign = -1 if text.startswith("-") else 1
        assert sign * (int(whole) * 10**6 + int(frac)) == v


@given(st.lists(st.integers(min_value=0, max_value=10**18), min_size=1, max_size=50))
def test_int_fields_round_trip(values: list[int]) -> None:
    rows = int_field(np.asarray(values, dtype=np.int64), 21)
    assert [json.loads(bytes(r)) for r in rows] == [str(v) for v in values]


def test_uuid_text() -> None:
    words = np.asarray([[0x0123456789ABCDEF, 0xFEDCBA9876543210]], dtype=np.uint64)
    assert bytes(uuid_chars(words)[0]) == b"01234567-89ab-cdef-fedc-ba9876543210"
