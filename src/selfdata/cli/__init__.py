"""The ``selfdata`` command line (Typer + Rich): the operator's first tool."""

from selfdata.cli.app import app, main

__all__ = ["app", "main"]
