"""Space keys in the database: created wrapped, unwrapped on demand, destroyed first."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from sqlalchemy import Connection, delete, func, insert, select, update

from selfdata.crypto import MasterKeyring, SpaceKeys, WrappedKey
from selfdata.db.tables import space_keys
from selfdata.errors import CryptoError

__all__ = ["KeyStore"]


class KeyStore:
    """Unwraps space keys with the master keyring and keeps a small in-memory cache.

    The cache is bounded and entries expire, so a key destroyed by another worker
    stops being usable here within ``ttl_seconds`` even before the space status check
    (which every access makes) refuses it.
    """

    def __init__(
        self,
        keyring: Callable[[], MasterKeyring],
        *,
        capacity: int = 1024,
        ttl_seconds: float = 60.0,
    ) -> None:
        self._keyring = keyring
        self._capacity = capacity
        self._ttl = ttl_seconds
        self._cache: OrderedDict[str, tuple[float, SpaceKeys]] = OrderedDict()
        self._lock = threading.Lock()

    def create(self, conn: Connection, space_id: str, now_ms: int) -> SpaceKeys:
        root = SpaceKeys.new_root()
        wrapped = SpaceKeys.wrap(space_id, root, self._keyring())
        conn.execute(
            insert(space_keys).values(
                space_id=space_id, kek_id=wrapped.kek_id, wrapped=wrapped.blob, created_at=now_ms
            )
        )
        keys = SpaceKeys(space_id, root)
        self._remember(space_id, keys)
        return keys

    def get(self, conn: Connection, space_id: str) -> SpaceKeys:
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(space_id)
            if hit and now - hit[0] < self._ttl:
                self._cache.move_to_end(space_id)
                return hit[1]
        row = conn.execute(
            select(space_keys.c.kek_id, space_keys.c.wrapped).where(
                space_keys.c.space_id == space_id
            )
        ).first()
        if row is None:
            raise CryptoError(f"space {space_id} has no key (it was erased)")
        wrapped = WrappedKey(row.kek_id, row.wrapped)
        root = SpaceKeys.unwrap(space_id, wrapped, self._keyring())
        keys = SpaceKeys(space_id, root)
        self._remember(space_id, keys)
        return keys

    def destroy(self, conn: Connection, space_id: str) -> bool:
        """Delete the wrapped key: everything sealed for the space becomes unreadable."""
        self.forget(space_id)
        return bool(
            conn.execute(delete(space_keys).where(space_keys.c.space_id == space_id)).rowcount
        )

    def forget(self, space_id: str) -> None:
        with self._lock:
            self._cache.pop(space_id, None)

    def rewrap_all(
        self,
        conn: Connection,
        old: MasterKeyring,
        new: MasterKeyring,
        now_ms: int,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Re-wrap every space key from ``old`` to ``new``'s active key. Data is untouched."""
        rows = conn.execute(
            select(space_keys.c.space_id, space_keys.c.kek_id, space_keys.c.wrapped)
        ).all()
        count = 0
        for row in rows:
            if row.kek_id == new.active_id:
                continue
            root = SpaceKeys.unwrap(row.space_id, WrappedKey(row.kek_id, row.wrapped), old)
            wrapped = SpaceKeys.wrap(row.space_id, root, new)
            conn.execute(
                update(space_keys)
                .where(space_keys.c.space_id == row.space_id)
                .values(kek_id=wrapped.kek_id, wrapped=wrapped.blob, rewrapped_at=now_ms)
            )
            count += 1
            if progress:
                progress(1)
        with self._lock:
            self._cache.clear()
        return count

    def kek_usage(self, conn: Connection) -> dict[str, int]:
        """How many space keys each master key wraps (to know when an old one may go)."""
        rows = conn.execute(
            select(space_keys.c.kek_id, func.count()).group_by(space_keys.c.kek_id)
        ).all()
        return {str(kek_id): int(n) for kek_id, n in rows}

    def _remember(self, space_id: str, keys: SpaceKeys) -> None:
        with self._lock:
            self._cache[space_id] = (time.monotonic(), keys)
            self._cache.move_to_end(space_id)
            while len(self._cache) > self._capacity:
                self._cache.popitem(last=False)
