"""Mobility importers (GPX, GeoJSON, Google Takeout's three location-history shapes),
end to end through ``ImportRunner`` and the gate, on both database engines."""

from __future__ import annotations

import io
import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from selfdata.access import SpaceView
from selfdata.importers import ImporterRegistry, ImportFailed, ImportReport, ImportRunner
from selfdata.importers.runner import HEAD
from selfdata.platform import Platform
from tests.conftest import make_space
from tests.samples.mobility import HERE as SAMPLES
from tests.samples.mobility import RECORDS_START, records_json, records_json_bytes

REAL = Path("/work/shared/sample-data")
MINE = ("gpx", "geojson", "google.records", "google.semantic", "google.timeline")

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<gpx version="1.1" creator="x" xmlns="http://www.topografix.com/GPX/1/1"><trk><name>&lol3;</name>
<trkseg><trkpt lat="45" lon="4"><time>2024-01-01T00:00:00Z</time></trkpt></trkseg></trk></gpx>
"""


def run(view: SpaceView, data: bytes, name: str, **kwargs: Any) -> ImportReport:
    return ImportRunner(view).run(io.BytesIO(data), name, **kwargs)


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def records(view: SpaceView, doctype: str) -> list[dict[str, Any]]:
    rows = [r.data for r in view.iter_records(doctype)]
    return sorted(rows, key=lambda d: str(d.get("started_at")))


def positions(view: SpaceView, track: dict[str, Any] | None = None) -> dict[str, np.ndarray]:
    """Every position of the space (or of one track), in time order."""
    wanted = None
    if track is not None:
        wanted = next(
            r.id
            for r in view.iter_records("mobility.track")
            if r.data["started_at"] == track["started_at"] and r.data["name"] == track["name"]
        )
    frames = [
        view.read_points(s.id)
        for s in view.streams("mobility.position")
        if wanted is None or s.record_id == wanted
    ]
    ts = np.concatenate([f.ts for f in frames]) if frames else np.zeros(0, dtype=np.int64)
    order = np.argsort(ts, kind="stable")
    out = {"ts": ts[order]}
    for column in ("lat", "lon", "ele", "accuracy"):
        out[column] = np.concatenate([f.columns[column] for f in frames])[order]
    return out


def epoch(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp())


# -- detection ------------------------------------------------------------------------------


OWN_SAMPLES = {
    "track_segments_missing_ele.gpx": "gpx",
    "gpx10_track.gpx": "gpx",
    "points_and_lines.geojson": "geojson",
    "overland_batch.json": "geojson",
    "Records.json": "google.records",
    "2024_JANUARY.json": "google.semantic",
    "timeline_android.json": "google.timeline",
    "timeline_ios.json": "google.timeline",
}


@pytest.mark.parametrize(("name", "expected"), sorted(OWN_SAMPLES.items()))
def test_each_own_sample_is_detected_as_its_format(name: str, expected: str) -> None:
    registry = ImporterRegistry.discover()
    head = sample(name)[:HEAD]
    assert registry.detect(head, "upload.bin").name == expected  # on content, not name


def test_big_records_json_is_detected() -> None:
    head = records_json_bytes(200)[:HEAD]
    assert ImporterRegistry.discover().detect(head, "x").name == "google.records"


REAL_EXPECTED = {
    "gps-gpx/dawarich__arc_example.gpx": "gpx",
    "gps-gpx/dawarich__garmin_example.gpx": "gpx",
    "gps-gpx/dawarich__gpx_track_multiple_segments.gpx": "gpx",
    "gps-gpx/dawarich__gpx_track_multiple_tracks.gpx": "gpx",
    "health-apple/healthkit-to-sqlite__route_2019-06-11_3.00pm.gpx": "gpx",
    "gps-geojson-other/dawarich__geojson_export.json": "geojson",
    "gps-geojson-other/dawarich__geojson_google_takeout_example.json": "geojson",
    "gps-geojson-other/dawarich__geojson_gpslogger_example.json": "geojson",
    "gps-geojson-other/dawarich__points_geojson_example.json": "geojson",
    "gps-google-location/dawarich__records.json": "google.records",
    "gps-google-location/dawarich__semantic_history.json": "google.semantic",
    "gps-google-location/dawarich__edge_cases_semantic_history_with_bom.json": "google.semantic",
    "gps-google-location/dawarich__location-history_with_activitySegment_with_startLocation_with_iso_timestamp.json": "google.semantic",  # noqa: E501
    "gps-google-location/dawarich__location-history_with_placeVisit_with_location_with_coordinates_with_timestampMs.json": "google.semantic",  # noqa: E501
    "gps-google-location/dawarich__timeline_new_format.json": "google.timeline",
    "gps-google-location/dawarich__phone-takeout_w_3_duplicates.json": "google.timeline",
    "gps-google-location/dawarich__location-history.json": "google.timeline",
    "gps-google-location/dawarich__edge_cases_phone_takeout_array_timeline_path.json": "google.timeline",  # noqa: E501
}


@pytest.mark.parametrize(("path", "expected"), sorted(REAL_EXPECTED.items()))
def test_real_samples_are_detected_as_their_format(path: str, expected: str) -> None:
    file = REAL / path
    if not file.exists():
        pytest.skip("shared sample folder absent")
    head = file.read_bytes()[:HEAD]
    assert ImporterRegistry.discover().detect(head, file.name).name == expected


def test_mobility_importers_do_not_claim_other_formats() -> None:
    """No mobility sniffer scores another format's file (real or ours) as its own."""
    registry = ImporterRegistry.discover()
    mine = [registry.get(name) for name in MINE]
    others = [p for p in (SAMPLES.parent).rglob("*") if p.is_file() and "mobility" not in p.parts]
    if REAL.exists():
        others += [
            p
            for p in REAL.rglob("*")
            if p.is_file() and not p.parts[-2].startswith("gps-") and p.suffix != ".gpx"
        ]
    assert others
    for path in others:
        head = path.read_bytes()[:HEAD]
        for importer in mine:
            assert importer.sniff(head, path.name) < 0.5, (importer.name, path)


