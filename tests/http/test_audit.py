"""The citizen's access log over HTTP: it shows the accesses, and it verifies."""

from __future__ import annotations

from typing import Any

from selfdata.doctypes.examples import EXAMPLES
from tests.http.conftest import API, Headers, TestClient

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
