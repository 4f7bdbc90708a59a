"""Google location history, in the three shapes Google has exported it.

* ``google.records`` — Takeout ``Records.json`` (until 2024):
  ``{"locations": [{"latitudeE7", "longitudeE7", "timestamp" or "timestampMs",
  "accuracy", "altitude", …}]}``. Files reach hundreds of MB: read with ijson's C
  parser, one location at a time; positions go to one ``mobility.track`` a month.
* ``google.semantic`` — Takeout ``Semantic Location History/YYYY/YYYY_MONTH.json``:
  ``{"timelineObjects": [{"placeVisit": …} | {"activitySegment": …}]}``; a
  ``placeVisit`` is a ``mobility.place_visit``, an ``activitySegment`` a
  ``mobility.trip``; their ``simplifiedRawPath`` points are positions.
* ``google.timeline`` — the on-device Timeline export (2024 on): Android's
  ``{"semanticSegments": […], "rawSignals": […]}`` (``"48.85°, 2.35°"`` positions) and
  iOS's top-level array (``"geo:48.85,2.35"`` positions, numbers as strings). A
  ``visit`` is a place visit, an ``activity`` a trip, ``timelinePath`` points and
  ``rawSignals`` positions are positions.

JSON has no useful lines (exports are often one line): a rejected row is located by its
item number in the file (counted across the arrays read) and its JSON path.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any, BinaryIO, ClassVar

import ijson

from selfdata.importers._geo import (
    MonthlyTracks,
    check_position,
    iso,
    json_failure,
    json_items,
    json_text_head,
    number,
    parse_time,
    raw_json_items,
    skip_bom,
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

__all__ = ["GoogleRecords", "GoogleSemanticHistory", "GoogleTimeline"]

HISTORY = "Google location history"
"""The ``source`` of the monthly position tracks of every variant: the same positions
exported twice (Records.json and a Timeline export) merge on the same tracks."""
HISTORY_TITLE = "Location history"
_E7 = 1e-7
_WRAP = 2**32
_NAN = float("nan")
_NUMBERS = (int, float)

_MODES = {
    "WALKING": "walk",
    "ON_FOOT": "walk",
    "WALK": "walk",
    "HIKING": "walk",
    "RUNNING": "run",
    "CYCLING": "bike",
    "ON_BICYCLE": "bike",
    "BICYCLE": "bike",
    "IN_PASSENGER_VEHICLE": "car",
    "IN_VEHICLE": "car",
    "IN_CAR": "car",
    "DRIVING": "car",
    "DRIVE": "car",
    "IN_TAXI": "car",
    "MOTORCYCLING": "motorbike",
    "IN_BUS": "bus",
    "IN_TRAM": "tram",
    "IN_SUBWAY": "metro",
    "IN_TRAIN": "train",
    "IN_RAIL_VEHICLE": "train",
    "FLYING": "plane",
    "IN_FERRY": "boat",
    "SAILING": "boat",
    "BOATING": "boat",
    "TRANSIT": "transit",
}


def _e7(value: object) -> float:
    """A ``latitudeE7``-style integer as degrees. Some exports wrote values past the
    32-bit range (a known Google bug): those wrap around, as Google's own tools do."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{value!r}; expected an integer of degrees × 10⁷")
    if value > 1_800_000_000:
        value -= _WRAP
    return float(value) * _E7


def _mode(name: object) -> str:
    return _MODES.get(str(name).upper(), "other") if name else "other"


def _latlng(text: object) -> tuple[float, float]:
    """``"48.85°, 2.35°"``, ``"48.85, 2.35"`` or ``"geo:48.85,2.35"`` as degrees."""
    if not isinstance(text, str):
        raise ValueError(f"{text!r}; expected a position such as '48.8566°, 2.3522°'")
    cleaned = text.strip().removeprefix("geo:").replace("°", "")
    parts = cleaned.split(",")
    try:
        if len(parts) != 2:
            raise ValueError
        return float(parts[0]), float(parts[1])
    except ValueError:
        raise ValueError(
            f"{text[:60]!r}; expected a position such as '48.8566°, 2.3522°' or 'geo:48.85,2.35'"
        ) from None


