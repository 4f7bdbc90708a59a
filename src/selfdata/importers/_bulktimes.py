"""Timestamps of a whole column at once: fixed-width text to epoch seconds, with numpy.

The bulk parsers (:mod:`selfdata.importers._bulkcsv`) read a block of a meter export in
one go; this module turns its timestamp column into epoch seconds exactly as
:class:`~selfdata.importers.text.LocalTimes` does line by line, or says it cannot
(``None``), and the caller then reads the block line by line. It only takes the shapes
meter exports use, every row of a block in the same one:

* ISO 8601 ``yyyy-mm-ddTHH:MM:SS+HH:MM`` (or ``Z``, or a space instead of ``T``), and
  without an offset ``yyyy-mm-ddTHH:MM[:SS]`` or ``yyyy-mm-dd`` (local times);
* French ``dd/mm/yyyy[ HH:MM[:SS]]`` (local times).

Local times are placed in their zone as :class:`LocalTimes` places them: an ambiguous
time (the repeated hour when daylight-saving time ends) is the first instant unless that
would not come after the previous timestamp; a time that does not exist gives ``None``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache
from typing import NamedTuple
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

__all__ = ["Instants", "ZoneTable", "parse_stamps"]

Ints = npt.NDArray[np.int64]
_DAY = 86_400
_YEAR = 31_556_952  # seconds in an average Gregorian year
_FIRST_YEAR, _LAST_YEAR = 2, 9998  # a margin within datetime's years 1 to 9999
_DIGIT = np.uint8(9)
_MONTH_DAYS = np.array([0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)


class _Shape(NamedTuple):
    """Where the parts of one timestamp layout are (None: absent)."""

    year: int
    month: int
    day: int
    time: int | None  # position of HH (then MM at +3, SS at +6 when ``seconds``)
    seconds: bool
    separators: tuple[tuple[int, bytes], ...]  # position -> the allowed bytes


def _shape_of(first: bytes) -> _Shape | None:
    """The layout of a timestamp, from the column's first cell (all must share it)."""
    width = len(first)
    if width >= 10 and first[4:5] == b"-" and first[7:8] == b"-":
        date_seps: tuple[tuple[int, bytes], ...] = ((4, b"-"), (7, b"-"))
        if width == 10:
            return _Shape(0, 5, 8, None, False, date_seps)
        time_seps = ((10, b"T "), (13, b":"))
        if width == 16:
            return _Shape(0, 5, 8, 11, False, date_seps + time_seps)
        seconds_seps = date_seps + time_seps + ((16, b":"),)
        if width in (19, 20, 25):  # naive, Z, +HH:MM
            tail = {19: (), 20: ((19, b"Z"),), 25: ((19, b"+-"), (22, b":"))}[width]
            return _Shape(0, 5, 8, 11, True, seconds_seps + tail)
        return None
    if width >= 10 and first[2:3] == b"/" and first[5:6] == b"/":
        date_seps = ((2, b"/"), (5, b"/"))
        if width == 10:
            return _Shape(6, 3, 0, None, False, date_seps)
        time_seps = ((10, b" "), (13, b":"))
        if width == 16:
            return _Shape(6, 3, 0, 11, False, date_seps + time_seps)
        if width == 19:
            return _Shape(6, 3, 0, 11, True, (*date_seps, *time_seps, (16, b":")))
    return None


def _number(digits: npt.NDArray[np.uint8], at: int, count: int) -> Ints:
    value = np.zeros(digits.shape[0], dtype=np.int64)
    for column in range(at, at + count):
        value = value * 10 + digits[:, column]
    return value


