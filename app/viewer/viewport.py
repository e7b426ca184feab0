"""ViewportWidget: one Media on screen, the way a reader handles it.

Image: a pyqtgraph ImageItem in a ViewBox with the aspect locked in millimetres
(pixel spacing), no axes or histogram.  A slice change windows one frame to
uint8 and hands it to the ImageItem with fixed levels, so pyqtgraph never
rescans the data (no autoLevels).

Mouse (Weasis, OHIF and Slicer; configurable in ``viewer.toml``, see
``app.viewer.settings``): wheel = slice, ctrl+wheel or pinch = zoom, left drag =
window (horizontal: width, vertical: level), right drag = zoom, middle drag =
pan, double-click = maximise in a layout.  Keys: ``app.viewer.keys`` (never an
answer key: no digits, arrows, Enter or Space).

A volume opens at its middle slice; a video or cine clip at its first frame.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QPointF, QRect, QRectF, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QSlider,
    QStyle,
    QStyleOptionComboBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.viewer.cine import DEFAULT_FPS, CinePlayer
from app.viewer.items import CornerLabel, CursorMark, FrameItem, ReferenceLines
from app.viewer.keys import KEY_ACTIONS
from app.viewer.overlay import MASK_STYLES, CamOverlay, MaskFill, MaskOutline
from app.viewer.settings import ViewerSettings, current_settings
from app.viewer.viewbox import ViewportGraphicsView
from app.viewer.windowing import (
    MIN_WIDTH,
    VolumeStats,
    Windower,
    default_window,
    presets,
    volume_stats,
)
from study.media.types import Media

WL_PIXELS_PER_RANGE = 400  # dragging this many pixels sweeps the data's 1-99% range
CUSTOM = "custom"  # the preset box after a manual window change
FPS_RANGE = (0.5, 120.0)
FPS_STEP = 1.25  # [ and ] change the cine speed by this factor


def opening_index(media: Media) -> int:
    """The frame a media opens at: the middle slice of a volume, the first frame of a video or cine clip."""
    if media.kind == "video" or media.fps:
        return 0
    return media.n_frames // 2


class ViewportWidget(QWidget):
    """Shows one Media with its overlays; see the module docstring for the bindings."""

    slice_changed = Signal(int)
    window_changed = Signal(float, float)  # center, width
    overlay_toggled = Signal(bool)
    mask_toggled = Signal(bool)  # A: the mask overlay shown / hidden
    cine_toggled = Signal(bool)
    cursor_moved = Signal(float, float)  # fraction of image width, height; NaN when off the image
    maximise_requested = Signal()  # double-click or M: the layout maximises / restores this viewport
    link_toggle_requested = Signal()  # L: the layout links / unlinks slice scrolling

    def __init__(
        self,
        parent: QWidget | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        controls: bool = True,
        settings: ViewerSettings | None = None,
    ) -> None:
        """``settings``: mouse buttons; None reads the user's ``viewer.toml`` (see ``settings_problem``)."""
        super().__init__(parent)
        if settings is None:
            settings, self.settings_problem = current_settings()
        else:
            self.settings_problem = ""
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._media: Media | None = None
        self._index = 0
        self._stats: VolumeStats | None = None
        self._windower: Windower | None = None
        self._per_frame_window = False  # follow Media.frame_windows as the slice changes
        self._extent = QRectF(0, 0, 1, 1)
        self._title = ""

        self.graphics = ViewportGraphicsView(self, settings.mouse)
        self.view_box = self.graphics.view_box
        self.image_item = FrameItem()
        self.view_box.addItem(self.image_item)
        self.overlay = CamOverlay()
        self.view_box.addItem(self.overlay, ignoreBounds=True)
        self.outline = MaskOutline()
        self.view_box.addItem(self.outline, ignoreBounds=True)
        self.mask_fill = MaskFill()  # the same mask filled; ``set_mask_style`` picks outline / fill
        self.view_box.addItem(self.mask_fill, ignoreBounds=True)
        self._mask_style = "outline"
        self._mask_on = True
        self.cursor_mark = CursorMark()
        self.view_box.addItem(self.cursor_mark, ignoreBounds=True)
        self.reference = ReferenceLines()
        self.view_box.addItem(self.reference, ignoreBounds=True)
        self.label = CornerLabel(self.view_box)

        self.cine = CinePlayer(self, clock=clock)
        self.cine.frame_due.connect(self.set_slice)
        self.cine.playing_changed.connect(self.on_cine_playing_changed)

        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.play_button = QToolButton()
        self.play_button.setText("▶")
        self.play_button.setToolTip("play / pause (space)")
        self.fps_box = QDoubleSpinBox()
        self.fps_box.setRange(*FPS_RANGE)
        self.fps_box.setDecimals(1)
        self.fps_box.setSuffix(" fps")
        self.fps_box.setToolTip("cine speed in frames per second ([ slower, ] faster); opens at the file's rate")
        self.preset_box = QComboBox()
        self.preset_box.setToolTip("window preset (w)")
        # The box grows with its longest name ("auto (1-99%)", CT presets) instead of eliding it.
        self.preset_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        for w in (self.slider, self.play_button, self.fps_box, self.preset_box):
            w.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys stay with the viewport
        self.controls = QWidget()
        row = QHBoxLayout(self.controls)
        row.setContentsMargins(2, 0, 2, 0)
        row.addWidget(self.play_button)
        row.addWidget(self.fps_box)
        row.addWidget(self.slider, 1)
        row.addWidget(self.preset_box, 0, Qt.AlignmentFlag.AlignRight)  # compact when alone
        self.controls.setVisible(controls)
        self._controls_wanted = controls

        box = QVBoxLayout(self)
        box.setContentsMargins(0, 0, 0, 0)
        box.setSpacing(0)
        box.addWidget(self.graphics, 1)
        box.addWidget(self.controls)

        self.view_box.slice_scrolled.connect(self.on_slice_scrolled)
        self.view_box.window_dragged.connect(self.on_window_dragged)
        self.view_box.double_clicked.connect(self.maximise_requested)
        self.fps_box.valueChanged.connect(self.on_fps_changed)
        self.graphics.scene().sigMouseMoved.connect(self.on_mouse_moved)
        self.slider.valueChanged.connect(self.on_slider_moved)
        self.play_button.clicked.connect(self.toggle_play)
        self.preset_box.activated.connect(self.on_preset_chosen)
        self.overlay.overlay_toggled.connect(self.overlay_toggled)

    # -- read-only state --------------------------------------------------
    @property
    def media(self) -> Media | None:
        return self._media

    @property
    def current_index(self) -> int:
        return self._index

    @property
    def n_frames(self) -> int:
        return self._media.n_frames if self._media is not None else 0

    @property
    def window(self) -> tuple[float, float] | None:
        w = self._windower
        return None if w is None else (w.center, w.width)

    @property
    def image_extent(self) -> QRectF:
        """The image's rectangle in view coordinates (millimetres)."""
        return QRectF(self._extent)

    def corner_text(self) -> str:
        return self.label.text()

    # -- content ----------------------------------------------------------
    def set_media(
        self,
        media: Media | None,
        overlay: np.ndarray | None = None,
        mask: np.ndarray | None = None,
        *,
        title: str = "",
        start: int | None = None,
    ) -> None:
        """Show ``media`` at frame ``start`` (default: ``opening_index``), default window and full view.

        Cheap enough for a case switch: only the first frame is windowed, and
        intensity statistics are computed lazily (when a preset or a W/L drag
        needs them) unless the media has no default window.
        """
        self.cine.stop()
        self._media = media
        self._title = title
        self._index = 0
        self._stats = None
        if media is None:
            # An empty viewport; with a title it says the role's media is unavailable.
            self._windower = None
            self.image_item.clear()
            self.overlay.set_maps(None, 1)
            self.outline.set_masks(None, 1)
            self.mask_fill.set_masks(None, 1)
            self.cursor_mark.setVisible(False)
            self.reference.set_lines([])
            self.label.set_text(f"{title}\nnot available" if title else "")
            self.controls.setVisible(False)
            return
        h, w = media.frames.shape[1:3]
        row_mm, col_mm = media.spacing
        self._extent = QRectF(0, 0, w * col_mm, h * row_mm)
        window = self._default_window()
        self._windower = Windower(*window) if window is not None else None
        # An enhanced multi-frame object may give each frame its own window (Frame VOI LUT):
        # honoured frame by frame until the reader chooses a window of their own.
        self._per_frame_window = media.frame_windows is not None and not media.is_color
        self.overlay.set_maps(overlay, media.n_frames)
        self.overlay.set_extent(self._extent)
        self.outline.set_masks(mask, media.n_frames)
        self.outline.set_extent(self._extent)
        self.mask_fill.set_masks(mask, media.n_frames)
        self.mask_fill.set_extent(self._extent)
        self._apply_mask_style()
        self.reference.set_lines([])
        start = opening_index(media) if start is None else int(np.clip(start, 0, media.n_frames - 1))
        self._show_frame(start, reshape=True)
        self.view_box.setRange(self._extent, padding=0.0)
        self._update_controls()

    def set_overlay(self, maps: np.ndarray | None) -> None:
        self.overlay.set_maps(maps, self.n_frames)
        self.overlay.set_extent(self._extent)
        self.overlay.set_frame(self._index)

    def set_mask(self, masks: np.ndarray | None) -> None:
        """A mask over the image, (N, h, w) or (h, w), bool or probabilities (cut at 0.5); None removes it."""
        self.outline.set_masks(masks, self.n_frames)
        self.outline.set_extent(self._extent)
        self.outline.set_frame(self._index)
        self.mask_fill.set_masks(masks, self.n_frames)
        self.mask_fill.set_extent(self._extent)
        self.mask_fill.set_frame(self._index)
        self._apply_mask_style()

    @property
    def mask_style(self) -> str:
        return self._mask_style

    @property
    def mask_visible(self) -> bool:
        return self._mask_on

    def set_mask_style(
        self, style: str | None = None, *, color: str | None = None, opacity: float | None = None
    ) -> None:
        """How the mask is drawn: style "outline" | "fill" | "both", its colour and (fill) opacity."""
        if style is not None:
            if style not in MASK_STYLES:
                raise ValueError(f"mask style {style!r} is not one of {', '.join(MASK_STYLES)}")
            self._mask_style = style
        if color is not None:
            self.outline.set_color(color)
            self.mask_fill.set_color(color)
        if opacity is not None:
            self.mask_fill.set_opacity(opacity)
        self._apply_mask_style()

    def cycle_mask_style(self) -> None:
        """O: outline, fill, both, outline, ..."""
        self.set_mask_style(MASK_STYLES[(MASK_STYLES.index(self._mask_style) + 1) % len(MASK_STYLES)])

    def set_mask_visible(self, on: bool) -> None:
        if bool(on) != self._mask_on:
            self._mask_on = bool(on)
            self._apply_mask_style()
            self.mask_toggled.emit(self._mask_on)

    def toggle_mask(self) -> None:
        self.set_mask_visible(not self._mask_on)

    def _apply_mask_style(self) -> None:
        self.outline.set_enabled(self._mask_on and self._mask_style in ("outline", "both"))
        self.mask_fill.set_enabled(self._mask_on and self._mask_style in ("fill", "both"))

    def set_overlay_visible(self, on: bool) -> None:
        self.overlay.set_enabled(on)

    def set_reference_lines(self, lines: list[tuple[tuple[float, float], tuple[float, float], int]]) -> None:
        """Segments (view mm) where other viewports' slices cut this one, with a colour index each."""
        self.reference.set_lines(lines)

    # -- navigation -------------------------------------------------------
    def set_slice(self, index: int) -> None:
        if self._media is None:
            return
        index = int(np.clip(index, 0, self._media.n_frames - 1))
        if index == self._index:
            return
        self._show_frame(index)
        self.slice_changed.emit(index)

    def step(self, delta: int) -> None:
        self.set_slice(self._index + delta)

    def play(self) -> None:
        if self._media is not None and self._media.n_frames > 1:
            self.cine.play(self._index, self._media.n_frames, self.fps_box.value(), self._media.frame_times)

    def set_cine_fps(self, fps: float) -> None:
        """Cine speed in frames per second (clamped to FPS_RANGE); a playing clip changes speed at once."""
        self.fps_box.setValue(fps)

    def stop(self) -> None:
        self.cine.stop()

    def toggle_play(self) -> None:
        self.stop() if self.cine.is_playing else self.play()

    def advance_cine(self, ms: float) -> None:
        """Advance a playing cine by ``ms`` of clip time (tests, frame-exact stepping)."""
        if self.cine.is_playing:
            self.cine.advance(ms)

    # -- window / level ---------------------------------------------------
    def set_window(self, center: float, width: float, *, preset: str = CUSTOM) -> None:
        """Window (center, width) in modality units; the preset box then shows ``preset``."""
        if self._media is None or self._media.is_color:
            return
        width = max(float(width), MIN_WIDTH)
        self._per_frame_window = preset == "default" and self._media.frame_windows is not None
        self._show_preset(preset)
        if self.window == (float(center), width):
            return
        self._windower = Windower(center, width)
        self._show_frame(self._index)
        self.window_changed.emit(float(center), width)

    def window_presets(self) -> dict[str, tuple[float, float]]:
        if self._media is None:
            return {}
        return presets(self._media, self._ensure_stats())

    def apply_preset(self, name: str) -> None:
        self.set_window(*self.window_presets()[name], preset=name)

    def next_preset(self) -> None:
        names = list(self.window_presets())
        if names:
            current = self.preset_box.currentText()
            name = names[(names.index(current) + 1) % len(names)] if current in names else names[0]
            self.apply_preset(name)

    def reset(self) -> None:
        """Full view, default window (key r)."""
        if self._media is None:
            return
        self.view_box.setRange(self._extent, padding=0.0)
        window = self._default_window()
        if window is not None:
            self.set_window(*window, preset="default")

    # -- linked cursor ----------------------------------------------------
    def show_cursor(self, fx: float, fy: float) -> None:
        """Mark the point at fractions (fx, fy) of the image; NaN hides it."""
        if np.isnan(fx) or np.isnan(fy) or self._media is None:
            self.cursor_mark.setVisible(False)
            return
        self.cursor_mark.setPos(
            QPointF(self._extent.x() + fx * self._extent.width(), self._extent.y() + fy * self._extent.height())
        )
        self.cursor_mark.setVisible(True)

    # -- slots ------------------------------------------------------------
    def on_slice_scrolled(self, steps: int) -> None:
        self.stop()
        self.step(steps)

    def on_slider_moved(self, value: int) -> None:
        if value != self._index:
            self.stop()
            self.set_slice(value)

    def on_window_dragged(self, dx: float, dy: float, is_start: bool) -> None:
        if self._windower is None:
            return
        stats = self._ensure_stats()
        per_px = max(stats.p99 - stats.p01, MIN_WIDTH) / WL_PIXELS_PER_RANGE
        # Drag right: wider window; drag up: brighter (lower level).
        self.set_window(self._windower.center + dy * per_px, self._windower.width + dx * per_px)

    def on_preset_chosen(self, i: int) -> None:
        name = self.preset_box.itemText(i)
        if name and name != CUSTOM:
            self.apply_preset(name)

    def on_fps_changed(self, fps: float) -> None:
        self.cine.set_fps(fps)

    def on_mouse_moved(self, scene_pos: QPointF) -> None:
        if self._media is None or not self._extent.width():
            return
        p = self.view_box.mapSceneToView(scene_pos)
        fx = (p.x() - self._extent.x()) / self._extent.width()
        fy = (p.y() - self._extent.y()) / self._extent.height()
        inside = 0 <= fx <= 1 and 0 <= fy <= 1 and self.view_box.sceneBoundingRect().contains(scene_pos)
        self.cursor_moved.emit(fx, fy) if inside else self.cursor_moved.emit(float("nan"), float("nan"))

    def leaveEvent(self, ev) -> None:  # noqa: N802 - Qt override
        self.cursor_moved.emit(float("nan"), float("nan"))  # linked cursors hide
        super().leaveEvent(ev)

    def on_cine_playing_changed(self, playing: bool) -> None:
        self.play_button.setText("❚❚" if playing else "▶")
        self.cine_toggled.emit(playing)

    def keyPressEvent(self, ev: QKeyEvent) -> None:  # noqa: N802 - Qt override
        name = KEY_ACTIONS.get(ev.key())
        if name is None or self._media is None or ev.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            super().keyPressEvent(ev)  # digits, arrows, Enter etc. belong to the answer panel
            return
        n = self.n_frames
        actions: dict[str, Callable[[], object]] = {
            "next_slice": lambda: self.on_slice_scrolled(1),
            "previous_slice": lambda: self.on_slice_scrolled(-1),
            "first_slice": lambda: (self.stop(), self.set_slice(0)),
            "last_slice": lambda: (self.stop(), self.set_slice(n - 1)),
            "toggle_play": self.toggle_play,
            "cine_faster": lambda: self.set_cine_fps(self.fps_box.value() * FPS_STEP),
            "cine_slower": lambda: self.set_cine_fps(self.fps_box.value() / FPS_STEP),
            "next_preset": self.next_preset,
            "reset": self.reset,
            "toggle_overlay": self.overlay.toggle,
            "toggle_mask": self.toggle_mask,
            "cycle_mask_style": self.cycle_mask_style,
            "toggle_link": self.link_toggle_requested.emit,
            "toggle_maximised": self.maximise_requested.emit,
        }
        actions[name]()
        ev.accept()

    # -- internals --------------------------------------------------------
    def _show_frame(self, index: int, *, reshape: bool = False) -> None:
        media = self._media
        assert media is not None
        self._index = index
        frame = media.frames[index]
        if self._per_frame_window and media.frame_windows is not None:
            center, width = media.frame_windows[index]
            self._windower = Windower(center, max(float(width), MIN_WIDTH))
        if self._windower is not None:
            frame = self._windower(frame)
        self.image_item.setImage(frame, autoLevels=False, levels=(0, 255))
        if reshape:
            self.image_item.setRect(self._extent)
        self.overlay.set_frame(index)
        self.outline.set_frame(index)
        self.mask_fill.set_frame(index)
        if self.slider.value() != index:
            self.slider.blockSignals(True)
            self.slider.setValue(index)
            self.slider.blockSignals(False)
        self.label.set_text(self._describe())

    def _describe(self) -> str:
        """Corner text: position and display settings only, never identifying text."""
        media = self._media
        assert media is not None
        parts = [self._title] if self._title else []
        n = media.n_frames
        if media.kind == "video" or (media.fps and n > 1):
            fps = media.fps or DEFAULT_FPS  # clip time, whatever the playback speed
            parts.append(f"frame {self._index + 1}/{n}  {self._index / fps:.2f} s")
        elif n > 1:
            parts.append(f"slice {self._index + 1}/{n}")
        if self._windower is not None:
            parts.append(f"W {self._windower.width:.0f}  L {self._windower.center:.0f}")
        return "\n".join(parts)

    def _update_controls(self) -> None:
        media = self._media
        assert media is not None
        self.slider.blockSignals(True)
        self.slider.setRange(0, media.n_frames - 1)
        self.slider.setValue(self._index)
        self.slider.blockSignals(False)
        self.fps_box.blockSignals(True)
        self.fps_box.setValue(media.fps or DEFAULT_FPS)
        self.fps_box.blockSignals(False)
        self.cine.set_fps(self.fps_box.value())
        for w in (self.play_button, self.fps_box, self.slider):
            w.setVisible(media.n_frames > 1)
        self._refresh_preset_box()
        self._show_preset("default")
        self.preset_box.setVisible(not media.is_color)
        self.controls.setVisible(self._controls_wanted and (media.n_frames > 1 or not media.is_color))

    def _refresh_preset_box(self) -> None:
        media = self._media
        names: list[str] = []
        if media is not None and not media.is_color:
            # Without statistics yet (cheap case switch) only the generic names
            # are listed; CT presets join once a drag or preset computed them.
            stats = self._stats or VolumeStats(0.0, 1.0, 0.0, 1.0)
            names = list(presets(media, stats))
        current = self.preset_box.currentText()
        self.preset_box.clear()
        self.preset_box.addItems(names)
        self._show_preset(current)

    def _show_preset(self, name: str) -> None:
        """Select ``name`` in the preset box; "custom" is listed only while it is the current window."""
        box = self.preset_box
        custom = box.findText(CUSTOM)
        if name == CUSTOM and custom < 0:
            box.addItem(CUSTOM)
        elif name != CUSTOM and custom >= 0:
            box.removeItem(custom)
        if box.findText(name) >= 0:
            box.setCurrentText(name)
        self._fit_preset_box()

    def _fit_preset_box(self) -> None:
        """Never truncate a preset name: the box is at least as wide as its longest name needs.

        The frame, padding and arrow are asked of the style in use (the app's stylesheet adds
        padding that AdjustToContents alone does not always make room for in a narrow layout).
        """
        box = self.preset_box
        names = [box.itemText(i) for i in range(box.count())] or [CUSTOM]
        widest = max(box.fontMetrics().horizontalAdvance(n) for n in names)
        opt = QStyleOptionComboBox()
        box.initStyleOption(opt)
        opt.rect = QRect(0, 0, 1000, max(box.height(), 20))
        room = box.style().subControlRect(
            QStyle.ComplexControl.CC_ComboBox, opt, QStyle.SubControl.SC_ComboBoxEditField, box
        )
        box.setMinimumWidth(widest + (1000 - room.width()) + 2)

    def _default_window(self) -> tuple[float, float] | None:
        media = self._media
        assert media is not None
        needs_stats = not media.is_color and media.window is None and media.frames.dtype != np.uint8
        return default_window(media, self._ensure_stats() if needs_stats else None)

    def _ensure_stats(self) -> VolumeStats:
        assert self._media is not None
        if self._stats is None:
            self._stats = volume_stats(self._media.frames)
            self._refresh_preset_box()
        return self._stats
