"""The age file format (age-encryption.org/v1) with a passphrase, streamed both ways.

pyrage's passphrase API encrypts and decrypts whole ``bytes`` only, which would hold
the full archive in memory (and a zip being read needs random access, so it could not
be streamed from it either). The format itself is small and fully specified
(https://age-encryption.org/v1), so it is written here on top of the ``cryptography``
primitives: one ``scrypt`` recipient stanza, the HMAC-SHA256 header MAC, and the STREAM
payload (ChaCha20-Poly1305 over 64 KiB chunks). The output is a standard age file:
the tests decrypt it with ``age``'s reference implementation (rage, through pyrage) and
read files that pyrage wrote.

Reading is random access: every payload chunk has a fixed size, so :class:`AgeReader`
is a seekable, read-only file object that decrypts (and authenticates) only the chunk
it needs. A zip inside an age file is therefore read with bounded memory and no
plaintext ever written to disk.
"""

from __future__ import annotations

import base64
import hmac
import io
import os
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from selfdata.errors import CryptoError, InvalidInput

__all__ = ["AGE_MAGIC", "DEFAULT_WORK_FACTOR", "AgeReader", "AgeWriter", "is_age"]

AGE_MAGIC = b"age-encryption.org/v1\n"
DEFAULT_WORK_FACTOR = 18  # scrypt log2(N), as age and rage use by default (~1 s)
MAX_WORK_FACTOR = 22
_CHUNK = 64 * 1024
_TAG = 16
_SCRYPT_LABEL = b"age-encryption.org/v1/scrypt"


def is_age(head: bytes) -> bool:
    return head.startswith(AGE_MAGIC)


def _b64(data: bytes) -> bytes:
    return base64.b64encode(data).rstrip(b"=")


def _unb64(text: bytes) -> bytes:
    if b"=" in text or b"\r" in text:
        raise ValueError("non-canonical base64")
    return base64.b64decode(text + b"=" * (-len(text) % 4), validate=True)


