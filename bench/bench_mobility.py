"""Importing a big Google Takeout location history end to end.

* ``mobility.records_json_1m`` — a ``Records.json`` of 1,000,000 positions (about
  250 MB, the layout Takeout used until 2024: BOM, ISO times, some altitudes and
  activity blocks) imported into a new space of a fresh instance through
  ``ImportRunner``: detection, the validation pass, the keyed fingerprint, the writing
  pass (one track a month, points merged by time). Wall time of ``run()``.
* ``mobility.records_json_1m_peak_rss`` — the peak resident memory of the process
  that did the import. The import runs in a child process of its own, so the figure is
  the import's (plus the interpreter and the libraries), not what other benchmarks of
  the same run left behind.

The file is generated in a temporary folder (synthetic data) before the timing.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import Config, Figure, Target, best, expect, instance, own_peak_rss_mib

__all__ = ["run"]

ROOT = Path(__file__).resolve().parents[1]


def _child(path: Path, database_url: str | None, points: int) -> None:
    """In the child process: a fresh instance, one import, figures as JSON on stdout."""
    from selfdata.importers import ImportRunner

    with instance(Config(database_url=database_url)) as bench:
        view = bench.new_space("mobility")
        started, cpu = time.perf_counter(), time.process_time()
        with path.open("rb") as stream:
            report = ImportRunner(view).run(stream, "Records.json")
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    expect(not report.refused, f"import refused: {report.rejected[:3]}")
    expect(report.importer == "google.records", f"detected as {report.importer}")
    expect(
        report.points_gained == points, f"expected {points} new points, got {report.points_gained}"
    )
    print(json.dumps({"seconds": seconds, "cpu": cpu, "rss_mib": own_peak_rss_mib()}))


def _import_in_child(path: Path, config: Config, points: int) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds, peak RSS in MiB) of one import in a child process."""
    command = [sys.executable, str(Path(__file__)), "--child", str(path), str(points)]
    if config.database_url:
        command.append(config.database_url)
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT)
    if done.returncode != 0:
        raise RuntimeError(f"the import child failed:\n{done.stderr[-3000:]}")
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    return float(figures["seconds"]), float(figures["cpu"]), float(figures["rss_mib"])


def run(config: Config) -> list[Figure]:
    sys.path.insert(0, str(ROOT))  # tests.samples holds the generator
    from tests.samples.mobility import records_json

    points = config.pick(1_000_000, 100_000)
    repeat = config.pick(2, 1)
    with tempfile.TemporaryDirectory(prefix="selfdata-bench-mobility-") as folder:
        path = Path(folder) / "Records.json"
        with path.open("wb") as out:
            size = records_json(out, points)
        runs = [_import_in_child(path, config, points) for _ in range(repeat)]
    seconds = best([wall for wall, _, _ in runs])
    cpu = best([used for _, used, _ in runs])
    rss = max(peak for _, _, peak in runs)
    full = not config.quick
    label = f"{points:,} points"
    return [
        Figure(
            "mobility.records_json_1m" if full else "mobility.records_json_100k",
            seconds,
            "s",
            f"best of {repeat}",
            Target("<", 10.0) if full else None,
            f"{label}, {size / 1e6:.0f} MB, fresh instance, detect + validate + write",
        ),
        Figure(
            "mobility.records_json_1m_cpu" if full else "mobility.records_json_100k_cpu",
            cpu,
            "s",
            f"best of {repeat}",
            note="CPU seconds of the importing process: what the wall time is when no "
            "other process competes for the cores",
        ),
        Figure(
            "mobility.records_json_1m_peak_rss" if full else "mobility.records_json_100k_rss",
            rss,
            "MiB",
            f"max of {repeat}, VmHWM of the child",
            Target("<", 300.0) if full else None,
            "the importing process alone (a child of its own)",
        ),
    ]


if __name__ == "__main__" and len(sys.argv) >= 4 and sys.argv[1] == "--child":
    sys.path.insert(0, str(ROOT / "src"))
    _child(Path(sys.argv[2]), sys.argv[4] if len(sys.argv) > 4 else None, int(sys.argv[3]))
