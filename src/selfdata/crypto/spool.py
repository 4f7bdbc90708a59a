"""An encrypted spool: a temporary file that never holds plaintext.

An import reads its file twice (validation, then writing), so an upload must be kept
somewhere until the job ends — and the threat model forbids plaintext personal data on
the server's disk, temporary files included. The spool writes the bytes as AES-256-GCM
segments under an ephemeral key that lives only in this object's memory: when the
process dies or the spool is closed, the key is gone and the file (already unlinked on
Linux, see :func:`tempfile.TemporaryFile`) is unreadable noise.

Layout: segment ``i`` holds bytes ``[i*S, (i+1)*S)`` of the plaintext, sealed with the
nonce ``i`` (a key is used for one spool only, so counter nonces never repeat) and the
associated data ``"selfdata/spool/v1" | i | final``. Segments sit at fixed offsets, so
any position can be read by opening one segment. The ``final`` flag is set on the last
segment only: a file cut at a segment boundary (or segments swapped) fails
authentication instead of reading as a shorter file.
"""

from __future__ import annotations

import io
import os
import struct
import tempfile
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from selfdata.errors import CryptoError

__all__ = ["SEGMENT", "EncryptedSpool"]

SEGMENT = 256 * 1024
_TAG = 16
_CONTEXT = b"selfdata/spool/v1"


def _nonce(index: int) -> bytes:
    return index.to_bytes(12, "big")


def _associated(index: int, final: bool) -> bytes:
    return _CONTEXT + struct.pack(">QB", index, 1 if final else 0)


class EncryptedSpool:
    """Write the bytes once (:meth:`write`, then :meth:`finish`), then read them as
    often as needed through :meth:`open` (seekable, read-only). :meth:`close` deletes
    the file and forgets the key."""

    def __init__(self, directory: Path | None = None, segment_size: int = SEGMENT) -> None:
        if segment_size <= 0:
            raise ValueError("segment_size must be positive")
        self._aead: AESGCM | None = AESGCM(AESGCM.generate_key(bit_length=256))
        self._segment = segment_size
        self._file = tempfile.TemporaryFile(dir=directory)  # noqa: SIM115 - closed by close()
        self._pending = bytearray()
        self._segments = 0
        self._size = 0
        self._finished = False

    # -- writing -------------------------------------------------------------------

    def write(self, data: bytes) -> None:
        if self._finished:
            raise ValueError("the spool is finished; it is read-only now")
        self._pending += data
        self._size += len(data)
        # Keep one full segment pending: the last one must be sealed as final.
        while len(self._pending) > self._segment:
            self._seal(bytes(self._pending[: self._segment]), final=False)
            del self._pending[: self._segment]

    def finish(self) -> None:
        """Seal the last segment (possibly empty): the spool becomes readable."""
        if not self._finished:
            self._seal(bytes(self._pending), final=True)
            self._pending.clear()
            self._file.flush()
            self._finished = True

    def _seal(self, plaintext: bytes, *, final: bool) -> None:
        index = self._segments
        self._file.seek(index * (self._segment + _TAG))
        self._file.write(
            self._cipher().encrypt(_nonce(index), plaintext, _associated(index, final))
        )
        self._segments += 1

    # -- reading -------------------------------------------------------------------

    @property
    def size(self) -> int:
        """Plaintext bytes written."""
        return self._size

    @property
    def disk_fileno(self) -> int:
        """The descriptor of the ciphertext on disk (to inspect it; never parse it)."""
        return self._file.fileno()

    def open(self, buffer_size: int = 64 * 1024) -> BinaryIO:
        """A new seekable, read-only binary stream over the plaintext."""
        if not self._finished:
            raise ValueError("finish() the spool before reading it")
        return io.BufferedReader(_SpoolReader(self), buffer_size)

    def read_segment(self, index: int) -> bytes:
        """Segment ``index``, decrypted and authenticated."""
        last = self._segments - 1
        if not 0 <= index <= last:
            raise ValueError(f"segment {index} out of range")
        sealed = os.pread(self._file.fileno(), self._segment + _TAG, index * (self._segment + _TAG))
        expected = (self._segment if index < last else self._size - last * self._segment) + _TAG
        try:
            if len(sealed) != expected:
                raise InvalidTag
            return self._cipher().decrypt(_nonce(index), sealed, _associated(index, index == last))
        except InvalidTag:
            raise CryptoError(
                f"the import spool failed its integrity check at segment {index}: the "
                "temporary file was altered or truncated"
            ) from None

    @property
    def segment_size(self) -> int:
        return self._segment

    def _cipher(self) -> AESGCM:
        if self._aead is None:
            raise ValueError("the spool is closed")
        return self._aead

    # -- end -----------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        return self._aead is None

    def close(self) -> None:
        """Delete the file and forget the key (idempotent)."""
        self._aead = None
        self._pending.clear()
        self._file.close()

    def __enter__(self) -> EncryptedSpool:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class _SpoolReader(io.RawIOBase):
    """Random access over the spool, one decrypted segment cached."""

    def __init__(self, spool: EncryptedSpool) -> None:
        super().__init__()
        self._spool = spool
        self._pos = 0
        self._cached: tuple[int, bytes] | None = None

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._spool.size}[whence]
        position = base + offset
        if position < 0:
            raise ValueError("negative seek position")
        self._pos = position
        return position

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if self._pos >= self._spool.size or not len(buffer):
            return 0
        index, start = divmod(self._pos, self._spool.segment_size)
        if self._cached is None or self._cached[0] != index:
            self._cached = (index, self._spool.read_segment(index))
        data = self._cached[1][start : start + len(buffer)]
        view = memoryview(buffer).cast("B")
        view[: len(data)] = data
        self._pos += len(data)
        return len(data)
