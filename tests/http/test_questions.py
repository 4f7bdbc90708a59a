"""The questions API: a service asks with its consent-bound token and gets only the
checked answer; refusals are problem documents (403 with a reason, 422 for params);
the citizen reads the answers services received."""

from __future__ import annotations

import secrets
from types import SimpleNamespace

import pytest
from selfdata_sdk import AccessDenied, AuthenticationFailed, InvalidParams, NotFound, SelfdataClient

from selfdata.oauth.server import CitizenGrant
from selfdata.platform import Platform
from tests.http.conftest import API, Headers, TestClient
from tests.support.questions import load_curve, register_watt_wise


def _mint(platform: Platform, space_id: str, consent_id: str) -> Headers:
    """An OAuth access token bound to ``consent_id`` (as the token endpoint saves it)."""
    secret = "sdo_" + secrets.token_urlsafe(32)
    request = SimpleNamespace(
        user=CitizenGrant("acct", space_id, consent_id, "consumption"),
        client=SimpleNamespace(get_client_id=lambda: "watt-wise"),
    )
    platform.oauth.save_token(
        {"access_token": secret, "expires_in": 3600, "scope": "consumption"}, request
    )
    return {"Authorization": f"Bearer {secret}"}


@pytest.fixture
def service(platform: Platform, alice: Headers) -> Headers:
    """Alice's data, her consent to watt-wise, and the service's token."""
    info = register_watt_wise(platform)
    platform.questions.pool.timeout_s = 1.5
    citizen = platform.citizen_view("alice")
    load_curve(citizen)
    consent = citizen.give_consent(info, ["consumption"])
    return _mint(platform, citizen.space_id, consent.id)


def test_ask_list_and_read_answers(client: TestClient, alice: Headers, service: Headers) -> None:
    listed = client.get(f"{API}/questions", headers={**service, "Accept-Language": "en"})
    assert listed.status_code == 200
    first = listed.json()["items"][0]
    assert first["name"] == "monthly-consumption" and first["kind"] == "sql"
    assert first["description"] == "How much electricity did you use each month (kWh)?"
    names = {q["name"] for q in listed.json()["items"]}
    # Only what this consent allows: not the bank question (request not granted), not
    # five years of readings (the consent covers twelve months).
    assert "above" in names and "energy-spending" not in names and "five-years" not in names

    asked = client.post(f"{API}/questions/monthly-consumption", headers=service)
    assert asked.status_code == 200, asked.text
    body = asked.json()
    assert body["answer"] == [{"month": "2026-02", "kwh": 672.0}]
    assert body["answer_bytes"] > 0 and body["period"]["end"].startswith("2026-03-01")

    mine = client.get(f"{API}/answers", headers=alice)
    assert mine.status_code == 200
    (item,) = mine.json()["items"]
    assert item["answer"] == body["answer"] and item["service_id"] == "watt-wise"
    assert item["answer_id"] == body["answer_id"]
    # A service cannot read the citizen's copy.
    assert client.get(f"{API}/answers", headers=service).status_code == 403


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("raw-dump", "answer-schema-violation"),
        ("too-big", "answer-too-large"),
        ("read-file", "question-forbidden-operation"),
        ("forever", "question-timeout"),
        ("energy-spending", "doctype-not-consented"),
        ("five-years", "outside-data-period"),
    ],
)
def test_refusals_are_403_problems_with_reasons(
    client: TestClient, service: Headers, name: str, reason: str
) -> None:
    refused = client.post(f"{API}/questions/{name}", headers=service)
    assert refused.status_code == 403
    assert refused.json()["reason"] == reason
    assert "answer" not in refused.json()


def test_params_errors_are_422(client: TestClient, service: Headers) -> None:
    ok = client.post(f"{API}/questions/above", headers=service, json={"threshold": 500})
    assert ok.status_code == 200 and ok.json()["answer"] == [{"n": 28 * 48}]
    bad = client.post(f"{API}/questions/above", headers=service, json={"threshold": "x"})
    assert bad.status_code == 422
    assert client.post(f"{API}/questions/above", headers=service, json=[1]).status_code == 422
    missing = client.post(f"{API}/questions/nope", headers=service)
    assert missing.status_code == 404


def test_withdrawal_stops_the_next_question(
    platform: Platform, client: TestClient, service: Headers
) -> None:
    assert client.post(f"{API}/questions/monthly-consumption", headers=service).status_code == 200
    citizen = platform.citizen_view("alice")
    (consent,) = citizen.consents()
    citizen.withdraw_consent(consent.id)
    after = client.post(f"{API}/questions/monthly-consumption", headers=service)
    assert after.status_code in (401, 403)


def test_citizens_do_not_ask_questions(client: TestClient, alice: Headers) -> None:
    refused = client.post(f"{API}/questions/monthly-consumption", headers=alice)
    assert refused.status_code == 403
    assert refused.json()["reason"] == "action-not-for-services"
    assert client.get(f"{API}/questions", headers=alice).status_code == 403


def test_sdk_client_types_the_answers_and_the_refusals(server: str, service: Headers) -> None:
    token = service["Authorization"].removeprefix("Bearer ")
    client = SelfdataClient(server, token)
    try:
        assert next(q.name for q in client.questions()) == "monthly-consumption"
        answer = client.ask("monthly-consumption")
        assert answer.value == [{"month": "2026-02", "kwh": 672.0}]
        assert answer.period_end.startswith("2026-03-01")
        with pytest.raises(AccessDenied) as refused:
            client.ask("raw-dump")
        assert refused.value.reason == "answer-schema-violation" and refused.value.status == 403
        with pytest.raises(InvalidParams) as invalid:
            client.ask("above", {"threshold": -1})
        assert invalid.value.errors and invalid.value.status == 422
        with pytest.raises(NotFound):
            client.ask("nope")
    finally:
        client.close()
    with pytest.raises(AuthenticationFailed):
        SelfdataClient(server, "sdo_not-a-token").ask("monthly-consumption")
