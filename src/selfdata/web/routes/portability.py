"""The citizen's whole space as one archive (``POST /api/v1/export``), streamed."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from selfdata.access import SpaceView
from selfdata.web.auth import CitizenView
from selfdata.web.problems import problem_responses

__all__ = ["router", "stream_from"]

router = APIRouter(tags=["portability"])

_QUEUE = 16  # chunks in flight between the exporting thread and the response
_STALLED = 300.0  # seconds a client may stop reading before the export is abandoned


class ExportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    passphrase: str | None = Field(
        default=None,
        min_length=8,
        description="Encrypt the archive in the age format with this passphrase.",
    )


class _Cancelled(Exception):
    pass


class _QueueSink:
    """A write-only stream whose chunks the response hands to the client."""

    def __init__(self, chunks: queue.Queue[bytes | BaseException | None]) -> None:
        self._chunks = chunks
        self.cancelled = threading.Event()

    def write(self, data: bytes) -> int:
        if self.cancelled.is_set():
            raise _Cancelled
        try:
            self._chunks.put(bytes(data), timeout=_STALLED)
        except queue.Full:
            raise _Cancelled from None
        return len(data)

    def flush(self) -> None:
        pass


def _stream(view: SpaceView, passphrase: str | None) -> Iterator[bytes]:
    return stream_from(lambda out: view.export_space(out, passphrase=passphrase))


def stream_from(write: Callable[[BinaryIO], Any]) -> Iterator[bytes]:
    """The bytes ``write`` writes to the stream it is given, run in a thread and handed
    to the response as they come (with back-pressure); a failure ends the body early."""
    chunks: queue.Queue[bytes | BaseException | None] = queue.Queue(maxsize=_QUEUE)
    sink = _QueueSink(chunks)

    def work() -> None:
        try:
            write(sink)  # type: ignore[arg-type]
        except _Cancelled:
            return
        except BaseException as exc:
            chunks.put(exc)
            return
        chunks.put(None)

    worker = threading.Thread(target=work, name="space-export", daemon=True)
    worker.start()
    try:
        while (item := chunks.get()) is not None:
            if isinstance(item, BaseException):
                # Headers are sent: the archive ends without its manifest, which every
                # reader (and `selfdata import-space`) refuses as truncated.
                return
            yield item
    finally:
        sink.cancelled.set()


@router.post(
    "/export",
    summary="Download the whole space as one archive (zip; age-encrypted with a passphrase)",
    responses={
        200: {"content": {"application/zip": {}, "application/octet-stream": {}}},
        **problem_responses(401, 403),
    },
)
def export(view: CitizenView, body: ExportIn | None = None) -> StreamingResponse:
    passphrase = body.passphrase if body else None
    name = "space.zip.age" if passphrase else "space.zip"
    return StreamingResponse(
        _stream(view, passphrase),
        media_type="application/octet-stream" if passphrase else "application/zip",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
