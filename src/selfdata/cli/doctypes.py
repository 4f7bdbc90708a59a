"""``selfdata doctypes …``: the registry of data kinds and their JSON Schemas."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from selfdata.cli.context import console
from selfdata.doctypes import default_registry

app = typer.Typer(help="List doctypes and export their JSON Schemas.", no_args_is_help=True)


@app.command("list")
def list_doctypes(
    lang: Annotated[str, typer.Option(help="Language of the titles: fr or en.")] = "en",
) -> None:
    """Every registered doctype with its kind and category."""
    registry = default_registry()
    table = Table("name", "version", "kind", "category", "title")
    for doctype in registry:
        table.add_row(
            doctype.name,
            str(doctype.version),
            doctype.kind,
            doctype.category,
            doctype.title.get(lang, doctype.title.get("en", "")),
        )
    console.print(table)


@app.command("export")
def export(
    directory: Annotated[Path, typer.Argument(help="Folder to write the schemas into.")],
) -> None:
    """Write one JSON Schema file per doctype."""
    paths = default_registry().export_schemas(directory)
    console.print(f"[green]✓[/] {len(paths)} schemas written to {directory}")
