"""The HTTP API (FastAPI): the only package that imports a web framework.

``create_app(platform)`` builds the ASGI application; see ``docs/api.md`` for the guide
and ``/api/openapi.json`` on a running instance for the reference.
"""

from selfdata.web.app import create_app

__all__ = ["create_app"]
