"""The Enedis bulk reading gives exactly the items of the line-by-line reading: on every
sample (DST days, Windows-1252, byte-order mark), on files with bad lines (reported on
their line, whether in a bulk-read block or not), and on files the bulk reading must
leave to the line-by-line one."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from selfdata.importers import Item, RecordBatch, Rejected, SeriesChunk
from selfdata.importers._bulkcsv import BLOCK, read_columns
from selfdata.importers._bulktimes import parse_stamps
from selfdata.importers.base import ImportContext, ImportFailed
from selfdata.importers.enedis import (
    EnedisDailyConsumption,
    EnedisDailyIndex,
    EnedisExport,
    EnedisLoadCurve,
)
from selfdata.importers.text import Decoding
from tests.samples.enedis import daily_csv, load_curve_csv

SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "enedis"
REAL = Path("/work/shared/sample-data/energy-enedis")
IMPORTERS: dict[str, EnedisExport] = {
    "load_curve": EnedisLoadCurve(),
    "daily_consumption": EnedisDailyConsumption(),
    "daily_index": EnedisDailyIndex(),
}


def importer_for(data: bytes) -> EnedisExport:
    scores = {name: imp.sniff(data[:8192], "x.csv") for name, imp in IMPORTERS.items()}
    return IMPORTERS[max(scores, key=scores.__getitem__)]


def items(data: bytes, *, bulk: bool, batch_size: int = 50_000) -> list[Item]:
    importer = importer_for(data)
    context = ImportContext(filename="export.csv", batch_size=batch_size)
    parse = importer.parse if bulk else importer.parse_line_by_line
    return list(parse(io.BytesIO(data), context))


def comparable(item: Item) -> object:
    if isinstance(item, SeriesChunk):
        assert item.ts.dtype == np.int64 and item.values.dtype == np.float64
        assert item.values.flags.c_contiguous
        return ("chunk", item.ts.tolist(), item.values.tolist(), item.first_line, item.meta)
    if isinstance(item, RecordBatch):
        return ("records", item.doctype, item.rows)
    assert isinstance(item, Rejected)
    return ("rejected", item.line, item.field, item.message)


def outcome(data: bytes, *, bulk: bool, batch_size: int) -> object:
    """The items, or the error's message."""
    try:
        return [comparable(i) for i in items(data, bulk=bulk, batch_size=batch_size)]
    except ImportFailed as exc:
        return str(exc)


def assert_same(data: bytes, batch_size: int = 50_000) -> list[Item]:
    fast = items(data, bulk=True, batch_size=batch_size)
    slow = items(data, bulk=False, batch_size=batch_size)
    assert [comparable(i) for i in fast] == [comparable(i) for i in slow]
    return fast


def data_block(data: bytes, header: bytes) -> bytes:
    """The lines after the column header (without a trailing calendar block)."""
    block = data[data.index(header) + len(header) :].lstrip(b"\r\n")
    return block.split(b"\r\n\r\nPeriode")[0].rstrip(b"\r\n")


def replace_line(data: bytes, number: int, text: bytes) -> bytes:
    lines = data.split(b"\r\n")
    lines[number - 1] = text
    return b"\r\n".join(lines)


SHIPPED = sorted(SAMPLES.glob("*.csv"))
GENERATED = {
    "year-1252-french": load_curve_csv(
        date(2023, 1, 1), date(2024, 1, 1), encoding="cp1252", french_dates=True
    ),
    "year-bom-iso": load_curve_csv(date(2023, 1, 1), date(2024, 1, 1)),
    "dst-march-french": load_curve_csv(date(2024, 3, 30), date(2024, 4, 1), french_dates=True),
    "dst-october-iso": load_curve_csv(date(2023, 10, 28), date(2023, 10, 31)),
    "decimal-points": load_curve_csv(date(2023, 5, 1), date(2023, 5, 3), decimal_comma=False),
    "daily-consumption-year": daily_csv(date(2023, 1, 1), 365),
    "daily-index-year": daily_csv(date(2023, 1, 1), 365, kind="index", encoding="utf-8-sig"),
    "daily-index-1252": daily_csv(date(2023, 10, 1), 60, kind="index", encoding="cp1252"),
}


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
@pytest.mark.parametrize("batch_size", [50_000, 7, 1])
def test_shipped_samples_give_the_same_items(path: Path, batch_size: int) -> None:
    found = assert_same(path.read_bytes(), batch_size)
    assert any(isinstance(i, SeriesChunk) for i in found)


@pytest.mark.parametrize("name", sorted(GENERATED))
@pytest.mark.parametrize("batch_size", [50_000, 1000])
def test_generated_files_give_the_same_items(name: str, batch_size: int) -> None:
    found = assert_same(GENERATED[name], batch_size)
    assert not any(isinstance(i, Rejected) for i in found)


