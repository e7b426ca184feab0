"""WsiViewerWidget: pan and zoom a whole-slide image from its pyramid, with the AI heatmap.

The scene is in level-0 pixels.  Under everything lies the slide's thumbnail,
so the view is never empty; over it, display tiles of the pyramid level that
fits the zoom (``app.viewer.wsi_tiles.choose_level``).  Tiles missing from the
LRU cache are decoded by one cancellable worker (``app.workers``); a newer
view cancels the older request, and the GUI thread only ever places decoded
tiles.  The AI heatmap (the low-resolution score map of
``study.wsi_scores.SlideScores``) is a ``CamOverlay`` stretched over the
slide; the top-k tiles are outlined and listed, and a click (or digit key)
zooms to one.

Mouse: drag pans, wheel zooms.  Keys: arrows pan, +/- zoom, 0 whole slide,
H heatmap on/off, 1-9 jump to a top tile.
"""

from __future__ import annotations

import logging
from collections import OrderedDict

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QKeyEvent, QPen, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QGraphicsPixmapItem,
    QGraphicsRectItem,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from app.viewer.overlay import CamOverlay
from app.viewer.wsi_tiles import TileCache, TileKey, choose_level, read_tiles, tile_box, tiles_for_view
from app.workers import Worker, create_worker
from study.media.wsi import Slide, open_slide
from study.wsi_scores import SlideScores

KEPT_ITEMS = 96  # tile items kept in the scene (hidden when off view): re-showing one costs no conversion
AI_TEXTS = {"heatmap": "AI heatmap (H)", "opacity": "Heatmap opacity", "top": "AI's most suspicious fields"}
PAN_STEP = 0.2  # fraction of the view per arrow key
ZOOM_STEP = 1.5
TOP_PEN = QColor("#39ff14")
log = logging.getLogger(__name__)


def to_pixmap(rgb: np.ndarray) -> QPixmap:
    """(h, w, 3) uint8 RGB to a QPixmap (copied: the array may go)."""
    rgb = np.ascontiguousarray(rgb)
    h, w = rgb.shape[:2]
    return QPixmap.fromImage(QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888))


