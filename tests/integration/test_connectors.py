"""Connectors end to end against the Data Connect simulator on loopback: consent,
linking, syncing, incremental cursor, failures and retries, re-authorisation, sealed
tokens, audit and erasure."""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from selfdata.access import SpaceView
from selfdata.access.connectors import AccountState
from selfdata.clock import FixedClock
from selfdata.connectors import (
    Connector,
    ConnectorConfig,
    ConnectorRegistry,
    Connectors,
    Grant,
    SyncAccount,
    SyncBatch,
    Tokens,
)
from selfdata.connectors.scheduler import PeriodicSyncs
from selfdata.db.tables import connector_accounts
from selfdata.errors import AccessDenied
from selfdata.importers.runner import ImportRunner
from selfdata.platform import Platform
from tests.conftest import OPERATOR, make_space
from tests.support.dataconnect_simulator import (
    CLIENT_ID,
    CLIENT_SECRET,
    PARIS,
    USAGE_POINT,
    DataConnectSimulator,
    curve_value,
    daily_value,
    day_intervals,
)

NAME = "enedis.dataconnect"


@pytest.fixture
def simulator(clock: FixedClock) -> Iterator[DataConnectSimulator]:
    sim = DataConnectSimulator(today=clock.now().date()).start()
    try:
        yield sim
    finally:
        sim.stop()


def connectors_for(platform: Platform, sim: DataConnectSimulator, **extra: Any) -> Connectors:
    table = {
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "authorize_url": sim.base_url,
        "api_url": sim.base_url,
        "backoff_s": 0.01,
        "timeout_s": 5,
        "history_days": "30",
        "load_curve_history_days": "10",
        **extra,
    }
    return Connectors(platform.gate, platform.settings.with_(connectors={NAME: table}))


def link(connectors: Connectors, view: SpaceView, sim: DataConnectSimulator) -> AccountState:
    url = connectors.begin_authorization(view, NAME)
    query = parse_qs(urlsplit(url).query)
    assert query["client_id"] == [CLIENT_ID] and query["response_type"] == ["code"]
    redirect = parse_qs(urlsplit(sim.approve(url)).query)
    assert redirect["usage_point_id"] == [USAGE_POINT]
    return connectors.complete_authorization(
        view,
        NAME,
        redirect["code"][0],
        redirect["state"][0],
        {"usage_point_id": redirect["usage_point_id"][0]},
    )


def series(view: SpaceView, reading_type: str) -> dict[int, float]:
    meters = [
        r for r in view.iter_records("energy.meter") if r.data["reading_type"] == reading_type
    ]
    assert len(meters) == 1, meters
    (stream,) = view.streams("energy.reading", record_id=meters[0].id)
    frame = view.read_points(stream.id)
    return dict(zip(frame.ts.tolist(), frame.columns["value"].tolist(), strict=True))


def expected_daily(first: date, end: date) -> dict[int, float]:
    out = {}
    day = first
    while day < end:
        start, _ = next(day_intervals(day))
        out[int(start.timestamp())] = daily_value(day)
        day += timedelta(days=1)
    return out


def expected_curve(first: date, end: date) -> dict[int, float]:
    out = {}
    day = first
    while day < end:
        for start, _ in day_intervals(day):
            out[int(start.timestamp())] = curve_value(start)
        day += timedelta(days=1)
    return out


def test_consent_sync_then_incremental_sync(
    platform: Platform, simulator: DataConnectSimulator, clock: FixedClock
) -> None:
    view = make_space(platform)
    connectors = connectors_for(platform, simulator)
    account = link(connectors, view, simulator)
    assert account.status == "ok" and account.connector == NAME and account.cursor == {}

    state = connectors.sync_for(view, account.id)
    assert state.status == "ok", state
    assert state.last_sync_at == clock.now() and state.attempts == 0
    today = clock.now().date()
    assert state.cursor == {"daily_consumption": "2026-03-01", "load_curve": "2026-03-01"}
    assert series(view, "daily_consumption") == expected_daily(today - timedelta(days=30), today)
    assert series(view, "load_curve") == expected_curve(today - timedelta(days=10), today)
    # The load curve was asked 7 days at most per call (10 days: 2 calls).
    curve_calls = [q for path, q in simulator.data_calls if "load_curve" in path]
    assert [(q["start"], q["end"]) for q in curve_calls] == [
        ("2026-02-19", "2026-02-26"),
        ("2026-02-26", "2026-03-01"),
    ]

    # Two days later: only the new days are asked for.
    clock.advance(timedelta(days=2))
    simulator.today = clock.now().date()
    simulator.data_calls.clear()
    state = connectors.sync_for(view, account.id)
    assert state.status == "ok"
    assert sorted((q["start"], q["end"]) for _, q in simulator.data_calls) == [
        ("2026-03-01", "2026-03-03"),
        ("2026-03-01", "2026-03-03"),
    ]
    today = clock.now().date()
    assert series(view, "daily_consumption") == expected_daily(today - timedelta(days=32), today)
    assert len(series(view, "load_curve")) == 12 * 48


