"""Files over HTTP: streamed uploads (raw and multipart), downloads, bounds, isolation."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from urllib.parse import quote

from tests.http.conftest import API, Headers, TestClient

URL = f"{API}/files"
NAME = "relevé d'impôt 2024.pdf"


def chunks(data: bytes, size: int = 256 * 1024) -> Iterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


def file_count(client: TestClient, headers: Headers) -> int:
    return len(client.get(URL, headers=headers).json())


def test_raw_upload_round_trip_is_byte_identical(client: TestClient, alice: Headers) -> None:
    data = os.urandom(3 * 1024 * 1024 + 17)
    response = client.put(
        URL,
        params={"filename": NAME},
        content=data,
        headers={**alice, "Content-Type": "application/pdf"},
    )
    assert response.status_code == 201, response.text
    info = response.json()
    assert (info["size"], info["filename"], info["media_type"]) == (
        len(data),
        NAME,
        "application/pdf",
    )
    assert info["duplicate"] is False
    assert response.headers["location"] == f"{URL}/{info['id']}"

    download = client.get(f"{URL}/{info['id']}", headers=alice)
    assert download.status_code == 200
    assert download.content == data
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["content-length"] == str(len(data))
    disposition = download.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="')
    assert f"filename*=UTF-8''{quote(NAME, safe='')}" in disposition
    assert "sandbox" in download.headers["content-security-policy"]
    assert download.headers["cache-control"] == "no-store"

    again = client.put(
        URL,
        params={"filename": "copy.pdf"},
        content=data,
        headers={**alice, "Content-Type": "application/pdf"},
    )
    assert again.json()["duplicate"] is True
    assert again.json()["id"] == info["id"]
    assert [f["id"] for f in client.get(URL, headers=alice).json()] == [info["id"]]


def test_chunked_upload_without_length(client: TestClient, alice: Headers) -> None:
    data = os.urandom(1024 * 1024 + 5)
    response = client.put(
        URL,
        params={"filename": "scan.png"},
        content=chunks(data),
        headers={**alice, "Content-Type": "image/png"},
    )
    assert response.status_code == 201, response.text
    assert client.get(f"{URL}/{response.json()['id']}", headers=alice).content == data


def test_multipart_upload_is_streamed_too(client: TestClient, alice: Headers) -> None:
    data = os.urandom(2 * 1024 * 1024 + 3)
    response = client.post(
        URL,
        headers=alice,
        data={"note": "from a form"},
        files={"file": (NAME, data, "application/pdf")},
    )
    assert response.status_code == 201, response.text
    info = response.json()
    assert (info["filename"], info["media_type"], info["size"]) == (
        NAME,
        "application/pdf",
        len(data),
    )
    assert client.get(f"{URL}/{info['id']}", headers=alice).content == data

    form = {**alice, "Content-Type": "multipart/form-data; boundary=xyz"}
    no_file = client.post(
        URL,
        headers=form,
        content=b'--xyz\r\nContent-Disposition: form-data; name="note"\r\n\r\nhello\r\n--xyz--\r\n',
    )
    assert no_file.status_code == 400
    assert "no file" in no_file.json()["detail"]
    truncated = client.post(
        URL,
        headers=form,
        content=b"--xyz\r\nContent-Disposition: form-data; "
        b'name="file"; filename="a.txt"\r\n\r\nhello',
    )
    assert truncated.status_code == 400
    assert (
        client.post(URL, content=b"x", headers={**alice, "Content-Type": "text/plain"}).status_code
        == 415
    )
    assert file_count(client, alice) == 1


def test_upload_bounds_refuse_and_store_nothing(
    client: TestClient, alice: Headers, set_limits: Callable[..., None]
) -> None:
    set_limits(max_file_bytes=1024 * 1024)
    big = os.urandom(1024 * 1024 + 1)
    declared = client.put(URL, params={"filename": "big.bin"}, content=big, headers=alice)
    assert declared.status_code == 413  # refused on Content-Length, before reading
    streamed = client.put(URL, params={"filename": "big.bin"}, content=chunks(big), headers=alice)
    assert streamed.status_code == 413  # refused while counting the streamed bytes
    form = client.post(
        URL, headers=alice, files={"file": ("big.bin", big, "application/octet-stream")}
    )
    assert form.status_code == 413
    assert file_count(client, alice) == 0


def test_upload_names_and_types_are_checked(client: TestClient, alice: Headers) -> None:
    no_name = client.put(URL, content=b"x", headers=alice)
    assert no_name.status_code == 400
    assert no_name.json()["errors"][0]["field"] == "query.filename"
    bad_type = client.put(
        URL, params={"filename": "a"}, content=b"x", headers={**alice, "Content-Type": "not a type"}
    )
    assert bad_type.status_code == 400
    path = client.put(URL, params={"filename": "../../etc/passwd"}, content=b"x", headers=alice)
    assert path.status_code == 201
    assert path.json()["filename"] == "passwd"
    assert path.json()["media_type"] == "application/octet-stream"


def test_files_are_private_to_their_space(client: TestClient, alice: Headers, bob: Headers) -> None:
    info = client.put(
        URL,
        params={"filename": "bob.txt"},
        content=b"BOB'S LETTER",
        headers={**bob, "Content-Type": "text/plain"},
    ).json()
    for response in (
        client.get(f"{URL}/{info['id']}", headers=alice),
        client.delete(f"{URL}/{info['id']}", headers=alice),
    ):
        assert response.status_code == 404
        assert "BOB" not in response.text and "bob.txt" not in response.text
    assert client.get(URL, headers=alice).json() == []
    assert client.delete(f"{URL}/{info['id']}", headers=bob).status_code == 204
    assert client.get(f"{URL}/{info['id']}", headers=bob).status_code == 404