def _location_e7(location: Mapping[str, Any]) -> tuple[float, float] | None:
    """A Takeout location's (lat, lon) from ``latitudeE7``/``longitudeE7`` (or
    ``latE7``/``lngE7``); None when it has none."""
    lat = location.get("latitudeE7", location.get("latE7"))
    lon = location.get("longitudeE7", location.get("lngE7"))
    if lat is None and lon is None:
        return None
    return _e7(lat), _e7(lon)


class _Rows:
    """Records of several doctypes gathered into batches, and the monthly tracks of the
    positions found along the way."""

    def __init__(self, context: ImportContext) -> None:
        self.size = max(1, context.batch_size)
        self.rows: dict[str, list[RecordRow]] = {}
        self.tracks = MonthlyTracks(context, HISTORY, HISTORY_TITLE)
        self.positions = 0

    def add(self, doctype: str, line: int, data: dict[str, Any]) -> Iterator[Item]:
        rows = self.rows.setdefault(doctype, [])
        rows.append(RecordRow(line, data))
        if len(rows) >= self.size:
            yield RecordBatch(doctype, rows)
            self.rows[doctype] = []

    def position(
        self, line: int, path: str, ts: int, lat: float, lon: float, ele: float, acc: float
    ) -> Iterator[Item]:
        problem = check_position(lat, lon)
        if problem is not None:
            yield Rejected(line, path, problem)
            return
        self.positions += 1
        yield from self.tracks.add(line, ts, lat, lon, ele, acc)

    def flush(self) -> Iterator[Item]:
        for doctype, rows in self.rows.items():
            if rows:
                yield RecordBatch(doctype, rows)
        self.rows = {}
        yield from self.tracks.flush()


class _GoogleImporter(Importer):
    version = "1.0"
    options: ClassVar[dict[str, str]] = {}


# -- Records.json ------------------------------------------------------------------------


class GoogleRecords(_GoogleImporter):
    name = "google.records"
    description: ClassVar[dict[str, str]] = {
        "fr": "Google Takeout — historique des positions (Records.json)",
        "en": "Google Takeout — location history (Records.json)",
    }
    doctypes = ("mobility.track", "mobility.position")

    def sniff(self, head: bytes, filename: str) -> float:
        text = json_text_head(head)
        if '"locations"' not in text or '"Feature"' in text or '"timelineObjects"' in text:
            return 0.0  # an Overland batch (GeoJSON features) also has "locations"
        return 0.95 if '"latitudeE7"' in text or '"timestampMs"' in text else 0.0

    def parse(self, stream: BinaryIO, context: ImportContext) -> Iterator[Item]:
        source = context.filename
        tracks = MonthlyTracks(context, HISTORY, HISTORY_TITLE)
        line = read = 0
        try:
            # The hot loop of a million points: plain code, locals, no call per field.
            extend, low, high = tracks.flat.extend, tracks.low, tracks.high
            room = 0  # points the current month may still take (MAX_POINTS in all)
            fromiso = datetime.fromisoformat
            for item in raw_json_items(stream, "locations.item"):
                line += 1
                try:
                    lat = item["latitudeE7"] * _E7
                    lon = item["longitudeE7"] * _E7
                    stamp = item.get("timestamp")
                    if stamp is not None:
                        moment = fromiso(stamp)
                        ts = moment.timestamp() if moment.tzinfo else parse_time(stamp)
                    else:
                        ts = int(item["timestampMs"]) // 1000
                except (KeyError, TypeError, ValueError, AttributeError):
                    rejected = _records_problem(line, item)
                    if rejected is not None:
                        yield rejected
                    continue
                if not (-90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0):
                    rejected = _records_range(line, item)
                    if rejected is not None:
                        yield rejected
                        continue
                    lat, lon = _e7(item["latitudeE7"]), _e7(item["longitudeE7"])
                ts = ts // 1  # whole seconds, as series store them
                altitude = item.get("altitude")
                accuracy = item.get("accuracy")
                if not low <= ts < high or not room:
                    yield from tracks.flush()
                    tracks.start(ts, line)
                    extend, low, high = tracks.flat.extend, tracks.low, tracks.high
                    room = tracks.MAX_POINTS
                room -= 1
                extend(
                    (
                        ts,
                        lat,
                        lon,
                        altitude if type(altitude) in _NUMBERS else _NAN,
                        accuracy if type(accuracy) in _NUMBERS and accuracy >= 0 else _NAN,
                    )
                )
                read += 1
        except (ijson.JSONError, UnicodeDecodeError) as exc:
            raise json_failure(source, "locations.item", line, exc) from None
        yield from tracks.flush()
        if read == 0:
            raise ImportFailed.at(
                source, None, "locations", "no location with latitudeE7, longitudeE7 and a time"
            )