@pytest.mark.parametrize("path", SHIPPED, ids=[p.name for p in SHIPPED])
def test_the_bulk_reading_takes_the_samples(path: Path) -> None:
    """The samples are read in bulk (not left to the line-by-line reading)."""
    data = path.read_bytes()
    header = b"Horodate;" + data.split(b"\r\nHorodate;")[1].split(b"\r\n")[0]
    columns = header.split(b";")
    value_col = len(columns) - 1
    decoding = Decoding("cp1252" if b"cp1252" in path.name.encode() else "utf-8")
    read = read_columns(data_block(data, header), decoding, len(columns), 0, value_col)
    assert read is not None
    assert parse_stamps(read.stamps) is not None


@pytest.mark.skipif(not REAL.is_dir(), reason="shared Enedis samples not available")
def test_real_exports_give_the_same_items() -> None:
    for path in sorted(REAL.glob("*.csv")):
        assert_same(path.read_bytes())


@pytest.mark.parametrize(
    ("text", "field", "message"),
    [
        (b"2023-06-01T10:30:00+02:00;abc", "Valeur", "'abc' is not a number"),
        (b"2023-06-01T10:30:00+02:00;nan", "Valeur", "'nan' is not a number"),
        (b"2023-06-31T10:30:00+02:00;12", "Horodate", "'2023-06-31T10:30:00+02:00' is not"),
        (b"2023-06-01T10:30:00+02:00", "line", "1 field(s); expected at least 2"),
        (b"31/06/2023 10:30;12", "Horodate", "expected dd/mm/yyyy"),
    ],
    ids=["value", "nan", "date", "missing-field", "french-date"],
)
def test_one_bad_line_is_reported_on_its_line(text: bytes, field: str, message: str) -> None:
    data = replace_line(GENERATED["year-bom-iso"], 5000, text)
    found = assert_same(data)
    rejected = [i for i in found if isinstance(i, Rejected)]
    assert [(r.line, r.field) for r in rejected] == [(5000, field)]
    assert message in rejected[0].message
    points = sum(i.ts.shape[0] for i in found if isinstance(i, SeriesChunk))
    assert points == 365 * 48 - 1


def test_a_bad_line_in_one_block_of_a_large_file() -> None:
    """Over several blocks: the others are read in bulk, the one with the bad line line
    by line; same items, the chunks cut at the same points."""
    data = load_curve_csv(date(2018, 1, 1), date(2023, 1, 1))
    assert len(data) > 2 * BLOCK
    line = BLOCK // 32 * 3 // 2  # lines of 31 or 32 bytes: in the second block
    bad = replace_line(data, line, b"01/06/2023 10:30;12x")
    found = assert_same(bad, batch_size=40_000)
    rejected = [i for i in found if isinstance(i, Rejected)]
    assert [(r.line, r.field) for r in rejected] == [(line, "Valeur")]
    assert "'12x' is not a number" in rejected[0].message
    chunks = [i for i in found if isinstance(i, SeriesChunk)]
    assert [c.ts.shape[0] for c in chunks[:-1]] == [40_000] * (len(chunks) - 1)


def test_irregular_files_read_line_by_line_give_the_same_items() -> None:
    base = load_curve_csv(date(2023, 10, 28), date(2023, 10, 31), french_dates=True)
    lines = base.split(b"\r\n")
    cases = {
        "blank-line": b"\r\n".join([*lines[:10], b"", *lines[10:]]),
        "only-separators": b"\r\n".join([*lines[:10], b";;", *lines[10:]]),
        "missing-value": b"\r\n".join([*lines[:10], lines[10].split(b";")[0] + b";", *lines[11:]]),
        "trailing-blank-lines": base + b"\r\n\r\n",
        "no-final-line-break": base.rstrip(b"\r\n"),
        "lf-only": base.replace(b"\r\n", b"\n"),
        "lone-cr": b"\r\n".join([*lines[:10], lines[10] + b"\r" + lines[11], *lines[12:]]),
        "quoted-value": b"\r\n".join([*lines[:10], b'"28/10/2023 04:00";"12"', *lines[11:]]),
        "accent-in-value": b"\r\n".join([*lines[:10], "28/10/2023 04:00;1é".encode(), *lines[11:]]),
        "spaces": b"\r\n".join([*lines[:10], b" 28/10/2023 04:00 ; 1 234,5 ", *lines[11:]]),
        "missing-dst-hour": load_curve_csv(
            date(2024, 3, 31), date(2024, 4, 1), french_dates=True
        ).replace(b"31/03/2024 03:00;", b"31/03/2024 02:30;"),
        "kw": base.replace(b";W;", b";kW;"),
        "field-too-many": b"\r\n".join([*lines[:10], lines[10] + b";;", *lines[11:]]),
        "thousands": b"\r\n".join([*lines[:10], b"28/10/2023 04:00;1 2 3", *lines[11:]]),
    }
    for name, data in cases.items():
        assert_same(data), name


def test_a_file_without_readings_fails_the_same_way() -> None:
    base = load_curve_csv(date(2023, 1, 1), date(2023, 1, 2))
    header_only = b"\r\n".join(base.split(b"\r\n")[:3]) + b"\r\n\r\n"
    for bulk in (True, False):
        with pytest.raises(ImportFailed, match="no readings after the header"):
            items(header_only, bulk=bulk)


