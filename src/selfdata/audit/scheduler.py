"""Signing checkpoints at regular intervals, in a background thread of the server."""

from __future__ import annotations

from collections.abc import Callable

from selfdata.periodic import PeriodicJob

__all__ = ["PeriodicCheckpoints"]


class PeriodicCheckpoints(PeriodicJob):
    """Calls ``checkpoint_all`` every ``interval_seconds`` until stopped.

    Several workers may each run one: signing a head that is already signed returns
    the existing checkpoint, so the only cost of overlap is a little duplicate work."""

    def __init__(self, checkpoint_all: Callable[[], int], interval_seconds: float) -> None:
        super().__init__(
            "selfdata-checkpoints",
            checkpoint_all,
            interval_seconds,
            done="signed %d access-log checkpoint(s)",
        )
