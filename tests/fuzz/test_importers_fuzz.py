"""Every importer against hostile files: truncated, corrupted, re-encoded, huge lines,
hostile XML, random bytes.

Parametrized over every importer :meth:`ImporterRegistry.discover` finds, so a new
importer is fuzzed as soon as it is declared. Whatever the input, an import must end
in one of two ways — an :class:`InvalidInput` (``ImportFailed``, ``UnknownFormat``…)
with a message, or a report (possibly refused, possibly with rejected rows) — never
another exception, never a hang; and a refused or failed import leaves the space as
it was.

Seeds: the valid samples of each format, in :data:`SEEDS` (one table; a format without
a sample yet is fuzzed with random and hostile inputs only).
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from selfdata.access import SpaceView
from selfdata.clock import FixedClock
from selfdata.errors import InvalidInput
from selfdata.importers import ImporterRegistry, ImportReport, ImportRunner
from selfdata.importers.runner import ArchiveReport
from selfdata.platform import Platform, init_instance
from tests.conftest import make_space

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
REGISTRY = ImporterRegistry.discover()
FORMATS = REGISTRY.names()

#: THE table: format → its valid samples (paths under tests/samples).
SEEDS: dict[str, tuple[str, ...]] = {
    "enedis.load_curve": (
        "enedis/load_curve_dst_march_utf8bom.csv",
        "enedis/load_curve_dst_october_cp1252.csv",
    ),
    "enedis.daily_consumption": ("enedis/daily_consumption_cp1252.csv",),
    "enedis.daily_index": ("enedis/daily_index_utf8bom.csv",),
    "ofx": ("bank/ofx1_sgml_cp1252.ofx", "bank/ofx2_xml.ofx"),
    "camt.053": ("bank/camt053_v02.xml", "bank/camt053_v08.xml"),
    "camt.052": ("bank/camt052_v08.xml",),
    "camt.054": ("bank/camt054_v02.xml",),
    "bank.csv": (
        "bank/boursorama_2022.csv",
        "bank/caisse_epargne_cp1252.csv",
        "bank/revolut.csv",
        "bank/credit_agricole_cp1252.csv",
        "bank/banque_postale.csv",
        "bank/bnp_paribas.csv",
        "bank/boursorama_2019.csv",
        "bank/fortuneo_cp1252.csv",
    ),
    "grdf": ("energy/grdf_donnees_publiees.json",),
    "water.csv": ("energy/water_index_cp1252.csv", "energy/water_volume_litres.csv"),
    "fhir": ("health/bundle_r4.json", "health/resources.ndjson"),
    "apple.health": ("health/apple_export.xml",),
    "ical": ("calendar/agenda.ics",),
    "vcard": ("contacts/address_book.vcf",),
    "pdf": ("papers/facture.pdf",),
    "zip": ("papers/takeout_small.zip",),
    "gpx": ("mobility/gpx10_track.gpx", "mobility/track_segments_missing_ele.gpx"),
    "geojson": ("mobility/points_and_lines.geojson", "mobility/overland_batch.json"),
    "google.records": ("mobility/Records.json",),
    "google.semantic": ("mobility/2024_JANUARY.json",),
    "google.timeline": ("mobility/timeline_android.json", "mobility/timeline_ios.json"),
    "mt940": ("bank/mt940_german_latin1.sta", "bank/mt942_intraday.sta"),
    "owntracks": ("mobility/owntracks_2024-05.rec",),
    "gpslogger.csv": ("mobility/gpslogger_20240615.csv",),
}


#: Known problems found by this module, left to the importers' owners: (test, format) →
#: what fails. Each is an expected failure, not run (shrinking a failure takes seconds
#: the time budget does not have). Remove an entry when it is fixed.
KNOWN: dict[tuple[str, str], str] = {}


def _known(test: str, name: str) -> list[Any]:
    if (test, name) not in KNOWN:
        return []
    return [pytest.mark.xfail(run=False, reason=KNOWN[test, name])]


def seed_cases(test: str) -> list[Any]:
    """(format, sample) for every sample of a declared format."""
    return [
        pytest.param(name, path, id=f"{name}:{Path(path).name}", marks=_known(test, name))
        for name, paths in SEEDS.items()
        if name in FORMATS
        for path in paths
        if (SAMPLES / path).is_file()
    ]


def formats(test: str) -> list[Any]:
    """Every declared format, with the known problems of ``test`` marked."""
    return [pytest.param(name, id=name, marks=_known(test, name)) for name in FORMATS]


FUZZ = settings(
    max_examples=15,
    deadline=None,
    derandomize=True,  # the same examples on every run: a CI failure can be replayed
    database=None,  # no .hypothesis directory in the tree
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
HUGE = 50 * 1024 * 1024
HUGE_PEAK = 256 * 1024 * 1024  # resident memory grown on top of the 50 MB input, at most
HUGE_SECONDS = 15  # about 4 s for the slowest parser today (OFX, PDF), on a busy machine


@pytest.fixture(scope="module")
def view(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SpaceView]:
    """One SQLite instance and space for the whole module (building one per example
    would take most of the time budget); each check compares the space before/after."""
    home = tmp_path_factory.mktemp("fuzz") / "home"
    settings_, _ = init_instance(home)
    instance = Platform.open(settings_, clock=FixedClock(datetime(2026, 3, 1, tzinfo=UTC)))
    try:
        yield make_space(instance, "fuzz")
    finally:
        instance.close()


def state(view: SpaceView) -> list[dict[str, Any]]:
    return [s.as_dict() for s in view.summary()]


def outcome(
    view: SpaceView, data: bytes, filename: str, format_name: str | None = None, **kwargs: Any
) -> ImportReport | InvalidInput:
    """Import ``data``; check it ended as allowed and that a refusal wrote nothing."""
    before = state(view)
    try:
        report = ImportRunner(view, REGISTRY).run(
            io.BytesIO(data), filename, format_name=format_name, **kwargs
        )
    except InvalidInput as exc:  # ImportFailed, UnknownFormat, ValidationFailed…
        failure = exc
    else:
        failure = None
    if failure is not None:
        assert str(failure).strip(), "a failure says what is wrong"
        assert "Traceback" not in str(failure)
        assert state(view) == before, "a failed import wrote something"
        return failure
    if report.refused:
        assert report.rejected_total > 0 and report.rejected
        assert all(e.message for e in report.rejected)
        # An archive is all or nothing per member: the others may have been imported.
        members = report.members if isinstance(report, ArchiveReport) else [report]
        if all(member.refused for member in members):
            assert state(view) == before, "a refused import wrote something"
    return report


def both_ways(view: SpaceView, data: bytes, name: str, format_name: str) -> None:
    """Forced to the format, then detected, then with skip_invalid."""
    filename = f"fuzzed{Path(name).suffix}"
    outcome(view, data, filename, format_name)
    outcome(view, data, filename)
    outcome(view, data, filename, format_name, skip_invalid=True)


def seed(path: str) -> bytes:
    return (SAMPLES / path).read_bytes()


def test_every_declared_importer_is_fuzzed() -> None:
    assert {"enedis.load_curve", "ofx", "camt.053"} <= set(FORMATS)
    assert seed_cases("valid"), "the samples are missing"


# -- from valid samples ---------------------------------------------------------------


@pytest.mark.timeout(60)
@pytest.mark.parametrize(("format_name", "path"), seed_cases("valid"))
def test_the_valid_sample_imports(view: SpaceView, format_name: str, path: str) -> None:
    result = outcome(view, seed(path), Path(path).name, format_name)
    assert isinstance(result, ImportReport) and not result.refused, result


@pytest.mark.timeout(60)
@pytest.mark.parametrize(("format_name", "path"), seed_cases("truncated"))
@FUZZ
@given(fraction=st.floats(0, 1))
def test_truncated_samples(view: SpaceView, format_name: str, path: str, fraction: float) -> None:
    data = seed(path)
    both_ways(view, data[: int(len(data) * fraction)], path, format_name)


@pytest.mark.timeout(60)
@pytest.mark.parametrize(("format_name", "path"), seed_cases("corrupted"))
@FUZZ
@given(st.data())
def test_corrupted_samples(view: SpaceView, format_name: str, path: str, data: Any) -> None:
    content = bytearray(seed(path))
    flips = data.draw(
        st.lists(st.tuples(st.integers(0, len(content) - 1), st.integers(0, 255)), max_size=8)
    )
    for position, byte in flips:
        content[position] = byte
    both_ways(view, bytes(content), path, format_name)


def _cp1252(raw: bytes) -> bool:
    try:
        raw.decode("cp1252")
    except UnicodeDecodeError:
        return False
    return True


@pytest.mark.timeout(60)
@pytest.mark.parametrize(("format_name", "path"), seed_cases("encodings"))
@pytest.mark.parametrize("encoding", ["utf-16", "utf-32-be", "utf-16-le"])
def test_wrong_encodings(view: SpaceView, format_name: str, path: str, encoding: str) -> None:
    raw = seed(path)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        # Latin-1 for binary seeds (a zip, a PDF): every byte is a character.
        text = raw.decode("cp1252", errors="strict") if _cp1252(raw) else raw.decode("latin-1")
    both_ways(view, text.encode(encoding), path, format_name)


# -- from nothing -------------------------------------------------------------------------


@pytest.mark.timeout(60)
@pytest.mark.parametrize("format_name", formats("random-bytes"))
@FUZZ
@given(content=st.binary(max_size=2048))
def test_random_bytes(view: SpaceView, format_name: str, content: bytes) -> None:
    both_ways(view, content, "random.bin", format_name)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("format_name", formats("random-text"))
@FUZZ
@given(text=st.text(alphabet=";,.:<>/=&\n\r\t 0123456789-+TZAaéÉ\u00a0\ufeff", max_size=800))
def test_random_text(view: SpaceView, format_name: str, text: str) -> None:
    both_ways(view, text.encode("utf-8"), "random.txt", format_name)


def _memory_kib(field: str) -> int:
    """``VmRSS`` (now) or ``VmHWM`` (peak since the last reset) of this process."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise LookupError(field)


