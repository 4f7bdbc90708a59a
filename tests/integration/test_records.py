"""Records through the gate: validation, de-duplication, queries, pagination, bad input."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from selfdata.access import Query
from selfdata.db.tables import audit_events, records
from selfdata.doctypes.examples import EXAMPLES
from selfdata.errors import Conflict, MalformedQuery, NotFound, UnknownDoctype, ValidationFailed
from selfdata.platform import Platform
from tests.conftest import make_space


def _tx(i: int, **changes: Any) -> dict[str, Any]:
    item = dict(EXAMPLES["bank.transaction"])
    item.update(
        transaction_id=f"T{i:05d}",
        label=f"CB SHOP {i}",
        booked_on=f"2024-{1 + i % 12:02d}-{1 + i % 28:02d}",
        amount=f"-{i % 97}.{i % 100:02d}",
    )
    item.update(changes)
    return item


def _count(platform: Platform) -> int:
    with platform.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(records)).scalar_one())


def test_put_get_update_delete(platform: Platform) -> None:
    view = make_space(platform)
    report = view.put_records("bank.transaction", [_tx(1)])
    record = view.get_record(report.ids[0])
    assert record.data["label"] == "CB SHOP 1"
    assert record.time_start == datetime(2024, 2, 2, tzinfo=UTC)
    changed = view.update_record(
        record.id, {**record.data, "category": "leisure"}, expected_revision=1
    )
    assert changed.revision == 2 and changed.data["category"] == "leisure"
    with pytest.raises(Conflict, match="revision 2"):
        view.update_record(record.id, record.data, expected_revision=1)
    view.delete_record(record.id)
    with pytest.raises(NotFound):
        view.get_record(record.id)


def test_reimport_is_idempotent_and_updates_changed_records(platform: Platform) -> None:
    view = make_space(platform)
    batch = [_tx(i) for i in range(50)]
    assert view.put_records("bank.transaction", batch).created == 50
    again = view.put_records("bank.transaction", batch)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 50)
    assert _count(platform) == 50
    changed = [_tx(0, category="transport"), *batch[1:]]
    skipped = view.put_records("bank.transaction", changed)  # default: keep what is stored
    assert skipped.unchanged == 50
    updated = view.put_records("bank.transaction", changed, on_existing="update")
    assert (updated.created, updated.updated, updated.unchanged) == (0, 1, 49)
    assert view.get_record(updated.ids[0]).data["category"] == "transport"
    with pytest.raises(Conflict):
        view.put_records("bank.transaction", [_tx(0, category="health")], on_existing="error")


def test_identical_entries_without_ids_are_kept_apart_by_occurrence(platform: Platform) -> None:
    view = make_space(platform)
    coffee = {k: v for k, v in _tx(1).items() if k != "transaction_id"}
    report = view.put_records("bank.transaction", [coffee, {**coffee, "occurrence": 2}])
    assert report.created == 2


def test_invalid_batch_writes_nothing_and_says_where(platform: Platform) -> None:
    view = make_space(platform)
    batch = [_tx(1), _tx(2, amount="douze euros"), _tx(3, currency="EURO"), _tx(4)]
    with pytest.raises(ValidationFailed) as caught:
        view.put_records("bank.transaction", batch)
    paths = {
        (e.loc[0], e.path.split(".", 1)[-1] if "." in e.path else e.path)
        for e in caught.value.errors
    }
    assert {e.loc[0] for e in caught.value.errors} == {1, 2}
    assert any("amount" in e.path for e in caught.value.errors), paths
    assert all(e.message for e in caught.value.errors)
    assert _count(platform) == 0


def test_unknown_doctype_and_unknown_field(platform: Platform) -> None:
    view = make_space(platform)
    with pytest.raises(UnknownDoctype, match=r"bank\.transaction"):
        view.put_records("bank.transactions", [_tx(1)])
    with pytest.raises(ValidationFailed) as caught:
        view.put_records("bank.transaction", [_tx(1, amout="3")])
    assert caught.value.errors[0].path.endswith("amout")
    assert _count(platform) == 0


def test_time_range_filters_and_pagination(platform: Platform) -> None:
    view = make_space(platform)
    view.put_records("bank.transaction", [_tx(i) for i in range(240)])
    march = view.query(
        Query.build(
            "bank.transaction",
            start=datetime(2024, 3, 1, tzinfo=UTC),
            end=datetime(2024, 4, 1, tzinfo=UTC),
            limit=1000,
        )
    )
    assert march.items and all(r.data["booked_on"].startswith("2024-03") for r in march.items)
    assert len(march.items) == 20

    seen: list[str] = []
    cursor = None
    while True:
        page = view.query(
            Query.build("bank.transaction", filters=["amount<=-50"], limit=7, cursor=cursor)
        )
        seen += [r.id for r in page.items]
        assert all(float(r.data["amount"]) <= -50 for r in page.items)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    expected = [i for i in range(240) if float(f"-{i % 97}.{i % 100:02d}") <= -50]
    assert len(seen) == len(set(seen)) == len(expected)

    times = [
        r.time_start
        for r in view.query(Query.build("bank.transaction", limit=1000, descending=True)).items
    ]
    assert times == sorted(times, reverse=True)  # type: ignore[type-var]

    contains = view.query(Query.build("bank.transaction", filters=["label~shop 12"], limit=1000))
    assert {r.data["label"] for r in contains.items} == {
        "CB SHOP 12",
        *(f"CB SHOP {i}" for i in range(120, 130)),
    }


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Query.build("bank.transaction", filters=["amount<<3"]), "ordering needs"),
        (lambda: Query.build("bank.transaction", filters=["no operator"]), "not understood"),
        (lambda: Query.build("bank.transaction", limit=0), "limit"),
        (lambda: Query.build("bank.transaction", cursor="!!!"), "cursor"),
        (
            lambda: Query.build(
                "bank.transaction",
                start=datetime(2025, 1, 1, tzinfo=UTC),
                end=datetime(2024, 1, 1, tzinfo=UTC),
            ),
            "before the end",
        ),
    ],
)
def test_malformed_queries_are_refused(build: Any, message: str) -> None:
    with pytest.raises(MalformedQuery, match=message):
        build()


def test_filter_on_a_field_the_doctype_lacks(platform: Platform) -> None:
    view = make_space(platform)
    with pytest.raises(MalformedQuery, match="has no field 'amont'"):
        view.query(Query.build("bank.transaction", filters=["amont<3"]))


def test_failed_write_is_audited_and_rolled_back(platform: Platform) -> None:
    view = make_space(platform)
    view.put_records("bank.transaction", [_tx(1)])
    with pytest.raises(Conflict):
        view.put_records("bank.transaction", [_tx(1, category="x")], on_existing="error")
    events = view.access_log(limit=5)
    assert events[0].event.outcome == "failed" and events[0].event.detail["error"] == "conflict"
    logged = len(view.access_log(limit=1000))
    with platform.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(audit_events)).scalar_one() == logged
    assert view.verify_log()[0]
