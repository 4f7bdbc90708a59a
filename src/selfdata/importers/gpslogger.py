"""GPSLogger for Android CSV logs (``gpslogger.csv``).

.. code-block:: text

    time,lat,lon,elevation,accuracy,bearing,speed,satellites,provider,hdop,vdop,…
    2024-06-15T10:30:00.000Z,52.5200,13.4050,34.0,8,90,1.5,12,gps,…

Columns are found by their header name, so any version's order (and extra columns:
``activity``, ``battery``, ``annotation``, ``timestamp_ms``…) is read. ``time`` (ISO
8601, UTC; else ``timestamp_ms``), ``lat``, ``lon``, ``elevation`` and ``accuracy`` make
a position; an empty elevation or accuracy is unknown. Positions go to one
``mobility.track`` a month (as a location history), source ``GPSLogger`` (option
``source`` replaces it); speed, bearing and satellites have no column in
``mobility.position`` and are not kept.

A row is rejected with its line and column (a row with fewer cells than the header is
read when it has the cells needed); a last row with fewer cells than the header is a
download cut short, and the file is refused as a whole.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import BinaryIO, ClassVar

from selfdata.importers._geo import (
    POSITION,
    TRACK,
    MonthlyTracks,
    checked_point,
    parse_time,
)
from selfdata.importers.base import (
    ImportContext,
    Importer,
    ImportFailed,
    Item,
    Rejected,
)
from selfdata.importers.text import decode_head, iter_lines

__all__ = ["GpsLoggerCsv"]

_NAN = float("nan")
_HINTS = {"elevation", "accuracy", "bearing", "speed", "satellites", "provider", "hdop"}


def _cells(text: str) -> list[str]:
    """The cells of one CSV line; ValueError when it is not one (a stray carriage
    return, a quote left open)."""
    try:
        return next(csv.reader([text], strict=True), [])
    except csv.Error as exc:
        raise ValueError(f"not a CSV row ({exc})") from None


def _header(text: str) -> list[str]:
    try:
        return [cell.strip().lower() for cell in _cells(text)]
    except ValueError:
        return []


class GpsLoggerCsv(Importer):
    name = "gpslogger.csv"
    version = "1.0"
    description: ClassVar[dict[str, str]] = {
        "fr": "GPSLogger (Android) — journal de positions CSV",
        "en": "GPSLogger (Android) — CSV position log",
    }
    doctypes = (TRACK, POSITION)
    options: ClassVar[dict[str, str]] = {
        "source": "the device or app to record as the source (default: GPSLogger)",
    }

    def sniff(self, head: bytes, filename: str) -> float:
        text = decode_head(head)
        if text is None:
            return 0.0
        first = next((line for line in text.splitlines() if line.strip()), "")
        cells = _header(first)
        if cells[:3] != ["time", "lat", "lon"]:
            return 0.0
        return 0.9 if _HINTS & set(cells) else 0.6

    def parse(self, stream: BinaryIO, context: ImportContext) -> Iterator[Item]:
        source = context.filename
        lines = iter_lines(stream, source)
        header_line, header_text = next(((n, t) for n, t in lines if t.strip()), (0, ""))
        if not header_line:
            raise ImportFailed.at(source, None, "header", "the file is empty")
        header = _header(header_text)
        columns = {name: at for at, name in reversed(list(enumerate(header)))}
        missing = [c for c in ("lat", "lon") if c not in columns]
        if "time" not in columns and "timestamp_ms" not in columns:
            missing.insert(0, "time")
        if missing:
            raise ImportFailed.at(
                source,
                header_line,
                "header",
                f"no column {', '.join(missing)}; expected a GPSLogger header "
                "time,lat,lon,elevation,accuracy,…",
            )
        chosen = context.options.get("source") or "GPSLogger"
        tracks = MonthlyTracks(context, " ".join(chosen.split())[:200], "Positions")
        width = len(header)
        stored = rejected = 0
        short: int | None = None  # the last row read, when it has too few cells
        for line, text in lines:
            if not text.strip():
                continue
            try:
                cells = _cells(text)
            except ValueError as exc:
                short = None
                rejected += 1
                yield Rejected(line, "row", str(exc))
                continue
            short = line if len(cells) < width else None
            try:
                point = _point(cells, columns)
            except _Bad as bad:
                rejected += 1
                yield Rejected(line, bad.column, bad.message)
                continue
            stored += 1
            yield from tracks.add(line, *point)
        if short is not None:  # the last row cut short: a download cut short
            raise ImportFailed.at(
                source,
                short,
                "row",
                f"the last row has fewer cells than the {width} of the header; "
                "the file is truncated",
            )
        yield from tracks.flush()
        if not stored and not rejected:
            raise ImportFailed.at(source, None, "rows", "no position after the header")


class _Bad(Exception):
    def __init__(self, column: str, message: str) -> None:
        super().__init__(message)
        self.column = column
        self.message = message


def _cell(cells: list[str], columns: dict[str, int], name: str) -> str:
    at = columns.get(name)
    return cells[at].strip() if at is not None and at < len(cells) else ""


def _point(cells: list[str], columns: dict[str, int]) -> tuple[int, float, float, float, float]:
    """(ts, lat, lon, ele, accuracy) of a row."""
    stamp = _cell(cells, columns, "time")
    name = "time"
    if not stamp:
        stamp, name = _cell(cells, columns, "timestamp_ms"), "timestamp_ms"
    if not stamp:
        raise _Bad("time", "empty; expected an ISO 8601 time such as 2024-06-15T10:30:00Z")
    try:
        ts = parse_time(stamp)
    except ValueError as exc:
        raise _Bad(name, str(exc)) from None
    return checked_point(
        ts,
        lambda column: _cell(cells, columns, column),
        ("lat", "lon", "elevation", "accuracy"),
        "empty; a position needs lat and lon",
        _Bad,
    )