def _reset_peak() -> bool:
    # Linux: writing 5 to clear_refs resets VmHWM. Cheaper than tracemalloc, which
    # slows allocation-heavy parsers tenfold and would distort the time measured.
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


@pytest.mark.timeout(30)
@pytest.mark.parametrize("format_name", formats("huge-line"))
def test_a_huge_line_stays_bounded(view: SpaceView, format_name: str) -> None:
    """Half a valid file, then 50 MB without a newline (or 50 MB alone)."""
    paths = SEEDS.get(format_name, ())
    head = seed(paths[0])[: len(seed(paths[0])) // 2] if paths else b""
    data = head + b"A" * HUGE
    measured = _reset_peak()
    before = _memory_kib("VmRSS")
    started = time.monotonic()
    outcome(view, data, "huge.txt", format_name)
    seconds = time.monotonic() - started
    assert seconds < HUGE_SECONDS, f"{format_name}: {seconds:.1f} s for a huge line"
    if measured:
        grown = (_memory_kib("VmHWM") - before) * 1024
        assert grown < HUGE_PEAK, f"{format_name}: {grown / 2**20:.0f} MiB more for a huge line"


# -- hostile XML --------------------------------------------------------------------------

_CAMT = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"
_LAUGHS = '<!ENTITY lol "lol">' + "".join(
    f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10 if i > 1 else "&lol;" * 10}">' for i in range(1, 10)
)


