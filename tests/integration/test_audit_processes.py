"""Several server processes on one SQLite instance (``selfdata serve --workers N``).

The in-process lock that queues a process's writers does not reach other processes:
what keeps a space's hash chain whole across them is that each audit event is appended
inside a ``BEGIN IMMEDIATE`` transaction, whose lock SQLite holds for the database file.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.synchronize import Barrier
from pathlib import Path

from selfdata.doctypes.examples import EXAMPLES
from selfdata.platform import Platform
from selfdata.settings import Settings
from tests.conftest import make_space

ROUNDS = 100
THREADS = 2


def _worker(home: str, record_id: str, tag: str, start: Barrier) -> None:
    """Another process: reads and writes alice's space from two threads at once."""
    platform = Platform.open(Settings.for_home(Path(home)))
    try:
        view = platform.citizen_view("alice")
        start.wait(60)  # both processes are up: their accesses overlap

        def work(thread: int) -> int:
            for i in range(ROUNDS):
                view.get_record(record_id)
                if i % 10 == 0:
                    item = dict(EXAMPLES["bank.transaction"], transaction_id=f"{tag}-{thread}-{i}")
                    view.put_records("bank.transaction", [item])
            return ROUNDS + ROUNDS // 10

        with ThreadPoolExecutor(THREADS) as pool:
            assert sum(pool.map(work, range(THREADS))) == THREADS * (ROUNDS + ROUNDS // 10)
    finally:
        platform.close()


def test_two_processes_append_to_one_chain(sqlite_platform: Platform) -> None:
    alice = make_space(sqlite_platform, "alice")
    record_id = alice.put_records("energy.meter", [EXAMPLES["energy.meter"]]).ids[0]
    home = str(sqlite_platform.settings.home)
    # spawn: each worker builds its own engine, as uvicorn's worker processes do.
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(2)
    workers = [context.Process(target=_worker, args=(home, record_id, tag, start)) for tag in "AB"]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(120)
    assert [w.exitcode for w in workers] == [0, 0]

    expected = 2 * THREADS * (ROUNDS + ROUNDS // 10)
    ok, message, count = alice.verify_log()
    assert ok, message
    # The space's creation, the meter's write, then every access of both processes.
    assert count == 1 + 1 + expected
    assert len(list(alice.iter_records("bank.transaction"))) == 2 * THREADS * (ROUNDS // 10)
