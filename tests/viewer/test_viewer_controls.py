"""Viewer controls a reader touches: preset box, cine speed, keys, mouse settings file."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QStyle, QStyleOptionComboBox

from app.viewer import HangingLayoutWidget, ViewportWidget
from app.viewer.keys import KEY_ACTIONS, VIEWER_KEYS
from app.viewer.settings import (
    ViewerSettings,
    ViewerSettingsError,
    load_settings,
    settings_path,
)


def text_room(box) -> int:
    """Width in pixels the combo box gives its text (without frame and arrow)."""
    opt = QStyleOptionComboBox()
    box.initStyleOption(opt)
    return (
        box.style()
        .subControlRect(QStyle.ComplexControl.CC_ComboBox, opt, QStyle.SubControl.SC_ComboBoxEditField, box)
        .width()
    )


def test_preset_box_shows_every_name_whole_even_in_a_narrow_layout(qtbot, make_series):
    lay = HangingLayoutWidget()
    qtbot.addWidget(lay)
    lay.resize(760, 300)  # three viewports of ~250 px, as beside the answer panel
    ct = make_series(n=30, low=-1000.0, window=(40.0, 400.0))  # CT-like: the CT presets join the list
    lay.set_case({"a": ct, "b": make_series(), "c": make_series()})
    with qtbot.waitExposed(lay):  # waits only as a context manager
        lay.show()
    vp = lay.viewport("a")
    qtbot.keyClick(vp, Qt.Key.Key_W)  # computes the statistics: all presets are listed now
    box = vp.preset_box
    names = [box.itemText(i) for i in range(box.count())]
    assert {"soft tissue", "auto (1-99%)", "full range"} <= set(names)
    widest = max(box.fontMetrics().horizontalAdvance(n) for n in names)
    qtbot.waitUntil(lambda: text_room(box) >= widest)
    vp.set_window(0.0, 10.0)
    assert box.currentText() == "custom"
    qtbot.waitUntil(lambda: text_room(box) >= box.fontMetrics().horizontalAdvance("custom"))


def test_preset_box_custom_after_manual_change_and_preset_name_after_a_preset(viewport, make_series, qtbot):
    viewport.set_media(make_series(low=-1000.0))
    assert viewport.preset_box.currentText() == "default"
    viewport.set_window(10.0, 300.0)
    assert viewport.preset_box.currentText() == "custom"
    viewport.apply_preset("lung")
    assert viewport.preset_box.currentText() == "lung" and viewport.window == (-600.0, 1500.0)
    assert viewport.preset_box.findText("custom") < 0  # "custom" is listed only while it applies
    viewport.preset_box.activated.emit(viewport.preset_box.findText("bone"))
    assert viewport.window == (400.0, 1800.0)
    qtbot.keyClick(viewport, Qt.Key.Key_W)
    assert viewport.preset_box.currentText() == "lung"  # the one after bone


def test_cine_speed_control_defaults_to_the_file_rate_and_changes_playback(viewport, make_video, qtbot):
    viewport.set_media(make_video(n=15, fps=15.0))
    assert viewport.fps_box.isVisibleTo(viewport) and viewport.fps_box.value() == 15.0
    assert viewport.current_index == 0  # a clip opens at its first frame
    viewport.play()
    viewport.advance_cine(1000 / 15)
    assert viewport.current_index == 1
    viewport.fps_box.setValue(30.0)  # what the spin box does when the reader types or clicks
    assert viewport.cine.is_playing and viewport.cine.fps == 30.0
    viewport.advance_cine(1000 / 15)  # twice as fast: two frames in the same time
    assert viewport.current_index == 3
    qtbot.keyClick(viewport, Qt.Key.Key_BracketLeft)
    assert viewport.fps_box.value() == pytest.approx(24.0)
    qtbot.keyClick(viewport, Qt.Key.Key_BracketRight)
    assert viewport.fps_box.value() == pytest.approx(30.0)
    assert "frame 4/15  0.20 s" in viewport.corner_text()  # clip time at the file's rate, not the speed
    viewport.set_media(make_video(fps=25.0))
    assert viewport.fps_box.value() == 25.0  # a new clip starts at its own rate


def test_series_without_a_rate_get_the_default_speed_and_open_at_the_middle(viewport, make_series):
    from app.viewer.cine import DEFAULT_FPS

    viewport.set_media(make_series(n=7))
    assert viewport.current_index == 3 and viewport.slider.value() == 3
    assert viewport.fps_box.value() == DEFAULT_FPS
    viewport.set_media(make_series(n=7), start=1)
    assert viewport.current_index == 1


def test_viewer_keys_are_published_and_none_is_an_answer_key(viewport, make_series, qtbot):
    answer_keys = {str(d) for d in range(10)} | {"Up", "Down", "Left", "Right", "Enter", "Return", "Space"}
    texts = [t for t, _ in VIEWER_KEYS]
    assert len(texts) == len(set(texts)) == len(KEY_ACTIONS)
    assert not answer_keys & set(texts)
    assert all(desc and isinstance(desc, str) for _, desc in VIEWER_KEYS)
    viewport.set_media(make_series())
    for key in KEY_ACTIONS:  # every published key does something in a viewport, none raises
        qtbot.keyClick(viewport, key)
    viewport.stop()


def test_settings_file_swaps_mouse_buttons(qtbot, make_series, gestures, tmp_path, monkeypatch):
    monkeypatch.setenv("READERSTUDY_CONFIG_DIR", str(tmp_path))
    assert settings_path() == tmp_path / "viewer.toml"
    (tmp_path / "viewer.toml").write_text('[mouse]\nleft = "pan"\nright = "window"\n')
    assert dict(load_settings().mouse) == {"left": "pan", "right": "window", "middle": "pan"}
    vp = ViewportWidget()  # reads the user's file
    qtbot.addWidget(vp)
    vp.resize(320, 360)
    with qtbot.waitExposed(vp):  # waits only as a context manager
        vp.show()
    vp.set_media(make_series())
    view = vp.view_box.viewRect()
    with qtbot.waitSignal(vp.window_changed):
        gestures.drag(vp, Qt.MouseButton.RightButton, 60, 0)
    assert vp.window[1] > 1000.0 and vp.view_box.viewRect() == view
    gestures.drag(vp, Qt.MouseButton.LeftButton, 40, 0)
    assert vp.view_box.viewRect().x() < view.x()
    assert vp.settings_problem == ""


@pytest.mark.parametrize(
    "text, message",
    [
        ('[mouse]\nleft = "lasso"\n', "[mouse] left: 'lasso' is not one of window, zoom, pan, none"),
        ('[mouse]\nthumb = "pan"\n', "[mouse] thumb: unknown button"),
        ('[keys]\nnext = "j"\n', "[keys]: unknown table"),
        ('[mouse\nleft = "pan"\n', "viewer.toml: "),
        ("mouse = 3\n", "mouse: must be a table"),
    ],
)
def test_bad_settings_give_one_clear_line_naming_file_and_key(tmp_path, text, message):
    path = tmp_path / "viewer.toml"
    path.write_text(text)
    with pytest.raises(ViewerSettingsError) as err:
        load_settings(path)
    assert str(path) in str(err.value) and message in str(err.value) and "\n" not in str(err.value)


def test_bad_settings_fall_back_to_defaults_and_the_layout_says_so(qtbot, make_series, tmp_path, monkeypatch):
    monkeypatch.setenv("READERSTUDY_CONFIG_DIR", str(tmp_path))
    (tmp_path / "viewer.toml").write_text('[mouse]\nright = "spin"\n')
    lay = HangingLayoutWidget()
    qtbot.addWidget(lay)
    lay.set_case({"a": make_series()})
    lay.show()
    assert lay.settings_label.isVisible()
    assert "viewer.toml: [mouse] right: 'spin'" in lay.settings_label.text()
    assert "default mouse buttons" in lay.settings_label.text()
    assert lay.viewport("a").view_box.action_for(Qt.MouseButton.RightButton) == "zoom"


def test_standalone_window_names_a_bad_settings_file(qtbot, make_series, tmp_path, monkeypatch):
    from app.viewer import ViewerWindow

    monkeypatch.setenv("READERSTUDY_CONFIG_DIR", str(tmp_path))
    (tmp_path / "viewer.toml").write_text("[mouse]\nleft = 1\n")
    win = ViewerWindow(make_series())
    qtbot.addWidget(win)
    assert "viewer.toml: [mouse] left: 1 is not one of" in win.statusBar().currentMessage()


def test_mouse_help_follows_the_settings():
    from app.viewer.keys import viewer_mouse

    assert ("Left drag", "window / level") in viewer_mouse(ViewerSettings())
    swapped = ViewerSettings(mouse={"left": "pan", "right": "window", "middle": "none"})
    help_rows = viewer_mouse(swapped)
    assert ("Left drag", "pan") in help_rows and ("Right drag", "window / level") in help_rows
    assert not any(g.startswith("Middle") for g, _ in help_rows)


def test_missing_settings_file_gives_the_defaults(tmp_path):
    assert load_settings(tmp_path / "none.toml") == ViewerSettings()
    assert np.all(
        [ViewerSettings().mouse[b] == a for b, a in (("left", "window"), ("right", "zoom"), ("middle", "pan"))]
    )
