"""The connectors known to this installation, found through entry points.

Every connector, built-in or third-party, is declared in its distribution's metadata::

    [project.entry-points."selfdata.connectors"]
    "enedis.dataconnect" = "selfdata.connectors.enedis_dataconnect:EnedisDataConnect"

When selfdata runs from a source tree without installed metadata, the built-ins come
from :data:`BUILTIN` (kept equal to ``pyproject.toml`` by a test). A registry holds
connector *classes*; :meth:`ConnectorRegistry.create` makes one with the operator's
configuration of it.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterator, Mapping
from importlib.metadata import entry_points

from selfdata.connectors.base import Connector, ConnectorConfig
from selfdata.errors import NotFound

__all__ = ["BUILTIN", "ENTRY_POINT_GROUP", "ConnectorRegistry"]

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "selfdata.connectors"
BUILTIN: dict[str, str] = {
    "enedis.dataconnect": "selfdata.connectors.enedis_dataconnect:EnedisDataConnect",
}


def _load(target: str) -> type[Connector]:
    module, _, attr = target.partition(":")
    found = getattr(importlib.import_module(module), attr)
    if not (isinstance(found, type) and issubclass(found, Connector)):
        raise TypeError(f"{target} is not a Connector subclass")
    return found


class ConnectorRegistry:
    def __init__(
        self,
        classes: Mapping[str, type[Connector]] | None = None,
        configs: Mapping[str, ConnectorConfig] | None = None,
    ) -> None:
        self._classes = dict(classes or {})
        self._configs = dict(configs or {})

    @classmethod
    def discover(cls, configs: Mapping[str, ConnectorConfig] | None = None) -> ConnectorRegistry:
        """Every connector declared in the ``selfdata.connectors`` entry points. One
        that fails to load is logged and left out."""
        classes: dict[str, type[Connector]] = {}
        declared = {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}
        for name, target in {**BUILTIN, **declared}.items():
            try:
                classes[name] = _load(target)
            except Exception:
                log.exception("could not load connector %s (%s)", name, target)
        return cls(classes, configs)

    def __iter__(self) -> Iterator[type[Connector]]:
        return iter(self._classes[name] for name in sorted(self._classes))

    def names(self) -> list[str]:
        return sorted(self._classes)

    def config(self, name: str) -> ConnectorConfig:
        return self._configs.get(name, ConnectorConfig())

    def get(self, name: str) -> type[Connector]:
        try:
            return self._classes[name]
        except KeyError:
            raise NotFound(
                f"no connector {name!r}; known connectors: {', '.join(self.names()) or 'none'}"
            ) from None

    def create(self, name: str) -> Connector:
        """The connector, configured as the operator said."""
        return self.get(name)(self.config(name))