class WsiViewerWidget(QWidget):
    """A whole-slide viewer with heatmap and top-k list; see the module doc."""

    level_changed = Signal(int)
    tiles_loaded = Signal(int)  # how many tiles one request decoded
    tile_failed = Signal(str)  # the one-line cause
    heatmap_toggled = Signal(bool)
    region_opened = Signal(int)  # index into the top-k list

    def __init__(self, parent: QWidget | None = None, *, cache: TileCache | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("wsiViewer")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.cache = cache or TileCache()
        self.slide: Slide | None = None
        self.scores: SlideScores | None = None
        self._owns_slide = False
        self._level = -1
        self._items: OrderedDict[TileKey, QGraphicsPixmapItem] = OrderedDict()  # least recently shown first
        self._wanted: list[TileKey] = []
        self._worker: Worker | None = None
        self._boxes: list[QGraphicsRectItem] = []

        self.view = pg.GraphicsView()
        self.box = pg.ViewBox(invertY=True, lockAspect=True, enableMenu=False)
        self.box.setBackgroundColor("#f3f1f5")
        self.view.setCentralItem(self.box)
        self.thumbnail_item = QGraphicsPixmapItem()
        self.thumbnail_item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self.thumbnail_item.setZValue(0)
        self.box.addItem(self.thumbnail_item)
        self.heatmap = CamOverlay(colormap_name="inferno", opacity=0.45, threshold=0.1)
        self.heatmap.setZValue(5)
        self.box.addItem(self.heatmap)
        self.box.sigRangeChanged.connect(self.on_range_changed)

        self.heatmap_box = QCheckBox()
        self.heatmap_box.setChecked(True)
        self.heatmap_box.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.heatmap_box.toggled.connect(self.on_heatmap_box_toggled)
        self.opacity_slider = QSlider(Qt.Orientation.Horizontal)
        self.opacity_slider.setRange(0, 100)
        self.opacity_slider.setValue(45)
        self.opacity_slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.opacity_slider.valueChanged.connect(self.on_opacity_changed)
        self.top_list = QListWidget()
        self.top_list.setObjectName("wsiTopTiles")
        self.top_list.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.top_list.itemClicked.connect(self.on_top_item_clicked)
        self.level_label = QLabel()
        self.level_label.setObjectName("hint")
        self.message_label = QLabel()
        self.message_label.setStyleSheet("color: #e0a040")
        self.message_label.setWordWrap(True)
        self.message_label.setVisible(False)

        self.side = QWidget()
        self.side.setFixedWidth(210)
        col = QVBoxLayout(self.side)
        col.setContentsMargins(6, 6, 6, 6)
        col.addWidget(self.heatmap_box)
        self.opacity_label = QLabel()
        col.addWidget(self.opacity_label)
        col.addWidget(self.opacity_slider)
        self.top_title = QLabel()
        col.addWidget(self.top_title)
        col.addWidget(self.top_list, 10)
        col.addStretch(1)
        col.addWidget(self.level_label)
        col.addWidget(self.message_label)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(2)
        row.addWidget(self.view, 1)
        row.addWidget(self.side)
        self._show_ai_controls(False)

    # -- content ----------------------------------------------------------
    def set_slide(
        self, slide: Slide | str, scores: SlideScores | None = None, *, thumbnail: np.ndarray | None = None
    ) -> None:
        """Show a slide (an open ``Slide`` or a path) whole; MediaError when it cannot be opened.

        ``thumbnail``: an (h, w, 3) uint8 overview already decoded (the ``Media``
        of kind "wsi" holds one), else the smallest level is read here.
        """
        self.clear()
        if isinstance(slide, Slide):
            self.slide, self._owns_slide = slide, False
        else:
            self.slide, self._owns_slide = open_slide(slide), True
        info = self.slide.info
        thumb = thumbnail
        if thumb is None:
            thumb = self.slide.read_region((0, 0), info.level_count - 1, info.level_dimensions[-1])
        w0, h0 = info.dimensions
        self.thumbnail_item.setPixmap(to_pixmap(thumb))
        self.thumbnail_item.setScale(w0 / thumb.shape[1])
        self.set_scores(scores)
        self.show_whole_slide()
        self.on_range_changed()  # the same range as the previous slide's emits no change

    def set_scores(self, scores: SlideScores | None) -> None:
        """The AI heatmap and top-k tiles (None: no AI, e.g. an unaided read)."""
        self.scores = scores
        for item in self._boxes:
            self.box.removeItem(item)
        self._boxes = []
        self.top_list.clear()
        if scores is None or self.slide is None:
            self.heatmap.set_maps(None, 1)
            self._show_ai_controls(False)
            return
        gh, gw = scores.score_map.shape
        self.heatmap.set_maps(np.asarray(scores.score_map, np.float32)[np.newaxis], 1)
        self.heatmap.set_extent(QRectF(0, 0, gw * scores.tile_size, gh * scores.tile_size))
        self.heatmap.set_frame(0)
        self.heatmap.set_enabled(self.heatmap_box.isChecked())
        for k, tile in enumerate(scores.top):
            x, y, w, h = tile.box(scores.tile_size)
            rect = QGraphicsRectItem(x, y, w, h)
            pen = QPen(TOP_PEN)
            pen.setCosmetic(True)
            pen.setWidthF(2.0)
            rect.setPen(pen)
            rect.setZValue(6)
            rect.setVisible(self.heatmap_box.isChecked())
            self.box.addItem(rect)
            self._boxes.append(rect)
            entry = QListWidgetItem(f"{k + 1}.  score {tile.score:.2f}", self.top_list)
            entry.setToolTip(f"tile at ({x}, {y}), {w} x {h} level-0 pixels; key {k + 1} or click to open")
        self._show_ai_controls(True)

    def clear(self) -> None:
        self._cancel_worker()
        for item in self._items.values():
            self.box.removeItem(item)
        self._items.clear()
        self._wanted = []
        self.cache.clear()
        if self.slide is not None and self._owns_slide:
            self.slide.close()
        self.slide = None
        self._level = -1

    # -- navigation -------------------------------------------------------
    def show_whole_slide(self) -> None:
        if self.slide is not None:
            w0, h0 = self.slide.info.dimensions
            self.box.setRange(QRectF(0, 0, w0, h0), padding=0.02)

    def zoom_to(self, x: float, y: float, w: float, h: float) -> None:
        """Show the level-0 rectangle (x, y, w, h) as large as it fits."""
        self.box.setRange(QRectF(x, y, w, h), padding=0.1)

    def zoom_by(self, factor: float) -> None:
        """Zoom in (factor > 1) or out about the view's centre."""
        self.box.scaleBy((1.0 / factor, 1.0 / factor))

    def pan_by(self, fx: float, fy: float) -> None:
        """Move the view by fractions of its width and height."""
        r = self.box.viewRect()
        self.box.translateBy(x=fx * r.width(), y=fy * r.height())

    def open_top(self, index: int) -> None:
        """Zoom to the ``index``-th most suspicious tile; IndexError when there is none."""
        if self.scores is None or not 0 <= index < len(self.scores.top):
            raise IndexError(f"no top tile {index + 1}")
        x, y, w, h = self.scores.top[index].box(self.scores.tile_size)
        self.top_list.setCurrentRow(index)
        self.zoom_to(x, y, w, h)
        self.region_opened.emit(index)

    def set_heatmap_visible(self, on: bool) -> None:
        self.heatmap_box.setChecked(on)

    # -- state ------------------------------------------------------------
    @property
    def current_level(self) -> int:
        return self._level

    @property
    def wanted_tiles(self) -> list[TileKey]:
        return list(self._wanted)

    @property
    def shown_tiles(self) -> set[TileKey]:
        return {k for k, item in self._items.items() if item.isVisible()}

    @property
    def loading(self) -> bool:
        return self._worker is not None and self._worker.is_running

    def level0_per_screen_px(self) -> float:
        px = self.box.viewPixelSize()
        return float(max(px[0], px[1]))

    # -- slots ------------------------------------------------------------
    def on_range_changed(self, *_: object) -> None:
        if self.slide is None:
            return
        info = self.slide.info
        level = choose_level(info, self.level0_per_screen_px())
        r = self.box.viewRect()
        wanted = tiles_for_view(info, level, (r.x(), r.y(), r.width(), r.height()))
        self._wanted = wanted
        keep = set(wanted)
        for key, item in self._items.items():  # hidden, not removed: its rendered image is kept
            item.setVisible(key in keep)
        self._trim_items(keep)
        missing = []
        for key in wanted:
            if key in self._items:
                self._items.move_to_end(key)
                continue
            tile = self.cache.get(key)
            if tile is None:
                missing.append(key)
            else:
                self._place(key, tile)
        if level != self._level:
            self._level = level
            self.level_label.setText(
                f"level {level + 1} of {info.level_count} (1:{info.level_downsamples[level]:g})"
                + (f"\n{info.mpp[0] * info.level_downsamples[level]:.2f} \u00b5m/px" if info.mpp else "")
            )
            self.level_changed.emit(level)
        self._request(missing)

    def on_tile_decoded(self, item: tuple[TileKey, np.ndarray], slide: Slide) -> None:
        key, tile = item
        if slide is not self.slide:
            return  # a tile of a slide no longer shown
        self.cache.put(key, tile)
        if key in self._wanted and key not in self._items:
            self._place(key, tile)

    def on_heatmap_box_toggled(self, on: bool) -> None:
        self.heatmap.set_enabled(on)
        for rect in self._boxes:  # the AI's picks go with its heatmap
            rect.setVisible(on)
        self.heatmap_toggled.emit(on)

    def on_opacity_changed(self, value: int) -> None:
        self.heatmap.set_opacity(value / 100.0)

    def on_top_item_clicked(self, item: QListWidgetItem) -> None:
        self.open_top(self.top_list.row(item))

    def on_tiles_failed(self, exc: BaseException) -> None:
        self.message_label.setText(str(exc))
        self.message_label.setVisible(True)
        self.tile_failed.emit(str(exc))

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt override
        key, text = event.key(), event.text()
        moves = {Qt.Key.Key_Left: (-PAN_STEP, 0), Qt.Key.Key_Right: (PAN_STEP, 0)}
        moves |= {Qt.Key.Key_Up: (0, -PAN_STEP), Qt.Key.Key_Down: (0, PAN_STEP)}
        if key in moves:
            self.pan_by(*moves[key])
        elif text in ("+", "="):
            self.zoom_by(ZOOM_STEP)
        elif text == "-":
            self.zoom_by(1 / ZOOM_STEP)
        elif text == "0":
            self.show_whole_slide()
        elif text.lower() == "h" and self.scores is not None:
            self.heatmap_box.toggle()
        elif text.isdigit() and self.scores is not None and 1 <= int(text) <= len(self.scores.top):
            self.open_top(int(text) - 1)
        else:
            super().keyPressEvent(event)

    def closeEvent(self, event) -> None:  # noqa: ANN001, N802 - Qt override
        self.clear()
        super().closeEvent(event)

    # -- internals --------------------------------------------------------
    def _place(self, key: TileKey, tile: np.ndarray) -> None:
        assert self.slide is not None
        x, y, _, _ = tile_box(self.slide.info, key)
        # A pixmap is converted once to the screen's format; drawing it scaled is cheap.
        item = QGraphicsPixmapItem(to_pixmap(tile))
        item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        item.setPos(x, y)
        item.setScale(self.slide.info.level_downsamples[key.level])
        item.setZValue(1 + key.level * -0.01)  # finer levels above coarser ones
        self.box.addItem(item)
        self._items[key] = item

    def _trim_items(self, keep: set[TileKey]) -> None:
        """Drop the least recently shown hidden tile items beyond ``KEPT_ITEMS``."""
        extra = len(self._items) - KEPT_ITEMS
        for key in list(self._items):
            if extra <= 0:
                break
            if key not in keep:
                self.box.removeItem(self._items.pop(key))
                extra -= 1

    def _request(self, missing: list[TileKey]) -> None:
        """Decode ``missing`` off the GUI thread, replacing any earlier request."""
        self._cancel_worker()
        if not missing or self.slide is None:
            return
        slide = self.slide
        worker = create_worker(read_tiles, slide, missing)
        worker.progress.connect(lambda item, slide=slide: self.on_tile_decoded(item, slide))
        worker.errored.connect(lambda exc, w=worker: self._on_worker_errored(w, exc))
        n = len(missing)
        worker.result_ready.connect(lambda _r: self.tiles_loaded.emit(n))
        self._worker = worker
        worker.start()

    def _on_worker_errored(self, worker: Worker, exc: BaseException) -> None:
        if worker.is_cancelled:  # the slide was closed under a cancelled request: expected
            log.info("cancelled tile request ended with %s: %s", type(exc).__name__, exc)
            return
        self.on_tiles_failed(exc)

    def _cancel_worker(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            self._worker = None

    def _show_ai_controls(self, on: bool) -> None:
        """The AI's controls and their words exist only while AI scores are shown (never in unaided reads)."""
        texts = AI_TEXTS if on else dict.fromkeys(AI_TEXTS, "")
        self.heatmap_box.setText(texts["heatmap"])
        self.opacity_label.setText(texts["opacity"])
        self.top_title.setText(texts["top"])
        for w in (self.heatmap_box, self.opacity_slider, self.opacity_label, self.top_list, self.top_title):
            w.setVisible(on)
