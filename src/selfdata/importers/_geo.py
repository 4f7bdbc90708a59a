"""Pieces the mobility importers (GPX, GeoJSON, Google Takeout) share: times,
coordinates, compact point buffers, monthly location-history tracks, streaming JSON.

Positions are stored as a ``mobility.position`` series (columns ``lat``, ``lon``,
``ele``, ``accuracy``; NaN where a value is missing) attached to a ``mobility.track``
record. Points that come without an outing of their own (a location history, a
GeoJSON file of points) go to one track per calendar month (in the import's time zone):
the natural key ``(source, track_id)`` with ``track_id`` ``YYYY-MM`` makes a re-import,
or an overlapping newer export, land on the same track, where points merge by time.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any, BinaryIO
from zoneinfo import ZoneInfo

import ijson
import numpy as np

from selfdata.importers.base import (
    ImportContext,
    ImportFailed,
    Item,
    RecordBatch,
    RecordRow,
    SeriesChunk,
)

__all__ = [
    "POSITION",
    "TRACK",
    "MonthlyTracks",
    "Points",
    "check_position",
    "checked_point",
    "iso",
    "json_failure",
    "json_items",
    "json_text_head",
    "number",
    "parse_time",
    "position_chunks",
    "raw_json_items",
    "skip_bom",
]

POSITION = "mobility.position"
TRACK = "mobility.track"
BOM = b"\xef\xbb\xbf"
_EARTH_RADIUS_M = 6_371_008.8
_MS_THRESHOLD = 100_000_000_000  # epoch numbers above this are milliseconds (after 1973)
_TIME_HINT = "expected an ISO 8601 time (2024-06-15T10:35:00Z) or epoch seconds/milliseconds"


def iso(ts: int) -> str:
    """Epoch seconds as an ISO 8601 UTC time."""
    return datetime.fromtimestamp(ts, UTC).isoformat()


def parse_time(value: object) -> int:
    """Epoch seconds (UTC) of an ISO 8601 string (naive means UTC, as GPX says), of a
    number of seconds or milliseconds, or of a string of digits (``timestampMs``).
    Raises ValueError saying what was expected."""
    if isinstance(value, str):
        text = value.strip()
        if text.isdigit():
            return _epoch_number(int(text))
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"{text[:40]!r}; {_TIME_HINT}") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return math.floor(moment.timestamp())
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return _epoch_number(value)
    raise ValueError(f"{value!r}; {_TIME_HINT}")


def _epoch_number(value: float) -> int:
    seconds = value / 1000 if abs(value) >= _MS_THRESHOLD else value
    return math.floor(seconds)


def number(value: object) -> float | None:
    """A JSON number (or a numeric string, as the iOS export writes them); None when
    absent. Raises ValueError when it is something else."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a number")
    if isinstance(value, int | float):
        result = float(value)
    elif isinstance(value, str):
        try:
            result = float(value.strip())
        except ValueError:
            raise ValueError(f"{value[:40]!r} is not a number") from None
    else:
        raise ValueError(f"{type(value).__name__} where a number was expected")
    if not math.isfinite(result):
        raise ValueError(f"{value!r} is not a finite number")
    return result


def check_position(lat: float, lon: float) -> str | None:
    """What is wrong with a WGS 84 position, or None."""
    if not -90.0 <= lat <= 90.0:
        return f"latitude {lat:g} out of range; expected -90 to 90"
    if not -180.0 <= lon <= 180.0:
        return f"longitude {lon:g} out of range; expected -180 to 180"
    return None


def checked_point(
    ts: int,
    read: Callable[[str], object],
    names: tuple[str, str, str, str],
    absent: str,
    bad: Callable[[str, str], Exception],
) -> tuple[int, float, float, float, float]:
    """``(ts, lat, lon, ele, accuracy)`` of one point whose latitude, longitude,
    elevation and accuracy are read by their ``names`` (a CSV's columns, a JSON
    message's keys). ``bad(field, message)`` is raised for a value that is not a number,
    a position that is missing (``absent`` says how) or out of range; a missing
    elevation, or a missing or negative accuracy, is NaN."""
    values: dict[str, float | None] = {}
    for name in names:
        try:
            values[name] = number(read(name))
        except ValueError as exc:
            raise bad(name, str(exc)) from None
    lat_name, lon_name, ele_name, acc_name = names
    lat, lon = values[lat_name], values[lon_name]
    if lat is None or lon is None:
        raise bad(lat_name if lat is None else lon_name, absent)
    problem = check_position(lat, lon)
    if problem is not None:
        raise bad(lat_name if "latitude" in problem else lon_name, problem)
    ele, acc = values[ele_name], values[acc_name]
    nan = float("nan")
    return (ts, lat, lon, nan if ele is None else ele, nan if acc is None or acc < 0 else acc)


