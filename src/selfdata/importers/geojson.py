"""GeoJSON positions and tracks (RFC 7946), and Overland batches.

* A ``FeatureCollection``; each ``Point`` feature with a time in its properties
  (``time``, ``timestamp``, ``date``, ``datetime``, ``time_long``: ISO 8601 or epoch
  seconds/milliseconds) is a position. Positions go to one ``mobility.track`` a month
  (as a location history), source ``GeoJSON`` (option ``source`` replaces it).
* Each ``LineString`` (or ``MultiLineString``, one segment a line) whose points have
  times — ``properties.coordTimes`` (the togeojson convention, one list per line for a
  MultiLineString) or ``properties.coordinateProperties.times`` — is a track of its
  own: ``name``/``title``, ``type``/``activity`` and the feature's ``id`` (its
  ``track_id``) come from the feature.
* Overland (iOS) batches, ``{"locations": [Feature…]}``, are read the same way
  (source ``Overland``).

Elevation is the third coordinate, else ``altitude``/``ele``/``elevation``; accuracy
is ``accuracy`` or ``horizontal_accuracy`` (a negative value means unknown). Other
geometries (polygons…) are read past.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Any, BinaryIO, ClassVar

from selfdata.importers._geo import (
    POSITION,
    TRACK,
    MonthlyTracks,
    Points,
    check_position,
    iso,
    json_items,
    json_text_head,
    number,
    parse_time,
    position_chunks,
)
from selfdata.importers.base import (
    ImportContext,
    Importer,
    ImportFailed,
    Item,
    RecordBatch,
    RecordRow,
    Rejected,
)

__all__ = ["GeoJson"]

_NAN = float("nan")
_TIME_KEYS = ("time", "timestamp", "date", "datetime", "time_long", "recorded_at")
_ELE_KEYS = ("altitude", "ele", "elevation")
_ACC_KEYS = ("accuracy", "horizontal_accuracy")
_ACTIVITIES = {"walk", "run", "bike", "car", "transit", "other"}


def _first(properties: Mapping[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        value = properties.get(key)
        if value is not None and value != "":
            return value
    return None


def _position(
    coordinates: object, properties: Mapping[str, Any]
) -> tuple[float, float, float, float]:
    """(lat, lon, ele, accuracy) of a GeoJSON position ``[lon, lat, ele?]``."""
    if not isinstance(coordinates, list) or len(coordinates) < 2:
        raise ValueError(f"coordinates {coordinates!r}; expected [longitude, latitude]")
    lon, lat = number(coordinates[0]), number(coordinates[1])
    if lat is None or lon is None:
        raise ValueError("empty coordinates; expected [longitude, latitude]")
    problem = check_position(lat, lon)
    if problem is not None:
        raise ValueError(problem)
    ele = number(coordinates[2]) if len(coordinates) > 2 else None
    if ele is None:
        ele = number(_first(properties, _ELE_KEYS))
    acc = number(_first(properties, _ACC_KEYS))
    return (
        lat,
        lon,
        _NAN if ele is None else ele,
        _NAN if acc is None or acc < 0 else acc,
    )


class GeoJson(Importer):
    name = "geojson"
    version = "1.0"
    description: ClassVar[dict[str, str]] = {
        "fr": "GeoJSON — positions (Point) et traces (LineString horodatées), lots Overland",
        "en": "GeoJSON — positions (Point) and tracks (timed LineString), Overland batches",
    }
    doctypes = (TRACK, POSITION)
    options: ClassVar[dict[str, str]] = {
        "source": "the device or app to record as the source (default: GeoJSON, or "
        "Overland for an Overland batch)",
    }

    def sniff(self, head: bytes, filename: str) -> float:
        text = json_text_head(head)
        if not text:
            return 0.0
        if '"FeatureCollection"' in text:
            return 0.9
        if '"Feature"' in text and '"coordinates"' in text:
            return 0.85  # an Overland batch, or features without the collection's type
        return 0.0

    def parse(self, stream: BinaryIO, context: ImportContext) -> Iterator[Item]:
        source = context.filename
        found = False
        for prefix, name, default in (
            ("features.item", "features", "GeoJSON"),
            ("locations.item", "locations", "Overland"),
        ):
            state = _State(context, context.options.get("source") or default)
            for line, feature in json_items(stream, source, prefix):
                found = True
                yield from state.feature(line, f"{name}[{line - 1}]", feature)
            yield from state.tracks.flush()
            if found:
                break
        if not found:
            raise ImportFailed.at(
                source, None, "features", "no features; expected a GeoJSON FeatureCollection"
            )


class _State:
    def __init__(self, context: ImportContext, source: str) -> None:
        self.context = context
        self.source = " ".join(source.split())[:200] or "GeoJSON"
        self.tracks = MonthlyTracks(context, self.source, "Positions")
        self.stored = 0

    def feature(self, line: int, path: str, feature: object) -> Iterator[Item]:
        if not isinstance(feature, dict):
            yield Rejected(line, path, "expected a GeoJSON Feature object")
            return
        geometry = feature.get("geometry")
        properties = feature.get("properties")
        if not isinstance(properties, dict):
            properties = {}
        if not isinstance(geometry, dict):
            yield Rejected(line, f"{path}.geometry", "missing; expected a Point or LineString")
            return
        kind = geometry.get("type")
        coordinates = geometry.get("coordinates")
        if kind == "Point":
            yield from self._point(line, path, coordinates, properties)
        elif kind == "LineString":
            yield from self._line(line, path, feature, [coordinates], properties, multi=False)
        elif kind == "MultiLineString":
            lines = coordinates if isinstance(coordinates, list) else []
            yield from self._line(line, path, feature, lines, properties, multi=True)

    def _point(
        self, line: int, path: str, coordinates: object, properties: Mapping[str, Any]
    ) -> Iterator[Item]:
        stamp = _first(properties, _TIME_KEYS)
        if stamp is None:
            yield Rejected(
                line,
                f"{path}.properties.time",
                "missing; a position needs a time (time, timestamp or date)",
            )
            return
        try:
            ts = parse_time(stamp)
            lat, lon, ele, acc = _position(coordinates, properties)
        except ValueError as exc:
            yield Rejected(line, path, str(exc))
            return
        self.stored += 1
        yield from self.tracks.add(line, ts, lat, lon, ele, acc)

    def _line(
        self,
        line: int,
        path: str,
        feature: Mapping[str, Any],
        lines: list[Any],
        properties: Mapping[str, Any],
        *,
        multi: bool,
    ) -> Iterator[Item]:
        times = properties.get("coordTimes")
        if times is None and isinstance(properties.get("coordinateProperties"), dict):
            times = properties["coordinateProperties"].get("times")
        if not isinstance(times, list):
            yield Rejected(
                line,
                f"{path}.properties.coordTimes",
                "missing; a track's points need times (coordTimes, one per coordinate)",
            )
            return
        per_line = times if multi else [times]
        points = Points()
        for segment, (coordinates, stamps) in enumerate(zip(lines, per_line, strict=False)):
            if not isinstance(coordinates, list) or not isinstance(stamps, list):
                continue
            if len(coordinates) != len(stamps):
                yield Rejected(
                    line,
                    f"{path}.properties.coordTimes",
                    f"{len(stamps)} times for {len(coordinates)} coordinates; expected one each",
                )
                return
            for index, (position, stamp) in enumerate(zip(coordinates, stamps, strict=True)):
                try:
                    ts = parse_time(stamp)
                    lat, lon, ele, acc = _position(position, {})
                except ValueError as exc:
                    yield Rejected(line, f"{path}.geometry.coordinates[{index}]", str(exc))
                    return
                points.add(ts, lat, lon, ele, acc, segment)
        if not len(points):
            return
        times, _ = points.arrays()
        label = _first(properties, ("name", "title"))
        activity = str(_first(properties, ("activity", "type")) or "other").lower()
        data: dict[str, Any] = {
            "name": str(label)[:1000] if label else f"Track {line}",
            "activity": activity if activity in _ACTIVITIES else "other",
            "started_at": iso(int(times.min())),
            "ended_at": iso(int(times.max())),
            "source": self.source,
            "distance_m": round(points.distance_m(), 1),
        }
        gain = points.elevation_gain_m()
        if gain is not None and math.isfinite(gain):
            data["elevation_gain_m"] = round(gain, 1)
        track_id = feature.get("id", properties.get("id"))
        if isinstance(track_id, str | int) and str(track_id):
            data["track_id"] = str(track_id)[:256]
        ref = f"feature{line}"
        self.stored += 1
        yield RecordBatch(TRACK, [RecordRow(line, data, ref=ref)])
        yield from position_chunks(ref, points, self.context.batch_size, line)
