"""Plain value types the store hands back (re-exported by :mod:`selfdata.access`)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

__all__ = [
    "NO_TIME",
    "FileInfo",
    "Page",
    "Record",
    "SeriesFrame",
    "Stream",
    "WriteReport",
    "at_ms",
    "from_ms",
    "to_ms",
]

# Records without a time sort first under this sentinel instead of NULL, so ordering
# and keyset pagination behave the same on SQLite and PostgreSQL.
NO_TIME = -(2**62)


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_ms(value: datetime) -> int:
    """Epoch milliseconds, in integer arithmetic (a float would lose a millisecond)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return (value - _EPOCH) // timedelta(milliseconds=1)


def at_ms(value: int) -> datetime:
    """An epoch-millisecond column that is never empty, as an aware datetime."""
    return datetime.fromtimestamp(value / 1000, tz=UTC)


def from_ms(value: int | None) -> datetime | None:
    if value is None or value == NO_TIME:
        return None
    return datetime.fromtimestamp(value / 1000, tz=UTC)


@dataclass(frozen=True, slots=True)
class Record:
    id: str
    doctype: str
    data: dict[str, Any]
    revision: int
    created_at: datetime
    updated_at: datetime
    time_start: datetime | None = None
    time_end: datetime | None = None
    source_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "doctype": self.doctype,
            "revision": self.revision,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "time_start": self.time_start.isoformat() if self.time_start else None,
            "time_end": self.time_end.isoformat() if self.time_end else None,
            "source_id": self.source_id,
            "data": self.data,
        }


@dataclass(frozen=True, slots=True)
class Page:
    items: list[Record]
    next_cursor: str | None
    scanned: int


@dataclass(slots=True)
class WriteReport:
    """What a bulk write did: every input is counted exactly once."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    ids: list[str] = field(default_factory=list)
    first_ms: int | None = None  # the earliest and latest record times written
    last_ms: int | None = None

    @property
    def total(self) -> int:
        return self.created + self.updated + self.unchanged

    def as_dict(self) -> dict[str, int]:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged}


@dataclass(frozen=True, slots=True)
class Stream:
    id: str
    doctype: str
    record_id: str | None
    columns: tuple[str, ...]
    points: int
    first: datetime | None
    last: datetime | None
    meta: dict[str, Any]
    source_id: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "doctype": self.doctype,
            "record_id": self.record_id,
            "columns": list(self.columns),
            "points": self.points,
            "first": self.first.isoformat() if self.first else None,
            "last": self.last.isoformat() if self.last else None,
            "meta": self.meta,
        }


Every = Literal["raw", "hour", "day", "month", "year"]


@dataclass(frozen=True, slots=True)
class SeriesFrame:
    """A slice of a series as NumPy arrays: ``ts`` in epoch seconds (UTC), one float64
    array per column; for aggregates ``ts`` holds bucket starts and ``counts`` the number
    of points in each bucket."""

    ts: npt.NDArray[np.int64]
    columns: dict[str, npt.NDArray[np.float64]]
    every: Every = "raw"
    counts: npt.NDArray[np.int64] | None = None

    def __len__(self) -> int:
        return int(self.ts.shape[0])

    def to_arrow(self) -> Any:
        """The frame as a ``pyarrow.Table`` with a UTC timestamp column."""
        import pyarrow as pa

        arrays = {"time": pa.array(self.ts.astype("datetime64[s]"), type=pa.timestamp("s", "UTC"))}
        arrays.update({name: pa.array(values) for name, values in self.columns.items()})
        if self.counts is not None:
            arrays["count"] = pa.array(self.counts)
        return pa.table(arrays)

    def as_rows(self) -> list[dict[str, Any]]:
        names = list(self.columns)
        out = []
        for i in range(len(self)):
            row: dict[str, Any] = {
                "time": datetime.fromtimestamp(int(self.ts[i]), tz=UTC).isoformat()
            }
            for name in names:
                v = float(self.columns[name][i])
                row[name] = None if math.isnan(v) else v  # NaN means "no value"
            if self.counts is not None:
                row["count"] = int(self.counts[i])
            out.append(row)
        return out


@dataclass(frozen=True, slots=True)
class FileInfo:
    id: str
    size: int
    filename: str
    media_type: str
    created_at: datetime
    source_id: str | None = None
    duplicate_of_existing: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "size": self.size,
            "filename": self.filename,
            "media_type": self.media_type,
            "created_at": self.created_at.isoformat(),
            "source_id": self.source_id,
        }
