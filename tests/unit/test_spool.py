"""The encrypted spool: what an import upload waits in. No plaintext on disk, ever."""

from __future__ import annotations

import io
import os

import pytest

from selfdata.crypto.spool import EncryptedSpool
from selfdata.errors import CryptoError

PLAIN = (
    b"Identifiant PRM;Date de debut\n" + b"12345678901234;2024-01-01T00:00:00+01:00;842\n" * 5000
)


def disk_bytes(spool: EncryptedSpool) -> bytes:
    fd = spool.disk_fileno
    return os.pread(fd, os.fstat(fd).st_size + 1, 0)


def spooled(data: bytes, segment: int = 4096, pieces: int = 777) -> EncryptedSpool:
    spool = EncryptedSpool(segment_size=segment)
    for i in range(0, len(data), pieces):
        spool.write(data[i : i + pieces])
    spool.finish()
    return spool


def test_reads_back_and_seeks_anywhere() -> None:
    with spooled(PLAIN) as spool:
        assert spool.size == len(PLAIN)
        with spool.open() as stream:
            assert stream.read() == PLAIN
            assert stream.seekable()
            assert stream.seek(0, io.SEEK_END) == len(PLAIN)
            for start in (0, 1, 4095, 4096, 4097, 50_000, len(PLAIN) - 3):
                stream.seek(start)
                assert stream.read(10_000) == PLAIN[start : start + 10_000]
            stream.seek(0)
            lines = list(io.TextIOWrapper(stream, encoding="utf-8", newline=""))
            assert "".join(lines).encode() == PLAIN


def test_the_file_on_disk_holds_no_plaintext() -> None:
    with spooled(PLAIN) as spool:
        on_disk = disk_bytes(spool)
        assert len(on_disk) >= len(PLAIN)
        assert b"12345678901234" not in on_disk
        assert b"Identifiant" not in on_disk
        assert PLAIN[:64] not in on_disk


def test_empty_and_exact_segment_sizes() -> None:
    for data in (b"", b"x" * 4096, b"y" * 8192, b"z" * 4097):
        with spooled(data) as spool, spool.open() as stream:
            assert stream.read() == data


def test_tampering_and_truncation_are_detected() -> None:
    with spooled(PLAIN) as spool:
        fd = spool.disk_fileno
        os.pwrite(fd, bytes([os.pread(fd, 1, 5000)[0] ^ 1]), 5000)
        with spool.open() as stream, pytest.raises(CryptoError, match="integrity"):
            stream.read()
    with spooled(PLAIN) as spool:
        # Cut exactly after a segment: the segment now last was not sealed as final.
        os.ftruncate(spool.disk_fileno, 3 * (4096 + 16))
        with spool.open() as stream, pytest.raises(CryptoError, match="integrity"):
            stream.read()


def test_closed_spool_forgets_its_key_and_file() -> None:
    spool = spooled(PLAIN)
    fd = spool.disk_fileno
    spool.close()
    assert spool.closed
    with pytest.raises(OSError, match="Bad file descriptor"):
        os.fstat(fd)
    with pytest.raises(ValueError, match="closed"):
        spool.read_segment(0)
