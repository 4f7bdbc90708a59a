"""What an attacker with the database or the blob folder sees: ciphertext only.

Known marker values are written through every kind of storage, then the raw bytes
of the database (and its WAL), the blob folder and, for PostgreSQL, the cluster's
data directory are scanned for them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select, text, update

from selfdata.access import Actor, SpaceView
from selfdata.db.tables import files, metadata, records, series_chunks, space_keys
from selfdata.doctypes.examples import EXAMPLES
from selfdata.errors import CryptoError, NotFound
from selfdata.platform import Platform
from tests.conftest import OPERATOR, make_space
from tests.support.services import approved_service

MARKERS = [
    b"ZEBRA-MARKER-LABEL-7731",
    b"OKAPI-MARKER-NOTE-4412",
    b"QUOKKA-MARKER-FILE-9920",
    b"NARWHAL-MARKER-STREAM-5531",
    b"Camille Martin",
    b"FR7630006000011234567890189",
]


def _write_markers(view: SpaceView) -> None:
    tx = dict(EXAMPLES["bank.transaction"], label=MARKERS[0].decode(), memo=MARKERS[1].decode())
    view.put_records("bank.transaction", [tx])
    view.put_records("bank.account", [EXAMPLES["bank.account"]])  # holder name and IBAN
    meter = view.put_records("energy.meter", [EXAMPLES["energy.meter"]]).ids[0]
    stream = view.create_stream(
        "energy.reading", record_id=meter, meta={"label": MARKERS[3].decode()}
    )
    view.append_points(
        stream.id, np.arange(1_700_000_000, 1_700_000_000 + 1800 * 500, 1800), np.full(500, 123.456)
    )
    view.put_file([MARKERS[2] * 1000], filename="facture.pdf", media_type="application/pdf")


def _files_under(*roots: Path) -> Iterator[Path]:
    for root in roots:
        if root.is_file():
            yield root
        elif root.exists():
            yield from (p for p in root.rglob("*") if p.is_file())


def _assert_no_markers(paths: list[Path]) -> None:
    assert paths, "nothing was scanned"
    for path in paths:
        data = path.read_bytes()
        for marker in MARKERS:
            assert marker not in data, f"{marker!r} found in clear in {path}"


def test_no_plaintext_in_sqlite_wal_or_blobs(sqlite_platform: Platform) -> None:
    view = make_space(sqlite_platform)
    _write_markers(view)
    home = sqlite_platform.settings.home
    paths = list(
        _files_under(
            home / "selfdata.db", home / "selfdata.db-wal", sqlite_platform.settings.blob_dir
        )
    )
    assert any(p.name.endswith("-wal") for p in paths)
    assert len([p for p in paths if p.parent.parent == sqlite_platform.settings.blob_dir]) == 1
    _assert_no_markers(paths)
    # The scan is meaningful: the same values do come back through the gate.
    (info,) = view.files()
    assert b"".join(view.open_file(info.id)[1]) == MARKERS[2] * 1000


def test_no_plaintext_in_postgresql_data_directory(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    from selfdata.platform import init_instance

    cluster = request.getfixturevalue("pg_cluster")
    url = cluster.sqlalchemy_url(cluster.create_database(request.getfixturevalue("pg_template")))
    settings, _ = init_instance(tmp_path / "home", database_url=url)
    platform = Platform.open(settings)
    try:
        _write_markers(make_space(platform))
        with platform.engine.connect() as conn:
            conn.execute(text("CHECKPOINT"))
    finally:
        platform.close()
    paths = list(_files_under(cluster.data / "base", cluster.data / "pg_wal", settings.blob_dir))
    if os.geteuid() != 0 and not os.access(cluster.data / "base", os.R_OK):
        pytest.skip("the PostgreSQL data directory is not readable by this user")
    _assert_no_markers(paths)


def test_master_key_file_is_private(sqlite_platform: Platform) -> None:
    mode = sqlite_platform.settings.key_file.stat().st_mode & 0o777
    assert mode == 0o600


def test_ciphertext_moved_elsewhere_fails_to_open(platform: Platform) -> None:
    alice = make_space(platform, "alice")
    bob = make_space(platform, "bobby")
    a1, a2 = alice.put_records(
        "bank.transaction",
        [
            dict(EXAMPLES["bank.transaction"], transaction_id="A1"),
            dict(EXAMPLES["bank.transaction"], transaction_id="A2"),
        ],
    ).ids
    (b1,) = bob.put_records(
        "bank.transaction", [dict(EXAMPLES["bank.transaction"], transaction_id="B1")]
    ).ids
    with platform.engine.begin() as conn:
        body_a1 = conn.execute(select(records.c.body).where(records.c.id == a1)).scalar_one()
        # Another record of the same space, then another space.
        conn.execute(update(records).where(records.c.id == a2).values(body=body_a1))
        conn.execute(update(records).where(records.c.id == b1).values(body=body_a1))
    with pytest.raises(CryptoError, match="integrity"):
        alice.get_record(a2)
    with pytest.raises(CryptoError, match="integrity"):
        bob.get_record(b1)
    assert alice.get_record(a1).data["transaction_id"] == "A1"


def test_series_chunk_moved_to_another_month_fails(platform: Platform) -> None:
    view = make_space(platform)
    meter = view.put_records("energy.meter", [EXAMPLES["energy.meter"]]).ids[0]
    stream = view.create_stream("energy.reading", record_id=meter).id
    ts = np.arange(1_704_067_200, 1_704_067_200 + 86400 * 60, 1800)  # January and February 2024
    view.append_points(stream, ts, np.ones(ts.shape[0]))
    with platform.engine.begin() as conn:
        jan, feb = conn.execute(
            select(series_chunks.c.chunk_start, series_chunks.c.body).order_by(
                series_chunks.c.chunk_start
            )
        ).all()
        conn.execute(
            update(series_chunks).where(series_chunks.c.chunk_start == feb[0]).values(body=jan[1])
        )
    with pytest.raises(CryptoError):
        view.read_points(stream)


def test_tampered_or_truncated_file_is_detected(sqlite_platform: Platform) -> None:
    view = make_space(sqlite_platform)
    content = os.urandom(3 * 1024 * 1024 + 17)
    info = view.put_file([content], filename="scan.pdf", media_type="application/pdf")
    assert b"".join(view.open_file(info.id)[1]) == content
    with sqlite_platform.engine.connect() as conn:
        blob_key = conn.execute(select(files.c.blob_key)).scalar_one()
    path = sqlite_platform.settings.blob_dir / blob_key
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) - 1000])  # drop the end of the last segment
    with pytest.raises(CryptoError):
        b"".join(view.open_file(info.id)[1])
    # Cut exactly after a complete non-final segment: still detected as truncated.
    segment = 4 + 1 + 12 + 1024 * 1024 + 16
    path.write_bytes(whole[: 8 + segment])
    with pytest.raises(CryptoError, match="truncated"):
        b"".join(view.open_file(info.id)[1])


def test_same_file_twice_is_stored_once(sqlite_platform: Platform) -> None:
    view = make_space(sqlite_platform)
    first = view.put_file(
        [b"%PDF-1.4 same content"], filename="a.pdf", media_type="application/pdf"
    )
    second = view.put_file(
        [b"%PDF-1.4 same ", b"content"], filename="b.pdf", media_type="application/pdf"
    )
    assert second.id == first.id and second.duplicate_of_existing
    assert len(view.files()) == 1
    blobs = list(_files_under(sqlite_platform.settings.blob_dir))
    assert len(blobs) == 1


def test_rotation_rewraps_keys_without_touching_data(platform: Platform) -> None:
    view = make_space(platform)
    ids = view.put_records("bank.transaction", [EXAMPLES["bank.transaction"]]).ids
    with platform.engine.connect() as conn:
        body_before = conn.execute(select(records.c.body)).scalar_one()
        wrapped_before = conn.execute(select(space_keys.c.wrapped, space_keys.c.kek_id)).one()
    old_key = platform.gate.keyring().active_id
    result = platform.gate.rotate_master_key()
    assert result["rewrapped"] == 1 and result["kept"] == [old_key]
    assert platform.gate.retire_master_keys() == [old_key]
    with platform.engine.connect() as conn:
        assert conn.execute(select(records.c.body)).scalar_one() == body_before
        wrapped_after = conn.execute(select(space_keys.c.wrapped, space_keys.c.kek_id)).one()
    assert wrapped_after != wrapped_before and wrapped_after.kek_id == result["active"]
    # A fresh process (new platform, key read from the file) still reads everything.
    reopened = Platform.open(platform.settings)
    try:
        assert reopened.gate.keyring().key_ids == [result["active"]]
        assert (
            reopened.citizen_view("alice").get_record(ids[0]).data == EXAMPLES["bank.transaction"]
        )
    finally:
        reopened.close()


def test_erasure_destroys_the_key_then_every_row_and_blob(platform: Platform) -> None:
    view = make_space(platform, "alice")
    other = make_space(platform, "bobby")
    _write_markers(view)
    _write_markers(other)
    space_id = view.space_id
    view.give_consent(approved_service(platform))  # consents, checkpoints: erased too
    platform.gate.checkpoint(space_id)
    counts = platform.directory.erase("alice", OPERATOR)
    assert counts["key_destroyed"] == 1 and counts["records"] >= 3 and counts["consents"] == 1
    with platform.engine.connect() as conn:
        holding = [t for t in metadata.sorted_tables if "space_id" in t.c]
        assert len(holding) >= 12
        for table in holding:
            left = conn.execute(
                text(f"SELECT count(*) FROM {table.name} WHERE space_id = :s"), {"s": space_id}
            ).scalar()
            assert left == 0, table.name
    assert not (platform.settings.blob_dir / space_id).exists()
    for actor_view in (view, platform.view(Actor.citizen("x", space_id), space_id)):
        with pytest.raises(NotFound):
            actor_view.summary()
    with pytest.raises(NotFound):
        platform.citizen_view("alice")
    # The other citizen is untouched.
    assert {s.doctype for s in other.summary()} >= {"bank.transaction", "energy.reading"}
    # The name is free again.
    platform.directory.create_space("alice", "another long password", OPERATOR)


def test_oversized_file_is_refused_and_leaves_nothing(sqlite_platform: Platform) -> None:
    from selfdata.errors import PayloadTooLarge

    settings = sqlite_platform.settings
    small = sqlite_platform.gate.settings = settings.with_(
        limits=type(settings.limits)(max_file_bytes=2 * 1024 * 1024)
    )
    assert small.limits.max_file_bytes == 2 * 1024 * 1024
    view = make_space(sqlite_platform)
    with pytest.raises(PayloadTooLarge, match="larger than the 2 MiB"):
        view.put_file(
            [b"x" * 1024 * 1024] * 3, filename="big.bin", media_type="application/octet-stream"
        )
    assert view.files() == []
    assert list(_files_under(settings.blob_dir)) == []


def test_rotation_by_one_worker_is_seen_by_the_others(sqlite_platform: Platform) -> None:
    """Two processes on one instance: the one that did not rotate must not wrap new
    space keys with the retired key, nor fail to read re-wrapped ones."""
    other = Platform.open(sqlite_platform.settings)
    try:
        alice = make_space(other, "alice")
        alice.summary()  # the other worker caches the old keyring
        old = other.gate.keyring().active_id
        sqlite_platform.gate.rotate_master_key()
        other.gate.keys.forget(alice.space_id)  # its key cache expires
        alice.summary()
        other.directory.create_space("bobby", "a long enough password", OPERATOR)
        assert other.gate.key_usage().get(old, 0) == 0
        assert sqlite_platform.gate.retire_master_keys() == [old]
        assert other.citizen_view("bobby").summary() == []
    finally:
        other.close()


def test_after_erasure_not_even_the_ciphertext_remains_on_disk(sqlite_platform: Platform) -> None:
    view = make_space(sqlite_platform, "alice")
    other = make_space(sqlite_platform, "bobby")
    _write_markers(view)
    _write_markers(other)
    with sqlite_platform.engine.connect() as conn:
        sealed = [
            bytes(b)
            for b in conn.execute(
                select(records.c.body).where(records.c.space_id == view.space_id)
            ).scalars()
        ]
    home = sqlite_platform.settings.home

    def on_disk() -> bytes:
        paths = _files_under(
            home / "selfdata.db", home / "selfdata.db-wal", sqlite_platform.settings.blob_dir
        )
        return b"".join(p.read_bytes() for p in paths)

    assert all(body[13:45] in on_disk() for body in sealed)  # the check below can fail
    sqlite_platform.directory.erase("alice", OPERATOR)
    disk = b"".join(
        p.read_bytes()
        for p in _files_under(
            home / "selfdata.db", home / "selfdata.db-wal", sqlite_platform.settings.blob_dir
        )
    )
    for marker in MARKERS:
        assert marker not in disk
    for body in sealed:
        assert body[13:45] not in disk, "a sealed record of the erased space is still on disk"
    assert other.summary()  # the other space is intact
