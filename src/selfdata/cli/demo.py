"""``selfdata demo``: a working instance with a demo citizen and a year of data."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from selfdata.access import Actor
from selfdata.cli.context import CliState, console, fail, reporting_errors
from selfdata.errors import Conflict
from selfdata.platform import Platform, init_instance

DEMO_USER = "demo"
# A demo instance on loopback: the password is printed on screen on purpose.
DEMO_PASSWORD = "demo-selfdata-2026"  # noqa: S105


def demo(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    days: Annotated[int, typer.Option(help="Days of generated data.")] = 365,
    serve: Annotated[
        bool, typer.Option("--serve/--no-serve", help="Serve the instance afterwards.")
    ] = True,
) -> None:
    """Create (or reuse) an instance, a demo citizen with a generated year of data, and serve it."""
    from selfdata.demo import populate

    state: CliState = ctx.obj
    if serve and host not in ("127.0.0.1", "localhost", "::1"):
        fail(
            f"the demo citizen's password is public: serve it on loopback only, not {host!r} "
            "(use `selfdata serve` for a real instance)"
        )
    home = state.resolved_home()
    with reporting_errors():
        settings, _ = init_instance(home)
        platform = Platform.open(settings)
        try:
            try:
                platform.directory.create_space(DEMO_USER, DEMO_PASSWORD, Actor.cli_operator())
                console.print(
                    f"[green]✓[/] demo citizen [bold]{DEMO_USER}[/] created in {settings.home}"
                )
            except Conflict:
                console.print(
                    f"[blue]•[/] demo citizen [bold]{DEMO_USER}[/] already exists; "
                    "topping up its data"
                )
            view = platform.citizen_view(DEMO_USER)
            with Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TextColumn("{task.completed}/{task.total}"),
                TimeElapsedColumn(),
                console=console,
            ) as progress:
                tasks: dict[str, TaskID] = {}

                def report(step: str, done: int, total: int) -> None:
                    if step not in tasks:
                        tasks[step] = progress.add_task(step, total=total)
                    progress.update(tasks[step], completed=done, total=total)

                result = populate(view, days=days, progress=report)
            table = Table("doctype", "generated", "new", title="demo data (encrypted at rest)")
            for name, count in sorted(result.as_dict().items()):
                new = result.created.get(name)
                table.add_row(name, f"{count:,}", "—" if new is None else f"{new:,}")
            console.print(table)
            summary = view.summary()
            _, message, _ = view.verify_log()
            total = sum(s.count for s in summary)
            console.print(f"[green]✓[/] {total:,} items in the space; access log: {message}")
            _offer_energy_service(platform)
        finally:
            platform.close()
    console.print(
        f"\nDemo account [bold]{DEMO_USER}[/] / [bold]{DEMO_PASSWORD}[/] — web app at "
        f"http://{host}:{port}/ (French; English from the language link)",
        markup=True,
    )
    console.print(
        f"API at "
        f"http://{host}:{port}/api/v1 (guide: docs/api.md, schema: /api/openapi.json)\n"
        f"  curl -c jar -H 'content-type: application/json' -d "
        f'\'{{"username":"{DEMO_USER}","password":"{DEMO_PASSWORD}"}}\' '
        f"http://{host}:{port}/api/v1/auth/login",
        markup=True,
    )
    if serve:
        from selfdata.cli.serving import serve_instance

        with reporting_errors():
            serve_instance(settings, host, port)


def _offer_energy_service(platform: Platform) -> None:
    """Register and approve the built-in energy service, so the demo citizen can consent
    to it from the web app ("Mon énergie"). On a real instance the operator vets it
    first (docs/energy.md); on the demo the operator is whoever runs it."""
    from importlib import resources

    import yaml

    from selfdata.services.manifest import validate_manifest

    text = resources.files("selfdata.energy").joinpath("manifest.yaml").read_text("utf-8")
    manifest = validate_manifest(yaml.safe_load(text), "selfdata/energy/manifest.yaml")
    info = platform.services.register(manifest)
    if info.status == "pending":
        info = platform.services.approve(info.id)
    console.print(
        f"[green]✓[/] built-in service [bold]{info.id}[/] ({manifest.name.en}) {info.status}: "
        "the citizen can consent to it from the web app"
    )
