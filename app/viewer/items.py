"""Small graphics items of a viewport: the image, the corner label, the linked-cursor mark."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QImage, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem


class CornerLabel(QGraphicsItem):
    """Fixed-size text on a translucent plate, pinned to the view's top-left."""

    def __init__(self, parent: QGraphicsItem) -> None:
        super().__init__(parent)
        self._text = ""
        self._font = QFont()
        self._font.setPointSizeF(9)
        self._rect = QRectF()
        self._accent: QColor | None = None
        self.setPos(4, 4)
        self.setZValue(100)

    def text(self) -> str:
        return self._text

    def set_accent(self, rgb: tuple[int, int, int] | None) -> None:
        """A coloured stripe on the plate's left edge: the colour of this viewport's reference lines elsewhere."""
        accent = None if rgb is None else QColor(*rgb)
        if accent != self._accent:
            self._accent = accent
            self.update()

    def set_text(self, text: str) -> None:
        if text != self._text:
            self.prepareGeometryChange()
            self._text = text
            box = QFontMetricsF(self._font).boundingRect(QRectF(0, 0, 1000, 1000), 0, text) if text else None
            self._rect = QRectF(0, 0, box.width() + 8, box.height() + 4) if box is not None else QRectF()
            self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt override
        return self._rect

    def paint(self, painter: QPainter, *args) -> None:
        if not self._text:
            return
        painter.setFont(self._font)
        painter.fillRect(self._rect, QColor(0, 0, 0, 150))
        if self._accent is not None:
            painter.fillRect(QRectF(self._rect.x(), self._rect.y(), 3, self._rect.height()), self._accent)
        painter.setPen(QColor(235, 235, 235))
        painter.drawText(self._rect.adjusted(4, 2, -4, -2), 0, self._text)


class FrameItem(pg.ImageItem):
    """The image; when magnified, interpolated bilinearly like a PACS display.

    At about 1:1 or smaller, nearest-neighbour drawing is kept: it is several
    times faster and interpolation would not show.
    """

    SMOOTH_ABOVE = 1.25  # screen pixels per image pixel
    # The format QPainter draws scaled fastest: pyqtgraph renders a grey frame as Indexed8 (a
    # palette look-up per screen pixel on every paint, ~6 ms for 1024 x 1024 here) and colour as
    # RGB888; converted once per frame, each repaint costs ~0.7 ms (issue 16's 16.7 ms budget).
    PAINT_FORMAT = QImage.Format.Format_ARGB32_Premultiplied

    def __init__(self) -> None:
        super().__init__()
        self.smooth = True

    def render(self) -> None:
        super().render()
        if self.qimage is not None and self.qimage.format() != self.PAINT_FORMAT:
            self.qimage = self.qimage.convertToFormat(self.PAINT_FORMAT)

    def paint(self, painter: QPainter, *args) -> None:
        t = painter.worldTransform()
        magnified = min(abs(t.m11()) + abs(t.m21()), abs(t.m12()) + abs(t.m22())) > self.SMOOTH_ABOVE
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self.smooth and magnified)
        super().paint(painter, *args)
        painter.restore()


class CursorMark(QGraphicsPathItem):
    """A small cross for the linked cursor; constant size on screen."""

    def __init__(self) -> None:
        path = QPainterPath()
        for (x0, y0), (x1, y1) in (((-8, 0), (-2, 0)), ((2, 0), (8, 0)), ((0, -8), (0, -2)), ((0, 2), (0, 8))):
            path.moveTo(x0, y0)
            path.lineTo(x1, y1)
        super().__init__(path)
        pen = QPen(QColor(255, 220, 0))
        pen.setCosmetic(True)
        pen.setWidthF(1.5)
        self.setPen(pen)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self.setZValue(50)
        self.setVisible(False)


REFERENCE_COLORS = ((255, 200, 0), (0, 210, 255), (255, 90, 200), (120, 255, 120))


class ReferenceLines(QGraphicsItem):
    """Lines where other viewports' current slices cut this one; constant width on screen.

    ``set_lines`` takes segments in view coordinates (mm) and a colour index
    (the source viewport's place in the layout), so each viewport's line keeps
    one colour everywhere.
    """

    def __init__(self) -> None:
        super().__init__()
        self._lines: list[tuple[tuple[float, float], tuple[float, float], int]] = []
        self._rect = QRectF()
        self.setZValue(40)

    def lines(self) -> list[tuple[tuple[float, float], tuple[float, float], int]]:
        return list(self._lines)

    def set_lines(self, lines: list[tuple[tuple[float, float], tuple[float, float], int]]) -> None:
        if lines == self._lines:
            return
        self.prepareGeometryChange()
        self._lines = list(lines)
        xs = [x for p, q, _ in lines for x in (p[0], q[0])]
        ys = [y for p, q, _ in lines for y in (p[1], q[1])]
        self._rect = (
            QRectF(min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)).adjusted(-1, -1, 1, 1) if lines else QRectF()
        )
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt override
        return self._rect

    def paint(self, painter: QPainter, *args) -> None:
        for (x0, y0), (x1, y1), k in self._lines:
            pen = QPen(QColor(*REFERENCE_COLORS[k % len(REFERENCE_COLORS)]))
            pen.setCosmetic(True)
            pen.setWidthF(1.5)
            painter.setPen(pen)
            painter.drawLine(QPointF(x0, y0), QPointF(x1, y1))
