"""Files: sealed in segments on the blob store, described by a sealed row.

A file is cut into 1 MiB segments, each sealed with associated data naming its
position and whether it is the last one, so a blob that was truncated, reordered or
spliced from another file fails to open. Reading streams segment by segment: memory
stays bounded whatever the file size.

Blob layout: ``b"SDF1" | segment_size (u32) | { length (u32) | sealed segment }*``.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Any

import orjson
from sqlalchemy import Connection, delete, insert, select

from selfdata.blobs import BlobStore
from selfdata.crypto import Associated, SpaceKeys
from selfdata.db.tables import files
from selfdata.errors import CryptoError, NotFound, PayloadTooLarge
from selfdata.ids import new_id
from selfdata.store.types import FileInfo, at_ms

__all__ = [
    "StagedFile",
    "delete_file",
    "file_info",
    "list_files",
    "read_file",
    "record_file",
    "stage_file",
]

_MAGIC = b"SDF1"
_SEGMENT = 1024 * 1024
_LEN = struct.Struct("<I")


def _segment_ad(space_id: str, file_id: str, index: int, final: bool) -> bytes:
    return Associated(space_id, "file-segment", "file", file_id, f"{index}:{int(final)}").encode()


def _meta_ad(space_id: str, file_id: str) -> bytes:
    return Associated(space_id, "file", "file", file_id).encode()


def _resegment(chunks: Iterable[bytes], size: int) -> Iterator[bytes]:
    buffer = bytearray()
    for chunk in chunks:
        buffer += chunk
        while len(buffer) >= size:
            yield bytes(buffer[:size])
            del buffer[:size]
    yield bytes(buffer)  # always one (possibly empty) final segment


@dataclass(frozen=True, slots=True)
class StagedFile:
    """A file sealed and written to the blob store, not yet recorded in the database."""

    id: str
    blob_key: str
    size: int
    fingerprint: bytes


def stage_file(
    keys: SpaceKeys,
    blobs: BlobStore,
    chunks: Iterable[bytes],
    *,
    filename: str,
    now_ms: int,
    max_bytes: int,
    file_id: str | None = None,
) -> StagedFile:
    """Seal ``chunks`` into a new blob, outside any database transaction (a slow upload
    must not hold the database's write lock); :func:`record_file` then records it.
    ``file_id`` keeps a given id (a space restored from its archive)."""
    file_id = file_id or new_id(now_ms)
    space_id = keys.space_id
    mac = keys.fingerprint_stream()
    total = 0

    def sealed() -> Iterator[bytes]:
        yield _MAGIC + _LEN.pack(_SEGMENT)
        segments = _resegment(chunks, _SEGMENT)
        current = next(segments)
        index = 0
        for following in segments:
            yield _seal_segment(current, index, final=False)
            index += 1
            current = following
        yield _seal_segment(current, index, final=True)

    def _seal_segment(data: bytes, index: int, *, final: bool) -> bytes:
        nonlocal total
        total += len(data)
        if total > max_bytes:
            raise PayloadTooLarge(
                f"{filename} is larger than the {max_bytes // (1024 * 1024)} MiB allowed per file"
            )
        mac.update(data)
        box = keys.cipher.seal_raw(data, _segment_ad(space_id, file_id, index, final))
        return _LEN.pack(len(box)) + box

    blob_key = f"{space_id}/{file_id}"
    blobs.put(blob_key, sealed())
    return StagedFile(file_id, blob_key, total, mac.digest())


def record_file(
    conn: Connection,
    keys: SpaceKeys,
    blobs: BlobStore,
    staged: StagedFile,
    *,
    filename: str,
    media_type: str,
    now_ms: int,
    source_id: str | None = None,
) -> FileInfo:
    """Record a staged file; an identical file already in the space is kept instead
    (the new blob is deleted). On failure the caller deletes the staged blob."""
    space_id = keys.space_id
    duplicate = conn.execute(
        select(files.c.id).where(
            files.c.space_id == space_id, files.c.fingerprint == staged.fingerprint
        )
    ).scalar()
    if duplicate is not None:
        blobs.delete(staged.blob_key)
        info = file_info(conn, keys, str(duplicate))
        return replace(info, duplicate_of_existing=True)
    meta = {"filename": filename, "media_type": media_type}
    conn.execute(
        insert(files).values(
            space_id=space_id,
            id=staged.id,
            size=staged.size,
            fingerprint=staged.fingerprint,
            blob_key=staged.blob_key,
            source_id=source_id,
            created_at=now_ms,
            body=keys.cipher.seal_raw(orjson.dumps(meta), _meta_ad(space_id, staged.id)),
        )
    )
    return FileInfo(staged.id, staged.size, filename, media_type, at_ms(now_ms), source_id)


def _row(conn: Connection, space_id: str, file_id: str) -> Any:
    row = conn.execute(
        select(files).where(files.c.space_id == space_id, files.c.id == file_id)
    ).first()
    if row is None:
        raise NotFound(f"no file {file_id}")
    return row


def _info(keys: SpaceKeys, row: Any) -> FileInfo:
    meta = orjson.loads(keys.cipher.open_raw(bytes(row.body), _meta_ad(keys.space_id, row.id)))
    return FileInfo(
        row.id,
        int(row.size),
        meta["filename"],
        meta["media_type"],
        at_ms(row.created_at),
        row.source_id,
    )


def file_info(conn: Connection, keys: SpaceKeys, file_id: str) -> FileInfo:
    return _info(keys, _row(conn, keys.space_id, file_id))


def list_files(conn: Connection, keys: SpaceKeys) -> list[FileInfo]:
    rows = conn.execute(
        select(files).where(files.c.space_id == keys.space_id).order_by(files.c.id)
    ).all()
    return [_info(keys, row) for row in rows]


def read_file(
    conn: Connection, keys: SpaceKeys, blobs: BlobStore, file_id: str
) -> tuple[FileInfo, Iterator[bytes]]:
    """The file's description and an iterator over its plaintext, verified segment by segment."""
    row = _row(conn, keys.space_id, file_id)
    info = _info(keys, row)
    return info, _open_segments(keys, blobs.get(row.blob_key), file_id)


def _open_segments(keys: SpaceKeys, raw: Iterator[bytes], file_id: str) -> Iterator[bytes]:
    buffer = bytearray()
    index = 0
    header_done = False
    finished = False
    for piece in raw:
        buffer += piece
        if not header_done:
            if len(buffer) < 8:
                continue
            if bytes(buffer[:4]) != _MAGIC:
                raise CryptoError(f"file {file_id} is not in a readable format")
            del buffer[:8]
            header_done = True
        while len(buffer) >= 4:
            (length,) = _LEN.unpack_from(buffer)
            if len(buffer) < 4 + length:
                break
            box = bytes(buffer[4 : 4 + length])
            del buffer[: 4 + length]
            if finished:
                raise CryptoError(f"file {file_id} has data after its final segment")
            try:
                data = keys.cipher.open_raw(box, _segment_ad(keys.space_id, file_id, index, False))
            except CryptoError:
                data = keys.cipher.open_raw(box, _segment_ad(keys.space_id, file_id, index, True))
                finished = True
            index += 1
            yield data
    if not finished or buffer:
        raise CryptoError(f"file {file_id} is truncated")


def delete_file(conn: Connection, space_id: str, file_id: str) -> str:
    """Delete the file's row; returns its blob key, for the caller to delete the blob
    once the transaction has committed (a rolled-back delete keeps its content)."""
    row = _row(conn, space_id, file_id)
    conn.execute(delete(files).where(files.c.space_id == space_id, files.c.id == file_id))
    return str(row.blob_key)
