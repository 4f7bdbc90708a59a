"""Many threads on one instance: every write lands once, the chain stays whole."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from selfdata.access import Query
from selfdata.doctypes.examples import EXAMPLES
from selfdata.platform import Platform
from tests.conftest import make_space


def test_concurrent_writers_and_readers(platform: Platform) -> None:
    alice = make_space(platform, "alice")
    bob = make_space(platform, "bobby")

    def work(n: int) -> int:
        view = alice if n % 2 else bob
        batch = [dict(EXAMPLES["bank.transaction"], transaction_id=f"W{n}-{i}") for i in range(20)]
        view.put_records("bank.transaction", batch)
        view.summary()
        return len(view.query(Query.build("bank.transaction", limit=1000)).items)

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(work, range(40)))
    assert all(r >= 20 for r in results)
    for view in (alice, bob):
        assert len(view.query(Query.build("bank.transaction", limit=1000)).items) == 400
        ok, message, count = view.verify_log()
        assert ok, message
        assert count == 1 + 20 * 3 + 1  # creation; per task: write, summary, query; the check above
