"""The citizen's rights through the authorisation point, on both engines: access summary,
rectification with sealed history, restriction, withdrawal of every consent, partial and
whole erasure with signed certificates — each audited."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select, update

from selfdata.access import Actor, Query, SpaceView
from selfdata.clock import FixedClock
from selfdata.db.tables import record_revisions, records, restrictions, series_streams
from selfdata.doctypes.examples import EXAMPLES
from selfdata.errors import (
    AccessDenied,
    Conflict,
    CryptoError,
    InvalidInput,
    NotFound,
    UnknownDoctype,
)
from selfdata.platform import Platform
from selfdata.rights import ERASURE_TYP, verify_certificate
from tests.conftest import OPERATOR, make_space
from tests.support.services import approved_service

SERVICE = "dpv:ServiceProvision"
OLD_MARKER = "PANGOLIN-OLD-LABEL-5521"


def _tx(n: int, **changes: str) -> dict[str, str]:
    return dict(EXAMPLES["bank.transaction"], transaction_id=f"T-{n}", **changes)


def _service(platform: Platform, citizen: SpaceView, consent_id: str | None = None) -> SpaceView:
    actor = Actor("service", "energy-coach", label="Energy coach", consent_id=consent_id)
    return platform.view(actor, citizen.space_id, SERVICE)


def _meter_with_readings(view: SpaceView, clock: FixedClock) -> tuple[str, str]:
    meter = view.put_records("energy.meter", [EXAMPLES["energy.meter"]]).ids[0]
    stream = view.create_stream("energy.reading", record_id=meter).id
    now = int(clock.now().timestamp())
    ts = np.arange(now - 10 * 86400, now, 1800)
    view.append_points(stream, ts, np.ones(ts.shape[0]))
    return meter, stream


def _actions(view: SpaceView) -> list[str]:
    return [e.event.action for e in view.access_log(limit=1000)]


def _count(platform: Platform, table: object, space_id: str) -> int:
    with platform.engine.connect() as conn:
        return int(
            conn.execute(
                select(func.count()).select_from(table).where(table.c.space_id == space_id)  # type: ignore[attr-defined]
            ).scalar_one()
        )


# -- rectification ------------------------------------------------------------------


def test_rectification_keeps_every_past_version(platform: Platform) -> None:
    alice = make_space(platform)
    record_id = alice.put_records("bank.transaction", [_tx(1, label=OLD_MARKER)]).ids[0]
    alice.update_record(record_id, _tx(1, label="corrected label"), expected_revision=1)
    # An import that updates the same record keeps the version it replaces too.
    alice.put_records("bank.transaction", [_tx(1, label="third")], on_existing="update")
    current = alice.get_record(record_id)
    assert current.revision == 3 and current.data["label"] == "third"
    past = alice.record_history(record_id, doctype="bank.transaction")
    assert [r.revision for r in past] == [2, 1]
    assert past[1].data["label"] == OLD_MARKER and past[0].data["label"] == "corrected label"
    assert past[1].changed_by.kind == "citizen" and past[1].changed_by.id == alice.actor.id
    assert past[1].as_dict()["replaced_by"]["kind"] == "citizen"
    # The history is the citizen's: a service, even consented, does not get it.
    approved_service(platform)
    with pytest.raises(AccessDenied) as refused:
        _service(platform, alice).record_history(record_id)
    assert refused.value.reason == "citizen-only"
    # Deleting the record deletes its history.
    alice.delete_record(record_id)
    assert _count(platform, record_revisions, alice.space_id) == 0
    with pytest.raises(NotFound):
        alice.record_history(record_id)


def test_past_versions_are_sealed_and_bound_to_their_revision(platform: Platform) -> None:
    alice = make_space(platform)
    record_id = alice.put_records("bank.transaction", [_tx(1, label="one")]).ids[0]
    alice.update_record(record_id, _tx(1, label="two"))
    alice.update_record(record_id, _tx(1, label="three"))
    with platform.engine.begin() as conn:
        bodies = dict(
            conn.execute(
                select(record_revisions.c.revision, record_revisions.c.body).where(
                    record_revisions.c.space_id == alice.space_id
                )
            ).all()
        )
        # Swap the sealed versions between revisions: neither opens any more.
        for revision, other in ((1, 2), (2, 1)):
            conn.execute(
                update(record_revisions)
                .where(
                    record_revisions.c.space_id == alice.space_id,
                    record_revisions.c.revision == revision,
                )
                .values(body=bodies[other])
            )
    with pytest.raises(CryptoError):
        alice.record_history(record_id)


def test_past_versions_are_not_in_the_database_in_clear(sqlite_platform: Platform) -> None:
    alice = make_space(sqlite_platform)
    record_id = alice.put_records("bank.transaction", [_tx(1, label=OLD_MARKER)]).ids[0]
    alice.update_record(record_id, _tx(1, label="corrected"))
    home = sqlite_platform.settings.home
    scanned = [p for p in (home / "selfdata.db", home / "selfdata.db-wal") if p.exists()]
    assert scanned
    for path in scanned:
        assert OLD_MARKER.encode() not in Path(path).read_bytes(), path
    # The scan is meaningful: the old value does come back through the gate.
    assert alice.record_history(record_id)[0].data["label"] == OLD_MARKER


# -- restriction --------------------------------------------------------------------


def test_restriction_blocks_services_not_the_citizen_until_lifted(
    platform: Platform, clock: FixedClock
) -> None:
    alice = make_space(platform)
    meter, stream = _meter_with_readings(alice, clock)
    consent = alice.give_consent(approved_service(platform), ["load-curve"])
    service = _service(platform, alice, consent.id)
    assert service.get_record(meter).id == meter

    made = alice.restrict("energy.meter", note="I am checking my contract")
    assert made.scope == "energy.meter"
    with pytest.raises(AccessDenied) as refused:
        service.get_record(meter)
    assert refused.value.reason == "restricted"
    assert service.read_points(stream).ts.size > 0  # readings are not restricted
    assert alice.get_record(meter).id == meter  # the citizen still reads
    with pytest.raises(Conflict):
        alice.restrict("energy.meter")

    alice.restrict("*")
    with pytest.raises(AccessDenied) as refused:
        service.streams("energy.reading")
    assert refused.value.reason == "restricted"
    # A connector (none exists yet) is refused as restricted too.
    connector = platform.view(Actor("connector", "enedis", label="Enedis"), alice.space_id)
    with pytest.raises(AccessDenied) as refused:
        connector.put_records("energy.meter", [EXAMPLES["energy.meter"]])
    assert refused.value.reason == "restricted"
    # A service without a consent learns nothing of the restriction.
    stranger = platform.view(Actor("service", "other-app", label="Other"), alice.space_id, SERVICE)
    with pytest.raises(AccessDenied) as refused:
        stranger.streams("energy.reading")
    assert refused.value.reason == "service-unknown"
    assert [(r.scope, r.note) for r in alice.restrictions()] == [
        ("*", None),
        ("energy.meter", "I am checking my contract"),
    ]

    alice.lift_restriction("*")
    alice.lift_restriction("energy.meter")
    assert service.get_record(meter).id == meter
    with pytest.raises(NotFound):
        alice.lift_restriction("energy.meter")
    actions = _actions(alice)
    assert actions.count("rights.restrict") == 2 and actions.count("rights.lift") == 2
    denied = [e.event for e in alice.access_log(limit=1000, match={"reason": "restricted"})]
    assert denied and all(e.outcome == "denied" for e in denied)


def test_restriction_input_is_checked_and_citizen_only(platform: Platform) -> None:
    alice = make_space(platform)
    with pytest.raises(InvalidInput):
        alice.restrict("bank.transactions")
    with pytest.raises(InvalidInput):
        alice.restrict("*", note="x" * 501)
    assert _count(platform, restrictions, alice.space_id) == 0
    approved_service(platform)
    consent = alice.give_consent(platform.services.get("energy-coach"), ["load-curve"])
    with pytest.raises(AccessDenied) as refused:
        _service(platform, alice, consent.id).restrict("*")
    assert refused.value.reason == "action-not-for-services"
    operator = platform.view(OPERATOR, alice.space_id)
    with pytest.raises(AccessDenied) as refused:
        operator.lift_restriction("*")
    assert refused.value.reason == "operator-no-data-access"


# -- objection: every consent at once -------------------------------------------------


def test_withdraw_all_consents_revokes_every_one(platform: Platform, clock: FixedClock) -> None:
    alice = make_space(platform)
    meter, _ = _meter_with_readings(alice, clock)
    info = approved_service(platform)
    first = alice.give_consent(info, ["load-curve"])
    second = alice.give_consent(info, ["load-curve", "bills"])  # supersedes the first
    assert {c.status for c in alice.consents()} == {"withdrawn", "active"}
    service = _service(platform, alice, second.id)
    assert service.get_record(meter).id == meter

    withdrawn = alice.withdraw_all_consents()
    assert [c.id for c in withdrawn] == [second.id]
    assert {c.status for c in alice.consents()} == {"withdrawn"}
    with pytest.raises(AccessDenied) as refused:
        service.get_record(meter)
    assert refused.value.reason == "consent-withdrawn"
    assert alice.withdraw_all_consents() == []  # nothing left to withdraw
    assert "rights.withdraw-all" in _actions(alice)
    assert first.id != second.id


# -- erasure --------------------------------------------------------------------------


def test_erasing_a_doctype_removes_exactly_its_rows_with_a_certificate(
    platform: Platform, clock: FixedClock
) -> None:
    alice = make_space(platform)
    bob = make_space(platform, "bobby")
    ids = alice.put_records("bank.transaction", [_tx(1), _tx(2)]).ids
    alice.update_record(ids[0], _tx(1, label="fixed"))
    alice.put_records("bank.account", [EXAMPLES["bank.account"]])
    meter, stream = _meter_with_readings(alice, clock)
    bob.put_records("bank.transaction", [_tx(1)])

    report = alice.erase_doctype("bank.transaction")
    statement = verify_certificate(report.certificate, platform.signer.jwks())
    assert report.statement.counts["records"] == 2
    assert report.statement.counts["record_revisions"] == 1
    assert report.statement.counts["series_streams"] == 0
    summary = {s.doctype: s.count for s in alice.summary()}
    assert "bank.transaction" not in summary
    assert summary["bank.account"] == 1 and summary["energy.meter"] == 1
    assert summary["energy.reading"] > 0
    assert {s.doctype for s in bob.summary()} == {"bank.transaction"}
    assert statement.scope == "doctype" and statement.target == "bank.transaction"
    assert statement.space_id == alice.space_id and not statement.key_destroyed
    (erased,) = alice.access_log(match={"action": "rights.erase"})
    assert erased.event.detail["counts"]["records"] == 2
    # The certificate's log head covers the erasure's own event.
    assert statement.log_seq == erased.seq and statement.log_head == erased.hash

    # A meter goes with its readings.
    meter_report = alice.erase_doctype("energy.meter")
    assert meter_report.statement.counts["series_streams"] == 1
    assert meter_report.statement.counts["series_chunks"] >= 1
    with pytest.raises(NotFound):
        alice.stream(stream)
    assert {s.doctype for s in alice.summary()} == {"bank.account"}
    assert meter


def test_erasing_a_source_removes_exactly_what_came_from_it(platform: Platform) -> None:
    alice = make_space(platform)
    alice.put_records("bank.transaction", [_tx(1), _tx(2)], source_id="IMPORTA")
    alice.put_records("bank.transaction", [_tx(3)], source_id="IMPORTB")
    kept = alice.put_records("bank.account", [EXAMPLES["bank.account"]]).ids[0]

    with pytest.raises(NotFound):
        alice.erase_source("NOSUCHSOURCE")
    assert _count(platform, records, alice.space_id) == 4

    report = alice.erase_source("IMPORTA")
    assert report.statement.counts["records"] == 2
    left = [r.data["transaction_id"] for r in alice.iter_records("bank.transaction")]
    assert left == ["T-3"]
    assert alice.get_record(kept).id == kept
    assert verify_certificate(report.certificate, platform.signer.jwks()).target == "IMPORTA"


def test_bad_erasure_input_changes_nothing(platform: Platform) -> None:
    alice = make_space(platform)
    alice.put_records("bank.transaction", [_tx(1)])
    with pytest.raises(UnknownDoctype):
        alice.erase_doctype("bank.transactions")
    with pytest.raises(InvalidInput):
        alice.erase_source("  ")
    assert _count(platform, records, alice.space_id) == 1
    approved_service(platform)
    consent = alice.give_consent(platform.services.get("energy-coach"), ["load-curve"])
    with pytest.raises(AccessDenied):
        _service(platform, alice, consent.id).erase_doctype("energy.meter")
    assert _count(platform, records, alice.space_id) == 1


def test_the_whole_space_erased_by_its_citizen_with_a_certificate(
    platform: Platform, clock: FixedClock
) -> None:
    alice = make_space(platform)
    _meter_with_readings(alice, clock)
    alice.restrict("*")
    record_id = alice.put_records("bank.transaction", [_tx(1)]).ids[0]
    alice.update_record(record_id, _tx(1, label="fixed"))
    space_id = alice.space_id
    done = platform.directory.erase_certified(space_id, alice.actor)
    claims = verify_certificate(done.certificate, platform.signer.jwks())
    assert claims.scope == "space" and claims.space_id == space_id and claims.key_destroyed
    assert claims.counts["space_keys"] == 1 and claims.counts["accounts"] == 1
    assert claims.counts["records"] == 2 and claims.counts["record_revisions"] == 1
    assert claims.counts["restrictions"] == 1 and claims.log_seq is not None
    for table in (records, record_revisions, restrictions, series_streams):
        assert _count(platform, table, space_id) == 0
    with pytest.raises(NotFound):
        alice.summary()
    # Tampered or foreign certificates do not verify.
    with pytest.raises(CryptoError):
        verify_certificate(done.certificate[:-4] + "AAAA", platform.signer.jwks())
    receipt_like = platform.signer.sign({"sub": space_id}, "selfdata-consent-receipt+jws")
    with pytest.raises(CryptoError):
        verify_certificate(receipt_like, platform.signer.jwks())
    forged = platform.signer.sign({"sub": space_id}, ERASURE_TYP)
    with pytest.raises(CryptoError):
        verify_certificate(forged, platform.signer.jwks())


# -- access -----------------------------------------------------------------------------


def test_access_summary_says_what_is_held_where_from_and_who_sees_it(
    platform: Platform, clock: FixedClock
) -> None:
    alice = make_space(platform)
    meter, _ = _meter_with_readings(alice, clock)
    alice.put_records("bank.transaction", [_tx(1), _tx(2)], source_id="IMPORTA")
    consent = alice.give_consent(approved_service(platform), ["load-curve"])
    service = _service(platform, alice, consent.id)
    service.get_record(meter)
    with pytest.raises(AccessDenied):
        service.query(Query.build("bank.transaction"))
    alice.restrict("health.observation")

    fr = alice.rights_summary("fr")
    en = alice.rights_summary("en")
    held = {h["doctype"]: h for h in en["holdings"]}
    assert held["bank.transaction"]["count"] == 2 and held["bank.transaction"]["first"]
    assert held["energy.reading"]["kind"] == "series"
    origins = {(o["source_id"], o["doctype"]): o for o in en["origins"]}
    assert origins[("IMPORTA", "bank.transaction")]["by"] == "you"
    (shared,) = en["sharing"]
    assert shared["service_id"] == "energy-coach" and shared["status"] == "active"
    assert shared["accesses"] == 1 and shared["refusals"] >= 1
    assert "Energy coach" in shared["text"] and "1 access" in shared["text"]
    assert any("Coach énergie" in line for line in fr["text"])
    assert fr["title"] != en["title"] and en["restrictions"][0]["scope"] == "health.observation"
    assert "read" in _actions(alice)


# -- the command line ------------------------------------------------------------------


def test_cli_erasure_certificate_verifies_offline(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from selfdata.cli import app

    runner = CliRunner()
    home = tmp_path / "instance"

    def run(*args: str, stdin: str | None = None) -> tuple[int, str]:
        result = runner.invoke(app, ["--home", str(home), *args], input=stdin)
        return result.exit_code, result.output + (result.stderr if result.stderr_bytes else "")

    assert run("init")[0] == 0
    assert run("space", "create", "alice", "--password-stdin", stdin="a long password\n")[0] == 0
    code, out = run("audit", "jwks")
    assert code == 0
    (tmp_path / "jwks.json").write_text(out)
    cert = tmp_path / "alice.jws"
    code, out = run("space", "erase", "alice", "--yes", "--certificate", str(cert))
    assert code == 0 and "certificate written" in out, out
    code, out = run(
        "rights", "verify-certificate", str(cert), "--jwks", str(tmp_path / "jwks.json")
    )
    assert code == 0 and "signed by the operator" in out and "space_keys: 1" in out, out
    cert.write_text(cert.read_text()[:-6] + "AAAAAA")
    code, out = run(
        "rights", "verify-certificate", str(cert), "--jwks", str(tmp_path / "jwks.json")
    )
    assert code == 1 and "✗" in out
    code, out = run("rights", "verify-certificate", str(tmp_path / "none"), "--jwks", "x.json")
    assert code == 1 and "no such file" in out
    # Without --certificate the command prints it.
    assert run("space", "create", "bobby", "--password-stdin", stdin="a long password\n")[0] == 0
    code, out = run("space", "erase", "bobby", "--yes")
    assert code == 0 and "signed erasure certificate" in out and "eyJ" in out
