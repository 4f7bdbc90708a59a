"""Compute-to-data questions end to end, on both engines: consented data in, a checked
answer out; every way a question can overreach is stopped, explained, and logged."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from selfdata.access import SpaceView
from selfdata.audit import LoggedEvent
from selfdata.clock import FixedClock
from selfdata.errors import AccessDenied, NotFound, ValidationFailed
from selfdata.platform import Platform
from selfdata.questions.pool import SqlJob, WorkerPool
from selfdata.services import ServiceInfo
from selfdata.services.manifest import validate_manifest
from tests.conftest import make_space
from tests.support.questions import (
    WATT_WISE,
    Peak,
    consent_view,
    load_curve,
    register_watt_wise,
)


@pytest.fixture
def watt_wise(platform: Platform) -> ServiceInfo:
    info = register_watt_wise(platform)
    platform.questions.pool.timeout_s = 1.5  # the runaway questions end sooner
    return info


@pytest.fixture
def citizen(platform: Platform) -> SpaceView:
    alice = make_space(platform)
    load_curve(alice)
    return alice


@pytest.fixture
def service(platform: Platform, citizen: SpaceView, watt_wise: ServiceInfo) -> SpaceView:
    return consent_view(platform, citizen, watt_wise)[0]


def _question_events(citizen: SpaceView, name: str) -> list[LoggedEvent]:
    events = citizen.access_log(limit=200, match={"actor_id": "watt-wise"})
    return [e for e in events if e.event.detail.get("question") == name]


def _refused(platform: Platform, service: SpaceView, name: str, **params: object) -> AccessDenied:
    with pytest.raises(AccessDenied) as caught:
        platform.questions.run(service, name, params)
    return caught.value


def test_sql_question_answers_monthly_totals_and_logs_it(
    platform: Platform, citizen: SpaceView, service: SpaceView
) -> None:
    answer = platform.questions.run(service, "monthly-consumption")
    # 28 days x 48 half-hours x 1,000 W x 0.5 h = 672 kWh; January 2025 is outside P12M.
    assert answer.value == [{"month": "2026-02", "kwh": 672.0}]
    assert answer.answer_bytes == len(b'[{"month":"2026-02","kwh":672.0}]')
    # P12M counts 31-day months (a window is never shorter than said).
    assert answer.period_start == datetime(2025, 2, 22, 12, tzinfo=UTC)

    (released,) = [
        e.event
        for e in _question_events(citizen, "monthly-consumption")
        if e.event.action == "question"
    ]
    assert released.outcome == "allowed" and released.doctype == "energy.reading"
    assert released.detail["answer_bytes"] == answer.answer_bytes
    assert released.period_start == answer.period_start.isoformat()
    assert released.target == answer.answer_id
    reads = [
        e.event
        for e in _question_events(citizen, "monthly-consumption")
        if e.event.action == "derive"
    ]
    assert [r.count for r in reads] == [28 * 48]  # only the consented period was read

    # The citizen sees exactly what the service received.
    (copy,) = citizen.iter_records("service.answer")
    assert copy.data["answer"] == answer.value
    assert copy.data["question"] == "monthly-consumption"
    assert copy.data["service_id"] == "watt-wise"
    assert copy.data["answer_bytes"] == answer.answer_bytes


def test_the_service_cannot_read_the_answers_copy(
    platform: Platform, citizen: SpaceView, service: SpaceView
) -> None:
    platform.questions.run(service, "monthly-consumption")
    with pytest.raises(AccessDenied):
        list(service.iter_records("service.answer"))


def test_builtin_question_gets_consented_data_with_parent_record(
    platform: Platform, citizen: SpaceView, service: SpaceView
) -> None:
    answer = platform.questions.run(service, "peak")
    assert answer.value == {"peak_w": 1000.0, "kva": 6, "points": 28 * 48}


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("raw-dump", "answer-schema-violation"),
        ("leaky", "answer-schema-violation"),
        ("too-big", "answer-too-large"),
        ("read-file", "question-forbidden-operation"),
        ("fetch-url", "question-forbidden-operation"),
        ("forever", "question-timeout"),
        ("cross-join", "question-timeout"),
        ("memory-hog", "question-resources-exceeded"),
        ("sneaky", "doctype-not-declared"),
        ("undeclared-table", "question-failed"),
    ],
)
def test_overreaching_questions_are_stopped_and_logged(
    platform: Platform, citizen: SpaceView, service: SpaceView, name: str, reason: str
) -> None:
    refused = _refused(platform, service, name)
    assert refused.reason == reason
    assert name in str(refused)
    events = [e.event for e in _question_events(citizen, name)]
    stopped = [e for e in events if e.action == "question"]
    assert [e.reason for e in stopped] == [reason]
    assert stopped[0].outcome in ("denied", "failed")
    assert not list(citizen.iter_records("service.answer"))  # nothing left


def test_the_worker_is_replaced_after_a_timeout(platform: Platform, service: SpaceView) -> None:
    _refused(platform, service, "forever")
    assert platform.questions.pool.restarts >= 1
    answer = platform.questions.run(service, "monthly-consumption")
    assert answer.value[0]["kwh"] == 672.0


class _Ticking(FixedClock):
    """A clock that moves 2 s on each reading, as a busy server's does."""

    def now(self) -> datetime:
        current = super().now()
        self.advance(timedelta(seconds=2))
        return current