def _xml(doctype: str, body: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE Document [{doctype}]>\n'
        f'<Document xmlns="{_CAMT}"><BkToCstmrStmt><GrpHdr><MsgId>{body}</MsgId>'
        "</GrpHdr></BkToCstmrStmt></Document>\n"
    ).encode()


def _ofx(doctype: str, body: str) -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE OFX [{doctype}]>\n'
        '<?OFX OFXHEADER="200" VERSION="220" SECURITY="NONE" OLDFILEUID="NONE" '
        'NEWFILEUID="NONE"?>\n'
        f"<OFX><SIGNONMSGSRSV1><SONRS><FI><ORG>{body}</ORG></FI></SONRS></SIGNONMSGSRSV1></OFX>\n"
    ).encode()


HOSTILE = {
    "billion-laughs-camt": _xml(_LAUGHS, "&lol9;"),
    "billion-laughs-ofx": _ofx(_LAUGHS, "&lol9;"),
    "external-entity-camt": _xml('<!ENTITY xxe SYSTEM "file:///etc/passwd">', "&xxe;"),
    "external-entity-ofx": _ofx('<!ENTITY xxe SYSTEM "file:///etc/passwd">', "&xxe;"),
    "external-dtd": _xml('<!ENTITY % ext SYSTEM "http://127.0.0.1:9/evil.dtd"> %ext;', "x"),
    "quadratic-blowup": _xml(f'<!ENTITY a "{"a" * 50_000}">', "&a;" * 50_000),
    "deep-nesting": (
        f'<?xml version="1.0"?><Document xmlns="{_CAMT}">'
        + "<BkToCstmrStmt>" * 100_000
        + "</BkToCstmrStmt>" * 100_000
        + "</Document>"
    ).encode(),
}


@pytest.mark.timeout(30)
@pytest.mark.parametrize("format_name", formats("hostile-xml"))
@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_hostile_xml(view: SpaceView, format_name: str, kind: str) -> None:
    started = time.monotonic()
    before = state(view)
    both_ways(view, HOSTILE[kind], f"{kind}.xml", format_name)
    assert time.monotonic() - started < 10
    # Whatever was accepted, nothing of the server's files came in.
    for summary in state(view):
        if summary not in before and summary.get("kind") == "record":
            for record in view.iter_records(summary["doctype"]):
                assert "root:" not in str(record.data)


@pytest.mark.timeout(30)
@pytest.mark.parametrize("format_name", formats("xml-encoding"))
def test_an_unknown_xml_encoding(view: SpaceView, format_name: str) -> None:
    # Forced only: detected, it is a CAMT.053 (by its namespace), known to fail.
    outcome(view, _xml("", "x").replace(b"UTF-8", b"ATF-8"), "statement.xml", format_name)