def test_a_sync_failing_halfway_is_completed_by_the_next_without_duplicates(
    platform: Platform, simulator: DataConnectSimulator, clock: FixedClock
) -> None:
    view = make_space(platform)
    connectors = connectors_for(platform, simulator, retries=2)
    account = link(connectors, view, simulator)
    # The daily call and the first load-curve call succeed, then 500s outlast the retries.
    simulator.fail_data_calls(500, after=2, times=3)
    state = connectors.sync_for(view, account.id)
    assert state.status == "failing" and state.reason == "provider-unavailable"
    assert state.attempts == 1 and state.message is not None
    assert "Enedis" in state.message["fr"] and "Enedis" in state.message["en"]
    assert state.next_sync_at is not None and state.next_sync_at > clock.now()
    assert state.last_sync_at is None
    # Whole chunks were kept and the cursor went only as far as them.
    assert state.cursor == {"daily_consumption": "2026-03-01", "load_curve": "2026-02-26"}
    today = clock.now().date()
    assert len(series(view, "load_curve")) == 7 * 48

    # Not due yet; once due, the scheduler completes it.
    assert connectors.sync_due() == 0
    clock.advance(timedelta(hours=2))
    assert connectors.sync_due() == 1
    state = connectors.account(view, account.id)
    assert state.status == "ok" and state.attempts == 0 and state.reason is None
    assert series(view, "load_curve") == expected_curve(today - timedelta(days=10), today)
    assert series(view, "daily_consumption") == expected_daily(today - timedelta(days=30), today)
    # Running everything again from scratch adds nothing either.
    connectors.sync_account(view.space_id, account.id)
    assert len(series(view, "load_curve")) == 10 * 48
    assert len(list(view.iter_records("energy.meter"))) == 2


def test_rate_limits_are_respected(
    platform: Platform, simulator: DataConnectSimulator, clock: FixedClock
) -> None:
    view = make_space(platform)
    connectors = connectors_for(platform, simulator)
    account = link(connectors, view, simulator)
    # A short Retry-After is waited for, then the same call goes on.
    simulator.fail_data_calls(429, times=1, retry_after=1)
    started = time.monotonic()
    state = connectors.sync_for(view, account.id)
    assert time.monotonic() - started >= 1.0
    assert state.status == "ok"
    # A long one ends the sync; the next attempt is not before it.
    clock.advance(timedelta(days=1))
    simulator.today = clock.now().date()
    simulator.fail_data_calls(429, times=1, retry_after=7200)
    state = connectors.sync_for(view, account.id)
    assert state.status == "failing" and state.reason == "rate-limited"
    assert state.next_sync_at is not None
    assert state.next_sync_at >= clock.now() + timedelta(seconds=7200)


