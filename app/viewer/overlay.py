"""Overlays drawn over a viewport's image: a CAM / probability map and a mask outline.

Both take one map per slice or frame, (N, h, w), at any resolution; they are
stretched to the image's extent (``set_extent``), so a 7x7 Grad-CAM and a
512x512 probability map line up with the same image.  When N differs from the
image's frame count, frames are matched by fraction (N == 1: one map for all).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPainterPath, QPen, QTransform
from PySide6.QtWidgets import QGraphicsPathItem

# Classic jet (not among pyqtgraph's bundled maps; avoids importing matplotlib).
_JET = pg.ColorMap(
    [0.0, 0.125, 0.375, 0.625, 0.875, 1.0],
    [(0, 0, 128), (0, 0, 255), (0, 255, 255), (255, 255, 0), (255, 0, 0), (128, 0, 0)],
)
COLORMAPS = ("jet", "inferno", "viridis")
MASK_STYLES = ("outline", "fill", "both")  # how a mask overlay is drawn
ALPHA_RAMP = 0.1  # map values from threshold to threshold + ramp fade in


def colormap(name: str) -> pg.ColorMap:
    if name == "jet":
        return _JET
    if name not in COLORMAPS:
        raise ValueError(f"unknown colormap {name!r}; choose one of {', '.join(COLORMAPS)}")
    return pg.colormap.get(name)


def map_index(index: int, n_image: int, n_maps: int) -> int:
    """The overlay frame shown with image frame ``index``."""
    if n_maps == n_image:
        return index
    if n_maps <= 1 or n_image <= 1:
        return 0
    return round(index * (n_maps - 1) / (n_image - 1))


class CamOverlay(pg.ImageItem):
    """A CAM or probability map in [0, 1] with colormap, opacity, threshold and on/off."""

    overlay_toggled = Signal(bool)
    opacity_changed = Signal(float)
    threshold_changed = Signal(float)
    colormap_changed = Signal(str)

    def __init__(self, *, colormap_name: str = "jet", opacity: float = 0.45, threshold: float = 0.2) -> None:
        super().__init__()
        self.setZValue(10)
        self._maps: np.ndarray | None = None
        self._n_image = 1
        self._extent = QRectF(0, 0, 1, 1)
        self._enabled = True
        self._colormap_name = colormap_name
        self._threshold = float(threshold)
        # The item is drawn at the reader's opacity times the heat's strength (``study.heat``:
        # how strongly the AI scores the class the map explains); ``opacity()`` is the product.
        self._opacity = float(np.clip(opacity, 0.0, 1.0))
        self._strength = 1.0
        self.setOpacity(self._opacity)
        self._lut = self._build_lut()
        self.setVisible(False)

    # -- state ------------------------------------------------------------
    @property
    def maps(self) -> np.ndarray | None:
        return self._maps

    @property
    def enabled(self) -> bool:
        """The reader's on/off choice (the item is visible only with maps loaded)."""
        return self._enabled

    @property
    def colormap_name(self) -> str:
        return self._colormap_name

    @property
    def threshold(self) -> float:
        return self._threshold

    # -- data -------------------------------------------------------------
    def set_maps(self, maps: np.ndarray | None, n_image_frames: int) -> None:
        """Maps (N, h, w) or (h, w) in [0, 1]; None removes the overlay."""
        if maps is not None:
            maps = np.asarray(maps)
            if maps.ndim == 2:
                maps = maps[None]
            if maps.ndim != 3 or maps.shape[0] == 0:
                raise ValueError(f"overlay maps must be (N, h, w), got shape {maps.shape}")
        self._maps = maps
        self._n_image = max(1, n_image_frames)
        self._update_visibility()

    def set_extent(self, rect: QRectF) -> None:
        """Stretch the overlay over the image's rectangle (view coordinates)."""
        self._extent = QRectF(rect)
        if self.image is not None:
            self.setRect(self._extent)

    def set_frame(self, index: int) -> None:
        if self._maps is None:
            return
        m = self._maps[map_index(index, self._n_image, self._maps.shape[0])]
        # float [0, 1] -> bytes once per frame; the LUT does colour and threshold.
        scaled = np.nan_to_num(np.asarray(m, dtype=np.float32), nan=0.0) * 255.0 + 0.5
        u8 = np.clip(scaled, 0, 255).astype(np.uint8)
        reshaped = self.image is None or self.image.shape != u8.shape
        self.setImage(u8, autoLevels=False, levels=(0, 255), lut=self._lut)
        if reshaped:
            self.setRect(self._extent)

    # -- appearance -------------------------------------------------------
    def set_enabled(self, on: bool) -> None:
        on = bool(on)
        if on != self._enabled:
            self._enabled = on
            self._update_visibility()
            self.overlay_toggled.emit(on)

    def toggle(self) -> None:
        self.set_enabled(not self._enabled)

    @property
    def chosen_opacity(self) -> float:
        """The reader's opacity, before the heat's strength scales it."""
        return self._opacity

    @property
    def strength(self) -> float:
        """Gain in [0, 1] on the chosen opacity (1: drawn as chosen)."""
        return self._strength

    def set_opacity(self, opacity: float) -> None:
        """The reader's opacity (``opacity_changed`` carries it); drawn times ``strength``."""
        opacity = float(np.clip(opacity, 0.0, 1.0))
        if opacity != self._opacity:
            self._opacity = opacity
            self.setOpacity(opacity * self._strength)
            self.opacity_changed.emit(opacity)

    def set_strength(self, strength: float) -> None:
        """Scale the drawn opacity by ``strength`` in [0, 1] (``study.heat.heat_strength``)."""
        strength = float(np.clip(np.nan_to_num(strength, nan=1.0), 0.0, 1.0))
        if strength != self._strength:
            self._strength = strength
            self.setOpacity(self._opacity * strength)

    def set_threshold(self, threshold: float) -> None:
        threshold = float(np.clip(threshold, 0.0, 1.0))
        if threshold != self._threshold:
            self._threshold = threshold
            self._refresh_lut()
            self.threshold_changed.emit(threshold)

    def set_colormap(self, name: str) -> None:
        colormap(name)  # validate
        if name != self._colormap_name:
            self._colormap_name = name
            self._refresh_lut()
            self.colormap_changed.emit(name)

    def _build_lut(self) -> np.ndarray:
        lut = colormap(self._colormap_name).getLookupTable(0.0, 1.0, 256, alpha=True)
        # Transparent below the threshold, then a short alpha ramp so the
        # edge of an upsampled low-resolution CAM is soft, not blocky.
        values = np.arange(256) / 255.0
        alpha = np.clip((values - self._threshold) / ALPHA_RAMP, 0.0, 1.0)
        alpha[values < self._threshold] = 0.0
        lut[:, 3] = np.round(alpha * 255).astype(np.uint8)
        return lut

    def _refresh_lut(self) -> None:
        self._lut = self._build_lut()
        self.setLookupTable(self._lut)

    def _update_visibility(self) -> None:
        self.setVisible(self._enabled and self._maps is not None)

    def paint(self, painter: QPainter, *args) -> None:
        # A low-resolution CAM is upsampled smoothly, not as big blocks.
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        super().paint(painter, *args)
        painter.restore()


