"""File throughput through the gate: a 50 MiB file put and read back.

* ``files.put`` — ``SpaceView.put_file`` fed 256 KiB chunks (as an upload arrives):
  cut into 1 MiB segments, each sealed; keyed fingerprint of the content (dedup); the
  blob written to a temporary name, fsync'ed and renamed; one audited transaction.
  Each run stores different content, so the dedup path never short-cuts the write.
* ``files.get`` — ``SpaceView.open_file`` and the whole plaintext iterated: each
  segment read, length-checked and opened. The blob was just written: it is read
  from the OS page cache, not from the disk.

Random bytes: nothing to compress, as in a PDF or a photo.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from _common import Config, Figure, best, expect, instance, time_runs, time_runs_with
from selfdata.access import SpaceView

__all__ = ["run"]

_MIB = 1024 * 1024
_UPLOAD_CHUNK = 256 * 1024


def _chunks(content: bytes) -> Iterator[bytes]:
    for offset in range(0, len(content), _UPLOAD_CHUNK):
        yield content[offset : offset + _UPLOAD_CHUNK]


def run(config: Config) -> list[Figure]:
    size_mib = config.pick(50, 10)
    repeat = 3
    base = os.urandom(size_mib * _MIB)
    serial = iter(range(1, 1_000))
    with instance(config) as bench:
        view = bench.new_space("files")

        def variant() -> bytes:
            """The same size, different content (another file, not a duplicate)."""
            return next(serial).to_bytes(8, "big") + base[8:]

        def put(content: bytes) -> str:
            info = view.put_file(
                _chunks(content), filename="scan.pdf", media_type="application/pdf"
            )
            expect(
                not info.duplicate_of_existing and info.size == len(content),
                "the file should be stored as new",
            )
            return info.id

        put(variant()[: 2 * _MIB])  # warm-up
        put_s = best(time_runs_with(variant, put, repeat))
        file_id = put(base)
        expect(_read_all(view, file_id) == len(base), "the file should read back whole")
        get_s = best(time_runs(lambda: _read_all(view, file_id), repeat))
    note = f"{size_mib} MiB file, 1 MiB sealed segments"
    return [
        Figure(
            "files.put", size_mib / put_s, "MiB/s", f"best of {repeat}", note=f"{note}, fsync'ed"
        ),
        Figure("files.get", size_mib / get_s, "MiB/s", f"best of {repeat}", note=note),
    ]


def _read_all(view: SpaceView, file_id: str) -> int:
    _, content = view.open_file(file_id)
    return sum(len(piece) for piece in content)
