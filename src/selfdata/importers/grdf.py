"""GRDF gas consumption: the customer-area Excel export and the ``donnees_publiees``
JSON (``grdf``).

**Excel** (``Donnees_informatives_PCE_….xlsx``, sheet ``Historique par …``): a few
lines of metadata (``N° PCE :``, address), then a header row starting with
``Date de relevé``. The daily history has one row per day::

    Date de relevé | Index de début de période (m3) | Index de fin de période (m3) |
    Volume consommé (m3) | Energie consommée (kWh) | Coefficient de conversion | …
    24/11/2020     | 12163 | 12175 | 12 | 133 | … | Mesuré

It gives two ``energy.meter`` records (provider GRDF, ``meter_id`` the PCE): the energy
per day in kWh (``daily_consumption``) and the meter's index in m³ (``daily_index``:
the start index of each day, and the end index of the last day on the day after).
The weekly and monthly workbooks hold totals per week or month, which ``energy.meter``
has no reading type for: they are refused with a message pointing to the daily export.

**JSON** (``{"<PCE>": {"idPce": …, "releves": [{"dateDebutReleve", "dateFinReleve",
"indexDebut", "indexFin", "energieConsomme", …}]}}``, what the GRDF API publishes): the
index in m³ at each reading date, and the energy in kWh of the readings that cover one
gas day exactly (longer periods are not daily values and give no consumption point).

Dates are days in Paris time, stored at local midnight, as for Enedis.

The workbook is untrusted: before openpyxl opens it, the zip's directory is read and
the declared uncompressed sizes checked (a zip bomb is refused before anything is
inflated; Python's zip reader never inflates past the declared size). openpyxl parses
the sheet XML with defusedxml, in read-only mode (rows streamed).
"""

from __future__ import annotations

import json
import struct
import zipfile
import zlib
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any, BinaryIO, ClassVar
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
from selfdata.importers.text import decode_head, fold_header, parse_number

__all__ = ["MAX_JSON", "MAX_MEMBER", "MAX_TOTAL", "Grdf"]

ZONE = ZoneInfo("Europe/Paris")
MAX_MEMBER = 64 << 20
"""Largest uncompressed member of a workbook (a daily sheet of ten years is ~3 MiB)."""
MAX_TOTAL = 128 << 20
MAX_MEMBERS = 200
MAX_JSON = 32 << 20
"""Largest JSON file read (five years of readings is ~60 KiB)."""
_WORKBOOK = b"xl/workbook.xml"


def _workbook_xml(head: bytes) -> bytes | None:
    """The start of ``xl/workbook.xml`` when its zip entry lies within ``head`` (it does
    in Excel's and openpyxl's files: it comes right after the small package parts)."""
    offset = 0
    while offset + 30 <= len(head) and head[offset : offset + 4] == b"PK\x03\x04":
        _, flags, method, _, _, _, csize, _, name_len, extra_len = struct.unpack(
            "<HHHHHIIIHH", head[offset + 4 : offset + 30]
        )
        name = head[offset + 30 : offset + 30 + name_len]
        start = offset + 30 + name_len + extra_len
        if name == _WORKBOOK:
            data = head[start : start + csize] if csize else head[start:]
            if method == 0:
                return data[:4096]
            if method == 8:
                try:
                    return zlib.decompressobj(-15).decompress(data, 4096)
                except zlib.error:
                    return None
            return None
        if flags & 0x08 or not csize:
            return None  # sizes come after the data: cannot walk further
        offset = start + csize
    return None


def _day(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    try:
        return datetime.strptime(text, "%d/%m/%Y").date()
    except ValueError:
        try:
            return date.fromisoformat(text[:10])
        except ValueError:
            raise ValueError(f"{text!r} is not a date; expected dd/mm/yyyy") from None


def _midnight(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=ZONE).timestamp())


def _number(value: Any) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a number")
    if isinstance(value, int | float):
        return float(value)
    return parse_number(str(value))


