"""GRDF gas (Excel workbook, published JSON) and water-meter CSV importers, through the
import runner on both engines."""

from __future__ import annotations

import io
import zipfile
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from selfdata.access import SpaceView
from selfdata.importers import ImportFailed, ImportReport, ImportRunner
from selfdata.importers.grdf import MAX_MEMBER
from selfdata.platform import Platform
from tests.conftest import make_space
from tests.samples.energy import PCE, daily_volumes, grdf_json, grdf_workbook

ENERGY = Path(__file__).resolve().parents[1] / "samples" / "energy"
REAL_GRDF = Path("/work/shared/sample-data/energy-grdf")
PARIS = ZoneInfo("Europe/Paris")


def run(view: SpaceView, data: bytes, name: str, **kwargs: object) -> ImportReport:
    return ImportRunner(view).run(io.BytesIO(data), name, **kwargs)  # type: ignore[arg-type]


def series(view: SpaceView) -> dict[str, tuple[dict[str, object], np.ndarray, np.ndarray]]:
    """reading_type → (meter, timestamps, values)."""
    found = {}
    for meter in view.iter_records("energy.meter"):
        (stream,) = view.streams("energy.reading", record_id=meter.id)
        frame = view.read_points(stream.id)
        found[str(meter.data["reading_type"])] = (meter.data, frame.ts, frame.columns["value"])
    return found


def midnight(day: str) -> int:
    return int(datetime.fromisoformat(day).replace(tzinfo=PARIS).timestamp())


def test_grdf_daily_workbook(platform: Platform) -> None:
    view = make_space(platform)
    data = grdf_workbook(days=40)
    report = run(view, data, "Donnees_informatives_PCE.xlsx")
    assert not report.refused, report.rejected
    assert report.importer == "grdf"
    assert report.counts["energy.meter"].created == 2
    found = series(view)
    meter, ts, kwh = found["daily_consumption"]
    assert meter == {**meter, "kind": "gas", "provider": "GRDF", "meter_id": PCE, "unit": "kWh"}
    volumes = daily_volumes(40)
    assert len(ts) == 40 and ts[0] == midnight("2024-01-01")
    np.testing.assert_allclose(kwh, [round(v * 11.2) for v in volumes])
    index_meter, its, index = found["daily_index"]
    assert index_meter["unit"] == "m3"
    # The start index of each day, and the end index of the last day on the day after.
    assert len(its) == 41 and its[-1] == midnight("2024-02-10")
    np.testing.assert_allclose(index, np.cumsum([12000, *volumes]))
    again = run(view, data, "Donnees_informatives_PCE.xlsx")
    assert again.source_existed and again.created == 0 and again.points_gained == 0


def test_grdf_rejected_rows_and_skip_invalid(platform: Platform) -> None:
    view = make_space(platform)
    rows = [
        ["01/01/2024", 100, 105, 5, 56, 11.2, None, "Mesuré"],
        ["32/01/2024", 105, 110, 5, 56, 11.2, None, "Mesuré"],  # row 11: no such day
        ["03/01/2024", 110, 115, 5, "beaucoup", 11.2, None, "Mesuré"],  # row 12
        ["04/01/2024", 115, 120, 5, 56, 11.2, None, "Estimé"],
    ]
    data = grdf_workbook(rows=rows)
    report = run(view, data, "gaz.xlsx")
    assert report.refused and report.source_id is None
    assert {(e.line, e.path) for e in report.rejected} == {(11, "Date de relevé"), (12, "Energie")}
    assert "beaucoup" in next(e.message for e in report.rejected if e.line == 12)
    assert view.summary() == []
    kept = run(view, data, "gaz.xlsx", skip_invalid=True)
    assert not kept.refused and kept.rejected_total == 2
    assert len(series(view)["daily_consumption"][1]) == 2


