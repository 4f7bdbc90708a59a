"""Importing export files: the framework (detection, provenance, validation first,
idempotence) and the Enedis importers, on both database engines."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from selfdata.access import SpaceView
from selfdata.importers import ImportFailed, ImportReport, ImportRunner, UnknownFormat
from selfdata.platform import Platform
from tests.conftest import make_space
from tests.samples.enedis import PRM, load_curve_csv, load_curve_values

SAMPLES = Path(__file__).resolve().parents[1] / "samples" / "enedis"
REAL = Path("/work/shared/sample-data/energy-enedis")
YEAR = 365 * 48  # 2023: half-hours in a year, whatever the DST changes


def run(view: SpaceView, data: bytes, name: str = "export.csv", **kwargs: object) -> ImportReport:
    return ImportRunner(view).run(io.BytesIO(data), name, **kwargs)  # type: ignore[arg-type]


def curve(view: SpaceView) -> tuple[np.ndarray, np.ndarray]:
    (stream,) = view.streams("energy.reading")
    frame = view.read_points(stream.id)
    return frame.ts, frame.columns["value"]


def assert_empty(view: SpaceView) -> None:
    assert view.summary() == []


@pytest.mark.parametrize(
    ("encoding", "french_dates"), [("cp1252", True), ("utf-8-sig", False)], ids=["1252", "bom"]
)
def test_a_year_of_load_curve_with_both_dst_changes(
    platform: Platform, encoding: str, french_dates: bool
) -> None:
    view = make_space(platform)
    data = load_curve_csv(
        date(2023, 1, 1), date(2024, 1, 1), encoding=encoding, french_dates=french_dates
    )
    report = run(view, data, "Enedis_Conso_Heure.csv")
    assert not report.refused and report.importer == "enedis.load_curve"
    assert report.counts["energy.meter"].created == 1
    assert report.counts["energy.reading"].points_gained == YEAR
    ts, values = curve(view)
    # Every half-hour of the year once, in UTC, starting at local midnight (23:00 UTC).
    assert ts[0] == int(datetime(2022, 12, 31, 23, tzinfo=UTC).timestamp())
    assert np.all(np.diff(ts) == 1800) and len(ts) == YEAR
    np.testing.assert_allclose(values, load_curve_values(YEAR))
    # Provenance: the meter carries the source; the source describes the file.
    (meter,) = view.iter_records("energy.meter")
    assert meter.source_id == report.source_id
    assert meter.data["meter_id"] == PRM and meter.data["unit"] == "W"
    assert report.source_id is not None
    source = view.source(report.source_id)
    assert source.kind == "file"
    assert source.detail["filename"] == "Enedis_Conso_Heure.csv"
    assert source.detail["importer"] == "enedis.load_curve"
    assert source.detail["importer_version"] == "1.0"
    (stream,) = view.streams("energy.reading")
    assert stream.source_id == report.source_id and stream.record_id == meter.id


def test_reimport_is_idempotent_and_series_merge(platform: Platform) -> None:
    view = make_space(platform)
    first = (SAMPLES / "load_curve_dst_october_cp1252.csv").read_bytes()
    report = run(view, first)
    assert report.counts["energy.reading"].points_gained == 3 * 48 + 2  # 25-hour Sunday
    again = run(view, first)
    assert again.source_existed and again.source_id == report.source_id
    assert again.created == 0 and again.points_gained == 0
    assert again.counts["energy.meter"].unchanged == 1
    # The same days in another file (UTF-8, ISO stamps): a new source, nothing new.
    other = load_curve_csv(date(2023, 10, 28), date(2023, 10, 31), french_dates=False)
    third = run(view, other)
    assert not third.source_existed and third.points_gained == 0
    # Overlapping and later days merge into the same series.
    later = load_curve_csv(date(2023, 10, 30), date(2023, 11, 2))
    assert run(view, later).points_gained == 2 * 48
    ts, _ = curve(view)
    assert len(ts) == 5 * 48 + 2 and np.all(np.diff(ts) == 1800)


def test_march_dst_and_daily_formats(platform: Platform) -> None:
    view = make_space(platform)
    march = run(view, (SAMPLES / "load_curve_dst_march_utf8bom.csv").read_bytes())
    assert march.counts["energy.reading"].points_gained == 2 * 48 - 2  # 23-hour Sunday
    daily = run(view, (SAMPLES / "daily_consumption_cp1252.csv").read_bytes(), "conso.csv")
    assert daily.importer == "enedis.daily_consumption"
    assert daily.counts["energy.reading"].points_gained == 10
    index = run(view, (SAMPLES / "daily_index_utf8bom.csv").read_bytes(), "index.csv")
    assert index.importer == "enedis.daily_index"
    assert index.counts["energy.reading"].points_gained == 7  # the calendar block ignored
    meters = {m.data["reading_type"]: m for m in view.iter_records("energy.meter")}
    assert meters["daily_consumption"].data["unit"] == "kWh"
    assert meters["daily_index"].data["unit"] == "Wh"
    (stream,) = view.streams("energy.reading", record_id=meters["daily_index"].id)
    frame = view.read_points(stream.id)
    # Stamped 01:00+01:00/+02:00 by Enedis; stored at local midnight, across the change.
    assert [datetime.fromtimestamp(int(t), UTC).hour for t in frame.ts] == [23] * 4 + [22] * 3
    assert frame.columns["value"][0] == 18_000_000
    (stream,) = view.streams("energy.reading", record_id=meters["daily_consumption"].id)
    assert view.read_points(stream.id).columns["value"][1] == pytest.approx(9.25)


def _with_problems() -> bytes:
    lines = load_curve_csv(date(2023, 10, 28), date(2023, 10, 29), encoding="utf-8").split(b"\r\n")
    lines[9] = lines[9].split(b";")[0] + b";douze"  # line 10: not a number
    lines[14] = b"31/02/2023 10:00;300"  # line 15: no such date
    return b"\r\n".join(lines)


def test_all_or_nothing_by_default(platform: Platform) -> None:
    view = make_space(platform)
    report = run(view, _with_problems())
    assert report.refused and report.source_id is None
    problems = {(e.line, e.path) for e in report.rejected}
    assert problems == {(10, "Valeur"), (15, "Horodate")}
    assert "douze" in report.rejected[0].message
    assert_empty(view)


def test_skip_invalid_keeps_the_valid_rows(platform: Platform) -> None:
    view = make_space(platform)
    report = run(view, _with_problems(), skip_invalid=True)
    assert not report.refused and report.rejected_total == 2
    assert report.counts["energy.reading"].points_gained == 48 - 2
    assert {(e.line, e.path) for e in report.rejected} == {(10, "Valeur"), (15, "Horodate")}


def test_an_invalid_record_refuses_the_file_with_line_and_field(platform: Platform) -> None:
    view = make_space(platform)
    data = load_curve_csv(date(2023, 1, 1), date(2023, 1, 2), prm="1429xxxxxxxxxx")
    report = run(view, data)
    assert report.refused
    (error,) = report.rejected
    assert error.line == 2 and error.path == "meter_id" and "14-digit" in error.message
    assert_empty(view)
    fixed = run(view, data, options={"meter_id": PRM})
    assert fixed.counts["energy.reading"].points_gained == 48


@pytest.mark.parametrize(
    ("data", "error", "message"),
    [
        (b"", UnknownFormat, "not recognised"),
        (b"date,amount\n2024-01-01,3\n", UnknownFormat, "not recognised"),
        ("Identifiant PRM;Type de donnees\n".encode("utf-16"), UnknownFormat, "not recognised"),
    ],
    ids=["empty", "other-csv", "utf-16"],
)
def test_unknown_formats(
    platform: Platform, data: bytes, error: type[Exception], message: str
) -> None:
    view = make_space(platform)
    with pytest.raises(error, match=message):
        run(view, data)
    assert_empty(view)


def test_bad_files_fail_clearly_and_write_nothing(platform: Platform) -> None:
    view = make_space(platform)
    full = load_curve_csv(date(2023, 1, 1), date(2023, 1, 2))
    header_only = b"\r\n".join(full.split(b"\r\n")[:3])
    with pytest.raises(ImportFailed, match="no readings after the header"):
        run(view, header_only)
    with pytest.raises(ImportFailed, match="ends before its column header"):
        run(view, b"\r\n".join(full.split(b"\r\n")[:2]))
    # Cut in the middle of a line: that line is reported, the import refused.
    truncated = full[: full.index(b"2023-01-01T05:30") + 13]
    report = run(view, truncated)
    assert report.refused and (report.rejected[0].line, report.rejected[0].path) == (14, "line")
    # Forced on a UTF-16 file: the encoding is named, with the line.
    with pytest.raises(ImportFailed, match="line 1, encoding: NUL bytes"):
        run(view, full.decode("utf-8-sig").encode("utf-16"), format_name="enedis.load_curve")
    # The wrong importer for the file's kind of data.
    with pytest.raises(ImportFailed, match="Type de donnees"):
        run(view, full, format_name="enedis.daily_index")
    with pytest.raises(ImportFailed, match="longer than 64 KiB"):
        run(view, full[:200] + b"9" * 70_000, format_name="enedis.load_curve")
    assert_empty(view)


@pytest.mark.skipif(not REAL.is_dir(), reason="shared Enedis samples not available")
def test_real_enedis_exports(platform: Platform) -> None:
    view = make_space(platform)
    curve_2022 = REAL / "guiEDF__Enedis_Conso_Heure_20221024-20240725_1429xxxxxxxxxx.csv"
    curve_2023 = REAL / "guiEDF__Enedis_Conso_Heure_20230809-20240725_1429xxxxxxxxxx.csv"
    days = REAL / "guiEDF__Enedis_Conso_Jour_20240109-20240725_1429xxxxxxxxxx.csv"
    # The published files mask the PRM: refused, on the right line and field.
    masked = run(view, curve_2022.read_bytes(), curve_2022.name)
    assert masked.refused and [(e.line, e.path) for e in masked.rejected] == [(2, "meter_id")]
    options = {"meter_id": "14290000000000"}
    report = run(view, curve_2022.read_bytes(), curve_2022.name, options=options)
    # 27,666 rows, one of them empty (a missing value, 2023-03-18T00:00).
    assert report.counts["energy.reading"].points_gained == 27_665
    ts, _ = curve(view)
    assert ts[0] == int(datetime(2022, 10, 23, 22, tzinfo=UTC).timestamp())
    gaps = np.diff(ts)
    assert gaps.min() == 1800 and np.all(gaps % 1800 == 0)  # in order; holes where data is
    # The days of the clock changes, local midnight to local midnight: 23 h and 25 h.
    paris = ZoneInfo("Europe/Paris")
    for day, hours in ((date(2023, 3, 26), 23), (date(2023, 10, 29), 25)):
        start = int(datetime(day.year, day.month, day.day, tzinfo=paris).timestamp())
        inside = ts[(ts >= start) & (ts < start + hours * 3600)]
        assert len(inside) == hours * 2 and np.all(np.diff(inside) == 1800)
    # The later file is a subset of the first: nothing new.
    assert run(view, curve_2023.read_bytes(), curve_2023.name, options=options).points_gained == 0
    index = run(view, days.read_bytes(), days.name, options=options)
    assert index.importer == "enedis.daily_index"
    assert index.counts["energy.reading"].points_gained == 198


def test_the_cli_imports_as_the_citizen(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from selfdata.cli import app

    cli = CliRunner()
    home = tmp_path / "instance"

    def call(*args: str, stdin: str | None = None) -> tuple[int, str]:
        result = cli.invoke(app, ["--home", str(home), *args], input=stdin)
        return result.exit_code, result.output + (result.stderr if result.stderr_bytes else "")

    assert call("init")[0] == 0
    password = "a long enough password"
    assert call("space", "create", "alice", "--password-stdin", stdin=password + "\n")[0] == 0
    code, out = call("import", "--list-formats")
    assert code == 0 and "enedis.load_curve" in out and "enedis.daily_index" in out
    sample = str(SAMPLES / "load_curve_dst_october_cp1252.csv")
    code, out = call("import", sample, "--space", "alice", "--password-stdin", stdin="wrong\n")
    assert code == 1 and "wrong password" in out
    args = ("import", sample, "--space", "alice", "--password-stdin")
    code, out = call(*args, stdin=password + "\n")
    assert code == 0 and "imported" in out and "146 new" in out, out
    code, out = call(*args, stdin=password + "\n")
    assert code == 0 and "imported before" in out and "0 new" in out
    bad = tmp_path / "bad.csv"
    bad.write_bytes(_with_problems())
    code, out = call(
        "import", str(bad), "--space", "alice", "--password-stdin", stdin=password + "\n"
    )
    assert code == 1 and "line 10" in out and "nothing was saved" in out
    code, out = call(
        "import",
        str(bad),
        "--space",
        "alice",
        "--skip-invalid",
        "--password-stdin",
        stdin=password + "\n",
    )
    assert code == 0 and "imported" in out and "line 15" in out
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n")
    code, out = call(
        "import", str(other), "--space", "alice", "--password-stdin", stdin=password + "\n"
    )
    assert code == 1 and "not recognised" in out and "Traceback" not in out
