"""selfdata: personal data spaces that citizens control.

The public Python surface is deliberately small; most people use the CLI
(``selfdata``), the HTTP API or the web app. Programs embedding selfdata start from
:class:`selfdata.platform.Platform`.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
