"""The reading screen per task kind, driven by keys and mouse through the real window."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt

from study.store import reads_table
from tests.reading.helpers import make_study, open_session


@pytest.fixture
def reading_screen(qtbot, engine_factory, mono, tmp_path):
    def make(kind, **kw):
        folder = make_study(tmp_path / kind, kind, **kw)
        window, screen = open_session(qtbot, engine_factory(folder), mono)
        return folder, window, screen

    return make


def test_multiclass_by_digits(qtbot, reading_screen):
    folder, _, screen = reading_screen("multiclass")
    buttons = screen.answer_panel.choice_group.buttons()
    assert [b.text() for b in buttons] == ["1   normal", "2   CIN1", "3   CIN2+"]
    qtbot.keyClick(screen, Qt.Key.Key_3)
    assert [b.isChecked() for b in buttons] == [False, False, True]
    qtbot.mouseClick(buttons[1], Qt.MouseButton.LeftButton)
    assert screen.state.answer.index == 1 and buttons[1].isChecked() and not buttons[2].isChecked()
    cid = screen.state.item.case_id
    qtbot.keyClick(screen, Qt.Key.Key_Return)
    row = reads_table(folder.path).iloc[0]
    assert (row["case"], row["answer"], row["answer_changes"]) == (cid, "CIN1", 1)
    assert not any(b.isChecked() for b in screen.answer_panel.choice_group.buttons())  # fresh for case 2


def test_grade_split_by_spin_boxes(qtbot, reading_screen):
    folder, _, screen = reading_screen("grade_distribution")
    panel = screen.answer_panel
    assert not panel.split_box.isVisible()
    qtbot.keyClick(screen, Qt.Key.Key_2)  # B
    qtbot.mouseClick(panel.split_button, Qt.MouseButton.LeftButton)
    assert panel.split_box.isVisible() and panel.spins[1].value() == 100
    panel.spins[1].setValue(30)
    assert not screen.submit_button.isEnabled() and "place 70 % more" in screen.problem_label.text()
    qtbot.keyClick(screen, Qt.Key.Key_Return)  # refused
    assert reads_table(folder.path).empty
    panel.spins[3].setValue(70)
    assert screen.submit_button.isEnabled()
    qtbot.keyClick(screen, Qt.Key.Key_Return)
    row = reads_table(folder.path).iloc[0]
    assert row["answer"] == "D" and row["distribution"] == pytest.approx([0, 0.3, 0, 0.7, 0])


def test_numeric_field_range_and_enter(qtbot, reading_screen):
    folder, _, screen = reading_screen("numeric")
    field = screen.answer_panel.field
    assert field.hasFocus() or screen.focusWidget() is field
    qtbot.keyClicks(field, "25")
    assert "3-20 g/dL" in screen.problem_label.text() and field.property("invalid") is True
    qtbot.keyClick(field, Qt.Key.Key_Return)  # out of range: nothing submitted
    assert reads_table(folder.path).empty and screen.state.item.position == 1
    field.clear()
    qtbot.keyClicks(field, "12.4")
    qtbot.keyClick(field, Qt.Key.Key_Up)  # arrows step the value
    assert field.text() == "12.5"
    qtbot.keyClick(field, Qt.Key.Key_Return)
    assert reads_table(folder.path).iloc[0]["value"] == 12.5
    qtbot.waitUntil(lambda: screen.state.item.position == 2 and not screen.state.loading)
    assert field.text() == ""


def test_timer_hidden_by_protocol(qtbot, reading_screen, mono):
    _, _, screen = reading_screen("binary", show_timer=False)
    screen.on_tick()
    assert not screen.timer_label.isVisible()


def test_time_limit_covers_the_image(qtbot, reading_screen, mono):
    _, _, screen = reading_screen("binary", time_limit_seconds=20)
    screen.on_tick()
    assert screen.timer_label.text() == "0:20 left"
    mono.advance(21)
    screen.on_tick()
    assert screen.centre.currentWidget() is screen.cover_label and "Time is up" in screen.cover_label.text()
    qtbot.keyClick(screen, Qt.Key.Key_1)
    qtbot.keyClick(screen, Qt.Key.Key_Down)
    with qtbot.waitSignal(screen.read_submitted):
        qtbot.keyClick(screen, Qt.Key.Key_Return)
    assert screen.state.submitted[-1].active_ms == 21000


def test_binary_slider_by_mouse(qtbot, reading_screen):
    _, _, screen = reading_screen("binary")
    panel = screen.answer_panel
    assert panel.confidence_value.text() == "not set"
    qtbot.mouseClick(panel.choice_group.button(0), Qt.MouseButton.LeftButton)
    right = QPoint(panel.slider.width() - 8, panel.slider.height() // 2)
    qtbot.mouseClick(panel.slider, Qt.MouseButton.LeftButton, pos=right)  # a click on the groove, right part
    assert screen.state.answer.confidence is not None and screen.state.answer.confidence > 50
    assert panel.confidence_value.text() == str(screen.state.answer.confidence)
    assert screen.submit_button.isEnabled()


def test_video_loops_from_the_start_and_pause_stops_it(qtbot, reading_screen):
    _, _, screen = reading_screen("grade_distribution", roles=("video",))
    vp = screen.viewer.viewports()[0]
    assert vp.media.kind == "video" and vp.media.n_frames == 15
    assert vp.cine.is_playing
    qtbot.keyClick(screen, Qt.Key.Key_P)
    assert not vp.cine.is_playing
    qtbot.keyClick(screen, Qt.Key.Key_P)
    assert vp.cine.is_playing


def test_viewer_keys_reach_the_viewport_under_the_pointer(qtbot, reading_screen):
    """Right after a case opens the focus is on the screen, not on an image: M (and W, K, R ...)
    act on the viewport the mouse pointer is over, as the wheel does; elsewhere they do nothing."""
    from PySide6.QtGui import QCursor
    from PySide6.QtTest import QTest

    _folder, window, screen = reading_screen("binary", roles=("left", "right"))
    window.resize(1400, 900)
    qtbot.waitUntil(lambda: all(vp.isVisible() for vp in screen.viewer.viewports()))
    right = screen.viewer.viewport("right")
    screen.setFocus()
    QCursor.setPos(screen.answer_panel.mapToGlobal(screen.answer_panel.rect().center()))
    QTest.keyClick(screen, Qt.Key.Key_M)  # the pointer over the answer panel: no viewport
    assert screen.viewer.maximised_role is None
    QCursor.setPos(right.mapToGlobal(right.rect().center()))
    if not right.rect().contains(right.mapFromGlobal(QCursor.pos())):
        pytest.fail("this platform does not move the pointer")
    QTest.keyClick(screen, Qt.Key.Key_M)
    assert screen.viewer.maximised_role == "right"
    qtbot.waitUntil(lambda: right.rect().contains(right.mapFromGlobal(QCursor.pos())))  # laid out again
    QTest.keyClick(screen, Qt.Key.Key_M)
    assert screen.viewer.maximised_role is None
    QTest.keyClick(screen, Qt.Key.Key_1)  # answer keys still answer
    assert screen.state.answer.label_index == 0
