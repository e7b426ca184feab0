"""A progress line with an ETA for long headless runs (stderr, so stdout stays parseable)."""

from __future__ import annotations

import sys
import time


class ProgressLine:
    """Call with (done, total, seconds_left); prints at most every ``every`` seconds, and the last step."""

    def __init__(self, label: str, stream=None, every: float = 0.5) -> None:
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.every = every
        self._last = 0.0
        self._open = False  # the last line ended in "\r" (a terminal): the next output needs a newline first

    def __call__(self, done: int, total: int, seconds_left: float | None) -> None:
        now = time.monotonic()
        if done < total and now - self._last < self.every:
            return
        self._last = now
        eta = "" if seconds_left is None or done >= total else f", about {seconds_left:.0f} s left"
        end = "\n" if done >= total or not self.stream.isatty() else "\r"
        self.stream.write(f"{self.label}: {done}/{total}{eta}{end}")
        self.stream.flush()
        self._open = end == "\r"

    def close(self) -> None:
        """End the line, so what is printed next (a summary on stdout) starts on a line of its own."""
        if self._open:
            self.stream.write("\n")
            self._open = False
        self.stream.flush()
