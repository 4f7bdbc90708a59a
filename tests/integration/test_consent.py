"""Consent through the authorisation point: grants, purposes, periods, withdrawal, expiry."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from selfdata.access import Actor, Query, SpaceView
from selfdata.clock import FixedClock
from selfdata.consent import verify_receipt
from selfdata.doctypes.examples import EXAMPLES
from selfdata.errors import AccessDenied, Conflict, InvalidInput
from selfdata.platform import Platform
from tests.conftest import make_space
from tests.support.services import approved_service

SERVICE = "dpv:ServiceProvision"


def _service_view(
    platform: Platform,
    citizen: SpaceView,
    purpose: str | None = SERVICE,
    consent_id: str | None = None,
) -> SpaceView:
    actor = Actor("service", "energy-coach", label="Energy coach", consent_id=consent_id)
    return platform.view(actor, citizen.space_id, purpose)


def _fill(view: SpaceView, clock: FixedClock) -> tuple[str, str]:
    meter = view.put_records("energy.meter", [EXAMPLES["energy.meter"]]).ids[0]
    stream = view.create_stream("energy.reading", record_id=meter).id
    now = int(clock.now().timestamp())
    ts = np.arange(now - 400 * 86400, now, 3600)
    view.append_points(stream, ts, np.ones(ts.shape[0]))
    old = dict(EXAMPLES["bank.transaction"], transaction_id="OLD", booked_on="2025-06-01")
    recent = dict(EXAMPLES["bank.transaction"], transaction_id="NEW", booked_on="2026-02-15")
    view.put_records("bank.transaction", [old, recent])
    return meter, stream


def _reason(call: object) -> str:
    with pytest.raises(AccessDenied) as caught:
        call()  # type: ignore[operator]
    return caught.value.reason


def test_consent_lifecycle_and_the_matrix_of_refusals(
    platform: Platform, clock: FixedClock
) -> None:
    alice = make_space(platform)
    meter, stream = _fill(alice, clock)
    service = _service_view(platform, alice)
    assert _reason(lambda: service.read_points(stream)) == "service-unknown"

    info = platform.services.register(approved_service(platform).manifest)
    assert info.status == "approved"
    assert _reason(lambda: service.read_points(stream)) == "no-consent"

    consent = alice.give_consent(info, ["load-curve"])
    frame = service.read_points(stream)
    # The consented period (P12M, counted as 12 x 31 days) bounds what the service
    # sees even when it asks for everything; the citizen sees all 400 days.
    floor = int((clock.now() - timedelta(days=372)).timestamp())
    assert int(frame.ts[0]) == floor and len(frame) == 372 * 24
    assert len(alice.read_points(stream)) == 400 * 24
    assert service.get_record(meter).doctype == "energy.meter"

    # Doctype, operation, purpose and period outside the consent are refused.
    assert (
        _reason(lambda: service.query(Query.build("bank.transaction"))) == "doctype-not-consented"
    )
    assert (
        _reason(lambda: service.put_records("energy.meter", [EXAMPLES["energy.meter"]]))
        == "operation-not-consented"
    )
    wrong_purpose = _service_view(platform, alice, "dpv:Marketing")
    assert _reason(lambda: wrong_purpose.read_points(stream)) == "purpose-not-consented"
    no_purpose = _service_view(platform, alice, None)
    assert _reason(lambda: no_purpose.read_points(stream)) == "purpose-required"
    too_old = clock.now() - timedelta(days=500)
    assert _reason(lambda: service.read_points(stream, start=too_old)) == "outside-data-period"
    assert _reason(service.summary) == "action-not-for-services"

    # Suspension by the operator takes effect at the next request, and is lifted.
    platform.services.suspend("energy-coach")
    assert _reason(lambda: service.read_points(stream)) == "service-suspended"
    platform.services.approve("energy-coach")
    assert len(service.read_points(stream)) > 0

    # Withdrawal takes effect at the very next request.
    alice.withdraw_consent(consent.id)
    assert _reason(lambda: service.read_points(stream)) == "consent-withdrawn"
    with pytest.raises(Conflict):
        alice.withdraw_consent(consent.id)

    # Every decision is in the citizen's log, with the service and the consent.
    events = [e.event for e in alice.access_log(limit=100)]
    served = [e for e in events if e.actor_kind == "service" and e.outcome == "allowed"]
    assert served and all(e.consent_id == consent.id and e.purpose == SERVICE for e in served)
    reasons = {e.reason for e in events if e.actor_kind == "service" and e.outcome == "denied"}
    assert {
        "doctype-not-consented",
        "purpose-not-consented",
        "outside-data-period",
        "service-suspended",
        "consent-withdrawn",
    } <= reasons
    assert {"consent.give", "consent.withdraw"} <= {e.action for e in events}


def test_partial_grant_and_periods_per_request(platform: Platform, clock: FixedClock) -> None:
    alice = make_space(platform)
    _fill(alice, clock)
    info = approved_service(platform)
    with pytest.raises(InvalidInput, match="cannot work without: load-curve"):
        alice.give_consent(info, ["bills"])
    with pytest.raises(InvalidInput, match="unknown request"):
        alice.give_consent(info, ["load-curve", "everything"])
    alice.give_consent(info, ["load-curve", "bills"])
    service = _service_view(platform, alice, "dpv:PersonalisedBenefits")
    seen = service.query(Query.build("bank.transaction"))
    # "bills" covers three months: the June 2025 entry is out of reach, February's is in.
    assert [r.data["transaction_id"] for r in seen.items] == ["NEW"]


def test_expiry_and_renewal(platform: Platform, clock: FixedClock) -> None:
    alice = make_space(platform)
    _, stream = _fill(alice, clock)
    info = approved_service(platform)
    consent = alice.give_consent(info, duration="P30D")
    service = _service_view(platform, alice)
    service.read_points(stream)
    clock.advance(timedelta(days=32))
    assert _reason(lambda: service.read_points(stream)) == "consent-expired"
    (listed,) = alice.consents()
    assert listed.status == "expired" and listed.history[-1].state == "expired"
    renewed = alice.renew_consent(consent.id, info)
    assert renewed.status == "active" and renewed.expires > clock.now()
    assert len(service.read_points(stream)) > 0
    with pytest.raises(InvalidInput, match="at most P12M"):
        alice.renew_consent(consent.id, info, "P2Y")


def test_token_bound_to_one_consent(platform: Platform, clock: FixedClock) -> None:
    alice = make_space(platform)
    _, stream = _fill(alice, clock)
    info = approved_service(platform)
    first = alice.give_consent(info)
    second = alice.give_consent(info)  # supersedes the first
    assert alice.consent(first.id).status == "withdrawn"
    old_token = _service_view(platform, alice, consent_id=first.id)
    assert _reason(lambda: old_token.read_points(stream)) == "consent-withdrawn"
    current = _service_view(platform, alice, consent_id=second.id)
    assert len(current.read_points(stream)) > 0
    assert current.own_consent().id == second.id


def test_receipt_is_signed_and_carries_the_iso_27560_fields(platform: Platform) -> None:
    alice = make_space(platform)
    consent = alice.give_consent(approved_service(platform), ["load-curve"], language="en")
    receipt = platform.receipt(consent)
    claims = verify_receipt(receipt, platform.signer.jwks())
    record = claims["consent"]
    for key in (
        "record_id",
        "pii_principal_id",
        "controllers",
        "notice",
        "processing",
        "timestamp",
        "duration",
        "state",
        "state_history",
        "consent_type",
        "collection_method",
    ):
        assert key in record, key
    assert record["processing"][0]["purposes"][0]["iri"] == "https://w3id.org/dpv#ServiceProvision"
    assert record["notice"]["hash_sha256"] == consent.notice_hash
    assert claims["aud"] == "energy-coach" and claims["sub"] == alice.space_id
    tampered = receipt[:-4] + ("AAAA" if not receipt.endswith("AAAA") else "BBBB")
    from selfdata.errors import CryptoError

    with pytest.raises(CryptoError):
        verify_receipt(tampered, platform.signer.jwks())


def test_operator_cannot_consent_for_a_citizen(platform: Platform) -> None:
    alice = make_space(platform)
    operator = platform.view(Actor.operator("op", "olga"), alice.space_id)
    assert (
        _reason(lambda: operator.give_consent(approved_service(platform)))
        == "operator-no-data-access"
    )


def test_consent_records_are_sealed(sqlite_platform: Platform) -> None:
    alice = make_space(sqlite_platform)
    consent = alice.give_consent(approved_service(sqlite_platform))
    home = sqlite_platform.settings.home
    raw = b"".join(p.read_bytes() for p in home.glob("selfdata.db*"))
    # The notice hash and the consent's end date are only inside the sealed record.
    assert consent.notice_hash.encode() not in raw
    assert consent.expires_at.encode() not in raw
    assert alice.consent(consent.id).notice_hash == consent.notice_hash


def test_manifests_cannot_ask_for_the_log_or_unknown_doctypes(platform: Platform) -> None:
    from selfdata.errors import ValidationFailed
    from selfdata.services import load_manifest
    from tests.support.services import EXAMPLE_MANIFEST

    manifest = load_manifest(EXAMPLE_MANIFEST)
    request = manifest.requests[0].model_copy(update={"doctypes": ["energy.meter", "audit.event"]})
    sneaky = manifest.model_copy(update={"requests": [request]})
    with pytest.raises(ValidationFailed) as caught:
        platform.services.register(sneaky)
    assert caught.value.errors[0].path == "requests[0].doctypes[1]"
    # Even if such a grant existed, the gate would never let a service read the log.
    alice = make_space(platform)
    info = approved_service(platform)
    alice.give_consent(info, ["load-curve"])
    service = _service_view(platform, alice)
    from selfdata.access.policy import AccessRequest

    with (
        pytest.raises(AccessDenied) as denied,
        platform.gate.access(
            AccessRequest(service.actor, alice.space_id, "read", "audit.event", SERVICE),
            audited=False,
        ),
    ):
        pass
    assert denied.value.reason == "action-not-for-services"
    assert alice.access_log(limit=1)[0].event.reason == "action-not-for-services"


def _custom_service(platform: Platform, requests: list[dict[str, object]]) -> object:
    from selfdata.services import Manifest, load_manifest
    from tests.support.services import EXAMPLE_MANIFEST

    base = load_manifest(EXAMPLE_MANIFEST).model_dump(mode="json")
    base.update(id="probe", requests=requests)
    platform.services.register(Manifest.model_validate(base))
    return platform.services.approve("probe")


def _request(rid: str, doctypes: list[str], ops: list[str], period: str) -> dict[str, object]:
    return {
        "id": rid,
        "doctypes": doctypes,
        "operations": ops,
        "period": period,
        "purposes": [SERVICE],
        "explanation": {"fr": "x", "en": "x"},
    }


def test_a_service_reaches_only_the_files_of_papers_in_its_period(
    platform: Platform, clock: FixedClock
) -> None:
    alice = make_space(platform)
    recent = alice.put_file(
        [b"%PDF recent"], filename="avis-2026.pdf", media_type="application/pdf"
    )
    old = alice.put_file([b"%PDF old"], filename="avis-2024.pdf", media_type="application/pdf")
    loose = alice.put_file([b"%PDF medical"], filename="resultat.pdf", media_type="application/pdf")
    paper = dict(EXAMPLES["paper.document"])
    alice.put_records(
        "paper.document",
        [
            {**paper, "file_id": recent.id, "issued_on": "2026-02-20", "reference": "R1"},
            {**paper, "file_id": old.id, "issued_on": "2024-02-20", "reference": "R2"},
        ],
    )
    info = _custom_service(platform, [_request("papers", ["paper.document"], ["read"], "P30D")])
    alice.give_consent(info)  # type: ignore[arg-type]
    service = platform.view(Actor("service", "probe", label="Probe"), alice.space_id, SERVICE)
    assert [f.id for f in service.files()] == [recent.id]
    assert b"".join(service.open_file(recent.id)[1]) == b"%PDF recent"
    from selfdata.errors import NotFound

    for hidden in (old.id, loose.id):
        with pytest.raises(NotFound):
            service.open_file(hidden)


def test_a_write_only_service_learns_nothing_and_changes_nothing_outside_its_period(
    platform: Platform, clock: FixedClock
) -> None:
    alice = make_space(platform)
    old = dict(EXAMPLES["bank.transaction"], transaction_id="OLD", booked_on="2024-05-01")
    (old_id,) = alice.put_records("bank.transaction", [old]).ids
    info = _custom_service(platform, [_request("write", ["bank.transaction"], ["write"], "P30D")])
    alice.give_consent(info)  # type: ignore[arg-type]
    service = platform.view(Actor("service", "probe", label="Probe"), alice.space_id, SERVICE)
    # Writing into the past is refused…
    assert (
        _reason(lambda: service.put_records("bank.transaction", [old], on_existing="update"))
        == "outside-data-period"
    )
    # …and a write inside the period never matches the citizen's own records.
    recent = dict(EXAMPLES["bank.transaction"], transaction_id="NEW", booked_on="2026-02-25")
    alice.put_records("bank.transaction", [recent])
    report = service.put_records("bank.transaction", [recent], on_existing="error")
    assert report.created == 1 and report.unchanged == 0
    assert alice.get_record(old_id).data == old
