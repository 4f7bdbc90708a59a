"""Records over HTTP: write, query, paginate, read, replace, delete — and every refusal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
import pytest

from selfdata.access import Actor
from selfdata.doctypes.examples import EXAMPLES
from selfdata.errors import AccessDenied
from selfdata.platform import Platform
from tests.http.conftest import API, Headers, TestClient

TX = EXAMPLES["bank.transaction"]
URL = f"{API}/records/bank.transaction"


def tx(i: int, amount: str = "-10.00", day: int | None = None) -> dict[str, Any]:
    """A distinct transaction (its own bank id), booked on March ``day`` 2024."""
    on = f"2024-03-{(day if day is not None else i % 28 + 1):02d}"
    return {
        **TX,
        "transaction_id": f"T{i:05d}",
        "amount": amount,
        "booked_on": on,
        "value_date": on,
    }


def count(client: TestClient, headers: Headers, doctype: str = "bank.transaction") -> int:
    total, cursor = 0, None
    while True:
        params: dict[str, Any] = {"limit": 1000, **({"cursor": cursor} if cursor else {})}
        page = client.get(f"{API}/records/{doctype}", params=params, headers=headers).json()
        total += len(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return total


def test_crud_round_trip(client: TestClient, alice: Headers) -> None:
    created = client.post(URL, json=TX, headers=alice)
    assert created.status_code == 201
    report = created.json()
    assert (report["created"], report["updated"], report["unchanged"]) == (1, 0, 0)
    record_id = report["ids"][0]
    assert created.headers["location"] == f"{URL}/{record_id}"

    got = client.get(f"{URL}/{record_id}", headers=alice)
    assert got.status_code == 200
    assert got.json()["data"] == TX
    assert got.headers["etag"] == '"1"'
    assert got.headers["cache-control"] == "no-store"

    again = client.post(URL, json=TX, headers=alice)  # same identity: skipped by default
    assert again.json()["unchanged"] == 1
    clash = client.post(
        URL, json={**TX, "category": "other"}, params={"on_existing": "error"}, headers=alice
    )
    assert clash.status_code == 409
    assert clash.json()["record_id"] == record_id

    changed = {**TX, "category": "food"}
    put = client.put(f"{URL}/{record_id}", json=changed, headers={**alice, "If-Match": '"1"'})
    assert put.status_code == 200
    assert put.headers["etag"] == '"2"'
    assert put.json()["data"]["category"] == "food"
    stale = client.put(f"{URL}/{record_id}", json=TX, headers={**alice, "If-Match": '"1"'})
    assert stale.status_code == 409
    assert stale.json()["revision"] == 2
    bad_etag = client.put(f"{URL}/{record_id}", json=TX, headers={**alice, "If-Match": "W/x"})
    assert bad_etag.status_code == 400
    invalid = client.put(f"{URL}/{record_id}", json={**TX, "amount": "lots"}, headers=alice)
    assert invalid.status_code == 422
    assert invalid.json()["errors"][0]["field"] == "amount"

    assert client.delete(f"{URL}/{record_id}", headers=alice).status_code == 204
    assert client.get(f"{URL}/{record_id}", headers=alice).status_code == 404
    assert client.delete(f"{URL}/{record_id}", headers=alice).status_code == 404


def test_batch_and_update_on_existing(client: TestClient, alice: Headers) -> None:
    items = [tx(i) for i in range(5)]
    response = client.post(URL, json={"items": items}, headers=alice)
    assert response.status_code == 201
    assert response.json()["created"] == 5
    assert len(response.json()["ids"]) == 5
    items[0]["label"] = "changed"
    again = client.post(URL, json={"items": items}, params={"on_existing": "update"}, headers=alice)
    assert (again.json()["updated"], again.json()["unchanged"]) == (1, 4)


@pytest.mark.parametrize("order", ["asc", "desc"])
def test_pagination_walks_every_record_once(client: TestClient, alice: Headers, order: str) -> None:
    # Several records share each day: the keyset must break ties by id.
    items = [tx(i, day=i % 5 + 1) for i in range(57)]
    ids = set(client.post(URL, json={"items": items}, headers=alice).json()["ids"])
    seen: list[str] = []
    times: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {
            "limit": 10,
            "order": order,
            **({"cursor": cursor} if cursor else {}),
        }
        page = client.get(URL, params=params, headers=alice).json()
        pages += 1
        seen += [r["id"] for r in page["items"]]
        times += [r["time_start"] for r in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 6
    assert len(seen) == len(set(seen)) == 57
    assert set(seen) == ids
    assert times == sorted(times, reverse=order == "desc")
    other = "desc" if order == "asc" else "asc"
    first = client.get(URL, params={"limit": 10, "order": order}, headers=alice).json()
    mixed = client.get(URL, params={"cursor": first["next_cursor"], "order": other}, headers=alice)
    assert mixed.status_code == 400


def test_filters_and_time_range(client: TestClient, alice: Headers) -> None:
    items = [tx(1, "-80.00", 3), tx(2, "-20.00", 4), tx(3, "-51.00", 10), tx(4, "100.00", 20)]
    items[2]["label"] = "BOULANGERIE DU PARC"
    client.post(URL, json={"items": items}, headers=alice)

    def amounts(**params: Any) -> list[str]:
        response = client.get(URL, params=params, headers=alice)
        assert response.status_code == 200, response.text
        return sorted(r["data"]["amount"] for r in response.json()["items"])

    assert amounts(filter="amount<-50") == ["-51.00", "-80.00"]
    assert amounts(filter=["amount<-50", "label~boulangerie"]) == ["-51.00"]
    assert amounts(start="2024-03-04", end="2024-03-11") == ["-20.00", "-51.00"]
    assert amounts(start="2024-03-04T00:00:00+00:00") == ["-20.00", "-51.00", "100.00"]
    assert amounts(filter="counterparty?") == ["-20.00", "-51.00", "-80.00", "100.00"]


@pytest.mark.parametrize(
    ("params", "word"),
    [
        ({"filter": "amount<<"}, "filter"),
        ({"filter": "amount<"}, "no value"),
        ({"filter": "nosuchfield=1"}, "has no field"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"start": "yesterday"}, "start"),
        ({"start": "2024-03-10", "end": "2024-03-01"}, "before the end"),
        ({"limit": "0"}, "limit"),
        ({"limit": "100000"}, "limit"),
        ({"limit": "ten"}, "query.limit"),
        ({"order": "sideways"}, "query.order"),
    ],
)
def test_malformed_queries_are_400(
    client: TestClient, alice: Headers, params: dict[str, str], word: str
) -> None:
    response = client.get(URL, params=params, headers=alice)
    assert response.status_code == 400
    assert word in response.text


def test_invalid_record_is_422_with_precise_fields_and_writes_nothing(
    client: TestClient, alice: Headers
) -> None:
    client.post(URL, json=tx(0), headers=alice)
    before = count(client, alice)
    one = client.post(URL, json={**TX, "amount": "12,50", "currency": "euro"}, headers=alice)
    assert one.status_code == 422
    problem = one.json()
    assert problem["type"] == "https://selfdata.org/problems/validation-failed"
    assert {e["field"] for e in problem["errors"]} == {"amount", "currency"}
    assert all(e["message"] for e in problem["errors"])

    batch = [tx(10), tx(11), {**tx(12), "booked_on": "2024-02-30"}, {**tx(13), "ammount": "1"}]
    many = client.post(URL, json={"items": batch}, headers=alice)
    assert many.status_code == 422
    fields = {e["field"] for e in many.json()["errors"]}
    assert fields == {"items[2].booked_on", "items[3].ammount"}
    not_objects = client.post(URL, json={"items": [tx(14), 42]}, headers=alice)
    assert not_objects.status_code == 422
    assert not_objects.json()["errors"][0]["field"] == "items[1]"
    assert count(client, alice) == before


def test_body_shape_problems(client: TestClient, alice: Headers) -> None:
    as_list = client.post(URL, json=[TX], headers=alice)
    assert as_list.status_code == 422
    assert as_list.json()["errors"][0]["field"] == "body"
    broken = client.post(
        URL,
        content=b'{"amount": "1",\n "label": }',
        headers={**alice, "Content-Type": "application/json"},
    )
    assert broken.status_code == 400
    assert broken.json()["type"].endswith("/malformed-json")
    assert "line 2" in broken.json()["detail"]
    text = client.post(
        URL, content=orjson.dumps(TX), headers={**alice, "Content-Type": "text/plain"}
    )
    assert text.status_code == 415
    empty = client.post(URL, json={"items": []}, headers=alice)
    assert empty.status_code == 422
    as_json = {**alice, "Content-Type": "application/json"}
    for hostile in (b"[" * 100_000, b'{"amount": "\xff\xfe"}', b'{"n": ' + b"9" * 5000 + b"}"):
        response = client.post(URL, content=hostile, headers=as_json)
        assert response.status_code == 400, hostile[:20]


def test_unknown_doctype_is_a_404_problem_with_suggestions(
    client: TestClient, alice: Headers
) -> None:
    for response in (
        client.get(f"{API}/records/bank.transactoin", headers=alice),
        client.post(f"{API}/records/bank.transactoin", json=TX, headers=alice),
    ):
        assert response.status_code == 404
        body = response.json()
        assert body["type"].endswith("/unknown-doctype")
        assert "bank.transaction" in body["suggestions"]
    series = client.post(
        f"{API}/records/energy.reading", json=EXAMPLES["energy.reading"], headers=alice
    )
    assert series.status_code == 400  # a series doctype: points go to /series


def test_oversized_json_is_413_and_writes_nothing(
    client: TestClient, alice: Headers, set_limits: Callable[..., None]
) -> None:
    set_limits(max_json_bytes=4096)
    items = [tx(i) for i in range(40)]
    response = client.post(URL, json={"items": items}, headers=alice)
    assert response.status_code == 413
    assert response.json()["type"].endswith("/payload-too-large")
    assert count(client, alice) == 0


def test_batch_over_the_bound_is_413(
    client: TestClient, alice: Headers, set_limits: Callable[..., None]
) -> None:
    set_limits(max_batch_records=3)
    response = client.post(URL, json={"items": [tx(i) for i in range(4)]}, headers=alice)
    assert response.status_code == 413
    assert "at most 3 records" in response.json()["detail"]
    assert count(client, alice) == 0


def test_another_citizens_record_is_not_found(
    client: TestClient, alice: Headers, bob: Headers
) -> None:
    secret = {**TX, "label": "BOB SECRET PURCHASE", "transaction_id": "BOB-1"}
    bob_id = client.post(URL, json=secret, headers=bob).json()["ids"][0]
    for response in (
        client.get(f"{URL}/{bob_id}", headers=alice),
        client.put(f"{URL}/{bob_id}", json=TX, headers=alice),
        client.delete(f"{URL}/{bob_id}", headers=alice),
    ):
        assert response.status_code == 404
        assert "BOB SECRET" not in response.text
        assert "bob" not in response.text.lower()
    assert (
        client.get(f"{URL}/{bob_id}", headers=bob).json()["data"]["label"] == "BOB SECRET PURCHASE"
    )
    assert "BOB" not in client.get(URL, headers=alice).text


def test_record_of_another_doctype_is_not_found(client: TestClient, alice: Headers) -> None:
    meter_id = client.post(
        f"{API}/records/energy.meter", json=EXAMPLES["energy.meter"], headers=alice
    ).json()["ids"][0]
    assert client.get(f"{URL}/{meter_id}", headers=alice).status_code == 404
    assert client.put(f"{URL}/{meter_id}", json=TX, headers=alice).status_code == 404
    assert client.delete(f"{URL}/{meter_id}", headers=alice).status_code == 404
    assert client.get(f"{API}/records/energy.meter/{meter_id}", headers=alice).status_code == 200


def test_operators_cannot_reach_citizen_data(
    platform: Platform, client: TestClient, alice: Headers, operator: Headers
) -> None:
    record_id = client.post(URL, json=TX, headers=alice).json()["ids"][0]
    for method, path in (
        ("GET", URL),
        ("GET", f"{URL}/{record_id}"),
        ("POST", URL),
        ("GET", f"{API}/files"),
        ("GET", f"{API}/series"),
        ("GET", f"{API}/audit/events"),
    ):
        response = client.request(
            method, path, headers=operator, json=TX if method == "POST" else None
        )
        assert response.status_code == 403, path
        assert response.json()["reason"] == "citizen-only"
        assert "CARREFOUR" not in response.text


def test_the_gate_refuses_operator_data_reads_too(platform: Platform, alice: Headers) -> None:
    """Behind the route's check, the gate itself: an operator view reads nothing."""
    root = platform.directory.create_operator("root", "a long operator password")
    space = platform.directory.get_space("alice")
    view = platform.view(Actor.operator(root.id, "root"), space.id)
    with pytest.raises(AccessDenied) as refused:
        view.get_record("01HZZZZZZZZZZZZZZZZZZZZZZZ")
    assert refused.value.reason == "operator-no-data-access"
    with pytest.raises(AccessDenied):
        view.files()
