"""The API's edges: problem documents for every failure, headers, OpenAPI, health."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest
from fastapi import FastAPI

from selfdata.db import create_engine_for
from selfdata.errors import ConfigurationError, CryptoError
from selfdata.platform import Platform
from selfdata.web import create_app
from tests.http.conftest import API, Headers, TestClient

PROBLEM = "application/problem+json"


@pytest.fixture
def failing_app(platform: Platform) -> FastAPI:
    """The real app plus test-only routes that fail in the ways production code might."""
    app = create_app(platform)

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret detail of the crash")

    @app.get("/crypto")
    def crypto() -> None:
        raise CryptoError("key kek-7f3a of space 01ABC failed authentication")

    @app.get("/config")
    def config() -> None:
        raise ConfigurationError("/srv/selfdata/master.key is unreadable")

    return app


def test_unexpected_errors_are_opaque_500_problems(
    failing_app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="selfdata.web")
    with TestClient(failing_app, raise_server_exceptions=False) as client:
        for path, status, secret in (
            ("/boom", 500, "secret detail"),
            ("/crypto", 500, "kek-7f3a"),
            ("/config", 503, "master.key"),
        ):
            response = client.get(path)
            assert response.status_code == status
            assert response.headers["content-type"] == PROBLEM
            body = response.json()
            assert secret not in response.text
            assert "Traceback" not in response.text and "RuntimeError" not in response.text
            assert body["correlation_id"] in body["detail"]
            assert response.headers["x-content-type-options"] == "nosniff"
            # The operator finds the detail in the log under the correlation id.
            logged = [r for r in caplog.records if body["correlation_id"] in r.getMessage()]
            assert logged
            assert secret in logged[0].getMessage() or (
                logged[0].exc_info and secret in str(logged[0].exc_info[1])
            )


def test_unknown_routes_and_methods_are_problems(client: TestClient, alice: Headers) -> None:
    missing = client.get("/api/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.json()["instance"] == "/api/v1/nothing-here"
    wrong = client.patch(f"{API}/records/bank.transaction", headers=alice)
    assert wrong.status_code == 405
    assert "GET" in wrong.headers["allow"]
    assert wrong.json()["type"].endswith("/method-not-allowed")


def test_streamed_json_over_the_bound_is_413(
    client: TestClient, alice: Headers, set_limits: Callable[..., None]
) -> None:
    set_limits(max_json_bytes=1000)

    def body() -> Iterator[bytes]:
        yield b'{"items": ['
        for _ in range(100):
            yield b'{"label": "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"},'
        yield b"{}]}"

    response = client.post(
        f"{API}/records/bank.transaction",
        content=body(),
        headers={**alice, "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["type"].endswith("/payload-too-large")


def test_security_headers(client: TestClient, alice: Headers) -> None:
    response = client.get(f"{API}/me", headers=alice)
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-security-policy"].startswith("default-src 'none'")
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "strict-transport-security" not in response.headers  # plain http here


def test_openapi_lists_every_route_with_problem_errors(client: TestClient) -> None:
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    paths = schema["paths"]
    for path in (
        "/api/v1/auth/login",
        "/api/v1/auth/logout",
        "/api/v1/auth/tokens",
        "/api/v1/auth/tokens/{token_id}",
        "/api/v1/me",
        "/api/v1/me/password",
        "/api/v1/doctypes",
        "/api/v1/doctypes/{name}/schema",
        "/api/v1/records/{doctype}",
        "/api/v1/records/{doctype}/{record_id}",
        "/api/v1/series",
        "/api/v1/series/{stream_id}/points",
        "/api/v1/files",
        "/api/v1/files/{file_id}",
        "/api/v1/audit/events",
        "/api/v1/audit/verify",
        "/api/v1/admin/spaces",
        "/api/v1/admin/spaces/{name}/suspend",
        "/api/v1/admin/spaces/{name}/resume",
        "/api/v1/admin/spaces/{name}",
        "/healthz",
        "/api/v1/version",
    ):
        assert path in paths, path
    assert set(paths["/api/v1/records/{doctype}/{record_id}"]) == {"get", "put", "delete"}
    for path, operations in paths.items():
        for method, operation in operations.items():
            assert operation.get("summary"), f"{method} {path} has no summary"
            for code, answer in operation["responses"].items():
                if int(code) >= 400:
                    assert list(answer["content"]) == [PROBLEM], (method, path, code)
    assert "Problem" in schema["components"]["schemas"]
    assert "HTTPValidationError" not in schema["components"]["schemas"]
    assert {"bearer", "session"} <= set(schema["components"]["securitySchemes"])


def test_docs_page_needs_no_script(client: TestClient) -> None:
    page = client.get("/api/docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "<script" not in page.text
    assert "/api/v1/records/{doctype}" in page.text
    assert page.headers["content-security-policy"].startswith("default-src 'none'")


def test_health_version_and_doctypes_are_public(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok", "database": "ok"}
    assert client.get(f"{API}/version").json()["api"] == "v1"
    doctypes = client.get(f"{API}/doctypes")
    names = [d["name"] for d in doctypes.json()]
    assert "bank.transaction" in names and "energy.reading" in names
    link = next(d for d in doctypes.json() if d["name"] == "bank.transaction")["schema_url"]
    schema = client.get(link)
    assert schema.headers["content-type"] == "application/schema+json"
    assert schema.json()["$id"].endswith("/bank.transaction/v1.json")
    assert client.get(f"{API}/doctypes/bank.nope/schema").status_code == 404


def test_health_reports_an_unreachable_database(platform: Platform) -> None:
    unreachable = create_engine_for("postgresql://nobody@127.0.0.1:9/nowhere")
    app = create_app(replace(platform, engine=unreachable))
    try:
        with TestClient(app) as client:
            response = client.get("/healthz")
    finally:
        unreachable.dispose()
    assert response.status_code == 503
    assert response.headers["content-type"] == PROBLEM
    assert "nobody" not in response.text and "9/nowhere" not in response.text
