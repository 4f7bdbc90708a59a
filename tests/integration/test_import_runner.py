"""The import runner itself: one parse when the items fit the replay budget (two past
it, with the same outcome), validation the writing pass relies on, the space's time
zone handed to the parsers, and a zip never taken for the text it holds."""

from __future__ import annotations

import gc
import io
import zipfile
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any, BinaryIO, ClassVar

import numpy as np
import pytest

from selfdata.access import SpaceView
from selfdata.clock import FixedClock
from selfdata.importers import (
    ImportContext,
    Importer,
    ImporterRegistry,
    ImportRunner,
    Item,
    RecordBatch,
    RecordRow,
    SeriesChunk,
)
from selfdata.importers.runner import HEAD
from selfdata.platform import Platform, init_instance
from tests.conftest import make_space

SAMPLES = Path(__file__).parent.parent / "samples"
METER = {
    "kind": "electricity",
    "provider": "Test",
    "meter_id": "12345678901234",
    "unit": "W",
    "reading_type": "load_curve",
}


class Counting(Importer):
    """A plugin that counts how often its file is parsed: one meter, its points."""

    name = "test.counting"
    version = "1"
    description: ClassVar[dict[str, str]] = {"fr": "test", "en": "test"}
    doctypes = ("energy.meter", "energy.reading")

    def __init__(self, points: int = 1000, doctype: str = "energy.meter") -> None:
        self.points, self.doctype, self.parses = points, doctype, 0

    def sniff(self, head: bytes, filename: str) -> float:
        return 0.99 if head.startswith(b"COUNTING") else 0.0

    def parse(self, stream: BinaryIO, context: ImportContext) -> Iterator[Item]:
        self.parses += 1
        stream.read()
        yield RecordBatch(self.doctype, [RecordRow(1, dict(METER), ref="meter")])
        ts = 1_700_000_000 + 1800 * np.arange(self.points, dtype=np.int64)
        values = np.arange(self.points, dtype=np.float64).reshape(-1, 1)
        yield SeriesChunk("energy.reading", "meter", ts, values, first_line=2)


def run_counting(view: SpaceView, importer: Counting, **runner: Any) -> Any:
    registry = ImporterRegistry([importer])
    return ImportRunner(view, registry, **runner).run(io.BytesIO(b"COUNTING\n"), "c.txt")


def test_items_within_the_budget_are_parsed_once_and_written(platform: Platform) -> None:
    view = make_space(platform)
    importer = Counting()
    report = run_counting(view, importer)
    assert importer.parses == 1
    assert report.counts["energy.meter"].created == 1
    assert report.counts["energy.reading"].points_gained == 1000
    (stream,) = view.streams("energy.reading")
    frame = view.read_points(stream.id)
    (column,) = frame.columns.values()
    assert len(frame.ts) == 1000 and float(column[-1]) == 999.0


def test_items_over_the_budget_are_parsed_again_with_the_same_outcome(
    sqlite_platform: Platform,
) -> None:
    small, big = make_space(sqlite_platform, "small"), make_space(sqlite_platform, "big")
    kept, again = Counting(), Counting()
    once = run_counting(small, kept)
    twice = run_counting(big, again, replay_budget=4096)  # 1,000 points: 16 KB
    assert (kept.parses, again.parses) == (1, 2)
    assert twice.as_dict()["counts"] == once.as_dict()["counts"]
    assert [r.data for r in big.iter_records("energy.meter")] == [
        r.data for r in small.iter_records("energy.meter")
    ]
    # Re-importing with replay merges into the same series: nothing gained.
    assert run_counting(big, Counting()).points_gained == 0


def test_records_of_a_series_doctype_are_refused_before_anything_is_written(
    sqlite_platform: Platform,
) -> None:
    view = make_space(sqlite_platform)
    report = run_counting(view, Counting(doctype="energy.reading"))
    assert report.refused and report.source_id is None
    assert "series doctype" in report.rejected[0].message
    assert report.rejected[0].line == 1
    assert view.streams("energy.reading") == [] and list(view.iter_records("energy.meter")) == []


