"""Series points in and out: request bodies to NumPy arrays, frames to JSON, CSV, Arrow."""

from __future__ import annotations

import io
import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson

from selfdata.access import SeriesFrame
from selfdata.errors import FieldError, ValidationFailed
from selfdata.web.params import iso_instant

__all__ = ["arrow_bytes", "csv_chunks", "json_chunks", "parse_points"]

_MAX_ERRORS = 100
_ROWS_PER_CHUNK = 10_000


class _Errors:
    def __init__(self) -> None:
        self.items: list[FieldError] = []

    def add(self, loc: tuple[str | int, ...], message: str, kind: str = "invalid") -> None:
        if len(self.items) < _MAX_ERRORS:
            self.items.append(FieldError(loc, message, kind=kind))

    def raise_any(self) -> None:
        if self.items:
            raise ValidationFailed(
                f"{len(self.items)} problem(s) in the points; nothing was saved", self.items
            )


def _epoch(value: Any, loc: tuple[str | int, ...], errors: _Errors) -> int:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return int(value)
    if isinstance(value, str):
        try:
            return int(iso_instant(value).timestamp())
        except ValueError:
            pass
    errors.add(
        loc,
        "expected an ISO 8601 date-time (2024-03-31T00:30:00+01:00) or epoch seconds",
        "time_parsing",
    )
    return 0


def _number(value: Any, loc: tuple[str | int, ...], errors: _Errors) -> float:
    if value is None:
        return math.nan  # a missing value
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    errors.add(loc, "expected a finite number, or null for a missing value", "float_type")
    return math.nan


def parse_points(
    body: Mapping[str, Any], columns: Sequence[str]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """``{"points": [{"time": …, "<column>": …}, …]}`` or ``{"time": […], "<column>": […]}``."""
    errors = _Errors()
    index = {name: j for j, name in enumerate(columns)}
    expected = ", ".join(["time", *columns])
    if "points" in body:
        rows = body["points"]
        for key in body:
            if key != "points":
                errors.add((key,), "unexpected next to 'points'", "extra_forbidden")
        if not isinstance(rows, list):
            errors.add(("points",), "expected a list of points", "list_type")
            errors.raise_any()
        ts = np.zeros(len(rows), dtype=np.int64)
        values = np.full((len(rows), len(columns)), np.nan)
        for i, row in enumerate(rows):
            if not isinstance(row, dict):
                errors.add(("points", i), f"expected an object with {expected}", "dict_type")
                continue
            if "time" not in row:
                errors.add(("points", i, "time"), "missing", "missing")
            for key, value in row.items():
                if key == "time":
                    ts[i] = _epoch(value, ("points", i, "time"), errors)
                elif key in index:
                    values[i, index[key]] = _number(value, ("points", i, key), errors)
                else:
                    errors.add(
                        ("points", i, key),
                        f"not a column of this series ({expected})",
                        "extra_forbidden",
                    )
    else:
        times = body.get("time")
        if not isinstance(times, list):
            errors.add(
                ("time",),
                f'expected {{"points": [...]}} or columns {{"time": [...], ...}} with {expected}',
                "list_type",
            )
            errors.raise_any()
        assert isinstance(times, list)
        ts = np.zeros(len(times), dtype=np.int64)
        values = np.full((len(times), len(columns)), np.nan)
        for i, value in enumerate(times):
            ts[i] = _epoch(value, ("time", i), errors)
        for key, column in body.items():
            if key == "time":
                continue
            if key not in index:
                errors.add((key,), f"not a column of this series ({expected})", "extra_forbidden")
            elif not isinstance(column, list) or len(column) != len(times):
                errors.add(
                    (key,), f"expected a list of {len(times)} numbers, one per time", "list_type"
                )
            else:
                j = index[key]
                for i, value in enumerate(column):
                    values[i, j] = _number(value, (key, i), errors)
    errors.raise_any()
    return ts, values


def _slices(frame: SeriesFrame) -> Iterator[SeriesFrame]:
    for lo in range(0, len(frame), _ROWS_PER_CHUNK):
        hi = lo + _ROWS_PER_CHUNK
        yield SeriesFrame(
            frame.ts[lo:hi],
            {k: v[lo:hi] for k, v in frame.columns.items()},
            frame.every,
            frame.counts[lo:hi] if frame.counts is not None else None,
        )


def json_chunks(frame: SeriesFrame, head: Mapping[str, Any]) -> Iterator[bytes]:
    """``{…head, "points": [rows]}`` produced slice by slice."""
    opening = orjson.dumps(dict(head))[:-1] + (b',"points":[' if head else b'"points":[')
    yield opening
    first = True
    for part in _slices(frame):
        rows = part.as_rows()
        if rows:
            text = b",".join(orjson.dumps(row) for row in rows)
            yield text if first else b"," + text
            first = False
    yield b"]}"


def csv_chunks(frame: SeriesFrame) -> Iterator[bytes]:
    names = ["time", *frame.columns, *(["count"] if frame.counts is not None else [])]
    yield (",".join(names) + "\r\n").encode()
    for part in _slices(frame):
        out = io.StringIO()
        for row in part.as_rows():
            out.write(",".join("" if row[n] is None else str(row[n]) for n in names) + "\r\n")
        yield out.getvalue().encode()


def arrow_bytes(frame: SeriesFrame) -> bytes:
    """An Arrow IPC stream (``application/vnd.apache.arrow.stream``)."""
    import pyarrow as pa

    table = frame.to_arrow()
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue().to_pybytes())
