"""The verifiable access log: export, signed checkpoints, offline verification, tampering."""

from __future__ import annotations

import json
import random
from pathlib import Path

from typer.testing import CliRunner

from selfdata.audit import verify_lines
from selfdata.cli import app
from selfdata.doctypes.examples import EXAMPLES
from selfdata.platform import Platform
from tests.conftest import OPERATOR, make_space


def _exported(platform: Platform) -> tuple[list[bytes], dict[str, object]]:
    alice = make_space(platform)
    alice.put_records("bank.transaction", [EXAMPLES["bank.transaction"]])
    platform.gate.checkpoint(alice.space_id)  # a checkpoint in the middle of the log
    alice.summary()
    platform.directory.suspend("alice", OPERATOR)  # operator actions are in the log too
    platform.directory.resume("alice", OPERATOR)
    lines = list(alice.export_log())
    return lines, platform.signer.jwks()


def test_a_valid_log_verifies_with_the_published_key(platform: Platform) -> None:
    lines, jwks = _exported(platform)
    result = verify_lines(lines, jwks)
    assert result.ok, result.problems
    assert result.events == len([line for line in lines if b'"type":"event"' in line]) >= 6
    assert result.checkpoints == 2 and not result.warnings
    actions = [json.loads(line).get("action") for line in lines[1:]]
    assert {"space.create", "write", "space.suspend", "space.resume", "export"} <= set(actions)


def _events(lines: list[bytes]) -> list[int]:
    return [i for i, line in enumerate(lines) if b'"type":"event"' in line]


def test_every_changed_byte_of_an_event_is_detected(platform: Platform) -> None:
    lines, jwks = _exported(platform)
    rng = random.Random(7)
    for index in _events(lines):
        line = lines[index]
        positions = rng.sample(range(len(line) - 1), k=min(40, len(line) - 1))  # not the newline
        for position in positions:
            changed = bytearray(line)
            changed[position] = (changed[position] + rng.randint(1, 254)) % 256
            forged = [*lines[:index], bytes(changed), *lines[index + 1 :]]
            assert not verify_lines(forged, jwks).ok, (index, position)


def test_removed_inserted_reordered_events_are_detected(platform: Platform) -> None:
    lines, jwks = _exported(platform)
    events = _events(lines)
    for index in events:  # remove any one event, the last included
        assert not verify_lines([*lines[:index], *lines[index + 1 :]], jwks).ok, index
    first, second = events[1], events[2]
    swapped = list(lines)
    swapped[first], swapped[second] = swapped[second], swapped[first]
    assert not verify_lines(swapped, jwks).ok
    duplicated = [*lines[: second + 1], lines[second], *lines[second + 1 :]]
    assert not verify_lines(duplicated, jwks).ok
    # An invented event, even with a well-formed chain link, breaks the signed checkpoint.
    last = json.loads(lines[events[-1]])
    from selfdata.audit.events import canonical_bytes
    from selfdata.audit.log import chain_hash

    fake = {
        "seq": last["seq"] + 1,
        "at": last["at"],
        "action": "read",
        "actor_kind": "operator",
        "actor_id": "x",
        "outcome": "allowed",
    }
    digest = chain_hash(
        bytes.fromhex(last["hash"]),
        canonical_bytes(
            fake["seq"], fake["at"], {k: v for k, v in fake.items() if k not in ("seq", "at")}
        ),
    )
    fake_line = json.dumps(
        {"type": "event", **fake, "prev_hash": last["hash"], "hash": digest.hex()}
    ).encode()
    appended = [*lines[: events[-1] + 1], fake_line, *lines[events[-1] + 1 :]]
    result = verify_lines(appended, jwks)
    assert result.ok and result.warnings  # the chain holds, but…
    assert "after the last signed checkpoint" in " ".join(result.warnings)


def test_a_checkpoint_signed_by_another_key_is_refused(platform: Platform) -> None:
    from selfdata.crypto.signing import OperatorSigner

    lines, _ = _exported(platform)
    result = verify_lines(lines, OperatorSigner.generate().jwks())
    assert not result.ok and "no published key" in " ".join(result.problems)


def test_cli_verify(platform: Platform, tmp_path: Path) -> None:
    lines, jwks = _exported(platform)
    log = tmp_path / "log.jsonl"
    log.write_bytes(b"".join(lines))
    keys = tmp_path / "jwks.json"
    keys.write_text(json.dumps(jwks))
    runner = CliRunner()
    ok = runner.invoke(app, ["audit", "verify", str(log), "--jwks", str(keys)])
    assert ok.exit_code == 0 and "intact" in ok.output
    events = _events(lines)
    log.write_bytes(b"".join(lines[: events[2]] + lines[events[2] + 1 :]))
    bad = runner.invoke(app, ["audit", "verify", str(log), "--jwks", str(keys)])
    assert bad.exit_code == 1 and "missing or out of order" in bad.output
    missing = runner.invoke(app, ["audit", "verify", str(tmp_path / "nope.jsonl")])
    assert missing.exit_code == 1 and "no such file" in " ".join(missing.output.split())


def test_periodic_checkpoints_cover_grown_logs(platform: Platform) -> None:
    alice = make_space(platform, "alice")
    make_space(platform, "bobby")
    assert platform.gate.checkpoint_all() == 2
    assert platform.gate.checkpoint_all() == 0
    alice.summary()
    assert platform.gate.checkpoint_all() == 1


def test_the_server_signs_grown_logs_periodically(platform: Platform) -> None:
    import time

    from selfdata.audit.scheduler import PeriodicCheckpoints

    alice = make_space(platform)
    job = PeriodicCheckpoints(platform.gate.checkpoint_all, 0.05)
    job.start()
    try:
        deadline = time.monotonic() + 10
        while job.runs < 1 and time.monotonic() < deadline:
            time.sleep(0.02)
    finally:
        job.stop()
    assert job.runs >= 1
    from sqlalchemy import func, select

    from selfdata.db.tables import audit_checkpoints

    with platform.engine.connect() as conn:
        signed = conn.execute(
            select(func.count())
            .select_from(audit_checkpoints)
            .where(audit_checkpoints.c.space_id == alice.space_id)
        ).scalar_one()
    assert signed == 1
