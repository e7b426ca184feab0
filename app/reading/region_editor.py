"""The contour editor of a region task: a closed polygon with draggable vertices, a brush and
an eraser for touch-ups, undo, and the live area; bound to one ``RegionAnswer``.

In the viewport of the task's role (``attach``):

* **Outline (V)**: click on the image to place vertices of a closed polygon (pyqtgraph
  ``PolyLineROI``); drag a vertex to move it, click an edge to add one.  The region becomes
  the polygon each time a vertex is placed or let go.
* **Brush (B) / Eraser (E)**: drag on the image to paint or erase a disc (size slider);
  the polygon is hidden meanwhile and fitted again to the region's largest part after
  each stroke (dragging one of its vertices later redraws the region as that polygon).
* **Undo (Ctrl+Z)** steps back one edit.  Enter submits (the reading screen's key).

The reader's region is drawn filled in yellow under the polygon; the AI's region (aided
reads) is the viewport's mask overlay (A on / off, O outline / fill).  On a series the
editor works on the slice shown.  All editing logic lives in ``RegionAnswer``; this panel
only turns mouse input into its calls and redraws.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from pyqtgraph.graphicsItems.ROI import Handle, _PolyLineSegment  # the classes PolyLineROI builds
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QPainter, QPainterPath, QPolygonF
from PySide6.QtWidgets import (
    QButtonGroup,
    QGraphicsItem,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from app.reading.answer_panels import AnswerPanel, BinaryAnswerPanel
from app.reading.region_answer import RegionAnswer
from app.viewer.overlay import MaskFill
from app.workers import warm_up
from study import regiongeometry

TOOLS = ("outline", "brush", "eraser")
TOOL_KEYS = {"outline": "V", "brush": "B", "eraser": "E"}
READER_COLOR = "#ffd400"
READER_OPACITY = 0.35
AI_COLOR = "#00e5ff"


class RegionCanvas(MaskFill):
    """The reader's region, filled, in image pixel coordinates; takes the mouse for the tools.

    Emits ``clicked(x, y)`` (outline tool) and ``stroked(points, phase)`` (brush / eraser;
    phase "start" | "move" | "finish"), positions in pixels.
    """

    def __init__(self, editor: RegionEditorPanel) -> None:
        super().__init__(READER_COLOR, READER_OPACITY, z=12)
        self.editor = editor
        # False while the polygon draws the region's fill (``ContourROI.set_fill``): the item
        # stays visible, since it takes the outline tool's clicks, but paints nothing.
        self.drawn = True

    def paint(self, painter, *args) -> None:
        if self.drawn:
            super().paint(painter, *args)

    def hoverEvent(self, ev) -> None:  # noqa: N802 - pyqtgraph override
        # Claim the left button under the pointer: drags for the brush / eraser, clicks for the outline.
        if ev.isExit():
            return
        if self.editor.tool == "outline":
            ev.acceptClicks(Qt.MouseButton.LeftButton)
        else:
            ev.acceptDrags(Qt.MouseButton.LeftButton)

    def mouseClickEvent(self, ev) -> None:  # noqa: N802 - pyqtgraph override
        if ev.button() == Qt.MouseButton.LeftButton and self.editor.tool == "outline":
            ev.accept()
            p = ev.pos()
            self.editor.on_canvas_clicked(p.x(), p.y())
        else:
            ev.ignore()

    def mouseDragEvent(self, ev) -> None:  # noqa: N802 - pyqtgraph override
        if ev.button() != Qt.MouseButton.LeftButton or self.editor.tool == "outline":
            ev.ignore()  # the viewport's own drag (window / pan)
            return
        ev.accept()
        p = ev.pos()
        if ev.isStart():
            q = ev.buttonDownPos()
            self.editor.on_canvas_stroked([(q.x(), q.y()), (p.x(), p.y())], "start")
        elif ev.isFinish():
            self.editor.on_canvas_stroked([(p.x(), p.y())], "finish")
        else:
            self.editor.on_canvas_stroked([(p.x(), p.y())], "move")


class _Vertex(Handle):
    """pyqtgraph's handle with its context menu ("Remove handle") built when first asked for:
    building a QMenu per vertex was a tenth of placing one."""

    def buildMenu(self):  # noqa: N802 - pyqtgraph override
        return None

    def getMenu(self):  # noqa: N802 - pyqtgraph override
        if self.menu is None:
            self.menu = Handle.buildMenu(self)
        return self.menu

    def raiseContextMenu(self, ev) -> None:  # noqa: N802 - pyqtgraph override
        self.getMenu()  # pyqtgraph enables "Remove handle" on self.removeAction before showing it
        super().raiseContextMenu(ev)


class _ContourEdge(_PolyLineSegment):
    """A polygon edge that keeps its bounding rectangle until an endpoint moves or the view's
    transform changes (pyqtgraph's ``viewTransformChanged``, as its ``Handle`` does).  Qt asks
    every edge for it twice per paint and pyqtgraph rebuilds the edge's shape from the device
    transform each time: with 32 edges that was most of a vertex drag's repaint (issue 16)."""

    _rect_key: tuple | None = None
    _rect: QRectF | None = None

    def boundingRect(self) -> QRectF:  # noqa: N802 - Qt override
        a, b = self.handles[0]["item"], self.handles[1]["item"]
        # Qt's own pos(): pyqtgraph's wraps every call in a new Point, a cost on each paint
        h1, h2 = QGraphicsItem.pos(a), QGraphicsItem.pos(b)
        key = (h1.x(), h1.y(), h2.x(), h2.y())
        if key != self._rect_key:
            rect = super().boundingRect()
            if self.deviceTransform_() is None:  # not shown yet: the shape has no pixel size
                return rect
            self._rect_key, self._rect = key, QRectF(rect)
        return QRectF(self._rect)

    def viewTransformChanged(self) -> None:  # noqa: N802 - pyqtgraph override
        self._rect_key = None
        super().viewTransformChanged()

    def paint(self, painter: QPainter, *args) -> None:
        # pyqtgraph's LineSegmentROI.paint, with Qt's own pos() (no Point per end per paint)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, self._antialias)
        painter.setPen(self.currentPen)
        painter.drawLine(QGraphicsItem.pos(self.handles[0]["item"]), QGraphicsItem.pos(self.handles[1]["item"]))


class ContourROI(pg.PolyLineROI):
    """pyqtgraph's closed polygon, refilled at once: ``PolyLineROI.setPoints`` recomputes the
    ROI's state after every handle it adds (quadratic in the vertex count), so while the points
    are replaced (or one is appended) the state is computed once, at the end.

    ``set_fill(color)`` fills the polygon (a vector path, repainted with the outline): while the
    reader's region is the polygon this is the region's fill, and it follows a vertex drag live."""

    _quiet = False
    _fill: QBrush | None = None

    def set_fill(self, color: QColor | None) -> None:
        fill = None if color is None else QBrush(color)
        if (fill is None) != (self._fill is None):
            self._fill = fill
            self.update()

    _path_key: tuple | None = None
    _path: QPainterPath | None = None

    def shape(self) -> QPainterPath:
        """The closed polygon through the handles (PolyLineROI's), kept until a handle moves:
        Qt asks for it (as the bounding rectangle) several times per paint."""
        points = [QGraphicsItem.pos(h["item"]) for h in self.handles]
        key = tuple((p.x(), p.y()) for p in points)
        if key != self._path_key:
            path = QPainterPath()
            if points:
                path.addPolygon(QPolygonF([*points, points[0]]))
            self._path_key, self._path = key, path
        return QPainterPath(self._path)

    def paint(self, painter: QPainter, *args) -> None:
        if self._fill is not None and len(self.handles) >= 3:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(self._fill)
            painter.drawPath(self.shape())

    def stateChanged(self, finish: bool = True) -> None:  # noqa: N802 - pyqtgraph override
        if not self._quiet:
            super().stateChanged(finish)

    def addHandle(self, info, index=None):  # noqa: N802 - pyqtgraph override
        if info.get("item") is None:  # the handle ROI.addHandle would build, with a lazy menu
            info["item"] = _Vertex(
                self.handleSize,
                typ=info["type"],
                pen=self.handlePen,
                hoverPen=self.handleHoverPen,
                parent=self,
                antialias=self._antialias,
            )
        return super().addHandle(info, index)

    def addSegment(self, h1, h2, index=None) -> None:  # noqa: N802 - pyqtgraph override
        # pyqtgraph's own PolyLineROI.addSegment (0.14), with an edge that keeps its bounding rectangle
        seg = _ContourEdge(
            handles=(h1, h2),
            pen=self.pen,
            hoverPen=self.hoverPen,
            parent=self,
            movable=False,
            antialias=self._antialias,
        )
        if index is None:
            self.segments.append(seg)
        else:
            self.segments.insert(index, seg)
        seg.sigClicked.connect(self.segmentClicked)
        seg.setAcceptedMouseButtons(Qt.MouseButton.LeftButton)
        seg.setZValue(self.zValue() + 1)
        for h in seg.handles:
            h["item"].setDeletable(True)
            # the handles take left clicks too, so no handle is added on top of another
            h["item"].setAcceptedMouseButtons(h["item"].acceptedMouseButtons() | Qt.MouseButton.LeftButton)

    def replace_points(self, points: list[tuple[float, float]]) -> None:
        """The polygon becomes ``points`` (this item's coordinates).  The handles and edges there
        are moved, and only the difference added or removed: building an edge is a whole pyqtgraph
        ROI (about a millisecond), and a brushed region's outline has up to 96 vertices."""
        self._quiet = True
        try:
            if len(points) < 3 or len(self.handles) < 3:
                self.setPoints(points, closed=True)
            else:
                self.prepareGeometryChange()
                while len(self.handles) > len(points):
                    self.removeHandle(self.handles[-1]["item"])
                for seg in self.segments:
                    seg.prepareGeometryChange()  # their ends move under them
                for info, (x, y) in zip(self.handles, points, strict=False):
                    info["pos"] = pg.Point(x, y)  # as ROI.movePoint keeps a free handle's
                    info["item"].setPos(info["pos"])
                for x, y in points[len(self.handles) :]:
                    self._append(QPointF(x, y))
        finally:
            self._quiet = False
        self.lastState = self.getState()  # no change signal: the region was set from the answer
        self.update()

    def raise_handles(self) -> None:
        """Vertices above the edges (both are this item's children; pyqtgraph stacks edges at
        z + 1): a press on a vertex drags it, not the edge under it (which adds a vertex)."""
        top = max((seg.zValue() for seg in self.segments), default=self.zValue()) + 1
        for h in self.getHandles():
            h.setZValue(top)

    def append_vertex(self, pos: QPointF) -> None:
        """One vertex more after the last one, on the closing edge (last -> first), in this
        item's coordinates; the handles stay in the order the points were placed in.

        (``segmentClicked`` on the closing edge would put the new handle first, so the next
        point placed would land between the last two, crossing the polygon.)"""
        self.prepareGeometryChange()  # the polygon's path (this item's bounds) grows
        self._quiet = True  # addFreeHandle would compute the whole ROI state twice
        try:
            self._append(pos)
        finally:
            self._quiet = False
        self.lastState = self.getState()
        self.update()

    def _append(self, pos: QPointF) -> None:
        first, last = self.handles[0]["item"], self.handles[-1]["item"]
        closing = next(s for s in self.segments if s.handles[0]["item"] is last and s.handles[1]["item"] is first)
        new = self.addFreeHandle(pos)
        self.addSegment(new, first)
        closing.replaceHandle(first, new)


class RegionEditorPanel(AnswerPanel):
    """Side panel (tools, area, combined question) plus the editing items in one viewport."""

    state: RegionAnswer
    region_edited = Signal()  # the region changed (area, Submit enabled)

    def __init__(self, state: RegionAnswer, parent: QWidget | None = None) -> None:
        super().__init__(state, parent)
        self.tool = "outline"
        self.brush_px = 6.0
        self.viewport = None
        self.canvas: RegionCanvas | None = None
        self.roi: ContourROI | None = None
        self._plane = 0
        self._syncing = False
        self._placed: list[bool] = []  # per vertex of the outline being placed: did it push an undo step
        self._drawing = True  # clicks place new vertices (a polygon being drawn)
        self._last_point: tuple[float, float] | None = None  # of the brush stroke in progress
        self._stroke_cut = False  # the stroke was ended under the hand (tool or slice changed)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.tool_buttons: dict[str, QPushButton] = {}
        group = QButtonGroup(self)
        group.setExclusive(True)
        row = QHBoxLayout()
        for name in TOOLS:
            b = QPushButton(f"{name.capitalize()} {TOOL_KEYS[name]}")
            b.setObjectName("toolButton")
            b.setToolTip(f"{name.capitalize()} tool (key {TOOL_KEYS[name]})")
            b.setCheckable(True)
            b.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            b.clicked.connect(lambda _=False, n=name: self.set_tool(n))
            group.addButton(b)
            row.addWidget(b)
            self.tool_buttons[name] = b
        layout.addLayout(row)
        size_row = QHBoxLayout()
        size_label = QLabel("Brush radius")
        size_label.setObjectName("hint")
        size_row.addWidget(size_label)
        self.size_slider = QSlider(Qt.Orientation.Horizontal)
        self.size_slider.setRange(1, 60)
        self.size_slider.setValue(int(self.brush_px))
        self.size_slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.size_slider.valueChanged.connect(self.on_brush_size_changed)
        size_row.addWidget(self.size_slider, 1)
        self.undo_button = QPushButton("Undo  Ctrl+Z")
        self.undo_button.setObjectName("barButton")
        self.undo_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.undo_button.clicked.connect(self.on_undo_clicked)
        size_row.addWidget(self.undo_button)
        layout.addLayout(size_row)
        self.hint_label = QLabel()  # what a click or drag does now
        self.hint_label.setObjectName("hint")
        self.hint_label.setWordWrap(True)
        layout.addWidget(self.hint_label)
        self.area_label = QLabel()
        self.area_label.setObjectName("confidenceValue")
        layout.addWidget(self.area_label)
        self.binary_panel: BinaryAnswerPanel | None = None
        if state.binary is not None:
            layout.addSpacing(8)
            q = QLabel(state.task.also_question or "Your answer")
            q.setObjectName("questionLabel")
            q.setWordWrap(True)
            layout.addWidget(q)
            self.binary_panel = BinaryAnswerPanel(state.binary)
            self.binary_panel.answer_changed.connect(self.on_binary_changed)
            layout.addWidget(self.binary_panel)
        self.refresh()

    # -- binding -------------------------------------------------------------------
    def bind(self, state: RegionAnswer) -> None:
        self.state = state
        if self.binary_panel is not None and state.binary is not None:
            self.binary_panel.bind(state.binary)
        self._drawing = True
        self.set_tool("outline")
        self.refresh()

    def attach(self, viewport) -> None:
        """Put the editing items in ``viewport`` (the task role's) and show the answer's region."""
        warm_up(regiongeometry.load_libraries)  # the first brush stroke's outline fit needs them
        if viewport is not self.viewport:
            self.detach()
            self.viewport = viewport
            self.canvas = RegionCanvas(self)
            viewport.view_box.addItem(self.canvas, ignoreBounds=True)
            self.roi = ContourROI(
                [], closed=True, pen=pg.mkPen(READER_COLOR, width=2), handlePen=pg.mkPen(READER_COLOR)
            )
            self.roi.setZValue(20)
            viewport.view_box.addItem(self.roi, ignoreBounds=True)
            self.roi.sigRegionChanged.connect(self.on_polygon_moving)
            self.roi.sigRegionChangeFinished.connect(self.on_polygon_moved)
            viewport.slice_changed.connect(self.on_slice_changed)
        self._plane = self._plane_of(viewport.current_index)
        if self.state.mask is not None:  # a brush about 1 % of the image, at most 1/8 of it
            side = max(self.state.mask.shape[1:])
            self.size_slider.setRange(1, max(8, side // 8))
            self.size_slider.setValue(max(3, round(side / 100)))
        self.canvas.set_extent(viewport.image_extent)
        self.canvas.set_masks(self.state.mask.copy() if self.state.mask is not None else None, 1)
        self._show_plane()
        self._drawing = not self._plane_mask().any()
        self.refresh()

    def detach(self) -> None:
        if self.viewport is None:
            return
        for item in (self.canvas, self.roi):
            if item is not None:
                self.viewport.view_box.removeItem(item)
        try:
            self.viewport.slice_changed.disconnect(self.on_slice_changed)
        except (RuntimeError, TypeError):
            pass
        self.viewport = self.canvas = self.roi = None

    # -- tools ---------------------------------------------------------------------
    def set_tool(self, name: str) -> None:
        if name not in TOOLS:
            raise ValueError(f"unknown region tool {name!r}")
        self._cut_stroke()  # a stroke under the hand ends with the tool it was drawn with
        self.tool = name
        self.tool_buttons[name].setChecked(True)
        if name != "outline":
            self._drawing = False
            self._fill_with_polygon(False)  # the polygon is hidden: the raster shows the region
        if self.roi is not None:  # the polygon is shown (and takes the mouse) only while outlining
            self.roi.setVisible(name == "outline")
        self.refresh()

    def undo(self) -> bool:
        """Ctrl+Z: while an outline is being placed, its last vertex goes (the region becomes the
        polygon before it); otherwise the mask goes back to before the last edit."""
        self._cut_stroke()
        if self._drawing and self.tool == "outline" and self.roi is not None and self._placed:
            kept = self._vertices()[:-1]
            if self._placed.pop():  # the vertex changed the region: that step goes back
                self.state.undo()
            else:
                self.state.note_vertex()  # an edit all the same
            self._set_roi(kept)
            self._fill_with_polygon(len(kept) >= 3)
            self._edited()
            return True
        if not self.state.undo():
            return False
        self._redraw_region()
        self._drawing = not self._plane_mask().any()
        self._edited()
        return True

    def new_outline(self) -> bool:
        """N: start the slice's outline again (the region there is cleared: one undo step)."""
        self._cut_stroke()
        if self.tool != "outline":
            self.set_tool("outline")
        if self._drawing or not self.state.ready:
            return False
        self.state.clear(self._plane)
        self._redraw_region()
        self._drawing = True
        self._edited()
        return True

    @property
    def can_undo(self) -> bool:
        return self.state.can_undo or (self._drawing and bool(self._placed))

    @property
    def _drawing(self) -> bool:
        return self.__drawing

    @_drawing.setter
    def _drawing(self, value: bool) -> None:
        if not value or not getattr(self, "_RegionEditorPanel__drawing", False):
            self._placed = []  # a new outline begins, or placing ended
        self.__drawing = value

    # -- slots ---------------------------------------------------------------------
    def on_brush_size_changed(self, value: int) -> None:
        self.brush_px = float(value)

    def on_undo_clicked(self) -> None:
        self.undo()

    def on_binary_changed(self) -> None:
        self.state.changes = self.state.binary.changes
        self._changed()

    def on_canvas_clicked(self, x: float, y: float) -> None:
        """Outline tool: a click places a vertex (while a polygon is being drawn)."""
        if self.roi is None or not self.state.ready or not self._drawing:
            return
        pts = [*self._vertices(), (x, y)]
        if len(pts) >= 3 and len(self.roi.getHandles()) == len(pts) - 1:  # one vertex more on the closing edge
            self._syncing = True
            try:
                self.roi.append_vertex(self.roi.mapFromItem(self.canvas, QPointF(x, y)))
                handles = self.roi.getHandles()
                handles[-1].setZValue(handles[0].zValue())  # with the others, above the edges
            finally:
                self._syncing = False
        else:
            self._set_roi(np.asarray(pts))
        if len(pts) >= 3:
            self._placed.append(self.state.set_polygon(self._plane, np.asarray(pts)))
            self._fill_with_polygon(True)  # the region is the polygon: no raster to rebuild and draw
        else:
            self.state.note_vertex()
            self._placed.append(False)
        self._edited()

    def on_polygon_moving(self, _roi=None) -> None:
        """While a vertex is dragged the region is the polygon (rasterized when the drag ends):
        the polygon's own fill follows the drag, the raster fill would be stale."""
        if not self._syncing:
            self._fill_with_polygon(True)

    def on_polygon_moved(self, _roi=None) -> None:
        """A vertex was dragged (or the polygon moved, or a vertex added on an edge): the region
        becomes the polygon, which goes on drawing its fill."""
        if self._syncing or not self.state.ready:
            return
        self._drawing = False
        self._fill_with_polygon(True)
        if self.state.set_polygon(self._plane, self._vertices()):
            self._edited()
        else:
            self.refresh()  # placing ended: the hint says what a click does now

    def on_canvas_stroked(self, points: list[tuple[float, float]], phase: str) -> None:
        if not self.state.ready:
            return
        if phase != "start" and self._stroke_cut:  # the rest of a stroke ended under the hand
            self._stroke_cut = phase != "finish"
            return
        if phase == "start":
            self._stroke_cut = False
            self._fill_with_polygon(False)
            self.state.begin_stroke()
        elif self._last_point is not None:  # continue the line from the previous mouse position
            points = [self._last_point, *points]
        self._last_point = points[-1]
        if self.state.stroke_to(self._plane, np.asarray(points), self.brush_px, self.tool == "eraser"):
            self._redraw_fill()
        if phase == "finish":
            self._last_point = None
            if self.state.end_stroke():
                self._set_roi(self.state.polygon(self._plane))
                self._edited()

    def on_slice_changed(self, index: int) -> None:
        self._cut_stroke()  # a stroke stays on the slice it began on
        self._plane = self._plane_of(index)
        self._show_plane()

    # -- drawing -------------------------------------------------------------------
    def refresh(self) -> None:
        s = self.state
        self.area_label.setText(s.area_text() if s.ready else "")
        self.hint_label.setText(self._hint())
        self.undo_button.setEnabled(self.can_undo)
        self.tool_buttons[self.tool].setChecked(True)
        if self.binary_panel is not None:
            self.binary_panel.refresh()

    def _hint(self) -> str:
        if self.tool == "brush":
            return "Drag to paint onto the region."
        if self.tool == "eraser":
            return "Drag to paint off the region."
        if self._drawing:
            return f"Click points around the {self.state.task.region}; Ctrl+Z takes the last one back."
        return "Drag a vertex to move it, click an edge to add one; N starts a new outline."

    def _cut_stroke(self) -> None:
        """End a brush / eraser stroke in progress as one edit; the rest of its drag is ignored."""
        if not self.state.ready or not self.state.stroking:
            return
        self._last_point = None
        self._stroke_cut = True
        if self.state.end_stroke():
            self._set_roi(self.state.polygon(self._plane))
            self._edited()

    def _edited(self) -> None:
        self.refresh()
        self.region_edited.emit()
        self.answer_changed.emit()

    def _plane_of(self, index: int) -> int:
        n = 1 if self.state.mask is None else self.state.mask.shape[0]
        return int(np.clip(index, 0, n - 1))

    def _plane_mask(self) -> np.ndarray:
        return self.state.mask[self._plane] if self.state.mask is not None else np.zeros((0, 0), bool)

    def _show_plane(self) -> None:
        if self.canvas is None or self.state.mask is None:
            return
        self._redraw_region()

    def _redraw_fill(self) -> None:
        if self.canvas is not None and self.state.mask is not None and self.canvas.drawn:
            self.canvas.set_masks(self.state.mask[self._plane][None], 1)

    def _fill_with_polygon(self, on: bool) -> None:
        """Who draws the region's fill: the polygon (``on``; the region is exactly the polygon's
        pixels, and a vector fill is far cheaper to repaint than a full-image layer while vertices
        are placed or dragged, issue 16's 16.7 ms budget) or the raster of the mask (a brushed,
        undone or loaded region, which may have holes or several parts)."""
        if self.canvas is None or self.roi is None or self.canvas.drawn != on:
            return
        fill = QColor(READER_COLOR)
        fill.setAlphaF(READER_OPACITY)
        self.roi.set_fill(fill if on else None)
        self.canvas.drawn = not on
        if on:
            self.canvas.update()
        else:
            self._redraw_fill()

    def _redraw_region(self) -> None:
        self._fill_with_polygon(False)
        self._redraw_fill()
        if self.state.mask is not None:
            self._set_roi(self.state.polygon(self._plane))

    def _vertices(self) -> np.ndarray:
        """The polygon's vertices in image pixels (x, y), (K, 2)."""
        if self.roi is None or self.canvas is None:
            return np.zeros((0, 2))
        pts = [self.canvas.mapFromScene(self.roi.mapToScene(h.pos())) for h in self.roi.getHandles()]
        return np.array([(p.x(), p.y()) for p in pts]).reshape(-1, 2)

    def _set_roi(self, vertices: np.ndarray) -> None:
        if self.roi is None or self.canvas is None:
            return
        self._syncing = True
        try:
            self.roi.setPos(0, 0)
            pts = [self.canvas.mapToParent(QPointF(float(x), float(y))) for x, y in np.asarray(vertices)]
            self.roi.replace_points([(p.x(), p.y()) for p in pts])
            self.roi.raise_handles()
            self.roi.setVisible(self.tool == "outline")
        finally:
            self._syncing = False
