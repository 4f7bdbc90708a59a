"""The operator's API: spaces are administered, never read."""

from __future__ import annotations

import yaml

from selfdata.doctypes.examples import EXAMPLES
from selfdata.platform import Platform
from tests.conftest import PASSWORD
from tests.http.conftest import API, Headers, TestClient, login
from tests.support.questions import WATT_WISE

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


def test_registering_a_manifest_naming_a_missing_builtin_is_refused(
    platform: Platform, client: TestClient, operator: Headers
) -> None:
    manifest = yaml.safe_load(WATT_WISE.read_text(encoding="utf-8"))
    first = len(manifest["questions"])
    manifest["questions"].append(
        {
            "name": "ghost",
            "description": {"fr": "Fantôme", "en": "Ghost"},
            "doctypes": ["energy.reading"],
            "builtin": "test.ghost",
        }
    )
    refused = client.post(f"{API}/admin/services", json=manifest, headers=operator)
    assert refused.status_code == 422
    (error,) = refused.json()["errors"]
    assert error["field"] == f"questions[{first}].builtin"
    assert "no built-in question 'test.ghost' is installed" in error["message"]
    assert client.get(f"{API}/admin/services", headers=operator).json()["items"] == []
    manifest["questions"].pop()
    assert client.post(f"{API}/admin/services", json=manifest, headers=operator).status_code == 201
