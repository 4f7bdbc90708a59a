"""A job that runs every few minutes in a background thread of the server.

The access log's checkpoints and the connectors' syncs both need one; they differ only in
what one round does, what its count means, and how long stopping may wait.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

__all__ = ["PeriodicJob"]

log = logging.getLogger(__name__)


class PeriodicJob:
    """Calls ``run_once`` every ``interval_seconds`` until stopped (0 or less: never).

    ``run_once`` returns how many things it did; a round that did something is logged
    as ``done`` (a ``%d`` format), a round that raises is logged and the next one still
    runs."""

    def __init__(
        self,
        name: str,
        run_once: Callable[[], int],
        interval_seconds: float,
        *,
        done: str,
        stop_timeout: float = 10.0,
    ) -> None:
        self.name = name
        self._run_once = run_once
        self._interval = interval_seconds
        self._done = done
        self._stop_timeout = stop_timeout
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.runs = 0

    def start(self) -> None:
        if self._interval <= 0 or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self._stop_timeout)
            self._thread = None

    def _loop(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                count = self._run_once()
                self.runs += 1
                if count:
                    log.info(self._done, count)
            except Exception:  # a failed round must not stop the next ones
                log.exception("%s: a periodic round failed", self.name)
