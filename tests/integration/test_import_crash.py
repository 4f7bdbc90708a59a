"""A process killed during an import leaves the space consistent, and importing the same
file again completes it without duplicates.

A real ``selfdata`` process (a small script around :class:`ImportRunner`, the same code
``selfdata import`` runs) imports ten years of an Enedis load curve into a SQLite home;
it is SIGKILLed in the middle of the writing pass. Then: the database passes its
integrity check, the space's audit chain verifies, what was written is a clean prefix
of the file (whole batches, each point right), and a second import completes the rest.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from selfdata.access import SpaceView
from selfdata.importers import ImportRunner
from selfdata.platform import Platform, init_instance
from tests.conftest import make_space
from tests.samples.enedis import load_curve_csv, load_curve_values

pytestmark = [
    pytest.mark.timeout(300),
    pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals"),
]

FIRST, LAST = date(2014, 1, 1), date(2024, 1, 1)
BATCH = 2000
KILL_AFTER = 8  # writing batches seen before the kill

CHILD = """
import sys
from pathlib import Path
from selfdata.importers import ImportRunner
from selfdata.platform import Platform
from selfdata.settings import Settings

home, path = Path(sys.argv[1]), Path(sys.argv[2])
platform = Platform.open(Settings.for_home(home))
view = platform.citizen_view("alice")

def progress(phase, done, total):
    print(phase, done, total, flush=True)

with path.open("rb") as stream:
    report = ImportRunner(view).run(
        stream, path.name, batch_size=int(sys.argv[3]), progress=progress
    )
print("finished", report.points_gained, flush=True)
"""


def stored(view: SpaceView) -> tuple[int, int, np.ndarray, np.ndarray]:
    """(meters, streams, ts, values) of the space."""
    meters = list(view.iter_records("energy.meter"))
    streams = view.streams("energy.reading")
    if not streams:
        return len(meters), 0, np.array([], dtype=np.int64), np.array([])
    frame = view.read_points(streams[0].id)
    return len(meters), len(streams), frame.ts, frame.columns["value"]


def test_a_killed_import_leaves_a_consistent_space(tmp_path: Path) -> None:
    home = tmp_path / "home"
    settings, _ = init_instance(home)
    platform = Platform.open(settings)
    try:
        make_space(platform, "alice")
    finally:
        platform.close()
    export = tmp_path / "Enedis_Conso_Heure_10_ans.csv"
    export.write_bytes(load_curve_csv(FIRST, LAST))
    total = sum(1 for _ in export.open("rb")) - 3  # the header lines

    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(home), str(export), str(BATCH)],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "SELFDATA_ARGON2_PROFILE": "test"},
    )
    assert child.stdout is not None
    writing = 0
    for line in child.stdout:
        if line.startswith("writing"):
            writing += 1
            if writing == KILL_AFTER:
                child.send_signal(signal.SIGKILL)
                break
        assert not line.startswith("finished"), "the import ended before it could be killed"
    child.wait(60)
    assert child.returncode == -signal.SIGKILL

    platform = Platform.open(settings)
    try:
        with platform.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        view = platform.citizen_view("alice")
        ok, message, events = view.verify_log()
        assert ok, message
        assert events > KILL_AFTER  # the batches written were audited

        meters, streams, ts, values = stored(view)
        assert (meters, streams) == (1, 1)
        # A clean prefix of the file: whole batches, every point where and what it is.
        assert 0 < len(ts) < total
        assert len(ts) % BATCH == 0
        assert np.all(np.diff(ts) == 1800)
        np.testing.assert_allclose(values, load_curve_values(len(ts)))
        partial = len(ts)

        with export.open("rb") as stream:
            report = ImportRunner(view).run(stream, export.name, batch_size=BATCH)
        assert not report.refused and report.source_existed  # registered by the killed run
        assert report.counts["energy.reading"].points_read == total
        assert report.counts["energy.reading"].points_gained == total - partial
        assert report.counts["energy.meter"].created == 0
        assert report.counts["energy.meter"].unchanged == 1

        meters, streams, ts, values = stored(view)
        assert (meters, streams, len(ts)) == (1, 1, total)  # no duplicates
        assert np.all(np.diff(ts) == 1800)
        np.testing.assert_allclose(values, load_curve_values(total))
        assert view.verify_log()[0]
    finally:
        platform.close()
