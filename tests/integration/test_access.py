"""The authorisation point: who may do what, and every decision in the space's log."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from selfdata.access import Actor, Query
from selfdata.db.tables import audit_events
from selfdata.doctypes.examples import EXAMPLES
from selfdata.errors import AccessDenied, AuthenticationFailed, NotFound
from selfdata.platform import Platform
from tests.conftest import OPERATOR, PASSWORD, make_space


def test_operator_administers_but_cannot_read(platform: Platform) -> None:
    alice = make_space(platform)
    alice.put_records("bank.transaction", [EXAMPLES["bank.transaction"]])
    operator = platform.view(Actor.operator("op-1", "olga"), alice.space_id)
    for attempt in (
        lambda: operator.query(Query.build("bank.transaction")),
        operator.summary,
        lambda: operator.put_records("bank.transaction", [EXAMPLES["bank.transaction"]]),
    ):
        with pytest.raises(AccessDenied) as caught:
            attempt()
        assert caught.value.reason == "operator-no-data-access"
    denied = [e.event for e in alice.access_log() if e.event.outcome == "denied"]
    assert len(denied) == 3 and {e.actor_kind for e in denied} == {"operator"}
    assert denied[0].detail["actor"] == "olga"


def test_another_citizen_is_told_the_space_does_not_exist(platform: Platform) -> None:
    alice = make_space(platform, "alice")
    bob = make_space(platform, "bobby")
    record_id = alice.put_records("bank.transaction", [EXAMPLES["bank.transaction"]]).ids[0]
    intruder = platform.view(bob.actor, alice.space_id)
    with pytest.raises(NotFound):
        intruder.get_record(record_id)
    with pytest.raises(NotFound):
        bob.get_record(record_id)  # addressed through bob's own space: not there either
    assert [e.event.reason for e in alice.access_log(limit=1)] == ["not-your-space"]


def test_services_and_connectors_need_consent(platform: Platform) -> None:
    alice = make_space(platform)
    service = platform.view(
        Actor("service", "energy-coach", label="Energy coach"),
        alice.space_id,
        "dpv:ServiceProvision",
    )
    with pytest.raises(AccessDenied) as caught:
        service.query(Query.build("bank.transaction"))
    assert caught.value.reason == "service-unknown"


def test_suspension_takes_effect_on_the_next_request(platform: Platform) -> None:
    alice = make_space(platform)
    alice.summary()
    token = platform.sessions.issue(alice.actor.id, "token", 3600)
    assert platform.sessions.authenticate(token.secret).space_id == alice.space_id
    platform.directory.suspend("alice", OPERATOR)
    with pytest.raises(AccessDenied) as caught:
        alice.summary()
    assert caught.value.reason == "space-suspended"
    with pytest.raises(AuthenticationFailed):
        platform.sessions.authenticate(token.secret)
    with pytest.raises(AuthenticationFailed, match=r"suspended|not active"):
        platform.directory.login("alice", PASSWORD)
    platform.directory.resume("alice", OPERATOR)
    alice.summary()
    actions = [e.event.action for e in alice.access_log()]
    assert "space.suspend" in actions and "space.resume" in actions


def test_log_chain_detects_a_changed_event(platform: Platform) -> None:
    alice = make_space(platform)
    alice.put_records("bank.transaction", [EXAMPLES["bank.transaction"]])
    alice.summary()
    ok, message, count = alice.verify_log()
    assert ok and count >= 3, message
    with platform.engine.begin() as conn:
        conn.execute(update(audit_events).where(audit_events.c.seq == 2).values(hash=b"\x01" * 32))
    ok, message, _ = alice.verify_log()
    assert not ok and "event 2" in message


def test_login_lockout_and_audit(platform: Platform) -> None:
    alice = make_space(platform)
    for _ in range(platform.settings.limits.login_attempts_before_lock):
        with pytest.raises(AuthenticationFailed, match="wrong username or password"):
            platform.directory.login("alice", "not the password")
    with pytest.raises(AuthenticationFailed, match="too many"):
        platform.directory.login("alice", PASSWORD)
    with pytest.raises(AuthenticationFailed, match="wrong username or password"):
        platform.directory.login("nobody-here", PASSWORD)
    logins = [e.event for e in alice.access_log() if e.event.action == "login"]
    assert len(logins) == 5 and logins[0].detail["locked"] is True
