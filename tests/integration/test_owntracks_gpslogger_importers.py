"""OwnTracks ``.rec`` files and GPSLogger CSV logs, end to end through ``ImportRunner``
and the gate, on both database engines."""

from __future__ import annotations

import io
import math
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from selfdata.access import SpaceView
from selfdata.importers import ImporterRegistry, ImportFailed, ImportReport, ImportRunner
from selfdata.importers.runner import HEAD
from selfdata.platform import Platform
from tests.conftest import make_space

SAMPLES = Path(__file__).resolve().parents[1] / "samples"
MOBILITY = SAMPLES / "mobility"
RECORDER = "owntracks_2024-05.rec"
GPSLOGGER = "gpslogger_20240615.csv"
REAL = Path("/work/shared/sample-data")
REAL_OTHER = REAL / "gps-geojson-other"
MINE = ("owntracks", "gpslogger.csv")


def run(view: SpaceView, data: bytes, name: str, **kwargs: Any) -> ImportReport:
    return ImportRunner(view).run(io.BytesIO(data), name, **kwargs)


def sample(name: str) -> bytes:
    return (MOBILITY / name).read_bytes()


def tracks(view: SpaceView) -> list[dict[str, Any]]:
    rows = [r.data for r in view.iter_records("mobility.track")]
    return sorted(rows, key=lambda d: str(d["track_id"]))


def positions(view: SpaceView) -> dict[str, np.ndarray]:
    frames = [view.read_points(s.id) for s in view.streams("mobility.position")]
    ts = np.concatenate([f.ts for f in frames]) if frames else np.zeros(0, dtype=np.int64)
    order = np.argsort(ts, kind="stable")
    out = {"ts": ts[order]}
    for column in ("lat", "lon", "ele", "accuracy"):
        out[column] = np.concatenate([f.columns[column] for f in frames])[order]
    return out


def epoch(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp())


# -- OwnTracks ----------------------------------------------------------------------------------


def test_owntracks_positions_by_month_and_other_messages_left_out(platform: Platform) -> None:
    view = make_space(platform)
    data = sample(RECORDER)
    report = run(view, data, "2024-05.rec")
    assert not report.refused, report.rejected
    assert report.importer == "owntracks"
    assert report.counts["mobility.position"].points_gained == 4
    # 22:30 UTC on May 31 is June 1 in Paris (the space's zone): two monthly tracks.
    found = tracks(view)
    assert [t["track_id"] for t in found] == ["2024-05", "2024-06"]
    assert {t["source"] for t in found} == {"OwnTracks alice/phone"}
    assert found[0]["name"] == "Positions 2024-05"
    assert found[0]["started_at"] == "2024-05-31T08:00:00Z"
    assert found[0]["ended_at"] == "2024-05-31T08:05:00Z"
    points = positions(view)
    assert list(points["ts"]) == [
        epoch("2024-05-31T08:00:00+00:00"),
        epoch("2024-05-31T08:05:00+00:00"),
        epoch("2024-05-31T22:30:00+00:00"),
        epoch("2024-06-01T07:00:00+00:00"),
    ]
    assert list(points["lat"]) == pytest.approx([45.764, 45.765, 45.77, 45.76])
    assert list(points["lon"]) == pytest.approx([4.8357, 4.84, 4.85, 4.83])
    assert points["ele"][0] == 170 and math.isnan(points["ele"][2])
    assert points["accuracy"][1] == 8 and math.isnan(points["accuracy"][2])
    (notice,) = report.notices
    assert notice.path == "_type" and "1 lwt, 1 transition, 1 waypoint" in notice.message
    again = run(view, data, "2024-05.rec")
    assert again.created == 0 and again.points_gained == 0
    assert again.counts["mobility.track"].unchanged == 2


def test_owntracks_source_option(sqlite_platform: Platform) -> None:
    view = make_space(sqlite_platform)
    report = run(view, sample(RECORDER), "x.rec", options={"source": "Mon téléphone"})
    assert not report.refused
    assert {t["source"] for t in tracks(view)} == {"Mon téléphone"}


