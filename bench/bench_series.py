"""Series ingest through the gate: one ``SpaceView.append_points`` call per series.

* ``series.ingest_10y_half_hourly`` — ten years of a half-hourly load curve (175,320
  points) into an empty stream: sort/dedup, 120 monthly chunks delta-coded,
  zstd-compressed and sealed, one audited transaction.
* ``series.ingest_1y_minute`` — a year at 1-minute resolution (525,600 points, 12
  chunks of ~44,000 points).
* ``series.append_one_day`` — a daily sync: 48 new points appended to the ten-year
  stream (decrypt, merge and re-seal the current month's chunk).

The readings are numpy arrays already: parsing the meter's CSV export is the
importer's cost, outside this figure (see docs/performance.md).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from _common import (
    Config,
    Figure,
    Target,
    best,
    expect,
    half_hourly_readings,
    instance,
    median,
    minute_readings,
    new_meter,
    time_runs,
    time_runs_with,
)
from selfdata.access import SpaceView, Stream

__all__ = ["run"]

INGEST_TARGET = Target(">=", 1_000_000)
READING = "energy.reading"


def _ingest_rate(
    view: SpaceView,
    meter_id: str,
    ts: npt.NDArray[np.int64],
    values: npt.NDArray[np.float64],
    repeat: int,
) -> float:
    def fresh() -> Stream:
        return view.create_stream(READING, record_id=meter_id)

    def append(stream: Stream) -> None:
        gained = view.append_points(stream.id, ts, values)
        expect(gained == ts.shape[0], f"expected {ts.shape[0]} new points, got {gained}")

    return int(ts.shape[0]) / best(time_runs_with(fresh, append, repeat))


def run(config: Config) -> list[Figure]:
    repeat = config.pick(5, 3)
    day_runs = config.pick(20, 10)
    ts10, values10 = half_hourly_readings()
    ts1m, values1m = minute_readings()
    with instance(config) as bench:
        view = bench.new_space("series")
        meter_id = new_meter(view)
        # Warm-up: a month of readings, then the code paths of both sizes once.
        warm = view.create_stream(READING, record_id=meter_id)
        view.append_points(warm.id, ts10[:1488], values10[:1488])
        half_hourly = _ingest_rate(view, meter_id, ts10, values10, repeat)
        minute = _ingest_rate(view, meter_id, ts1m, values1m, repeat)

        stream = view.create_stream(READING, record_id=meter_id)
        view.append_points(stream.id, ts10, values10)
        next_day = [int(ts10[-1]) + 1800]

        def one_day() -> None:
            start = next_day[0]
            ts = start + np.arange(48, dtype=np.int64) * 1800
            gained = view.append_points(stream.id, ts, np.full(48, 420.0))
            expect(gained == 48, f"expected 48 new points, got {gained}")
            next_day[0] = start + 86_400

        day_s = median(time_runs(one_day, day_runs))
    return [
        Figure(
            "series.ingest_10y_half_hourly",
            half_hourly,
            "readings/s",
            f"best of {repeat}",
            INGEST_TARGET,
            f"{ts10.shape[0]:,} points in one append",
        ),
        Figure(
            "series.ingest_1y_minute",
            minute,
            "readings/s",
            f"best of {repeat}",
            INGEST_TARGET,
            f"{ts1m.shape[0]:,} points in one append",
        ),
        Figure(
            "series.append_one_day",
            day_s * 1000,
            "ms",
            f"median of {day_runs}",
            note="48 points onto the 10-year stream",
        ),
    ]