def test_a_revoked_refresh_token_needs_reauthorization(
    platform: Platform, simulator: DataConnectSimulator, clock: FixedClock
) -> None:
    view = make_space(platform)
    connectors = connectors_for(platform, simulator)
    account = link(connectors, view, simulator)
    assert connectors.sync_for(view, account.id).status == "ok"
    # An expired access token is renewed with the refresh token, transparently.
    simulator.expire_access_tokens()
    clock.advance(timedelta(days=1))
    simulator.today = clock.now().date()
    assert connectors.sync_for(view, account.id).status == "ok"
    assert simulator.token_calls == ["authorization_code", "refresh_token"]
    # The citizen withdrew consent at Enedis.
    simulator.revoke_refresh_tokens()
    simulator.expire_access_tokens()
    clock.advance(timedelta(days=1))
    simulator.today = clock.now().date()
    state = connectors.sync_for(view, account.id)
    assert state.status == "needs_reauthorization"
    assert state.reason == "authorization-revoked" and state.next_sync_at is None
    assert state.message is not None and "accord" in state.message["fr"]
    clock.advance(timedelta(days=10))
    assert connectors.sync_due() == 0  # never retried on its own
    # The citizen consents again: the same account, its cursor kept, syncs again.
    simulator.today = clock.now().date()
    simulator.data_calls.clear()
    again = link(connectors, view, simulator)
    assert again.id == account.id and again.status == "ok" and again.cursor == state.cursor
    assert [a.id for a in connectors.accounts(view)] == [account.id]
    assert connectors.sync_due() == 1
    assert connectors.account(view, account.id).status == "ok"
    # It resumed from the cursor (the load curve in 7-day calls).
    assert [(q["start"], q["end"]) for _, q in simulator.data_calls] == [
        ("2026-03-02", "2026-03-13"),
        ("2026-03-02", "2026-03-09"),
        ("2026-03-09", "2026-03-13"),
    ]


def test_tokens_and_the_meter_id_are_never_in_clear_on_disk(
    sqlite_platform: Platform, clock: FixedClock
) -> None:
    sim = DataConnectSimulator(today=clock.now().date()).start()
    try:
        view = make_space(sqlite_platform)
        connectors = connectors_for(sqlite_platform, sim)
        account = link(connectors, view, sim)
        sim.expire_access_tokens()  # so a refresh stores rotated tokens too
        connectors.sync_for(view, account.id)
        secrets = list(sim.issued)
    finally:
        sim.stop()
    assert len(secrets) == 4  # code exchange, then a refresh: two access, two refresh
    database = sqlite_platform.settings.home / "selfdata.db"
    raw = b"".join(p.read_bytes() for p in database.parent.glob("selfdata.db*"))
    assert database.exists() and len(raw) > 10_000
    for secret in secrets:
        assert secret.encode() not in raw
    assert USAGE_POINT.encode() not in raw
    assert CLIENT_SECRET.encode() not in raw


def test_every_sync_is_audited_as_the_connector(
    platform: Platform, simulator: DataConnectSimulator, clock: FixedClock
) -> None:
    view = make_space(platform)
    connectors = connectors_for(platform, simulator)
    account = link(connectors, view, simulator)
    connectors.sync_for(view, account.id)
    clock.advance(timedelta(days=1))
    simulator.today = clock.now().date()
    simulator.fail_data_calls(500, times=10)
    connectors.sync_account(view.space_id, account.id)
    syncs = view.access_log(match={"action": "connector.sync"})
    events = [logged.event for logged in syncs]
    assert [e.detail["outcome"] for e in events] == ["failing", "ok"]
    assert all(e.actor_kind == "connector" and e.actor_id == account.id for e in events)
    assert events[1].detail["points_gained"] == 30 + 10 * 48
    assert events[0].detail["error"] == "provider-unavailable"
    writes = view.access_log(match={"actor_kind": "connector", "action": "write"}, limit=500)
    assert {e.event.doctype for e in writes} >= {"energy.meter", "energy.reading", "source"}
    linked = view.access_log(match={"action": "connector.link"})
    assert linked[0].event.actor_kind == "citizen"


def test_the_gate_keeps_a_connector_to_its_doctypes(
    platform: Platform, simulator: DataConnectSimulator
) -> None:
    view = make_space(platform)
    connectors = connectors_for(platform, simulator)
    account = link(connectors, view, simulator)
    from selfdata.access import Actor

    as_account = platform.view(Actor("connector", account.id, view.space_id), view.space_id)
    with pytest.raises(AccessDenied):
        as_account.streams("health.observation")
    as_account.streams("energy.reading")  # its own doctypes: allowed
    stranger = platform.view(Actor("connector", "01NOTANACCOUNT", view.space_id), view.space_id)
    with pytest.raises(AccessDenied):
        stranger.streams("energy.reading")
    # A restriction of the doctype stops the connector (the citizen still reads), and
    # the account says why; the whole space restricted: not even its state is written.
    view.restrict("energy.reading")
    state = connectors.sync_for(view, account.id)
    assert state.status == "failing" and state.reason == "restricted"
    assert state.message is not None and "limité" in state.message["fr"]
    view.lift_restriction("energy.reading")
    view.restrict("*")
    with pytest.raises(AccessDenied):
        connectors.sync_account(view.space_id, account.id)
    view.lift_restriction("*")
    assert connectors.sync_for(view, account.id).status == "ok"
    connectors.delete(view, account.id)
    assert connectors.accounts(view) == []
    with pytest.raises(AccessDenied):
        as_account.streams("energy.reading")


