"""Streaming uploads: request bytes go to the encrypted store chunk by chunk.

Nothing is spooled: a temporary file would hold the citizen's document in clear on the
server's disk, which the threat model forbids (Starlette's ``UploadFile`` spools parts
over 1 MB to disk, so it is not used). The store's ``put_file`` is synchronous and runs
in a worker thread; :func:`body_chunks` hands it the request's bytes by hopping back to
the event loop for each chunk, so at most one chunk is in memory at a time.

For ``multipart/form-data`` (HTML forms), :class:`MultipartFile` runs python-multipart's
push parser over those chunks and yields the first file part's data as it is parsed.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from typing import Any

import anyio.from_thread
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import ClientDisconnect, Request

from selfdata.errors import InvalidInput, PayloadTooLarge
from selfdata.web.limits import BodyTooLarge
from selfdata.web.params import safe_filename, safe_media_type

__all__ = ["MultipartFile", "body_chunks", "multipart_boundary"]

_MAX_FIELDS_BYTES = 64 * 1024  # form fields before the file: a few small values at most


def body_chunks(request: Request) -> Iterator[bytes]:
    """The request body, chunk by chunk, for synchronous code in a worker thread."""
    stream = request.stream().__aiter__()

    async def pull() -> bytes:
        return await stream.__anext__()

    while True:
        try:
            chunk = anyio.from_thread.run(pull)
        except StopAsyncIteration:
            return
        except BodyTooLarge as exc:
            raise PayloadTooLarge(str(exc.detail), limit=exc.limit) from None
        except ClientDisconnect:
            raise InvalidInput("the upload was interrupted before its end") from None
        if chunk:
            yield chunk


def multipart_boundary(content_type: str) -> bytes:
    _, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if not boundary or len(boundary) > 200:
        raise InvalidInput("a multipart/form-data body needs a boundary parameter")
    return boundary


class MultipartFile:
    """The first file part of a multipart/form-data stream, parsed as it arrives."""

    def __init__(self, chunks: Iterator[bytes], boundary: bytes) -> None:
        self._chunks = chunks
        self._events: deque[tuple[str, Any]] = deque()
        self._field = b""
        self._value = b""
        self._headers: dict[bytes, bytes] = {}
        self._ended = False
        self._parser = MultipartParser(
            boundary,
            {
                "on_part_begin": self._on_part_begin,
                "on_header_field": self._on_header_field,
                "on_header_value": self._on_header_value,
                "on_header_end": self._on_header_end,
                "on_headers_finished": self._on_headers_finished,
                "on_part_data": self._on_part_data,
                "on_part_end": self._on_part_end,
                "on_end": self._on_end,
            },
        )

    # python-multipart callbacks: they only queue events
    def _on_part_begin(self) -> None:
        self._headers = {}

    def _on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def _on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def _on_header_end(self) -> None:
        self._headers[self._field.lower()] = self._value
        self._field, self._value = b"", b""

    def _on_headers_finished(self) -> None:
        self._events.append(("headers", self._headers))

    def _on_part_data(self, data: bytes, start: int, end: int) -> None:
        self._events.append(("data", bytes(data[start:end])))

    def _on_part_end(self) -> None:
        self._events.append(("end", None))

    def _on_end(self) -> None:
        self._ended = True

    def _next(self) -> tuple[str, Any] | None:
        while not self._events:
            if self._ended:
                return None
            chunk = next(self._chunks, None)
            if chunk is None:
                raise InvalidInput("the multipart/form-data body ended before its closing boundary")
            try:
                self._parser.write(chunk)
            except MultipartParseError as exc:
                raise InvalidInput(f"the multipart/form-data body is malformed: {exc}") from None
        return self._events.popleft()

    def open(self) -> tuple[str, str, Iterator[bytes]]:
        """Skip form fields up to the first file part: its name, media type and data."""
        skipped = 0
        while (event := self._next()) is not None:
            kind, value = event
            if kind == "headers":
                _, params = parse_options_header(value.get(b"content-disposition", b""))
                if b"filename" in params:
                    filename = safe_filename(params[b"filename"].decode("utf-8", "replace"), "file")
                    media = safe_media_type(value.get(b"content-type", b"").decode("latin-1"))
                    return filename, media, self._data()
            elif kind == "data":
                skipped += len(value)
                if skipped > _MAX_FIELDS_BYTES:
                    raise InvalidInput("send the file first, or as the only field of the form")
        raise InvalidInput(
            "the form has no file; send it in a field with a filename (<input type=file name=file>)"
        )

    def _data(self) -> Iterator[bytes]:
        while (event := self._next()) is not None:
            kind, value = event
            if kind == "end":
                return
            if kind == "data" and value:
                yield value
        raise InvalidInput("the multipart/form-data body ended inside the file")
