"""Connectors: syncing a citizen's data from a provider's API, with their authorisation
at that provider (docs/connectors.md)."""

from selfdata.connectors.base import (
    Connector,
    ConnectorConfig,
    Grant,
    ProviderError,
    ProviderRefused,
    ProviderUnavailable,
    ReauthorizationNeeded,
    SyncAccount,
    SyncBatch,
    Tokens,
)
from selfdata.connectors.registry import ConnectorRegistry
from selfdata.connectors.service import Connectors, configs_from_settings

__all__ = [
    "Connector",
    "ConnectorConfig",
    "ConnectorRegistry",
    "Connectors",
    "Grant",
    "ProviderError",
    "ProviderRefused",
    "ProviderUnavailable",
    "ReauthorizationNeeded",
    "SyncAccount",
    "SyncBatch",
    "Tokens",
    "configs_from_settings",
]