def _records_range(line: int, item: dict[str, Any]) -> Rejected | None:
    """A position out of range is rejected, unless it is Google's 32-bit overflow,
    which :func:`_e7` corrects (then None)."""
    try:
        lat, lon = _e7(item["latitudeE7"]), _e7(item["longitudeE7"])
    except ValueError as exc:
        return Rejected(line, f"locations[{line - 1}]", str(exc))
    problem = check_position(lat, lon)
    return None if problem is None else Rejected(line, f"locations[{line - 1}]", problem)


def _records_problem(line: int, item: object) -> Rejected | None:
    """Why a ``locations`` item is not a position (None: it carries no position at all,
    such as an activity-only entry, and is left out without complaint)."""
    path = f"locations[{line - 1}]"
    if not isinstance(item, dict):
        return Rejected(line, path, "expected an object with latitudeE7, longitudeE7, timestamp")
    has_lat, has_lon = "latitudeE7" in item, "longitudeE7" in item
    if not has_lat and not has_lon:
        return None
    if not (has_lat and has_lon):
        missing = "longitudeE7" if has_lat else "latitudeE7"
        return Rejected(line, f"{path}.{missing}", "missing; expected degrees × 10⁷")
    for key in ("latitudeE7", "longitudeE7"):
        try:
            _e7(item[key])
        except ValueError as exc:
            return Rejected(line, f"{path}.{key}", str(exc))
    stamp = item.get("timestamp", item.get("timestampMs"))
    if stamp is None:
        return Rejected(
            line, f"{path}.timestamp", "missing; expected timestamp (ISO 8601) or timestampMs"
        )
    try:
        parse_time(stamp)
    except ValueError as exc:
        return Rejected(line, f"{path}.timestamp", str(exc))
    return Rejected(line, path, "not a position; expected latitudeE7, longitudeE7, timestamp")


# -- Semantic Location History -------------------------------------------------------------


