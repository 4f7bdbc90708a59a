"""Moving a space: export it whole, import it on another instance, exactly — on both
engines and across them (SQLite → PostgreSQL, PostgreSQL → SQLite)."""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyrage
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from selfdata.access import Actor, SpaceView
from selfdata.audit import verify_lines
from selfdata.clock import FixedClock
from selfdata.db.tables import accounts, record_revisions, records, restrictions, space_keys, spaces
from selfdata.doctypes.examples import EXAMPLES
from selfdata.errors import (
    AccessDenied,
    Conflict,
    CryptoError,
    InvalidInput,
    SelfdataError,
    UnknownDoctype,
)
from selfdata.platform import Platform, init_instance
from tests.conftest import OPERATOR, PASSWORD, make_space
from tests.support.postgres import PostgresCluster
from tests.support.services import approved_service

_names = itertools.count()
FAST = 10  # scrypt work factor for tests (age's default, 18, takes a second)


@pytest.fixture
def target(
    platform: Platform, request: pytest.FixtureRequest, tmp_path: Path, clock: FixedClock
) -> Iterator[Platform]:
    """A second instance on the *other* engine than ``platform``."""
    if platform.engine.dialect.name == "sqlite":
        cluster: PostgresCluster = request.getfixturevalue("pg_cluster")
        template: str = request.getfixturevalue("pg_template")
        url = cluster.sqlalchemy_url(cluster.create_database(template))
    else:
        url = f"sqlite:///{tmp_path / 'target' / 'selfdata.db'}"
    settings_, _ = init_instance(tmp_path / "target", database_url=url)
    instance = Platform.open(settings_, clock=clock)
    try:
        yield instance
    finally:
        instance.close()


def _vary(example: dict[str, Any], text: str, number: int) -> dict[str, Any]:
    """The example with its free-text and identifier fields changed."""
    out = dict(example)
    for key, value in example.items():
        if isinstance(value, str) and key in ("label", "note", "title", "summary", "name"):
            out[key] = f"{value} {text}".strip()
        elif isinstance(value, str) and key.endswith("_id"):
            out[key] = f"{value}{number}"
    return out


NOTE = "contrat à vérifier — 電気 ✓"


def _fill(
    platform: Platform, view: SpaceView, variants: list[tuple[str, int]], data: bytes
) -> None:
    """Records of every record doctype, a series, files, a consent, a record corrected
    twice (two past versions) and two restrictions (one with a note)."""
    for name, example in EXAMPLES.items():
        doctype = platform.doctypes.get(name)
        if doctype.kind != "record":
            continue
        items = [example]
        for text, number in variants:
            candidate = _vary(example, text, number)
            with contextlib.suppress(SelfdataError):
                items.append(doctype.validate(candidate))
        view.put_records(name, items)
    meters = list(view.iter_records("energy.meter"))
    stream = view.create_stream("energy.reading", record_id=meters[0].id, meta={"label": "Maison"})
    n = 50 + len(data) * 10
    ts = 1_600_000_000 + np.arange(n, dtype=np.int64) * 1800
    values = np.linspace(0, 3000, n * len(stream.columns)).reshape(n, -1)
    values[::7] = np.nan
    view.append_points(stream.id, ts, values)
    view.put_file([data, b"%PDF-end"], filename="facture.pdf", media_type="application/pdf")
    view.put_file([b""], filename="empty.txt", media_type="text/plain")
    first = next(view.iter_records("bank.transaction"))
    view.update_record(first.id, {**first.data, "label": "renamed"}, doctype="bank.transaction")
    view.update_record(first.id, {**first.data, "label": "renamed again"}, expected_revision=2)
    try:
        service = platform.services.get("energy-coach")
    except SelfdataError:
        service = approved_service(platform)
    given_ = view.give_consent(service)
    view.withdraw_consent(given_.id)
    view.give_consent(service)
    view.restrict("energy.meter", note=NOTE)
    view.restrict("paper.document")


