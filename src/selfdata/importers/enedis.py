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

The data lines are read in blocks of 1 MiB: a block that is plainly data is read at once
(:mod:`selfdata.importers._bulkcsv`: pyarrow splits it and converts the values, numpy the
timestamps), any other block line by line (:meth:`EnedisExport.parse_line_by_line`, the
reference), which keeps each rejected row's line, field and message. Both give the same
items, chunk for chunk.
"""

from __future__ import annotations

import io
from collections.abc import Generator, Iterator
from datetime import datetime
from typing import Any, BinaryIO, ClassVar, Literal
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from selfdata.importers._bulkcsv import Block, blocks, read_columns
from selfdata.importers._bulktimes import ZoneTable, parse_stamps
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
from selfdata.importers.text import (
    MAX_LINE,
    Decoding,
    LocalTimes,
    decode_head,
    fold_header,
    iter_lines,
    parse_number,
)

__all__ = ["EnedisDailyConsumption", "EnedisDailyIndex", "EnedisExport", "EnedisLoadCurve"]

ReadingType = Literal["load_curve", "daily_consumption", "daily_index"]
ZONE = "Europe/Paris"  # Enedis local times are French times, whatever the space's zone
_PARIS = ZoneInfo(ZONE)
Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
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
        return self._parse(stream, context, bulk=True)

    def parse_line_by_line(self, stream: BinaryIO, context: ImportContext) -> Iterator[Item]:
        """What :meth:`parse` gives, read line by line only (no bulk reading): the
        reference the bulk reading is tested against."""
        return self._parse(stream, context, bulk=False)

    def _parse(self, stream: BinaryIO, context: ImportContext, *, bulk: bool) -> Iterator[Item]:
        source = context.filename
        decoding = Decoding()
        lines = iter_lines(stream, source, decoding)
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
        points = _Points(self.reading_type, max(1, context.batch_size), step_s, factor)
        if bulk:
            after, count = header_line, len(header.split(";"))
            yield from self._blocks(
                stream, after, count, decoding, source, points, time_col, value_col
            )
        else:
            yield from points.lines(lines, time_col, value_col)
        yield from points.rest()
        if points.seen == 0:
            raise ImportFailed.at(source, None, "file", "no readings after the header")

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

    def _blocks(
        self,
        stream: BinaryIO,
        after: int,
        columns: int,
        decoding: Decoding,
        source: str,
        points: _Points,
        time_col: int,
        value_col: int,
    ) -> Iterator[Item]:
        """The data lines (from the line after ``after``), block by block: each block read
        in bulk when it is plainly data (:mod:`._bulkcsv`), else line by line; the items
        are the same either way."""
        trailer = self.reading_type == "daily_index"
        for block in blocks(stream):
            data, ended = _without_trailer(block, decoding, trailer)
            bulk = points.bulk(data, after, decoding, columns, time_col, value_col)
            if bulk is not None:
                yield from points.add(*bulk)
            else:
                lines = iter_lines(io.BytesIO(block.data), source, decoding, after)
                ended = yield from points.lines(lines, time_col, value_col)
            if ended:
                return
            after += block.lines


class _Points:
    """The readings of one file, read in bulk or line by line, gathered in chunks of
    ``size`` points exactly as the line-by-line parser alone would (same chunks, each
    after the same rejected rows)."""

    def __init__(self, reading_type: ReadingType, size: int, step_s: int, factor: float):
        self.reading_type = reading_type
        self.size = size
        self.step_s = step_s
        self.factor = factor
        self.daily = reading_type != "load_curve"
        self.times = LocalTimes(ZONE)
        self.zone = ZoneTable(_PARIS)
        self.parts: list[tuple[Ints, Floats, Ints]] = []
        self.pending = 0
        self.seen = 0

    # -- in bulk ---------------------------------------------------------------------

    def bulk(
        self,
        block: Block,
        after: int,
        decoding: Decoding,
        columns: int,
        time_col: int,
        value_col: int,
    ) -> tuple[Ints, Floats, Ints] | None:
        """(epochs, values, lines) of a block's points, or None: read it line by line."""
        if not block.complete:
            return None
        read = read_columns(block.data, decoding, columns, time_col, value_col)
        if read is None:
            return None
        stamps = parse_stamps(read.stamps)
        if stamps is None:
            return None
        instants: Ints | None = stamps.epoch
        if stamps.local:
            instants = self.zone.place(stamps.epoch, self.times.previous)
        if instants is None:
            return None
        epochs = self.zone.midnight(instants) if self.daily else instants - self.step_s
        if epochs is None:
            return None
        self.times.previous = float(instants[-1])
        kept = np.flatnonzero(read.present)
        values = read.values[kept] * self.factor
        return epochs[kept], values, kept + (after + 1)

    # -- line by line ----------------------------------------------------------------

    def lines(
        self, lines: Iterator[tuple[int, str]], time_col: int, value_col: int
    ) -> Generator[Item, None, bool]:
        """The items of these lines; returns whether the data ended (the index export's
        calendar block)."""
        times = self.times
        value_name = "EAS T" if self.reading_type == "daily_index" else "Valeur"
        daily, step_s, factor = self.daily, self.step_s, self.factor
        need = max(time_col, value_col) + 1
        ts: list[int] = []
        values: list[float] = []
        numbers: list[int] = []
        room = self.size - self.pending
        for number, text in lines:
            if not text.strip(" ;"):
                continue
            cells = text.split(";")
            if fold_header(cells[0]) in _TRAILERS:
                if ts:
                    yield from self.add(*_arrays(ts, values, numbers))
                return True  # the calendar description ending the index export
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
            ts.append(_local_midnight(stamp) if daily else int(stamp.timestamp()) - step_s)
            values.append(value)
            numbers.append(number)
            if len(ts) >= room:
                yield from self.add(*_arrays(ts, values, numbers))
                ts, values, numbers = [], [], []
                room = self.size
        if ts:
            yield from self.add(*_arrays(ts, values, numbers))
        return False

    # -- chunks ----------------------------------------------------------------------

    def add(self, ts: Ints, values: Floats, lines: Ints) -> Iterator[SeriesChunk]:
        """Gather points; out go the chunks they fill."""
        if ts.shape[0] == 0:
            return
        self.seen += int(ts.shape[0])
        self.parts.append((ts, values, lines))
        self.pending += int(ts.shape[0])
        if self.pending < self.size:
            return
        all_ts, all_values, all_lines = (np.concatenate(p) for p in zip(*self.parts, strict=True))
        full = self.pending - self.pending % self.size
        for at in range(0, full, self.size):
            end = at + self.size
            yield self._chunk(all_ts[at:end], all_values[at:end], int(all_lines[at]))
        rest = (all_ts[full:].copy(), all_values[full:].copy(), all_lines[full:].copy())
        self.parts = [rest] if full < self.pending else []
        self.pending -= full

    def rest(self) -> Iterator[SeriesChunk]:
        if self.pending:
            all_ts, all_values, all_lines = (
                np.concatenate(p) for p in zip(*self.parts, strict=True)
            )
            yield self._chunk(all_ts, all_values, int(all_lines[0]))
            self.parts, self.pending = [], 0

    def _chunk(self, ts: Ints, values: Floats, first_line: int) -> SeriesChunk:
        return SeriesChunk(
            "energy.reading",
            "meter",
            np.array(ts, dtype=np.int64),
            np.array(values, dtype=np.float64).reshape(-1, 1),
            first_line,
            {"reading_type": self.reading_type},
        )


