"""Compute-to-data questions: what the isolated SQL worker costs per call, and how
many questions per second an instance answers.

One space holds a year of half-hourly readings (17,520 points); the question is the
example service's ``monthly-consumption`` (docs/services.md), asked under a consent.

* ``questions.sql_inprocess`` — the baseline: the same Arrow table and query in a
  DuckDB connection of this process (no isolation at all; not how selfdata runs it).
* ``questions.sql_worker`` — the same through the worker pool: Arrow IPC over a pipe,
  a fresh locked-down DuckDB per question, JSON back (p50 and p95).
* ``questions.ask`` — the whole ``QuestionRunner.run``: consent decision and audited
  read through the gate, the worker, answer checks, the release (decision, log event,
  sealed copy for the citizen) (p50 and p95).
* ``questions.throughput`` — ``run`` from 2 threads on a pool of 2 workers.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from _common import Config, Figure, instance, new_meter, time_alternating
from selfdata.access import Actor
from selfdata.questions.pool import SqlJob
from selfdata.services.manifest import Manifest, load_manifest

__all__ = ["run"]

MANIFEST = Path(__file__).resolve().parents[1] / "examples" / "watt-wise" / "manifest.yaml"


def _percentiles(seconds: list[float]) -> tuple[float, float]:
    ms = np.array(seconds) * 1000
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 95))


def run(config: Config) -> list[Figure]:
    repeat = config.pick(100, 20)
    with instance(config) as bench:
        platform = bench.platform
        manifest: Manifest = load_manifest(MANIFEST)
        platform.services.register(manifest)
        info = platform.services.approve(manifest.id)
        citizen = bench.new_space("questions")
        stream = citizen.create_stream("energy.reading", record_id=new_meter(citizen)).id
        end = int(platform.clock.now().timestamp()) // 1800 * 1800
        ts = np.arange(end - 365 * 86400, end, 1800, dtype=np.int64)
        citizen.append_points(stream, ts, 500 + 400 * np.sin(ts / 7200.0))
        consent = citizen.give_consent(info, ["consumption"])
        actor = Actor(
            "service", info.id, citizen.space_id, label="Watt Wise", consent_id=consent.id
        )
        service = platform.view(actor, citizen.space_id)
        runner = platform.questions
        sql = manifest.question("monthly-consumption").sql or ""

        first = runner.run(service, "monthly-consumption")  # starts a worker
        assert len(first.value) >= 12, first.value
        runner.pool.warm(2)

        # The table the worker receives, built once here for the two SQL-only figures.
        table = pa.table(
            {
                "time": pa.array(ts.astype("datetime64[s]"), pa.timestamp("s", "UTC")),
                "value": pa.array(500 + 400 * np.sin(ts / 7200.0)),
            }
        )
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        blob = sink.getvalue().to_pybytes()

        def inprocess() -> None:
            con = duckdb.connect(":memory:", config={"threads": 1})
            con.register("energy_reading", table)
            con.execute("SET TimeZone = 'Europe/Paris'")
            con.execute(sql).fetchall()
            con.close()

        job = SqlJob(sql, {}, {"energy_reading": blob}, 2048, "Europe/Paris")
        # Round after round, so that the machine's load hits the three alike.
        timings = time_alternating(
            {
                "inprocess": lambda: inprocess,
                "worker": lambda: lambda: runner.pool.run(job),
                "ask": lambda: lambda: runner.run(service, "monthly-consumption"),
            },
            repeat,
        )
        baseline, worker, asked = (
            _percentiles([t.wall for t in timings[name]]) for name in ("inprocess", "worker", "ask")
        )

        calls = config.pick(100, 20)
        done = 0
        lock = threading.Lock()

        def client() -> None:
            nonlocal done
            while True:
                with lock:
                    if done >= calls:
                        return
                    done += 1
                runner.run(service, "monthly-consumption")

        start = time.perf_counter()
        threads = [threading.Thread(target=client) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        rate = calls / (time.perf_counter() - start)
        answers = len(list(citizen.iter_records("service.answer")))
        assert answers == 1 + repeat + calls, answers  # each answer left once, with its copy

    points = f"{len(ts):,} points"
    return [
        Figure("questions.sql_inprocess_p50", baseline[0], "ms", "p50", note=points),
        Figure("questions.sql_worker_p50", worker[0], "ms", "p50", note=points),
        Figure("questions.sql_worker_p95", worker[1], "ms", "p95", note=points),
        Figure(
            "questions.worker_overhead_p50",
            worker[0] - baseline[0],
            "ms",
            "p50",
            note="worker minus in-process",
        ),
        Figure("questions.ask_p50", asked[0], "ms", "p50", note="gate + worker + release"),
        Figure("questions.ask_p95", asked[1], "ms", "p95", note="gate + worker + release"),
        Figure("questions.throughput", rate, "questions/s", "mean", note="2 threads, pool of 2"),
    ]