def test_a_kept_file_is_stored_from_the_replayed_items(sqlite_platform: Platform) -> None:
    view = make_space(sqlite_platform)
    data = (SAMPLES / "papers" / "facture.pdf").read_bytes()
    runner = ImportRunner(view)
    report = runner.run(io.BytesIO(data), "facture.pdf")
    assert not report.refused and report.files_stored == 1
    (paper,) = list(view.iter_records("paper.document"))
    _info, chunks = view.open_file(paper.data["file_id"])
    assert b"".join(chunks) == data
    again = ImportRunner(view, replay_budget=0).run(io.BytesIO(data), "facture.pdf")
    assert again.files_unchanged == 1 and again.counts["paper.document"].unchanged == 1


# -- the space's time zone ------------------------------------------------------------


@pytest.fixture
def utc_platform(tmp_path: Path, clock: FixedClock) -> Iterator[Platform]:
    """An instance whose new spaces live in UTC."""
    settings, _ = init_instance(tmp_path / "utc-home")
    instance = Platform.open(replace(settings, timezone="UTC"), clock=clock)
    try:
        yield instance
    finally:
        instance.close()


def test_records_json_months_are_cut_in_the_spaces_time_zone(
    utc_platform: Platform, sqlite_platform: Platform
) -> None:
    data = (SAMPLES / "mobility" / "Records.json").read_bytes()
    utc, paris = make_space(utc_platform), make_space(sqlite_platform)
    assert (utc.timezone(), paris.timezone()) == ("UTC", "Europe/Paris")
    for view in (utc, paris):
        assert not ImportRunner(view).run(io.BytesIO(data), "Records.json").refused

    def months(view: SpaceView) -> list[str]:
        return sorted(r.data["track_id"] for r in view.iter_records("mobility.track"))

    # The first point, 23:30 UTC on December 31, is December in UTC, January in Paris.
    assert months(utc) == ["2023-12", "2024-01"]
    assert months(paris) == ["2024-01"]


# -- a zip is never taken for the text it holds ------------------------------------------


def stored_zip(name: str, content: bytes) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr(name, content)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("sample", "member_format"),
    [("bank/ofx1_sgml_cp1252.ofx", "ofx"), ("bank/camt053_v08.xml", "camt.053")],
)
def test_a_stored_zip_goes_to_the_zip_importer(
    sqlite_platform: Platform, sample: str, member_format: str
) -> None:
    content = (SAMPLES / sample).read_bytes()
    data = stored_zip(Path(sample).name, content)
    registry = ImporterRegistry.discover()
    head = data[:HEAD]
    assert registry.get(member_format).sniff(head, "x.zip") > 0  # the sniffer alone bites
    assert registry.detect(head, "x.zip").name == "zip"
    assert registry.detect(content[:HEAD], Path(sample).name).name == member_format
    report = ImportRunner(make_space(sqlite_platform), registry).run(io.BytesIO(data), "x.zip")
    assert report.importer == "zip" and not report.refused
    assert [m.importer for m in report.members] == [member_format]  # type: ignore[attr-defined]
    assert report.counts["bank.transaction"].created > 0


class Watching(Counting):
    """Notes the collector's thresholds while it parses."""

    def parse(self, stream: BinaryIO, context: ImportContext) -> Iterator[Item]:
        self.seen = gc.get_threshold()
        yield from super().parse(stream, context)


def test_full_collections_are_rarer_during_an_import_only(sqlite_platform: Platform) -> None:
    before = gc.get_threshold()
    importer = Watching()
    run_counting(make_space(sqlite_platform), importer)
    assert importer.seen[:2] == before[:2] and importer.seen[2] >= 1000
    assert gc.get_threshold() == before
