"""What encryption at rest costs: the same operations with AES-256-GCM and without.

Two fresh instances side by side. The second hands out space keys whose cipher is a
:class:`NullCipher` — same methods as ``SpaceCipher``, the plaintext behind a one-byte
header — so records, series chunks, file segments and audit events are stored in
clear. Everything else is identical, including the keyed (HMAC) fingerprints used for
de-duplication, which are not encryption. This swap lives in this benchmark process
only, on that one instance's key store.

Each figure is ``encrypted time / plaintext time`` (1.00 = free), from the best (or
median) of N runs of each, the two variants alternating run by run. The figure uses
the process's CPU time (``time.process_time``): encryption is pure CPU work, and on a
shared two-core machine the wall-clock ratio of two ~equal times swings by ±30 % with
the load of other processes. The wall-clock times and their ratio are in the note.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, select

from _common import (
    TRANSACTION,
    BenchInstance,
    Config,
    Figure,
    best,
    expect,
    half_hourly_readings,
    instance,
    median,
    new_meter,
    time_alternating,
    transactions,
)
from selfdata.access import Query, SpaceView
from selfdata.crypto import Associated, SpaceCipher, SpaceKeys
from selfdata.db.tables import records
from selfdata.errors import CryptoError
from selfdata.store.keys import KeyStore

__all__ = ["NullCipher", "PlaintextKeyStore", "run"]

_HEADER = b"\x00"
Points = npt.NDArray[np.int64]
Values = npt.NDArray[np.float64]


class NullCipher(SpaceCipher):
    """``SpaceCipher``'s interface without the cipher: ``seal`` prepends a header byte."""

    __slots__ = ()

    def __init__(self, space_id: str) -> None:  # no key, no AESGCM
        self.space_id = space_id

    def seal(self, plaintext: bytes, ad: Associated) -> bytes:
        return _HEADER + plaintext

    def seal_raw(self, plaintext: bytes, ad_bytes: bytes) -> bytes:
        return _HEADER + plaintext

    def open(self, sealed: bytes, ad: Associated) -> bytes:
        return self.open_raw(sealed, ad.encode(), ad)

    def open_raw(self, sealed: bytes, ad_bytes: bytes, ad: Associated | None = None) -> bytes:
        if sealed[:1] != _HEADER:
            raise CryptoError("not a NullCipher value")
        return sealed[1:]


def _plain(keys: SpaceKeys) -> SpaceKeys:
    if not isinstance(keys.cipher, NullCipher):
        keys.cipher = NullCipher(keys.space_id)
    return keys


class PlaintextKeyStore(KeyStore):
    """A key store whose space keys seal nothing (even after its cache expires)."""

    def create(self, conn: Connection, space_id: str, now_ms: int) -> SpaceKeys:
        return _plain(super().create(conn, space_id, now_ms))

    def get(self, conn: Connection, space_id: str) -> SpaceKeys:
        return _plain(super().get(conn, space_id))


@dataclass(frozen=True, slots=True)
class _Variant:
    """One instance and the data set it holds."""

    bench: BenchInstance
    view: SpaceView  # holds the records (scan) and a ten-year stream (aggregate)
    meter_id: str
    stream_id: str


def _prepare(bench: BenchInstance, canonical: Sequence[Mapping[str, Any]]) -> _Variant:
    view = bench.new_space("crypto")
    view.put_records(TRANSACTION, canonical, validated=True)
    meter_id = new_meter(view)
    ts, values = half_hourly_readings()
    stream = view.create_stream("energy.reading", record_id=meter_id)
    view.append_points(stream.id, ts, values)
    return _Variant(bench, view, meter_id, stream.id)


def _stored_in_clear(variant: _Variant) -> bool:
    """Whether the record bodies in the database are readable JSON (the null cipher)."""
    with variant.bench.platform.engine.connect() as conn:
        body = conn.execute(
            select(records.c.body).where(records.c.space_id == variant.view.space_id).limit(1)
        ).scalar_one()
    return b'"account_id"' in bytes(body)