# -- GPX ----------------------------------------------------------------------------------------


def test_gpx_tracks_segments_missing_elevations_and_waypoints(platform: Platform) -> None:
    view = make_space(platform)
    data = sample("track_segments_missing_ele.gpx")
    report = run(view, data, "sorties.gpx")
    assert not report.refused, report.rejected
    assert report.importer == "gpx"
    assert report.counts["mobility.track"].created == 2
    assert report.counts["mobility.position"].points_gained == 7
    assert report.counts["mobility.place_visit"].created == 1  # the timed waypoint only
    run_track, ride = records(view, "mobility.track")
    assert run_track["name"] == "Footing du samedi" and run_track["activity"] == "run"
    assert run_track["source"] == "Montre Exemple 3000"
    assert epoch(run_track["started_at"]) == epoch("2024-05-04T07:00:00+00:00")
    assert epoch(run_track["ended_at"]) == epoch("2024-05-04T07:10:30+00:00")
    # Two segments: the distance is along each one, not across the pause between them.
    assert 300 < run_track["distance_m"] < 500
    assert run_track["elevation_gain_m"] == pytest.approx(1.5)  # 170.5 → 172, not → 175
    assert ride["activity"] == "bike" and "elevation_gain_m" not in ride
    points = positions(view, run_track)
    assert list(points["ts"] - points["ts"][0]) == [0, 30, 60, 600, 630]
    assert np.isnan(points["ele"][1]) and points["ele"][2] == pytest.approx(172.0)
    assert np.isnan(points["accuracy"]).all()
    assert points["lat"][0] == pytest.approx(45.7640) and points["lon"][0] == pytest.approx(4.8357)
    (visit,) = records(view, "mobility.place_visit")
    assert visit["place_name"] == "Boulangerie du Parc" and visit["lat"] == pytest.approx(45.7578)
    # The same file again stores nothing twice.
    again = run(view, data, "sorties.gpx")
    assert again.source_existed and again.created == 0 and again.points_gained == 0
    assert again.counts["mobility.track"].unchanged == 2
    assert len(records(view, "mobility.track")) == 2
    assert len(view.streams("mobility.position")) == 2


