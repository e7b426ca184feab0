"""A pausable stopwatch on an injectable monotonic clock (tests pass a fake)."""

from __future__ import annotations

import time
from collections.abc import Callable

Clock = Callable[[], float]


class Stopwatch:
    """Accumulates the seconds it was running; ``start``/``stop`` are idempotent."""

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._started_at: float | None = None
        self._total = 0.0

    @property
    def running(self) -> bool:
        return self._started_at is not None

    def start(self) -> None:
        if self._started_at is None:
            self._started_at = self._clock()

    def stop(self) -> None:
        if self._started_at is not None:
            self._total += self._clock() - self._started_at
            self._started_at = None

    def run_if(self, condition: bool) -> None:
        """Start or stop so that it runs exactly while ``condition`` holds."""
        self.start() if condition else self.stop()

    def seconds(self) -> float:
        running = self._clock() - self._started_at if self._started_at is not None else 0.0
        return self._total + running

    def ms(self) -> int:
        return int(round(self.seconds() * 1000))