def _arrays(ts: list[int], values: list[float], lines: list[int]) -> tuple[Ints, Floats, Ints]:
    return (
        np.asarray(ts, dtype=np.int64),
        np.asarray(values, dtype=np.float64),
        np.asarray(lines, dtype=np.int64),
    )


def _without_trailer(block: Block, decoding: Decoding, look: bool) -> tuple[Block, bool]:
    """The block up to the index export's calendar description (when ``look``ing for
    one), and whether it was there; without the blank lines ending the data.

    Only an optimisation: a block with a calendar line left in is not plainly data, and
    is read line by line (which stops there too)."""
    data, ended = block.data, False
    first = 0 if look and data[:1] in (b"P", b"p") else -1
    for letter in (b"\nP", b"\np") if look else ():
        found = data.find(letter)
        if found >= 0 and (first < 0 or found + 1 < first):
            first = found + 1
    if first >= 0:
        end = data.find(b"\n", first)
        line = data[first : end if end >= 0 else len(data)]
        # The line-by-line parser reads the calendar's first line (then stops): it must
        # be text it reads as well, or that parser's error is the answer.
        if len(line) <= MAX_LINE and b"\x00" not in line:
            try:
                cell = line.decode(decoding.encoding).split(";", 1)[0]
            except UnicodeDecodeError:
                cell = ""
            ended = fold_header(cell) in _TRAILERS
    if ended:
        data = data[:first]
    if ended or block.last:
        return Block(data.rstrip(b"\r\n"), True), ended
    return block, False


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