Prepare = Callable[[], Callable[[], object]]


def _operations(
    count: int, canonical: Sequence[Mapping[str, Any]], ts: Points, values: Values
) -> dict[str, Callable[[_Variant], Prepare]]:
    """Per operation: given a variant, what to prepare (untimed) and then time."""

    def insert(variant: _Variant) -> Prepare:
        def prepare() -> Callable[[], object]:
            view = variant.bench.new_space("insert")

            def put() -> None:
                report = view.put_records(TRANSACTION, canonical, validated=True)
                expect(report.created == count, "every record should be new")

            return put

        return prepare

    def scan(variant: _Variant) -> Prepare:
        def once() -> None:
            page = variant.view.query(Query.build(TRANSACTION, filters=["amount<-1000000"]))
            expect(page.scanned == count, "the scan should read every record")

        return lambda: once

    def append(variant: _Variant) -> Prepare:
        def prepare() -> Callable[[], object]:
            stream = variant.view.create_stream("energy.reading", record_id=variant.meter_id)

            def put() -> None:
                gained = variant.view.append_points(stream.id, ts, values)
                expect(gained == ts.shape[0], "every point should be new")

            return put

        return prepare

    def aggregate(variant: _Variant) -> Prepare:
        return lambda: lambda: variant.view.aggregate(variant.stream_id, "day")

    return {"insert": insert, "scan": scan, "append": append, "aggregate": aggregate}


def run(config: Config) -> list[Figure]:
    count = config.pick(100_000, 20_000)
    items = transactions(count)
    ts, values = half_hourly_readings()
    # name: (runs of each variant, summary, what is measured)
    plan: dict[str, tuple[int, str, str]] = {
        "insert": (config.pick(3, 2), "best", f"{count:,} records, pre-validated"),
        "scan": (config.pick(3, 2), "best", f"{count:,} records decrypted, one request"),
        "append": (config.pick(5, 3), "best", f"{ts.shape[0]:,} points, one append"),
        "aggregate": (config.pick(20, 10), "median", "10 years by day"),
    }
    with instance(config) as real_bench, instance(config) as plain_bench:
        platform = plain_bench.platform
        platform.gate.keys = PlaintextKeyStore(platform.gate.keyring)
        canonical = real_bench.new_space("validate").validate(TRANSACTION, items)
        real, plain = _prepare(real_bench, canonical), _prepare(plain_bench, canonical)
        expect(not _stored_in_clear(real), "the real instance stored a record in clear")
        expect(_stored_in_clear(plain), "the null cipher is not in use")
        for variant in (real, plain):  # warm-up (inserts and appends ran in _prepare)
            variant.view.query(Query.build(TRANSACTION, limit=100))
            variant.view.aggregate(variant.stream_id, "day")
        figures: list[Figure] = []
        for name, operation in _operations(count, canonical, ts, values).items():
            runs, summary, what = plan[name]
            times = time_alternating({"real": operation(real), "plain": operation(plain)}, runs)
            summarise = best if summary == "best" else median
            real_wall = summarise([t.wall for t in times["real"]])
            plain_wall = summarise([t.wall for t in times["plain"]])
            real_cpu = summarise([t.cpu for t in times["real"]])
            plain_cpu = summarise([t.cpu for t in times["plain"]])
            figures.append(
                Figure(
                    f"crypto.{name}_ratio",
                    real_cpu / plain_cpu,
                    "x",
                    f"CPU time, {summary} of {runs}, alternated",
                    note=f"{what}: {_ms(real_cpu)} vs {_ms(plain_cpu)} CPU; wall {_ms(real_wall)} "
                    f"vs {_ms(plain_wall)} = {real_wall / plain_wall:.2f}",
                )
            )
    return figures


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"
