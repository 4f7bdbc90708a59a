"""The connectors' building blocks, without a database: registry, retries, settings."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from selfdata.connectors import ConnectorRegistry, configs_from_settings
from selfdata.connectors.http import ProviderHttp, RateLimited, Unreachable, retry_after_seconds
from selfdata.connectors.registry import BUILTIN, ENTRY_POINT_GROUP
from selfdata.settings import Settings

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


def test_builtins_are_declared_as_entry_points() -> None:
    declared = tomllib.loads(PYPROJECT.read_text())["project"]["entry-points"][ENTRY_POINT_GROUP]
    assert declared == BUILTIN
    registry = ConnectorRegistry.discover()
    assert set(BUILTIN) <= set(registry.names())
    for connector in registry:
        assert connector.version and set(connector.description) == {"fr", "en"}
        assert connector.doctypes


def _http(answers: list[httpx.Response | Exception], **options: float) -> ProviderHttp:
    def handler(request: httpx.Request) -> httpx.Response:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    http = ProviderHttp(transport=httpx.MockTransport(handler), **options)  # type: ignore[arg-type]
    http.sleeps = []  # type: ignore[attr-defined]
    http.sleep = http.sleeps.append  # type: ignore[attr-defined]
    return http


def test_5xx_and_network_errors_are_retried_with_growing_jittered_waits() -> None:
    http = _http(
        [httpx.Response(503), httpx.ConnectError("down"), httpx.Response(500), httpx.Response(200)],
        backoff_s=1.0,
        retries=3,
    )
    assert http.request("GET", "https://provider.test/x").status_code == 200
    waits = http.sleeps  # type: ignore[attr-defined]
    assert len(waits) == 3
    for n, wait in enumerate(waits):
        assert 0.5 * 2**n <= wait < 1.5 * 2**n
    http = _http([httpx.Response(502)] * 3, retries=2)
    with pytest.raises(Unreachable):
        http.request("GET", "https://provider.test/x")


def test_429_waits_its_retry_after_or_gives_up_when_too_long() -> None:
    http = _http([httpx.Response(429, headers={"Retry-After": "2"}), httpx.Response(200)])
    assert http.request("GET", "https://provider.test/x").status_code == 200
    assert http.sleeps == [2.0]  # type: ignore[attr-defined]
    http = _http([httpx.Response(429, headers={"Retry-After": "600"})], max_wait_s=60)
    with pytest.raises(RateLimited) as raised:
        http.request("GET", "https://provider.test/x")
    assert raised.value.retry_after == 600
    assert http.sleeps == []  # type: ignore[attr-defined]
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    assert retry_after_seconds("Sun, 01 Mar 2026 12:01:00 GMT", now) == 60
    assert retry_after_seconds("soon", now) is None


def test_operator_configuration_and_the_secret_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / "selfdata.toml").write_text(
        'connector_sync_minutes = 30\n[connectors."enedis.dataconnect"]\n'
        'client_id = "abc"\napi_url = "https://gw.example"\nhistory_days = 90\n'
    )
    monkeypatch.setenv("SELFDATA_CONNECTOR_ENEDIS_DATACONNECT_CLIENT_SECRET", "from-env")
    settings = Settings.for_home(home)
    assert settings.connector_sync_minutes == 30
    config = configs_from_settings(settings)["enedis.dataconnect"]
    assert config.client_id == "abc" and config.client_secret == "from-env" and config.configured
    assert config.urls == {"api": "https://gw.example"}
    assert config.options == {"history_days": "90"}
