"""Bulk import of documents (``bank.transaction``) through the gate, and its re-import.

* ``records.insert_validated`` — ``SpaceView.put_records`` with raw dicts: validation,
  fingerprints, sealing, one audited write transaction. Each run in a fresh space.
* ``records.insert_prevalidated`` — the same with ``validated=True`` (what an importer
  that validated while parsing calls): the store's own cost.
* ``records.insert_*_cpu`` — the same two, per second of this process's CPU time (the
  fairer figure when other processes compete for the cores).
* ``records.reimport_dedup`` — the same raw batch again into a space that has it all:
  validation, fingerprint look-ups, decrypt-and-compare, nothing written.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from _common import (
    TRANSACTION,
    BenchInstance,
    Config,
    Figure,
    Target,
    best,
    expect,
    instance,
    time_alternating,
    time_runs,
    transactions,
)
from selfdata.access import SpaceView

__all__ = ["run"]

IMPORT_TARGET = Target(">=", 50_000)
Prepare = Callable[[], Callable[[], None]]


def _insert(view: SpaceView, items: Sequence[Mapping[str, Any]], *, validated: bool) -> None:
    report = view.put_records(TRANSACTION, items, validated=validated)
    expect(report.created == len(items), f"expected {len(items)} new records, got {report.created}")


def run(config: Config) -> list[Figure]:
    count = config.pick(100_000, 20_000)
    repeat = config.pick(3, 2)
    items = transactions(count)
    stat = f"best of {repeat}, alternated"
    note = f"{count:,} records"
    with instance(config) as bench:
        # Warm-up: imports, pydantic, SQL compilation caches, the database file.
        _insert(bench.new_space("warmup"), transactions(2_000, seed=99), validated=False)

        canonical = bench.new_space("validate").validate(TRANSACTION, items)

        def insert(batch: Sequence[Mapping[str, Any]], *, validated: bool) -> Prepare:
            def prepare() -> Callable[[], None]:
                view = bench.new_space("insert")
                return lambda: _insert(view, batch, validated=validated)

            return prepare

        # Alternated, so that both variants meet the same database size and load.
        times = time_alternating(
            {
                "validated": insert(items, validated=False),
                "prevalidated": insert(canonical, validated=True),
            },
            repeat,
        )
        validated_s = best([t.wall for t in times["validated"]])
        prevalidated_s = best([t.wall for t in times["prevalidated"]])
        # CPU time too: on a shared machine it is far less disturbed than wall time.
        validated_cpu = best([t.cpu for t in times["validated"]])
        prevalidated_cpu = best([t.cpu for t in times["prevalidated"]])
        reimport_s = _reimport(bench, items, canonical, repeat)
    return [
        Figure(
            "records.insert_validated", count / validated_s, "records/s", stat, IMPORT_TARGET, note
        ),
        Figure(
            "records.insert_prevalidated",
            count / prevalidated_s,
            "records/s",
            stat,
            IMPORT_TARGET,
            note,
        ),
        Figure(
            "records.insert_validated_cpu",
            count / validated_cpu,
            "records/CPU-s",
            f"best of {repeat}, process CPU time",
            note=note,
        ),
        Figure(
            "records.insert_prevalidated_cpu",
            count / prevalidated_cpu,
            "records/CPU-s",
            f"best of {repeat}, process CPU time",
            note=note,
        ),
        Figure(
            "records.reimport_dedup",
            count / reimport_s,
            "records/s",
            f"best of {repeat}",
            note=f"{note}, all already stored, raw dicts",
        ),
    ]


def _reimport(
    bench: BenchInstance,
    items: Sequence[Mapping[str, Any]],
    canonical: Sequence[Mapping[str, Any]],
    repeat: int,
) -> float:
    view = bench.new_space("reimport")
    _insert(view, canonical, validated=True)

    def again() -> None:
        report = view.put_records(TRANSACTION, items)
        expect(
            report.unchanged == len(items) and report.created == 0 and report.updated == 0,
            f"a re-import should change nothing, it reported {report.as_dict()}",
        )

    return best(time_runs(again, repeat))
