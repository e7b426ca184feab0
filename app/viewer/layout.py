"""HangingLayoutWidget: 1-4 viewports by role, slices kept in step.

Sync modes (the protocol's ``[hanging] sync``): "position" syncs by position
along the slice normal when two series share a frame of reference and both
carry positions, else by fraction of the stack; "fraction" always by
fraction; "none" not at all.  Series in different planes (axial vs sagittal,
known when the media carries a ``slice_normal``) are never matched by
position: their positions lie on different axes.  Videos are never
synchronized.  The optional linked cursor marks the same relative point in
the other viewports.

Viewports are created once and reused: ``set_case`` swaps the media of the
existing items, so switching to a prefetched case does not rebuild widgets.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping

import numpy as np
from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGridLayout, QWidget

from app.viewer.viewport import ViewportWidget
from study.media.types import Media

MAX_VIEWPORTS = 4


SYNC_MODES = ("position", "fraction", "none")
PARALLEL = 0.95  # |cos| between slice normals above which two series are one stack direction


def synced_index(source: Media, index: int, target: Media, mode: str = "position") -> int:
    """The target frame matching ``source`` frame ``index``."""
    sign = _position_sign(source, target) if mode == "position" else None
    if sign is not None:
        positions = sign * np.asarray(target.slice_positions)
        return int(np.argmin(np.abs(positions - source.slice_positions[index])))
    if source.n_frames <= 1 or target.n_frames <= 1:
        return 0
    return round(index * (target.n_frames - 1) / (source.n_frames - 1))


def _position_sign(a: Media, b: Media) -> int | None:
    """+1/-1 when a's and b's slice positions are on one axis (b's possibly reversed), else None."""
    if not (a.frame_of_reference and a.frame_of_reference == b.frame_of_reference
            and a.slice_positions and b.slice_positions):
        return None
    # slice_normal is optional on Media: without it a shared frame of reference is trusted.
    na, nb = getattr(a, "slice_normal", None), getattr(b, "slice_normal", None)
    if na is None or nb is None:
        return 1
    cos = float(np.dot(na, nb) / (np.linalg.norm(na) * np.linalg.norm(nb) or 1.0))
    if abs(cos) < PARALLEL:
        return None
    return 1 if cos > 0 else -1


def _syncable(media: Media | None) -> bool:
    return media is not None and media.n_frames > 1 and media.kind != "video"


class HangingLayoutWidget(QWidget):
    """Viewports side by side (1-3) or 2x2 (4), one per role."""

    slice_changed = Signal(str, int)  # role, index
    overlay_toggled = Signal(bool)

    def __init__(self, parent: QWidget | None = None, *, sync: bool | str = True, linked_cursor: bool = False,
                 clock: Callable[[], float] = time.monotonic) -> None:
        """``sync``: a mode of SYNC_MODES, or True (= "position") / False (= "none")."""
        super().__init__(parent)
        self._clock = clock
        self._viewports: list[ViewportWidget] = []
        self._roles: list[str] = []
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setSpacing(2)
        self.sync_mode = sync
        self.linked_cursor = linked_cursor
        self._syncing = False
        self._overlay_syncing = False

    # -- access -----------------------------------------------------------
    @property
    def sync_mode(self) -> str:
        return self._sync_mode

    @sync_mode.setter
    def sync_mode(self, mode: bool | str) -> None:
        if isinstance(mode, bool):
            mode = "position" if mode else "none"
        if mode not in SYNC_MODES:
            raise ValueError(f"sync must be one of {', '.join(SYNC_MODES)}, got {mode!r}")
        self._sync_mode = mode

    @property
    def sync_enabled(self) -> bool:
        return self._sync_mode != "none"

    @sync_enabled.setter
    def sync_enabled(self, on: bool) -> None:
        self.sync_mode = bool(on)

    @property
    def roles(self) -> list[str]:
        return list(self._roles)

    def viewport(self, role: str) -> ViewportWidget:
        return self._viewports[self._roles.index(role)]

    def viewports(self) -> list[ViewportWidget]:
        return self._viewports[: len(self._roles)]

    # -- content ----------------------------------------------------------
    def set_case(self, media_by_role: Mapping[str, Media | None] | Iterable[tuple[str, Media | None]],
                 overlays_by_role: Mapping[str, np.ndarray] | None = None,
                 masks_by_role: Mapping[str, np.ndarray] | None = None) -> None:
        """Show one case: media per role (in display order), optional CAMs and masks per role.

        A role whose media is None (unreadable, missing) gets an empty viewport
        saying "not available"; the other roles work as usual.
        """
        items = list(media_by_role.items() if isinstance(media_by_role, Mapping) else media_by_role)
        if not 1 <= len(items) <= MAX_VIEWPORTS:
            raise ValueError(f"a hanging layout shows 1 to {MAX_VIEWPORTS} viewports, got {len(items)}")
        overlays_by_role = overlays_by_role or {}
        masks_by_role = masks_by_role or {}
        roles = [role for role, _ in items]
        self._ensure_viewports(len(items))
        if roles != self._roles:
            self._roles = roles
            self._arrange()
        for vp, (role, media) in zip(self._viewports, items):
            vp.set_media(media, overlays_by_role.get(role), masks_by_role.get(role), title=role)
        for vp in self._viewports[len(items):]:
            vp.set_media(None)

    def clear(self) -> None:
        for vp in self._viewports:
            vp.set_media(None)

    # -- overlays, for the AI panel ---------------------------------------
    def set_overlays_visible(self, on: bool) -> None:
        """CAMs on or off in every viewport; ``overlay_toggled`` once if anything changed."""
        changed = self._set_overlays(on)
        if changed:
            self.overlay_toggled.emit(bool(on))

    def set_overlay_opacity(self, opacity: float) -> None:
        for vp in self.viewports():
            vp.overlay.set_opacity(opacity)

    def set_overlay_threshold(self, threshold: float) -> None:
        for vp in self.viewports():
            vp.overlay.set_threshold(threshold)

    def set_overlay_colormap(self, name: str) -> None:
        for vp in self.viewports():
            vp.overlay.set_colormap(name)

    # -- slots ------------------------------------------------------------
    def on_viewport_slice_changed(self, source: ViewportWidget, index: int) -> None:
        if source not in self.viewports():
            return
        self.slice_changed.emit(self._roles[self._viewports.index(source)], index)
        if self._syncing or not self.sync_enabled or not _syncable(source.media):
            return
        self._syncing = True  # the followers' own slice_changed must not echo back
        try:
            for vp in self.viewports():
                if vp is not source and _syncable(vp.media):
                    vp.set_slice(synced_index(source.media, index, vp.media, self._sync_mode))
        finally:
            self._syncing = False

    def on_viewport_overlay_toggled(self, on: bool) -> None:
        # `c` in one viewport switches the CAM in all of them, announced once.
        if self._overlay_syncing:
            return
        self._set_overlays(on)  # the source viewport already is `on`
        self.overlay_toggled.emit(on)

    def on_viewport_cursor_moved(self, source: ViewportWidget, fx: float, fy: float) -> None:
        if not self.linked_cursor:
            return
        for vp in self.viewports():
            if vp is not source:
                vp.show_cursor(fx, fy)

    # -- internals --------------------------------------------------------
    def _set_overlays(self, on: bool) -> bool:
        self._overlay_syncing = True  # the followers' overlay_toggled must not echo back
        changed = False
        try:
            for vp in self.viewports():
                if vp.overlay.enabled != bool(on):
                    vp.overlay.set_enabled(on)
                    changed = True
        finally:
            self._overlay_syncing = False
        return changed

    def _ensure_viewports(self, n: int) -> None:
        while len(self._viewports) < n:
            vp = ViewportWidget(self, clock=self._clock)
            vp.slice_changed.connect(lambda i, vp=vp: self.on_viewport_slice_changed(vp, i))
            vp.overlay_toggled.connect(self.on_viewport_overlay_toggled)
            vp.cursor_moved.connect(lambda fx, fy, vp=vp: self.on_viewport_cursor_moved(vp, fx, fy))
            self._viewports.append(vp)

    def _arrange(self) -> None:
        n = len(self._roles)
        for vp in self._viewports:
            self._grid.removeWidget(vp)
            vp.hide()
        for i, vp in enumerate(self._viewports[:n]):
            row, col = divmod(i, 2) if n == 4 else (0, i)
            self._grid.addWidget(vp, row, col)
            vp.show()
        for c in range(self._grid.columnCount()):
            self._grid.setColumnStretch(c, 1 if c < (2 if n == 4 else n) else 0)