class _Series:
    """Points of one meter, yielded in chunks of the batch size."""

    def __init__(self, ref: str, reading_type: str, size: int) -> None:
        self.ref, self.reading_type, self.size = ref, reading_type, size
        self.ts: list[int] = []
        self.values: list[float] = []
        self.first_line = 0
        self.total = 0

    def add(self, line: int, ts: int, value: float) -> Iterator[SeriesChunk]:
        if not self.ts:
            self.first_line = line
        self.ts.append(ts)
        self.values.append(value)
        self.total += 1
        if len(self.ts) >= self.size:
            yield from self.flush()

    def flush(self) -> Iterator[SeriesChunk]:
        if self.ts:
            yield SeriesChunk(
                "energy.reading",
                self.ref,
                np.asarray(self.ts, dtype=np.int64),
                np.asarray(self.values, dtype=np.float64).reshape(-1, 1),
                self.first_line,
                {"reading_type": self.reading_type},
            )
            self.ts, self.values = [], []


def _meters(pce: str, line: int, energy: bool = True) -> Iterator[Item]:
    common = {"kind": "gas", "provider": "GRDF", "meter_id": pce, "interval_s": 86_400}
    rows = [RecordRow(line, {**common, "unit": "m3", "reading_type": "daily_index"}, ref="index")]
    if energy:
        kwh = {**common, "unit": "kWh", "reading_type": "daily_consumption"}
        rows.insert(0, RecordRow(line, kwh, ref="energy"))
    yield RecordBatch("energy.meter", rows)