def test_owntracks_rejected_lines_and_skip_invalid(sqlite_platform: Platform) -> None:
    view = make_space(sqlite_platform)
    data = (
        sample(RECORDER)
        .replace(b'"lat":45.765,"lon":4.84,"alt":172', b'"lat":"north","lon":4.84,"alt":172')
        .replace(b'"lat":45.77,"lon":4.85', b'"lat":45.77,"lon":200')
        .replace(b'{"_type":"waypoint"', b'{"_type":"waypoint",,')
    )
    report = run(view, data, "x.rec")
    assert report.refused and view.summary() == []
    assert [(e.line, e.path) for e in report.rejected] == [(2, "lat"), (4, "json"), (5, "lon")]
    assert "'north' is not a number" in report.rejected[0].message
    assert "out of range" in report.rejected[2].message
    kept = run(view, data, "x.rec", skip_invalid=True)
    assert not kept.refused and kept.counts["mobility.position"].points_gained == 2


def test_owntracks_truncated_or_corrupt_fails_and_writes_nothing(platform: Platform) -> None:
    view = make_space(platform)
    data = sample(RECORDER)
    cut = data[: data.index(b'"alt":180')]
    with pytest.raises(ImportFailed) as failed:
        run(view, cut, "2024-05.rec")
    assert "2024-05.rec, line 6" in str(failed.value) and "truncated" in str(failed.value)
    assert view.summary() == []
    with pytest.raises(ImportFailed, match="NUL bytes"):
        run(view, data.replace(b"alice", b"al\x00ce"), "x.rec", format_name="owntracks")
    with pytest.raises(ImportFailed, match="no location message"):
        run(view, b'2024-01-01T00:00:00Z\tlwt\t{"_type":"lwt"}\n', "x.rec")
    assert view.summary() == []


# -- GPSLogger ----------------------------------------------------------------------------------


def test_gpslogger_positions_with_missing_values(platform: Platform) -> None:
    view = make_space(platform)
    data = sample(GPSLOGGER)
    report = run(view, data, "20240615.csv")
    assert not report.refused, report.rejected
    assert report.importer == "gpslogger.csv"
    assert report.counts["mobility.position"].points_gained == 4
    (track,) = tracks(view)
    assert track["track_id"] == "2024-06" and track["source"] == "GPSLogger"
    assert track["started_at"] == "2024-06-15T08:30:00Z"
    assert track["ended_at"] == "2024-06-15T08:33:00Z"
    points = positions(view)
    start = epoch("2024-06-15T08:30:00+00:00")
    assert list(points["ts"]) == [start, start + 60, start + 120, start + 180]
    assert list(points["lat"]) == pytest.approx([45.764, 45.765, 45.766, 45.767])
    assert points["ele"][0] == 170 and math.isnan(points["ele"][1]) and points["ele"][2] == 176.5
    assert points["accuracy"][1] == 10 and math.isnan(points["accuracy"][2])
    again = run(view, data, "20240615.csv")
    assert again.created == 0 and again.points_gained == 0
    assert again.counts["mobility.track"].unchanged == 1


def test_gpslogger_rejected_rows_and_skip_invalid(sqlite_platform: Platform) -> None:
    view = make_space(sqlite_platform)
    data = (
        sample(GPSLOGGER)
        .replace(b"2024-06-15T08:31:00.000Z", b"hier")
        .replace(b"45.766000,4.845000,176.5", b"45.766000,4.845000,haut")
    )
    report = run(view, data, "x.csv")
    assert report.refused and view.summary() == []
    assert [(e.line, e.path) for e in report.rejected] == [(3, "time"), (4, "elevation")]
    assert "expected an ISO 8601 time" in report.rejected[0].message
    kept = run(view, data, "x.csv", skip_invalid=True)
    assert not kept.refused and kept.counts["mobility.position"].points_gained == 2


