"""``POST /api/v1/export``: the whole space, streamed, plain or age-encrypted."""

from __future__ import annotations

import io
import zipfile

import pyrage
from fastapi.testclient import TestClient

from selfdata.platform import Platform
from tests.conftest import OPERATOR, PASSWORD
from tests.http.conftest import Headers


def test_export_streams_an_archive_that_imports(
    client: TestClient, alice: Headers, platform: Platform
) -> None:
    client.post(
        "/api/v1/records/bank.transaction",
        headers=alice,
        json={
            "items": [
                {
                    "account_id": "A",
                    "booked_on": "2025-01-02",
                    "amount": "-1.50",
                    "currency": "EUR",
                    "label": "marker-HTTP",
                }
            ]
        },
    )
    response = client.post("/api/v1/export", headers=alice)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert "manifest.json" in archive.namelist()
    moved = platform.directory.import_space(
        io.BytesIO(response.content), PASSWORD, OPERATOR, name="alice2"
    )
    assert platform.citizen_view(moved.name).verify_log()[0]


def test_encrypted_export(client: TestClient, alice: Headers) -> None:
    response = client.post(
        "/api/v1/export", headers=alice, json={"passphrase": "a long passphrase"}
    )
    assert response.status_code == 200
    assert response.content.startswith(b"age-encryption.org/v1\n")
    plain = pyrage.passphrase.decrypt(response.content, "a long passphrase")
    assert zipfile.is_zipfile(io.BytesIO(plain))


def test_export_needs_a_citizen(client: TestClient) -> None:
    assert client.post("/api/v1/export").status_code == 401