def test_grdf_weekly_and_bad_workbooks_write_nothing(platform: Platform) -> None:
    view = make_space(platform)
    with pytest.raises(ImportFailed, match="weekly or monthly totals"):
        run(view, grdf_workbook("weekly"), "hebdo.xlsx")
    with pytest.raises(ImportFailed, match="N° PCE: empty"):
        run(view, grdf_workbook(pce=""), "anonyme.xlsx")
    data = grdf_workbook()
    with pytest.raises(ImportFailed, match="truncated or corrupt"):
        run(view, data[: len(data) // 2], "cut.xlsx", format_name="grdf")
    # A zip bomb: a sheet declaring gigabytes is refused before anything is inflated.
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (MAX_MEMBER + 1))
    with pytest.raises(ImportFailed, match="inflates to 64 MiB"):
        run(view, bomb.getvalue(), "bomb.xlsx", format_name="grdf")
    assert view.summary() == []


def test_grdf_json(platform: Platform) -> None:
    view = make_space(platform)
    report = run(view, grdf_json(), "donnees_publiees.json")
    assert not report.refused, report.rejected
    assert report.importer == "grdf"
    found = series(view)
    _, ts, kwh = found["daily_consumption"]
    # Two one-day readings give daily energy; the month-long one gives none.
    assert list(ts) == [midnight("2024-01-01"), midnight("2024-01-02")]
    assert list(kwh) == [90, 78]
    _, its, index = found["daily_index"]
    assert list(index) == [100, 108, 115, 400] and its[-1] == midnight("2024-02-01")
    assert run(view, grdf_json(), "donnees_publiees.json").created == 0
    with pytest.raises(ImportFailed, match="not valid JSON"):
        run(view, grdf_json()[:-20], "cut.json", format_name="grdf")


@pytest.mark.skipif(not REAL_GRDF.is_dir(), reason="shared sample data not available")
def test_real_grdf_exports(platform: Platform) -> None:
    view = make_space(platform)
    daily = (REAL_GRDF / "PyGazpar__Donnees_informatives_PCE_DAILY.xlsx").read_bytes()
    with pytest.raises(ImportFailed, match="N° PCE: empty"):
        run(view, daily, "daily.xlsx")  # the shared export is anonymised
    report = run(view, daily, "daily.xlsx", options={"meter_id": "22423299474865"})
    assert not report.refused, report.rejected
    kwh = series(view)["daily_consumption"]
    assert len(kwh[1]) == 363 and kwh[1][0] == midnight("2020-11-24") and kwh[2][0] == 133
    published = (REAL_GRDF / "PyGazpar__donnees_publiees.json").read_bytes()
    report = run(view, published, "donnees_publiees.json")
    assert not report.refused, report.rejected
    assert report.counts["energy.meter"].unchanged == 1  # the same PCE's index meter
    for name in ("MONTHLY", "WEEKLY"):
        path = REAL_GRDF / f"PyGazpar__Donnees_informatives_PCE_{name}.xlsx"
        with pytest.raises(ImportFailed, match="weekly or monthly"):
            run(view, path.read_bytes(), path.name, options={"meter_id": "22423299474865"})


def test_water_index_windows_1252(platform: Platform) -> None:
    view = make_space(platform)
    data = (ENERGY / "water_index_cp1252.csv").read_bytes()
    report = run(view, data, "releves.csv", options={"meter_id": "W-0042"})
    assert not report.refused, report.rejected
    assert report.importer == "water.csv"
    meter, ts, values = series(view)["daily_index"]
    assert meter == {**meter, "kind": "water", "unit": "m3", "meter_id": "W-0042"}
    assert list(ts) == [midnight("2024-03-01"), midnight("2024-03-02"), midnight("2024-03-03")]
    np.testing.assert_allclose(values, [1234.567, 1234.702, 1234.85])
    assert run(view, data, "releves.csv", options={"meter_id": "W-0042"}).created == 0


def test_water_volume_in_litres(platform: Platform) -> None:
    view = make_space(platform)
    report = run(view, (ENERGY / "water_volume_litres.csv").read_bytes(), "conso.csv")
    assert not report.refused, report.rejected
    meter, ts, values = series(view)["daily_consumption"]
    assert meter["unit"] == "L" and meter["interval_s"] == 86_400
    # The empty day is a missing reading: no point.
    assert list(values) == [152, 98, 131] and ts[-1] == midnight("2024-03-04")


def test_water_column_mapping_options(platform: Platform) -> None:
    view = make_space(platform)
    data = (ENERGY / "water_custom_columns.csv").read_bytes()
    options = {"date_column": "Relevé du", "value_column": "3", "unit": "l", "kind": "volume"}
    report = run(view, data, "eau.csv", format_name="water.csv", options=options)
    assert not report.refused, report.rejected
    meter, _, values = series(view)["daily_consumption"]
    assert meter["unit"] == "L" and list(values) == [152, 98]
    wrong = {**options, "value_column": "Volume"}
    with pytest.raises(ImportFailed, match="no column 'Volume'"):
        run(view, data, "eau.csv", format_name="water.csv", options=wrong)
    with pytest.raises(ImportFailed, match="no date column"):
        run(view, data, "eau.csv", format_name="water.csv", options={"value_column": "3"})
    with pytest.raises(ImportFailed, match="expected l or m3"):
        run(view, data, "eau.csv", format_name="water.csv", options={**options, "unit": "gal"})


def test_water_rejected_rows(platform: Platform) -> None:
    view = make_space(platform)
    data = b"Date;Index (m3)\n01/03/2024;10,5\n2024-13-01;11\n03/03/2024;-4\n04/03/2024;douze\n"
    report = run(view, data, "eau.csv")
    assert report.refused
    assert {(e.line, e.path) for e in report.rejected} == {
        (3, "Date"),
        (4, "Index (m3)"),
        (5, "Index (m3)"),
    }
    assert view.summary() == []
    kept = run(view, data, "eau.csv", skip_invalid=True)
    assert kept.rejected_total == 3 and kept.counts["energy.reading"].points_gained == 1
    with pytest.raises(ImportFailed, match="no readings after the header"):
        run(make_space(platform, "bob"), b"Date;Index (m3)\n", "eau.csv", format_name="water.csv")