def test_erasing_the_space_deletes_its_accounts(
    platform: Platform, simulator: DataConnectSimulator
) -> None:
    view = make_space(platform)
    other = make_space(platform, "bobby")
    connectors = connectors_for(platform, simulator)
    link(connectors, view, simulator)
    link(connectors, other, simulator)
    platform.directory.erase("alice", OPERATOR)
    with platform.engine.connect() as conn:
        counts = dict(
            conn.execute(
                select(connector_accounts.c.space_id, func.count()).group_by(
                    connector_accounts.c.space_id
                )
            ).all()
        )
    assert counts == {other.space_id: 1}


def test_a_state_from_elsewhere_links_nothing(
    platform: Platform, simulator: DataConnectSimulator
) -> None:
    alice = make_space(platform)
    bobby = make_space(platform, "bobby")
    connectors = connectors_for(platform, simulator)
    url = connectors.begin_authorization(alice, NAME)
    redirect = parse_qs(urlsplit(simulator.approve(url)).query)
    from selfdata.errors import NotFound

    with pytest.raises(NotFound):  # bound to alice's space
        connectors.complete_authorization(
            bobby, NAME, redirect["code"][0], redirect["state"][0], {}
        )
    with pytest.raises(NotFound):
        connectors.complete_authorization(alice, NAME, redirect["code"][0], "forged", {})
    connectors.complete_authorization(
        alice, NAME, redirect["code"][0], redirect["state"][0], {"usage_point_id": USAGE_POINT}
    )
    with pytest.raises(NotFound):  # used once
        connectors.complete_authorization(
            alice, NAME, redirect["code"][0], redirect["state"][0], {}
        )


def test_dst_day_and_a_file_import_merge_with_the_sync(
    sqlite_platform: Platform, tmp_path: Any
) -> None:
    clock = FixedClock(datetime(2026, 3, 31, 8, 0, tzinfo=UTC))
    sqlite_platform.gate.clock = clock
    sim = DataConnectSimulator(today=clock.now().date()).start()
    try:
        view = make_space(sqlite_platform)
        connectors = connectors_for(sqlite_platform, sim, load_curve_history_days="3")
        account = link(connectors, view, sim)
        # The same meter's daily file, imported before the sync: one meter, one series.
        csv = tmp_path / "daily.csv"
        csv.write_text(
            "Identifiant PRM;Type de donnees;Date de debut;Date de fin;Grandeur physique;"
            "Grandeur metier;Etape metier;Unite\n"
            f"{USAGE_POINT};Consommation quotidienne;01/03/2026;03/03/2026;Energie active;"
            "Consommation;Comptage Brut;Wh\n"
            "Horodate;Valeur\n2026-03-01T00:00:00+01:00;"
            f"{int(daily_value(date(2026, 3, 1)))}\n",
            encoding="utf-8",
        )
        with csv.open("rb") as stream:
            ImportRunner(view).run(stream, "daily.csv")
        assert connectors.sync_for(view, account.id).status == "ok"
    finally:
        sim.stop()
    curve = series(view, "load_curve")
    per_day: dict[date, int] = {}
    for ts in curve:
        day = datetime.fromtimestamp(ts, UTC).astimezone(PARIS).date()
        per_day[day] = per_day.get(day, 0) + 1
    assert per_day == {date(2026, 3, 28): 48, date(2026, 3, 29): 46, date(2026, 3, 30): 48}
    assert curve == expected_curve(date(2026, 3, 28), date(2026, 3, 31))
    # One meter per reading type: the file's daily point and the sync's merged.
    assert len(list(view.iter_records("energy.meter"))) == 2
    assert series(view, "daily_consumption") == expected_daily(date(2026, 3, 1), date(2026, 3, 31))


