"""The graphics view of a viewport and its ViewBox with clinical mouse bindings.

Mouse drags follow Weasis, OHIF and 3D Slicer by default: left drag
window/level, right drag zoom (up enlarges), middle drag pan; the buttons are
configurable (``app.viewer.settings``).  Wheel: slice scroll (ctrl+wheel or
pinch: zoom).  Double-click: ``double_clicked`` (the layout maximises the
viewport).  The ViewBox reports gestures through signals and leaves the
meaning (which slice, which window) to the viewport.
"""

from __future__ import annotations

from collections.abc import Mapping

import pyqtgraph as pg
from pyqtgraph import functions as fn
from PySide6.QtCore import QEvent, QPointF, Qt, Signal
from PySide6.QtWidgets import QPinchGesture, QWidget

from app.viewer.settings import DEFAULT_MOUSE

WHEEL_STEP = 120  # angle delta of one wheel notch
ZOOM_PER_PIXEL = 1.02  # a drag of one screen pixel scales the view by this (pyqtgraph's own rate)

_BUTTONS = {
    "left": Qt.MouseButton.LeftButton,
    "right": Qt.MouseButton.RightButton,
    "middle": Qt.MouseButton.MiddleButton,
}


class ViewportViewBox(pg.ViewBox):
    slice_scrolled = Signal(int)  # +1 = next slice
    window_dragged = Signal(float, float, bool)  # dx, dy in screen pixels; is_start
    double_clicked = Signal()

    def __init__(self, mouse: Mapping[str, str] = DEFAULT_MOUSE) -> None:
        super().__init__(lockAspect=True, enableMenu=False, invertY=True, defaultPadding=0.0)
        self._wheel_rest = 0
        self.set_mouse(mouse)

    def set_mouse(self, mouse: Mapping[str, str]) -> None:
        """Button name ("left", "right", "middle") -> action ("window", "zoom", "pan", "none")."""
        self._actions = {_BUTTONS[b]: action for b, action in mouse.items()}

    def action_for(self, button: Qt.MouseButton) -> str:
        return self._actions.get(button, "none")

    def wheelEvent(self, ev, axis=None) -> None:  # noqa: N802 - Qt override
        if ev.modifiers() & Qt.KeyboardModifier.ControlModifier:
            super().wheelEvent(ev, axis)
            return
        # Accumulate high-resolution deltas (trackpads) into whole slices.
        self._wheel_rest += ev.delta()
        steps = int(self._wheel_rest / WHEEL_STEP)
        self._wheel_rest -= steps * WHEEL_STEP
        if steps:
            self.slice_scrolled.emit(-steps)  # wheel towards the user = next slice
        ev.accept()

    def mouseClickEvent(self, ev) -> None:  # noqa: N802 - pyqtgraph override
        if ev.double() and ev.button() == Qt.MouseButton.LeftButton:
            ev.accept()
            self.double_clicked.emit()
            return
        super().mouseClickEvent(ev)

    def mouseDragEvent(self, ev, axis=None) -> None:  # noqa: N802 - Qt override
        action = self.action_for(ev.button())
        ev.accept()
        delta = ev.screenPos() - ev.lastScreenPos()
        if action == "window":
            self.window_dragged.emit(delta.x(), delta.y(), ev.isStart())
        elif action == "zoom":
            # Drag up enlarges, around the point where the drag started.
            inverse = fn.invertQTransform(self.childGroup.transform())
            center = pg.Point(inverse.map(ev.buttonDownPos(ev.button())))
            s = ZOOM_PER_PIXEL ** delta.y()
            self._resetTarget()
            self.scaleBy((s, s), center)
            self.sigRangeChangedManually.emit(self.state["mouseEnabled"])
        elif action == "pan":
            inverse = fn.invertQTransform(self.childGroup.transform())
            move = ev.lastPos() - ev.pos()
            shift = inverse.map(move) - inverse.map(pg.Point(0, 0))
            self._resetTarget()
            self.translateBy(x=shift.x(), y=shift.y())
            self.sigRangeChangedManually.emit(self.state["mouseEnabled"])
        else:
            ev.ignore()

    def zoom_at(self, factor: float, scene_pos: QPointF | None = None) -> None:
        """Zoom in by ``factor`` (>1 enlarges) around a scene point or the centre."""
        center = None if scene_pos is None else self.mapSceneToView(scene_pos)
        self.scaleBy((1 / factor, 1 / factor), center)


class ViewportGraphicsView(pg.GraphicsView):
    """A GraphicsView holding one ViewportViewBox; adds pinch-to-zoom."""

    def __init__(self, parent: QWidget | None = None, mouse: Mapping[str, str] = DEFAULT_MOUSE) -> None:
        super().__init__(parent, background="k")
        self.view_box = ViewportViewBox(mouse)
        self.setCentralItem(self.view_box)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys go to the viewport widget
        self.grabGesture(Qt.GestureType.PinchGesture)

    def viewportEvent(self, ev: QEvent) -> bool:  # noqa: N802 - Qt override
        if ev.type() == QEvent.Type.NativeGesture and ev.gestureType() == Qt.NativeGestureType.ZoomNativeGesture:
            # Trackpad pinch (macOS, libinput): value is the relative change.
            self.view_box.zoom_at(1.0 + ev.value(), self.mapToScene(ev.position().toPoint()))
            return True
        if ev.type() == QEvent.Type.Gesture:
            pinch = ev.gesture(Qt.GestureType.PinchGesture)
            if isinstance(pinch, QPinchGesture):
                self.view_box.zoom_at(pinch.scaleFactor())
                ev.accept()
                return True
        return super().viewportEvent(ev)
