"""The operator guide documents every command and every setting.

In the spirit of Datasette's ``tests/test_docs.py``: adding a CLI command, a
subcommand or a setting without documenting it in ``docs/operator-guide.md`` fails
the build.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer

from selfdata.cli import app
from selfdata.settings import Limits, Settings

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "operator-guide.md"


def _guide() -> str:
    return GUIDE.read_text(encoding="utf-8")


def _command_paths(command: Any, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every command and group below ``command``, as name paths (depth first).

    Typer may ship its own copy of Click, so groups are recognised by their
    ``commands`` mapping rather than by ``isinstance(…, click.Group)``.
    """
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        if getattr(sub, "hidden", False):
            continue
        path = (*prefix, name)
        yield path
        yield from _command_paths(sub, path)


COMMANDS = [" ".join(path) for path in _command_paths(typer.main.get_command(app))]
SETTINGS = [f.name for f in dataclasses.fields(Settings)] + [
    f.name for f in dataclasses.fields(Limits)
]


def test_the_walk_finds_commands() -> None:
    # Guards the test itself: a walk that finds nothing would make every check pass.
    assert "space create" in COMMANDS
    assert "keys rotate" in COMMANDS
    assert "max_file_bytes" in SETTINGS


@pytest.mark.parametrize("command", COMMANDS)
def test_command_is_documented(command: str) -> None:
    assert f"selfdata {command}" in _guide(), (
        f"`selfdata {command}` is not mentioned in {GUIDE.name}; document it there with an example"
    )


@pytest.mark.parametrize("setting", SETTINGS)
def test_setting_is_documented(setting: str) -> None:
    assert f"`{setting}`" in _guide(), (
        f"the setting `{setting}` is not mentioned in {GUIDE.name}; add it to the settings tables"
    )
