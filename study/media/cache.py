"""A small thread-safe LRU of loaded media, so the next case can be prefetched.

The reading screen asks for the current case and a worker thread asks for the
next one; both go through ``get``.  Two threads asking for the same path share
one load.  The cache is bounded both by item count and by the bytes of the
frames it holds; an item larger than the whole budget is returned but not
kept.  A file changed on disk since it was cached (mtime) is loaded again; for
a series folder that means files added, removed or renamed, not edited in place.
Errors are not cached: a fixed file loads on the next try.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

from study.media.types import Media, MediaError


@dataclass
class _Pending:
    done: threading.Event = field(default_factory=threading.Event)
    media: Media | None = None
    error: BaseException | None = None


def _key(path: str | os.PathLike[str]) -> str:
    return os.path.abspath(os.fspath(path))


def _stamp(key: str) -> int | None:
    try:
        return os.stat(key).st_mtime_ns
    except OSError:
        return None


class MediaCache:
    """LRU of ``Media`` keyed by absolute path, bounded by ``max_items`` and ``max_bytes``."""

    def __init__(
        self,
        max_bytes: int = 1024**3,
        max_items: int = 8,
        loader: Callable[[str], Media] | None = None,
    ) -> None:
        if max_items < 1 or max_bytes < 1:
            raise ValueError("MediaCache needs max_items >= 1 and max_bytes >= 1")
        self.max_bytes = max_bytes
        self.max_items = max_items
        if loader is None:
            from study.media import load as loader  # late: the package imports this module
        self._loader = loader
        self._lock = threading.Lock()
        self._items: OrderedDict[str, tuple[Media, int | None]] = OrderedDict()
        self._pending: dict[str, _Pending] = {}
        self._nbytes = 0

    def get(self, path: str | os.PathLike[str]) -> Media:
        """The media at ``path``, from the cache or loaded now (raises MediaError)."""
        key = _key(path)
        stamp = _stamp(key)
        with self._lock:
            hit = self._items.get(key)
            if hit is not None and hit[1] == stamp:
                self._items.move_to_end(key)
                return hit[0]
            if hit is not None:
                self._drop(key)
            pending = self._pending.get(key)
            owner = pending is None
            if owner:
                pending = self._pending[key] = _Pending()
        assert pending is not None
        if not owner:
            pending.done.wait()
            err = pending.error
            if isinstance(err, MediaError):
                raise MediaError(err.path, err.cause)  # a fresh instance: tracebacks are per thread
            if err is not None:
                raise err
            assert pending.media is not None
            return pending.media
        try:
            media = self._loader(key)
        except BaseException as exc:
            pending.error = exc
            raise
        else:
            pending.media = media
            self._store(key, media, stamp)
            return media
        finally:
            with self._lock:
                self._pending.pop(key, None)
            pending.done.set()

    def peek(self, path: str | os.PathLike[str]) -> Media | None:
        """The cached media without loading or reordering, or None."""
        with self._lock:
            hit = self._items.get(_key(path))
            return hit[0] if hit is not None else None

    def __contains__(self, path: object) -> bool:
        if not isinstance(path, (str, os.PathLike)):
            return False
        with self._lock:
            return _key(path) in self._items

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    @property
    def nbytes(self) -> int:
        with self._lock:
            return self._nbytes

    def discard(self, path: str | os.PathLike[str]) -> None:
        with self._lock:
            self._drop(_key(path))

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._nbytes = 0

    def _store(self, key: str, media: Media, stamp: int | None) -> None:
        size = int(media.frames.nbytes)
        if size > self.max_bytes:
            return
        with self._lock:
            self._drop(key)
            self._items[key] = (media, stamp)
            self._nbytes += size
            while len(self._items) > self.max_items or self._nbytes > self.max_bytes:
                oldest = next(iter(self._items))
                self._drop(oldest)

    def _drop(self, key: str) -> None:
        item = self._items.pop(key, None)
        if item is not None:
            self._nbytes -= int(item[0].frames.nbytes)