def _hkdf(ikm: bytes, salt: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(ikm)


def _scrypt(passphrase: str, salt: bytes, log_n: int) -> bytes:
    return Scrypt(salt=_SCRYPT_LABEL + salt, length=32, n=2**log_n, r=8, p=1).derive(
        passphrase.encode("utf-8")
    )


def _nonce(counter: int, last: bool) -> bytes:
    return counter.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


class AgeWriter(io.RawIOBase):
    """A write-only file object: what is written is encrypted to ``out`` chunk by chunk.
    ``close()`` writes the final chunk (it does not close ``out``)."""

    def __init__(
        self, out: BinaryIO, passphrase: str, *, work_factor: int = DEFAULT_WORK_FACTOR
    ) -> None:
        super().__init__()
        if not passphrase:
            raise InvalidInput("the passphrase is empty")
        self._out = out
        file_key = os.urandom(16)
        salt = os.urandom(16)
        wrapped = ChaCha20Poly1305(_scrypt(passphrase, salt, work_factor)).encrypt(
            b"\x00" * 12, file_key, None
        )
        header = (
            AGE_MAGIC
            + b"-> scrypt "
            + _b64(salt)
            + b" "
            + str(work_factor).encode()
            + b"\n"
            + _b64(wrapped)
            + b"\n---"
        )
        mac = hmac.digest(_hkdf(file_key, b"", b"header"), header, "sha256")
        nonce = os.urandom(16)
        out.write(header + b" " + _b64(mac) + b"\n" + nonce)
        self._aead = ChaCha20Poly1305(_hkdf(file_key, nonce, b"payload"))
        self._buffer = bytearray()
        self._counter = 0
        self.written = 0  # plaintext bytes

    def writable(self) -> bool:
        return True

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        if self.closed:
            raise ValueError("write to a closed age writer")
        view = bytes(data)
        self._buffer += view
        self.written += len(view)
        # Keep at least one byte back: the last chunk must be flagged, and a full chunk
        # may turn out to be the last one.
        while len(self._buffer) > _CHUNK:
            self._emit(bytes(self._buffer[:_CHUNK]), last=False)
            del self._buffer[:_CHUNK]
        return len(view)

    def _emit(self, chunk: bytes, *, last: bool) -> None:
        self._out.write(self._aead.encrypt(_nonce(self._counter, last), chunk, None))
        self._counter += 1

    def close(self) -> None:
        if not self.closed:
            self._emit(bytes(self._buffer), last=True)
            self._buffer.clear()
            self._out.flush()
        super().close()


class AgeReader(io.RawIOBase):
    """A seekable, read-only view of the plaintext of an age file encrypted with a
    passphrase. Every chunk read is authenticated; a wrong passphrase, an altered
    header or payload, or a truncated file raises :class:`CryptoError`."""

    def __init__(self, source: BinaryIO, passphrase: str) -> None:
        super().__init__()
        self._src = source
        file_key = self._header(passphrase)
        nonce = source.read(16)
        if len(nonce) != 16:
            raise CryptoError("the encrypted archive is truncated (no payload)")
        self._start = source.tell()
        self._aead = ChaCha20Poly1305(_hkdf(file_key, nonce, b"payload"))
        end = source.seek(0, io.SEEK_END)
        length = end - self._start
        full = _CHUNK + _TAG
        self._chunks = max(1, -(-length // full))
        last_len = length - (self._chunks - 1) * full
        if last_len < _TAG or (last_len == _TAG and self._chunks > 1):
            raise CryptoError("the encrypted archive is truncated")
        self._size = length - _TAG * self._chunks
        self._pos = 0
        self._cache: tuple[int, bytes] | None = None
        self._chunk(self._chunks - 1)  # authenticates the end: detects truncation now

    def _header(self, passphrase: str) -> bytes:
        src = self._src
        src.seek(0)
        try:
            if src.read(len(AGE_MAGIC)) != AGE_MAGIC:
                raise CryptoError("not an age-encrypted file")
            stanza = src.readline(256)
            body = src.readline(256)
            mac_line = src.readline(256)
            parts = stanza.rstrip(b"\n").split(b" ")
            if (
                len(parts) != 4
                or parts[:2] != [b"->", b"scrypt"]
                or not mac_line.startswith(b"--- ")
            ):
                raise CryptoError(
                    "this age file is not encrypted with a passphrase (one scrypt recipient)"
                )
            salt = _unb64(parts[2])
            log_n = int(parts[3])
            wrapped = _unb64(body.rstrip(b"\n"))
            mac = _unb64(mac_line[4:].rstrip(b"\n"))
        except (ValueError, UnicodeDecodeError):
            raise CryptoError("the age header is malformed") from None
        if len(salt) != 16 or not 1 <= log_n <= MAX_WORK_FACTOR or len(wrapped) != 32:
            raise CryptoError("the age header is malformed or asks for too much work")
        try:
            file_key = ChaCha20Poly1305(_scrypt(passphrase, salt, log_n)).decrypt(
                b"\x00" * 12, wrapped, None
            )
        except InvalidTag:
            raise CryptoError("wrong passphrase (or the file was altered)") from None
        header = AGE_MAGIC + stanza + body + b"---"
        expected = hmac.digest(_hkdf(file_key, b"", b"header"), header, "sha256")
        if not hmac.compare_digest(expected, mac):
            raise CryptoError("the age header was altered")
        return file_key

    def _chunk(self, index: int) -> bytes:
        if self._cache is not None and self._cache[0] == index:
            return self._cache[1]
        full = _CHUNK + _TAG
        self._src.seek(self._start + index * full)
        box = self._src.read(full)
        last = index == self._chunks - 1
        try:
            plain = self._aead.decrypt(_nonce(index, last), box, None)
        except InvalidTag:
            raise CryptoError(
                "the encrypted archive is truncated or was altered "
                f"(chunk {index} does not authenticate)"
            ) from None
        self._cache = (index, plain)
        return plain

    @property
    def size(self) -> int:
        return self._size

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        done = 0
        while done < len(view) and self._pos < self._size:
            index, offset = divmod(self._pos, _CHUNK)
            chunk = self._chunk(index)
            piece = chunk[offset : offset + len(view) - done]
            view[done : done + len(piece)] = piece
            done += len(piece)
            self._pos += len(piece)
        return done

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = self._size - self._pos
        out = bytearray(max(0, min(size, self._size - self._pos)))
        n = self.readinto(out)
        return bytes(out[:n])
