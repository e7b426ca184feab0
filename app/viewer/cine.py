"""Cine playback at the media's native frame rate, or at its own frame times.

Frame timing comes from elapsed clock time, not from counting timer ticks, so a
late tick drops frames instead of slowing the clip down.  A clip with per-frame
presentation times (``Media.frame_times``: a variable-rate phone video) shows
each frame for as long as its timestamps say, as video players do; the speed
box then scales the whole clip (at the file's average rate it plays in real
time).  Tests drive it without a timer through ``advance(ms)`` or with a fake
``clock``.
"""

from __future__ import annotations

import bisect
import math
import time
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, QTimer, Signal

DEFAULT_FPS = 10.0  # a series or multi-frame file without a frame rate


class CinePlayer(QObject):
    """Emits ``frame_due(index)`` while playing, looping over ``n_frames``."""

    frame_due = Signal(int)
    playing_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None, *, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(parent)
        self._clock = clock
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self.on_tick)
        self._start = 0
        self._n = 1
        self._fps = DEFAULT_FPS
        self._elapsed_ms = 0.0
        self._last_clock = 0.0
        self._last_frame = 0
        self._times: tuple[float, ...] | None = None  # seconds from the first frame, when the clip has them

    @property
    def is_playing(self) -> bool:
        return self._timer.isActive()

    @property
    def fps(self) -> float:
        return self._fps

    def play(self, start: int, n_frames: int, fps: float | None, times: tuple[float, ...] | None = None) -> None:
        """Play from ``start``; ``times`` (seconds per frame, ascending) paces a variable-rate clip."""
        self._n = max(1, n_frames)
        usable = times is not None and len(times) == self._n and self._n > 1 and times[-1] > times[0]
        self._times = tuple(t - times[0] for t in times) if usable else None
        self._restart(start, fps if fps and fps > 0 else DEFAULT_FPS)
        self.playing_changed.emit(True)

    def _restart(self, start: int, fps: float) -> None:
        self._start, self._fps = start, float(fps)
        self._elapsed_ms = 0.0
        self._last_frame = start
        self._last_clock = self._clock()
        # Tick at the frame rate, capped at 60 Hz; frames come from the clock.
        self._timer.start(max(16, int(1000 / self._fps / 2)))

    def set_fps(self, fps: float) -> None:
        """Change the speed; a playing clip goes on from the frame on screen."""
        if not fps > 0:
            raise ValueError(f"cine speed must be > 0 frames per second, got {fps}")
        if self._timer.isActive():
            self._restart(self._last_frame, fps)  # the clock restarts at the frame on screen
        else:
            self._fps = float(fps)

    def stop(self) -> None:
        if self._timer.isActive():
            self._timer.stop()
            self.playing_changed.emit(False)

    def advance(self, ms: float) -> None:
        """Move the playhead by ``ms`` of clip time and emit the frame now due."""
        self._elapsed_ms += ms
        if self._times is None:
            frame = (self._start + math.floor(self._elapsed_ms * self._fps / 1000 + 1e-9)) % self._n
        else:
            times = self._times
            mean_step = times[-1] / (self._n - 1)  # the last frame lasts one average frame
            # At fps = the file's average rate (1 / mean_step) the clip plays in real time.
            clip_s = self._elapsed_ms / 1000 * self._fps * mean_step
            t = (times[self._start] + clip_s) % (times[-1] + mean_step)
            frame = bisect.bisect_right(times, t + 1e-9) - 1
        if frame != self._last_frame:
            self._last_frame = frame
            self.frame_due.emit(frame)

    def on_tick(self) -> None:
        now = self._clock()
        self.advance((now - self._last_clock) * 1000)
        self._last_clock = now
