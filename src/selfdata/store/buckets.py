"""Calendar buckets in a space's time zone, as UTC epoch-second boundaries.

Days, months and years start at local midnight, so a day of a daylight-saving change
has 23 or 25 hours, as on the citizen's meter bill. Boundaries for whole years are
computed once per (zone, year) and cached.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from selfdata.errors import MalformedQuery

__all__ = ["boundaries"]


@lru_cache(maxsize=256)
def _year_days(tz_name: str, year: int) -> npt.NDArray[np.int64]:
    tz = ZoneInfo(tz_name)
    day = date(year, 1, 1)
    out = []
    while day.year == year:
        out.append(int(datetime(day.year, day.month, day.day, tzinfo=tz).timestamp()))
        day += timedelta(days=1)
    return np.array(out, dtype=np.int64)


@lru_cache(maxsize=256)
def _year_months(tz_name: str, year: int) -> npt.NDArray[np.int64]:
    tz = ZoneInfo(tz_name)
    return np.array(
        [int(datetime(year, m, 1, tzinfo=tz).timestamp()) for m in range(1, 13)], dtype=np.int64
    )


def _local_year(ts: int, tz: ZoneInfo) -> int:
    return datetime.fromtimestamp(ts, tz=UTC).astimezone(tz).year


def boundaries(every: str, start: int, end: int, tz_name: str) -> npt.NDArray[np.int64]:
    """Bucket starts covering [start, end): the first is at or before ``start``."""
    if end <= start:
        return np.empty(0, dtype=np.int64)
    try:
        tz = ZoneInfo(tz_name)
    except (KeyError, ValueError):
        raise MalformedQuery(f"unknown time zone {tz_name!r}") from None
    if every == "hour":
        # Whole- and half-hour zones: local hours are UTC hours shifted by the
        # sub-hour part of the offset, which daylight saving never changes.
        utcoffset = datetime.fromtimestamp(start, tz=UTC).astimezone(tz).utcoffset()
        offset = int(utcoffset.total_seconds()) if utcoffset is not None else 0
        shift = offset % 3600
        first = (start - shift) // 3600 * 3600 + shift
        return np.arange(first, end, 3600, dtype=np.int64)
    first_year, last_year = _local_year(start, tz), _local_year(end - 1, tz)
    if every == "year":
        edges = np.array(
            [
                int(datetime(y, 1, 1, tzinfo=tz).timestamp())
                for y in range(first_year, last_year + 1)
            ],
            dtype=np.int64,
        )
    elif every in ("day", "month"):
        table = _year_days if every == "day" else _year_months
        edges = np.concatenate([table(tz_name, y) for y in range(first_year, last_year + 1)])
    else:
        raise MalformedQuery(f"unknown bucket {every!r}; expected hour, day, month or year")
    # Keep the bucket containing ``start`` and every later one that starts before ``end``.
    lo = max(int(np.searchsorted(edges, start, side="right")) - 1, 0)
    hi = int(np.searchsorted(edges, end, side="left"))
    return edges[lo:hi]