class Points:
    """Positions of one track as compact columns (8 bytes a value, not a Python float
    object each), turned into numpy arrays when handed over."""

    __slots__ = ("acc", "ele", "lat", "lon", "segment", "ts")

    def __init__(self) -> None:
        self.ts = array("q")
        self.lat = array("d")
        self.lon = array("d")
        self.ele = array("d")
        self.acc = array("d")
        self.segment = array("q")

    def add(
        self, ts: int, lat: float, lon: float, ele: float, acc: float, segment: int = 0
    ) -> None:
        self.ts.append(ts)
        self.lat.append(lat)
        self.lon.append(lon)
        self.ele.append(ele)
        self.acc.append(acc)
        self.segment.append(segment)

    def __len__(self) -> int:
        return len(self.ts)

    def arrays(self) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
        """(epoch seconds, values with one column per series column)."""
        ts = np.frombuffer(self.ts, dtype=np.int64).copy()
        values = np.column_stack(
            [np.frombuffer(column, dtype=np.float64) for column in self.columns()]
        )
        return ts, values

    def columns(self) -> tuple[array[float], ...]:
        return (self.lat, self.lon, self.ele, self.acc)

    def distance_m(self) -> float:
        """Great-circle length along the points, segment by segment (no jump across a
        pause between two segments)."""
        if len(self) < 2:
            return 0.0
        lat = np.radians(np.frombuffer(self.lat, dtype=np.float64))
        lon = np.radians(np.frombuffer(self.lon, dtype=np.float64))
        same = np.frombuffer(self.segment, dtype=np.int64)
        dlat, dlon = np.diff(lat), np.diff(lon)
        a = np.sin(dlat / 2) ** 2 + np.cos(lat[:-1]) * np.cos(lat[1:]) * np.sin(dlon / 2) ** 2
        steps = 2 * _EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
        return float(steps[np.diff(same) == 0].sum())

    def elevation_gain_m(self) -> float | None:
        """Sum of climbs between consecutive points that have an elevation (a point
        without one is skipped, not a drop to zero), segment by segment; None when no
        point has one."""
        ele = np.frombuffer(self.ele, dtype=np.float64)
        known = ~np.isnan(ele)
        if not known.any():
            return None
        ele = ele[known]
        segment = np.frombuffer(self.segment, dtype=np.int64)[known]
        climbs = np.diff(ele)
        keep = (np.diff(segment) == 0) & (climbs > 0)
        return float(climbs[keep].sum())


def position_chunks(
    ref: str, points: Points, batch_size: int, first_line: int
) -> Iterator[SeriesChunk]:
    """The points as ``mobility.position`` chunks of at most ``batch_size`` rows."""
    ts, values = points.arrays()
    size = max(1, batch_size)
    for start in range(0, len(ts), size):
        yield SeriesChunk(
            POSITION, ref, ts[start : start + size], values[start : start + size], first_line
        )