def _snapshot(platform: Platform, view: SpaceView) -> dict[str, Any]:
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
        out["files"].append((info.as_dict(), b"".join(content)))
    out["consents"] = [
        {k: v for k, v in c.to_json().items() if k != "space_id"} for c in view.consents()
    ]
    out["history"] = {
        r["id"]: [past.as_dict() for past in view.record_history(r["id"], doctype=name)]
        for name, items in out["records"].items()
        for r in items
        if r["revision"] > 1
    }
    out["restrictions"] = [r.as_dict() for r in view.restrictions()]
    return out


def _rows(platform: Platform, table: Any, space_id: str, *columns: str) -> list[tuple[Any, ...]]:
    """The clear columns of a space's rows (``order_by`` the first columns)."""
    with platform.engine.connect() as conn:
        picked = [table.c[c] for c in columns]
        return [
            tuple(row)
            for row in conn.execute(
                select(*picked).where(table.c.space_id == space_id).order_by(*picked)
            )
        ]


def _meter_refused_to_the_service(platform: Platform, view: SpaceView) -> None:
    """The consented service is refused the restricted meter (reason ``restricted``)
    but still reaches the readings, which are not restricted."""
    consent = next(c for c in view.consents() if c.status == "active")
    service = platform.view(
        Actor("service", "energy-coach", label="Energy coach", consent_id=consent.id),
        view.space_id,
        "dpv:ServiceProvision",
    )
    meter = next(view.iter_records("energy.meter"))
    with pytest.raises(AccessDenied) as refused:
        service.get_record(meter.id)
    assert refused.value.reason == "restricted"
    assert service.streams("energy.reading")


def _archive_events(raw: bytes) -> list[dict[str, Any]]:
    with zipfile.ZipFile(io.BytesIO(raw)) as z:
        lines = z.read("audit/access-log.jsonl").splitlines()
    return [e for e in map(json.loads, lines[1:]) if e.get("type") == "event"]


def _same(a: Any, b: Any) -> None:
    # NaN-aware comparison of nested lists (series values).
    assert json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True, default=str)


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    variants=st.lists(
        st.tuples(st.text(st.characters(codec="utf-8"), max_size=12), st.integers(0, 999)),
        max_size=3,
    ),
    data=st.binary(max_size=3000),
    encrypted=st.booleans(),
)
def test_round_trip_across_engines(
    platform: Platform,
    target: Platform,
    variants: list[tuple[str, int]],
    data: bytes,
    encrypted: bool,
) -> None:
    name = f"citizen{next(_names)}"
    view = make_space(platform, name)
    _fill(platform, view, variants, data)
    before = _snapshot(platform, view)
    out = io.BytesIO()
    report = view.export_space(
        out, passphrase="pass phrase" if encrypted else None, work_factor=FAST
    )
    raw = out.getvalue()
    plain = pyrage.passphrase.decrypt(raw, "pass phrase") if encrypted else raw
    imported = target.directory.import_space(
        io.BytesIO(raw), PASSWORD, OPERATOR, passphrase="pass phrase" if encrypted else None
    )
    assert imported.name == name
    moved = target.citizen_view(name)
    # The archive's log, then the move: same events, chained, and the whole verifies.
    exported = _archive_events(plain)
    log = sorted(moved.access_log(limit=10_000), key=lambda e: e.seq)
    assert [
        dict({**e.as_dict(), "type": "event"}.items()) for e in log[: len(exported)]
    ] == exported
    assert log[len(exported)].event.action == "space.import"
    assert log[len(exported)].event.detail["from_space_id"] == view.space_id
    assert moved.verify_log()[0]
    after = _snapshot(target, moved)
    _same(after, before)
    # The history and the restrictions came across, exactly.
    assert len(before["history"]) == 1
    (history,) = before["history"].values()
    assert [h["revision"] for h in history] == [2, 1]
    assert history[0]["data"]["label"] == "renamed" != history[1]["data"]["label"]
    assert [(r["scope"], r["note"]) for r in after["restrictions"]] == [
        ("energy.meter", NOTE),
        ("paper.document", None),
    ]
    for table, columns in (
        (record_revisions, ("record_id", "revision", "doctype", "changed_at", "actor_kind")),
        (restrictions, ("scope", "since")),
    ):
        assert _rows(target, table, moved.space_id, *columns) == _rows(
            platform, table, view.space_id, *columns
        )
    # ... and the restriction still holds: the consented service is refused.
    with contextlib.suppress(SelfdataError):
        approved_service(target)
    _meter_refused_to_the_service(platform, view)
    _meter_refused_to_the_service(target, moved)
    with zipfile.ZipFile(io.BytesIO(plain)) as z:
        revision_lines = [json.loads(x) for x in z.read("history/revisions.jsonl").splitlines()]
    assert report.manifest["counts"]["revisions"] == len(revision_lines) == 2
    assert report.manifest["counts"]["restrictions"] == 2
    assert report.manifest["members"]["restrictions/restrictions.jsonl"]["count"] == 2
    assert revision_lines[0]["replaced_by"]["kind"] == "citizen"
    assert report.manifest["counts"]["files"] == 2
    assert sum(report.manifest["counts"]["records"].values()) == sum(
        len(v) for v in before["records"].values()
    )


