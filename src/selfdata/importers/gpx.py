"""GPX 1.0 and 1.1 files (GPS tracks from watches, phones and apps).

.. code-block:: xml

    <gpx version="1.1" creator="Garmin Forerunner 255" xmlns="http://www.topografix.com/GPX/1/1">
      <wpt lat="45.76" lon="4.83"><time>…</time><name>Boulangerie</name></wpt>
      <trk><name>Footing</name><type>running</type>
        <trkseg><trkpt lat="45.7640" lon="4.8357"><ele>170.2</ele><time>…</time></trkpt>…

* Each ``trk`` with timed points is one ``mobility.track`` (its segments are the pauses
  of one outing) and a ``mobility.position`` series of its points; ``ele`` missing is
  NaN. ``name``, ``type`` (mapped to the activity), the first and last times, the
  distance (along each segment) and the climb come from the track; the ``source`` is
  the file's ``creator`` (option ``source`` replaces it).
* A ``wpt`` with a name and a time is a ``mobility.place_visit`` at that instant (Arc
  and others export visits so). Routes (``rte``: planned, without times) and untimed
  waypoints are read past.
* The file is untrusted: it is parsed as a stream with ``defusedxml`` (DTDs and entity
  declarations refused before anything is expanded) and element by element, never as a
  tree. Why not ``gpxpy``: it parses the whole document into memory with the standard
  library parser (no protection against entity expansion) and knows no lines.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from typing import Any, BinaryIO, ClassVar
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from selfdata.importers._geo import (
    POSITION,
    TRACK,
    Points,
    check_position,
    iso,
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

__all__ = ["Gpx"]

_ROOT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?gpx[\s>]")
_CHUNK = 64 * 1024
_MAX_TOKEN = 4 << 20
"""The longest unclosed tag, attribute or comment read before giving up."""
_NAN = float("nan")
MAX_TRACK_POINTS = 2_000_000
"""A track's points are kept until its end (its record, which comes first, needs its
last time and its distance): at most this many (about 100 MB)."""

_ACTIVITIES = {
    "walk": "walk",
    "walking": "walk",
    "hiking": "walk",
    "hike": "walk",
    "on_foot": "walk",
    "run": "run",
    "running": "run",
    "trail_running": "run",
    "jogging": "run",
    "bike": "bike",
    "biking": "bike",
    "cycling": "bike",
    "ride": "bike",
    "mountain_biking": "bike",
    "road_biking": "bike",
    "car": "car",
    "driving": "car",
    "automotive": "car",
    "taxi": "car",
    "motorcycling": "car",
    "transit": "transit",
    "bus": "transit",
    "train": "transit",
    "tram": "transit",
    "metro": "transit",
    "subway": "transit",
}
_TEXT_OF = {
    ("trkpt", "ele"),
    ("trkpt", "time"),
    ("trk", "name"),
    ("trk", "type"),
    ("wpt", "name"),
    ("wpt", "time"),
    ("metadata", "name"),
}


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _activity(kind: str | None) -> str:
    if not kind:
        return "other"
    return _ACTIVITIES.get(kind.strip().lower().replace(" ", "_").replace("-", "_"), "other")


class _Track:
    def __init__(self, line: int, number: int) -> None:
        self.line = line
        self.number = number
        self.name: str | None = None
        self.kind: str | None = None
        self.points = Points()
        self.first_line = 0
        self.segment = 0
        self.untimed: list[int] = []


class _Reader:
    """The parser's target: follows elements as they open and close, keeps only the
    current track, and queues the items to hand over after each chunk of bytes."""

    def __init__(self, context: ImportContext) -> None:
        self.context = context
        self.parser: DefusedXMLParser | None = None
        self.stack: list[str] = []
        self.text: list[str] | None = None
        self.done: list[Item] = []
        self.creator: str | None = None
        self.metadata_name: str | None = None
        self.track: _Track | None = None
        self.tracks = 0
        self.stored = 0
        self.point: dict[str, Any] = {}
        self.waypoint: dict[str, Any] = {}
        self.skipped_lines = 0
        """Blank lines before the XML declaration, which expat refuses, are dropped."""

    @property
    def source(self) -> str:
        chosen = self.context.options.get("source") or self.creator or "GPX"
        return " ".join(chosen.split())[:200] or "GPX"

    def line(self) -> int:
        found = self.parser.parser.CurrentLineNumber if self.parser is not None else 0
        return found + self.skipped_lines

    # -- the parser's callbacks --------------------------------------------------------

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        name = _local(tag)
        parent = self.stack[-1] if self.stack else ""
        self.stack.append(name)
        if name == "gpx" and not parent:
            self.creator = attrib.get("creator")
        elif name == "trk":
            self.tracks += 1
            self.track = _Track(self.line(), self.tracks)
        elif name == "trkseg" and self.track is not None:
            self.track.segment += 1
        elif name == "trkpt" and self.track is not None:
            self.point = {"line": self.line(), "lat": attrib.get("lat"), "lon": attrib.get("lon")}
        elif name == "wpt" and parent == "gpx":
            self.waypoint = {
                "line": self.line(),
                "lat": attrib.get("lat"),
                "lon": attrib.get("lon"),
            }
        if (parent, name) in _TEXT_OF:
            self.text = []

    def data(self, text: str) -> None:
        if self.text is not None:
            self.text.append(text)

    def end(self, tag: str) -> None:
        name = self.stack.pop()
        parent = self.stack[-1] if self.stack else ""
        if self.text is not None and (parent, name) in _TEXT_OF:
            value = " ".join("".join(self.text).split())
            self.text = None
            self._text(parent, name, value)
        elif name == "trkpt" and self.track is not None:
            self._point(self.track, self.point)
        elif name == "trk" and self.track is not None:
            self._track(self.track)
            self.track = None
        elif name == "wpt" and self.waypoint:
            self._waypoint(self.waypoint)
            self.waypoint = {}

    def close(self) -> None:
        return None

    # -- what each element gives ---------------------------------------------------------

    def _text(self, parent: str, name: str, value: str) -> None:
        if parent == "trkpt":
            self.point[name] = value
        elif parent == "trk" and self.track is not None:
            if name == "name":
                self.track.name = value or None
            else:
                self.track.kind = value or None
        elif parent == "wpt":
            self.waypoint[name] = value
        elif parent == "metadata":
            self.metadata_name = value or None

    def _point(self, track: _Track, point: dict[str, Any]) -> None:
        line = point["line"]
        try:
            lat, lon = _coordinates(point)
            ele_text = point.get("ele")
            ele = float(ele_text) if ele_text else _NAN
            if not math.isfinite(ele) and ele_text:
                raise ValueError(f"ele {ele_text!r} is not a finite number")
        except ValueError as exc:
            self.done.append(Rejected(line, "trkpt", str(exc)))
            return
        stamp = point.get("time")
        if not stamp:
            track.untimed.append(line)
            return
        try:
            ts = parse_time(stamp)
        except ValueError as exc:
            self.done.append(Rejected(line, "time", str(exc)))
            return
        if len(track.points) >= MAX_TRACK_POINTS:
            raise ImportFailed.at(
                self.context.filename,
                line,
                "trk",
                f"a track of more than {MAX_TRACK_POINTS:,} points; split the file",
            )
        if not len(track.points):
            track.first_line = line
        track.points.add(ts, lat, lon, ele, _NAN, track.segment)

    def _track(self, track: _Track) -> None:
        points = track.points
        label = track.name or self.metadata_name or f"Track {track.number}"
        if not len(points):
            if track.untimed:
                self.done.append(
                    Rejected(
                        track.line,
                        "trk",
                        f"track {label!r}: none of its {len(track.untimed)} points has a "
                        "time, and a position needs one (is it a planned route?)",
                    )
                )
            return
        for line in track.untimed:
            self.done.append(Rejected(line, "time", "missing; a track point needs a time"))
        ts, _ = points.arrays()
        data: dict[str, Any] = {
            "name": label[:1000],
            "activity": self.context.options.get("activity") or _activity(track.kind),
            "started_at": iso(int(ts.min())),
            "ended_at": iso(int(ts.max())),
            "source": self.source,
            "distance_m": round(points.distance_m(), 1),
        }
        gain = points.elevation_gain_m()
        if gain is not None:
            data["elevation_gain_m"] = round(gain, 1)
        ref = f"trk{track.number}"
        self.done.append(RecordBatch(TRACK, [RecordRow(track.line, data, ref=ref)]))
        self.done.extend(position_chunks(ref, points, self.context.batch_size, track.first_line))
        self.stored += 1
        track.points = Points()  # the next chunk of bytes may start a new track

    def _waypoint(self, waypoint: dict[str, Any]) -> None:
        name, stamp = waypoint.get("name"), waypoint.get("time")
        if not name or not stamp:
            return  # a plain marker, not a visit
        line = waypoint["line"]
        try:
            lat, lon = _coordinates(waypoint)
            at = iso(parse_time(stamp))
        except ValueError as exc:
            self.done.append(Rejected(line, "wpt", str(exc)))
            return
        visit = {
            "place_name": name[:200],
            "lat": lat,
            "lon": lon,
            "started_at": at,
            "ended_at": at,
            "source": self.source,
        }
        self.done.append(RecordBatch("mobility.place_visit", [RecordRow(line, visit)]))
        self.stored += 1


def _coordinates(element: dict[str, Any]) -> tuple[float, float]:
    try:
        lat, lon = float(element["lat"]), float(element["lon"])
    except (TypeError, ValueError):
        raise ValueError(
            f"lat={element.get('lat')!r} lon={element.get('lon')!r}; expected decimal degrees"
        ) from None
    problem = check_position(lat, lon)
    if problem is not None:
        raise ValueError(problem)
    return lat, lon


class Gpx(Importer):
    name = "gpx"
    version = "1.0"
    description: ClassVar[dict[str, str]] = {
        "fr": "GPX 1.0 / 1.1 — traces GPS (montres, téléphones, applications)",
        "en": "GPX 1.0 / 1.1 — GPS tracks (watches, phones, apps)",
    }
    doctypes = (TRACK, POSITION, "mobility.place_visit")
    options: ClassVar[dict[str, str]] = {
        "source": "the device or app to record as the tracks' source (default: the file's creator)",
        "activity": "the activity of every track (walk, run, bike, car, transit, other), "
        "when the file's <type> does not say",
    }

    def sniff(self, head: bytes, filename: str) -> float:
        text = head.removeprefix(b"\xef\xbb\xbf").lstrip()
        if not text.startswith(b"<"):
            return 0.0  # not XML text (a zip holding a GPX, say)
        return 0.95 if _ROOT.search(text) else 0.0

    def parse(self, stream: BinaryIO, context: ImportContext) -> Iterator[Item]:
        source = context.filename
        reader = _Reader(context)
        parser = DefusedXMLParser(
            target=reader, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
        reader.parser = parser
        seen_root = rejected = False
        first = True
        fed = 0
        while True:
            chunk = stream.read(_CHUNK)
            if first:
                first = False
                chunk = chunk.removeprefix(b"\xef\xbb\xbf")  # expat reads UTF-8 anyway
                body = chunk.lstrip(b" \t\r\n")
                reader.skipped_lines = chunk[: len(chunk) - len(body)].count(b"\n")
                chunk = body
                if chunk and not chunk.startswith(b"<"):
                    # Fail at once: expat would scan a huge non-XML file quadratically.
                    raise ImportFailed.at(
                        source, reader.skipped_lines + 1, "xml", "not XML; expected <gpx …>"
                    )
            fed += len(chunk)  # what expat was given (a BOM, leading blanks dropped)
            try:
                if chunk:
                    parser.feed(chunk)
                else:
                    parser.close()
            except DefusedXmlException as exc:
                raise ImportFailed.at(
                    source,
                    reader.line(),
                    "xml",
                    f"the file declares a DTD or entities ({type(exc).__name__}); "
                    "a GPX file has none, and they are refused for safety",
                ) from None
            except LookupError as exc:  # an encoding Python does not know
                raise ImportFailed.at(
                    source, 1, "xml", f"unknown character encoding declared ({exc})"
                ) from None
            except ParseError as exc:
                line = exc.position[0] + reader.skipped_lines if exc.position else None
                raise ImportFailed.at(
                    source, line, "xml", f"not well-formed XML (truncated file?): {exc}"
                ) from None
            if chunk and fed - parser.parser.CurrentByteIndex > _MAX_TOKEN:
                # expat scans an unclosed tag or comment again on every chunk fed: a
                # huge one would take quadratic time.
                raise ImportFailed.at(
                    source,
                    reader.line(),
                    "xml",
                    f"a tag, attribute or comment longer than {_MAX_TOKEN >> 20} MiB "
                    "(a truncated or damaged file?)",
                )
            if not seen_root and reader.stack:
                seen_root = True
                if reader.stack[0] != "gpx":
                    raise ImportFailed.at(
                        source, 1, "gpx", f"root element <{reader.stack[0]}>; expected <gpx>"
                    )
            for item in reader.done:
                rejected = rejected or isinstance(item, Rejected)
                yield item
            reader.done.clear()
            if not chunk:
                break
        if reader.stored == 0 and not rejected:
            raise ImportFailed.at(
                source, None, "trk", "no track (trk) with timed points, nor named timed waypoint"
            )
