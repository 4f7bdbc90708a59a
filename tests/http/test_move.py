"""Moving a space directly between two real instances over HTTP (docs/move.md).

The source is the ``platform`` fixture (SQLite and PostgreSQL) behind one uvicorn
server; the destination is a second instance on SQLite behind another.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from selfdata.access import SpaceView
from selfdata.clock import FixedClock
from selfdata.doctypes.examples import EXAMPLES
from selfdata.errors import InvalidInput, NotFound
from selfdata.platform import Platform, init_instance
from selfdata.portability.move import new_code, source_base
from selfdata.rights import verify_certificate
from selfdata.spaces.move import Moves
from selfdata.web import create_app
from tests.conftest import OPERATOR, PASSWORD, make_space
from tests.http.conftest import API, Headers, bearer_for, check_contract, serving
from tests.support.services import approved_service


@dataclass
class Instance:
    platform: Platform
    url: str
    http: httpx.Client


def _client(url: str) -> httpx.Client:
    return httpx.Client(base_url=url, event_hooks={"response": [check_contract]}, timeout=60)


def _public(platform: Platform, url: str) -> None:
    settings = platform.settings.with_(public_url=url)
    platform.settings = settings
    platform.gate.settings = settings


@pytest.fixture
def source(platform: Platform, server: str) -> Iterator[Instance]:
    _public(platform, server)
    with _client(server) as http:
        yield Instance(platform, server, http)


@pytest.fixture
def target(tmp_path: Path, clock: FixedClock) -> Iterator[Instance]:
    settings, _ = init_instance(tmp_path / "target")
    instance = Platform.open(settings, clock=clock)
    try:
        with serving(create_app(instance)) as url, _client(url) as http:
            _public(instance, url)
            yield Instance(instance, url, http)
    finally:
        instance.close()


@pytest.fixture
def operator_there(target: Instance) -> Headers:
    account = target.platform.directory.create_operator("root", PASSWORD)
    token = target.platform.sessions.issue(account.id, "token", 3600, "tests")
    return {"Authorization": f"Bearer {token.secret}"}


@pytest.fixture
def alice(source: Instance) -> Headers:
    view = make_space(source.platform, "alice")
    _fill(source.platform, view)
    return bearer_for(source.platform, "alice")


def _fill(platform: Platform, view: SpaceView) -> None:
    """Records, a rectified record, a series with NaN, files, consents (with history)."""
    for name in ("bank.transaction", "energy.meter", "paper.document"):
        view.put_records(name, [EXAMPLES[name]])
    first = next(view.iter_records("bank.transaction"))
    view.update_record(first.id, {**first.data, "label": "renamed"}, doctype="bank.transaction")
    meter = next(view.iter_records("energy.meter"))
    stream = view.create_stream("energy.reading", record_id=meter.id, meta={"label": "Maison"})
    ts = 1_600_000_000 + np.arange(100, dtype=np.int64) * 1800
    values = np.linspace(0, 3000, 100 * len(stream.columns)).reshape(100, -1)
    values[::7] = np.nan
    view.append_points(stream.id, ts, values)
    view.put_file([b"%PDF-1.4 ", b"x" * 5000], filename="facture.pdf", media_type="application/pdf")
    view.put_file([b""], filename="empty.txt", media_type="text/plain")
    service = approved_service(platform)
    given = view.give_consent(service)
    view.withdraw_consent(given.id)
    view.give_consent(service)


def _snapshot(platform: Platform, view: SpaceView) -> str:
    out: dict[str, Any] = {"records": {}, "series": [], "files": []}
    for doctype in platform.doctypes:
        if doctype.kind == "record":
            out["records"][doctype.name] = [r.as_dict() for r in view.iter_records(doctype.name)]
    for stream in view.streams():
        frame = view.read_points(stream.id)
        out["series"].append(
            (stream.as_dict(), frame.ts.tolist(), {k: v.tolist() for k, v in frame.columns.items()})
        )
    for info in view.files():
        _, content = view.open_file(info.id)
        out["files"].append((info.as_dict(), b"".join(content).hex()))
    out["consents"] = [
        {k: v for k, v in c.to_json().items() if k != "space_id"} for c in view.consents()
    ]
    return json.dumps(out, sort_keys=True, default=str)


def _offer(source: Instance, alice: Headers) -> dict[str, Any]:
    response = source.http.post(f"{API}/move/offers", headers=alice)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    assert body["code"].startswith("sdm_") and body["source_url"] == source.url
    return body


def _pull(target: Instance, operator: Headers, source_url: str, code: str) -> httpx.Response:
    return target.http.post(
        f"{API}/admin/moves",
        headers=operator,
        json={"source_url": source_url, "code": code, "name": "alice2", "password": PASSWORD},
    )


def _actions(view: SpaceView) -> list[tuple[str, str, str | None]]:
    events = view.access_log(limit=1000)
    return [(e.event.action, e.event.outcome, e.event.reason) for e in reversed(events)]


def test_a_space_moves_whole_and_the_source_is_erased_after_confirmation(
    source: Instance, target: Instance, alice: Headers, operator_there: Headers
) -> None:
    before = _snapshot(source.platform, source.platform.citizen_view("alice"))
    source_id = source.platform.directory.get_space("alice").id
    offer = _offer(source, alice)

    moved = _pull(target, operator_there, offer["source_url"], offer["code"])
    assert moved.status_code == 201, moved.text
    report = moved.json()
    assert report["name"] == "alice2" and report["source_space_id"] == source_id
    assert report["counts"]["files"] == 2 and report["counts"]["consents"] == 2

    # The destination holds exactly what the source held.
    there = target.platform.citizen_view("alice2")
    assert _snapshot(target.platform, there) == before
    assert there.verify_log()[0]
    actions = [a for a, _, _ in _actions(there)]
    for expected in ("space.create", "move.offer", "export", "space.import", "move.pull"):
        assert expected in actions
    assert actions.index("move.offer") < actions.index("space.import") < actions.index("move.pull")
    pulled = there.access_log(limit=1, match={"action": "move.pull"})[0].event
    assert pulled.detail["from_instance"] == source.url
    assert pulled.detail["erasure_certificate"] == report["certificate"]

    # The source erased its copy, and certifies it, naming the destination.
    with pytest.raises(NotFound):
        source.platform.directory.get_space("alice")
    assert source.http.get(f"{API}/me", headers=alice).status_code == 401
    jwks = source.http.get("/.well-known/jwks.json").json()
    statement = verify_certificate(report["certificate"], jwks)
    assert statement.scope == "space" and statement.space_id == source_id
    assert statement.key_destroyed
    assert statement.target == f"{target.url}#{report['space_id']}"

    # A repeated confirmation answers the same certificate; the code fetches nothing more.
    again = source.http.post(
        f"{API}/move/confirm",
        json={
            "code": offer["code"],
            "archive_sha256": report["archive_sha256"],
            "destination": {"instance": target.url, "space_id": report["space_id"]},
        },
    )
    assert again.status_code == 200 and again.json()["certificate"] == report["certificate"]
    used = source.http.post(f"{API}/move/archive", json={"code": offer["code"]})
    assert used.status_code == 409


def _untouched(source: Instance, before: str) -> SpaceView:
    view = source.platform.citizen_view("alice")
    assert source.platform.directory.get_space("alice").status == "active"
    assert _snapshot(source.platform, view) == before
    return view


def test_wrong_expired_and_reused_codes_change_nothing(
    source: Instance,
    target: Instance,
    alice: Headers,
    operator_there: Headers,
    clock: FixedClock,
) -> None:
    before = _snapshot(source.platform, source.platform.citizen_view("alice"))

    wrong = _pull(target, operator_there, source.url, new_code())
    assert wrong.status_code == 400
    assert "refused the move code" in wrong.json()["detail"]
    assert "not valid" in wrong.json()["detail"]
    malformed = _pull(target, operator_there, source.url, "123456")
    assert malformed.status_code == 400

    expiring = _offer(source, alice)
    clock.advance(timedelta(minutes=31))
    expired = _pull(target, operator_there, source.url, expiring["code"])
    assert expired.status_code == 400 and "expired" in expired.json()["detail"]

    reused = _offer(source, alice)
    first = source.http.post(f"{API}/move/archive", json={"code": reused["code"]})
    assert first.status_code == 200 and first.content.startswith(b"age-encryption.org/v1\n")
    second = _pull(target, operator_there, source.url, reused["code"])
    assert second.status_code == 409 and "already used" in second.json()["detail"]

    assert target.platform.directory.list_spaces() == []
    view = _untouched(source, before)
    log = _actions(view)
    assert ("move.fetch", "denied", "code-expired") in log
    assert ("move.fetch", "denied", "code-used") in log
    assert [a for a, _, _ in log].count("move.offer") == 2


def test_a_mismatched_confirmation_keeps_the_source(
    source: Instance, target: Instance, alice: Headers
) -> None:
    before = _snapshot(source.platform, source.platform.citizen_view("alice"))
    offer = _offer(source, alice)
    fetched = source.http.post(f"{API}/move/archive", json={"code": offer["code"]})
    assert fetched.status_code == 200
    sent = hashlib.sha256(fetched.content).hexdigest()
    destination = {"instance": target.url, "space_id": "01JXXXXXXXXXXXXXXXXXXXXXXX"}
    body = {"code": offer["code"], "archive_sha256": "0" * 64, "destination": destination}

    mismatch = source.http.post(f"{API}/move/confirm", json=body)
    assert mismatch.status_code == 409 and "mismatch" in mismatch.json()["detail"]
    wrong_code = source.http.post(f"{API}/move/confirm", json={**body, "code": new_code()})
    assert wrong_code.status_code == 401
    never_fetched = _offer(source, alice)
    early = source.http.post(
        f"{API}/move/confirm", json={**body, "code": never_fetched["code"], "archive_sha256": sent}
    )
    assert early.status_code == 409
    view = _untouched(source, before)
    assert ("move.confirm", "denied", "archive-mismatch") in _actions(view)


class _Tampering(httpx.HTTPTransport):
    """Flips one byte in the middle of the archive on its way to the destination."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if not request.url.path.endswith("/move/archive") or response.status_code != 200:
            return response
        data = bytearray(response.read())
        data[len(data) // 2] ^= 0x01
        return httpx.Response(200, content=bytes(data), request=request)


def test_an_archive_altered_in_transit_is_refused(
    source: Instance, target: Instance, alice: Headers
) -> None:
    before = _snapshot(source.platform, source.platform.citizen_view("alice"))
    offer = _offer(source, alice)
    t = target.platform
    moves = Moves(t.engine, t.gate, t.directory, t.settings, transport=_Tampering())
    with pytest.raises(InvalidInput, match="altered in transit"):
        moves.pull(OPERATOR, source.url, offer["code"], name="alice2", password=PASSWORD)
    assert t.directory.list_spaces() == []
    _untouched(source, before)


def test_the_name_is_checked_before_the_code_is_used(
    source: Instance, target: Instance, alice: Headers, operator_there: Headers
) -> None:
    make_space(target.platform, "alice2")
    offer = _offer(source, alice)
    taken = _pull(target, operator_there, source.url, offer["code"])
    assert taken.status_code == 409 and "already taken" in taken.json()["detail"]
    # The code was not spent: the offer can still be fetched.
    assert source.http.post(f"{API}/move/archive", json={"code": offer["code"]}).status_code == 200


def test_who_may_do_what(
    source: Instance, target: Instance, alice: Headers, operator_there: Headers
) -> None:
    account = source.platform.directory.create_operator("root", PASSWORD)
    token = source.platform.sessions.issue(account.id, "token", 3600, "tests")
    root_here = {"Authorization": f"Bearer {token.secret}"}
    assert source.http.post(f"{API}/move/offers", headers=root_here).status_code == 403
    assert source.http.post(f"{API}/move/offers").status_code == 401
    make_space(target.platform, "carol")
    citizen_there = bearer_for(target.platform, "carol")
    offer = _offer(source, alice)
    refused = _pull(target, citizen_there, source.url, offer["code"])
    assert refused.status_code == 403
    plain = _pull(target, operator_there, "http://example.org", offer["code"])
    assert plain.status_code == 400 and "HTTPS" in plain.json()["detail"]


@pytest.mark.parametrize(
    ("url", "base"),
    [
        ("https://a.example.org/", "https://a.example.org"),
        ("https://A.example.org:8443/selfdata/", "https://a.example.org:8443/selfdata"),
        ("http://localhost:8000", "http://localhost:8000"),
        ("http://127.0.0.1:9/", "http://127.0.0.1:9"),
        ("http://[::1]:8000", "http://[::1]:8000"),
    ],
)
def test_source_urls(url: str, base: str) -> None:
    assert source_base(url) == base


@pytest.mark.parametrize(
    "url",
    ["http://a.example.org", "ftp://a.example.org", "https://u:p@a.example.org", "https://a/?x=1"],
)
def test_refused_source_urls(url: str) -> None:
    with pytest.raises(InvalidInput):
        source_base(url)


def test_the_command_line_pulls_a_space(
    source: Instance, target: Instance, alice: Headers, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from selfdata.cli.app import app

    before = _snapshot(source.platform, source.platform.citizen_view("alice"))
    offer = _offer(source, alice)
    args = ["--home", str(tmp_path / "target"), "move", "pull", source.url]
    result = CliRunner().invoke(
        app,
        [*args, "--name", "alice3", "--code-stdin", "--password-stdin"],
        input=f"{offer['code']}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert "moved in" in result.output
    assert _snapshot(target.platform, target.platform.citizen_view("alice3")) == before
    with pytest.raises(NotFound):
        source.platform.directory.get_space("alice")
    # The code is spent: a second pull fails clearly, without a traceback.
    again = CliRunner().invoke(
        app,
        [*args, "--name", "alice4", "--code-stdin", "--password-stdin"],
        input=f"{offer['code']}\n{PASSWORD}\n",
    )
    assert again.exit_code == 1 and "error" in again.output


def test_the_command_line_offers_a_move(source: Instance, alice: Headers, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from selfdata.cli.app import app

    args = ["--home", str(tmp_path / "home"), "move", "offer", "--space", "alice"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "code: sdm_" in result.output
    log = _actions(source.platform.citizen_view("alice"))
    assert ("move.offer", "allowed", "owner") in log
