"""``selfdata export`` and ``selfdata import-space``: move a whole space between instances."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

from selfdata.access import Actor
from selfdata.cli.context import (
    CliState,
    console,
    err_console,
    fail,
    read_password,
    reporting_errors,
)

OPERATOR = Actor.cli_operator()


def read_passphrase(from_stdin: bool, *, confirm: bool) -> str:
    """The archive's passphrase: the first line of standard input, or asked twice."""
    if from_stdin:
        line = sys.stdin.readline()
        if not line.strip():
            fail("--passphrase-stdin was given but standard input is empty")
        return line.rstrip("\r\n")
    return read_password(False, confirm=confirm, prompt="Archive passphrase")


def describe_counts(counts: dict[str, Any]) -> str:
    """What an import or a move brought in, in one line."""
    return (
        f"{sum(counts['records'].values())} records, {counts['series']} series, "
        f"{counts['files']} files, {counts['consents']} consents, {counts['events']} log events"
    )


@contextmanager
def _progress(label: str) -> Iterator[Callable[[int, int], None]]:
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as bar:
        task = bar.add_task(label, total=None)

        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield advance


def export(
    ctx: typer.Context,
    space: Annotated[str, typer.Option(help="The space to export (its name).")],
    output: Annotated[Path, typer.Option(help="The archive to write (.zip, or .zip.age).")],
    passphrase_stdin: Annotated[
        bool,
        typer.Option(
            "--passphrase-stdin",
            help="Encrypt the archive (age format) with a passphrase read from standard input.",
        ),
    ] = False,
    encrypt: Annotated[
        bool, typer.Option("--encrypt", help="Encrypt with a passphrase asked at the prompt.")
    ] = False,
) -> None:
    """Export a whole space (records, series, files, consents, access log) to one archive,
    as the citizen (the export is logged in their access log)."""
    state: CliState = ctx.obj
    passphrase = read_passphrase(True, confirm=False) if passphrase_stdin else None
    if encrypt and passphrase is None:
        passphrase = read_passphrase(False, confirm=True)
    if output.exists():
        fail(f"{output} already exists; choose another --output")
    partial = output.with_name(output.name + ".part")
    with reporting_errors(), state.platform() as platform:
        view = platform.citizen_view(space)
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(fd, "wb") as out, _progress(f"exporting {space}") as advance:
                report = view.export_space(out, passphrase=passphrase, progress=advance)
            partial.replace(output)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    counts = report.manifest["counts"]
    console.print(
        f"[green]✓[/] space [bold]{space}[/] exported to {output} "
        f"({report.bytes_written:,} bytes{', encrypted' if report.encrypted else ''}): "
        f"{sum(counts['records'].values())} records, {counts['series']} series "
        f"({counts['points']} points), {counts['files']} files, {counts['consents']} consents, "
        f"{counts['events']} log events"
    )


def import_space(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="An archive made by `selfdata export`.")],
    name: Annotated[
        str | None, typer.Option(help="Name of the new space (default: as exported).")
    ] = None,
    passphrase_stdin: Annotated[
        bool,
        typer.Option(
            "--passphrase-stdin",
            help="The archive's passphrase on the first line of standard input.",
        ),
    ] = False,
    password_stdin: Annotated[
        bool,
        typer.Option(
            "--password-stdin",
            help="The new account's password on the next line of standard input.",
        ),
    ] = False,
) -> None:
    """Restore an exported space on this instance, exactly (same ids, revisions, times,
    log), as a new space with a new key and a new citizen account. All or nothing."""
    state: CliState = ctx.obj
    if not file.exists():
        fail(f"{file}: no such file")
    with file.open("rb") as handle:
        encrypted = handle.read(64).startswith(b"age-encryption.org/v1\n")
    passphrase = read_passphrase(passphrase_stdin, confirm=False) if encrypted else None
    password = read_password(password_stdin, prompt="Password of the new account")
    with (
        reporting_errors(),
        state.platform() as platform,
        file.open("rb") as source,
        _progress(f"importing {file.name}") as advance,
    ):
        report = platform.directory.import_space(
            source, password, OPERATOR, name=name, passphrase=passphrase, progress=advance
        )
    console.print(
        f"[green]✓[/] space [bold]{report.name}[/] imported ({report.space_id}, was "
        f"{report.source_space_id}): {describe_counts(report.counts)}"
    )
