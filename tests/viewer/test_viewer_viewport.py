"""ViewportWidget under real input events, offscreen."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGraphicsSimpleTextItem, QGraphicsTextItem, QVBoxLayout, QWidget

from app.viewer import ViewportWidget
from app.viewer.items import CornerLabel
from study.media.types import Media


def test_wheel_scrolls_slices_and_ctrl_wheel_zooms(viewport, make_series, gestures, qtbot, pixels):
    viewport.set_media(make_series(), start=0)
    before = pixels(viewport)
    with qtbot.waitSignal(viewport.slice_changed) as sig:
        gestures.wheel(viewport, -1)  # towards the user: next slice
    assert sig.args == [1]
    assert viewport.current_index == 1
    assert not np.array_equal(before, pixels(viewport))
    gestures.wheel(viewport, -3)
    assert viewport.current_index == 4
    gestures.wheel(viewport, 2)
    assert viewport.current_index == 2

    range_before = viewport.view_box.viewRect()
    gestures.wheel(viewport, 2, Qt.KeyboardModifier.ControlModifier)
    assert viewport.current_index == 2  # zoom, not scroll
    assert viewport.view_box.viewRect().width() < range_before.width()


def test_scroll_clamps_at_the_ends(viewport, make_series, gestures):
    viewport.set_media(make_series(n=3))
    gestures.wheel(viewport, 2)
    assert viewport.current_index == 0
    gestures.wheel(viewport, -10)
    assert viewport.current_index == 2


def test_page_keys_frame_keys_and_slider_change_slice(viewport, make_series, qtbot):
    viewport.set_media(make_series(), start=0)
    qtbot.keyClick(viewport, Qt.Key.Key_PageDown)
    qtbot.keyClick(viewport, Qt.Key.Key_PageDown)
    assert viewport.current_index == 2
    qtbot.keyClick(viewport, Qt.Key.Key_PageUp)
    assert viewport.current_index == 1
    qtbot.keyClick(viewport, Qt.Key.Key_Period)
    assert viewport.current_index == 2
    qtbot.keyClick(viewport, Qt.Key.Key_Comma)
    assert viewport.current_index == 1
    qtbot.keyClick(viewport, Qt.Key.Key_End)
    assert viewport.current_index == 19
    assert viewport.slider.value() == 19
    viewport.slider.setValue(7)
    assert viewport.current_index == 7


def test_left_drag_windows_right_drag_zooms_middle_drag_pans_and_r_resets(
    viewport, make_series, gestures, qtbot, pixels
):
    viewport.set_media(make_series())
    assert viewport.window == (500.0, 1000.0)
    assert viewport.preset_box.currentText() == "default"
    before = pixels(viewport)
    view_before = viewport.view_box.viewRect()
    with qtbot.waitSignal(viewport.window_changed):
        gestures.drag(viewport, Qt.MouseButton.LeftButton, 60, 0)
    center, width = viewport.window
    assert center == 500.0 and width > 1000.0
    assert viewport.preset_box.currentText() == "custom"  # a manual change is no preset any more
    assert not np.array_equal(before, pixels(viewport))
    gestures.drag(viewport, Qt.MouseButton.LeftButton, 0, 40)
    assert viewport.window[0] > 500.0  # dragging down darkens: higher level
    assert viewport.view_box.viewRect() == view_before  # windowing left the view alone

    window = viewport.window
    gestures.drag(viewport, Qt.MouseButton.RightButton, 0, -40)  # right drag up enlarges
    zoomed = viewport.view_box.viewRect()
    assert zoomed.width() < view_before.width() * 0.6
    assert viewport.window == window  # zoom left the window alone
    gestures.drag(viewport, Qt.MouseButton.MiddleButton, 50, 0)  # middle drag pans
    panned = viewport.view_box.viewRect()
    assert panned.width() == pytest.approx(zoomed.width())
    assert panned.x() < zoomed.x()  # the image follows the mouse to the right
    assert viewport.window == window

    qtbot.keyClick(viewport, Qt.Key.Key_R)
    assert viewport.window == (500.0, 1000.0)
    assert viewport.preset_box.currentText() == "default"
    assert viewport.view_box.viewRect().x() == pytest.approx(view_before.x(), abs=1e-6)
    assert viewport.view_box.viewRect().width() == pytest.approx(view_before.width(), abs=1e-6)
    assert np.array_equal(before, pixels(viewport))


def test_presets_ct_like_and_mr_like(viewport, make_series, qtbot):
    viewport.set_media(make_series(low=-1000.0))  # reaches air: CT-like
    names = viewport.window_presets()
    assert {"default", "soft tissue", "brain", "bone", "full range"} <= set(names)
    viewport.apply_preset("bone")
    assert viewport.window == (400.0, 1800.0)
    assert "W 1800  L 400" in viewport.corner_text()
    qtbot.keyClick(viewport, Qt.Key.Key_W)  # cycles to the next preset
    assert viewport.window != (400.0, 1800.0)

    viewport.set_media(make_series(window=None))  # MR-like, no stored window: percentiles
    names = viewport.window_presets()
    assert "bone" not in names and "auto (1-99%)" in names
    c, w = viewport.window
    assert 0 < w < 1200 and 0 < c < 1200


def test_aspect_follows_pixel_spacing(viewport, make_series):
    viewport.set_media(make_series(h=64, w=48, spacing=(2.0, 1.0)))  # rows 2 mm apart
    rect = viewport.image_item.sceneBoundingRect()
    assert rect.height() / rect.width() == pytest.approx(64 * 2.0 / 48, rel=0.02)


def test_corner_label_shows_position_and_window_but_nothing_identifying(viewport, make_series):
    media = make_series()
    viewport.set_media(media, title="T2axi")
    viewport.set_slice(4)
    text = viewport.corner_text()
    assert "slice 5/20" in text and "W 1000  L 500" in text and "T2axi" in text
    shown = [text]
    for item in viewport.graphics.scene().items():
        if isinstance(item, (QGraphicsTextItem, QGraphicsSimpleTextItem)):
            shown.append(item.text() if hasattr(item, "text") else item.toPlainText())
        if isinstance(item, CornerLabel):
            shown.append(item.text())
    blob = "\n".join(shown)
    for token in ("DOE", "JANE", "12345", "/data", media.source):
        assert token not in blob


def test_color_media_shows_without_window(viewport, make_video, pixels):
    video = make_video(n=1)
    viewport.set_media(Media(frames=video.frames, kind="image"))
    assert viewport.window is None
    assert "W " not in viewport.corner_text()
    assert not viewport.preset_box.isVisible()
    px = pixels(viewport)
    h, w = px.shape[:2]
    left = px[h // 2, w // 4]  # green half of the test picture (BGR in memory)
    assert left[1] > 150 and left[2] < 50


def test_cine_plays_at_native_fps_with_fake_clock(viewport, make_video, fake_clock):
    viewport.set_media(make_video(n=15, fps=15.0))
    seen = []
    viewport.slice_changed.connect(seen.append)
    viewport.play()
    assert viewport.cine.is_playing
    fake_clock.now += 0.2  # 200 ms at 15 fps = 3 frames
    viewport.cine.on_tick()
    assert viewport.current_index == 3
    assert "frame 4/15  0.20 s" in viewport.corner_text()
    viewport.advance_cine(1000)  # one second later: looped back to the same frame
    assert viewport.current_index == 3
    viewport.advance_cine(1000 / 15)
    assert viewport.current_index == 4
    assert seen == [3, 4]  # a full loop landing on the same frame emits nothing
    viewport.stop()
    fake_clock.now += 1.0
    viewport.cine.on_tick()
    assert viewport.current_index == 4


def test_cine_follows_the_frame_times_of_a_variable_rate_clip(viewport, make_video):
    """A phone clip whose frames are unevenly spaced: each frame stays as long as its timestamps say."""
    import dataclasses

    clip = dataclasses.replace(make_video(n=4, fps=5.0), frame_times=(0.0, 0.1, 0.5, 0.6))
    viewport.set_media(clip)
    viewport.set_slice(0)
    assert viewport.fps_box.value() == 5.0  # the file's average rate: real time
    viewport.play()
    viewport.advance_cine(100)
    assert viewport.current_index == 1
    viewport.advance_cine(300)  # 0.4 s: frame 1 (0.1 s) is still on screen, frame 2 comes at 0.5 s
    assert viewport.current_index == 1
    viewport.advance_cine(100)
    assert viewport.current_index == 2
    viewport.advance_cine(100)
    assert viewport.current_index == 3
    viewport.advance_cine(200)  # 0.8 s: after the last frame's average duration (0.2 s) the clip loops
    assert viewport.current_index == 0
    viewport.stop()


def test_cine_real_timer_advances(qtbot, make_video):
    vp = ViewportWidget()
    qtbot.addWidget(vp)
    vp.set_media(make_video(n=15, fps=30.0))
    with qtbot.waitSignal(vp.cine_toggled):
        qtbot.keyClick(vp, Qt.Key.Key_K)
    with qtbot.waitSignal(vp.slice_changed, timeout=2000):
        pass
    vp.stop()
    assert not vp.cine.is_playing


def test_user_scroll_stops_cine(viewport, make_video, gestures):
    viewport.set_media(make_video())
    viewport.play()
    gestures.wheel(viewport, -1)
    assert not viewport.cine.is_playing
    assert viewport.current_index == 1


def test_unhandled_keys_reach_the_parent(qtbot, make_series):
    class Parent(QWidget):
        def __init__(self) -> None:
            super().__init__()
            self.keys: list[int] = []
            self.viewport = ViewportWidget(self)
            QVBoxLayout(self).addWidget(self.viewport)

        def keyPressEvent(self, ev) -> None:  # noqa: N802
            self.keys.append(ev.key())

    parent = Parent()
    qtbot.addWidget(parent)
    parent.viewport.set_media(make_series())
    answer_keys = [
        Qt.Key.Key_1,
        Qt.Key.Key_0,
        Qt.Key.Key_Return,
        Qt.Key.Key_Enter,
        Qt.Key.Key_Space,
        Qt.Key.Key_Up,
        Qt.Key.Key_Down,
        Qt.Key.Key_Left,
        Qt.Key.Key_Right,
    ]
    start = parent.viewport.current_index
    for key in answer_keys:
        qtbot.keyClick(parent.viewport, key)
    assert parent.keys == answer_keys  # every answer key reaches the answer form
    assert parent.viewport.current_index == start and not parent.viewport.cine.is_playing


def test_set_media_none_clears(viewport, make_series):
    viewport.set_media(make_series())
    viewport.set_media(None)
    assert viewport.media is None and viewport.corner_text() == ""
    viewport.set_slice(3)  # harmless
    assert viewport.current_index == 0


def test_trackpad_pinch_zooms(viewport, make_series):
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QNativeGestureEvent, QPointingDevice
    from PySide6.QtWidgets import QApplication

    viewport.set_media(make_series())
    before = viewport.view_box.viewRect().width()
    target = viewport.graphics.viewport()
    pos = QPointF(target.rect().center())
    ev = QNativeGestureEvent(
        Qt.NativeGestureType.ZoomNativeGesture,
        QPointingDevice.primaryPointingDevice(),
        2,
        pos,
        pos,
        QPointF(target.mapToGlobal(pos.toPoint())),
        0.5,
        QPointF(0, 0),
    )
    QApplication.sendEvent(target, ev)
    assert viewport.view_box.viewRect().width() == pytest.approx(before / 1.5, rel=0.05)
    assert viewport.current_index == 10  # zoom, not scroll


def test_magnified_image_is_interpolated(viewport, pixels):
    checker = np.array([[[0.0, 1000.0], [1000.0, 0.0]]], np.float32)
    viewport.set_media(Media(frames=checker, kind="dicom", window=(500.0, 1000.0)))
    rect = viewport.view_box.mapViewToScene(viewport.image_extent).boundingRect().toRect()
    quarter_row = lambda: pixels(viewport)[rect.top() + rect.height() // 4, rect.left() + 4 : rect.right() - 4, 1]  # noqa: E731
    assert len(np.unique(quarter_row())) > 20  # a ramp between the two squares
    viewport.image_item.smooth = False
    viewport.image_item.update()
    assert set(np.unique(quarter_row())) <= {0, 255}


def test_per_frame_windows_are_followed_until_the_reader_sets_one(viewport, make_series):
    """Enhanced multi-frame DICOM with a Frame VOI LUT per frame: each frame shows in its own window."""
    import dataclasses

    series = make_series(n=3)
    windows = ((100.0, 50.0), (300.0, 60.0), (500.0, 70.0))
    viewport.set_media(dataclasses.replace(series, frame_windows=windows), start=0)
    assert viewport.window == windows[0]
    viewport.set_slice(2)
    assert viewport.window == windows[2]
    viewport.set_window(250.0, 80.0)  # the reader's own window holds on every frame
    viewport.set_slice(1)
    assert viewport.window == (250.0, 80.0)
    viewport.reset()  # back to the defaults: per-frame again
    assert viewport.window == windows[1]