class GoogleSemanticHistory(_GoogleImporter):
    name = "google.semantic"
    description: ClassVar[dict[str, str]] = {
        "fr": "Google Takeout — historique sémantique (lieux visités et trajets, par mois)",
        "en": "Google Takeout — semantic location history (place visits and trips, by month)",
    }
    doctypes = ("mobility.place_visit", "mobility.trip", "mobility.track", "mobility.position")

    def sniff(self, head: bytes, filename: str) -> float:
        return 0.95 if '"timelineObjects"' in json_text_head(head) else 0.0

    def parse(self, stream: BinaryIO, context: ImportContext) -> Iterator[Item]:
        rows = _Rows(context)
        found = 0
        for line, item in json_items(stream, context.filename, "timelineObjects.item"):
            path = f"timelineObjects[{line - 1}]"
            if not isinstance(item, dict):
                yield Rejected(line, path, "expected an object (placeVisit or activitySegment)")
                continue
            if isinstance(item.get("placeVisit"), dict):
                found += 1
                yield from self._visit(rows, line, f"{path}.placeVisit", item["placeVisit"])
            elif isinstance(item.get("activitySegment"), dict):
                found += 1
                yield from self._segment(
                    rows, line, f"{path}.activitySegment", item["activitySegment"]
                )
        yield from rows.flush()
        if found == 0:
            raise ImportFailed.at(
                context.filename, None, "timelineObjects", "no placeVisit or activitySegment"
            )

    def _visit(self, rows: _Rows, line: int, path: str, visit: Mapping[str, Any]) -> Iterator[Item]:
        yield from _raw_path(rows, line, path, visit)
        location = visit.get("location")
        if not isinstance(location, dict):
            yield Rejected(line, f"{path}.location", "missing; expected the place's location")
            return
        try:
            started, ended = _duration(visit.get("duration"))
        except ValueError as exc:
            yield Rejected(line, f"{path}.duration", str(exc))
            return
        try:
            where = _location_e7(location)
            if where is None:
                raise ValueError("missing; expected latitudeE7 and longitudeE7")
            confidence = number(location.get("locationConfidence"))
        except ValueError as exc:
            yield Rejected(line, f"{path}.location", str(exc))
            return
        data: dict[str, Any] = {
            "place_name": _text(location.get("name"))
            or _text(location.get("address"))
            or "Unknown place",
            "lat": where[0],
            "lon": where[1],
            "started_at": iso(started),
            "ended_at": iso(ended),
            "source": "Google Takeout",
        }
        _put(data, "address", _text(location.get("address")), 1000)
        _put(data, "place_id", _text(location.get("placeId")), 256)
        if confidence is not None:
            data["confidence"] = min(max(confidence / 100.0, 0.0), 1.0)
        yield from rows.add("mobility.place_visit", line, data)

    def _segment(
        self, rows: _Rows, line: int, path: str, segment: Mapping[str, Any]
    ) -> Iterator[Item]:
        yield from _raw_path(rows, line, path, segment)
        try:
            started, ended = _duration(segment.get("duration"))
        except ValueError as exc:
            yield Rejected(line, f"{path}.duration", str(exc))
            return
        try:
            start = _location_e7(segment.get("startLocation") or {})
            end = _location_e7(segment.get("endLocation") or {})
            distance = number(segment.get("distance"))
        except ValueError as exc:
            yield Rejected(line, path, str(exc))
            return
        waypoints = segment.get("waypointPath")
        kind = (
            segment.get("activityType")
            or _top_activity(segment.get("activities"))
            or (waypoints.get("travelMode") if isinstance(waypoints, dict) else None)
        )
        data: dict[str, Any] = {
            "mode": _mode(kind),
            "started_at": iso(started),
            "ended_at": iso(ended),
            "source": "Google Takeout",
        }
        if distance is not None and distance >= 0:
            data["distance_m"] = distance
        for prefix, where, location in (
            ("start", start, segment.get("startLocation")),
            ("end", end, segment.get("endLocation")),
        ):
            if where is not None:
                data[f"{prefix}_lat"], data[f"{prefix}_lon"] = where
            if isinstance(location, dict):
                _put(data, f"{prefix}_name", _text(location.get("name")), 200)
        yield from rows.add("mobility.trip", line, data)


def _top_activity(activities: object) -> object:
    """The first (most probable) of ``activities``' types."""
    if isinstance(activities, list) and activities and isinstance(activities[0], dict):
        return activities[0].get("activityType")
    return None


def _duration(duration: object) -> tuple[int, int]:
    if not isinstance(duration, dict):
        raise ValueError("no duration; expected duration.startTimestamp and endTimestamp")
    bounds = []
    for side in ("start", "end"):
        value = duration.get(f"{side}Timestamp") or duration.get(f"{side}TimestampMs")
        if value is None:
            raise ValueError(f"no duration.{side}Timestamp; expected an ISO 8601 time")
        bounds.append(parse_time(value))
    return bounds[0], bounds[1]