def test_a_question_as_long_as_the_consent_passes_while_time_runs(
    platform: Platform, service: SpaceView, clock: FixedClock
) -> None:
    # The consent's window is computed at each decision, a little later each time: a
    # question whose period equals it must not be refused for those seconds.
    platform.gate.clock = _Ticking(clock.now())
    answer = platform.questions.run(service, "monthly-consumption")
    assert answer.value == [{"month": "2026-02", "kwh": 672.0}]


def test_doctype_or_period_outside_consent_is_refused_by_the_gate(
    platform: Platform, citizen: SpaceView, service: SpaceView
) -> None:
    # The citizen did not grant "spending" (bank transactions).
    assert _refused(platform, service, "energy-spending").reason == "doctype-not-consented"
    # Five years of readings, with a 12-month consent.
    assert _refused(platform, service, "five-years").reason == "outside-data-period"
    log = citizen.access_log(limit=50, match={"actor_id": "watt-wise", "outcome": "denied"})
    reasons = {e.event.reason for e in log}
    assert {"doctype-not-consented", "outside-data-period"} <= reasons


def test_withdrawal_stops_the_next_question_at_once(
    platform: Platform, citizen: SpaceView, watt_wise: ServiceInfo
) -> None:
    service, consent = consent_view(platform, citizen, watt_wise)
    platform.questions.run(service, "monthly-consumption")
    citizen.withdraw_consent(consent.id)
    assert _refused(platform, service, "monthly-consumption").reason == "consent-withdrawn"
    log = citizen.access_log(limit=20, match={"actor_id": "watt-wise", "outcome": "denied"})
    assert next(e.event.reason for e in log) == "consent-withdrawn"
    assert len(list(citizen.iter_records("service.answer"))) == 1


def test_params_are_checked_and_bound(platform: Platform, service: SpaceView) -> None:
    assert platform.questions.run(service, "above", {"threshold": 500}).value == [{"n": 28 * 48}]
    assert platform.questions.run(service, "above", {"threshold": 5000}).value == [{"n": 0}]
    with pytest.raises(ValidationFailed) as bad:
        platform.questions.run(service, "above", {"threshold": "'; DROP"})
    assert bad.value.errors[0].loc == ("params", "threshold")
    with pytest.raises(ValidationFailed):
        platform.questions.run(service, "monthly-consumption", {"extra": 1})


def test_unknown_question_and_listing(platform: Platform, service: SpaceView) -> None:
    with pytest.raises(NotFound):
        platform.questions.run(service, "nope")
    names = [q.name for q in platform.questions.questions("watt-wise")]
    assert names[0] == "monthly-consumption" and "peak" in names
    askable = {q.name for q in platform.questions.askable(service)}
    assert {"monthly-consumption", "peak"} <= askable
    assert not {"energy-spending", "five-years"} & askable


def test_only_services_ask_questions(platform: Platform, citizen: SpaceView) -> None:
    with pytest.raises(AccessDenied):
        platform.questions.run(citizen, "monthly-consumption")


