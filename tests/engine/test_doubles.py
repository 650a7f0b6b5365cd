"""DOUBLE values kept as text: Arrow's conversion of a flush gives the floats `float` gives."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tsload.engine.doubles import DoubleText, arrow_doubles, value_list
from tsload.engine.records_fast import _DECIMALS

# What the fast path lets through as text: plain decimals of up to 300 digits each side.
digits = st.text("0123456789", min_size=1, max_size=300)
decimal = st.builds(
    lambda neg, whole, frac: ("-" if neg else "") + whole + ("." + frac if frac else ""),
    st.booleans(),
    st.one_of(digits, st.sampled_from(["0", "00", "9" * 300, "179769313486231570"])),
    st.one_of(st.none(), digits, st.sampled_from(["0" * 299 + "1", "5", "2250738585072011"])),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(decimal, min_size=1, max_size=40), min_size=1, max_size=6))
def test_arrow_conversion_equals_float(groups: list[list[str]]) -> None:
    texts = [",".join(g) for g in groups]
    assert all(_DECIMALS.fullmatch(t) for t in texts)
    want = [float(v) for g in groups for v in g]
    got = arrow_doubles(texts).to_pylist()
    # repr tells -0.0 from 0.0 and compares infinities; no NaN can come from a decimal
    assert list(map(repr, got)) == list(map(repr, want))
    kept = [DoubleText(t, len(g)) for t, g in zip(texts, groups, strict=True)]
    assert [x for d in kept for x in value_list(d)] == want
    assert value_list([1.5, None]) == [1.5, None]
