"""Water meter readings as CSV, with a column mapping (``water.csv``).

Water utilities and smart-meter portals export a date and either the meter's **index**
(cumulative) or the **volume** used per day, in litres or m³, with headers of their own::

    Date;Index (m3)            date,volume_litres          Jour;Consommation (L)
    01/03/2024;1234,567        2024-03-01,152              01/03/2024;152

The default profile finds the date column (a header with ``date``, ``jour`` or
``horodate``) and the value column (``index``/``relevé`` → an index; ``volume``,
``consommation``, ``conso`` → a volume per day), and the unit from the value's header
(``L``, ``litre`` → L; ``m3``, ``m³`` → m3; else m3). Options override each guess:
``date_column``, ``value_column`` (a header name or a 1-based column number), ``unit``
(``l`` or ``m3``), ``kind`` (``index`` or ``volume``), and ``meter_id``, ``provider``.

Separators ``;``, ``,`` or tab; UTF-8 or Windows-1252; decimal comma or point; dates ISO
8601 or ``dd/mm/yyyy[ HH:MM]`` in the space's time zone. One ``energy.meter`` (kind
water, ``daily_index`` or ``daily_consumption``) and its ``energy.reading`` series; a
volume is stored at local midnight of its day, an index at the time it was read.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import datetime
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
from selfdata.importers.text import LocalTimes, decode_head, fold_header, iter_lines, parse_number

__all__ = ["WaterCsv"]

_DATE_WORDS = ("date", "jour", "horodate", "day")
_INDEX_WORDS = ("index", "releve", "meter reading", "compteur")
_VOLUME_WORDS = ("volume", "consommation", "conso", "consumption", "litres", "liters")
_WATER_HINTS = ("eau", "water", "litre", "liter", "(l)", "m3", "m³", "volume")
_NOT_WATER = ("identifiant prm", "kwh", "wh", "montant", "debit", "credit", "libelle")


def _delimiter(line: str) -> str:
    return max(";,\t", key=line.count)


def _cells(text: str, delimiter: str) -> list[str] | None:
    """The cells of one line, or None when it is not CSV (a stray carriage return)."""
    try:
        return next(csv.reader([text], delimiter=delimiter), [])
    except csv.Error:
        return None


def _kind_of(name: str) -> str | None:
    folded = fold_header(name)
    if any(w in folded for w in _INDEX_WORDS):
        return "index"
    if any(w in folded for w in _VOLUME_WORDS):
        return "volume"
    return None


def _unit_of(name: str) -> str | None:
    folded = name.lower().replace(" ", "")
    if "m3" in folded or "m³" in folded:
        return "m3"
    if "(l)" in folded or "litre" in folded or "liter" in folded or folded.endswith("_l"):
        return "L"
    return None


class WaterCsv(Importer):
    name = "water.csv"
    version = "1.0"
    description: ClassVar[dict[str, str]] = {
        "fr": "Compteur d'eau — relevés CSV (index ou volume par jour, en litres ou m³)",
        "en": "Water meter — CSV readings (index or volume per day, in litres or m³)",
    }
    doctypes = ("energy.meter", "energy.reading")
    options: ClassVar[dict[str, str]] = {
        "date_column": "the date column: its header, or its number from 1",
        "value_column": "the value column: its header, or its number from 1",
        "unit": "l or m3 (default: from the value's header, else m3)",
        "kind": "index (cumulative meter index) or volume (used per day)",
        "meter_id": "the meter's number (default: water)",
        "provider": "the water utility (default: Water utility)",
    }

    def sniff(self, head: bytes, filename: str) -> float:
        text = decode_head(head)
        if text is None:
            return 0.0
        first = next((line for line in text.splitlines() if line.strip(" ;,\t")), "")
        if first.lstrip().startswith(("{", "[", "<")):
            return 0.0  # JSON or XML, not a CSV header
        folded = fold_header(first)
        if any(word in folded for word in _NOT_WATER):
            return 0.0
        cells = [fold_header(c) for c in _cells(first, _delimiter(first)) or []]
        if len(cells) < 2 or max(len(c) for c in cells) > 80:
            return 0.0
        if not any(any(w in c for w in _DATE_WORDS) for c in cells):
            return 0.0
        if not any(_kind_of(c) for c in cells):
            return 0.0
        hinted = any(h in first.lower() for h in _WATER_HINTS) or "eau" in filename.lower()
        return 0.7 if hinted else 0.3

    def parse(self, stream: BinaryIO, context: ImportContext) -> Iterator[Item]:
        source = context.filename
        lines = iter_lines(stream, source)
        header_line, header_text = next(((n, t) for n, t in lines if t.strip(" ;,\t")), (0, ""))
        if not header_line:
            raise ImportFailed.at(source, None, "header", "the file is empty")
        delimiter = _delimiter(header_text)
        header = _cells(header_text, delimiter)
        if not header:
            raise ImportFailed.at(source, header_line, "header", "not a CSV header line")
        folded = [fold_header(c) for c in header]
        date_col = _pick(
            header,
            folded,
            "date_column",
            _DATE_WORDS,
            source,
            header_line,
            context.options.get("date_column"),
        )
        value_col = self._value_column(header, date_col, source, header_line, context)
        kind = (context.options.get("kind") or _kind_of(header[value_col]) or "").lower()
        if kind not in ("index", "volume"):
            raise ImportFailed.at(
                source, header_line, "kind", f"{kind!r}; give -o kind=index or -o kind=volume"
            )
        unit_option = (context.options.get("unit") or "").lower()
        if unit_option and unit_option not in ("l", "m3"):
            raise ImportFailed.at(source, None, "unit", f"{unit_option!r}; expected l or m3")
        unit = {"l": "L", "m3": "m3"}.get(unit_option) or _unit_of(header[value_col]) or "m3"
        meter: dict[str, Any] = {
            "kind": "water",
            "provider": context.options.get("provider") or "Water utility",
            "meter_id": context.options.get("meter_id") or "water",
            "unit": unit,
            "reading_type": "daily_index" if kind == "index" else "daily_consumption",
        }
        if kind == "volume":
            meter["interval_s"] = 86_400
        yield RecordBatch("energy.meter", [RecordRow(header_line, meter, ref="meter")])
        yield from self._points(
            lines, context, delimiter, date_col, value_col, header, kind, header_line
        )

    def _value_column(
        self, header: list[str], date_col: int, source: str, line: int, context: ImportContext
    ) -> int:
        folded = [fold_header(c) for c in header]
        wanted = context.options.get("value_column")
        if wanted:
            return _pick(header, folded, "value_column", (), source, line, wanted)
        for i, name in enumerate(header):
            if i != date_col and _kind_of(name):
                return i
        raise ImportFailed.at(
            source,
            line,
            "value_column",
            f"no index or volume column in {header!r}; give -o value_column=…",
        )

    def _points(
        self,
        lines: Iterator[tuple[int, str]],
        context: ImportContext,
        delimiter: str,
        date_col: int,
        value_col: int,
        header: list[str],
        kind: str,
        header_line: int,
    ) -> Iterator[Item]:
        zone = ZoneInfo(context.timezone)
        times = LocalTimes(context.timezone)
        size = max(1, context.batch_size)
        need = max(date_col, value_col) + 1
        ts: list[int] = []
        values: list[float] = []
        first_line = 0
        seen = 0
        for number, text in lines:
            if not text.strip(" ;,\t"):
                continue
            cells = _cells(text, delimiter)
            if cells is None:
                yield Rejected(number, "line", "a carriage return inside the line; not CSV")
                continue
            if len(cells) < need:
                yield Rejected(number, "line", f"{len(cells)} field(s); expected at least {need}")
                continue
            try:
                stamp = times.parse(cells[date_col])
            except ValueError as exc:
                yield Rejected(number, header[date_col], str(exc))
                continue
            cell = cells[value_col]
            if not cell.strip():
                continue  # no reading that day
            try:
                value = parse_number(cell)
            except ValueError:
                yield Rejected(
                    number, header[value_col], f"{cell.strip()!r} is not a number; expected 12,5"
                )
                continue
            if value < 0:
                yield Rejected(number, header[value_col], f"{value} is negative")
                continue
            if kind == "volume":
                day = stamp.astimezone(zone).date()
                epoch = int(datetime(day.year, day.month, day.day, tzinfo=zone).timestamp())
            else:
                epoch = int(stamp.timestamp())
            if not ts:
                first_line = number
            ts.append(epoch)
            values.append(value)
            seen += 1
            if len(ts) >= size:
                yield _chunk(ts, values, first_line)
                ts, values = [], []
        if ts:
            yield _chunk(ts, values, first_line)
        if seen == 0:
            raise ImportFailed.at(
                context.filename, header_line, "file", "no readings after the header"
            )


def _pick(
    header: list[str],
    folded: list[str],
    option: str,
    words: tuple[str, ...],
    source: str,
    line: int,
    given: str | None,
) -> int:
    if given:
        if given.isdigit() and 1 <= int(given) <= len(header):
            return int(given) - 1
        wanted = fold_header(given)
        if wanted in folded:
            return folded.index(wanted)
        raise ImportFailed.at(
            source, line, option, f"no column {given!r}; the header is {';'.join(header)!r}"
        )
    for i, name in enumerate(folded):
        if any(w in name for w in words):
            return i
    raise ImportFailed.at(source, line, option, f"no date column in {header!r}; give -o {option}=…")


def _chunk(ts: list[int], values: list[float], first_line: int) -> SeriesChunk:
    return SeriesChunk(
        "energy.reading",
        "meter",
        np.asarray(ts, dtype=np.int64),
        np.asarray(values, dtype=np.float64).reshape(-1, 1),
        first_line,
    )