def test_gpx_1_0_with_bom_and_blank_lines_before_the_declaration(
    sqlite_platform: Platform,
) -> None:
    view = make_space(sqlite_platform)
    data = b"\xef\xbb\xbf\n\n" + sample("gpx10_track.gpx")
    assert ImporterRegistry.discover().detect(data[:HEAD], "x").name == "gpx"
    report = run(view, data, "rando.gpx")
    assert not report.refused, report.rejected
    (track,) = records(view, "mobility.track")
    assert track["name"] == "Randonnée" and track["source"] == "Logger 1.0"
    assert track["elevation_gain_m"] == pytest.approx(10.0)
    assert list(positions(view)["ele"]) == [1500, 1510, 1505]
    # Lines stay the file's: a broken point is reported two lines further down.
    broken = data.replace(b'lat="44.9010"', b'lat="x"')
    (error,) = run(view, broken, "rando.gpx").rejected
    assert error.line == 10


def test_gpx_rejected_points_by_line_and_skip_invalid(sqlite_platform: Platform) -> None:
    view = make_space(sqlite_platform)
    data = (
        sample("gpx10_track.gpx")
        .replace(b'lat="44.9010"', b'lat="94.9010"')
        .replace(b"<ele>1505</ele>", b"<ele>haut</ele>")
    )
    report = run(view, data, "rando.gpx")
    assert report.refused and view.summary() == []
    assert [(e.line, e.path) for e in report.rejected] == [(8, "trkpt"), (9, "trkpt")]
    assert "latitude 94.901 out of range" in report.rejected[0].message
    kept = run(view, data, "rando.gpx", skip_invalid=True)
    assert not kept.refused and kept.rejected_total == 2
    assert kept.counts["mobility.position"].points_gained == 1


def test_gpx_track_without_times_is_one_clear_rejection(sqlite_platform: Platform) -> None:
    view = make_space(sqlite_platform)
    data = b"""<?xml version="1.0"?>
<gpx version="1.1" creator="Planner" xmlns="http://www.topografix.com/GPX/1/1">
<trk><name>Plan</name><trkseg><trkpt lat="45" lon="4"/><trkpt lat="45.1" lon="4.1"/></trkseg></trk>
</gpx>"""
    report = run(view, data, "plan.gpx")
    assert report.refused
    (error,) = report.rejected
    assert error.line == 3 and "none of its 2 points has a time" in error.message


def test_gpx_billion_laughs_is_refused_and_nothing_written(platform: Platform) -> None:
    view = make_space(platform)
    with pytest.raises(ImportFailed) as failed:
        run(view, BILLION_LAUGHS, "evil.gpx")
    assert "DTD or entities" in str(failed.value)
    assert view.summary() == []


def test_gpx_truncated_file_fails_cleanly(sqlite_platform: Platform) -> None:
    view = make_space(sqlite_platform)
    data = sample("track_segments_missing_ele.gpx")
    with pytest.raises(ImportFailed) as failed:
        run(view, data[: len(data) - 200], "cut.gpx")
    assert "not well-formed XML" in str(failed.value) and "cut.gpx" in str(failed.value)
    assert view.summary() == []


def test_real_gpx_samples_import(sqlite_platform: Platform) -> None:
    folder = REAL / "gps-gpx"
    if not folder.exists():
        pytest.skip("shared sample folder absent")
    view = make_space(sqlite_platform)
    total = 0
    for path in sorted(folder.glob("*.gpx")):
        report = run(view, path.read_bytes(), path.name)
        assert not report.refused, (path.name, report.rejected)
        total += report.counts["mobility.position"].points_read
    assert total == 6 + 1 + 43 + 34
    tracks = records(view, "mobility.track")
    assert {t["source"] for t in tracks} >= {"Arc App", "OsmAndRouterV2"}
    assert any(t["activity"] == "car" for t in tracks)  # Arc's <type>taxi</type>


