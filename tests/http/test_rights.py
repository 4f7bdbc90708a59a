"""The citizen's rights over HTTP (both engines): summary, history, restriction,
withdrawal of every consent, erasure with certificates checked against the published
JWK Set."""

from __future__ import annotations

import secrets
from types import SimpleNamespace

from selfdata.doctypes.examples import EXAMPLES
from selfdata.oauth import CitizenGrant
from selfdata.platform import Platform
from selfdata.rights import verify_certificate
from tests.http.conftest import API, Headers, TestClient
from tests.support.services import approved_service

SERVICE_PURPOSE = "dpv:ServiceProvision"
OLD_MARKER = "OCELOT-OLD-LABEL-3317"


def _service_headers(platform: Platform, client: TestClient, alice: Headers) -> Headers:
    """A consent given over the API, and an OAuth token bound to it."""
    approved_service(platform)
    response = client.post(
        f"{API}/consents",
        json={"service_id": "energy-coach", "requests": ["load-curve"]},
        headers=alice,
    )
    assert response.status_code == 201, response.text
    consent_id = response.json()["id"]
    space_id = platform.directory.get_space("alice").id
    secret = "sdo_" + secrets.token_urlsafe(32)
    request = SimpleNamespace(
        user=CitizenGrant("acct", space_id, consent_id, "load-curve"),
        client=SimpleNamespace(get_client_id=lambda: "energy-coach"),
    )
    platform.oauth.save_token(
        {"access_token": secret, "expires_in": 3600, "scope": "load-curve"}, request
    )
    return {"Authorization": f"Bearer {secret}", "Selfdata-Purpose": SERVICE_PURPOSE}


def _meter(client: TestClient, alice: Headers) -> str:
    response = client.post(
        f"{API}/records/energy.meter", json=EXAMPLES["energy.meter"], headers=alice
    )
    assert response.status_code == 201, response.text
    return str(response.json()["ids"][0])


def test_summary_in_french_and_english(client: TestClient, alice: Headers) -> None:
    _meter(client, alice)
    fr = client.get(f"{API}/rights/summary", headers=alice)
    en = client.get(f"{API}/rights/summary?lang=en", headers=alice)
    assert fr.status_code == en.status_code == 200
    assert fr.json()["lang"] == "fr" and en.json()["lang"] == "en"
    assert en.json()["holdings"][0]["doctype"] == "energy.meter"
    assert en.json()["text"][0] == "What your space holds"
    assert fr.json()["text"][0] == "Ce que votre espace contient"
    assert client.get(f"{API}/rights/summary?lang=de", headers=alice).status_code == 400
    assert client.get(f"{API}/rights/summary").status_code == 401


def test_rectification_history(client: TestClient, alice: Headers) -> None:
    tx = dict(EXAMPLES["bank.transaction"], label=OLD_MARKER)
    record_id = client.post(f"{API}/records/bank.transaction", json=tx, headers=alice).json()[
        "ids"
    ][0]
    url = f"{API}/records/bank.transaction/{record_id}"
    fixed = dict(tx, label="Carrefour Lyon")
    response = client.put(url, json=fixed, headers={**alice, "If-Match": '"1"'})
    assert response.status_code == 200, response.text
    history = client.get(f"{url}/history", headers=alice)
    assert history.status_code == 200
    body = history.json()
    assert body["current_revision"] == 2
    (past,) = body["items"]
    assert past["revision"] == 1 and past["data"]["label"] == OLD_MARKER
    assert past["replaced_by"]["kind"] == "citizen"
    assert (
        client.get(f"{API}/records/bank.account/{record_id}/history", headers=alice).status_code
        == 404
    )
    assert (
        client.get(f"{API}/records/bank.nothing/{record_id}/history", headers=alice).status_code
        == 404
    )


def test_restriction_refuses_a_consented_service_until_lifted(
    platform: Platform, client: TestClient, alice: Headers
) -> None:
    meter = _meter(client, alice)
    service = _service_headers(platform, client, alice)
    url = f"{API}/records/energy.meter/{meter}"
    assert client.get(url, headers=service).status_code == 200

    made = client.post(f"{API}/rights/restrictions", json={"scope": "energy.meter"}, headers=alice)
    assert made.status_code == 201 and made.json()["scope"] == "energy.meter"
    refused = client.get(url, headers=service)
    assert refused.status_code == 403 and refused.json()["reason"] == "restricted"
    assert client.get(url, headers=alice).status_code == 200  # the citizen still reads
    again = client.post(f"{API}/rights/restrictions", json={"scope": "energy.meter"}, headers=alice)
    assert again.status_code == 409
    listed = client.get(f"{API}/rights/restrictions", headers=alice).json()["items"]
    assert [r["scope"] for r in listed] == ["energy.meter"]
    # A service cannot lift it, nor read the citizen's rights pages.
    assert (
        client.delete(f"{API}/rights/restrictions/energy.meter", headers=service).json()["reason"]
        == "citizen-only"
    )

    assert (
        client.delete(f"{API}/rights/restrictions/energy.meter", headers=alice).status_code == 204
    )
    assert client.get(url, headers=service).status_code == 200
    assert (
        client.delete(f"{API}/rights/restrictions/energy.meter", headers=alice).status_code == 404
    )

    whole = client.post(f"{API}/rights/restrictions", json={"scope": "*"}, headers=alice)
    assert whole.status_code == 201
    refused = client.get(f"{API}/series?doctype=energy.reading", headers=service)
    assert refused.status_code == 403 and refused.json()["reason"] == "restricted"
    assert client.delete(f"{API}/rights/restrictions/*", headers=alice).status_code == 204

    bad = client.post(f"{API}/rights/restrictions", json={"scope": "energy.meters"}, headers=alice)
    assert bad.status_code == 400 and "energy.meter" in bad.json()["detail"]
    assert client.get(f"{API}/rights/restrictions", headers=alice).json()["items"] == []
    actions = [
        e["action"]
        for e in client.get(f"{API}/audit/events?limit=500", headers=alice).json()["items"]
    ]
    assert actions.count("rights.restrict") == 2 and actions.count("rights.lift") == 2


