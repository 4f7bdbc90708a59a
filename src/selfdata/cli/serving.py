"""Running the web application with uvicorn."""

from __future__ import annotations

import os

import uvicorn

from selfdata.cli.context import console
from selfdata.platform import Platform
from selfdata.settings import Settings


def app_factory() -> object:
    """Entry point for uvicorn workers (each builds its own platform from the env)."""
    from selfdata.settings import default_home
    from selfdata.web import create_app

    return create_app(Platform.open(Settings.for_home(default_home())))


def serve_instance(settings: Settings, host: str, port: int, workers: int = 1) -> None:
    console.print(
        f"serving [bold]{settings.home}[/] on [link]http://{host}:{port}[/]  (Ctrl-C stops)"
    )
    if workers > 1:
        os.environ["SELFDATA_HOME"] = str(settings.home)
        uvicorn.run(
            "selfdata.cli.serving:app_factory",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="warning",
            proxy_headers=True,
        )
        return
    from selfdata.web import create_app

    platform = Platform.open(settings)
    try:
        uvicorn.run(
            create_app(platform), host=host, port=port, log_level="warning", proxy_headers=True
        )
    finally:
        platform.close()
