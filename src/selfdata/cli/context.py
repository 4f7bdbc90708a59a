"""What every command shares: the instance folder, the console, error reporting."""

from __future__ import annotations

import getpass
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn, TypeVar

import typer
from rich.console import Console

from selfdata.errors import SelfdataError, ValidationFailed
from selfdata.platform import Platform
from selfdata.settings import Settings, default_home

__all__ = ["CliState", "console", "err_console", "fail", "read_password", "reporting_errors"]

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False)
T = TypeVar("T")


@dataclass
class CliState:
    home: Path | None = None

    def resolved_home(self) -> Path:
        return (self.home or default_home()).expanduser()

    def settings(self) -> Settings:
        home = self.resolved_home()
        if not home.exists():
            fail(f"no selfdata instance at {home}; run `selfdata init` first (or pass --home)")
        return Settings.for_home(home)

    @contextmanager
    def platform(self) -> Iterator[Platform]:
        instance = Platform.open(self.settings())
        try:
            yield instance
        finally:
            instance.close()


def fail(message: str, code: int = 1) -> NoReturn:
    err_console.print(f"[bold red]error:[/] {message}")
    raise typer.Exit(code)


@contextmanager
def reporting_errors() -> Iterator[None]:
    """Turn selfdata errors into a clear message and exit status 1, never a traceback."""
    try:
        yield
    except ValidationFailed as exc:
        err_console.print(f"[bold red]error:[/] {exc.detail}")
        for error in exc.errors[:50]:
            err_console.print(f"  - {error.describe()}")
        raise typer.Exit(1) from None
    except SelfdataError as exc:
        fail(exc.detail)


def read_password(from_stdin: bool, *, confirm: bool = True, prompt: str = "Password") -> str:
    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            fail("--password-stdin was given but standard input is empty")
        return line.rstrip("\r\n")
    first = getpass.getpass(f"{prompt}: ")
    if confirm and getpass.getpass(f"{prompt} (again): ") != first:
        fail("the two passwords differ")
    return first


def run(func: Callable[[], T]) -> T:
    with reporting_errors():
        return func()
