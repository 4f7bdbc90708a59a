"""Calling a provider: timeouts, retries with backoff and jitter, rate limits.

Every request has a timeout. A network error or a 5xx is retried ``retries`` times,
waiting ``backoff_s · 2^n`` scaled by a random factor in [0.5, 1.5) (jitter, so that
many accounts failing together do not retry together). A ``429`` waits what its
``Retry-After`` says (seconds or an HTTP date) when that is at most ``max_wait_s``,
else the sync stops with :class:`RateLimited` carrying the wait, and the scheduler
comes back then. Other answers are returned as they are: the connector reads them.

(Twenty lines instead of a retry library: the rules are the provider's HTTP
semantics, which a generic decorator would need as much code to express.)
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

__all__ = ["ProviderHttp", "RateLimited", "Unreachable"]


class Unreachable(Exception):
    """5xx or network errors after every retry (``status`` None: the network)."""

    def __init__(self, status: int | None, what: str) -> None:
        super().__init__(what)
        self.status = status


class RateLimited(Exception):
    def __init__(self, retry_after: float) -> None:
        super().__init__(f"rate limited for {retry_after:.0f} s")
        self.retry_after = retry_after


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class ProviderHttp:
    def __init__(
        self,
        *,
        timeout_s: float = 30.0,
        retries: int = 3,
        backoff_s: float = 1.0,
        max_wait_s: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.retries, self.backoff_s, self.max_wait_s = retries, backoff_s, max_wait_s
        self.sleep = sleep
        self.calls = 0
        self._client = httpx.Client(timeout=timeout_s, transport=transport)

    def close(self) -> None:
        self._client.close()

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        bearer: str | None = None,
    ) -> httpx.Response:
        headers = {"Accept": "application/json"}
        if bearer is not None:
            headers["Authorization"] = f"Bearer {bearer}"
        failures = 0
        while True:
            self.calls += 1
            try:
                response = self._client.request(
                    method, url, params=params, data=data, headers=headers
                )
            except httpx.TransportError as exc:
                failures = self._after_failure(failures, None, type(exc).__name__)
                continue
            if response.status_code == 429:
                wait = retry_after_seconds(response.headers.get("retry-after"))
                wait = self.backoff_s if wait is None else wait
                if wait > self.max_wait_s or failures >= self.retries:
                    raise RateLimited(wait)
                failures += 1
                self.sleep(wait)
                continue
            if response.status_code >= 500:
                failures = self._after_failure(
                    failures, response.status_code, f"HTTP {response.status_code}"
                )
                continue
            return response

    def _after_failure(self, failures: int, status: int | None, what: str) -> int:
        if failures >= self.retries:
            raise Unreachable(status, what)
        self.sleep(self.backoff_s * 2**failures * random.uniform(0.5, 1.5))  # noqa: S311
        return failures + 1

    def json(self, response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            return None
