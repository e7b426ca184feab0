"""Fixtures for the viewer tests: small synthetic Media and a shown viewport."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest

import app.viewer  # noqa: F401 - configures pyqtgraph (row-major) before any widget
from app.viewer import HangingLayoutWidget, ViewportWidget
from study.media.types import Media

# pyqtgraph drops mouse moves closer than 10 ms apart; synthetic drags send
# theirs within microseconds, so the throttle is off for the tests.
pg.setConfigOption("mouseRateLimit", 0)


class FakeClock:
    """A monotonic clock in seconds that only moves when told to."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _readonly(a: np.ndarray) -> np.ndarray:
    a.flags.writeable = False  # the media layer hands out read-only frames
    return a


@pytest.fixture
def make_series():
    def make(
        n: int = 20,
        h: int = 64,
        w: int = 48,
        *,
        spacing=(1.0, 1.0),
        positions=None,
        frame_of_reference: str | None = "1.2.3",
        window=(500.0, 1000.0),
        low: float = 0.0,
        source: str = "/data/DOE^JANE_12345/T2axi",
    ) -> Media:
        # Each slice differs (offset by index) and has a horizontal ramp, so a
        # W/L change or slice change shows up in rendered pixels.
        ramp = np.linspace(low, low + 1000.0, w, dtype=np.float32)
        frames = np.empty((n, h, w), np.float32)
        frames[:] = ramp
        frames += (np.arange(n, dtype=np.float32) * 10.0)[:, None, None]
        if positions is None:
            positions = tuple(float(i) * 3.0 for i in range(n))
        return Media(
            frames=_readonly(frames),
            kind="series",
            spacing=spacing,
            slice_positions=tuple(positions),
            frame_of_reference=frame_of_reference,
            window=window,
            source=source,
        )

    return make


