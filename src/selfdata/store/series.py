"""Series: time-ordered points in monthly chunks, each chunk compressed then sealed.

A *stream* is one series (a meter's load curve, a track's positions) with named float
columns. Its points are kept in chunks of one UTC calendar month, so a range read
decrypts only the months it touches and an append rewrites only the months it changes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import orjson
from sqlalchemy import Connection, delete, insert, select, update

from selfdata.crypto import Associated, SpaceKeys
from selfdata.db.tables import series_chunks, series_streams
from selfdata.errors import InvalidInput, MalformedQuery, NotFound
from selfdata.ids import new_id
from selfdata.store.buckets import boundaries
from selfdata.store.codec import decode_chunk, encode_chunk
from selfdata.store.types import SeriesFrame, Stream

__all__ = [
    "Aggregate",
    "aggregate",
    "append_points",
    "create_stream",
    "delete_stream",
    "get_stream",
    "list_streams",
    "read_points",
]

Aggregate = Literal["sum", "mean", "min", "max", "count"]
_IN_BATCH = 400


def _stream_ad(space_id: str, doctype: str, stream_id: str) -> bytes:
    return Associated(space_id, "stream", doctype, stream_id).encode()


def _chunk_ad(space_id: str, doctype: str, stream_id: str, chunk_start: int) -> bytes:
    return Associated(space_id, "chunk", doctype, stream_id, str(chunk_start)).encode()


def create_stream(
    conn: Connection,
    keys: SpaceKeys,
    doctype: str,
    columns: Sequence[str],
    *,
    now_ms: int,
    record_id: str | None = None,
    meta: Mapping[str, Any] | None = None,
    source_id: str | None = None,
) -> Stream:
    stream_id = new_id(now_ms)
    meta = dict(meta or {})
    conn.execute(
        insert(series_streams).values(
            space_id=keys.space_id,
            id=stream_id,
            doctype=doctype,
            record_id=record_id,
            columns=",".join(columns),
            points=0,
            first_ts=None,
            last_ts=None,
            source_id=source_id,
            created_at=now_ms,
            updated_at=now_ms,
            body=keys.cipher.seal_raw(
                orjson.dumps(meta), _stream_ad(keys.space_id, doctype, stream_id)
            ),
        )
    )
    return Stream(stream_id, doctype, record_id, tuple(columns), 0, None, None, meta, source_id)


def _to_stream(keys: SpaceKeys, row: Any) -> Stream:
    from selfdata.store.types import from_ms

    meta = orjson.loads(
        keys.cipher.open_raw(bytes(row.body), _stream_ad(keys.space_id, row.doctype, row.id))
    )
    return Stream(
        id=row.id,
        doctype=row.doctype,
        record_id=row.record_id,
        columns=tuple(row.columns.split(",")),
        points=int(row.points),
        first=from_ms(row.first_ts * 1000) if row.first_ts is not None else None,
        last=from_ms(row.last_ts * 1000) if row.last_ts is not None else None,
        meta=meta,
        source_id=row.source_id,
    )


def get_stream(
    conn: Connection, keys: SpaceKeys, stream_id: str, *, for_update: bool = False
) -> Stream:
    """A stream's description; ``for_update`` locks its row (PostgreSQL) so that
    concurrent appends to one stream take turns instead of losing points."""
    query = select(series_streams).where(
        series_streams.c.space_id == keys.space_id, series_streams.c.id == stream_id
    )
    row = conn.execute(query.with_for_update() if for_update else query).first()
    if row is None:
        raise NotFound(f"no series {stream_id}")
    return _to_stream(keys, row)


def stream_doctype(conn: Connection, space_id: str, stream_id: str) -> str:
    value = conn.execute(
        select(series_streams.c.doctype).where(
            series_streams.c.space_id == space_id, series_streams.c.id == stream_id
        )
    ).scalar()
    if value is None:
        raise NotFound(f"no series {stream_id}")
    return str(value)


def list_streams(
    conn: Connection, keys: SpaceKeys, doctype: str | None = None, record_id: str | None = None
) -> list[Stream]:
    where = [series_streams.c.space_id == keys.space_id]
    if doctype is not None:
        where.append(series_streams.c.doctype == doctype)
    if record_id is not None:
        where.append(series_streams.c.record_id == record_id)
    rows = conn.execute(select(series_streams).where(*where).order_by(series_streams.c.id)).all()
    return [_to_stream(keys, row) for row in rows]


def _month_starts(ts: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    return (
        ts.astype("datetime64[s]").astype("datetime64[M]").astype("datetime64[s]").astype(np.int64)
    )


def _normalise(
    ts: npt.ArrayLike, values: npt.ArrayLike, ncols: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    t = np.asarray(ts)
    if t.dtype.kind == "M":
        t = t.astype("datetime64[s]").astype(np.int64)
    if t.ndim != 1 or t.dtype.kind not in "iu":
        raise InvalidInput("series timestamps must be a 1-D array of epoch seconds or datetime64")
    t = t.astype(np.int64, copy=False)
    v = np.asarray(values, dtype=np.float64)
    if v.ndim == 1:
        v = v.reshape(-1, 1)
    if v.shape != (t.shape[0], ncols):
        raise InvalidInput(
            f"series values have shape {v.shape}; expected ({t.shape[0]}, {ncols}) "
            f"— one row per timestamp and one column per series column"
        )
    if np.isinf(v).any():
        raise InvalidInput("series values must be finite numbers (NaN marks a missing value)")
    order = np.argsort(t, kind="stable")
    t, v = t[order], v[order]
    if t.shape[0] > 1:
        keep = np.append(t[1:] != t[:-1], True)  # the last of equal timestamps wins
        t, v = t[keep], v[keep]
    return t, v


def append_points(
    conn: Connection,
    keys: SpaceKeys,
    stream: Stream,
    ts: npt.ArrayLike,
    values: npt.ArrayLike,
    *,
    now_ms: int,
) -> int:
    """Merge points into the stream (a timestamp already stored takes the new value).
    Returns how many points the stream gained."""
    t, v = _normalise(ts, values, len(stream.columns))
    if t.shape[0] == 0:
        return 0
    months = _month_starts(t)
    cuts = np.flatnonzero(np.diff(months)) + 1
    starts = [int(m) for m in months[np.concatenate(([0], cuts))]]
    existing: dict[int, tuple[bytes, int]] = {}
    for i in range(0, len(starts), _IN_BATCH):
        for row in conn.execute(
            select(series_chunks.c.chunk_start, series_chunks.c.body, series_chunks.c.points).where(
                series_chunks.c.space_id == keys.space_id,
                series_chunks.c.stream_id == stream.id,
                series_chunks.c.chunk_start.in_(starts[i : i + _IN_BATCH]),
            )
        ):
            existing[int(row.chunk_start)] = (bytes(row.body), int(row.points))
    new_rows: list[dict[str, Any]] = []
    changed_rows: list[dict[str, Any]] = []
    gained = 0
    for chunk_start, part_t, part_v in zip(
        starts, np.split(t, cuts), np.split(v, cuts), strict=True
    ):
        ad = _chunk_ad(keys.space_id, stream.doctype, stream.id, chunk_start)
        old = existing.get(chunk_start)
        if old is not None:
            old_t, old_v = decode_chunk(keys.cipher.open_raw(old[0], ad))
            chunk_t, chunk_v = _merge(old_t, old_v, part_t, part_v)
            gained += int(chunk_t.shape[0]) - old[1]
        else:
            chunk_t, chunk_v = part_t, part_v
            gained += int(chunk_t.shape[0])
        chunk_row = {
            "space_id": keys.space_id,
            "stream_id": stream.id,
            "chunk_start": chunk_start,
            "points": int(chunk_t.shape[0]),
            "first_ts": int(chunk_t[0]),
            "last_ts": int(chunk_t[-1]),
            "body": keys.cipher.seal_raw(encode_chunk(chunk_t, chunk_v), ad),
        }
        (changed_rows if old is not None else new_rows).append(chunk_row)
    if new_rows:
        conn.execute(insert(series_chunks), new_rows)
    for changed in changed_rows:
        conn.execute(
            update(series_chunks)
            .where(
                series_chunks.c.space_id == changed["space_id"],
                series_chunks.c.stream_id == changed["stream_id"],
                series_chunks.c.chunk_start == changed["chunk_start"],
            )
            .values(
                points=changed["points"],
                first_ts=changed["first_ts"],
                last_ts=changed["last_ts"],
                body=changed["body"],
            )
        )
    first = int(t[0]) if stream.first is None else min(int(t[0]), int(stream.first.timestamp()))
    last = int(t[-1]) if stream.last is None else max(int(t[-1]), int(stream.last.timestamp()))
    conn.execute(
        update(series_streams)
        .where(series_streams.c.space_id == keys.space_id, series_streams.c.id == stream.id)
        .values(
            points=series_streams.c.points + gained, first_ts=first, last_ts=last, updated_at=now_ms
        )
    )
    return gained


def _merge(
    old_t: npt.NDArray[np.int64],
    old_v: npt.NDArray[np.float64],
    new_t: npt.NDArray[np.int64],
    new_v: npt.NDArray[np.float64],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Stored and new points in time order; at an equal timestamp the new value wins
    (the stable sort keeps old before new, and the last of each run is kept)."""
    merged_t = np.concatenate((old_t, new_t))
    merged_v = np.concatenate((old_v, new_v))
    order = np.argsort(merged_t, kind="stable")
    merged_t, merged_v = merged_t[order], merged_v[order]
    keep = np.append(merged_t[1:] != merged_t[:-1], True)
    return merged_t[keep], merged_v[keep]