class MonthlyTracks:
    """Groups loose positions (a location history) into one ``mobility.track`` a
    calendar month. A month's points are kept until the month changes, so its record
    (which must come before its points) knows its first and last time; a file that
    jumps back to a month already handed over adds points to it without changing the
    record. Memory is bounded by one month of points (at most ``MAX_POINTS``, 40 bytes
    each).

    The hot loop of a big file appends to :attr:`flat` itself (``ts, lat, lon, ele,
    acc`` five floats a point) while ``low <= ts < high``, and calls :meth:`flush` and
    :meth:`start` otherwise; :meth:`add` does the same for everyone else.
    """

    MAX_POINTS = 2_000_000
    WIDTH = 5

    def __init__(self, context: ImportContext, source: str, title: str) -> None:
        self.zone = ZoneInfo(context.timezone)
        self.source = source
        self.title = title
        self.batch_size = context.batch_size
        self.flat = array("d")
        self.low = 0.0
        self.high = -1.0  # [low, high): the current month, in epoch seconds
        self.key = ""
        self.first_line = 0
        self.emitted: set[str] = set()

    def start(self, ts: float, line: int) -> None:
        """Begin gathering the month of ``ts`` (after :meth:`flush`)."""
        local = datetime.fromtimestamp(ts, self.zone)
        first = datetime(local.year, local.month, 1, tzinfo=self.zone)
        following = datetime(
            local.year + local.month // 12, local.month % 12 + 1, 1, tzinfo=self.zone
        )
        self.low, self.high = first.timestamp(), following.timestamp()
        self.key = f"{local.year:04d}-{local.month:02d}"
        self.first_line = line

    def full(self) -> bool:
        return len(self.flat) >= self.MAX_POINTS * self.WIDTH

    def add(
        self, line: int, ts: int, lat: float, lon: float, ele: float, acc: float
    ) -> Iterator[Item]:
        """Add one point, handing over the previous month first when it changes."""
        if not self.low <= ts < self.high or self.full():
            yield from self.flush()
            self.start(ts, line)
        self.flat.extend((ts, lat, lon, ele, acc))

    def flush(self) -> Iterator[Item]:
        """Hand over the month gathered so far: its record (the first time), its points."""
        if not self.flat:
            return
        block = np.frombuffer(self.flat, dtype=np.float64).reshape(-1, self.WIDTH)
        ts = block[:, 0].astype(np.int64)
        if self.key not in self.emitted:
            self.emitted.add(self.key)
            track = {
                "name": f"{self.title} {self.key}",
                "activity": "other",
                "started_at": iso(int(ts.min())),
                "ended_at": iso(int(ts.max())),
                "source": self.source,
                "track_id": self.key,
            }
            # Line 0: the record is made up by the importer, it is on no line of the
            # file, and no rejected row (numbered from 1) can take it down with it.
            yield RecordBatch(TRACK, [RecordRow(0, track, ref=self.key)])
        values = np.ascontiguousarray(block[:, 1:])
        size = max(1, self.batch_size)
        for at in range(0, len(ts), size):
            yield SeriesChunk(
                POSITION, self.key, ts[at : at + size], values[at : at + size], self.first_line
            )
        self.flat = array("d")
        self.low, self.high = 0.0, -1.0


# -- JSON ------------------------------------------------------------------------------


def skip_bom(stream: BinaryIO) -> None:
    """Position the stream after a UTF-8 byte-order mark, if the file starts with one."""
    stream.seek(0)
    if stream.read(3) != BOM:
        stream.seek(0)


def json_text_head(head: bytes) -> str:
    """The first bytes of a file as text for sniffing (BOM removed, a character cut
    at the end dropped); empty when they are not UTF-8 JSON."""
    if head.startswith(BOM):
        head = head[3:]
    text = head.decode("utf-8", errors="ignore").lstrip()
    return text if text[:1] in ("{", "[") else ""


def json_items(
    stream: BinaryIO, source: str, prefix: str, first: int = 1
) -> Iterator[tuple[int, Any]]:
    """(item number, item) for each element of the array at ``prefix`` (ijson's
    notation: ``locations.item``), streaming with ijson's C parser. Items are numbered
    from ``first``: JSON exports are often one long line, so rows are located by their
    number and path, not by a line. A malformed or truncated file raises ImportFailed."""
    number_ = first - 1
    try:
        for item in raw_json_items(stream, prefix):
            number_ += 1
            yield number_, item
    except (ijson.JSONError, UnicodeDecodeError) as exc:
        raise json_failure(source, prefix, number_ - first + 1, exc) from None


def raw_json_items(stream: BinaryIO, prefix: str) -> Iterator[Any]:
    """The items at ``prefix``, from the start of the file (after a BOM); the caller
    turns ``ijson.JSONError`` into :func:`json_failure`."""
    skip_bom(stream)
    return iter(ijson.items(stream, prefix, use_float=True, buf_size=64 * 1024))


def json_failure(source: str, prefix: str, read: int, exc: Exception) -> ImportFailed:
    """The ImportFailed for a JSON file ijson could not read to its end."""
    if isinstance(exc, UnicodeDecodeError):
        return ImportFailed.at(source, None, "encoding", "bytes that are not UTF-8; expected JSON")
    what = (
        "the file ends in the middle of the JSON (truncated download?)"
        if "premature EOF" in str(exc)
        else f"not valid JSON ({_short(exc)})"
    )
    array_name = prefix.removesuffix(".item") or "the top-level array"
    return ImportFailed.at(source, None, "json", f"{what}; after {read} item(s) of {array_name}")


def _short(exc: Exception) -> str:
    # The parser's first line only: the next ones quote the file (personal data).
    return str(exc).strip().splitlines()[0][:160] if str(exc).strip() else type(exc).__name__
