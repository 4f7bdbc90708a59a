"""Series: chunked storage, merge on append, range reads, calendar aggregation."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from selfdata.access import SpaceView
from selfdata.doctypes.examples import EXAMPLES
from selfdata.errors import InvalidInput, MalformedQuery
from selfdata.platform import Platform
from tests.conftest import make_space

PARIS = ZoneInfo("Europe/Paris")


def _meter_stream(view: SpaceView) -> str:
    meter = view.put_records("energy.meter", [EXAMPLES["energy.meter"]]).ids[0]
    return view.create_stream("energy.reading", record_id=meter, meta={"unit": "Wh"}).id


def _epoch(*args: int) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp())


def test_append_read_and_merge(platform: Platform) -> None:
    view = make_space(platform)
    stream = _meter_stream(view)
    ts = np.arange(_epoch(2024, 1, 1), _epoch(2024, 4, 1), 1800)
    values = np.arange(ts.shape[0], dtype=float)
    assert view.append_points(stream, ts, values) == ts.shape[0]
    # Overlapping append: existing timestamps take the new values, new ones are added.
    extra = np.arange(_epoch(2024, 3, 31), _epoch(2024, 4, 2), 1800)
    assert (
        view.append_points(stream, extra, np.full(extra.shape[0], -1.0)) == 48
    )  # 31 March existed
    frame = view.read_points(
        stream, datetime(2024, 3, 30, tzinfo=UTC), datetime(2024, 4, 3, tzinfo=UTC)
    )
    assert len(frame) == 48 * 3
    assert (frame.columns["value"][:48] >= 0).all() and (frame.columns["value"][48:] == -1).all()
    assert view.streams("energy.reading")[0].points == ts.shape[0] + 48


def test_daily_sums_follow_local_days_across_daylight_saving(platform: Platform) -> None:
    view = make_space(platform)
    stream = _meter_stream(view)
    # Half-hourly readings of 1 Wh from 2025-03-28 to 2025-04-02, Paris time.
    start = int(datetime(2025, 3, 28, tzinfo=PARIS).timestamp())
    end = int(datetime(2025, 4, 2, tzinfo=PARIS).timestamp())
    ts = np.arange(start, end, 1800)
    view.append_points(stream, ts, np.ones(ts.shape[0]))
    days = view.aggregate(
        stream, "day", "sum", datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(end, UTC)
    )
    by_day = {
        datetime.fromtimestamp(int(t), PARIS).date().isoformat(): float(v)
        for t, v in zip(days.ts, days.columns["value"], strict=True)
    }
    # 30 March 2025 has 23 hours in Paris: 46 half-hours.
    assert by_day == {
        "2025-03-28": 48,
        "2025-03-29": 48,
        "2025-03-30": 46,
        "2025-03-31": 48,
        "2025-04-01": 48,
    }
    hours = view.aggregate(
        stream, "hour", "sum", datetime.fromtimestamp(start, UTC), datetime.fromtimestamp(end, UTC)
    )
    assert set(hours.columns["value"].tolist()) == {2.0}
    months = view.aggregate(stream, "month", "count")
    assert months.columns["value"].tolist() == [4 * 48 - 2, 48]


def test_aggregates_ignore_missing_values_and_show_gaps(platform: Platform) -> None:
    view = make_space(platform)
    stream = _meter_stream(view)
    ts = np.array([_epoch(2024, 6, 1, 10), _epoch(2024, 6, 1, 11), _epoch(2024, 6, 3, 10)])
    view.append_points(stream, ts, np.array([2.0, np.nan, 5.0]))
    start, end = datetime(2024, 6, 1, tzinfo=PARIS), datetime(2024, 6, 4, tzinfo=PARIS)
    for how, expected in {
        "sum": [2.0, None, 5.0],
        "mean": [2.0, None, 5.0],
        "min": [2.0, None, 5.0],
        "max": [2.0, None, 5.0],
        "count": [1.0, 0.0, 1.0],
    }.items():
        frame = view.aggregate(stream, "day", how, start, end)  # type: ignore[arg-type]
        got = [None if np.isnan(v) else float(v) for v in frame.columns["value"]]
        assert got == expected, how


def test_multi_column_series_keep_missing_elevation(platform: Platform) -> None:
    view = make_space(platform)
    track = view.put_records("mobility.track", [EXAMPLES["mobility.track"]]).ids[0]
    stream = view.create_stream("mobility.position", record_id=track).id
    ts = np.array([_epoch(2024, 4, 7, 7, 30), _epoch(2024, 4, 7, 7, 31)])
    values = np.array([[45.75, 4.83, 172.0, 4.0], [45.76, 4.84, np.nan, np.nan]])
    view.append_points(stream, ts, values)
    rows = view.read_points(stream).as_rows()
    assert rows[1]["ele"] is None and rows[1]["lat"] == 45.76
    assert view.read_points(stream).to_arrow().num_rows == 2


def test_bad_series_input(platform: Platform) -> None:
    view = make_space(platform)
    stream = _meter_stream(view)
    with pytest.raises(InvalidInput, match="shape"):
        view.append_points(stream, np.array([1, 2, 3]), np.ones(2))
    with pytest.raises(InvalidInput, match="finite"):
        view.append_points(stream, np.array([1]), np.array([np.inf]))
    with pytest.raises(MalformedQuery, match="bucket"):
        view.aggregate(stream, "fortnight")
    with pytest.raises(InvalidInput, match="series"):
        view.put_records("energy.reading", [EXAMPLES["energy.reading"]])
    track = view.put_records("mobility.track", [EXAMPLES["mobility.track"]]).ids[0]
    with pytest.raises(InvalidInput, match=r"belongs to a energy\.meter"):
        view.create_stream("energy.reading", record_id=track)
    assert view.streams("energy.reading")[0].points == 0
