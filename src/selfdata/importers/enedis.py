"""Enedis customer-area exports ("Mes données de consommation", CSV).

The files the Enedis customer area (and its "télécharger mes données" page) gives:

.. code-block:: text

    Identifiant PRM;Type de donnees;Date de debut;…;Unite;Pas en minutes
    14295224261882;Courbe de charge;24/10/2022;25/07/2024;Energie active;…;W;
    Horodate;Valeur
    2022-10-24T00:30:00+02:00;252

* a metadata header (line 1: names, line 2: values) that gives the PRM (the 14-digit
  point of delivery), the kind of data (``Type de donnees``) and the unit;
* the column header (line 3), then one line per value; ``;`` separators, decimal commas,
  UTF-8 with a byte-order mark or Windows-1252, ISO 8601 timestamps with an offset or
  French ``dd/mm/yyyy HH:MM`` in Paris time;
* the daily index file ends with a block describing the supplier's calendar
  (``Periode;Identifiant calendrier fournisseur;…``), which is not data.

Three importers share the parser:

* ``enedis.load_curve`` (``Courbe de charge``): average power in W per interval (30
  minutes unless ``Pas en minutes`` says otherwise). Enedis stamps each value with the
  **end** of its interval (the first value of a day is at 00:30); a reading's ``time``
  is the **start** of its interval, so the importer moves each stamp back by one step.
* ``enedis.daily_consumption`` (``Consommation quotidienne``, ``Energie``…): energy per
  day in the file's unit (Wh or kWh), stamped at local midnight of the day.
* ``enedis.daily_index`` (``Index``): the meter's cumulative index (``EAS T``, total of
  the supplier's dials) read each day, in Wh.

Each gives one ``energy.meter`` record (``provider`` Enedis, ``meter_id`` the PRM,
``reading_type``) and its ``energy.reading`` series. Option ``meter_id`` replaces the
file's PRM (exports shared publicly mask it: ``1429xxxxxxxxxx``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any, BinaryIO, ClassVar, Literal
from zoneinfo import ZoneInfo

import numpy as np

from selfdata.importers.base import (
    ImportContext,
    Importer,
    ImportFailed,
    Item,
    RecordBatch,
    RecordRow,
    Rejected,
    SeriesChunk,
)
from selfdata.importers.text import LocalTimes, decode_head, fold_header, iter_lines, parse_number

__all__ = ["EnedisDailyConsumption", "EnedisDailyIndex", "EnedisExport", "EnedisLoadCurve"]

ReadingType = Literal["load_curve", "daily_consumption", "daily_index"]
ZONE = "Europe/Paris"  # Enedis local times are French times, whatever the space's zone
_PARIS = ZoneInfo(ZONE)
_TRAILERS = ("periode",)  # first cell of the non-data block ending the index export


def _kind_of(data_type: str) -> ReadingType | None:
    folded = fold_header(data_type)
    if "courbe" in folded:
        return "load_curve"
    if "index" in folded:
        return "daily_index"
    if any(word in folded for word in ("quotidien", "journ", "energie", "consommation")):
        return "daily_consumption"
    return None


class EnedisExport(Importer):
    """The shared parser; subclasses say which ``Type de donnees`` they take."""

    reading_type: ClassVar[ReadingType]
    version = "1.0"
    doctypes = ("energy.meter", "energy.reading")
    options: ClassVar[dict[str, str]] = {
        "meter_id": "use this PRM instead of the file's (for exports with a masked PRM)"
    }

    def sniff(self, head: bytes, filename: str) -> float:
        text = decode_head(head)
        if text is None:
            return 0.0
        lines = text.splitlines()
        if len(lines) < 2:
            return 0.0
        names = [fold_header(c) for c in lines[0].split(";")]
        if "identifiant prm" not in names or "type de donnees" not in names:
            return 0.0
        values = lines[1].split(";")
        index = names.index("type de donnees")
        if index >= len(values) or _kind_of(values[index]) != self.reading_type:
            return 0.1
        return 0.95

    def parse(self, stream: BinaryIO, context: ImportContext) -> Iterator[Item]:
        source = context.filename
        lines = iter_lines(stream, source)
        meta, meta_line = self._metadata(lines, source)
        header_line, header = self._next(lines, source, "column header (Horodate;Valeur)")
        columns = [fold_header(c) for c in header.split(";")]
        time_col = next((i for i, c in enumerate(columns) if c in ("horodate", "date")), None)
        wanted = "eas t" if self.reading_type == "daily_index" else "valeur"
        value_col = next((i for i, c in enumerate(columns) if c.startswith(wanted)), None)
        if time_col is None or value_col is None:
            raise ImportFailed.at(
                source,
                header_line,
                "header",
                f"expected columns Horodate and {'EAS T' if wanted == 'eas t' else 'Valeur'}, "
                f"found {header!r}",
            )
        unit, factor = self._unit(meta, source, meta_line)
        step_s = self._step(meta, source, meta_line)
        prm = context.options.get("meter_id") or meta.get("identifiant prm", "").strip()
        meter: dict[str, Any] = {
            "kind": "electricity",
            "provider": "Enedis",
            "meter_id": prm,
            "unit": unit,
            "reading_type": self.reading_type,
            "interval_s": step_s,
        }
        yield RecordBatch("energy.meter", [RecordRow(meta_line, meter, ref="meter")])
        yield from self._points(lines, source, context, time_col, value_col, step_s, factor)

    # -- pieces ----------------------------------------------------------------------

    @staticmethod
    def _next(lines: Iterator[tuple[int, str]], source: str, what: str) -> tuple[int, str]:
        for number, text in lines:
            if text.strip(" ;"):
                return number, text
        raise ImportFailed.at(source, None, "file", f"the file ends before its {what}")

    def _metadata(
        self, lines: Iterator[tuple[int, str]], source: str
    ) -> tuple[dict[str, str], int]:
        number, names_text = self._next(lines, source, "header (Identifiant PRM;…)")
        names = [fold_header(c) for c in names_text.split(";")]
        if "identifiant prm" not in names or "type de donnees" not in names:
            raise ImportFailed.at(
                source,
                number,
                "header",
                "expected the Enedis header 'Identifiant PRM;Type de donnees;…', "
                f"found {names_text[:80]!r}",
            )
        values_line, values_text = self._next(lines, source, "metadata line (PRM;type;…)")
        meta = dict(zip(names, values_text.split(";"), strict=False))
        kind = _kind_of(meta.get("type de donnees", ""))
        if kind != self.reading_type:
            raise ImportFailed.at(
                source,
                values_line,
                "Type de donnees",
                f"this file holds {meta.get('type de donnees', '')!r}, not what {self.name} "
                "reads; let the format be detected, or choose another --format",
            )
        return meta, values_line

    def _unit(self, meta: dict[str, str], source: str, line: int) -> tuple[str, float]:
        raw = meta.get("unite", "").strip()
        if self.reading_type == "load_curve":
            units = {"w": ("W", 1.0), "kw": ("W", 1000.0), "": ("W", 1.0)}
        else:
            units = {"wh": ("Wh", 1.0), "kwh": ("kWh", 1.0), "": ("Wh", 1.0)}
        found = units.get(raw.lower())
        if found is None:
            raise ImportFailed.at(
                source,
                line,
                "Unite",
                f"unit {raw!r}; expected {' or '.join(u for u in units if u)}",
            )
        return found

    def _step(self, meta: dict[str, str], source: str, line: int) -> int:
        if self.reading_type != "load_curve":
            return 86_400
        raw = meta.get("pas en minutes", "").strip()
        if not raw:
            return 1800
        try:
            minutes = int(raw)
        except ValueError:
            minutes = 0
        if not 1 <= minutes <= 1440:
            raise ImportFailed.at(
                source, line, "Pas en minutes", f"{raw!r}; expected minutes between 1 and 1440"
            )
        return minutes * 60

    def _points(
        self,
        lines: Iterator[tuple[int, str]],
        source: str,
        context: ImportContext,
        time_col: int,
        value_col: int,
        step_s: int,
        factor: float,
    ) -> Iterator[Item]:
        times = LocalTimes(ZONE)
        value_name = "EAS T" if self.reading_type == "daily_index" else "Valeur"
        daily = self.reading_type != "load_curve"
        need = max(time_col, value_col) + 1
        size = max(1, context.batch_size)
        ts: list[int] = []
        values: list[float] = []
        first_line = 0
        seen = 0
        for number, text in lines:
            if not text.strip(" ;"):
                continue
            cells = text.split(";")
            if fold_header(cells[0]) in _TRAILERS:
                break  # the calendar description ending the index export
            if len(cells) < need:
                yield Rejected(number, "line", f"{len(cells)} field(s); expected at least {need}")
                continue
            try:
                stamp = times.parse(cells[time_col])
            except ValueError as exc:
                yield Rejected(number, "Horodate", str(exc))
                continue
            cell = cells[value_col]
            if not cell.strip():
                continue  # a missing value: no point
            try:
                value = parse_number(cell) * factor
            except ValueError:
                yield Rejected(
                    number,
                    value_name,
                    f"{cell.strip()!r} is not a number; expected digits with a decimal comma",
                )
                continue
            epoch = _local_midnight(stamp) if daily else int(stamp.timestamp()) - step_s
            if not ts:
                first_line = number
            ts.append(epoch)
            values.append(value)
            seen += 1
            if len(ts) >= size:
                yield self._chunk(ts, values, first_line)
                ts, values = [], []
        if ts:
            yield self._chunk(ts, values, first_line)
        if seen == 0:
            raise ImportFailed.at(source, None, "file", "no readings after the header")

    def _chunk(self, ts: list[int], values: list[float], first_line: int) -> SeriesChunk:
        return SeriesChunk(
            "energy.reading",
            "meter",
            np.asarray(ts, dtype=np.int64),
            np.asarray(values, dtype=np.float64).reshape(-1, 1),
            first_line,
            {"reading_type": self.reading_type},
        )


def _local_midnight(stamp: datetime) -> int:
    """Local midnight of the day ``stamp`` falls on, in Paris time (Enedis sometimes
    stamps a day at 01:00+02:00, i.e. midnight of winter time)."""
    day = stamp.astimezone(_PARIS).date()
    local = datetime(day.year, day.month, day.day, tzinfo=_PARIS)
    return int(local.timestamp())


class EnedisLoadCurve(EnedisExport):
    name = "enedis.load_curve"
    reading_type = "load_curve"
    description: ClassVar[dict[str, str]] = {
        "fr": "Enedis — courbe de charge (puissance moyenne en W par pas de 30 min)",
        "en": "Enedis — load curve (average power in W per 30-minute step)",
    }


class EnedisDailyConsumption(EnedisExport):
    name = "enedis.daily_consumption"
    reading_type = "daily_consumption"
    description: ClassVar[dict[str, str]] = {
        "fr": "Enedis — consommation quotidienne (Wh ou kWh par jour)",
        "en": "Enedis — daily consumption (Wh or kWh per day)",
    }


class EnedisDailyIndex(EnedisExport):
    name = "enedis.daily_index"
    reading_type = "daily_index"
    description: ClassVar[dict[str, str]] = {
        "fr": "Enedis — index quotidien du compteur (EAS T, en Wh)",
        "en": "Enedis — daily meter index (EAS T, in Wh)",
    }
