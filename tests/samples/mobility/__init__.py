"""Mobility samples: hand-written GPX, GeoJSON and Google Takeout files, and a generator
of big Takeout ``Records.json`` files (tests and ``bench/bench_mobility.py``).

The small files next to this module are written by hand (made-up places and times, no
real person's data). ``records_json`` writes a ``Records.json`` of any size in the
layout Google Takeout used until 2024, streaming, so a million points never sit in
memory as Python objects.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

__all__ = ["HERE", "RECORDS_START", "records_json", "records_json_bytes"]

HERE = Path(__file__).parent
RECORDS_START = 1_420_070_400  # 2015-01-01T00:00:00Z
_STEP_S = 60


def _record(i: int, legacy_ms: bool) -> str:
    """One location: a slow loop around Lyon, one point a minute, details varying."""
    ts = RECORDS_START + i * _STEP_S
    angle = i / 1440.0 * 2 * math.pi
    lat = round((45.75 + 0.05 * math.sin(angle)) * 1e7)
    lon = round((4.85 + 0.05 * math.cos(angle)) * 1e7)
    parts = [f'"latitudeE7": {lat}', f'"longitudeE7": {lon}', f'"accuracy": {5 + i % 40}']
    if i % 3 == 0:
        parts.append(f'"altitude": {170 + i % 50}')
        parts.append('"verticalAccuracy": 3')
    if i % 10 == 0:
        parts.append(
            f'"activity": [{{"activity": [{{"type": "STILL", "confidence": 80}}, '
            f'{{"type": "ON_FOOT", "confidence": 20}}], "timestamp": "{_iso(ts)}Z"}}]'
        )
    parts.append('"source": "WIFI", "deviceTag": 1184882232, "platformType": "ANDROID"')
    if legacy_ms:
        parts.append(f'"timestampMs": "{ts * 1000 + i % 1000}"')
    else:
        parts.append(f'"timestamp": "{_iso(ts)}.{i % 1000:03d}Z"')
    return "    {\n      " + ",\n      ".join(parts) + "\n    }"


def _iso(ts: int) -> str:
    # time.strftime is slow for a million lines; compute the civil date by hand.
    days, rest = divmod(ts, 86_400)
    hour, rest = divmod(rest, 3600)
    minute, second = divmod(rest, 60)
    year, month, day = _civil(days)
    return f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}"


def _civil(days: int) -> tuple[int, int, int]:
    """Days since 1970-01-01 to (year, month, day) (Howard Hinnant's algorithm)."""
    z = days + 719_468
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    day = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    return yoe + era * 400 + (1 if month <= 2 else 0), month, day


def _pieces(points: int, legacy_ms: bool) -> Iterator[str]:
    yield '\ufeff{\n  "locations": [\n'
    for i in range(points):
        yield _record(i, legacy_ms) + (",\n" if i + 1 < points else "\n")
    yield "  ]\n}\n"


def records_json(out: BinaryIO, points: int, *, legacy_ms: bool = False) -> int:
    """Write a Takeout ``Records.json`` of ``points`` locations (UTF-8 with a BOM, as
    some exports have) to ``out``; returns the bytes written. One point a minute from
    2015-01-01 UTC; ``legacy_ms`` uses the older ``timestampMs`` strings."""
    written = 0
    buffer: list[str] = []
    for piece in _pieces(points, legacy_ms):
        buffer.append(piece)
        if len(buffer) >= 10_000:
            written += out.write("".join(buffer).encode("utf-8"))
            buffer.clear()
    written += out.write("".join(buffer).encode("utf-8"))
    return written


def records_json_bytes(points: int, *, legacy_ms: bool = False) -> bytes:
    """A small ``Records.json`` in memory."""
    return "".join(_pieces(points, legacy_ms)).encode("utf-8")
