"""Moving a space: export it whole to an archive, then import the archive as a new space.

The space holds ten years of half-hourly readings (175,320 points), five years of bank
transactions (5,000) and 1,000 small files (2 KiB each), as in DESIGN §7 ("Export of a
space with ten years of data, and import elsewhere, each < 5 s").

* ``portability.export`` — ``SpaceView.export_space`` to an in-memory sink: the export
  event, a checkpoint, then one transaction reading every record (500 at a time),
  every series (Parquet + CSV), every file (decrypted, streamed), the consents and the
  access log, into a zip with a SHA-256 per member. Not encrypted (age with a
  passphrase adds scrypt, ~1 s at work factor 18, plus ChaCha20 at ~1 GB/s).
* ``portability.import`` — ``SpaceDirectory.import_space`` of that archive into the same
  instance under a new name: every checksum verified, every record validated against
  its doctype, the log's chain checked, then one transaction writing it all (files
  sealed to the blob store, fsync'ed), sealed with a new space key.

Peak memory is reported as the growth of the Python heap during each operation
(``tracemalloc``), and as the process's peak RSS at the end.
"""

from __future__ import annotations

import io
import os
import tracemalloc
from collections.abc import Callable

from _common import (
    OPERATOR,
    TRANSACTION,
    Config,
    Figure,
    Target,
    best,
    expect,
    half_hourly_readings,
    instance,
    new_meter,
    peak_rss_mib,
    time_runs,
    transactions,
)

__all__ = ["run"]

_PASSWORD = "benchmark passphrase, not a secret"  # noqa: S105 (throw-away spaces)


def _traced(call: Callable[[], object]) -> float:
    """Peak Python heap growth during ``call``, in MiB."""
    tracemalloc.start()
    try:
        call()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / (1024 * 1024)


def run(config: Config) -> list[Figure]:
    points = config.pick(175_320, 35_064)
    count = config.pick(5_000, 1_000)
    n_files = config.pick(1_000, 200)
    repeat = config.pick(3, 1)
    with instance(config) as bench:
        view = bench.new_space("portability")
        stream = view.create_stream("energy.reading", record_id=new_meter(view))
        ts, values = half_hourly_readings(points)
        view.append_points(stream.id, ts, values)
        view.put_records(TRANSACTION, transactions(count))
        for i in range(n_files):
            view.put_file(
                [i.to_bytes(4, "big") + os.urandom(2044)],
                filename=f"doc-{i}.pdf",
                media_type="application/pdf",
            )
        archive = io.BytesIO()

        def export() -> None:
            archive.seek(0)
            archive.truncate()
            report = view.export_space(archive)
            expect(report.manifest["counts"]["points"] == points, "every point exported")

        export()  # warm-up
        export_s = best(time_runs(export, repeat))
        export_mib = _traced(export)
        raw = archive.getvalue()
        serial = iter(range(1_000))

        def restore() -> None:
            name = f"moved-{next(serial)}-{os.getpid()}"
            report = bench.platform.directory.import_space(
                io.BytesIO(raw), _PASSWORD, OPERATOR, name=name
            )
            bench.spaces.append(report.space_id)
            expect(report.counts["points"] == points, "every point imported")
            expect(report.counts["files"] == n_files, "every file imported")

        import_s = best(time_runs(restore, repeat))
        import_mib = _traced(restore)
    note = (
        f"{points:,} readings, {count:,} transactions, {n_files:,} files; "
        f"archive {len(raw) / 1e6:.1f} MB"
    )
    return [
        Figure("portability.export", export_s, "s", f"best of {repeat}", Target("<", 5), note=note),
        Figure("portability.import", import_s, "s", f"best of {repeat}", Target("<", 5), note=note),
        Figure("portability.export.heap_peak", export_mib, "MiB", "tracemalloc, one run"),
        Figure("portability.import.heap_peak", import_mib, "MiB", "tracemalloc, one run"),
        Figure("portability.rss_peak", peak_rss_mib(), "MiB", "getrusage, whole process"),
    ]