def _days_from_civil(year: Ints, month: Ints, day: Ints) -> Ints:
    """Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm)."""
    y = year - (month <= 2)
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (month + np.where(month > 2, -3, 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    days: Ints = era * 146_097 + doe - 719_468
    return days


class Instants(NamedTuple):
    """A parsed column: epoch seconds, and which rows were local times (no offset)."""

    epoch: Ints
    """Seconds: the instant when the row had an offset, else the local time as if UTC."""
    local: bool


def parse_stamps(cells: npt.NDArray[np.uint8]) -> Instants | None:
    """``cells`` is one fixed-width row of bytes per timestamp; ``None`` unless every row
    is a valid timestamp of the first row's layout."""
    if cells.shape[0] == 0:
        return None
    shape = _shape_of(cells[0].tobytes())
    if shape is None:
        return None
    digit_columns = np.ones(cells.shape[1], dtype=bool)
    for at, allowed in shape.separators:
        digit_columns[at] = False
        column = cells[:, at]
        ok = column == allowed[0]
        for other in allowed[1:]:
            ok |= column == other
        if not ok.all():
            return None
    digits = cells - np.uint8(48)  # wraps around below '0': not a digit either
    if (digits[:, digit_columns] > _DIGIT).any():
        return None
    year = _number(digits, shape.year, 4)
    month = _number(digits, shape.month, 2)
    day = _number(digits, shape.day, 2)
    leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
    if (year < 1).any() or (month < 1).any() or (month > 12).any():
        return None
    month_days = _MONTH_DAYS[month] + ((month == 2) & leap)
    if (day < 1).any() or (day > month_days).any():
        return None
    epoch = _days_from_civil(year, month, day) * _DAY
    if shape.time is not None:
        hour = _number(digits, shape.time, 2)
        minute = _number(digits, shape.time + 3, 2)
        second = _number(digits, shape.time + 6, 2) if shape.seconds else 0
        if (hour > 23).any() or (minute > 59).any() or np.any(second > 59):
            return None
        epoch += hour * 3600 + minute * 60 + second
    if cells.shape[1] != 25:
        return Instants(epoch, cells.shape[1] != 20)  # Z: UTC; otherwise local
    sign = np.where(cells[:, 19] == ord("-"), -1, 1)
    offset_hours, offset_minutes = _number(digits, 20, 2), _number(digits, 23, 2)
    if (offset_hours > 23).any() or (offset_minutes > 59).any():
        return None
    return Instants(epoch - sign * (offset_hours * 3600 + offset_minutes * 60), False)


class ZoneTable:
    """A time zone's offsets as arrays: UTC instants where each offset starts."""

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone

    def offsets_at(self, utc: Ints) -> Ints | None:
        """The zone's UTC offset (seconds) at each instant (None: see :func:`_years`)."""
        years = _years(utc)
        if years is None:
            return None
        starts, offsets = _transitions(self.zone, *years)
        found: Ints = offsets[np.searchsorted(starts, utc, side="right")]
        return found

    def place(self, local: Ints, previous: float | None) -> Ints | None:
        """Local times as instants (``LocalTimes`` rules, ``previous`` the instant of the
        row before); ``None`` when one does not exist in the zone."""
        if local.shape[0] == 0:
            return local
        years = _years(local)
        if years is None:
            return None
        starts, offsets = _transitions(self.zone, *years)
        choices = [
            np.where(offsets[np.searchsorted(starts, local - o, side="right")] == o, local - o, -1)
            for o in np.unique(offsets)
        ]
        matches = np.stack(choices)
        valid = matches != -1
        count = valid.sum(axis=0)
        if (count == 0).any():
            return None  # skipped by the clocks moving forward
        earliest: Ints = np.where(valid, matches, np.iinfo(np.int64).max).min(axis=0)
        if (count == 1).all():
            return earliest
        latest: Ints = np.where(valid, matches, np.iinfo(np.int64).min).max(axis=0)
        placed: Ints = earliest.copy()
        for index in np.flatnonzero(count > 1).tolist():  # the repeated hour: a few rows
            before = previous if index == 0 else float(placed[index - 1])
            if before is not None and earliest[index] <= before:
                placed[index] = latest[index]
        return placed

    def midnight(self, utc: Ints) -> Ints | None:
        """Local midnight (first instant) of the local day each instant falls on."""
        at = self.offsets_at(utc)
        years = None if at is None else _years(utc + at)
        if at is None or years is None:
            return None
        day = (utc + at) // _DAY * _DAY
        starts, offsets = _transitions(self.zone, *years)
        best = np.full(day.shape[0], np.iinfo(np.int64).max)
        for o in np.unique(offsets):
            hit = offsets[np.searchsorted(starts, day - o, side="right")] == o
            best = np.where(hit, np.minimum(best, day - o), best)
        if (best == np.iinfo(np.int64).max).any():
            return None
        return best


def _years(seconds: Ints) -> tuple[int, int] | None:
    """The years the instants fall in, give or take one; None near the ends of what
    datetime takes (years 1 and 9999: left to the line-by-line parser)."""
    low = 1970 + int(seconds.min()) // _YEAR - 1
    high = 1970 + int(seconds.max()) // _YEAR + 1
    if low < _FIRST_YEAR or high > _LAST_YEAR:
        return None
    return low, high


def _transitions(zone: ZoneInfo, first: int, last: int) -> tuple[Ints, Ints]:
    """(starts, offsets): ``offsets[i]`` holds before ``starts[i]``, ``offsets[-1]`` after
    the last start; over the years ``first`` to ``last``."""
    starts: list[int] = []
    offsets: list[int] = []
    for year in range(first, last + 1):
        year_starts, year_offsets = _year_transitions(zone, year)
        if not offsets:
            offsets.append(year_offsets[0])
        starts.extend(year_starts)
        offsets.extend(year_offsets[1:])
    return np.asarray(starts, dtype=np.int64), np.asarray(offsets, dtype=np.int64)


@lru_cache(maxsize=4096)
def _year_transitions(zone: ZoneInfo, year: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The instants of ``year`` (UTC) where ``zone`` changes offset, and the offsets: the
    one at the year's start, then the one after each change. Found day by day, then to
    the second by bisection (zoneinfo does not list its transitions)."""

    def offset(at: int) -> int:
        delta = datetime.fromtimestamp(at, zone).utcoffset()
        return int(delta.total_seconds()) if delta is not None else 0

    start = int(datetime(year, 1, 1, tzinfo=UTC).timestamp())
    end = int(datetime(year + 1, 1, 1, tzinfo=UTC).timestamp())
    starts: list[int] = []
    offsets = [offset(start)]
    at = start
    while at < end:
        following = min(at + _DAY, end)
        if offset(following) != offsets[-1]:
            low, high = at, following  # offset(low) is the old one, offset(high) the new
            while high - low > 1:
                middle = (low + high) // 2
                if offset(middle) == offsets[-1]:
                    low = middle
                else:
                    high = middle
            starts.append(high)
            offsets.append(offset(high))
        at = following
    return tuple(starts), tuple(offsets)
