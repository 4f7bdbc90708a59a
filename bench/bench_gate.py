"""What the authorisation point and the audit log add to a single-record read.

The same random record ids are read four ways (µs per read):

* ``gate.read_direct`` — ``store.records.get_record`` on one open connection, with the
  space's keys in hand: the store's own cost (select, decrypt, parse). The baseline
  the DESIGN §7 target ("check plus audit adds < 20 %") is stated against.
* ``gate.read_own_transaction`` — the same, each read in its own transaction, as any
  request has to be: isolates the transaction cost from the check and the audit.
* ``gate.read_checked`` — through ``Gate.access(..., audited=False)``: the space's
  status, the record's doctype, the policy decision, the key cache; no audit event.
* ``gate.read_audited`` — ``SpaceView.get_record``: all of the above plus the audit
  event (hash-chain head read for update, sealed event insert, head update), which
  makes every read a write transaction.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from functools import partial

from sqlalchemy import Connection

from _common import (
    TRANSACTION,
    Config,
    Figure,
    Target,
    best,
    instance,
    time_alternating,
    transactions,
)
from selfdata.access import AccessRequest, SpaceView
from selfdata.platform import Platform
from selfdata.store import records as record_store

__all__ = ["run"]

OVERHEAD_TARGET = Target("<", 1.2)
Reader = Callable[[list[str]], None]


def _readers(platform: Platform, view: SpaceView) -> dict[str, Reader]:
    engine, gate, space_id = platform.engine, platform.gate, view.space_id
    with engine.connect() as conn:
        keys = gate.keys.get(conn, space_id)

    def direct(ids: list[str]) -> None:
        with engine.connect() as conn:
            for record_id in ids:
                record_store.get_record(conn, keys, record_id)

    def own_transaction(ids: list[str]) -> None:
        for record_id in ids:
            with engine.begin() as conn:
                record_store.get_record(conn, keys, record_id)

    def doctype_of(record_id: str) -> Callable[[Connection], str]:
        return lambda conn: record_store.record_doctype(conn, space_id, record_id)

    def checked(ids: list[str]) -> None:
        for record_id in ids:
            request = AccessRequest(view.actor, space_id, "read", None, view.purpose)
            with gate.access(
                request, resolve_doctype=doctype_of(record_id), audited=False
            ) as access:
                record_store.get_record(access.conn, access.keys, record_id)

    def audited(ids: list[str]) -> None:
        for record_id in ids:
            view.get_record(record_id)

    return {
        "direct": direct,
        "own_transaction": own_transaction,
        "checked": checked,
        "audited": audited,
    }


def _prepared(reader: Reader, ids: list[str]) -> Callable[[], Callable[[], None]]:
    return lambda: partial(reader, ids)


def run(config: Config) -> list[Figure]:
    count = config.pick(20_000, 5_000)
    reads = config.pick(2_000, 500)
    repeat = config.pick(3, 2)
    with instance(config) as bench:
        view = bench.new_space("gate")
        report = view.put_records(TRANSACTION, transactions(count))
        ids = random.Random(3).sample(report.ids, reads)
        readers = _readers(bench.platform, view)
        for reader in readers.values():
            reader(ids[:200])  # warm-up
        seconds = time_alternating(
            {name: _prepared(reader, ids) for name, reader in readers.items()}, repeat
        )
    per_read = {name: best([t.wall for t in times]) / reads for name, times in seconds.items()}
    stat = f"best of {repeat}, alternated"
    note = f"{reads:,} random reads among {count:,} records"
    direct, own, audited = per_read["direct"], per_read["own_transaction"], per_read["audited"]
    return [
        Figure("gate.read_direct", direct * 1e6, "us/read", stat, note=note),
        Figure("gate.read_own_transaction", own * 1e6, "us/read", stat, note=note),
        Figure(
            "gate.read_checked",
            per_read["checked"] * 1e6,
            "us/read",
            stat,
            note="gate check, no audit event",
        ),
        Figure(
            "gate.read_audited",
            audited * 1e6,
            "us/read",
            stat,
            note=f"SpaceView.get_record, {1 / audited:,.0f} reads/s on one thread",
        ),
        Figure(
            "gate.audit_overhead_ratio",
            audited / direct,
            "x",
            stat,
            OVERHEAD_TARGET,
            "audited / direct (DESIGN §7)",
        ),
        Figure(
            "gate.overhead_vs_transaction",
            audited / own,
            "x",
            stat,
            note="audited / direct with one transaction per read",
        ),
    ]
