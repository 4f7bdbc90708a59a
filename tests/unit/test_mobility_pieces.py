"""The pieces the mobility importers share: times, numbers, positions, monthly tracks."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import numpy as np
import pytest

from selfdata.importers._geo import MonthlyTracks, Points, number, parse_time
from selfdata.importers.base import ImportContext, RecordBatch, SeriesChunk
from selfdata.importers.takeout import _e7, _latlng


def test_parse_time_accepts_the_shapes_exports_use() -> None:
    moment = int(datetime(2024, 6, 15, 8, 35, tzinfo=UTC).timestamp())
    assert parse_time("2024-06-15T08:35:00.000Z") == moment
    assert parse_time("2024-06-15T10:35:00+02:00") == moment
    assert parse_time("2024-06-15T08:35:00") == moment  # naive is UTC (GPX)
    assert parse_time(str(moment * 1000 + 999)) == moment  # timestampMs
    assert parse_time(moment) == moment and parse_time(moment * 1000) == moment
    for bad in ("hier", "", None, True, float("nan")):
        with pytest.raises(ValueError, match="expected an ISO 8601 time"):
            parse_time(bad)


def test_number_and_positions() -> None:
    assert number("1800.5") == 1800.5 and number(3) == 3.0 and number(None) is None
    with pytest.raises(ValueError, match="not a number"):
        number("haut")
    assert _latlng("48.8566°, 2.3522°") == (48.8566, 2.3522)
    assert _latlng("geo:29.725358,-95.482259") == (29.725358, -95.482259)
    with pytest.raises(ValueError, match="expected a position"):
        _latlng("48.8566")
    # Google's 32-bit overflow wraps around.
    assert _e7(4_294_967_296 - 337_000_000) == pytest.approx(-33.7)
    with pytest.raises(ValueError, match="degrees"):
        _e7("north")


def test_points_distance_and_climb_per_segment() -> None:
    points = Points()
    points.add(0, 45.0, 4.0, 100.0, math.nan, 1)
    points.add(60, 45.001, 4.0, math.nan, math.nan, 1)
    points.add(120, 45.002, 4.0, 103.0, math.nan, 1)
    points.add(600, 46.0, 4.0, 90.0, math.nan, 2)  # a new segment: no jump, no drop
    points.add(660, 46.001, 4.0, 95.0, math.nan, 2)
    assert points.distance_m() == pytest.approx(3 * 111.2, rel=0.01)
    assert points.elevation_gain_m() == pytest.approx(8.0)
    ts, values = points.arrays()
    assert list(ts) == [0, 60, 120, 600, 660] and values.shape == (5, 4)


def test_monthly_tracks_follow_the_space_time_zone_and_batch_size() -> None:
    tracks = MonthlyTracks(ImportContext("x", timezone="Europe/Paris", batch_size=2), "S", "T")
    new_year = int(datetime(2023, 12, 31, 23, 30, tzinfo=UTC).timestamp())  # Paris: Jan
    items = []
    for i, ts in enumerate([new_year - 3600, new_year, new_year + 60, new_year + 120]):
        items += list(tracks.add(i + 1, ts, 45.0, 4.0, math.nan, 5.0))
    items += list(tracks.flush())
    records = [i for i in items if isinstance(i, RecordBatch)]
    chunks = [i for i in items if isinstance(i, SeriesChunk)]
    assert [r.rows[0].data["track_id"] for r in records] == ["2023-12", "2024-01"]
    assert [c.parent_ref for c in chunks] == ["2023-12", "2024-01", "2024-01"]
    assert [len(c.ts) for c in chunks] == [1, 2, 1]  # at most batch_size rows a chunk
    assert records[1].rows[0].data["started_at"] == "2023-12-31T23:30:00+00:00"
    assert np.isnan(chunks[0].values[0, 2]) and chunks[0].values[0, 3] == 5.0
