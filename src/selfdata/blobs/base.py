"""The narrow interface every blob store implements. Blobs are opaque sealed bytes."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Protocol

__all__ = ["BlobStore"]


class BlobStore(Protocol):
    def put(self, key: str, chunks: Iterable[bytes]) -> int:
        """Store ``chunks`` under ``key`` atomically (all or nothing); return the size."""
        ...

    def get(self, key: str) -> Iterator[bytes]:
        """The stored bytes, in pieces; raises selfdata.errors.NotFound."""
        ...

    def delete(self, key: str) -> None:
        """Remove ``key`` if present."""
        ...

    def delete_prefix(self, prefix: str) -> int:
        """Remove every key under ``prefix/``; return how many."""
        ...

    def keys(self, prefix: str) -> Iterator[str]: ...
