"""Encoding of series chunks: delta-coded timestamps and byte-shuffled floats, zstd.

Half-hourly meter readings compress to a few bytes per point: timestamp deltas are
constant and shuffling the float64 bytes groups the slowly-changing exponent bytes
together. Layout before compression::

    b"SDC1" | n (u32) | ncols (u16) | first_ts (i64)
    | deltas ((n-1) × i64) | columns (n × ncols × 8 bytes, byte-shuffled)
"""

from __future__ import annotations

import struct

import numpy as np
import numpy.typing as npt
import zstandard

from selfdata.errors import CryptoError

__all__ = ["decode_chunk", "encode_chunk"]

_MAGIC = b"SDC1"
_HEADER = struct.Struct("<4sIHq")
_LEVEL = 3
_compressor = zstandard.ZstdCompressor(level=_LEVEL)
_decompressor = zstandard.ZstdDecompressor()


def encode_chunk(ts: npt.NDArray[np.int64], values: npt.NDArray[np.float64]) -> bytes:
    """``ts`` sorted, unique, shape (n,); ``values`` shape (n, ncols)."""
    n = int(ts.shape[0])
    ncols = int(values.shape[1])
    first = int(ts[0]) if n else 0
    deltas = np.diff(ts).astype("<i8", copy=False)
    shuffled = np.ascontiguousarray(values.astype("<f8", copy=False)).view(np.uint8)
    shuffled = shuffled.reshape(n * ncols, 8).T.copy()
    raw = _HEADER.pack(_MAGIC, n, ncols, first) + deltas.tobytes() + shuffled.tobytes()
    return _compressor.compress(raw)


def decode_chunk(blob: bytes) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    try:
        raw = _decompressor.decompress(blob)
        magic, n, ncols, first = _HEADER.unpack_from(raw)
    except (zstandard.ZstdError, struct.error):
        raise CryptoError("a series chunk is not in a readable format") from None
    if magic != _MAGIC:
        raise CryptoError("a series chunk has an unknown format")
    offset = _HEADER.size
    ts = np.empty(n, dtype=np.int64)
    if n:
        ts[0] = first
        deltas = np.frombuffer(raw, dtype="<i8", count=n - 1, offset=offset)
        np.cumsum(deltas, out=ts[1:])
        ts[1:] += first
    offset += 8 * max(n - 1, 0)
    shuffled = np.frombuffer(raw, dtype=np.uint8, count=8 * n * ncols, offset=offset)
    values = shuffled.reshape(8, n * ncols).T.copy().view("<f8").reshape(n, ncols)
    return ts, values.astype(np.float64, copy=False)