def _export(view: SpaceView, passphrase: str | None = None) -> bytes:
    out = io.BytesIO()
    view.export_space(out, passphrase=passphrase, work_factor=FAST)
    return out.getvalue()


def _counts(platform: Platform) -> list[int]:
    with platform.engine.connect() as conn:
        return [
            int(conn.execute(select(func.count()).select_from(t)).scalar_one())
            for t in (spaces, records, space_keys, accounts, record_revisions, restrictions)
        ]


@pytest.fixture
def exported(platform: Platform) -> Iterator[tuple[bytes, Platform]]:
    """An archive of a filled space; imports go to the same instance under another name."""
    view = make_space(platform, "alice")
    _fill(platform, view, [("marker-ZQX", 1)], b"secret-marker-PDF")
    raw = _export(view)
    before = _counts(platform)
    blobs = sorted(p.name for p in platform.settings.blob_dir.rglob("*"))
    yield raw, platform
    # Whatever the test tried, nothing of a new space is left behind.
    assert _counts(platform) == before
    assert sorted(p.name for p in platform.settings.blob_dir.rglob("*")) == blobs


def _flip(raw: bytes, member: str) -> bytes:
    """The archive with one byte of ``member``'s stored data changed."""
    with zipfile.ZipFile(io.BytesIO(raw)) as z:
        info = z.getinfo(member)
    data = bytearray(raw)
    start = info.header_offset
    name_len = int.from_bytes(data[start + 26 : start + 28], "little")
    extra_len = int.from_bytes(data[start + 28 : start + 30], "little")
    offset = start + 30 + name_len + extra_len + 5
    data[offset] ^= 0x01
    return bytes(data)


