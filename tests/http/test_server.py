"""The app behind a real uvicorn server and socket: chunked uploads stream through."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import httpx

from tests.http.conftest import API, Headers, check_contract


def chunks(data: bytes, size: int = 64 * 1024) -> Iterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


def test_chunked_upload_and_streamed_download(
    server: str, alice: Headers, set_limits: Callable[..., None]
) -> None:
    data = os.urandom(3 * 1024 * 1024 + 99)
    with httpx.Client(
        base_url=server, headers=alice, event_hooks={"response": [check_contract]}, timeout=30
    ) as client:
        uploaded = client.put(
            f"{API}/files",
            params={"filename": "meter.csv"},
            content=chunks(data),
            headers={"Content-Type": "text/csv"},
        )
        assert uploaded.status_code == 201, uploaded.text
        assert uploaded.request.headers.get("transfer-encoding") == "chunked"
        received = bytearray()
        with client.stream("GET", f"{API}/files/{uploaded.json()['id']}") as download:
            for part in download.iter_bytes():
                received += part
        assert bytes(received) == data

        set_limits(max_file_bytes=1024 * 1024)
        too_big = client.put(
            f"{API}/files",
            params={"filename": "big.bin"},
            content=chunks(os.urandom(1024 * 1024 + 64 * 1024)),
        )
        assert too_big.status_code == 413
        assert len(client.get(f"{API}/files").json()) == 1
