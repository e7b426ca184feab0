"""Background loading of a case's media, so the switch after Enter is immediate.

While the reader looks at case n, case n+1 is read off the GUI thread with
``create_worker``; ``get`` then returns it at once.  Only a few cases are kept
(current, next, and the one just left) so a long session does not grow memory.
Errors are kept per role as the media layer's *cause* only: its message also
names the path, and a path can carry a case id.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, Signal

from app.workers import create_worker
from study.engine import CaseItem
from study.media.types import Media, MediaError


@dataclass(frozen=True)
class LoadedCase:
    media: dict[str, Media]
    errors: dict[str, str] = field(default_factory=dict)  # role -> cause (no path)


def default_loader() -> Callable[[str], Media]:
    """The media layer's cached loader (imported late: it pulls in pydicom and av)."""
    import study.media as media

    cache_cls = getattr(media, "MediaCache", None)
    if cache_cls is not None:
        cache = cache_cls()
        if hasattr(cache, "get"):
            return cache.get
    return media.load


def load_case(media_paths: Mapping[str, str], load: Callable[[str], Media]) -> LoadedCase:
    loaded: dict[str, Media] = {}
    errors: dict[str, str] = {}
    for role, path in media_paths.items():
        try:
            loaded[role] = load(path)
        except MediaError as err:
            errors[role] = err.cause
        except OSError as err:
            errors[role] = err.strerror or type(err).__name__
    return LoadedCase(loaded, errors)


def _load_keyed(case_id: str, media_paths: Mapping[str, str],
                load: Callable[[str], Media]) -> tuple[str, LoadedCase]:
    try:
        return case_id, load_case(media_paths, load)
    except Exception as err:  # noqa: BLE001 - a bug in a reader must not lose the case
        return case_id, LoadedCase({}, dict.fromkeys(media_paths, f"unexpected {type(err).__name__}"))


class MediaPrefetcher(QObject):
    """``request(item)`` loads in the background; ``loaded`` says which case is ready."""

    loaded = Signal(str)  # internal case id; never shown

    def __init__(self, load: Callable[[str], Media] | None = None, keep: int = 3,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._load = load
        self._keep = keep
        self._ready: OrderedDict[str, LoadedCase] = OrderedDict()
        self._pending: dict[str, object] = {}

    def _loader(self) -> Callable[[str], Media]:
        if self._load is None:
            self._load = default_loader()
        return self._load

    def get(self, item: CaseItem) -> LoadedCase | None:
        found = self._ready.get(item.case_id)
        if found is not None:
            self._ready.move_to_end(item.case_id)
        return found

    def is_pending(self, item: CaseItem) -> bool:
        return item.case_id in self._pending

    def request(self, item: CaseItem | None) -> None:
        if item is None or item.case_id in self._ready or item.case_id in self._pending:
            return
        worker = create_worker(_load_keyed, item.case_id, dict(item.media), self._loader())
        # A bound slot, not a lambda: Qt disconnects it if this object is deleted
        # (window closed) while the worker is still reading.
        worker.result_ready.connect(self.on_loaded)
        self._pending[item.case_id] = worker
        worker.start()

    def on_loaded(self, keyed: tuple[str, LoadedCase]) -> None:
        case_id, result = keyed
        if self._pending.pop(case_id, None) is None:
            return  # cleared meanwhile (another session): drop it
        self._ready[case_id] = result
        while len(self._ready) > self._keep:
            self._ready.popitem(last=False)
        self.loaded.emit(case_id)

    def clear(self) -> None:
        for worker in self._pending.values():
            worker.cancel()
        self._pending.clear()
        self._ready.clear()