def _rebuild(raw: bytes, change: Any) -> bytes:
    """The archive rewritten with ``change(name, bytes) -> bytes`` applied to members."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(raw)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            dst.writestr(info.filename, change(info.filename, src.read(info.filename)))
    return out.getvalue()


def _manifest(change: Any) -> Any:
    def apply(name: str, data: bytes) -> bytes:
        if name != "manifest.json":
            return data
        manifest = json.loads(data)
        change(manifest)
        return json.dumps(manifest).encode()

    return apply


def _import(other: Platform, raw: bytes, **kwargs: Any) -> Any:
    return other.directory.import_space(io.BytesIO(raw), PASSWORD, OPERATOR, name="bob", **kwargs)


def test_corrupted_member_imports_nothing(exported: tuple[bytes, Platform]) -> None:
    raw, other = exported
    with pytest.raises(InvalidInput, match=r"corrupted|checksum"):
        _import(other, _flip(raw, "records/bank.transaction.jsonl"))


def test_truncated_archive_imports_nothing(exported: tuple[bytes, Platform]) -> None:
    raw, other = exported
    for cut in (len(raw) // 2, len(raw) - 10):
        with pytest.raises(InvalidInput, match="corrupted or truncated"):
            _import(other, raw[:cut])


def test_checksum_mismatch_imports_nothing(exported: tuple[bytes, Platform]) -> None:
    raw, other = exported

    def tamper(name: str, data: bytes) -> bytes:
        return data.replace(b"renamed", b"RENAMED") if name.startswith("records/") else data

    with pytest.raises(InvalidInput, match="does not match its checksum"):
        _import(other, _rebuild(raw, tamper))


def test_newer_format_version_is_refused(exported: tuple[bytes, Platform]) -> None:
    raw, other = exported
    newer = _rebuild(raw, _manifest(lambda m: m.update(format_version=2)))
    with pytest.raises(InvalidInput, match="version 2, newer than the version 1"):
        _import(other, newer)


def _lines(raw: bytes, member: str) -> list[dict[str, Any]]:
    with zipfile.ZipFile(io.BytesIO(raw)) as z:
        return [json.loads(x) for x in z.read(member).splitlines()]


def _with_member(raw: bytes, member: str, lines: list[dict[str, Any]]) -> bytes:
    """The archive with ``member`` replaced by ``lines``, its manifest entry updated (so
    only the import's own checks can refuse it)."""
    import hashlib

    body = b"".join(json.dumps(x).encode() + b"\n" for x in lines)

    def change(name: str, data: bytes) -> bytes:
        if name == member:
            return body
        if name == "manifest.json":
            m = json.loads(data)
            m["members"][member] = {
                **m["members"][member],
                "sha256": hashlib.sha256(body).hexdigest(),
                "size": len(body),
                "count": len(lines),
            }
            return json.dumps(m).encode()
        return data

    return _rebuild(raw, change)


def test_invalid_record_is_refused(exported: tuple[bytes, Platform]) -> None:
    raw, other = exported
    member = "records/bank.transaction.jsonl"
    lines = _lines(raw, member)
    lines[0]["data"]["amount"] = "not a number"
    with pytest.raises(InvalidInput, match=r"bank\.transaction"):
        _import(other, _with_member(raw, member, lines))


def test_inconsistent_history_or_restriction_is_refused(exported: tuple[bytes, Platform]) -> None:
    raw, other = exported
    history, rights = "history/revisions.jsonl", "restrictions/restrictions.jsonl"
    past = _lines(raw, history)
    assert [p["revision"] for p in past] == [1, 2]
    for lines, message in (
        # a past version of a record the archive does not hold
        ([{**past[0], "record_id": "0" * 26}, past[1]], "does not hold"),
        # a "past" version as new as the record itself
        ([*past, {**past[1], "revision": 3}], "does not match"),
        # filed under another doctype
        ([{**p, "doctype": "energy.meter"} for p in past], "does not match"),
        ([past[0], past[0]], "appears twice"),
        ([{**past[0], "replaced_by": {"kind": ""}}], "replaced_by"),
        ([{**past[0], "replaced_at": "yesterday"}], "replaced_at"),
        ([{**past[0], "data": ["not", "an", "object"]}], "data"),
    ):
        with pytest.raises(InvalidInput, match=message):
            _import(other, _with_member(raw, history, lines))
    restricted = _lines(raw, rights)
    with pytest.raises(UnknownDoctype):
        _import(other, _with_member(raw, rights, [{**restricted[0], "scope": "no.such"}]))
    with pytest.raises(InvalidInput, match="restricted twice"):
        _import(other, _with_member(raw, rights, [restricted[0], restricted[0]]))
    with pytest.raises(InvalidInput, match="since"):
        _import(other, _with_member(raw, rights, [{**restricted[0], "since": None}]))


def test_archive_without_history_or_restrictions_still_imports(platform: Platform) -> None:
    """An archive written before these members existed (same format version): no
    history, no restriction, everything else restored."""
    view = make_space(platform, "alice")
    _fill(platform, view, [], b"pdf")
    raw = _export(view)
    dropped = ("history/revisions.jsonl", "restrictions/restrictions.jsonl")

    def strip(manifest: dict[str, Any]) -> None:
        for name in dropped:
            del manifest["members"][name]
        del manifest["counts"]["revisions"], manifest["counts"]["restrictions"]

    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(raw)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            if info.filename not in dropped:
                data = _manifest(strip)(info.filename, src.read(info.filename))
                dst.writestr(info.filename, data)
    report = _import(platform, out.getvalue())
    assert report.counts["revisions"] == 0 and report.counts["restrictions"] == 0
    moved = platform.citizen_view("bob")
    assert moved.restrictions() == []
    assert sum(report.counts["records"].values()) == sum(
        len(list(view.iter_records(d.name))) for d in platform.doctypes if d.kind == "record"
    )
    renamed = next(r for r in moved.iter_records("bank.transaction") if r.revision == 3)
    assert moved.record_history(renamed.id) == []
    assert moved.verify_log()[0]


def test_wrong_passphrase_and_encryption(platform: Platform, tmp_path: Path) -> None:
    view = make_space(platform, "alice")
    _fill(platform, view, [("marker-ZQX", 1)], b"secret-marker-PDF")
    raw = _export(view, passphrase="right one")
    assert raw.startswith(b"age-encryption.org/v1\n")
    for marker in (b"marker-ZQX", b"secret-marker-PDF", b"Maison", b"renamed", b"manifest"):
        assert marker not in raw
    # A standard age file: the reference implementation (rage) opens it.
    assert zipfile.is_zipfile(io.BytesIO(pyrage.passphrase.decrypt(raw, "right one")))
    before = 1
    with pytest.raises(CryptoError, match="wrong passphrase"):
        platform.directory.import_space(
            io.BytesIO(raw), PASSWORD, OPERATOR, name="bob", passphrase="wrong one"
        )
    with pytest.raises(InvalidInput, match="encrypted"):
        platform.directory.import_space(io.BytesIO(raw), PASSWORD, OPERATOR, name="bob")
    with pytest.raises(CryptoError, match="truncated"):
        platform.directory.import_space(
            io.BytesIO(raw[:-100]), PASSWORD, OPERATOR, name="bob", passphrase="right one"
        )
    with platform.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(spaces)).scalar() == before
    moved = platform.directory.import_space(
        io.BytesIO(raw), PASSWORD, OPERATOR, name="bob", passphrase="right one"
    )
    assert moved.name == "bob"