def test_the_scheduler_thread_syncs_due_accounts(
    platform: Platform, simulator: DataConnectSimulator
) -> None:
    view = make_space(platform)
    connectors = connectors_for(platform, simulator)
    account = link(connectors, view, simulator)
    scheduler = PeriodicSyncs(connectors.sync_due, 0.05)
    scheduler.start()
    try:
        deadline = time.monotonic() + 20
        while connectors.account(view, account.id).last_sync_at is None:
            assert time.monotonic() < deadline, "the scheduler did not sync"
            time.sleep(0.05)
    finally:
        scheduler.stop()
    assert connectors.account(view, account.id).status == "ok"
    assert scheduler.runs >= 1


def test_the_command_line_lists_and_syncs_accounts(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from selfdata.cli import app
    from selfdata.settings import Settings

    def run(*args: str, stdin: str | None = None) -> tuple[int, str]:
        result = CliRunner().invoke(app, ["--home", str(home), *args], input=stdin)
        return result.exit_code, result.output

    home = tmp_path / "instance"
    sim = DataConnectSimulator(today=datetime.now(PARIS).date()).start()
    try:
        assert run("init")[0] == 0
        with (home / "selfdata.toml").open("a", encoding="utf-8") as config:
            config.write(
                f'\n[connectors."{NAME}"]\nclient_id = "{CLIENT_ID}"\n'
                f'client_secret = "{CLIENT_SECRET}"\nauthorize_url = "{sim.base_url}"\n'
                f'api_url = "{sim.base_url}"\nhistory_days = 5\nload_curve_history_days = 2\n'
            )
        code, out = run("connectors", "list")
        assert code == 0 and NAME in out and "yes" in out
        assert (
            run("space", "create", "alice", "--password-stdin", stdin="a long password\n")[0] == 0
        )
        platform = Platform.open(Settings.for_home(home))
        try:
            account = link(platform.connectors, platform.citizen_view("alice"), sim)
        finally:
            platform.close()
        code, out = run("connectors", "list", "--space", "alice")
        assert code == 0 and account.id in out
        code, out = run("connectors", "sync", "--space", "alice")
        assert code == 0 and "ok" in out, out
        assert len(sim.data_calls) == 2
        code, out = run("connectors", "sync")
        assert code == 0 and "0 due account(s)" in out
        code, out = run("connectors", "sync", "--account", account.id)
        assert code == 1 and "--space" in out
    finally:
        sim.stop()


class _PkceProbe(Connector):
    """A minimal provider-less connector that takes PKCE, to check the framework's half:
    the challenge sent is S256 of the verifier given back at the exchange."""

    name = "test.pkce"
    version = "1"
    description: ClassVar[dict[str, str]] = {"fr": "essai", "en": "probe"}
    doctypes = ("energy.meter",)
    supports_pkce = True
    default_urls: ClassVar[dict[str, str]] = {"authorize": "https://provider.test"}
    seen: ClassVar[dict[str, str | None]] = {}

    def authorization_url(self, state: str, code_challenge: str | None) -> str:
        self.seen["challenge"] = code_challenge
        return f"{self.url('authorize')}/authorize?state={state}"

    def exchange_code(
        self, code: str, params: Mapping[str, str], code_verifier: str | None
    ) -> Grant:
        self.seen["verifier"] = code_verifier
        return Grant(Tokens("a", "r", time.time() + 3600), "ext-1")

    def refresh(self, tokens: Tokens) -> Tokens:
        return tokens

    def sync(self, account: SyncAccount, cursor: Mapping[str, Any]) -> Iterator[SyncBatch]:
        yield from ()


def test_pkce_verifier_is_kept_sealed_and_matches_the_challenge(sqlite_platform: Platform) -> None:
    registry = ConnectorRegistry(
        {_PkceProbe.name: _PkceProbe}, {_PkceProbe.name: ConnectorConfig("id", "secret")}
    )
    connectors = Connectors(sqlite_platform.gate, sqlite_platform.settings, registry)
    view = make_space(sqlite_platform)
    url = connectors.begin_authorization(view, _PkceProbe.name)
    state = parse_qs(urlsplit(url).query)["state"][0]
    account = connectors.complete_authorization(view, _PkceProbe.name, "code", state, {})
    verifier, challenge = _PkceProbe.seen["verifier"], _PkceProbe.seen["challenge"]
    assert verifier and challenge and len(verifier) >= 43
    digest = hashlib.sha256(verifier.encode()).digest()
    assert challenge == base64.urlsafe_b64encode(digest).decode().rstrip("=")
    assert account.status == "ok"
    assert connectors.sync_for(view, account.id).status == "ok"