def test_withdraw_all_refuses_every_service(
    platform: Platform, client: TestClient, alice: Headers
) -> None:
    meter = _meter(client, alice)
    service = _service_headers(platform, client, alice)
    url = f"{API}/records/energy.meter/{meter}"
    assert client.get(url, headers=service).status_code == 200
    response = client.post(f"{API}/rights/withdraw-all", headers=alice)
    assert response.status_code == 200 and response.json()["withdrawn"] == 1
    refused = client.get(url, headers=service)
    assert refused.status_code in (401, 403)  # the token is revoked with its consent
    statuses = {c["status"] for c in client.get(f"{API}/consents", headers=alice).json()["items"]}
    assert statuses == {"withdrawn"}


def test_erasing_a_doctype_returns_a_certificate(
    platform: Platform, client: TestClient, alice: Headers
) -> None:
    meter = _meter(client, alice)
    client.post(f"{API}/records/bank.transaction", json=EXAMPLES["bank.transaction"], headers=alice)
    response = client.delete(f"{API}/rights/doctypes/bank.transaction", headers=alice)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["counts"]["records"] == 1 and body["key_destroyed"] is False
    jwks = client.get("/.well-known/jwks.json").json()
    statement = verify_certificate(body["certificate"], jwks)
    assert statement.target == "bank.transaction"
    assert client.get(f"{API}/records/bank.transaction", headers=alice).json()["items"] == []
    assert client.get(f"{API}/records/energy.meter/{meter}", headers=alice).status_code == 200
    unknown = client.delete(f"{API}/rights/doctypes/bank.nothing", headers=alice)
    assert unknown.status_code == 404
    missing = client.delete(f"{API}/rights/sources/NOSUCHSOURCE", headers=alice)
    assert missing.status_code == 404


def test_the_citizen_erases_their_whole_space(
    platform: Platform, client: TestClient, alice: Headers, bob: Headers
) -> None:
    meter = _meter(client, alice)
    _meter(client, bob)
    wrong = client.request("DELETE", f"{API}/rights/space", json={"confirm": "bob"}, headers=alice)
    assert wrong.status_code == 400 and "nothing was erased" in wrong.json()["detail"]
    assert client.get(f"{API}/records/energy.meter/{meter}", headers=alice).status_code == 200
    missing = client.request("DELETE", f"{API}/rights/space", json={}, headers=alice)
    assert missing.status_code == 422

    space_id = platform.directory.get_space("alice").id
    done = client.request("DELETE", f"{API}/rights/space", json={"confirm": "Alice"}, headers=alice)
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["erased"] is True and body["space_id"] == space_id
    jwks = client.get("/.well-known/jwks.json").json()
    statement = verify_certificate(body["certificate"], jwks)
    assert statement.scope == "space" and statement.key_destroyed
    assert statement.counts["records"] == 1 and statement.counts["accounts"] == 1
    # Nothing of the space is reachable any more; the other citizen is untouched.
    assert client.get(f"{API}/records/energy.meter/{meter}", headers=alice).status_code == 401
    assert client.get(f"{API}/rights/summary", headers=alice).status_code == 401
    assert client.get(f"{API}/records/energy.meter", headers=bob).json()["items"]
    assert "alice" not in [s.name for s in platform.directory.list_spaces()]


def test_operators_and_services_cannot_erase_a_citizens_space(
    platform: Platform, client: TestClient, alice: Headers, operator: Headers
) -> None:
    _meter(client, alice)
    service = _service_headers(platform, client, alice)
    for headers in (operator, service):
        response = client.request(
            "DELETE", f"{API}/rights/space", json={"confirm": "alice"}, headers=headers
        )
        assert response.status_code == 403
        assert response.json()["reason"] == "citizen-only"
    assert platform.directory.get_space("alice").status == "active"