class MaskOutline(QGraphicsPathItem):
    """The outline of a segmentation mask (N, h, w) (bool, or probabilities cut at 0.5).

    Drawn along pixel edges with a cosmetic pen, so it stays one or two screen
    pixels wide at any zoom.  Paths are built once per frame and cached.
    """

    def __init__(self, color: str = "#39ff14", width: float = 1.5) -> None:
        super().__init__()
        pen = QPen(QColor(color))
        pen.setWidthF(width)
        pen.setCosmetic(True)
        self.setPen(pen)
        self.setZValue(11)
        self._masks: np.ndarray | None = None
        self._n_image = 1
        self._extent = QRectF(0, 0, 1, 1)
        self._paths: dict[int, QPainterPath] = {}
        self.setVisible(False)

    enabled = True  # the reader's on/off choice (visible only with masks loaded)

    @property
    def has_masks(self) -> bool:
        return self._masks is not None

    def set_masks(self, masks: np.ndarray | None, n_image_frames: int) -> None:
        if masks is not None:
            masks = np.asarray(masks)
            if masks.ndim == 2:
                masks = masks[None]
            if masks.ndim != 3:
                raise ValueError(f"masks must be (N, h, w), got shape {masks.shape}")
        self._masks = masks
        self._n_image = max(1, n_image_frames)
        self._paths.clear()
        self.setPath(QPainterPath())
        self._apply_transform()
        self.setVisible(self.enabled and masks is not None)

    def set_enabled(self, on: bool) -> None:
        self.enabled = bool(on)
        self.setVisible(self.enabled and self._masks is not None)

    def set_color(self, color: str) -> None:
        pen = self.pen()
        pen.setColor(QColor(color))
        self.setPen(pen)

    def set_extent(self, rect: QRectF) -> None:
        self._extent = QRectF(rect)
        self._apply_transform()

    def set_frame(self, index: int) -> None:
        if self._masks is None:
            return
        k = map_index(index, self._n_image, self._masks.shape[0])
        path = self._paths.get(k)
        if path is None:
            path = self._paths[k] = outline_path(self._masks[k])
        self.setPath(path)

    def _apply_transform(self) -> None:
        if self._masks is None:
            return
        h, w = self._masks.shape[1:3]
        t = QTransform.fromTranslate(self._extent.x(), self._extent.y())
        self.setTransform(t.scale(self._extent.width() / w, self._extent.height() / h))