def test_name_taken_is_refused(platform: Platform) -> None:
    view = make_space(platform, "alice")
    raw = _export(view)
    with pytest.raises(Conflict, match="already taken"):
        platform.directory.import_space(io.BytesIO(raw), PASSWORD, OPERATOR)
    with platform.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(spaces)).scalar() == 1
    platform.directory.import_space(io.BytesIO(raw), PASSWORD, OPERATOR, name="alice2")
    assert platform.citizen_view("alice2").verify_log()[0]


def test_archive_log_verifies_and_receipts(platform: Platform) -> None:
    from selfdata.consent import verify_receipt

    view = make_space(platform, "alice")
    _fill(platform, view, [], b"pdf")
    raw = _export(view)
    with zipfile.ZipFile(io.BytesIO(raw)) as z:
        manifest = json.loads(z.read("manifest.json"))
        result = verify_lines(
            z.read("audit/access-log.jsonl").splitlines(), manifest["source"]["jwks"]
        )
        consents = [json.loads(x) for x in z.read("consents/consents.jsonl").splitlines()]
        assert set(manifest["members"]) == set(z.namelist()) - {"manifest.json"}
    assert result.ok and result.checkpoints >= 1, result.problems
    assert len(consents) == 2
    for item in consents:
        claims = verify_receipt(item["receipt"], manifest["source"]["jwks"])
        assert claims["consent"]["record_id"] == item["record"]["id"]
    assert manifest["format"] == "selfdata-space-export" and manifest["format_version"] == 1
    assert "bank.transaction" in manifest["doctypes"]


def test_cli_export_verify_import(sqlite_platform: Platform, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from selfdata.cli.app import app

    # The CLI opens the instance folder's own SQLite database.
    platform, home = sqlite_platform, sqlite_platform.settings.home
    make_space(platform, "alice")
    runner = CliRunner()
    archive = tmp_path / "alice.zip.age"
    result = runner.invoke(
        app,
        [
            "--home",
            str(home),
            "export",
            "--space",
            "alice",
            "--output",
            str(archive),
            "--passphrase-stdin",
        ],
        input="pass phrase\n",
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        app, ["audit", "verify", str(archive), "--passphrase-stdin"], input="pass phrase\n"
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        app, ["audit", "verify", str(archive), "--passphrase-stdin"], input="wrong\n"
    )
    assert result.exit_code == 1
    result = runner.invoke(
        app,
        [
            "--home",
            str(home),
            "import-space",
            str(archive),
            "--name",
            "bob",
            "--passphrase-stdin",
            "--password-stdin",
        ],
        input=f"pass phrase\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert platform.citizen_view("bob").verify_log()[0]