def test_gpslogger_truncated_or_wrong_header_fails_and_writes_nothing(
    platform: Platform,
) -> None:
    view = make_space(platform)
    data = sample(GPSLOGGER)
    cut = data[: data.rindex(b",gps,")]
    with pytest.raises(ImportFailed) as failed:
        run(view, cut, "x.csv")
    assert "x.csv, line 5" in str(failed.value) and "truncated" in str(failed.value)
    assert view.summary() == []
    with pytest.raises(ImportFailed, match="no column lon"):
        run(
            view,
            b"time,lat,longitude\n2024-01-01T00:00:00Z,1,2\n",
            "x.csv",
            format_name="gpslogger.csv",
        )
    with pytest.raises(ImportFailed, match="empty"):
        run(view, b"\n\n", "x.csv", format_name="gpslogger.csv")
    assert view.summary() == []


# -- detection ----------------------------------------------------------------------------------


def test_own_samples_are_detected_and_no_one_else_claims_them() -> None:
    registry = ImporterRegistry.discover()
    for name, expected in ((RECORDER, "owntracks"), (GPSLOGGER, "gpslogger.csv")):
        head = sample(name)[:HEAD]
        assert registry.detect(head, "upload.bin").name == expected
        for importer in registry:
            if importer.name != expected:
                assert importer.sniff(head, name) < 0.5, (importer.name, name)


def test_owntracks_and_gpslogger_do_not_claim_other_formats() -> None:
    registry = ImporterRegistry.discover()
    mine = [registry.get(name) for name in MINE]
    own = {RECORDER, GPSLOGGER}
    others = [p for p in SAMPLES.rglob("*") if p.is_file() and p.name not in own]
    if REAL.is_dir():
        others += [
            p
            for p in REAL.rglob("*")
            if p.is_file() and not p.name.endswith((".rec", "gpslogger.csv"))
        ]
    assert len(others) > 20
    for path in others:
        head = path.read_bytes()[:HEAD]
        for importer in mine:
            assert importer.sniff(head, path.name) < 0.5, (importer.name, path)


# -- real files ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected", "points"),
    [
        ("dawarich__owntracks_2023-02_old.rec", "owntracks", 8),
        ("dawarich__owntracks_2024-03.rec", "owntracks", 7),
        ("dawarich__csv_gpslogger.csv", "gpslogger.csv", 3),
    ],
)
def test_real_files(sqlite_platform: Platform, name: str, expected: str, points: int) -> None:
    path = REAL_OTHER / name
    if not path.exists():
        pytest.skip("shared sample data not available")
    data = path.read_bytes()
    assert ImporterRegistry.discover().detect(data[:HEAD], name).name == expected
    view = make_space(sqlite_platform)
    report = run(view, data, name)
    assert not report.refused, report.rejected
    # Points with the same time (the recorder stores some twice) merge into one.
    assert report.counts["mobility.position"].points_gained == points
    stored = positions(view)
    assert len(stored["ts"]) == points and np.all(np.diff(stored["ts"]) > 0)
    assert run(view, data, name).points_gained == 0


def test_real_owntracks_values(sqlite_platform: Platform) -> None:
    path = REAL_OTHER / "dawarich__owntracks_2024-03.rec"
    if not path.exists():
        pytest.skip("shared sample data not available")
    view = make_space(sqlite_platform)
    report = run(view, path.read_bytes(), path.name)
    assert not report.refused, report.rejected
    (track,) = tracks(view)
    assert track["source"] == "OwnTracks test/iPhone 12 Pro" and track["track_id"] == "2024-03"
    stored = positions(view)
    assert stored["ts"][0] == 1709283789
    assert (stored["lat"][0], stored["lon"][0]) == pytest.approx((52.225, 13.332))
    assert (stored["ele"][0], stored["accuracy"][0]) == (36, 10)
    # Two locations at the same tst: the later line wins.
    assert stored["lon"][stored["ts"] == 1709318411][0] == pytest.approx(13.341)
