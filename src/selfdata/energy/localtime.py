"""Local wall-clock time for whole arrays of instants, without a call per instant.

A zone's UTC offset only changes at a few transitions a year (daylight saving in
Europe/Paris: last Sunday of March and of October). They are found once per (zone,
year) and cached; an array of epoch seconds is then shifted by the offset in force at
each instant with one ``searchsorted``: ten years of half-hours take a few milliseconds.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from selfdata.errors import InvalidInput

__all__ = ["DAY_S", "day_number", "local_days", "local_seconds", "midnight", "zone"]

DAY_S = 86_400
_EPOCH = date(1970, 1, 1)


def zone(tz_name: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz_name)
    except (KeyError, ValueError):
        raise InvalidInput(f"unknown time zone {tz_name!r}; expected an IANA name") from None


def _offset(tz: ZoneInfo, ts: int) -> int:
    delta = datetime.fromtimestamp(ts, tz).utcoffset()
    return int(delta.total_seconds()) if delta is not None else 0


@lru_cache(maxsize=1024)
def _year_transitions(tz_name: str, year: int) -> tuple[tuple[int, int], ...]:
    """(instant, offset from then on) for the UTC year: its start, then each change."""
    tz = zone(tz_name)
    start = int(datetime(year, 1, 1, tzinfo=UTC).timestamp())
    end = int(datetime(year + 1, 1, 1, tzinfo=UTC).timestamp())
    out = [(start, _offset(tz, start))]
    day = start
    while day < end:
        nxt = min(day + DAY_S, end)
        before = _offset(tz, day)
        if _offset(tz, nxt) != before:
            lo, hi = day, nxt  # invariant: offset(lo) == before != offset(hi)
            while hi - lo > 1:
                mid = (lo + hi) // 2
                lo, hi = (mid, hi) if _offset(tz, mid) == before else (lo, mid)
            out.append((hi, _offset(tz, hi)))
        day = nxt
    return tuple(out)


def local_seconds(ts: npt.NDArray[np.int64], tz_name: str) -> npt.NDArray[np.int64]:
    """Each instant as seconds since 1970-01-01 00:00 *local wall-clock time*."""
    if ts.shape[0] == 0:
        return ts.copy()
    first = datetime.fromtimestamp(int(ts.min()), UTC).year
    last = datetime.fromtimestamp(int(ts.max()), UTC).year
    table = [t for year in range(first, last + 1) for t in _year_transitions(tz_name, year)]
    starts = np.array([t[0] for t in table], dtype=np.int64)
    offsets = np.array([t[1] for t in table], dtype=np.int64)
    idx = np.searchsorted(starts, ts, side="right") - 1
    return ts + offsets[np.maximum(idx, 0)]


def local_days(ts: npt.NDArray[np.int64], tz_name: str) -> npt.NDArray[np.int64]:
    """The local calendar day of each instant, as days since 1970-01-01."""
    return local_seconds(ts, tz_name) // DAY_S


def day_number(day: date) -> int:
    return (day - _EPOCH).days


def midnight(day: date, tz_name: str) -> int:
    """Epoch seconds of local midnight starting ``day``."""
    return int(datetime(day.year, day.month, day.day, tzinfo=zone(tz_name)).timestamp())
