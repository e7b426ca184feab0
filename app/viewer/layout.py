"""HangingLayoutWidget: 1-4 viewports by role, slices kept in step.

Sync modes (the protocol's ``[hanging] sync``): "position" syncs by position
along the slice normal when two series share a frame of reference and both
carry positions, else by fraction of the stack; "fraction" always by
fraction; "none" not at all.  Series in different planes (axial vs sagittal,
known when both carry a ``slice_normal``) scroll independently, as in OHIF and
Weasis: each shows reference lines where the other viewports' current slices
cut it (``app.viewer.geometry``).  The "Link slices" button (key L) unlinks and
relinks the parallel series.  Videos are never synchronized.  The optional
linked cursor marks the same relative point in the other viewports.
Double-click (or M) maximises a viewport and restores the layout.

Viewports are created once and reused: ``set_case`` swaps the media of the
existing items, so switching to a prefetched case does not rebuild widgets.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from app.viewer.geometry import PARALLEL, reference_line, slice_plane
from app.viewer.items import REFERENCE_COLORS
from app.viewer.viewport import ViewportWidget
from app.viewer.wsi_view import WsiViewerWidget
from study.media.types import Media
from study.wsi_scores import SCOREMAP, from_cams

MAX_VIEWPORTS = 4


SYNC_MODES = ("position", "fraction", "none")


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
    if not (
        a.frame_of_reference
        and a.frame_of_reference == b.frame_of_reference
        and a.slice_positions
        and b.slice_positions
    ):
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


def follows(a: Media | None, b: Media | None) -> bool:
    """Whether scrolling ``a`` may move ``b``: both stacks, and not in different planes.

    Without a slice normal on either side the planes are not known and the
    series are treated as parallel (synchronized by fraction).
    """
    if not (_syncable(a) and _syncable(b)):
        return False
    assert a is not None and b is not None
    if a.slice_normal is None or b.slice_normal is None:
        return True
    na, nb = a.slice_normal, b.slice_normal
    dot = sum(p * q for p, q in zip(na, nb, strict=True))
    norms = math.sqrt(sum(p * p for p in na) * sum(q * q for q in nb)) or 1.0
    return abs(dot) / norms >= PARALLEL


def reference_lines(media: list[Media | None], indices: list[int]) -> list[list[tuple]]:
    """Per viewport, the reference lines ((u0, v0), (u1, v1), source k) of the others' current slices.

    Only series sharing a frame of reference and carrying their geometry get
    lines; parallel planes get none (they are synchronized instead).
    """
    planes = [
        slice_plane(m, i) if m is not None and m.frame_of_reference else None
        for m, i in zip(media, indices, strict=True)
    ]
    out: list[list[tuple]] = []
    for k, (mk, pk) in enumerate(zip(media, planes, strict=True)):
        lines = []
        for j, (mj, pj) in enumerate(zip(media, planes, strict=True)):
            if j == k or pk is None or pj is None or mk.frame_of_reference != mj.frame_of_reference:
                continue
            seg = reference_line(pk, pj)
            if seg is not None:
                lines.append((*seg, j))
        out.append(lines)
    return out


class HangingLayoutWidget(QWidget):
    """Viewports side by side (1-3) or 2x2 (4), one per role."""

    slice_changed = Signal(str, int)  # role, index
    overlay_toggled = Signal(bool)

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        sync: bool | str = True,
        linked_cursor: bool = False,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``sync``: a mode of SYNC_MODES, or True (= "position") / False (= "none")."""
        super().__init__(parent)
        self._clock = clock
        self._viewports: list[ViewportWidget] = []
        self._roles: list[str] = []
        self._maximised: ViewportWidget | None = None
        # Viewport index -> the whole-slide viewer shown in its place (media of kind "wsi").
        self._slide_viewers: dict[int, WsiViewerWidget] = {}
        self._slide_at: set[int] = set()
        self.link_button = QCheckBox("Link parallel series (L)")
        self.link_button.setChecked(True)
        self.link_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys stay with the answer form
        self.link_button.setToolTip(
            "scroll parallel series together (L); "
            "series in other planes always scroll on their own and show reference lines"
        )
        self.settings_label = QLabel()  # a bad viewer.toml, in one line
        self.settings_label.setStyleSheet("color: #e0a040")
        self.settings_label.setVisible(False)
        self.bar = QWidget()
        bar = QHBoxLayout(self.bar)
        bar.setContentsMargins(2, 0, 2, 0)
        bar.addWidget(self.link_button)
        bar.addWidget(self.settings_label, 1)
        bar.addStretch(0)
        grid_holder = QWidget()
        self._grid = QGridLayout(grid_holder)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setSpacing(2)
        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(2)
        box.addWidget(self.bar)
        box.addWidget(grid_holder, 1)
        self.sync_mode = sync
        self.linked_cursor = linked_cursor
        self._syncing = False
        self._overlay_syncing = False
        self.link_button.toggled.connect(self.on_link_toggled)
        self._refresh_bar()

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
        self.link_button.setChecked(mode != "none")
        self._refresh_bar()

    @property
    def sync_enabled(self) -> bool:
        """Parallel series scroll together: the protocol syncs and the reader has not unlinked them."""
        return self._sync_mode != "none" and self.link_button.isChecked()

    @property
    def maximised_role(self) -> str | None:
        return None if self._maximised is None else self._roles[self._viewports.index(self._maximised)]

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

    def key_features(self) -> frozenset[str]:
        """What the viewer keys can act on in the case shown (``app.viewer.keys.ACTION_NEEDS``)."""
        vps = [vp for vp in self.viewports() if vp.media is not None]
        features = set()
        if any(vp.media.n_frames > 1 for vp in vps):
            features.add("frames")
        if any(not vp.media.is_color for vp in vps):
            features.add("window")
        if any(vp.overlay.maps is not None for vp in vps):
            features.add("overlay")
        if any(vp.outline.has_masks for vp in vps):
            features.add("mask")
        if self.link_button.isVisibleTo(self):
            features.add("link")
        if len(self._roles) >= 2:
            features.add("views")
        return frozenset(features)

    def slide_viewer(self, role: str) -> WsiViewerWidget | None:
        """The whole-slide viewer showing ``role``, or None when its media is not a whole-slide image."""
        k = self._roles.index(role)
        return self._slide_viewers[k] if k in self._slide_at else None

    # -- content ----------------------------------------------------------
    def set_case(
        self,
        media_by_role: Mapping[str, Media | None] | Iterable[tuple[str, Media | None]],
        overlays_by_role: Mapping[str, np.ndarray] | None = None,
        masks_by_role: Mapping[str, np.ndarray] | None = None,
        start_by_role: Mapping[str, int] | None = None,
    ) -> None:
        """Show one case: media per role (in display order), optional CAMs and masks per role.

        Each series opens at ``start_by_role[role]`` (a key slice) if given, else
        at the slice matching an earlier parallel series, else at its middle.

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
        if roles != self._roles or self._maximised is not None:
            self._roles = roles
            self._maximised = None
            self._arrange()
        slide_at = {k for k, (_, media) in enumerate(items) if media is not None and media.kind == "wsi"}
        rearrange = slide_at != self._slide_at
        self._slide_at = slide_at
        if rearrange and self._maximised is None:
            self._arrange()
        for k, (vp, (role, media)) in enumerate(zip(self._viewports, items)):
            if k in slide_at:  # a whole-slide image: its pyramid viewer instead of the image viewport
                vp.set_media(None)
                self._show_slide(k, media, overlays_by_role, role)
                continue
            if k in self._slide_viewers:
                self._slide_viewers[k].clear()
            # A series parallel to an earlier one opens at its matching slice, the rest at their middle.
            lead = next((v for v in self._viewports[:k] if self.sync_enabled and follows(v.media, media)), None)
            start = None if lead is None else synced_index(lead.media, lead.current_index, media, self._sync_mode)
            start = (start_by_role or {}).get(role, start)
            vp.set_media(media, overlays_by_role.get(role), masks_by_role.get(role), title=role, start=start)
        for vp in self._viewports[len(items) :]:
            vp.set_media(None)
        self._refresh_bar()
        self._update_reference_lines()

    def clear(self) -> None:
        for vp in self._viewports:
            vp.set_media(None)
        for viewer in self._slide_viewers.values():
            viewer.clear()

    def set_linked(self, on: bool) -> None:
        self.link_button.setChecked(on)

    def toggle_maximised(self, role: str) -> None:
        """Show only ``role``'s viewport, or the whole layout again if it is the maximised one."""
        vp = self.viewport(role)
        self._maximised = None if self._maximised is vp or len(self._roles) < 2 else vp
        self._arrange()

    # -- overlays, for the AI panel ---------------------------------------
    def set_overlays_visible(self, on: bool) -> None:
        """CAMs on or off in every viewport; ``overlay_toggled`` once if anything changed."""
        changed = self._set_overlays(on)
        for k in self._slide_at:
            viewer = self._slide_viewers[k]
            if viewer.scores is not None and viewer.heatmap_box.isChecked() != bool(on):
                viewer.set_heatmap_visible(on)
                changed = True
        if changed:
            self.overlay_toggled.emit(bool(on))

    def set_overlay_opacity(self, opacity: float) -> None:
        for vp in self.viewports():
            vp.overlay.set_opacity(opacity)
        for k in self._slide_at:
            self._slide_viewers[k].opacity_slider.setValue(round(opacity * 100))

    def set_overlay_strength(self, strength: float) -> None:
        """Scale the CAMs' drawn opacity by ``strength`` (``study.heat``); a whole slide's score map
        is each tile's own score and is not scaled."""
        for vp in self.viewports():
            vp.overlay.set_strength(strength)

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
        if self._syncing:
            return
        if self.sync_enabled and _syncable(source.media):
            self._syncing = True  # the followers' own slice_changed must not echo back
            try:
                for vp in self.viewports():
                    if vp is not source and follows(source.media, vp.media):
                        vp.set_slice(synced_index(source.media, index, vp.media, self._sync_mode))
            finally:
                self._syncing = False
        self._update_reference_lines()

    def on_link_toggled(self, on: bool) -> None:
        if on:  # relinking brings the parallel series back in step with the first of them
            for vp in self.viewports():
                if _syncable(vp.media):
                    self.on_viewport_slice_changed(vp, vp.current_index)
                    break

    def on_viewport_maximise_requested(self, source: ViewportWidget) -> None:
        if source in self.viewports():
            self.toggle_maximised(self._roles[self._viewports.index(source)])

    def on_viewport_link_toggle_requested(self) -> None:
        if self._sync_mode != "none":  # a protocol without sync has nothing to link
            self.link_button.toggle()

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
    def _show_slide(self, k: int, media: Media, overlays: Mapping[str, np.ndarray], role: str) -> None:
        """Viewport ``k`` shows a whole slide, with the AI's score map when ``overlays`` carries one for ``role``."""
        viewer = self._slide_viewers.get(k)
        if viewer is None:
            viewer = self._slide_viewers[k] = WsiViewerWidget(self)
            viewer.heatmap_toggled.connect(self.overlay_toggled)
            self._arrange()
        viewer.set_slide(media.source, thumbnail=np.asarray(media.frames[0]))
        if role + SCOREMAP in overlays:
            viewer.set_scores(from_cams(role, dict(overlays), viewer.slide.info.dimensions))

    def _cell(self, i: int) -> QWidget:
        return self._slide_viewers[i] if i in self._slide_at and i in self._slide_viewers else self._viewports[i]

    def _update_reference_lines(self) -> None:
        vps = self.viewports()
        lines = reference_lines([vp.media for vp in vps], [vp.current_index for vp in vps])
        sources = {k for own in lines for *_, k in own}
        for k, (vp, own) in enumerate(zip(vps, lines, strict=True)):
            vp.set_reference_lines(own)
            vp.label.set_accent(REFERENCE_COLORS[k % len(REFERENCE_COLORS)] if k in sources else None)

    def _refresh_bar(self) -> None:
        """The link button when two or more parallel stacks could scroll together; a bad-settings line."""
        vps = self.viewports()
        pairs = any(follows(a.media, b.media) for i, a in enumerate(vps) for b in vps[i + 1 :])
        link = pairs and self._sync_mode != "none"
        self.link_button.setVisible(link)
        problem = next((vp.settings_problem for vp in self._viewports if vp.settings_problem), "")
        self.settings_label.setText(problem)
        self.settings_label.setVisible(bool(problem))
        self.bar.setVisible(link or bool(problem))

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
            vp.maximise_requested.connect(lambda vp=vp: self.on_viewport_maximise_requested(vp))
            vp.link_toggle_requested.connect(self.on_viewport_link_toggle_requested)
            self._viewports.append(vp)

    def _arrange(self) -> None:
        n = len(self._roles)
        for w in [*self._viewports, *self._slide_viewers.values()]:
            self._grid.removeWidget(w)
            w.hide()
        if self._maximised is not None:
            cell = self._cell(self._viewports.index(self._maximised))
            self._grid.addWidget(cell, 0, 0)
            cell.show()
            for c in range(self._grid.columnCount()):
                self._grid.setColumnStretch(c, 1 if c == 0 else 0)
            return
        for i in range(min(n, len(self._viewports))):
            cell = self._cell(i)
            row, col = divmod(i, 2) if n == 4 else (0, i)
            self._grid.addWidget(cell, row, col)
            cell.show()
        for c in range(self._grid.columnCount()):
            self._grid.setColumnStretch(c, 1 if c < (2 if n == 4 else n) else 0)
