"""The energy service's overview over ten years of half-hourly readings (< 200 ms).

A real instance: a citizen's space holds an Enedis-like meter and ten years (175,320
points) of half-hourly readings ending now, stored with ``SpaceView.append_points``;
the built-in energy service is registered from its packaged manifest, approved and
consented to. Then:

* ``energy.overview_10y`` — ``platform.questions.run(service, "overview")`` end to end:
  the gate's decisions, the meter record and every monthly chunk decrypted (the series
  read), the conversion to Wh, the computation, the answer's JSON and schema checks, the
  audit events and the citizen's sealed copy of the answer. Median of N.
* ``energy.overview_compute_10y`` — ``energy.analysis.overview`` alone on the already
  converted consumption (compute only). Median of N.
* ``energy.read_10y`` — the series read alone (``read_points``), for comparison.
"""

from __future__ import annotations

import time
from importlib import resources

import numpy as np

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
from selfdata.access import Actor
from selfdata.energy import analysis, reference
from selfdata.energy import questions as energy_questions
from selfdata.energy.readings import consumption
from selfdata.services import load_manifest

__all__ = ["run"]

TARGET = Target("<", 200)
_POINTS = 175_320


def run(config: Config) -> list[Figure]:
    runs = config.pick(15, 5)
    _, values = half_hourly_readings(_POINTS)
    now = int(time.time()) // 1800 * 1800
    ts = now - (np.arange(_POINTS, 0, -1, dtype=np.int64)) * 1800  # ten years ending now
    with instance(config) as bench:
        platform = bench.platform
        citizen = bench.new_space("energy")
        stream = citizen.create_stream("energy.reading", record_id=new_meter(citizen))
        citizen.append_points(stream.id, ts, values)
        for question in (energy_questions.OverviewQuestion,):
            if question.name not in platform.questions.builtins:
                platform.questions.builtins.add(question)  # editable install, stale metadata
        with resources.as_file(resources.files("selfdata.energy") / "manifest.yaml") as path:
            platform.services.register(load_manifest(path))  # checks the built-ins it names
        info = platform.services.approve("selfdata-energy")
        record = citizen.give_consent(info, ["meters"])
        actor = Actor("service", info.id, citizen.space_id, label="energy", consent_id=record.id)
        service = platform.view(actor, citizen.space_id)

        def overview() -> None:
            answer = platform.questions.run(service, "overview")
            (meter,) = answer.value["meters"]
            expect(meter["base_load"] is not None, "the overview has no base load")
            expect(len(meter["years"]) == 11, f"{len(meter['years'])} years, not 11")

        meter_record = citizen.get_record(stream.record_id or "").data
        frame = citizen.read_points(stream.id)
        points = len(frame)
        expect(points == _POINTS, f"read {points} points, not {_POINTS}")
        used = [consumption(meter_record, frame.ts, frame.columns["value"])]
        ref = reference.current()
        when = platform.clock.now()

        def compute() -> None:
            analysis.overview(used, ref, "Europe/Paris", when)

        overview()  # warm-up: imports, caches, time-zone transitions
        compute()
        end_to_end = median(time_runs(overview, runs)) * 1000
        compute_only = median(time_runs(compute, runs)) * 1000
        read_only = median(time_runs(lambda: citizen.read_points(stream.id), runs)) * 1000
    note = f"{_POINTS:,} half-hourly points stored, 10 years; the question's window is 3650 days"
    compute_note = f"{_POINTS:,} points, Europe/Paris"
    return [
        Figure("energy.overview_10y", end_to_end, "ms", f"median of {runs}", TARGET, note),
        Figure(
            "energy.overview_compute_10y",
            compute_only,
            "ms",
            f"median of {runs}",
            note=compute_note,
        ),
        Figure("energy.read_10y", read_only, "ms", f"median of {runs}", note="read_points alone"),
    ]