def _raw_path(rows: _Rows, line: int, path: str, parent: Mapping[str, Any]) -> Iterator[Item]:
    """The timed points of a ``simplifiedRawPath`` as positions."""
    raw = parent.get("simplifiedRawPath")
    points = raw.get("points") if isinstance(raw, dict) else None
    if not isinstance(points, list):
        return
    for index, point in enumerate(points):
        where = f"{path}.simplifiedRawPath.points[{index}]"
        try:
            if not isinstance(point, dict):
                raise ValueError("expected an object with latE7, lngE7, timestamp")
            lat_lon = _location_e7(point)
            if lat_lon is None:
                raise ValueError("missing latE7/lngE7")
            ts = parse_time(point.get("timestamp") or point.get("timestampMs"))
            acc = number(point.get("accuracyMeters"))
        except ValueError as exc:
            yield Rejected(line, where, str(exc))
            continue
        yield from rows.position(
            line, where, ts, lat_lon[0], lat_lon[1], _NAN, _NAN if acc is None else acc
        )


def _text(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    return " ".join(value.split()) or None


def _put(data: dict[str, Any], key: str, value: str | None, limit: int) -> None:
    if value:
        data[key] = value[:limit]


# -- on-device Timeline export ---------------------------------------------------------------


class GoogleTimeline(_GoogleImporter):
    name = "google.timeline"
    description: ClassVar[dict[str, str]] = {
        "fr": "Google Maps — export de la Chronologie de l'appareil (Android ou iOS, 2024+)",
        "en": "Google Maps — on-device Timeline export (Android or iOS, 2024 on)",
    }
    doctypes = ("mobility.place_visit", "mobility.trip", "mobility.track", "mobility.position")

    def sniff(self, head: bytes, filename: str) -> float:
        text = json_text_head(head)
        if '"semanticSegments"' in text or '"rawSignals"' in text:
            return 0.95
        ios = text.startswith("[") and '"startTime"' in text and '"endTime"' in text
        keys = ('"visit"', '"activity"', '"timelinePath"', "geo:")
        return 0.9 if ios and any(key in text for key in keys) else 0.0

    def parse(self, stream: BinaryIO, context: ImportContext) -> Iterator[Item]:
        source = context.filename
        skip_bom(stream)
        ios = stream.read(64).lstrip()[:1] == b"["
        rows = _Rows(context)
        found = 0
        if ios:
            arrays = [("item", "")]
        else:
            arrays = [
                ("semanticSegments.item", "semanticSegments"),
                ("rawSignals.item", "rawSignals"),
            ]
        first = 1
        for prefix, name in arrays:
            start = first
            for line, item in json_items(stream, source, prefix, start):
                first = line + 1
                path = f"{name}[{line - start}]"
                if not isinstance(item, dict):
                    yield Rejected(line, path, "expected an object")
                    continue
                found += 1
                if name == "rawSignals":
                    yield from _raw_signal(rows, line, path, item)
                else:
                    yield from _timeline_segment(rows, line, path, item)
        yield from rows.flush()
        if found == 0:
            raise ImportFailed.at(
                source, None, "semanticSegments", "no timeline segment or raw signal"
            )


def _timeline_segment(
    rows: _Rows, line: int, path: str, segment: Mapping[str, Any]
) -> Iterator[Item]:
    try:
        started = parse_time(segment.get("startTime"))
        ended = parse_time(segment.get("endTime"))
    except ValueError as exc:
        yield Rejected(line, f"{path}.startTime", str(exc))
        return
    timeline_path = segment.get("timelinePath")
    if isinstance(timeline_path, list):
        yield from _timeline_path(rows, line, f"{path}.timelinePath", started, timeline_path)
    visit = segment.get("visit")
    activity = segment.get("activity")
    if isinstance(visit, dict):
        yield from _timeline_visit(rows, line, f"{path}.visit", started, ended, visit)
    elif isinstance(activity, dict):
        yield from _timeline_activity(rows, line, f"{path}.activity", started, ended, activity)


def _place(value: object) -> tuple[float, float]:
    """``placeLocation``: ``{"latLng": "…"}`` (Android) or ``"geo:…"`` (iOS)."""
    if isinstance(value, dict):
        value = value.get("latLng", value.get("LatLng"))
    return _latlng(value)


def _timeline_visit(
    rows: _Rows, line: int, path: str, started: int, ended: int, visit: Mapping[str, Any]
) -> Iterator[Item]:
    candidate = visit.get("topCandidate")
    if not isinstance(candidate, dict):
        yield Rejected(line, f"{path}.topCandidate", "missing; expected the visited place")
        return
    try:
        lat, lon = _place(candidate.get("placeLocation"))
        confidence = number(candidate.get("probability"))
    except ValueError as exc:
        yield Rejected(line, f"{path}.topCandidate.placeLocation", str(exc))
        return
    kind = _text(candidate.get("semanticType"))
    named = kind and kind.upper() not in ("UNKNOWN", "SEARCHED_ADDRESS")
    data: dict[str, Any] = {
        "place_name": kind.replace("_", " ").capitalize() if named and kind else "Unknown place",
        "lat": lat,
        "lon": lon,
        "started_at": iso(started),
        "ended_at": iso(ended),
        "source": "Google Timeline",
    }
    _put(data, "place_id", _text(candidate.get("placeId") or candidate.get("placeID")), 256)
    if confidence is not None and 0.0 <= confidence <= 1.0:
        data["confidence"] = confidence
    yield from rows.add("mobility.place_visit", line, data)


def _timeline_activity(
    rows: _Rows, line: int, path: str, started: int, ended: int, activity: Mapping[str, Any]
) -> Iterator[Item]:
    candidate = activity.get("topCandidate")
    data: dict[str, Any] = {
        "mode": _mode(candidate.get("type") if isinstance(candidate, dict) else None),
        "started_at": iso(started),
        "ended_at": iso(ended),
        "source": "Google Timeline",
    }
    try:
        distance = number(activity.get("distanceMeters"))
        for side in ("start", "end"):
            if activity.get(side) is not None:
                data[f"{side}_lat"], data[f"{side}_lon"] = _place(activity[side])
    except ValueError as exc:
        yield Rejected(line, path, str(exc))
        return
    if distance is not None and distance >= 0:
        data["distance_m"] = distance
    yield from rows.add("mobility.trip", line, data)


def _timeline_path(
    rows: _Rows, line: int, path: str, started: int, points: list[Any]
) -> Iterator[Item]:
    for index, point in enumerate(points):
        where = f"{path}[{index}]"
        try:
            if not isinstance(point, dict):
                raise ValueError("expected an object with point and time")
            lat, lon = _latlng(point.get("point"))
            if point.get("time") is not None:
                ts = parse_time(point["time"])
            else:
                offset = number(point.get("durationMinutesOffsetFromStartTime"))
                if offset is None:
                    raise ValueError("no time; expected time or durationMinutesOffsetFromStartTime")
                ts = started + round(offset * 60)
        except ValueError as exc:
            yield Rejected(line, where, str(exc))
            continue
        yield from rows.position(line, where, ts, lat, lon, _NAN, _NAN)


def _raw_signal(rows: _Rows, line: int, path: str, signal: Mapping[str, Any]) -> Iterator[Item]:
    position = signal.get("position")
    if not isinstance(position, dict):
        return  # Wi-Fi scans and activity records are not positions
    where = f"{path}.position"
    try:
        lat, lon = _latlng(position.get("LatLng", position.get("latLng")))
        ts = parse_time(position.get("timestamp"))
        ele = number(position.get("altitudeMeters"))
        acc = number(position.get("accuracyMeters"))
    except ValueError as exc:
        yield Rejected(line, where, str(exc))
        return
    yield from rows.position(
        line,
        where,
        ts,
        lat,
        lon,
        _NAN if ele is None else ele,
        _NAN if acc is None or acc < 0 else acc,
    )
