"""The operator's API: spaces are administered, never read."""

from __future__ import annotations

from selfdata.doctypes.examples import EXAMPLES
from selfdata.platform import Platform
from tests.conftest import PASSWORD
from tests.http.conftest import API, Headers, TestClient, login

URL = f"{API}/admin/spaces"


def test_space_lifecycle(platform: Platform, client: TestClient, operator: Headers) -> None:
    created = client.post(URL, json={"name": "Carol", "password": PASSWORD}, headers=operator)
    assert created.status_code == 201
    assert created.json()["name"] == "carol" and created.json()["status"] == "active"
    assert (
        client.post(URL, json={"name": "carol", "password": PASSWORD}, headers=operator).status_code
        == 409
    )
    weak = client.post(URL, json={"name": "dave", "password": "short"}, headers=operator)
    assert weak.status_code == 422
    assert weak.json()["errors"][0]["field"] == "password"

    login(client, "carol")
    csrf = client.get(f"{API}/me").json()["csrf_token"]
    client.post(
        f"{API}/records/bank.transaction",
        json=EXAMPLES["bank.transaction"],
        headers={"X-CSRF-Token": csrf},
    )

    listed = client.get(URL, headers=operator).json()
    assert [s["name"] for s in listed["spaces"]] == ["carol"]
    assert listed["counts"] == {"active": 1}

    suspended = client.post(f"{URL}/carol/suspend", headers=operator)
    assert suspended.json()["status"] == "suspended"
    assert client.get(f"{API}/me").status_code == 401  # carol's session ended at once
    assert client.get(URL, headers=operator).json()["counts"] == {"suspended": 1}
    assert client.post(f"{URL}/carol/resume", headers=operator).json()["status"] == "active"

    erased = client.delete(f"{URL}/carol", headers=operator)
    assert erased.status_code == 200
    assert erased.json()["counts"]["records"] == 1
    assert erased.json()["counts"]["key_destroyed"] == 1
    assert client.get(URL, headers=operator).json()["spaces"] == []
    assert client.delete(f"{URL}/carol", headers=operator).status_code == 404
    assert client.post(f"{URL}/nobody/suspend", headers=operator).status_code == 404


def test_citizens_cannot_administer(client: TestClient, alice: Headers) -> None:
    for method, path in (
        ("GET", URL),
        ("POST", f"{URL}/alice/suspend"),
        ("DELETE", f"{URL}/alice"),
    ):
        response = client.request(method, path, headers=alice)
        assert response.status_code == 403
        assert response.json()["reason"] == "operator-only"
    created = client.post(URL, json={"name": "mallory", "password": PASSWORD}, headers=alice)
    assert created.status_code == 403
    assert client.get(f"{API}/me", headers=alice).status_code == 200  # alice's space untouched


def test_operator_sign_in_has_no_space(platform: Platform, client: TestClient) -> None:
    platform.directory.create_operator("root", PASSWORD)
    csrf = login(client, "root")
    me = client.get(f"{API}/me").json()
    assert me["account"] == {"username": "root", "role": "operator"}
    assert me["space"] is None
    assert client.post(URL, json={"name": "erin", "password": PASSWORD}).status_code == 403  # csrf
    assert (
        client.post(
            URL, json={"name": "erin", "password": PASSWORD}, headers={"X-CSRF-Token": csrf}
        ).status_code
        == 201
    )
