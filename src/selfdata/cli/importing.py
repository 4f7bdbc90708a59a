"""``selfdata import``: bring a citizen's export files into their space, as the citizen."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TaskID, TimeElapsedColumn

from selfdata.access import Actor
from selfdata.cli.context import (
    CliState,
    console,
    err_console,
    fail,
    read_password,
    reporting_errors,
)
from selfdata.errors import AuthenticationFailed
from selfdata.importers import ArchiveReport, ImporterRegistry, ImportReport, ImportRunner


def _list_formats(registry: ImporterRegistry) -> None:
    for importer in registry:
        console.print(
            f"[bold]{importer.name}[/] {importer.version} — {importer.description.get('en', '')}",
            soft_wrap=True,
        )
        console.print(f"  produces: {', '.join(importer.doctypes)}", soft_wrap=True)
        for option, meaning in importer.options.items():
            console.print(f"  option {option}: {meaning}", soft_wrap=True)


def _print_archive(report: ArchiveReport) -> None:
    for member in report.members:
        _print_report(member)
    for name, why in report.skipped:
        console.print(f"skipped [bold]{name}[/]: {why}", soft_wrap=True)
    refused = sum(1 for m in report.members if m.refused)
    console.print(
        f"[bold]{report.filename}[/]: {len(report.members) - refused} file(s) imported, "
        f"{refused} refused, {len(report.skipped)} skipped in {report.seconds:.2f} s"
    )


def _print_report(report: ImportReport) -> None:
    if isinstance(report, ArchiveReport):
        _print_archive(report)
        return
    verdict = "[red]refused[/]" if report.refused else "[green]imported[/]"
    again = " (this file was imported before)" if report.source_existed else ""
    console.print(
        f"{verdict} [bold]{report.filename}[/] as {report.importer} {report.importer_version}"
        f"{again} in {report.seconds:.2f} s"
    )
    for doctype, c in sorted(report.counts.items()):
        if c.points_read:
            console.print(
                f"  {doctype}: {c.points_read} points read, {c.points_gained} new, "
                f"{c.rejected} rejected"
            )
        else:
            console.print(
                f"  {doctype}: {c.created} created, {c.updated} updated, "
                f"{c.unchanged} unchanged, {c.rejected} rejected"
            )
    if report.files_stored or report.files_unchanged:
        console.print(
            f"  files: {report.files_stored} stored, {report.files_unchanged} already there"
        )
    for notice in report.notices[:20]:
        console.print(f"  note: {notice.describe()}", soft_wrap=True)
    for error in report.rejected[:50]:
        err_console.print(f"  - {error.describe()}")
    if report.rejected_total > 50:
        err_console.print(f"  … and {report.rejected_total - 50} more problem(s)")
    if report.refused:
        err_console.print(
            f"[bold red]error:[/] {report.rejected_total} problem(s) in {report.filename}; "
            "nothing was saved (use --skip-invalid to import the valid rows only)"
        )


def import_files(
    ctx: typer.Context,
    files: Annotated[list[Path] | None, typer.Argument(help="Export files to import.")] = None,
    space: Annotated[str | None, typer.Option(help="The space to import into (its name).")] = None,
    format_name: Annotated[
        str | None,
        typer.Option("--format", help="The format (see --list-formats); detected by default."),
    ] = None,
    skip_invalid: Annotated[
        bool,
        typer.Option("--skip-invalid", help="Import the valid rows and report each rejected one."),
    ] = False,
    option: Annotated[
        list[str] | None,
        typer.Option("--option", "-o", help="An importer option, KEY=VALUE (repeatable)."),
    ] = None,
    password_stdin: Annotated[
        bool,
        typer.Option("--password-stdin", help="The citizen's password on standard input."),
    ] = False,
    list_formats: Annotated[
        bool, typer.Option("--list-formats", help="List the formats this instance reads.")
    ] = False,
) -> None:
    """Import export files (Enedis CSV…) into a space, as its citizen: all or nothing per
    file unless --skip-invalid; importing a file again changes nothing."""
    registry = ImporterRegistry.discover()
    if list_formats:
        _list_formats(registry)
        return
    if not files:
        fail("give the files to import (or --list-formats)")
    if space is None:
        fail("--space is required: the space to import into")
    options: dict[str, str] = {}
    for pair in option or []:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            fail(f"--option {pair!r}: expected KEY=VALUE")
        options[key.strip()] = value
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        fail(f"no such file: {', '.join(missing)}")
    state: CliState = ctx.obj
    password = read_password(password_stdin, confirm=False, prompt=f"Password of {space}")
    refused = False
    with reporting_errors(), state.platform() as platform:
        target = platform.directory.get_space(space)
        account = platform.directory.account_for_space(target.id)
        try:
            platform.directory.login(account.username, password)
        except AuthenticationFailed:
            fail(f"wrong password for space {space}")
        view = platform.view(
            Actor.citizen(account.id, target.id, f"{account.username} (command line)"), target.id
        )
        runner = ImportRunner(view, registry)
        for path in files:
            with (
                path.open("rb") as stream,
                Progress(
                    "[progress.description]{task.description}",
                    BarColumn(),
                    DownloadColumn(),
                    TimeElapsedColumn(),
                    console=err_console,
                    transient=True,
                ) as bar,
            ):
                task = bar.add_task(f"{path.name}", total=None)

                def advance(
                    phase: str, done: int, total: int, task: TaskID = task, name: str = path.name
                ) -> None:
                    bar.update(task, description=f"{name} ({phase})", completed=done, total=total)

                report = runner.run(
                    stream,
                    path.name,
                    format_name=format_name,
                    skip_invalid=skip_invalid,
                    options=options,
                    progress=advance,
                )
            _print_report(report)
            refused = refused or report.refused
    if refused:
        raise typer.Exit(1)