# -- GeoJSON ------------------------------------------------------------------------------------


def test_geojson_points_and_timed_lines(platform: Platform) -> None:
    view = make_space(platform)
    data = sample("points_and_lines.geojson")
    report = run(view, data, "export.geojson")
    assert not report.refused, report.rejected
    assert report.importer == "geojson"
    tracks = {t["name"]: t for t in records(view, "mobility.track")}
    # Points by month (two months), plus one track per timed line.
    assert set(tracks) == {"Positions 2024-03", "Positions 2024-04", "Vélotaf", "Balade à Paris"}
    ride = tracks["Vélotaf"]
    assert ride["activity"] == "bike" and ride["track_id"] == "ride-42"
    assert ride["source"] == "GeoJSON"
    ride_points = positions(view, ride)
    assert list(ride_points["ts"] - ride_points["ts"][0]) == [0, 120, 240]
    assert ride_points["ele"][1] == 165 and math.isnan(ride_points["ele"][2])
    walk = tracks["Balade à Paris"]
    assert 1500 < walk["distance_m"] < 3000  # two lines, no jump between them counted
    march = positions(view, tracks["Positions 2024-03"])
    assert list(march["ts"]) == [epoch("2024-03-01T08:00:00+00:00"), 1709280060]
    assert march["accuracy"][0] == 12 and march["ele"][0] == 170
    april = positions(view, tracks["Positions 2024-04"])
    assert list(april["ts"]) == [1711962000] and april["ele"][0] == 180.5
    again = run(view, data, "export.geojson")
    assert again.created == 0 and again.points_gained == 0


def test_overland_batch(sqlite_platform: Platform) -> None:
    view = make_space(sqlite_platform)
    report = run(view, sample("overland_batch.json"), "batch.json")
    assert not report.refused, report.rejected
    (track,) = records(view, "mobility.track")
    assert track["source"] == "Overland"
    points = positions(view)
    assert list(points["accuracy"][:1]) == [5] and math.isnan(points["accuracy"][1])


def test_geojson_point_without_time_is_rejected_with_its_path(sqlite_platform: Platform) -> None:
    view = make_space(sqlite_platform)
    data = sample("points_and_lines.geojson").replace(b'"timestamp": 1709280060', b'"x": 1')
    report = run(view, data, "export.geojson")
    assert report.refused
    (error,) = report.rejected
    assert error.line == 2 and error.path == "features[1].properties.time"


# -- Google Takeout ---------------------------------------------------------------------------


def test_records_json_small(platform: Platform) -> None:
    view = make_space(platform)
    data = sample("Records.json")
    report = run(view, data, "Records.json")
    assert not report.refused, report.rejected
    assert report.importer == "google.records"
    assert report.counts["mobility.position"].points_gained == 3  # the activity-only entry: no
    tracks = records(view, "mobility.track")
    # Months in the import's time zone (Europe/Paris): 23:30 UTC on Dec 31 is January.
    assert [t["track_id"] for t in tracks] == ["2024-01"]
    assert tracks[0]["source"] == "Google location history"
    points = positions(view)
    assert list(points["ts"]) == [
        epoch("2023-12-31T23:30:00+00:00"),
        1704069000,
        epoch("2024-01-01T09:15:30+00:00"),
    ]
    assert points["lat"][0] == pytest.approx(45.764) and points["lon"][0] == pytest.approx(4.8357)
    assert list(points["accuracy"]) == [20, 15, 10]
    assert points["ele"][0] == 170 and math.isnan(points["ele"][1])
    again = run(view, data, "Records.json")
    assert again.created == 0 and again.points_gained == 0
    assert again.counts["mobility.track"].unchanged == 1


