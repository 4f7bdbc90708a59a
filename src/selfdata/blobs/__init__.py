"""Blob stores: where sealed file bytes live (local disk now, S3-compatible later)."""

from selfdata.blobs.base import BlobStore
from selfdata.blobs.local import LocalBlobStore

__all__ = ["BlobStore", "LocalBlobStore"]
