"""The citizen's access log over HTTP: it shows the accesses, and it verifies."""

from __future__ import annotations

from typing import Any

import pytest

from selfdata.doctypes.examples import EXAMPLES
from selfdata.errors import SelfdataError
from selfdata.platform import Platform
from tests.conftest import make_space
from tests.http.conftest import API, Headers, TestClient, bearer_for

URL = f"{API}/records/bank.transaction"


def all_events(client: TestClient, headers: Headers, limit: int = 3) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    before = None
    while True:
        params: dict[str, Any] = {"limit": limit, **({"before_seq": before} if before else {})}
        page = client.get(f"{API}/audit/events", params=params, headers=headers).json()
        out += page["items"]
        before = page["next_before_seq"]
        if before is None:
            return out


def test_events_show_the_accesses_and_the_log_verifies(
    client: TestClient, alice: Headers, bob: Headers
) -> None:
    record_id = client.post(URL, json=EXAMPLES["bank.transaction"], headers=alice).json()["ids"][0]
    client.get(f"{URL}/{record_id}", headers=alice)
    client.get(URL, params={"filter": "amount<-10"}, headers=alice)
    client.get(f"{URL}/{record_id}", headers=bob)  # bob is refused: not logged in alice's space

    events = all_events(client, alice)
    assert [e["seq"] for e in events] == sorted((e["seq"] for e in events), reverse=True)
    assert len({e["seq"] for e in events}) == len(events)
    actions = [(e["action"], e.get("target"), e.get("outcome")) for e in reversed(events)]
    assert actions[0][0] == "space.create"
    assert ("write", None, "allowed") in actions
    assert ("read", record_id, "allowed") in actions
    reads = [e for e in events if e["action"] == "read" and e.get("detail", {}).get("filters")]
    assert reads[0]["detail"]["filters"] == ["amount<-10"]
    assert reads[0]["purpose"] == "own-use"
    assert all(e["actor_kind"] in ("citizen", "operator") for e in events)
    assert "bob" not in str(events)

    verified = client.get(f"{API}/audit/verify", headers=alice)
    assert verified.status_code == 200
    assert verified.json()["ok"] is True
    assert verified.json()["events"] == len(events)


def test_audit_parameters_are_checked(client: TestClient, alice: Headers) -> None:
    assert client.get(f"{API}/audit/events", params={"limit": 0}, headers=alice).status_code == 400
    assert (
        client.get(f"{API}/audit/events", params={"before_seq": "x"}, headers=alice).status_code
        == 400
    )


def test_events_can_be_filtered(client: TestClient, platform: Platform) -> None:
    from selfdata.access import Actor, Query

    view = make_space(platform, "filterer")
    headers = bearer_for(platform, "filterer")
    service = platform.view(Actor("service", "nobody"), view.space_id, "dpv:ServiceProvision")
    with pytest.raises(SelfdataError):
        service.query(Query.build("bank.transaction"))
    view.summary()
    denied = client.get(f"{API}/audit/events", params={"outcome": "denied"}, headers=headers).json()
    assert [e["actor_kind"] for e in denied["items"]] == ["service"]
    reads = client.get(
        f"{API}/audit/events", params={"actor_kind": "citizen", "action": "read"}, headers=headers
    ).json()["items"]
    assert reads and all(e["action"] == "read" and e["actor_kind"] == "citizen" for e in reads)
    assert (
        client.get(f"{API}/audit/events", params={"outcome": "maybe"}, headers=headers).status_code
        == 400
    )
    future = client.get(
        f"{API}/audit/events", params={"since": "2099-01-01"}, headers=headers
    ).json()
    assert future["items"] == []


def test_manifest_schema_is_published(client: TestClient) -> None:
    schema = client.get(f"{API}/schemas/service-manifest.json").json()
    assert schema["$id"].endswith("service-manifest/v1.json") and "requests" in schema["properties"]
