"""Mouse input on the region editor's viewport, as a hand gives it (for the reading tests)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication


@pytest.fixture
def every_mouse_move():
    """Synthetic moves arrive microseconds apart: pyqtgraph's rate limit would drop them."""
    import pyqtgraph as pg

    saved = pg.getConfigOption("mouseRateLimit")
    pg.setConfigOption("mouseRateLimit", 0)
    yield
    pg.setConfigOption("mouseRateLimit", saved)


def _widget_pos(screen, x: float, y: float) -> QPoint:
    """Image pixel (x, y) of the region viewport -> a point of its graphics view's viewport widget.

    The screen is laid out and painted first, as it is before a reader's hand moves (a resize
    takes effect on the next paint)."""
    vp = screen.region_viewport()
    screen.window().grab()
    scene = screen.region_editor.canvas.mapToScene(QPointF(x, y))
    return vp.graphics.mapFromScene(scene)


def _send(screen, kind, pos: QPoint, button, buttons) -> None:
    target = screen.region_viewport().graphics.viewport()
    ev = QMouseEvent(
        kind, QPointF(pos), QPointF(target.mapToGlobal(pos)), button, buttons, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(target, ev)


def click(screen, x: float, y: float) -> None:
    pos = _widget_pos(screen, x, y)
    left = Qt.MouseButton.LeftButton
    _send(screen, QEvent.Type.MouseButtonPress, pos, left, left)
    _send(screen, QEvent.Type.MouseButtonRelease, pos, left, Qt.MouseButton.NoButton)


def drag(screen, a: tuple[float, float], b: tuple[float, float], steps: int = 6) -> None:
    """Hover over ``a``, press, move to ``b`` in steps (the first one short, as a hand's), release."""
    left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
    pa, pb = _widget_pos(screen, *a), _widget_pos(screen, *b)
    _send(screen, QEvent.Type.MouseMove, pa, none, none)
    _send(screen, QEvent.Type.MouseButtonPress, pa, left, left)
    _send(screen, QEvent.Type.MouseMove, pa + QPoint(1, 1), none, left)
    for i in range(1, steps + 1):
        p = pa + (pb - pa) * i / steps
        _send(screen, QEvent.Type.MouseMove, p, Qt.MouseButton.NoButton, left)
    _send(screen, QEvent.Type.MouseButtonRelease, pb, left, Qt.MouseButton.NoButton)
