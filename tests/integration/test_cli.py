"""The operator's command line, run in-process against a real instance folder."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from selfdata.cli import app
from selfdata.doctypes import default_registry

runner = CliRunner()


def run(home: Path, *args: str, stdin: str | None = None) -> tuple[int, str]:
    result = runner.invoke(app, ["--home", str(home), *args], input=stdin)
    return result.exit_code, result.output + (result.stderr if result.stderr_bytes else "")


@pytest.fixture
def instance(tmp_path: Path) -> Path:
    home = tmp_path / "instance"
    code, out = run(home, "init")
    assert code == 0, out
    return home


def test_init_creates_private_key_and_is_idempotent(instance: Path) -> None:
    assert stat.S_IMODE((instance / "master.key").stat().st_mode) == 0o600
    key = (instance / "master.key").read_text()
    code, _ = run(instance, "init")
    assert code == 0 and (instance / "master.key").read_text() == key


def test_space_lifecycle(instance: Path) -> None:
    code, out = run(
        instance, "space", "create", "Alice", "--password-stdin", stdin="a long enough password\n"
    )
    assert code == 0 and "space alice created" in out
    code, out = run(
        instance, "space", "create", "alice", "--password-stdin", stdin="a long enough password\n"
    )
    assert code == 1 and "already taken" in out and "Traceback" not in out
    code, out = run(instance, "space", "list")
    assert code == 0 and "alice" in out and "active" in out
    assert run(instance, "space", "suspend", "alice")[0] == 0
    assert "suspended" in run(instance, "space", "list")[1]
    assert run(instance, "space", "resume", "alice")[0] == 0
    code, out = run(instance, "space", "erase", "alice", stdin="wrong\n")
    assert code == 1 and "nothing was erased" in out
    code, out = run(instance, "space", "erase", "alice", "--yes")
    assert code == 0 and "key destroyed" in out
    assert "alice" not in run(instance, "space", "list")[1]


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (("space", "create", "al"), "a long enough password\n", "cannot be a username"),
        (("space", "create", "alice"), "short\n", "at least 10 characters"),
        (("space", "erase", "nobody", "--yes"), None, "no space named 'nobody'"),
        (("space", "suspend", "nobody"), None, "no space named"),
    ],
)
def test_bad_input_gets_a_clear_error(
    instance: Path, args: tuple[str, ...], stdin: str | None, message: str
) -> None:
    if args[1] == "create":
        args = (*args, "--password-stdin")
    code, out = run(instance, *args, stdin=stdin)
    assert code == 1
    assert message in out and "Traceback" not in out


def test_commands_refuse_a_missing_instance(tmp_path: Path) -> None:
    code, out = run(tmp_path / "nowhere", "space", "list")
    assert code == 1 and "selfdata init" in out


def test_key_rotation_from_the_cli(instance: Path) -> None:
    run(instance, "space", "create", "alice", "--password-stdin", stdin="a long enough password\n")
    before = json.loads((instance / "master.key").read_text())["active"]
    code, out = run(instance, "keys", "rotate")
    assert code == 0 and "1 space keys re-wrapped" in out and "keys retire" in out
    kept = json.loads((instance / "master.key").read_text())
    assert before in kept["keys"] and kept["active"] != before
    code, out = run(instance, "keys", "retire")
    assert code == 0 and f"retired {before}" in out
    after = json.loads((instance / "master.key").read_text())
    assert after["active"] != before and list(after["keys"]) == [after["active"]]
    code, out = run(instance, "keys", "status")
    assert code == 0 and after["active"] in out


def test_unreadable_key_file_is_refused(instance: Path) -> None:
    (instance / "master.key").chmod(0o644)
    code, out = run(instance, "space", "list")
    assert code == 1 and "chmod 600" in out


def test_doctypes_export(tmp_path: Path) -> None:
    code, out = run(tmp_path, "doctypes", "export", str(tmp_path / "schemas"))
    assert code == 0, out
    written = sorted(p.name for p in (tmp_path / "schemas").iterdir())
    assert len(written) == len(default_registry().names())
    schema = json.loads((tmp_path / "schemas" / "bank.transaction.v1.schema.json").read_text())
    assert schema["$id"].endswith("bank.transaction/v1.json")


def test_upgrade_never_creates_a_master_key(instance: Path) -> None:
    assert run(instance, "upgrade")[0] == 0
    (instance / "master.key").unlink()
    code, out = run(instance, "upgrade")
    assert code == 1 and "restore the key" in " ".join(out.split())
    assert not (instance / "master.key").exists()


def test_demo_offers_the_energy_service_to_its_citizen(tmp_path: Path) -> None:
    home = tmp_path / "demo"
    code, out = run(home, "demo", "--no-serve", "--days", "3")
    assert code == 0, out
    assert "selfdata-energy" in out and "approved" in out
    code, out = run(home, "services", "list")
    assert code == 0 and "selfdata-energy" in out and "approved" in out
    # A second run tops the data up and leaves the vetted service as it was.
    code, out = run(home, "demo", "--no-serve", "--days", "3")
    assert code == 0 and "approved" in out