def test_encoding_errors_keep_their_line() -> None:
    base = load_curve_csv(date(2023, 1, 1), date(2023, 1, 3))
    bad = replace_line(base, 20, b"01/01/2023 09:30;1\xff")  # BOM said UTF-8
    messages = []
    for bulk in (True, False):
        with pytest.raises(ImportFailed) as caught:
            items(bad, bulk=bulk)
        messages.append(str(caught.value))
    assert messages[0] == messages[1] and "line 20" in messages[0]


MUTABLE = [path.read_bytes() for path in SHIPPED]
PIECES = [
    b";",
    b",",
    b".",
    b"\r",
    b"\n",
    b"\r\n",
    b" ",
    b"0",
    b"9",
    b"-",
    b"+",
    b":",
    b"/",
    b"T",
    b"Z",
    b"e",
    b"nan",
    b"\xe9",
    b"\xc3\xa9",
    b"\x00",
    b"Periode",
    b'"',
    b"24",
    b"60",
]


@settings(max_examples=300, deadline=None)
@given(
    sample=st.sampled_from(range(len(MUTABLE))),
    edits=st.lists(
        st.tuples(st.floats(0.3, 1.0), st.integers(0, 3), st.sampled_from(PIECES)),
        min_size=1,
        max_size=4,
    ),
    batch_size=st.sampled_from([1, 5, 50_000]),
)
def test_mutated_samples_give_the_same_outcome(
    sample: int, edits: list[tuple[float, int, bytes]], batch_size: int
) -> None:
    """Bytes replaced, inserted or deleted in the data lines: the same items (or the
    same error) either way."""
    data = MUTABLE[sample]
    for where, cut, piece in edits:
        at = int(where * (len(data) - 1))
        data = data[:at] + piece + data[at + cut :]
    bulk = outcome(data, bulk=True, batch_size=batch_size)
    assert bulk == outcome(data, bulk=False, batch_size=batch_size)


LAYOUTS = [
    "{Y:04d}-{m:02d}-{d:02d}T{H:02d}:{M:02d}:{S:02d}{o}",
    "{Y:04d}-{m:02d}-{d:02d} {H:02d}:{M:02d}:{S:02d}{o}",
    "{Y:04d}-{m:02d}-{d:02d}T{H:02d}:{M:02d}:{S:02d}Z",
    "{Y:04d}-{m:02d}-{d:02d}T{H:02d}:{M:02d}:{S:02d}",
    "{Y:04d}-{m:02d}-{d:02d}T{H:02d}:{M:02d}",
    "{Y:04d}-{m:02d}-{d:02d}",
    "{d:02d}/{m:02d}/{Y:04d} {H:02d}:{M:02d}:{S:02d}",
    "{d:02d}/{m:02d}/{Y:04d} {H:02d}:{M:02d}",
    "{d:02d}/{m:02d}/{Y:04d}",
]
HEADERS = {
    "load_curve": "Courbe de charge;W;30",
    "daily_consumption": "Consommation quotidienne;kWh;",
}


@settings(max_examples=300, deadline=None)
@given(
    layout=st.sampled_from(LAYOUTS),
    kind=st.sampled_from(sorted(HEADERS)),
    rows=st.lists(
        st.tuples(
            st.sampled_from([1970, 2000, 2023, 2024, 2100, 9999]),
            st.integers(0, 13),
            st.integers(0, 32),
            st.sampled_from([0, 1, 2, 3, 23, 24]),
            st.sampled_from([0, 30, 59, 60]),
            st.sampled_from([0, 59, 60]),
            st.sampled_from(["+01:00", "+02:00", "-05:30", "+00:00", "+24:00", "+01:60"]),
        ),
        min_size=1,
        max_size=30,
    ),
    late_october=st.booleans(),
)
def test_random_timestamps_give_the_same_items(
    layout: str, kind: str, rows: list[tuple[int, int, int, int, int, int, str]], late_october: bool
) -> None:
    """Every layout, with dates and times in and out of range (and, often, the night of
    the October and March changes): the same items (or error) either way."""
    lines = [
        "Identifiant PRM;Type de donnees;Unite;Pas en minutes",
        f"09876543210987;{HEADERS[kind]}",
        "Horodate;Valeur",
    ]
    for number, (year, month, day, hour, minute, second, offset) in enumerate(rows):
        date_parts = {"Y": year, "m": month, "d": day}
        if late_october:  # the repeated hour, the skipped one
            date_parts = {"Y": 2023, "m": 10 if number % 2 else 3, "d": 29 if number % 2 else 26}
        stamp = layout.format(**date_parts, H=hour, M=minute, S=second, o=offset)
        lines.append(f"{stamp};{number},5")
    data = ("\r\n".join(lines) + "\r\n").encode()
    assert outcome(data, bulk=True, batch_size=4) == outcome(data, bulk=False, batch_size=4)
