"""Recycled output buffers for big volumes, so a case switch does not pay page faults.

A fresh 100 MB array costs tens of milliseconds of first-touch page faults,
as much as parsing the DICOM headers, every time a series is loaded.  When a
loaded volume is dropped (evicted from the cache, case closed) its memory goes
back to a small idle pool and the next volume of similar size reuses it,
already resident.  Arrays are views of an anonymous ``mmap``; a finalizer on
the root array (which every view keeps alive) returns the mapping only when
no view of it is left, so recycled memory is never shared with a live array.
"""

from __future__ import annotations

import mmap
import threading
import weakref

import numpy as np

MIN_POOLED = 8 * 1024**2  # smaller arrays come from malloc's own free lists


class BufferPool:
    def __init__(self, max_idle_bytes: int = 512 * 1024**2) -> None:
        self.max_idle_bytes = max_idle_bytes
        self._idle: list[mmap.mmap] = []
        self._lock = threading.Lock()

    def empty(self, shape: tuple[int, ...], dtype: np.dtype | type) -> np.ndarray:
        """Like ``np.empty`` (contents undefined), from a recycled mapping when one fits."""
        dt = np.dtype(dtype)
        count = int(np.prod(shape))
        nbytes = count * dt.itemsize
        if nbytes < MIN_POOLED:
            return np.empty(shape, dt)
        mm = self._take(nbytes)
        if mm is None:
            mm = mmap.mmap(-1, nbytes)
        root = np.frombuffer(mm, dtype=np.uint8, count=nbytes)
        weakref.finalize(root, self._give_back, mm)
        return root.view(dt).reshape(shape)

    @property
    def idle_bytes(self) -> int:
        with self._lock:
            return sum(len(m) for m in self._idle)

    def release_idle(self) -> None:
        with self._lock:
            self._idle.clear()  # mappings unmap when their last export is gone

    def _take(self, nbytes: int) -> mmap.mmap | None:
        with self._lock:
            fits = [m for m in self._idle if nbytes <= len(m) <= 2 * nbytes]
            if not fits:
                return None
            best = min(fits, key=len)
            self._idle.remove(best)
            return best

    def _give_back(self, mm: mmap.mmap) -> None:
        with self._lock:
            self._idle.append(mm)
            while sum(len(m) for m in self._idle) > self.max_idle_bytes:
                self._idle.pop(0)  # oldest first; never close(): an export may still be unwinding


POOL = BufferPool()