def read_points(
    conn: Connection,
    keys: SpaceKeys,
    stream: Stream,
    start: int | None = None,
    end: int | None = None,
) -> SeriesFrame:
    """Raw points with ``start <= ts < end`` (epoch seconds; None = unbounded)."""
    where = [series_chunks.c.space_id == keys.space_id, series_chunks.c.stream_id == stream.id]
    if start is not None:
        where.append(series_chunks.c.last_ts >= start)
    if end is not None:
        where.append(series_chunks.c.first_ts < end)
    rows = conn.execute(
        select(series_chunks.c.chunk_start, series_chunks.c.body)
        .where(*where)
        .order_by(series_chunks.c.chunk_start)
    ).all()
    parts_t: list[npt.NDArray[np.int64]] = []
    parts_v: list[npt.NDArray[np.float64]] = []
    for chunk_start, body in rows:
        ad = _chunk_ad(keys.space_id, stream.doctype, stream.id, int(chunk_start))
        t, v = decode_chunk(keys.cipher.open_raw(bytes(body), ad))
        parts_t.append(t)
        parts_v.append(v)
    ncols = len(stream.columns)
    t = np.concatenate(parts_t) if parts_t else np.empty(0, dtype=np.int64)
    v = np.concatenate(parts_v) if parts_v else np.empty((0, ncols), dtype=np.float64)
    if start is not None or end is not None:
        lo = int(np.searchsorted(t, start, side="left")) if start is not None else 0
        hi = int(np.searchsorted(t, end, side="left")) if end is not None else t.shape[0]
        t, v = t[lo:hi], v[lo:hi]
    return SeriesFrame(t, {name: v[:, i] for i, name in enumerate(stream.columns)})