def test_worker_audit_hook_refuses_files_sockets_and_processes() -> None:
    """The worker's last wall, checked directly: once the guard is up, Python itself
    refuses to open a file, a socket or a process."""
    probe = (
        "import socket, subprocess\n"
        "from selfdata.questions.worker import install_guard\n"
        "install_guard()\n"
        "attempts = (lambda: open('/etc/hostname'), lambda: socket.socket(),\n"
        "    lambda: subprocess.run(['true']), lambda: __import__('os').system('true'))\n"
        "for attempt in attempts:\n"
        "    try:\n"
        "        attempt()\n"
        "        print('ALLOWED')\n"
        "    except PermissionError as e:\n"
        "        print('refused:', e)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    assert "ALLOWED" not in out
    assert out.count("refused: the question worker may not") == 4


def test_worker_answers_in_any_citizen_time_zone() -> None:
    """Months and times count in the citizen's zone, whichever it is, though the worker
    may no longer open the zone files once it runs questions."""
    pool = WorkerPool(1, timeout_s=10)
    try:
        for zone, local in [
            ("Europe/Paris", "2026-01-01T00:30:00+01:00"),
            ("America/Martinique", "2025-12-31T19:30:00-04:00"),
            ("Pacific/Noumea", "2026-01-01T10:30:00+11:00"),
        ]:
            rows = pool.run(
                SqlJob("SELECT TIMESTAMPTZ '2025-12-31 23:30:00+00' AS t", {}, {}, 1000, zone)
            )
            assert rows == [{"t": local}]
    finally:
        pool.close()


def test_a_worker_killed_while_idle_is_replaced() -> None:
    pool = WorkerPool(1, timeout_s=10)
    try:
        job = SqlJob("SELECT 42 AS n", {}, {}, 1000)
        assert pool.run(job) == [{"n": 42}]
        (idle,) = pool._idle
        idle.proc.kill()  # as the OOM killer would
        idle.proc.wait()
        assert pool.run(job) == [{"n": 42}]
        assert pool.restarts == 1
    finally:
        pool.close()


# --- registration checks every built-in a manifest names -------------------------------


def _with_builtins(*questions: tuple[str, str, list[str]]) -> dict[str, Any]:
    """The watt-wise example manifest plus built-in questions (name, builtin, doctypes)."""
    data: dict[str, Any] = yaml.safe_load(WATT_WISE.read_text(encoding="utf-8"))
    data["questions"] += [
        {
            "name": name,
            "description": {"fr": f"Question {name}", "en": f"Question {name}"},
            "doctypes": doctypes,
            "builtin": builtin,
        }
        for name, builtin, doctypes in questions
    ]
    return data


def test_registration_refuses_builtins_not_installed_or_reading_undeclared_doctypes(
    platform: Platform,
) -> None:
    platform.questions.builtins.add(Peak)  # reads energy.meter and energy.reading
    first = len(_with_builtins()["questions"])
    manifest = _with_builtins(
        ("ghost", "test.ghost", ["energy.reading"]),
        ("peak", "test.peak", ["energy.reading"]),
        ("fine", "test.peak", ["energy.meter", "energy.reading"]),
    )
    with pytest.raises(ValidationFailed) as refused:
        platform.services.register(validate_manifest(manifest, "manifest.yaml"))
    errors = {e.path: e.message for e in refused.value.errors}
    assert set(errors) == {f"questions[{first}].builtin", f"questions[{first + 1}].builtin"}
    assert "no built-in question 'test.ghost' is installed" in errors[f"questions[{first}].builtin"]
    assert errors[f"questions[{first + 1}].builtin"] == (
        "built-in test.peak reads energy.meter, which question peak does not name in its doctypes"
    )
    with pytest.raises(NotFound):  # nothing was registered
        platform.services.get("watt-wise")
    ok = _with_builtins(("fine", "test.peak", ["energy.meter", "energy.reading"]))
    assert platform.services.register(validate_manifest(ok, "ok")).status == "pending"


def test_services_register_command_names_the_unknown_builtin(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from selfdata.cli import app

    runner = CliRunner()
    home = tmp_path / "instance"
    assert runner.invoke(app, ["--home", str(home), "init"]).exit_code == 0
    first = len(_with_builtins()["questions"])
    manifest = tmp_path / "manifest.yaml"
    manifest.write_text(yaml.safe_dump(_with_builtins(("ghost", "test.ghost", ["energy.reading"]))))
    result = runner.invoke(app, ["--home", str(home), "services", "register", str(manifest)])
    assert result.exit_code == 1
    words = " ".join(result.output.split())  # Rich wraps long lines
    assert f"questions[{first}].builtin" in words
    assert "no built-in question 'test.ghost' is installed on this instance" in words
    listed = runner.invoke(app, ["--home", str(home), "services", "list"])
    assert "watt-wise" not in listed.output
