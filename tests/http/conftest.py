"""HTTP fixtures: the real app over the real platform (SQLite and PostgreSQL), and checks
that every response of every test obeys the API's contract.

Every client made here refuses, in every test, any 5xx answer (bad input must never
crash the server) and any error answer that is not an RFC 9457 problem document.
"""

from __future__ import annotations

import socket
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from starlette.exceptions import StarletteDeprecationWarning

from selfdata.platform import Platform
from selfdata.web import create_app
from tests.conftest import PASSWORD, make_space

with warnings.catch_warnings():
    # Starlette suggests another HTTP client package for its test client; httpx is the
    # one the project depends on.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient

__all__ = ["TestClient"]

API = "/api/v1"
Headers = dict[str, str]


def check_contract(response: httpx.Response) -> None:
    """Every answer: security headers; no 5xx; every error a problem document."""
    response.read()
    status = response.status_code
    assert status < 500, (
        f"server error {status} for {response.request.method} "
        f"{response.request.url}: {response.text[:500]}"
    )
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    assert "default-src 'none'" in response.headers["content-security-policy"]
    if status >= 400:
        assert response.headers["content-type"].startswith("application/problem+json"), (
            response.text
        )
        body = response.json()
        assert body["status"] == status
        assert body["type"].startswith("https://selfdata.org/problems/")
        assert body["title"] and body["detail"]
        assert "Traceback" not in response.text


def make_client(app: FastAPI, base_url: str = "http://testserver") -> TestClient:
    client = TestClient(app, base_url=base_url)
    client.event_hooks["response"] = [check_contract]
    return client


@pytest.fixture
def app(platform: Platform) -> FastAPI:
    return create_app(platform)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with make_client(app) as client:
        yield client


def bearer_for(platform: Platform, username: str) -> Headers:
    """A personal token of ``username``, as request headers."""
    account = platform.directory.account_for_space(platform.directory.get_space(username).id)
    token = platform.sessions.issue(account.id, "token", 3600, "tests")
    return {"Authorization": f"Bearer {token.secret}"}


@pytest.fixture
def alice(platform: Platform) -> Headers:
    """Alice's space, and a bearer token of hers."""
    make_space(platform, "alice")
    return bearer_for(platform, "alice")


@pytest.fixture
def bob(platform: Platform) -> Headers:
    make_space(platform, "bob")
    return bearer_for(platform, "bob")


@pytest.fixture
def operator(platform: Platform) -> Headers:
    """An operator account ("root") and a bearer token of it."""
    account = platform.directory.create_operator("root", PASSWORD)
    token = platform.sessions.issue(account.id, "token", 3600, "tests")
    return {"Authorization": f"Bearer {token.secret}"}


@pytest.fixture
def set_limits(platform: Platform) -> Callable[..., None]:
    """Change the instance's limits for one test (the app reads them per request)."""

    def apply(**changes: Any) -> None:
        settings = platform.settings.with_(limits=replace(platform.settings.limits, **changes))
        platform.settings = settings
        platform.gate.settings = settings

    return apply


def login(client: TestClient, username: str = "alice", password: str = PASSWORD) -> str:
    """Sign in with the cookie; returns the CSRF token."""
    response = client.post(f"{API}/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return str(response.json()["csrf_token"])


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """Run ``app`` behind a real uvicorn server on a free loopback port; yields its URL."""
    # IPPROTO_TCP given explicitly: asyncio sets TCP_NODELAY only on sockets that say
    # they are TCP; without it Nagle and delayed ACKs add 40 ms to every response.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False)
    instance = uvicorn.Server(config)
    thread = threading.Thread(target=instance.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not instance.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        instance.should_exit = True
        thread.join(10)
        sock.close()


@pytest.fixture
def server(app: FastAPI) -> Iterator[str]:
    """The app behind a real uvicorn server on a free loopback port."""
    with serving(app) as url:
        yield url