class Grdf(Importer):
    name = "grdf"
    version = "1.0"
    description: ClassVar[dict[str, str]] = {
        "fr": "GRDF — consommation de gaz quotidienne (export Excel de l'espace client, "
        "ou JSON des relevés publiés)",
        "en": "GRDF — daily gas consumption (customer-area Excel export, or the published "
        "readings JSON)",
    }
    doctypes = ("energy.meter", "energy.reading")
    options: ClassVar[dict[str, str]] = {
        "meter_id": "the PCE (14 digits) when the file does not give it (exports shared "
        "publicly leave it empty)",
    }

    reads_zip: ClassVar[bool] = True  # the customer-area workbook (xlsx) is a zip

    def sniff(self, head: bytes, filename: str) -> float:
        if head.startswith(b"PK\x03\x04"):
            workbook = _workbook_xml(head)
            if workbook is not None and b"Historique par" in workbook:
                return 0.9
            return 0.0
        text = decode_head(head)
        if text is None or not text.lstrip().startswith(("{", "[")):
            return 0.0
        if '"releves"' in text and ('"idPce"' in text or '"dateDebutReleve"' in text):
            return 0.9
        return 0.0

    def parse(self, stream: BinaryIO, context: ImportContext) -> Iterator[Item]:
        head = stream.read(4)
        stream.seek(0)
        if head == b"PK\x03\x04":
            yield from self._workbook(stream, context)
        else:
            yield from self._json(stream, context)

    # -- Excel -----------------------------------------------------------------------

    def _workbook(self, stream: BinaryIO, context: ImportContext) -> Iterator[Item]:
        from openpyxl import load_workbook  # imported here: only this format needs it

        source = context.filename
        _check_zip(stream, source)
        stream.seek(0)
        try:
            book = load_workbook(stream, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a broken package
            raise ImportFailed.at(
                source, None, "xlsx", f"not a readable Excel workbook ({type(exc).__name__})"
            ) from None
        try:
            names = [n for n in book.sheetnames if n.startswith("Historique par")]
            sheet = book[names[0] if names else book.sheetnames[0]]
            try:
                yield from self._sheet(sheet.iter_rows(values_only=True), context)
            except ImportFailed:
                raise
            except Exception as exc:  # a corrupt part: zip, deflate, XML, cell values…
                raise ImportFailed.at(
                    source, None, "xlsx", f"the workbook is corrupt ({type(exc).__name__})"
                ) from None
        finally:
            book.close()

    def _sheet(self, rows: Iterator[tuple[Any, ...]], context: ImportContext) -> Iterator[Item]:
        source = context.filename
        pce: str | None = None
        pce_line = 0
        header: list[str] | None = None
        line = 0
        for line, row in enumerate(rows, 1):
            cells = [fold_header(str(c)) if c is not None else "" for c in row]
            if any(c.startswith("n pce") or c == "pce" for c in cells):
                pce_line = line
                at = next(i for i, c in enumerate(cells) if c.startswith("n pce") or c == "pce")
                pce = next((str(v).strip() for v in row[at + 1 :] if v not in (None, "")), None)
            if "date de releve" in cells:
                header = cells
                break
        if header is None:
            raise ImportFailed.at(
                source,
                None,
                "Date de relevé",
                "no header row 'Date de relevé'; expected "
                "the 'Historique par jour' sheet of the GRDF export",
            )
        header_line = line
        col = {name: i for i, name in enumerate(header) if name}
        date_col = col["date de releve"]
        start = _column(col, "index de debut")
        end = _column(col, "index de fin")
        energy = _column(col, "energie consommee")
        if start is None or energy is None:
            raise ImportFailed.at(
                source,
                header_line,
                "Date de relevé",
                "this workbook holds weekly or monthly totals, which energy.meter does not "
                "store; export the daily history ('Historique par jour') from the GRDF "
                "customer area",
            )
        meter_id = context.options.get("meter_id") or pce
        if not meter_id:
            raise ImportFailed.at(
                source,
                pce_line or None,
                "N° PCE",
                "empty (the export was anonymised); give the PCE with -o meter_id=…",
            )
        yield from _meters(meter_id, pce_line or header_line)
        size = max(1, context.batch_size)
        kwh, index = (
            _Series("energy", "daily_consumption", size),
            _Series("index", "daily_index", size),
        )
        pending: tuple[int, date, float] | None = None  # the end index, due the next day
        for line, row in enumerate(rows, header_line + 1):
            if not row or all(v in (None, "") for v in row):
                continue
            if date_col >= len(row) or row[date_col] in (None, ""):
                continue
            try:
                day = _day(row[date_col])
            except ValueError as exc:
                yield Rejected(line, "Date de relevé", str(exc))
                continue
            values: dict[str, float | None] = {}
            bad = False
            columns = (("Index de début", start), ("Index de fin", end), ("Energie", energy))
            for name, where in columns:
                cell = row[where] if where is not None and where < len(row) else None
                try:
                    values[name] = _number(cell)
                except ValueError:
                    yield Rejected(line, name, f"{cell!r} is not a number")
                    bad = True
                    break
            if bad:
                continue
            if pending is not None and pending[1] != day:
                yield from index.add(pending[0], _midnight(pending[1]), pending[2])
            pending = None
            if values["Index de début"] is not None:
                yield from index.add(line, _midnight(day), values["Index de début"])
            if values["Index de fin"] is not None:
                pending = (line, day + timedelta(days=1), values["Index de fin"])
            if values["Energie"] is not None:
                yield from kwh.add(line, _midnight(day), values["Energie"])
        if pending is not None:
            yield from index.add(pending[0], _midnight(pending[1]), pending[2])
        yield from kwh.flush()
        yield from index.flush()
        if kwh.total == 0 and index.total == 0:
            raise ImportFailed.at(source, header_line, "file", "no readings after the header")

    # -- JSON ------------------------------------------------------------------------

    def _json(self, stream: BinaryIO, context: ImportContext) -> Iterator[Item]:
        source = context.filename
        data = stream.read(MAX_JSON + 1)
        if len(data) > MAX_JSON:
            raise ImportFailed.at(
                source, None, "file", f"larger than {MAX_JSON >> 20} MiB; not a GRDF export"
            )
        try:
            document = json.loads(data.decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            line = getattr(exc, "lineno", None)
            raise ImportFailed.at(source, line, "json", f"not valid JSON: {exc}") from None
        points = _points_of(document)
        if not points:
            raise ImportFailed.at(source, None, "releves", "no 'releves' list; expected GRDF JSON")
        size = max(1, context.batch_size)
        for pce, releves in points:
            meter_id = context.options.get("meter_id") or pce
            if not meter_id:
                raise ImportFailed.at(source, None, "idPce", "empty; give -o meter_id=…")
            yield from _meters(meter_id, 1, any(_one_day(r) for r in releves))
            kwh = _Series("energy", "daily_consumption", size)
            index = _Series("index", "daily_index", size)
            seen: set[int] = set()
            for number, releve in enumerate(releves, 1):
                yield from _releve(number, releve, kwh, index, seen)
            yield from kwh.flush()
            yield from index.flush()


def _points_of(document: Any) -> list[tuple[str, list[Any]]]:
    """``(PCE, releves)`` of each point: the document is one point, a list of points,
    or points keyed by their PCE (what the API publishes)."""
    if isinstance(document, dict):
        candidates = [document] if "releves" in document else list(document.values())
    elif isinstance(document, list):
        candidates = document
    else:
        return []
    return [
        (str(item.get("idPce") or ""), item["releves"])
        for item in candidates
        if isinstance(item, dict) and isinstance(item.get("releves"), list)
    ]


def _releve(
    number: int, releve: Any, kwh: _Series, index: _Series, seen: set[int]
) -> Iterator[Item]:
    """One reading: its end index (and start index, the first time) and, for a period
    of one day, its energy. ``number`` (the reading's rank) stands for the line."""
    where = f"releves[{number - 1}]"
    if not isinstance(releve, dict):
        yield Rejected(number, where, "expected an object")
        return
    try:
        begin = datetime.fromisoformat(str(releve.get("dateDebutReleve")).replace("Z", "+00:00"))
        end = datetime.fromisoformat(str(releve.get("dateFinReleve")).replace("Z", "+00:00"))
    except ValueError:
        yield Rejected(number, f"{where}.dateFinReleve", "expected ISO 8601 dates")
        return
    if begin.tzinfo is None:
        begin, end = begin.replace(tzinfo=UTC), end.replace(tzinfo=UTC)
    first, last = begin.astimezone(ZONE).date(), end.astimezone(ZONE).date()
    try:
        start_index = _number(releve.get("indexDebut"))
        end_index = _number(releve.get("indexFin"))
        energy = _number(releve.get("energieConsomme"))
    except ValueError as exc:
        yield Rejected(number, where, str(exc))
        return
    for day, value in ((first, start_index), (last, end_index)):
        ts = _midnight(day)
        if value is not None and ts not in seen:
            seen.add(ts)
            yield from index.add(number, ts, value)
    if energy is not None and _one_day(releve):
        yield from kwh.add(number, _midnight(first), energy)


def _one_day(releve: Any) -> bool:
    if not isinstance(releve, dict):
        return False
    try:
        begin = datetime.fromisoformat(str(releve.get("dateDebutReleve")))
        end = datetime.fromisoformat(str(releve.get("dateFinReleve")))
    except ValueError:
        return False
    try:
        short = end - begin <= timedelta(days=1, hours=1)
    except TypeError:  # one date with an offset, the other without
        return False
    return short and releve.get("energieConsomme") is not None


def _column(columns: dict[str, int], prefix: str) -> int | None:
    return next((i for name, i in columns.items() if name.startswith(prefix)), None)


def _check_zip(stream: BinaryIO, source: str) -> None:
    """Refuse a workbook whose members would inflate beyond the limits."""
    try:
        with zipfile.ZipFile(stream) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, ValueError) as exc:
        raise ImportFailed.at(
            source, None, "xlsx", f"not a readable xlsx (zip) file: truncated or corrupt ({exc})"
        ) from None
    if len(members) > MAX_MEMBERS:
        raise ImportFailed.at(source, None, "xlsx", f"{len(members)} parts; expected a workbook")
    total = 0
    for member in members:
        total += member.file_size
        if member.file_size > MAX_MEMBER or total > MAX_TOTAL:
            raise ImportFailed.at(
                source,
                None,
                "xlsx",
                f"{member.filename} inflates to {member.file_size >> 20} MiB or more; refused "
                "(a GRDF export is a few MiB)",
            )
