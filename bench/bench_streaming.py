"""Importing a 1 GB meter export with bounded memory (DESIGN §7: "memory bounded when the
input grows (streaming: a 1 GB export under 300 MB RSS)").

* ``streaming.enedis_1gb`` — an Enedis load curve of about 1 GB (one reading a minute,
  ``Pas en minutes`` 1, from 1970: 32.5 million lines of
  ``1970-01-01T01:01:00+01:00;123,4``) imported into a new space of a fresh instance
  through ``ImportRunner``: detection, the validation pass, the keyed fingerprint, the
  writing pass. The parsed items of such a file go over the runner's replay budget, so
  the writing pass parses the file again. Wall time of ``run()``.
* ``streaming.enedis_1gb_cpu`` — the CPU seconds of that import (other benchmarks
  running on the machine inflate the wall time, much less the CPU time).
* ``streaming.enedis_1gb_readings_per_s`` — readings over the wall time.
* ``streaming.enedis_1gb_peak_rss`` — the peak resident memory of the process that did
  the import (a child process of its own: the interpreter and libraries included,
  nothing left behind by other benchmarks); ``streaming.enedis_1gb_rss_before`` is the
  same process's before the import (the fresh instance opened), for comparison.

The file is generated on disk in a temporary folder (synthetic values, numpy: about
ten seconds) before the timing. Slow (a minute or more): left out by ``--quick``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO
from zoneinfo import ZoneInfo

import numpy as np

from _common import Config, Figure, Target, expect, instance, own_peak_rss_mib

__all__ = ["run"]

ROOT = Path(__file__).resolve().parents[1]
PRM = "09876543210987"
GIGABYTE = 10**9
LINE = 33  # bytes of one data line: 25 (stamp) + 1 + 5 (value) + 2 (CR LF)
_BATCH = 1 << 18  # lines generated at a time (about 30 MB of temporaries)


def enedis_minutes(out: BinaryIO, size: int) -> int:
    """Writes an Enedis load curve of about ``size`` bytes (a reading a minute from
    1970-01-01, Paris offsets); returns the number of readings."""
    from selfdata.importers._bulktimes import ZoneTable

    count = max(1, (size - 300) // LINE)
    out.write(
        (
            "Identifiant PRM;Type de donnees;Date de debut;Date de fin;Grandeur physique;"
            "Grandeur metier;Etape metier;Unite;Pas en minutes\r\n"
            f"{PRM};Courbe de charge;01/01/1970;;Energie active;Consommation;"
            "Comptage Brut;W;1\r\nHorodate;Valeur\r\n"
        ).encode("utf-8-sig")
    )
    zone = ZoneTable(ZoneInfo("Europe/Paris"))
    start = int(datetime(1970, 1, 1, tzinfo=UTC).timestamp())
    for first in range(0, count, _BATCH):
        index = np.arange(first, min(first + _BATCH, count), dtype=np.int64)
        ends = start + (index + 1) * 60  # each value stamped with the end of its minute
        offsets = zone.offsets_at(ends)
        expect(offsets is not None, "1970 onwards: the zone table covers it")
        assert offsets is not None  # for mypy
        local = (ends + offsets).astype("datetime64[s]")
        stamps = np.datetime_as_string(local, unit="s").astype("S19")
        rows = np.empty((index.shape[0], LINE), dtype=np.uint8)
        rows[:, :19] = stamps.view(np.uint8).reshape(-1, 19)
        hours = offsets // 3600
        rows[:, 19] = np.where(offsets < 0, ord("-"), ord("+"))
        rows[:, 20] = ord("0") + np.abs(hours) // 10
        rows[:, 21] = ord("0") + np.abs(hours) % 10
        rows[:, 22:25] = np.frombuffer(b":00", dtype=np.uint8)
        rows[:, 25] = ord(";")
        tenths = 1000 + (index * 37) % 9000  # 100,0 to 999,9 W
        for column, divisor in ((26, 1000), (27, 100), (28, 10), (30, 1)):
            rows[:, column] = ord("0") + (tenths // divisor) % 10
        rows[:, 29] = ord(",")
        rows[:, 31:33] = np.frombuffer(b"\r\n", dtype=np.uint8)
        out.write(rows.tobytes())
    return count


def _child(path: Path, database_url: str | None, readings: int) -> None:
    """In the child process: a fresh instance, one import, figures as JSON on stdout."""
    from selfdata.importers import ImportRunner

    with instance(Config(database_url=database_url)) as bench:
        view = bench.new_space("streaming")
        before = own_peak_rss_mib()
        started, cpu = time.perf_counter(), time.process_time()
        with path.open("rb") as stream:
            report = ImportRunner(view).run(stream, "Enedis_Conso_Minute.csv")
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    expect(not report.refused, f"import refused: {report.rejected[:3]}")
    expect(report.importer == "enedis.load_curve", f"detected as {report.importer}")
    gained = report.points_gained
    expect(gained == readings, f"expected {readings} new points, got {gained}")
    figures = {"seconds": seconds, "cpu": cpu, "rss_mib": own_peak_rss_mib(), "before": before}
    print(json.dumps(figures))


def _import_in_child(path: Path, config: Config, readings: int) -> dict[str, float]:
    command = [sys.executable, str(Path(__file__)), "--child", str(path), str(readings)]
    if config.database_url:
        command.append(config.database_url)
    done = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT)
    if done.returncode != 0:
        raise RuntimeError(f"the import child failed:\n{done.stderr[-3000:]}")
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def run(config: Config) -> list[Figure]:
    if config.quick:
        return []  # a minute or more, and a gigabyte on disk
    with tempfile.TemporaryDirectory(prefix="selfdata-bench-streaming-") as folder:
        path = Path(folder) / "Enedis_Conso_Minute.csv"
        with path.open("wb") as out:
            readings = enedis_minutes(out, GIGABYTE)
        size = path.stat().st_size
        figures = _import_in_child(path, config, readings)
    label = f"{readings:,} readings, {size / 1e9:.2f} GB"
    return [
        Figure(
            "streaming.enedis_1gb",
            figures["seconds"],
            "s",
            "one run",
            note=f"{label}, fresh instance, detect + validate + fingerprint + write",
        ),
        Figure(
            "streaming.enedis_1gb_cpu",
            figures["cpu"],
            "s",
            "one run",
            note="CPU seconds of the importing process",
        ),
        Figure(
            "streaming.enedis_1gb_readings_per_s",
            readings / figures["seconds"],
            "readings/s",
            "one run",
            note=f"{readings / figures['cpu']:,.0f} readings per CPU second",
        ),
        Figure(
            "streaming.enedis_1gb_peak_rss",
            figures["rss_mib"],
            "MiB",
            "VmHWM of the child",
            Target("<", 300.0),
            "the importing process alone (a child of its own)",
        ),
        Figure(
            "streaming.enedis_1gb_rss_before",
            figures["before"],
            "MiB",
            "VmHWM of the child",
            note="the same process before the import (interpreter, libraries, instance)",
        ),
    ]


if __name__ == "__main__" and len(sys.argv) >= 4 and sys.argv[1] == "--child":
    sys.path.insert(0, str(ROOT / "src"))
    _child(Path(sys.argv[2]), sys.argv[4] if len(sys.argv) > 4 else None, int(sys.argv[3]))
