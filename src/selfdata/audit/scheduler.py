"""Signing checkpoints at regular intervals, in a background thread of the server."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

__all__ = ["PeriodicCheckpoints"]

log = logging.getLogger(__name__)


class PeriodicCheckpoints:
    """Calls ``checkpoint_all`` every ``interval_seconds`` until stopped.

    Several workers may each run one: signing a head that is already signed returns
    the existing checkpoint, so the only cost of overlap is a little duplicate work."""

    def __init__(self, checkpoint_all: Callable[[], int], interval_seconds: float) -> None:
        self._run_once = checkpoint_all
        self._interval = interval_seconds
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.runs = 0

    def start(self) -> None:
        if self._interval <= 0 or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, name="selfdata-checkpoints", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                signed = self._run_once()
                self.runs += 1
                if signed:
                    log.info("signed %d access-log checkpoint(s)", signed)
            except Exception:  # a failed round must not stop the next ones
                log.exception("periodic checkpointing failed")