class MaskFill(pg.ImageItem):
    """A segmentation mask (N, h, w) drawn filled in one colour at an opacity (bool, or
    probabilities cut at 0.5), stretched over the image's extent like ``CamOverlay``.

    ``set_plane`` replaces one plane in place (the reader's brush), so a stroke repaints
    only this item.
    """

    def __init__(self, color: str = "#39ff14", opacity: float = 0.35, z: float = 10.5) -> None:
        super().__init__()
        self.setZValue(z)
        self._masks: np.ndarray | None = None
        self._n_image = 1
        self._index = 0
        self._extent = QRectF(0, 0, 1, 1)
        self._enabled = True
        self._color = QColor(color)
        self._argb: np.ndarray | None = None
        self._qimage: QImage | None = None
        self._alpha = float(np.clip(opacity, 0.0, 1.0))
        self.setVisible(False)

    @property
    def enabled(self) -> bool:
        return self._enabled

    @property
    def color(self) -> str:
        return self._color.name()

    def set_masks(self, masks: np.ndarray | None, n_image_frames: int) -> None:
        if masks is not None:
            masks = np.asarray(masks)
            masks = masks[None] if masks.ndim == 2 else masks
            if masks.ndim != 3:
                raise ValueError(f"masks must be (N, h, w), got shape {masks.shape}")
            masks = masks > 0.5 if masks.dtype.kind == "f" else masks.astype(bool)
        self._masks = masks
        self._n_image = max(1, n_image_frames)
        self.setVisible(self._enabled and masks is not None)
        self.set_frame(self._index)

    def set_plane(self, k: int, plane: np.ndarray) -> None:
        if self._masks is not None:
            self._masks[k] = plane
            self.set_frame(self._index)

    def set_extent(self, rect: QRectF) -> None:
        self._extent = QRectF(rect)
        if self.image is not None:
            self.setRect(self._extent)

    def set_frame(self, index: int) -> None:
        self._index = index
        if self._masks is None:
            return
        m = self._masks[map_index(index, self._n_image, self._masks.shape[0])]
        reshaped = self.image is None or self.image.shape[:2] != m.shape
        # The ImageItem keeps the plane for its size and bounds; ``paint`` draws a premultiplied
        # ARGB32 image built here (the format QPainter blends fastest), not pyqtgraph's RGBA one.
        self.image = m
        # Opacity baked into the premultiplied colour: the item itself is drawn opaque (faster).
        a = self._alpha
        c = self._color
        argb = (round(255 * a) << 24) | (round(c.red() * a) << 16) | (round(c.green() * a) << 8) | round(c.blue() * a)
        self._argb = np.where(m, np.uint32(argb), np.uint32(0))
        h, w = m.shape
        self._qimage = QImage(self._argb.data, w, h, 4 * w, QImage.Format.Format_ARGB32_Premultiplied)
        if reshaped:
            self.setRect(self._extent)
        self.informViewBoundsChanged()
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt override
        if self.image is None:
            return QRectF()
        h, w = self.image.shape[:2]
        return QRectF(0, 0, w, h)

    def paint(self, painter: QPainter, *args) -> None:
        if self.image is None or self._qimage is None:
            return
        h, w = self.image.shape[:2]
        painter.drawImage(QRectF(0, 0, w, h), self._qimage)

    def set_color(self, color: str) -> None:
        self._color = QColor(color)
        self.set_frame(self._index)

    @property
    def fill_opacity(self) -> float:
        return self._alpha

    def set_opacity(self, opacity: float) -> None:
        self._alpha = float(np.clip(opacity, 0.0, 1.0))
        self.set_frame(self._index)

    def set_enabled(self, on: bool) -> None:
        self._enabled = bool(on)
        self.setVisible(self._enabled and self._masks is not None)


def outline_path(mask: np.ndarray) -> QPainterPath:
    """Segments along every edge between a mask pixel and a non-mask pixel."""
    m = np.asarray(mask)
    m = m > 0.5 if m.dtype.kind == "f" else m.astype(bool)
    p = np.pad(m, 1)
    # Horizontal edges at row boundary r (between rows r-1 and r), from col c to c+1.
    hr, hc = np.nonzero(p[1:, 1:-1] != p[:-1, 1:-1])
    # Vertical edges at col boundary c, from row r to r+1.
    vr, vc = np.nonzero(p[1:-1, 1:] != p[1:-1, :-1])
    if hr.size + vr.size == 0:
        return QPainterPath()
    x = np.concatenate([np.stack([hc, hc + 1], 1).ravel(), np.repeat(vc, 2)]).astype(np.float64)
    y = np.concatenate([np.repeat(hr, 2), np.stack([vr, vr + 1], 1).ravel()]).astype(np.float64)
    return pg.arrayToQPath(x, y, connect="pairs")


__all__ = ["COLORMAPS", "MASK_STYLES", "CamOverlay", "MaskFill", "MaskOutline", "colormap", "map_index", "outline_path"]
