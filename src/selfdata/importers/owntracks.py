"""OwnTracks Recorder ``.rec`` files: one message a line, as the Recorder stores them
(``user/device/YYYY-MM.rec``).

.. code-block:: text

    2024-03-01T09:03:09Z	*        	{"_type":"location","lat":52.22,"lon":13.33,"tst":17092…}
    2024-03-01T18:26:55Z	event    	{"_type":"transition","event":"leave",…}

A line is a time, a marker (``*`` for a position, ``lwt``, ``waypoints``, ``event``…)
and a JSON object, separated by tabs (older files: spaces). Each ``location`` message
is a position: ``tst`` (epoch seconds; the line's time when absent), ``lat``, ``lon``,
``alt`` → elevation, ``acc`` → accuracy. Positions go to one ``mobility.track`` a
month (as a location history), source ``OwnTracks user/device`` from the message's
``topic`` (option ``source`` replaces it). Other messages (transitions, waypoints,
cards, last wills) are counted in a notice and left out; speed (``vel``) and course
(``cog``) have no column in ``mobility.position`` and are not kept.

The file is read a line at a time (at most 64 KiB a line); a line whose JSON is broken
is rejected with its number, unless it is the file's last line: a download cut short,
refused as a whole.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, BinaryIO, ClassVar

from selfdata.importers._geo import (
    POSITION,
    TRACK,
    MonthlyTracks,
    checked_point,
    parse_time,
)
from selfdata.importers.base import (
    ImportContext,
    Importer,
    ImportFailed,
    Item,
    Notice,
    Rejected,
)
from selfdata.importers.text import decode_head, iter_lines

__all__ = ["OwnTracks"]

_NAN = float("nan")
DEFAULT_SOURCE = "OwnTracks"
_HINT = 'expected a time, a marker and a JSON object ({"_type": "location", …})'


def _source(message: dict[str, Any]) -> str:
    """``OwnTracks user/device`` from a ``owntracks/user/device`` topic."""
    topic = message.get("topic")
    if isinstance(topic, str):
        parts = topic.split("/")
        if len(parts) >= 3 and parts[0] == "owntracks":
            return " ".join(f"{DEFAULT_SOURCE} {parts[1]}/{parts[2]}".split())[:200]
    return DEFAULT_SOURCE


class OwnTracks(Importer):
    name = "owntracks"
    version = "1.0"
    description: ClassVar[dict[str, str]] = {
        "fr": "OwnTracks — historique des positions (fichiers .rec du Recorder)",
        "en": "OwnTracks — location history (Recorder .rec files)",
    }
    doctypes = (TRACK, POSITION)
    options: ClassVar[dict[str, str]] = {
        "source": "the device or app to record as the source (default: OwnTracks "
        "user/device, from the messages' topic)",
    }

    def sniff(self, head: bytes, filename: str) -> float:
        text = decode_head(head)
        if text is None:
            return 0.0
        lines = [line for line in text.splitlines() if line.strip()][:5]
        if not lines:
            return 0.0
        first = lines[0]
        stamp, _, rest = first.partition("\t") if "\t" in first else first.partition(" ")
        if not (len(stamp) >= 19 and stamp[4] == "-" and stamp[10] == "T"):
            return 0.0
        if '"_type"' in rest and rest.lstrip(" \t*abcdefghijklmnopqrstuvwxyz").startswith("{"):
            return 0.95
        return 0.0

    def parse(self, stream: BinaryIO, context: ImportContext) -> Iterator[Item]:
        source = context.filename
        tracks: MonthlyTracks | None = None
        stored = 0
        skipped: dict[str, int] = {}
        broken: int | None = None  # the line of the last broken JSON met
        rejected = 0
        for line, text in iter_lines(stream, source):
            if not text.strip():
                continue
            if broken is not None:
                rejected += 1
                yield Rejected(broken, "json", f"not valid JSON; {_HINT}")
                broken = None
            stamp, brace, body = text.partition("{")
            if not brace:
                rejected += 1
                yield Rejected(line, "json", f"no JSON object; {_HINT}")
                continue
            try:
                message = json.loads(brace + body)
            except ValueError:
                broken = line  # rejected when a line follows; else the file is cut
                continue
            if not isinstance(message, dict):
                rejected += 1
                yield Rejected(line, "json", f"not a JSON object; {_HINT}")
                continue
            kind = message.get("_type")
            if kind != "location":
                key = str(kind)[:40] if kind is not None else "(no _type)"
                skipped[key] = skipped.get(key, 0) + 1
                continue
            try:
                point = _point(message, stamp)
            except _Bad as bad:
                rejected += 1
                yield Rejected(line, bad.field, bad.message)
                continue
            if tracks is None:
                chosen = context.options.get("source") or _source(message)
                tracks = MonthlyTracks(context, " ".join(chosen.split())[:200], "Positions")
            stored += 1
            yield from tracks.add(line, *point)
        if broken is not None:
            raise ImportFailed.at(
                source,
                broken,
                "json",
                "the last line ends in the middle of its JSON; the file is truncated",
            )
        if tracks is not None:
            yield from tracks.flush()
        if skipped:
            kinds = ", ".join(f"{n} {k}" for k, n in sorted(skipped.items()))
            yield Notice(None, "_type", f"messages that are not positions left out: {kinds}")
        if not stored and not rejected:
            raise ImportFailed.at(
                source, None, "_type", "no location message; expected an OwnTracks .rec file"
            )


class _Bad(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _point(message: dict[str, Any], stamp: str) -> tuple[int, float, float, float, float]:
    """(ts, lat, lon, ele, accuracy) of a location message."""
    try:
        raw = message.get("tst")
        ts = parse_time(raw if raw is not None else (stamp.split() or [""])[0])
    except ValueError as exc:
        raise _Bad("tst", str(exc)) from None
    return checked_point(
        ts,
        message.get,
        ("lat", "lon", "alt", "acc"),
        "missing; a location needs lat and lon",
        _Bad,
    )
