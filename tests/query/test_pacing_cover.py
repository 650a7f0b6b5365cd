"""QueryConfig.cover_mix: the sessions share the mix so that every positive-weight query runs."""

from __future__ import annotations

from tsload.query.pacing import cover_share

MIX = ("do-q1", "do-q2", "do-q3", "do-q4", "do-q5", "do-q6")


def test_cover_share_gives_every_query_to_exactly_one_session() -> None:
    for sessions in (1, 2, 4, 6, 7, 16):
        shares = [cover_share(MIX, g, sessions) for g in range(sessions)]
        flat = [q for share in shares for q in share]
        assert sorted(flat) == sorted(MIX), sessions
        assert max(len(s) for s in shares) == -(-len(MIX) // sessions)  # as even as it gets


def test_cover_share_off() -> None:
    assert cover_share(MIX, 0, 0) == ()