def test_records_json_generated_many_months_and_batches(sqlite_platform: Platform) -> None:
    view = make_space(sqlite_platform)
    points = 100_000  # one a minute: about 70 days over three months
    data = records_json_bytes(points, legacy_ms=True)
    report = run(view, data, "Records.json", batch_size=7_000)
    assert not report.refused, report.rejected
    assert report.counts["mobility.position"].points_gained == points
    assert [t["track_id"] for t in records(view, "mobility.track")] == [
        "2015-01",
        "2015-02",
        "2015-03",
    ]
    stored = positions(view)
    assert stored["ts"][0] == RECORDS_START and np.all(np.diff(stored["ts"]) == 60)
    again = run(view, data, "Records.json", batch_size=50_000)
    assert again.created == 0 and again.points_gained == 0


def test_records_json_rejected_rows_and_skip_invalid(sqlite_platform: Platform) -> None:
    view = make_space(sqlite_platform)
    data = (
        sample("Records.json")
        .replace(b'"latitudeE7": 457650000', b'"latitudeE7": "north"')
        .replace(b'"timestamp": "2024-01-01T09:15:30.123+00:00"', b'"timestamp": "hier"')
    )
    report = run(view, data, "Records.json")
    assert report.refused and view.summary() == []
    assert [(e.line, e.path) for e in report.rejected] == [
        (2, "locations[1].latitudeE7"),
        (4, "locations[3].timestamp"),
    ]
    assert "expected an ISO 8601 time" in report.rejected[1].message
    kept = run(view, data, "Records.json", skip_invalid=True)
    assert not kept.refused and kept.counts["mobility.position"].points_gained == 1


