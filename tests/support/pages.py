"""Driving the web app's pages as a browser would, with a plain HTTP client."""

from __future__ import annotations

import re
from typing import Any

from tests.conftest import PASSWORD

__all__ = ["csrf_of", "sign_in", "sign_up"]


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token in the page"
    return found.group(1)


def sign_up(client: Any, username: str, password: str = PASSWORD) -> str:
    """Create a space through the sign-up page; returns the session's CSRF token."""
    form = client.get("/signup")
    assert form.status_code == 200, form.text
    done = client.post(
        "/signup",
        data={
            "csrf_token": csrf_of(form.text),
            "username": username,
            "password": password,
            "password2": password,
        },
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    return csrf_of(client.get("/account").text)


def sign_in(client: Any, username: str, password: str = PASSWORD) -> Any:
    form = client.get("/signin")
    return client.post(
        "/signin",
        data={"csrf_token": csrf_of(form.text), "username": username, "password": password},
        follow_redirects=False,
    )
