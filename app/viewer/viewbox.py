"""The graphics view of a viewport and its ViewBox with clinical mouse bindings.

wheel: slice scroll (ctrl+wheel or pinch: zoom); left drag: pan; right drag:
window/level.  The ViewBox reports gestures through signals and leaves the
meaning (which slice, which window) to the viewport.
"""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QEvent, QPointF, Qt, Signal
from PySide6.QtWidgets import QPinchGesture, QWidget

WHEEL_STEP = 120  # angle delta of one wheel notch


class ViewportViewBox(pg.ViewBox):
    slice_scrolled = Signal(int)  # +1 = next slice
    window_dragged = Signal(float, float, bool)  # dx, dy in screen pixels; is_start

    def __init__(self) -> None:
        super().__init__(lockAspect=True, enableMenu=False, invertY=True, defaultPadding=0.0)
        self._wheel_rest = 0

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

    def mouseDragEvent(self, ev, axis=None) -> None:  # noqa: N802 - Qt override
        if ev.button() == Qt.MouseButton.RightButton:
            ev.accept()
            delta = ev.screenPos() - ev.lastScreenPos()
            self.window_dragged.emit(delta.x(), delta.y(), ev.isStart())
            return
        super().mouseDragEvent(ev, axis)

    def zoom_at(self, factor: float, scene_pos: QPointF | None = None) -> None:
        """Zoom in by ``factor`` (>1 enlarges) around a scene point or the centre."""
        center = None if scene_pos is None else self.mapSceneToView(scene_pos)
        self.scaleBy((1 / factor, 1 / factor), center)


class ViewportGraphicsView(pg.GraphicsView):
    """A GraphicsView holding one ViewportViewBox; adds pinch-to-zoom."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, background="k")
        self.view_box = ViewportViewBox()
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
