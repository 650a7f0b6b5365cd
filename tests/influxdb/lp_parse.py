"""An independent, character-by-character line-protocol parser: the reference the encoder's output
is checked against (escapes, quoted strings, integer `i` suffix, optional timestamp)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Point:
    measurement: str
    tags: tuple[tuple[str, str], ...]
    fields: tuple[tuple[str, str | int | float], ...]
    fields_raw: tuple[tuple[str, str], ...]
    time: int | None


def _scan(text: str, i: int, stops: str) -> tuple[str, int]:
    """Read up to an unescaped character of `stops`; return (unescaped text, index of the stop)."""
    out = []
    while i < len(text) and text[i] not in stops:
        if text[i] == "\\" and i + 1 < len(text):
            out.append(text[i + 1])
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out), i


def parse_line(line: str) -> Point:
    i = 0
    measurement, i = _scan(line, i, ", ")
    tags = []
    while i < len(line) and line[i] == ",":
        key, i = _scan(line, i + 1, "=")
        assert line[i] == "=", line
        value, i = _scan(line, i + 1, ", ")
        tags.append((key, value))
    assert line[i] == " ", f"expected one space after the tags at {i}: {line!r}"
    i += 1
    fields: list[tuple[str, str | int | float]] = []
    raws: list[tuple[str, str]] = []
    while True:
        key, i = _scan(line, i, "=")
        i += 1
        if line[i] == '"':
            j = i + 1
            chars = []
            while line[j] != '"':
                if line[j] == "\\" and line[j + 1] in '"\\':
                    chars.append(line[j + 1])
                    j += 2
                else:
                    chars.append(line[j])
                    j += 1
            raw = line[i : j + 1]
            value: str | int | float = "".join(chars)
            i = j + 1
        else:
            j = i
            while j < len(line) and line[j] not in ", ":
                j += 1
            raw = line[i:j]
            value = int(raw[:-1]) if raw.endswith("i") else float(raw)
            i = j
        fields.append((key, value))
        raws.append((key, raw))
        if i >= len(line) or line[i] == " ":
            break
        assert line[i] == ",", line
        i += 1
    ts = None
    if i < len(line):
        assert line[i] == " " and line[i + 1] != " ", f"one space before the timestamp: {line!r}"
        ts = int(line[i + 1 :])
    return Point(measurement, tuple(tags), tuple(fields), tuple(raws), ts)


def parse_body(body: bytes) -> list[Point]:
    text = body.decode("utf-8")
    assert text.endswith("\n"), "every line ends with a newline"
    return [parse_line(line) for line in text[:-1].split("\n")]