def test_records_json_truncated_fails_and_writes_nothing(platform: Platform) -> None:
    view = make_space(platform)
    data = records_json_bytes(5_000)
    with pytest.raises(ImportFailed) as failed:
        run(view, data[: len(data) // 2], "Records.json")
    message = str(failed.value)
    assert "Records.json" in message and "truncated" in message
    assert view.summary() == []


def test_semantic_location_history(platform: Platform) -> None:
    view = make_space(platform)
    data = sample("2024_JANUARY.json")
    report = run(view, data, "2024_JANUARY.json")
    assert not report.refused, report.rejected
    assert report.importer == "google.semantic"
    (visit,) = records(view, "mobility.place_visit")
    assert visit["place_name"] == "Boulangerie du Parc"
    assert visit["place_id"] == "ChIJexamplePlace01" and visit["confidence"] == 0.875
    assert visit["lat"] == pytest.approx(45.7578) and visit["source"] == "Google Takeout"
    bike, metro = records(view, "mobility.trip")
    assert bike["mode"] == "bike" and bike["distance_m"] == 1250
    assert bike["end_name"] == "Bureau" and bike["start_lat"] == pytest.approx(45.7578)
    assert epoch(bike["started_at"]) == 1704439200
    assert metro["mode"] == "metro" and "start_lat" not in metro
    # The raw path points are positions of January's location-history track.
    assert len(positions(view)["ts"]) == 3
    again = run(view, data, "2024_JANUARY.json")
    assert again.created == 0 and again.points_gained == 0


def test_semantic_visit_without_end_is_rejected(sqlite_platform: Platform) -> None:
    view = make_space(sqlite_platform)
    data = sample("2024_JANUARY.json").replace(b', "endTimestamp": "2024-01-05T07:20:00Z"', b"")
    report = run(view, data, "2024_JANUARY.json")
    assert report.refused
    (error,) = report.rejected
    assert (error.line, error.path) == (1, "timelineObjects[0].placeVisit.duration")
    kept = run(view, data, "2024_JANUARY.json", skip_invalid=True)
    assert kept.counts["mobility.trip"].created == 2
    assert records(view, "mobility.place_visit") == []


def test_timeline_android(platform: Platform) -> None:
    view = make_space(platform)
    data = sample("timeline_android.json")
    report = run(view, data, "Timeline.json")
    assert not report.refused, report.rejected
    assert report.importer == "google.timeline"
    (visit,) = records(view, "mobility.place_visit")
    assert visit["place_name"] == "Home" and visit["place_id"] == "ChIJexampleHome"
    assert visit["lat"] == pytest.approx(45.764) and visit["confidence"] == 0.95
    assert epoch(visit["started_at"]) == epoch("2024-06-15T07:00:00+00:00")
    (trip,) = records(view, "mobility.trip")
    assert trip["mode"] == "bus" and trip["distance_m"] == 2100.5
    assert trip["end_lon"] == pytest.approx(4.85)
    points = positions(view)
    assert list(points["ts"]) == [
        epoch("2024-06-15T08:10:00+00:00"),
        epoch("2024-06-15T08:20:00+00:00"),
        epoch("2024-06-15T08:35:00+00:00"),
    ]
    assert points["ele"][2] == 168.5 and points["accuracy"][2] == 9
    again = run(view, data, "Timeline.json")
    assert again.created == 0 and again.points_gained == 0


def test_timeline_ios_array(sqlite_platform: Platform) -> None:
    view = make_space(sqlite_platform)
    report = run(view, sample("timeline_ios.json"), "location-history.json")
    assert not report.refused, report.rejected
    (visit,) = records(view, "mobility.place_visit")
    assert visit["place_name"] == "Work" and visit["confidence"] == pytest.approx(0.81)
    (trip,) = records(view, "mobility.trip")
    assert trip["mode"] == "walk" and trip["distance_m"] == 1800
    points = positions(view)
    start = epoch("2024-07-01T07:00:00+00:00")
    assert list(points["ts"]) == [start + 600, start + 1200]


def test_records_and_timeline_positions_merge_on_the_same_month(
    sqlite_platform: Platform,
) -> None:
    """The same positions exported twice (old Records.json, new Timeline) are one."""
    view = make_space(sqlite_platform)
    first = run(view, sample("Records.json"), "Records.json")
    data = b'{"rawSignals": [{"position": {"LatLng": "45.766\xc2\xb0, 4.8365\xc2\xb0", "timestamp": "2024-01-01T09:15:30Z"}}]}'  # noqa: E501
    second = run(view, data, "Timeline.json")
    assert first.points_gained == 3 and second.points_gained == 0
    assert second.counts["mobility.track"].updated == 1  # its time bounds now are this file's
    assert len(records(view, "mobility.track")) == 1


def test_real_google_samples_import(sqlite_platform: Platform) -> None:
    folder = REAL / "gps-google-location"
    if not folder.exists():
        pytest.skip("shared sample folder absent")
    view = make_space(sqlite_platform)
    for name, format_name in REAL_EXPECTED.items():
        if not name.startswith("gps-google") or "location-history_with_" in name:
            continue  # these two edge cases lack an end time: checked below
        path = REAL / name
        report = run(view, path.read_bytes(), path.name)
        assert report.importer == format_name
        assert not report.refused, (name, report.rejected)
    assert len(records(view, "mobility.trip")) == 5
    assert records(view, "mobility.place_visit")
    edge = REAL / next(n for n in REAL_EXPECTED if "_with_placeVisit" in n)
    refused = run(view, edge.read_bytes(), edge.name)
    assert refused.refused and "endTimestamp" in refused.rejected[0].message


def test_timeline_edits_file_is_not_taken_for_a_timeline() -> None:
    path = REAL / "gps-google-location/dawarich__edge_cases_timeline_edits.json"
    if not path.exists():
        pytest.skip("shared sample folder absent")
    head = path.read_bytes()[:HEAD]
    registry = ImporterRegistry.discover()
    assert all(registry.get(name).sniff(head, path.name) < 0.5 for name in MINE)


def test_records_json_file_streamed_from_disk(sqlite_platform: Platform, tmp_path: Path) -> None:
    """The generator writes to a file; the import reads it from disk (not from bytes)."""
    view = make_space(sqlite_platform)
    target = tmp_path / "Records.json"
    with target.open("wb") as out:
        size = records_json(out, 20_000)
    assert size == target.stat().st_size
    with target.open("rb") as stream:
        report = ImportRunner(view).run(stream, "Records.json")
    assert report.counts["mobility.position"].points_gained == 20_000
    (stream_info,) = view.streams("mobility.position")
    assert stream_info.first == datetime.fromtimestamp(RECORDS_START, UTC)
