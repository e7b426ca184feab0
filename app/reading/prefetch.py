"""Background loading of a case's media, so the switch after Enter is immediate.

While the reader looks at case n, case n+1 is read off the GUI thread with
``create_worker``; ``get`` then returns it at once.  Only a few cases are kept
(current, next, and the one just left) so a long session does not grow memory.
Errors are kept per role as the media layer's *cause* only: its message also
names the path, and a path can carry a case id.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

import numpy as np
from PySide6.QtCore import QObject, Signal

from app.reading.triage_thumbs import CAM_OPACITY, THUMB, cam_lut, thumbnail, with_cam
from app.workers import Worker, create_worker
from study.aioutput import AIOutput, field_cam_key
from study.engine import CaseItem
from study.heat import heat_strength
from study.media.types import Media, MediaError
from study.specimen import field_paths

log = logging.getLogger(__name__)

WARM_CELLS = 40  # media cells looked at for a whole slide to warm up with


@dataclass(frozen=True)
class LoadedCase:
    media: dict[str, Media]
    errors: dict[str, str] = field(default_factory=dict)  # role -> cause (no path)
    ai: AIOutput | None = None  # what the session gave for this case (None in unaided reads)
    ai_fetched: bool = False
    # A specimen's gallery thumbnails, made off the GUI thread: field index -> (plain, with CAM or None),
    # (h, w, 3) uint8.  The CAM ones only when the session gave an AI output with field CAMs.
    thumbs: dict[int, tuple[np.ndarray, np.ndarray | None]] = field(default_factory=dict)


def default_loader() -> Callable[[str], Media]:
    """The media layer's cached loader (imported late: it pulls in pydicom and av)."""
    import study.media as media

    cache_cls = getattr(media, "MediaCache", None)
    if cache_cls is not None:
        cache = cache_cls()
        if hasattr(cache, "get"):
            return cache.get
    return media.load


def _warm_first_slide(cells: list[str]) -> str | None:
    """Worker: expand the cases' media cells into files (a specimen lists several) and warm the
    first whole-slide image among them (``study.media.wsi.warm_up``)."""
    from study.media.wsi import warm_up

    # A whole-slide study has slides in (nearly) every case: the first cells tell, and a large
    # DICOM study's folders are not all listed for nothing.
    return warm_up(p for cell in cells[:WARM_CELLS] for p in field_paths(cell))


def warm_slides(cells: list[str], on_done: Callable[[str | None], None] | None = None) -> Worker:
    """Start warming whole-slide reading in the background when a study opens: the first slide
    a reader opens then costs its decode only, not the imports (about 0.5 s cold).  ``cells``:
    every case's media cell; a study without slides only has a few names looked at.
    ``on_done`` gets the slide warmed (None: the study has none)."""
    worker = create_worker(_warm_first_slide, cells, _connect={"result_ready": on_done} if on_done else None)
    worker.start()
    return worker


def load_case(media_paths: Mapping[str, str], load: Callable[[str], Media]) -> LoadedCase:
    """Every role's media.  A specimen's role (several fields, ``study.specimen``) is
    loaded field by field: ``role#i`` is field i (stored order) and ``role`` field 0."""
    loaded: dict[str, Media] = {}
    errors: dict[str, str] = {}
    for role, path in media_paths.items():
        paths = field_paths(path)
        keys = [role] if len(paths) == 1 else [field_cam_key(role, i) for i in range(len(paths))]
        try:
            for key, field_path in zip(keys, paths):
                loaded[key] = load(field_path)
            if len(paths) > 1:
                loaded[role] = loaded[keys[0]]
        except MediaError as err:
            errors[role] = err.cause
        except OSError as err:
            errors[role] = err.strerror or type(err).__name__
    return LoadedCase(loaded, errors)


def field_count(loaded: LoadedCase, role: str) -> int:
    """How many fields a loaded specimen has in ``role`` (0: not a specimen)."""
    n = 0
    while field_cam_key(role, n) in loaded.media:
        n += 1
    return n


def _load_keyed(
    item: CaseItem, load: Callable[[str], Media], ai_source: Callable[[CaseItem], AIOutput | None] | None
) -> tuple[str, LoadedCase]:
    try:
        loaded = load_case(item.media, load)
    except Exception as err:  # noqa: BLE001 - a bug in a reader must not lose the case
        loaded = LoadedCase({}, dict.fromkeys(item.media, f"unexpected {type(err).__name__}"))
    if ai_source is not None:
        # The AI output (with its CAMs) comes out of the store here too, off the GUI thread.
        try:
            loaded = LoadedCase(loaded.media, loaded.errors, ai_source(item), ai_fetched=True)
        except Exception:  # noqa: BLE001 - left to the GUI thread, which reports it
            log.warning("AI output of a case could not be prefetched", exc_info=True)
    if not loaded.errors:
        loaded = replace(loaded, thumbs=specimen_thumbs(loaded))
    return item_key(item), loaded


def specimen_thumbs(loaded: LoadedCase) -> dict[int, tuple[np.ndarray, np.ndarray | None]]:
    """Gallery thumbnails of the first role that is a specimen ({} for none); see LoadedCase."""
    for role in list(loaded.media):
        n = field_count(loaded, role)
        if n < 2:
            continue
        ai = loaded.ai if loaded.ai_fetched else None
        out = {}
        for i in range(n):
            media = loaded.media[field_cam_key(role, i)]
            plain = thumbnail(media.frames[0], THUMB, media.window)
            cam = ai.field_cam(role, i) if ai is not None else None
            # each field's heat as strong as the AI scores that field (study.heat), as full size
            strength = heat_strength(ai, i).strength if cam is not None else 1.0
            out[i] = (plain, with_cam(plain, cam, cam_lut(), CAM_OPACITY * strength) if cam is not None else None)
        return out
    return {}


def item_key(item: CaseItem) -> str:
    """Cache key: a case read aided and later unaided (crossover) must not share an entry."""
    return f"{item.mode}/{item.case_id}"


class MediaPrefetcher(QObject):
    """``request(item)`` loads in the background; ``loaded`` says which case is ready."""

    loaded = Signal(str)  # item_key of the case now ready; internal, never shown

    def __init__(
        self, load: Callable[[str], Media] | None = None, keep: int = 3, parent: QObject | None = None
    ) -> None:
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
        key = item_key(item)
        found = self._ready.get(key)
        if found is not None:
            self._ready.move_to_end(key)
        return found

    def is_pending(self, item: CaseItem) -> bool:
        return item_key(item) in self._pending

    def request(self, item: CaseItem | None, ai_source: Callable[[CaseItem], AIOutput | None] | None = None) -> None:
        """Load ``item``'s media (and, with ``ai_source``, what it returns for the item)."""
        if item is None or item_key(item) in self._ready or item_key(item) in self._pending:
            return
        worker = create_worker(_load_keyed, item, self._loader(), ai_source)
        # A bound slot, not a lambda: Qt disconnects it if this object is deleted
        # (window closed) while the worker is still reading.
        worker.result_ready.connect(self.on_loaded)
        self._pending[item_key(item)] = worker
        worker.start()

    def on_loaded(self, keyed: tuple[str, LoadedCase]) -> None:
        key, result = keyed
        if self._pending.pop(key, None) is None:
            return  # cleared meanwhile (another session): drop it
        self._ready[key] = result
        while len(self._ready) > self._keep:
            self._ready.popitem(last=False)
        self.loaded.emit(key)

    def clear(self) -> None:
        for worker in self._pending.values():
            worker.cancel()
        self._pending.clear()
        self._ready.clear()
