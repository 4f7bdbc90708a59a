"""Record queries through the gate, on a space holding the import of bench_records.

* ``query.first_page_100`` — the first page of 100 transactions (oldest first, the
  default order): one audited read of 101 rows, decrypted.
* ``query.filtered_all_pages`` — every transaction with ``amount<-50``, fetched page by
  page (1,000 per page, the API's maximum) as a client walking ``next_cursor`` would.
  Filters run after decryption, so this decrypts every record of the doctype.
* ``query.filtered_one_request`` — one request whose filter matches nothing: the
  server decrypts and tests every record (the worst case of one request).
"""

from __future__ import annotations

from decimal import Decimal

from _common import (
    TRANSACTION,
    Config,
    Figure,
    best,
    expect,
    instance,
    median,
    time_runs,
    transactions,
)
from selfdata.access import Query, SpaceView

__all__ = ["run"]


def _all_pages(view: SpaceView, filters: list[str]) -> tuple[int, int]:
    """(matches, records scanned) over every page of the filtered query."""
    cursor: str | None = None
    matches = scanned = 0
    while True:
        page = view.query(Query.build(TRANSACTION, filters=filters, limit=1000, cursor=cursor))
        matches += len(page.items)
        scanned += page.scanned
        if page.next_cursor is None:
            return matches, scanned
        cursor = page.next_cursor


def run(config: Config) -> list[Figure]:
    count = config.pick(100_000, 20_000)
    page_runs = config.pick(50, 20)
    scan_runs = config.pick(3, 2)
    items = transactions(count)
    expected = sum(1 for item in items if Decimal(item["amount"]) < -50)
    with instance(config) as bench:
        view = bench.new_space("query")
        view.put_records(TRANSACTION, view.validate(TRANSACTION, items), validated=True)

        def first_page() -> None:
            page = view.query(Query.build(TRANSACTION, limit=100))
            expect(len(page.items) == 100, "the first page should hold 100 records")

        def filtered_pages() -> None:
            matches, _ = _all_pages(view, ["amount<-50"])
            expect(matches == expected, f"expected {expected} matches, got {matches}")

        def no_match() -> None:
            page = view.query(Query.build(TRANSACTION, filters=["amount<-1000000"]))
            expect(page.scanned == count and not page.items, "one request should scan everything")

        time_runs(first_page, 5)  # warm-up
        page_s = median(time_runs(first_page, page_runs))
        pages_s = best(time_runs(filtered_pages, scan_runs))
        one_s = best(time_runs(no_match, scan_runs))
    return [
        Figure(
            "query.first_page_100",
            page_s * 1000,
            "ms",
            f"median of {page_runs}",
            note=f"of {count:,} records",
        ),
        Figure(
            "query.filtered_all_pages",
            pages_s * 1000,
            "ms",
            f"best of {scan_runs}",
            note=f"amount<-50: {expected:,} of {count:,} records, pages of 1,000, "
            f"{count / pages_s:,.0f} records/s",
        ),
        Figure(
            "query.filtered_one_request",
            one_s * 1000,
            "ms",
            f"best of {scan_runs}",
            note=f"no match, {count:,} records decrypted, {count / one_s:,.0f} records/s",
        ),
    ]
