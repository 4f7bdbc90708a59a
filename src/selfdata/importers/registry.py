"""The importers known to this installation, found through entry points.

Every importer, built-in or third-party, is declared in its distribution's metadata::

    [project.entry-points."selfdata.importers"]
    "enedis.load_curve" = "selfdata.importers.enedis:EnedisLoadCurve"

Built-ins go through the same road as plugins. When selfdata runs from a source tree
without installed metadata, the built-ins are taken from :data:`BUILTIN` (which a test
keeps equal to ``pyproject.toml``).
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterable, Iterator
from importlib.metadata import entry_points

from selfdata.errors import InvalidInput, NotFound
from selfdata.importers.base import Importer

__all__ = ["BUILTIN", "ENTRY_POINT_GROUP", "ZIP_SIGNATURES", "ImporterRegistry", "UnknownFormat"]

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "selfdata.importers"
BUILTIN: dict[str, str] = {
    "enedis.load_curve": "selfdata.importers.enedis:EnedisLoadCurve",
    "enedis.daily_consumption": "selfdata.importers.enedis:EnedisDailyConsumption",
    "enedis.daily_index": "selfdata.importers.enedis:EnedisDailyIndex",
    "ofx": "selfdata.importers.ofx:Ofx",
    "gpx": "selfdata.importers.gpx:Gpx",
    "geojson": "selfdata.importers.geojson:GeoJson",
    "google.records": "selfdata.importers.takeout:GoogleRecords",
    "google.semantic": "selfdata.importers.takeout:GoogleSemanticHistory",
    "google.timeline": "selfdata.importers.takeout:GoogleTimeline",
    "camt.053": "selfdata.importers.camt:Camt053",
    "camt.052": "selfdata.importers.camt:Camt052",
    "camt.054": "selfdata.importers.camt:Camt054",
    "bank.csv": "selfdata.importers.bank_csv:BankCsv",
    "grdf": "selfdata.importers.grdf:Grdf",
    "water.csv": "selfdata.importers.water:WaterCsv",
    "fhir": "selfdata.importers.fhir:Fhir",
    "apple.health": "selfdata.importers.apple_health:AppleHealth",
    "ical": "selfdata.importers.ical:ICalendar",
    "vcard": "selfdata.importers.vcard:VCard",
    "pdf": "selfdata.importers.pdf:PdfPaper",
    "zip": "selfdata.importers.archive:ZipArchive",
    "mt940": "selfdata.importers.mt940:Mt940",
    "owntracks": "selfdata.importers.owntracks:OwnTracks",
    "gpslogger.csv": "selfdata.importers.gpslogger:GpsLoggerCsv",
}
SNIFF_THRESHOLD = 0.5
ZIP_SIGNATURES = (b"PK\x03\x04", b"PK\x05\x06")
"""How a zip starts (a local file header; an empty zip's end record)."""


class UnknownFormat(InvalidInput):
    code = "unknown-format"
    title = "Unknown file format"


def _load(target: str) -> type[Importer]:
    module, _, attr = target.partition(":")
    found = getattr(importlib.import_module(module), attr)
    if not (isinstance(found, type) and issubclass(found, Importer)):
        raise TypeError(f"{target} is not an Importer subclass")
    return found


class ImporterRegistry:
    def __init__(self, importers: Iterable[Importer] = ()) -> None:
        self._by_name: dict[str, Importer] = {}
        for importer in importers:
            self.register(importer)

    @classmethod
    def discover(cls) -> ImporterRegistry:
        """Every importer declared in the ``selfdata.importers`` entry points. A plugin
        that fails to load is logged and left out; it does not stop the others."""
        registry = cls()
        declared = {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}
        for name, target in {**BUILTIN, **declared}.items():
            try:
                importer = _load(target)()
            except Exception:
                log.exception("could not load importer %s (%s)", name, target)
                continue
            if importer.name != name:
                log.warning(
                    "importer %s declares the name %s; using %s", target, importer.name, name
                )
            registry.register(importer, name)
        return registry

    def register(self, importer: Importer, name: str | None = None) -> None:
        self._by_name[name or importer.name] = importer

    def __iter__(self) -> Iterator[Importer]:
        return iter(self._by_name[name] for name in sorted(self._by_name))

    def names(self) -> list[str]:
        return sorted(self._by_name)

    def get(self, name: str) -> Importer:
        try:
            return self._by_name[name]
        except KeyError:
            raise NotFound(
                f"no importer {name!r}; known formats: {', '.join(self.names())}"
            ) from None

    def detect(self, head: bytes, filename: str) -> Importer:
        """The importer most sure of recognising this file (by its content). A zip is
        offered only to the importers of zip formats (:attr:`Importer.reads_zip`): the
        others look for text, which a member stored uncompressed puts in a zip's head."""
        zipped = head.startswith(ZIP_SIGNATURES)
        scored = sorted(
            (
                (importer.sniff(head, filename), name)
                for name, importer in self._by_name.items()
                if importer.reads_zip or not zipped
            ),
            reverse=True,
        )
        if not scored or scored[0][0] < SNIFF_THRESHOLD:
            raise UnknownFormat(
                f"{filename}: format not recognised from its content; give --format "
                f"(known formats: {', '.join(self.names())})"
            )
        return self._by_name[scored[0][1]]