def aggregate(
    frame: SeriesFrame,
    every: str,
    how: Aggregate,
    tz_name: str,
    start: int | None = None,
    end: int | None = None,
) -> SeriesFrame:
    """Points grouped into local calendar buckets; NaN values are ignored, an empty
    bucket has count 0 and NaN values (a visible gap, not a zero)."""
    if how not in ("sum", "mean", "min", "max", "count"):
        raise MalformedQuery(f"unknown aggregate {how!r}; expected sum, mean, min, max or count")
    t = frame.ts
    lo = start if start is not None else (int(t[0]) if t.shape[0] else 0)
    hi = end if end is not None else (int(t[-1]) + 1 if t.shape[0] else 0)
    edges = boundaries(every, lo, hi, tz_name)
    bounds = np.append(np.searchsorted(t, edges, side="left"), np.searchsorted(t, hi, side="left"))
    out: dict[str, npt.NDArray[np.float64]] = {}
    counts = np.diff(bounds).astype(np.int64)
    for name, values in frame.columns.items():
        present = ~np.isnan(values)
        n = np.diff(np.concatenate(([0], np.cumsum(present)))[bounds]).astype(np.int64)
        out[name] = _reduce(values, present, bounds, n, how)
    return SeriesFrame(edges, out, every=every, counts=counts)  # type: ignore[arg-type]


def _reduce(
    values: npt.NDArray[np.float64],
    present: npt.NDArray[np.bool_],
    bounds: npt.NDArray[np.intp],
    n: npt.NDArray[np.int64],
    how: str,
) -> npt.NDArray[np.float64]:
    """Reduce ``values[bounds[i]:bounds[i+1]]`` for every bucket i, ignoring NaN."""
    if how == "count":
        return n.astype(np.float64)
    nb = bounds.shape[0] - 1
    if nb <= 0 or bounds[-1] == 0:
        return np.full(max(nb, 0), np.nan)
    values, present = values[: bounds[-1]], present[: bounds[-1]]
    starts = np.minimum(bounds[:-1], values.shape[0] - 1)
    if how in ("sum", "mean"):
        # reduceat sums each bucket on its own: no cumulative rounding across ten years.
        reduced = np.add.reduceat(np.where(present, values, 0.0), starts)
        if how == "mean":
            reduced = reduced / np.maximum(n, 1)
    else:
        ufunc = np.minimum if how == "min" else np.maximum
        fill = np.inf if how == "min" else -np.inf
        reduced = ufunc.reduceat(np.where(present, values, fill), starts)
    # reduceat returns values[start] for an empty bucket: mask those as gaps.
    return np.where(n > 0, reduced, np.nan)


def delete_stream(conn: Connection, space_id: str, stream_id: str) -> bool:
    conn.execute(
        delete(series_chunks).where(
            series_chunks.c.space_id == space_id, series_chunks.c.stream_id == stream_id
        )
    )
    result = conn.execute(
        delete(series_streams).where(
            series_streams.c.space_id == space_id, series_streams.c.id == stream_id
        )
    )
    return bool(result.rowcount)
