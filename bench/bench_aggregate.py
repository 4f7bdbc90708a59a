"""Ten years of half-hourly readings aggregated into local calendar buckets.

Each ``SpaceView.aggregate`` call is one audited read: the gate's check, the stream's
row, every monthly chunk decrypted and decompressed (120 of them), the local-time
bucket boundaries (Europe/Paris by default: days of 23 and 25 hours), a numpy
reduction, and the audit event.

* ``aggregate.day_10y_cold`` — the first call after emptying the in-process caches
  (calendar boundaries, time-zone rules, the space's unwrapped key). The database
  pages stay in the OS and SQLite caches: the data was just written.
* ``aggregate.day_10y`` / ``month_10y`` / ``hour_10y`` — median of N calls.
* ``aggregate.read_10y`` — ``read_points`` alone (no bucketing), for comparison.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from _common import (
    Config,
    Figure,
    Target,
    expect,
    half_hourly_readings,
    instance,
    median,
    new_meter,
    time_runs,
)
from selfdata.access import SpaceView
from selfdata.platform import Platform
from selfdata.store import buckets

__all__ = ["run"]

DAY_TARGET = Target("<", 50)


def clear_caches(platform: Platform, space_id: str) -> None:
    """Forget what a first aggregate in a new worker process would not have."""
    for value in vars(buckets).values():
        cache_clear = getattr(value, "cache_clear", None)
        if callable(cache_clear):
            cache_clear()
    ZoneInfo.clear_cache()
    platform.gate.keys.forget(space_id)


def run(config: Config) -> list[Figure]:
    runs = config.pick(20, 10)
    ts, values = half_hourly_readings()
    points = int(ts.shape[0])
    with instance(config) as bench:
        view = bench.new_space("aggregate")
        stream = view.create_stream("energy.reading", record_id=new_meter(view))
        view.append_points(stream.id, ts, values)

        def by(every: str) -> None:
            frame = view.aggregate(stream.id, every, "sum")
            counted = int(frame.counts.sum()) if frame.counts is not None else -1
            expect(counted == points, f"{every} buckets hold {counted} points, not {points}")

        def median_ms(every: str) -> float:
            return median(time_runs(lambda: by(every), runs)) * 1000

        def read() -> None:
            expect(len(view.read_points(stream.id)) == points, "the read lost points")

        # Cold: a throw-away stream warms the code paths, then the caches are emptied.
        _warm_code_paths(view, new_meter(view))
        clear_caches(bench.platform, view.space_id)
        cold_s = time_runs(lambda: by("day"), 1)[0]
        figures = [
            Figure(
                "aggregate.day_10y_cold",
                cold_s * 1000,
                "ms",
                "first call",
                DAY_TARGET,
                f"{points:,} points, caches emptied",
            ),
        ]
        for every, target in (("day", DAY_TARGET), ("month", None), ("hour", None)):
            figures.append(
                Figure(
                    f"aggregate.{every}_10y",
                    median_ms(every),
                    "ms",
                    f"median of {runs}",
                    target,
                    f"{points:,} points",
                )
            )
        read_s = median(time_runs(read, runs))
        figures.append(
            Figure(
                "aggregate.read_10y",
                read_s * 1000,
                "ms",
                f"median of {runs}",
                note="read_points alone, no bucketing",
            )
        )
    return figures


def _warm_code_paths(view: SpaceView, meter_id: str) -> None:
    ts, values = half_hourly_readings(48 * 40)
    stream = view.create_stream("energy.reading", record_id=meter_id)
    view.append_points(stream.id, ts, values)
    for every in ("hour", "day", "month"):
        view.aggregate(stream.id, every, "sum")
