"""Syncing due connector accounts at regular intervals, in a thread of the server."""

from __future__ import annotations

from collections.abc import Callable

from selfdata.periodic import PeriodicJob

__all__ = ["PeriodicSyncs"]


class PeriodicSyncs(PeriodicJob):
    """Calls ``sync_due`` every ``interval_seconds`` until stopped (0: never).

    Several workers may each run one: an account being synced is marked ``syncing``
    in the database, so another worker skips it."""

    def __init__(self, sync_due: Callable[[], int], interval_seconds: float) -> None:
        super().__init__(
            "selfdata-connectors",
            sync_due,
            interval_seconds,
            done="synced %d connector account(s)",
            stop_timeout=30.0,  # a sync in flight finishes its batch
        )