@pytest.fixture
def make_video():
    def make(n: int = 15, h: int = 40, w: int = 60, fps: float = 15.0) -> Media:
        frames = np.zeros((n, h, w, 3), np.uint8)
        for i in range(n):
            frames[i, :, :, 0] = 17 * i  # red grows with the frame index
            frames[i, :, : w // 2, 1] = 200
        return Media(frames=_readonly(frames), kind="video", fps=fps, source="/videos/clip.mp4")

    return make


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def viewport(qtbot, fake_clock) -> ViewportWidget:
    vp = ViewportWidget(clock=fake_clock)
    qtbot.addWidget(vp)
    vp.resize(320, 360)
    with qtbot.waitExposed(vp):  # waits only as a context manager
        vp.show()
    return vp


@pytest.fixture
def layout(qtbot, fake_clock) -> HangingLayoutWidget:
    lay = HangingLayoutWidget(clock=fake_clock)
    qtbot.addWidget(lay)
    lay.resize(900, 360)
    with qtbot.waitExposed(lay):  # waits only as a context manager
        lay.show()
    return lay


class Gestures:
    """Real input events sent to a viewport's graphics view."""

    def __init__(self, qtbot) -> None:
        self.qtbot = qtbot

    @staticmethod
    def center(vp: ViewportWidget):
        return vp.graphics.viewport().rect().center()

    def wheel(self, vp: ViewportWidget, notches: int, modifiers=None) -> None:
        from PySide6.QtCore import QPoint, QPointF, Qt
        from PySide6.QtGui import QWheelEvent
        from PySide6.QtWidgets import QApplication

        target = vp.graphics.viewport()
        pos = QPointF(self.center(vp))
        ev = QWheelEvent(
            pos,
            QPointF(target.mapToGlobal(pos.toPoint())),
            QPoint(0, 0),
            QPoint(0, 120 * notches),
            Qt.MouseButton.NoButton,
            modifiers or Qt.KeyboardModifier.NoModifier,
            Qt.ScrollPhase.NoScrollPhase,
            False,
        )
        QApplication.sendEvent(target, ev)

    def drag(self, vp: ViewportWidget, button, dx: int, dy: int, steps: int = 4) -> None:
        from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
        from PySide6.QtGui import QMouseEvent
        from PySide6.QtWidgets import QApplication

        target = vp.graphics.viewport()
        start = self.center(vp)

        def send(kind, pos: QPoint, buttons) -> None:
            local = QPointF(pos)
            ev = QMouseEvent(
                kind,
                local,
                QPointF(target.mapToGlobal(pos)),
                button if kind != QEvent.Type.MouseMove else Qt.MouseButton.NoButton,
                buttons,
                Qt.KeyboardModifier.NoModifier,
            )
            QApplication.sendEvent(target, ev)

        send(QEvent.Type.MouseButtonPress, start, button)
        for i in range(1, steps + 1):
            send(QEvent.Type.MouseMove, start + QPoint(dx * i // steps, dy * i // steps), button)
        send(QEvent.Type.MouseButtonRelease, start + QPoint(dx, dy), Qt.MouseButton.NoButton)

    def double_click(self, vp: ViewportWidget) -> None:
        """Press, release, double-click, release with the left button, as a real double-click sends them."""
        from PySide6.QtCore import QEvent, QPointF, Qt
        from PySide6.QtGui import QMouseEvent
        from PySide6.QtWidgets import QApplication

        target = vp.graphics.viewport()
        pos = self.center(vp)
        left, none = Qt.MouseButton.LeftButton, Qt.MouseButton.NoButton
        for kind, buttons in (
            (QEvent.Type.MouseButtonPress, left),
            (QEvent.Type.MouseButtonRelease, none),
            (QEvent.Type.MouseButtonDblClick, left),
            (QEvent.Type.MouseButtonRelease, none),
        ):
            ev = QMouseEvent(
                kind, QPointF(pos), QPointF(target.mapToGlobal(pos)), left, buttons, Qt.KeyboardModifier.NoModifier
            )
            QApplication.sendEvent(target, ev)

    def hover(self, vp: ViewportWidget, fx: float, fy: float) -> None:
        from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
        from PySide6.QtGui import QMouseEvent
        from PySide6.QtWidgets import QApplication

        target = vp.graphics.viewport()
        r = target.rect()
        pos = QPoint(int(r.width() * fx), int(r.height() * fy))
        ev = QMouseEvent(
            QEvent.Type.MouseMove,
            QPointF(pos),
            QPointF(target.mapToGlobal(pos)),
            Qt.MouseButton.NoButton,
            Qt.MouseButton.NoButton,
            Qt.KeyboardModifier.NoModifier,
        )
        QApplication.sendEvent(target, ev)


@pytest.fixture
def gestures(qtbot) -> Gestures:
    return Gestures(qtbot)


def _pixels(widget) -> np.ndarray:
    """The rendered widget as (H, W, 3) bytes in memory order (B, G, R)."""
    from PySide6.QtGui import QImage

    img = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB32)
    rows = np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), img.bytesPerLine() // 4, 4)
    return rows[:, : img.width(), :3].copy()


@pytest.fixture
def pixels():
    """pixels(viewport) -> what its graphics view renders now."""
    return lambda vp: _pixels(vp.graphics if isinstance(vp, ViewportWidget) else vp)


@pytest.fixture(scope="session")
def demo_mri(tmp_path_factory) -> dict[str, Media]:
    """The first case of a 2-case demo MRI study (study/demo/mri.py) read by the media layer: role -> Media."""
    import csv

    from study.demo.mri import ROLES, build_mri
    from study.media import load

    study = build_mri(tmp_path_factory.mktemp("demo") / "mri", seed=3, n=2)
    with open(study / "cases.csv", newline="") as f:
        row = next(csv.DictReader(f))
    return {role: load(str(study / row[role])) for role in ROLES}


from tests.wsi_slides import wsi_slides  # noqa: E402, F401 - a session fixture shared with other folders
